#!/usr/bin/env node
/**
 * A tiny stand-in for another AWS service behind `privlink upstream`: KMS's JSON 1.1 wire
 * (`X-Amz-Target: TrentService.<Op>`) with CreateKey, DescribeKey and ListKeys, keys in memory.
 * It trusts whoever signed (privlink has checked the signature and the endpoint policy before
 * forwarding). Used by docs/aws-service-endpoints.md's walkthrough and its test.
 *
 *   node test/front/fake-kms.mjs [PORT]     # prints "fake-kms listening on http://127.0.0.1:PORT"
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";

const REGION_AND_KEY = /Credential=([^/]+)\/\d{8}\/([^/]+)\//;
const keys = [];

function reply(res, status, body) {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/x-amz-json-1.1",
    "content-length": Buffer.byteLength(payload),
  });
  res.end(payload);
}

/** The account a request is signed for: a 12-digit access key ID is one (privlink --auth open), else the default. */
function signer(req) {
  const m = REGION_AND_KEY.exec(String(req.headers.authorization ?? ""));
  const account = m && /^\d{12}$/.test(m[1]) ? m[1] : "000000000000";
  return { account, region: m?.[2] ?? "us-east-1" };
}

const operations = {
  CreateKey(input, who) {
    const id = randomUUID();
    const key = {
      AWSAccountId: who.account,
      KeyId: id,
      Arn: `arn:aws:kms:${who.region}:${who.account}:key/${id}`,
      CreationDate: Date.now() / 1000,
      Enabled: true,
      Description: input.Description ?? "",
      KeyUsage: "ENCRYPT_DECRYPT",
      KeyState: "Enabled",
      Origin: "AWS_KMS",
      KeyManager: "CUSTOMER",
      KeySpec: "SYMMETRIC_DEFAULT",
    };
    keys.push(key);
    return { KeyMetadata: key };
  },
  DescribeKey(input) {
    const key = keys.find((k) => k.KeyId === input.KeyId || k.Arn === input.KeyId);
    if (!key)
      throw { status: 400, __type: "NotFoundException", message: `Key '${input.KeyId}' does not exist` };
    return { KeyMetadata: key };
  },
  ListKeys() {
    return { Keys: keys.map((k) => ({ KeyId: k.KeyId, KeyArn: k.Arn })), Truncated: false };
  },
};

const server = createServer(async (req, res) => {
  let text = "";
  for await (const chunk of req) text += chunk;
  const op = String(req.headers["x-amz-target"] ?? "").replace(/^TrentService\./, "");
  const handler = operations[op];
  if (!handler) return reply(res, 400, { __type: "UnknownOperationException" });
  try {
    reply(res, 200, handler(text ? JSON.parse(text) : {}, signer(req)));
  } catch (err) {
    reply(res, err.status ?? 500, { __type: err.__type ?? "KMSInternalException", message: err.message });
  }
});

server.listen(Number(process.argv[2] ?? 4566), "127.0.0.1", () => {
  process.stdout.write(`fake-kms listening on http://127.0.0.1:${server.address().port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
