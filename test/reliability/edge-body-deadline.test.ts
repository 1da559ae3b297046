import { connect } from "node:net";
import { Readable } from "node:stream";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

/**
 * The API edge cuts a buffered request body that has not arrived whole by its deadline (408, the
 * connection closed), but an S3 upload at the edge lives as long as its bytes keep flowing: only
 * S3's own idle limit applies to it. Both limits are made small here.
 */
const DEADLINE_MS = 1_500;
const S3_IDLE_MS = 1_000;
const CHUNK = 16 * 1024;
const CHUNKS = 8;

let srv: TestServer;

beforeAll(async () => {
  srv = await startTestServer({ apiBodyDeadlineMs: DEADLINE_MS, s3RequestTimeoutMs: S3_IDLE_MS });
});

afterAll(() => srv?.stop());

/** Sends headers and part of the declared body, then waits for what the server says. */
function partialBody(): Promise<string> {
  const u = new URL(srv.url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname, port: Number(u.port) }, () => {
      socket.write(
        `POST / HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\nAction=Desc`,
      );
    });
    let answer = "";
    socket.on("data", (c: Buffer) => {
      answer += c.toString();
    });
    socket.on("close", () => resolve(answer));
    socket.on("error", reject);
  });
}

describe("the edge's body deadline", () => {
  it("answers 408 and closes a connection whose buffered body stalls", { timeout: 30_000 }, async () => {
    const answer = await partialBody();
    expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 408 Request Timeout");
    expect(answer.toLowerCase()).toContain("connection: close");
  });

  it("lets an S3 upload at the edge that keeps flowing outlive it", { timeout: 60_000 }, async () => {
    const s3 = new S3Client({
      endpoint: srv.url,
      region: "us-east-1",
      credentials: srv.credentials,
      forcePathStyle: true,
      maxAttempts: 1,
    });
    await s3.send(new CreateBucketCommand({ Bucket: "long-uploads" }));
    // 8 chunks 400 ms apart: 3.2 s in all, twice the deadline, never silent for S3's idle limit.
    let sent = 0;
    const body = new Readable({
      read() {
        if (sent === CHUNKS) this.push(null);
        else setTimeout(() => this.push(Buffer.alloc(CHUNK, ++sent)), S3_IDLE_MS * 0.4);
      },
    });
    await s3.send(
      new PutObjectCommand({
        Bucket: "long-uploads",
        Key: "slow",
        Body: body,
        ContentLength: CHUNK * CHUNKS,
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: "long-uploads", Key: "slow" }));
    expect((await got.Body!.transformToByteArray()).length).toBe(CHUNK * CHUNKS);
  });
});
