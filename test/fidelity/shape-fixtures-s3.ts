import type { Fixture } from "./shape-fixtures.js";
import type { World } from "./world.js";

/**
 * S3's fixtures (the streaming service, outside the handler tables): one bucket made first and
 * deleted last, an object in it, and multipart uploads each fixture that consumes one makes.
 * Run in the order written.
 */

const BUCKET = "shape-fixtures-bucket";
/** A second bucket, never deleted: it holds the upload CreateMultipartUpload's own call opens. */
const KEEP = "shape-fixtures-open-uploads";
const KEY = "dir/object.txt";

/** Uploads fixtures opened and left open (a bucket with one is not empty), by key. */
const opened = new Map<string, string>();

async function upload(w: World, key: string): Promise<string> {
  const id: string = (await w.call("s3", "CreateMultipartUpload", { Bucket: BUCKET, Key: key })).UploadId;
  opened.set(key, id);
  return id;
}

async function uploadWithPart(w: World, key: string): Promise<{ UploadId: string; ETag: string }> {
  const UploadId = await upload(w, key);
  const part = await w.call("s3", "UploadPart", {
    Bucket: BUCKET,
    Key: key,
    UploadId,
    PartNumber: 1,
    Body: "a single last part may be small",
  });
  return { UploadId, ETag: part.ETag };
}

const policy = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::000000000000:root" },
      Action: "s3:GetObject",
      Resource: `arn:aws:s3:::${BUCKET}/*`,
    },
  ],
});

export const S3: Record<string, Fixture> = {
  CreateBucket: () => ({ Bucket: BUCKET }),
  HeadBucket: () => ({ Bucket: BUCKET }),
  ListBuckets: () => ({}),
  GetBucketLocation: () => ({ Bucket: BUCKET }),
  GetBucketVersioning: () => ({ Bucket: BUCKET }),
  PutBucketPolicy: () => ({ Bucket: BUCKET, Policy: policy }),
  GetBucketPolicy: () => ({ Bucket: BUCKET }),
  DeleteBucketPolicy: () => ({ Bucket: BUCKET }),
  PutObject: () => ({ Bucket: BUCKET, Key: KEY, Body: "hello, shapes", ContentType: "text/plain" }),
  // A top-level copy: ListObjects' delimiter then answers both Contents and CommonPrefixes.
  CopyObject: () => ({ Bucket: BUCKET, Key: "copy.txt", CopySource: `${BUCKET}/${KEY}` }),
  GetObject: () => ({ Bucket: BUCKET, Key: KEY }),
  HeadObject: () => ({ Bucket: BUCKET, Key: KEY }),
  ListObjects: () => ({ Bucket: BUCKET, Delimiter: "/" }),
  ListObjectsV2: () => ({ Bucket: BUCKET, MaxKeys: 1 }), // two objects: a truncated page
  CreateMultipartUpload: async (w) => {
    await w.call("s3", "CreateBucket", { Bucket: KEEP });
    return { Bucket: KEEP, Key: "multi-open" };
  },
  UploadPart: async (w) => ({
    Bucket: BUCKET,
    Key: "multi-part",
    UploadId: await upload(w, "multi-part"),
    PartNumber: 1,
    Body: "part one",
  }),
  ListParts: async (w) => ({
    Bucket: BUCKET,
    Key: "multi-list",
    UploadId: (await uploadWithPart(w, "multi-list")).UploadId,
  }),
  CompleteMultipartUpload: async (w) => {
    const { UploadId, ETag } = await uploadWithPart(w, "multi-done");
    opened.delete("multi-done");
    return {
      Bucket: BUCKET,
      Key: "multi-done",
      UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] },
    };
  },
  AbortMultipartUpload: async (w) => {
    const UploadId = await upload(w, "multi-abort");
    opened.delete("multi-abort");
    return { Bucket: BUCKET, Key: "multi-abort", UploadId };
  },
  DeleteObject: () => ({ Bucket: BUCKET, Key: "copy.txt" }),
  DeleteObjects: () => ({
    Bucket: BUCKET,
    Delete: { Objects: [{ Key: KEY }, { Key: "multi-done" }, { Key: "multi-part" }] },
  }),
  DeleteBucket: async (w) => {
    // A bucket with open uploads or objects is not empty: clear what earlier fixtures left.
    for (const [Key, UploadId] of opened)
      await w.call("s3", "AbortMultipartUpload", { Bucket: BUCKET, Key, UploadId });
    opened.clear();
    const left = await w.call("s3", "ListObjectsV2", { Bucket: BUCKET });
    for (const o of left.Contents ?? []) await w.call("s3", "DeleteObject", { Bucket: BUCKET, Key: o.Key });
    return { Bucket: BUCKET };
  },
};
