import { createHash, createHmac } from "node:crypto";
import { readdirSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { crc32 } from "node:zlib";
import { GetObjectCommand, HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Sha256 } from "../../src/api/sigv4.js";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/**
 * S3 wire cases the SDK does not produce on its own: signed aws-chunked bodies (and a tampered
 * chunk), and a client that goes away in the middle of an upload.
 */
let srv: TestServer;
let s3: S3Client;
const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
const hmac = (k: Buffer, s: string) => createHmac("sha256", k).update(s).digest();

async function signedHead(
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<Record<string, string>> {
  const u = new URL(srv.url);
  const signer = new SignatureV4({
    service: "s3",
    region: "us-east-1",
    credentials: srv.credentials,
    sha256: Sha256,
    uriEscapePath: false,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method,
      protocol: "http:",
      hostname: u.hostname,
      port: Number(u.port),
      path,
      headers: { host: u.host, ...headers },
    }),
  );
  return signed.headers as Record<string, string>;
}

/** Sends the head, then `write` drives the body; resolves with the answer (or the socket's fate). */
function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  write: (req: ReturnType<typeof request>) => void,
) {
  const u = new URL(srv.url);
  return new Promise<{ status: number; body: string } | { error: string }>((resolve) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", (e) => resolve({ error: e.message }));
    write(req);
  });
}

/** An aws-chunked body with chunk signatures chained from the head's signature. */
function chunkedBody(seed: string, date: string, chunks: Buffer[], tamper = false): Buffer {
  const day = date.slice(0, 8);
  let key = Buffer.from("AWS4test");
  for (const p of [day, "us-east-1", "s3", "aws4_request"]) key = hmac(key, p);
  const scope = `${day}/us-east-1/s3/aws4_request`;
  let prev = seed;
  const out: Buffer[] = [];
  for (const c of [...chunks, Buffer.alloc(0)]) {
    const sts = ["AWS4-HMAC-SHA256-PAYLOAD", date, scope, prev, sha(""), sha(c)].join("\n");
    prev = hmac(key, sts).toString("hex");
    const data = tamper && c.length > 0 ? Buffer.from(c).fill(0x41, 0, 1) : c;
    out.push(Buffer.from(`${c.length.toString(16)};chunk-signature=${prev}\r\n`), data, Buffer.from("\r\n"));
  }
  return Buffer.concat(out);
}

beforeAll(async () => {
  srv = await startTestServer();
  s3 = new S3Client({
    endpoint: srv.url,
    region: "us-east-1",
    credentials: srv.credentials,
    forcePathStyle: true,
    maxAttempts: 1,
  });
  const h = await signedHead("PUT", "/wire-bucket", { "x-amz-content-sha256": sha("") });
  await send("PUT", "/wire-bucket", h, (req) => req.end());
});
afterAll(() => srv.stop());

describe("S3 aws-chunked uploads", () => {
  it("verifies every chunk signature and stores the decoded bytes", async () => {
    const chunks = [Buffer.alloc(65536, 1), Buffer.alloc(1000, 2)];
    const total = 66536;
    const headers = await signedHead("PUT", "/wire-bucket/chunked", {
      "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
      "content-encoding": "aws-chunked",
      "x-amz-decoded-content-length": String(total),
    });
    const seed = /Signature=([0-9a-f]{64})/.exec(headers.authorization!)![1]!;
    const body = chunkedBody(seed, headers["x-amz-date"]!, chunks);
    const r = await send(
      "PUT",
      "/wire-bucket/chunked",
      { ...headers, "content-length": String(body.length) },
      (req) => req.end(body),
    );
    expect(r).toMatchObject({ status: 200 });
    const got = await s3.send(new GetObjectCommand({ Bucket: "wire-bucket", Key: "chunked" }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat(chunks))).toBe(true);
    expect(got.ContentEncoding).toBeUndefined();
  });

  it("refuses a tampered chunk with SignatureDoesNotMatch and keeps nothing", async () => {
    const headers = await signedHead("PUT", "/wire-bucket/tampered", {
      "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
      "content-encoding": "aws-chunked",
      "x-amz-decoded-content-length": "1000",
    });
    const seed = /Signature=([0-9a-f]{64})/.exec(headers.authorization!)![1]!;
    const body = chunkedBody(seed, headers["x-amz-date"]!, [Buffer.alloc(1000, 3)], true);
    const r = await send(
      "PUT",
      "/wire-bucket/tampered",
      { ...headers, "content-length": String(body.length) },
      (req) => req.end(body),
    );
    expect(r).toMatchObject({ status: 403 });
    expect((r as { body: string }).body).toContain("<Code>SignatureDoesNotMatch</Code>");
    expect(
      await fails(s3.send(new HeadObjectCommand({ Bucket: "wire-bucket", Key: "tampered" }))),
    ).toMatchObject({ status: 404 });
  });

  it("refuses a body whose SHA-256 differs from the signed x-amz-content-sha256", async () => {
    const headers = await signedHead("PUT", "/wire-bucket/hashed", {
      "x-amz-content-sha256": sha("expected"),
    });
    const r = await send("PUT", "/wire-bucket/hashed", { ...headers, "content-length": "8" }, (req) =>
      req.end("tampered"),
    );
    expect(r).toMatchObject({ status: 400 });
    expect((r as { body: string }).body).toContain("<Code>XAmzContentSHA256Mismatch</Code>");
  });
});

describe("S3 trailing checksums", () => {
  async function putWithTrailer(key: string, data: Buffer, crc: string) {
    const body = Buffer.concat([
      Buffer.from(`${data.length.toString(16)}\r\n`),
      data,
      Buffer.from(`\r\n0\r\nx-amz-checksum-crc32:${crc}\r\n\r\n`),
    ]);
    const headers = await signedHead("PUT", `/wire-bucket/${key}`, {
      "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      "content-encoding": "aws-chunked",
      "x-amz-decoded-content-length": String(data.length),
      "x-amz-trailer": "x-amz-checksum-crc32",
    });
    return send("PUT", `/wire-bucket/${key}`, { ...headers, "content-length": String(body.length) }, (req) =>
      req.end(body),
    );
  }

  it("checks the CRC32 in the trailer: BadDigest when it differs, stored when it matches", async () => {
    const data = Buffer.from("trailing checksum body");
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(data));
    const bad = await putWithTrailer("trailer-bad", data, "AAAAAA==");
    expect(bad).toMatchObject({ status: 400 });
    expect((bad as { body: string }).body).toContain("<Code>BadDigest</Code>");
    expect(await putWithTrailer("trailer-ok", data, crc.toString("base64"))).toMatchObject({ status: 200 });
    const got = await s3.send(
      new GetObjectCommand({ Bucket: "wire-bucket", Key: "trailer-ok", ChecksumMode: "ENABLED" }),
    );
    expect(got.ChecksumCRC32).toBe(crc.toString("base64"));
    expect(await got.Body!.transformToString()).toBe("trailing checksum body");
  });
});

describe("S3 interrupted uploads", () => {
  it("a client that disconnects mid-upload leaves no object and no temp file", async () => {
    const headers = await signedHead("PUT", "/wire-bucket/partial", {
      "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
    });
    const r = await send(
      "PUT",
      "/wire-bucket/partial",
      { ...headers, "content-length": String(16 << 20) },
      (req) => {
        req.write(Buffer.alloc(4 << 20, 9));
        setTimeout(() => req.destroy(), 200);
      },
    );
    expect("error" in r).toBe(true);
    // Bodies being written: temp files in the home, or uncommitted rows on a PostgreSQL store.
    const writing = async (): Promise<number> => {
      if (srv.storeWhere === undefined) return readdirSync(join(srv.home, "s3", "tmp")).length;
      const db = new pg.Client({ connectionString: srv.storeWhere });
      await db.connect();
      try {
        return Number((await db.query("SELECT count(*) AS n FROM s3_blobs WHERE NOT committed")).rows[0].n);
      } finally {
        await db.end();
      }
    };
    for (let i = 0; i < 50 && (await writing()) > 0; i++) await sleep(50);
    expect(await writing()).toBe(0);
    expect(
      await fails(s3.send(new HeadObjectCommand({ Bucket: "wire-bucket", Key: "partial" }))),
    ).toMatchObject({ status: 404 });
  });
});
