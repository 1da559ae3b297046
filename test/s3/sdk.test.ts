import { createHash } from "node:crypto";
import { Agent } from "node:http";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
let s3: S3Client;

function client(
  opts: {
    region?: string;
    pathStyle?: boolean;
    creds?: { accessKeyId: string; secretAccessKey: string };
  } = {},
): S3Client {
  return new S3Client({
    endpoint: srv.url,
    region: opts.region ?? "us-east-1",
    credentials: opts.creds ?? srv.credentials,
    forcePathStyle: opts.pathStyle ?? true,
    maxAttempts: 1,
  });
}

/** Virtual-hosted style as AWS's own names spell it: every name resolves to the edge. */
function virtualClient(): S3Client {
  const port = srv.port;
  const agent = new Agent({
    lookup: (_host, options, cb) => {
      if ((options as { all?: boolean }).all)
        (cb as (e: null, a: { address: string; family: number }[]) => void)(null, [
          { address: "127.0.0.1", family: 4 },
        ]);
      else (cb as (e: null, a: string, f: number) => void)(null, "127.0.0.1", 4);
    },
  });
  return new S3Client({
    endpoint: `http://s3.us-east-1.amazonaws.com:${port}`,
    region: "us-east-1",
    credentials: srv.credentials,
    maxAttempts: 1,
    requestHandler: { httpAgent: agent },
  });
}

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

beforeAll(async () => {
  srv = await startTestServer();
  s3 = client();
});
afterAll(() => srv.stop());

describe("S3 buckets", () => {
  it("creates, lists, heads, locates and deletes buckets", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "alpha-bucket" }));
    const west = client({ region: "eu-west-1" });
    await west.send(
      new CreateBucketCommand({
        Bucket: "beta-bucket",
        CreateBucketConfiguration: { LocationConstraint: "eu-west-1" },
      }),
    );
    const listed = await s3.send(new ListBucketsCommand({}));
    expect(listed.Buckets?.map((b) => b.Name)).toEqual(
      expect.arrayContaining(["alpha-bucket", "beta-bucket"]),
    );
    const head = await west.send(new HeadBucketCommand({ Bucket: "beta-bucket" }));
    expect(head.BucketRegion).toBe("eu-west-1");
    expect(
      (await s3.send(new GetBucketLocationCommand({ Bucket: "alpha-bucket" }))).LocationConstraint,
    ).toBeUndefined();
    expect(
      (await west.send(new GetBucketLocationCommand({ Bucket: "beta-bucket" }))).LocationConstraint,
    ).toBe("eu-west-1");
    await west.send(new DeleteBucketCommand({ Bucket: "beta-bucket" }));
    expect(await fails(west.send(new HeadBucketCommand({ Bucket: "beta-bucket" })))).toMatchObject({
      name: "NotFound",
      status: 404,
    });
  });

  it("answers S3's error codes", async () => {
    const west = client({ region: "eu-west-1" });
    await west.send(
      new CreateBucketCommand({
        Bucket: "gamma-bucket",
        CreateBucketConfiguration: { LocationConstraint: "eu-west-1" },
      }),
    );
    expect(
      await fails(
        west.send(
          new CreateBucketCommand({
            Bucket: "gamma-bucket",
            CreateBucketConfiguration: { LocationConstraint: "eu-west-1" },
          }),
        ),
      ),
    ).toMatchObject({
      name: "BucketAlreadyOwnedByYou",
      status: 409,
    });
    expect(await fails(s3.send(new CreateBucketCommand({ Bucket: "Bad_Name" })))).toMatchObject({
      name: "InvalidBucketName",
      status: 400,
    });
    expect(await fails(s3.send(new ListObjectsV2Command({ Bucket: "no-such-bucket-here" })))).toMatchObject({
      name: "NoSuchBucket",
      message: "The specified bucket does not exist",
      status: 404,
    });
    await s3.send(new CreateBucketCommand({ Bucket: "errors-bucket" }));
    expect(
      await fails(s3.send(new GetObjectCommand({ Bucket: "errors-bucket", Key: "missing" }))),
    ).toMatchObject({ name: "NoSuchKey", status: 404 });
    expect(
      await fails(s3.send(new HeadObjectCommand({ Bucket: "errors-bucket", Key: "missing" }))),
    ).toMatchObject({ name: "NotFound", status: 404 });
    const bad = client({ creds: { accessKeyId: "test", secretAccessKey: "wrong" } });
    expect(await fails(bad.send(new ListBucketsCommand({})))).toMatchObject({
      name: "SignatureDoesNotMatch",
      status: 403,
    });
    await s3.send(new PutObjectCommand({ Bucket: "errors-bucket", Key: "k", Body: "x" }));
    expect(await fails(s3.send(new DeleteBucketCommand({ Bucket: "errors-bucket" })))).toMatchObject({
      name: "BucketNotEmpty",
      status: 409,
    });
    expect(await fails(s3.send(new GetBucketPolicyCommand({ Bucket: "errors-bucket" })))).toMatchObject({
      name: "NoSuchBucketPolicy",
      status: 404,
    });
    expect(
      await fails(s3.send(new GetObjectCommand({ Bucket: "errors-bucket", Key: "k", Range: "bytes=5-9" }))),
    ).toMatchObject({ name: "InvalidRange", status: 416 });
  });

  it("stores, checks and removes bucket policies", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "policy-bucket" }));
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Deny",
          Principal: "*",
          Action: "s3:GetObject",
          Resource: "arn:aws:s3:::policy-bucket/secret/*",
        },
      ],
    });
    await s3.send(new PutBucketPolicyCommand({ Bucket: "policy-bucket", Policy: policy }));
    expect((await s3.send(new GetBucketPolicyCommand({ Bucket: "policy-bucket" }))).Policy).toBe(policy);
    await s3.send(new PutObjectCommand({ Bucket: "policy-bucket", Key: "secret/a", Body: "a" }));
    const denied = await fails(s3.send(new GetObjectCommand({ Bucket: "policy-bucket", Key: "secret/a" })));
    expect(denied).toMatchObject({ name: "AccessDenied", status: 403 });
    expect(denied.message).toContain("explicit deny in a resource-based policy");
    expect(
      await fails(s3.send(new PutBucketPolicyCommand({ Bucket: "policy-bucket", Policy: "not json" }))),
    ).toMatchObject({ name: "MalformedPolicy" });
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: "policy-bucket" }));
    const got = await s3.send(new GetObjectCommand({ Bucket: "policy-bucket", Key: "secret/a" }));
    expect(await got.Body!.transformToString()).toBe("a");
  });
});

describe("S3 objects", () => {
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "objects-bucket" }));
  });

  it("puts, gets, heads, copies and deletes objects with AWS's ETags", async () => {
    const body = Buffer.from("hello, privlink\n".repeat(1000));
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: "objects-bucket",
        Key: "dir/hello.txt",
        Body: body,
        ContentType: "text/plain",
        Metadata: { owner: "me" },
      }),
    );
    expect(put.ETag).toBe(`"${md5(body)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: "objects-bucket", Key: "dir/hello.txt" }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    expect(got).toMatchObject({
      ContentType: "text/plain",
      Metadata: { owner: "me" },
      ETag: put.ETag,
      ContentLength: body.length,
    });
    const head = await s3.send(new HeadObjectCommand({ Bucket: "objects-bucket", Key: "dir/hello.txt" }));
    expect(head.ContentLength).toBe(body.length);
    const range = await s3.send(
      new GetObjectCommand({ Bucket: "objects-bucket", Key: "dir/hello.txt", Range: "bytes=7-14" }),
    );
    expect(await range.Body!.transformToString()).toBe("privlink");
    expect(range.ContentRange).toBe(`bytes 7-14/${body.length}`);
    const suffix = await s3.send(
      new GetObjectCommand({ Bucket: "objects-bucket", Key: "dir/hello.txt", Range: "bytes=-9" }),
    );
    expect(await suffix.Body!.transformToString()).toBe("privlink\n");
    const copy = await s3.send(
      new CopyObjectCommand({
        Bucket: "objects-bucket",
        Key: "copy.txt",
        CopySource: "objects-bucket/dir/hello.txt",
      }),
    );
    expect(copy.CopyObjectResult?.ETag).toBe(put.ETag);
    await s3.send(new DeleteObjectCommand({ Bucket: "objects-bucket", Key: "copy.txt" }));
    expect(
      await fails(s3.send(new HeadObjectCommand({ Bucket: "objects-bucket", Key: "copy.txt" }))),
    ).toMatchObject({ status: 404 });
    // Deleting what is not there succeeds, as on S3.
    await s3.send(new DeleteObjectCommand({ Bucket: "objects-bucket", Key: "copy.txt" }));
  });

  it("lists with prefixes, delimiters, url encoding and continuation", async () => {
    const keys = ["a/1", "a/2", "a/b/3", "c d+e", "z"];
    for (const k of keys)
      await s3.send(new PutObjectCommand({ Bucket: "objects-bucket", Key: `list/${k}`, Body: k }));
    const top = await s3.send(
      new ListObjectsV2Command({ Bucket: "objects-bucket", Prefix: "list/", Delimiter: "/" }),
    );
    expect(top.Contents?.map((c) => c.Key)).toEqual(["list/c d+e", "list/z"]);
    expect(top.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["list/a/"]);
    const encoded = await s3.send(
      new ListObjectsV2Command({ Bucket: "objects-bucket", Prefix: "list/c", EncodingType: "url" }),
    );
    expect(encoded.Contents?.map((c) => c.Key)).toEqual(["list/c%20d%2Be"]);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: "objects-bucket",
          Prefix: "list/",
          MaxKeys: 2,
          ContinuationToken: token,
        }),
      );
      seen.push(...(page.Contents ?? []).map((c) => c.Key!));
      expect(page.KeyCount).toBeLessThanOrEqual(2);
      token = page.NextContinuationToken;
    } while (token);
    expect(seen).toEqual(keys.map((k) => `list/${k}`));
    const deleted = await s3.send(
      new DeleteObjectsCommand({
        Bucket: "objects-bucket",
        Delete: { Objects: keys.map((k) => ({ Key: `list/${k}` })) },
      }),
    );
    expect(deleted.Deleted).toHaveLength(5);
    expect(
      (await s3.send(new ListObjectsV2Command({ Bucket: "objects-bucket", Prefix: "list/" }))).KeyCount,
    ).toBe(0);
  });

  it("serves virtual-hosted style requests", async () => {
    const v = virtualClient();
    await v.send(new CreateBucketCommand({ Bucket: "virtual-bucket" }));
    await v.send(new PutObjectCommand({ Bucket: "virtual-bucket", Key: "v/key.txt", Body: "virtual" }));
    const got = await s3.send(new GetObjectCommand({ Bucket: "virtual-bucket", Key: "v/key.txt" }));
    expect(await got.Body!.transformToString()).toBe("virtual");
    const listed = await v.send(new ListObjectsV2Command({ Bucket: "virtual-bucket" }));
    expect(listed.Contents?.map((c) => c.Key)).toEqual(["v/key.txt"]);
  });
});

describe("S3 multipart uploads", () => {
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "multipart-bucket" }));
  });

  it("uploads 64 MiB through the SDK's Upload helper with the multipart ETag", async () => {
    const part = 8 * 1024 * 1024;
    const body = Buffer.alloc(64 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 4096) body.writeUInt32BE(i, i);
    const upload = new Upload({
      client: s3,
      params: { Bucket: "multipart-bucket", Key: "big.bin", Body: body },
      partSize: part,
      queueSize: 4,
    });
    const done = await upload.done();
    const md5s = [];
    for (let i = 0; i < body.length; i += part)
      md5s.push(
        createHash("md5")
          .update(body.subarray(i, i + part))
          .digest(),
      );
    const expected = `"${createHash("md5").update(Buffer.concat(md5s)).digest("hex")}-8"`;
    expect(done.ETag).toBe(expected);
    const head = await s3.send(new HeadObjectCommand({ Bucket: "multipart-bucket", Key: "big.bin" }));
    expect(head).toMatchObject({ ETag: expected, ContentLength: body.length });
    const tail = await s3.send(
      new GetObjectCommand({
        Bucket: "multipart-bucket",
        Key: "big.bin",
        Range: `bytes=${body.length - 8}-`,
      }),
    );
    expect(Buffer.from(await tail.Body!.transformToByteArray()).equals(body.subarray(body.length - 8))).toBe(
      true,
    );
    const whole = await s3.send(new GetObjectCommand({ Bucket: "multipart-bucket", Key: "big.bin" }));
    expect(md5(Buffer.from(await whole.Body!.transformToByteArray()))).toBe(md5(body));
  });

  it("refuses small parts, unknown parts, and aborts", async () => {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: "multipart-bucket", Key: "small" }),
    );
    const p1 = await s3.send(
      new UploadPartCommand({
        Bucket: "multipart-bucket",
        Key: "small",
        UploadId,
        PartNumber: 1,
        Body: "tiny",
      }),
    );
    const p2 = await s3.send(
      new UploadPartCommand({
        Bucket: "multipart-bucket",
        Key: "small",
        UploadId,
        PartNumber: 2,
        Body: "tail",
      }),
    );
    const parts = await s3.send(new ListPartsCommand({ Bucket: "multipart-bucket", Key: "small", UploadId }));
    expect(parts.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([
      [1, 4],
      [2, 4],
    ]);
    const complete = (list: { PartNumber: number; ETag?: string }[]) =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: "multipart-bucket",
          Key: "small",
          UploadId,
          MultipartUpload: { Parts: list },
        }),
      );
    expect(
      await fails(
        complete([
          { PartNumber: 1, ETag: p1.ETag },
          { PartNumber: 2, ETag: p2.ETag },
        ]),
      ),
    ).toMatchObject({ name: "EntityTooSmall", status: 400 });
    expect(
      await fails(
        complete([
          { PartNumber: 1, ETag: p1.ETag },
          { PartNumber: 3, ETag: p2.ETag },
        ]),
      ),
    ).toMatchObject({ name: "InvalidPart", status: 400 });
    // A single small part is a valid (last) part.
    const one = await complete([{ PartNumber: 2, ETag: p2.ETag }]);
    expect(one.ETag).toMatch(/-1"$/);
    const { UploadId: other } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: "multipart-bucket", Key: "aborted" }),
    );
    await s3.send(
      new AbortMultipartUploadCommand({ Bucket: "multipart-bucket", Key: "aborted", UploadId: other }),
    );
    expect(
      await fails(
        s3.send(new ListPartsCommand({ Bucket: "multipart-bucket", Key: "aborted", UploadId: other })),
      ),
    ).toMatchObject({ name: "NoSuchUpload", status: 404 });
  });
});
