import { createServer, type IncomingMessage, type Server } from "node:http";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Sha256, verifySigV4 } from "../../src/api/sigv4.js";
import { adminFetch } from "../helpers/admin.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { makeEndpoint, makeNetwork, type RunningFront, runFront } from "./fixture.js";

const KMS_HOST = "kms.us-east-1.amazonaws.com";
let srv: TestServer;
let fr: RunningFront;
let endpointId: string;
let fake: Server;
let fakeUrl: string;
const received: { target: string; host: string; body: string; verified: boolean }[] = [];

/** A tiny KMS: checks the signature against privlink's key registry, answers Describe/Decrypt. */
async function startFakeKms(): Promise<void> {
  fake = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    let verified = true;
    try {
      await verifySigV4(
        { method: req.method!, url: req.url!, headers: req.headersDistinct, body },
        (id) => srv.state.get("accessKey", id)?.secret,
        new Date(),
      );
    } catch {
      verified = false;
    }
    const target = String(req.headers["x-amz-target"]);
    received.push({ target, host: String(req.headers.host), body: body.toString(), verified });
    res.writeHead(verified ? 200 : 400, { "content-type": "application/x-amz-json-1.1" });
    res.end(
      JSON.stringify(
        verified
          ? { KeyMetadata: { KeyId: JSON.parse(body.toString()).KeyId } }
          : { __type: "InvalidSignatureException" },
      ),
    );
  });
  await new Promise<void>((resolve) => fake.listen(0, "127.0.0.1", resolve));
  fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
}

async function admin(method: string, path: string, body?: unknown) {
  const res = await adminFetch(srv, path, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A KMS call signed like the SDK signs it, sent to the front as if to kms.us-east-1.amazonaws.com. */
async function kms(action: string, input: object, creds = srv.credentials) {
  const body = JSON.stringify(input);
  const signer = new SignatureV4({ service: "kms", region: "us-east-1", credentials: creds, sha256: Sha256 });
  const signed = await signer.sign(
    new HttpRequest({
      method: "POST",
      protocol: "https:",
      hostname: KMS_HOST,
      path: "/",
      headers: {
        host: KMS_HOST,
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": `TrentService.${action}`,
      },
      body,
    }),
  );
  return new Promise<{ status: number; json: Record<string, string> }>((resolve, reject) => {
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port: fr.port,
        servername: KMS_HOST,
        ca: srv.ca.certPem,
        method: "POST",
        path: "/",
        headers: signed.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            json: JSON.parse(Buffer.concat(chunks).toString() || "{}"),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

beforeAll(async () => {
  srv = await startTestServer();
  const net = await makeNetwork(srv);
  const ep = await makeEndpoint(srv, net, "kms");
  endpointId = ep.endpointId;
  fr = await runFront(srv, ep);
  await startFakeKms();
});
afterAll(async () => {
  await fr?.close();
  await new Promise<void>((resolve) => (fake ? fake.close(() => resolve()) : resolve()));
  await srv?.stop();
});

describe("upstreams for services privlink does not build in", () => {
  it("without an upstream, says the service is not available here and how to configure one", async () => {
    const r = await kms("DescribeKey", { KeyId: "alias/app" });
    expect(r.status).toBe(501);
    expect(r.json.__type).toBe("NotImplemented");
    expect(r.json.message).toContain("privlink upstream set kms <URL>");
    expect(received).toHaveLength(0);
  });

  it("re-signs allowed requests for the upstream and relays its answer", async () => {
    expect((await admin("POST", "/_privlink/upstreams", { service: "kms", url: fakeUrl })).status).toBe(200);
    expect((await admin("GET", "/_privlink/upstreams")).body).toEqual({
      upstreams: [{ service: "kms", url: fakeUrl }],
    });
    const r = await kms("DescribeKey", { KeyId: "1234abcd-12ab-34cd-56ef-1234567890ab" });
    expect(r).toEqual({
      status: 200,
      json: { KeyMetadata: { KeyId: "1234abcd-12ab-34cd-56ef-1234567890ab" } },
    });
    expect(received.at(-1)).toEqual({
      target: "TrentService.DescribeKey",
      host: new URL(fakeUrl).host,
      body: '{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab"}',
      verified: true,
    });
  });

  it("evaluates the endpoint policy before forwarding", async () => {
    const key = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const policy = {
      Statement: [
        { Effect: "Allow", Principal: "*", Action: "kms:DescribeKey", Resource: "*" },
        { Effect: "Deny", Principal: "*", Action: "kms:Decrypt", Resource: key },
      ],
    };
    srv.state.transact((tx) =>
      tx.put("vpcEndpoint", {
        ...tx.get("vpcEndpoint", endpointId)!,
        policyDocument: JSON.stringify(policy),
      }),
    );
    const before = received.length;
    const denied = await kms("Decrypt", {
      KeyId: "1234abcd-12ab-34cd-56ef-1234567890ab",
      CiphertextBlob: "AAAA",
    });
    expect(denied).toEqual({
      status: 400,
      json: {
        __type: "AccessDeniedException",
        message: `User: arn:aws:iam::000000000000:root is not authorized to perform: kms:Decrypt on resource: ${key} with an explicit deny in a VPC endpoint policy`,
      },
    });
    const implicit = await kms("ListKeys", {});
    expect(implicit.json.message).toBe(
      "User: arn:aws:iam::000000000000:root is not authorized to perform: kms:ListKeys because no VPC endpoint policy allows the kms:ListKeys action",
    );
    expect(received.length).toBe(before);
    expect((await kms("DescribeKey", { KeyId: "1234abcd-12ab-34cd-56ef-1234567890ab" })).status).toBe(200);
    const badKey = await kms("DescribeKey", { KeyId: "x" }, { accessKeyId: "test", secretAccessKey: "nope" });
    expect(badKey.json.__type).toBe("InvalidSignatureException");
  });

  it("reports an unreachable upstream, validates and removes upstreams", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await admin("POST", "/_privlink/upstreams", { service: "kms", url: deadUrl });
    const r = await kms("DescribeKey", { KeyId: "1234abcd-12ab-34cd-56ef-1234567890ab" });
    expect(r.status).toBe(503);
    expect(r.json.__type).toBe("ServiceUnavailable");
    const refused = [
      { service: "kms", url: "http://10.1.2.3:4566" },
      { service: "kms", url: "ftp://127.0.0.1/" },
      { service: "KMS!", url: fakeUrl },
    ];
    for (const body of refused)
      expect((await admin("POST", "/_privlink/upstreams", body)).status, JSON.stringify(body)).toBe(400);
    expect((await admin("DELETE", "/_privlink/upstreams?service=kms")).status).toBe(200);
    expect((await admin("DELETE", "/_privlink/upstreams?service=kms")).status).toBe(404);
    expect((await kms("DescribeKey", { KeyId: "1234abcd-12ab-34cd-56ef-1234567890ab" })).status).toBe(501);
  });
});
