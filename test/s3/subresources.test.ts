import {
  CreateBucketCommand,
  GetBucketWebsiteCommand,
  GetObjectCommand,
  GetObjectRetentionCommand,
  ListObjectVersionsCommand,
  PutBucketTaggingCommand,
  PutBucketWebsiteCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runAws } from "../helpers/spawn.js";

/**
 * A request naming an S3 subresource privlink does not serve answers NotImplemented, and is
 * never served as the plain call its method and path would otherwise be: PUT ?website once
 * answered as CreateBucket (200, nothing stored), GET ?versions as ListObjects.
 */

let srv: TestServer;
let s3: S3Client;
const BUCKET = "subresource-bucket";
const NOT_IMPLEMENTED = {
  name: "NotImplemented",
  message: "A header or query you provided implies functionality that is not implemented.",
  status: 501,
};

beforeAll(async () => {
  srv = await startTestServer();
  s3 = new S3Client({
    endpoint: srv.url,
    region: "us-east-1",
    credentials: srv.credentials,
    forcePathStyle: true,
    maxAttempts: 1,
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "k", Body: "bytes" }));
});
afterAll(async () => {
  s3?.destroy();
  await srv?.stop();
});

describe("S3 subresources privlink does not serve", () => {
  it("answers NotImplemented for bucket and object subresources, never the plain call", async () => {
    const calls = [
      new PutBucketWebsiteCommand({
        Bucket: BUCKET,
        WebsiteConfiguration: { IndexDocument: { Suffix: "index.html" } },
      }),
      new GetBucketWebsiteCommand({ Bucket: BUCKET }),
      new ListObjectVersionsCommand({ Bucket: BUCKET }),
      new PutBucketTaggingCommand({ Bucket: BUCKET, Tagging: { TagSet: [{ Key: "a", Value: "b" }] } }),
      new GetObjectRetentionCommand({ Bucket: BUCKET, Key: "k" }),
      new PutObjectLegalHoldCommand({ Bucket: BUCKET, Key: "k", LegalHold: { Status: "ON" } }),
    ];
    for (const c of calls)
      expect([c.constructor.name, await fails(s3.send(c as never))]).toEqual([
        c.constructor.name,
        NOT_IMPLEMENTED,
      ]);
    // The object is untouched by the refused legal hold.
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "k" }));
    expect(await got.Body!.transformToString()).toBe("bytes");
  });

  it("the AWS CLI prints NotImplemented for one of them", async () => {
    const out = await runAws(["s3api", "get-bucket-website", "--bucket", BUCKET], srv.cliEnv());
    expect(out.stderr.trim()).toBe(
      `An error occurred (NotImplemented) when calling the GetBucketWebsite operation: ${NOT_IMPLEMENTED.message}`,
    );
    expect(out.code).not.toBe(0);
  }, 30_000);
});
