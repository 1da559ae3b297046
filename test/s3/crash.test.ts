import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, describe, expect, it } from "vitest";
import { Sha256 } from "../../src/api/sigv4.js";
import { spawnPrivlink } from "../helpers/spawn.js";

const CREDS = { accessKeyId: "test", secretAccessKey: "test" };
const home = mkdtempSync(join(tmpdir(), "privlink-s3-crash-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function client(url: string): S3Client {
  return new S3Client({
    endpoint: url,
    region: "us-east-1",
    credentials: CREDS,
    forcePathStyle: true,
    maxAttempts: 1,
  });
}

describe("S3 under kill -9", () => {
  it("a server killed mid-PutObject keeps the old object, and sweeps the leftovers at start", async () => {
    const first = await spawnPrivlink(home);
    try {
      const s3 = client(first.url);
      await s3.send(new CreateBucketCommand({ Bucket: "crash-bucket" }));
      await s3.send(new PutObjectCommand({ Bucket: "crash-bucket", Key: "doc", Body: "version 1" }));
      const u = new URL(first.url);
      const signed = await new SignatureV4({
        service: "s3",
        region: "us-east-1",
        credentials: CREDS,
        sha256: Sha256,
        uriEscapePath: false,
      }).sign(
        new HttpRequest({
          method: "PUT",
          protocol: "http:",
          hostname: u.hostname,
          port: Number(u.port),
          path: "/crash-bucket/doc",
          headers: {
            host: u.host,
            "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
            "content-length": String(64 << 20),
          },
        }),
      );
      const req = request({
        host: u.hostname,
        port: u.port,
        method: "PUT",
        path: "/crash-bucket/doc",
        headers: signed.headers,
        agent: false,
      });
      req.on("error", () => {});
      req.write(Buffer.alloc(8 << 20, 2));
      const tmp = join(home, "s3", "tmp");
      for (let i = 0; i < 100 && readdirSync(tmp).length === 0; i++) await sleep(50);
      expect(readdirSync(tmp)).toHaveLength(1);
      first.child.kill("SIGKILL");
      await new Promise((resolve) => first.child.once("exit", resolve));
      req.destroy();
    } finally {
      if (first.child.exitCode === null) first.child.kill("SIGKILL");
    }
    const second = await spawnPrivlink(home);
    try {
      const got = await client(second.url).send(new GetObjectCommand({ Bucket: "crash-bucket", Key: "doc" }));
      expect(await got.Body!.transformToString()).toBe("version 1");
      expect(readdirSync(join(home, "s3", "tmp"))).toEqual([]);
      expect(readdirSync(join(home, "s3", "blobs"))).toHaveLength(1);
    } finally {
      second.child.kill("SIGTERM");
      await new Promise((resolve) => second.child.once("exit", resolve));
    }
  }, 60_000);
});
