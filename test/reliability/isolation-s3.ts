import * as s3sdk from "@aws-sdk/client-s3";
import type { S3Action } from "../../src/services/s3/index.js";
import type { TestServer } from "../helpers/server.js";
import type { AResources, Fixture } from "./isolation-fixtures.js";

/**
 * S3's rows of the isolation matrix (S3 is served on the streaming path, outside the handler
 * tables; the matrix reads its actions from the server's `streamingActions`). Keyed by S3's
 * action table, so a new S3 action without a row does not compile, and the matrix's coverage
 * check names it at run time too. Bucket names are global: B naming A's bucket reaches A's
 * bucket, which its (absent) bucket policy does not open to B.
 */

type Creds = { accessKeyId: string; secretAccessKey: string };

/** Path style: a bucket name does not resolve to 127.0.0.1 as a virtual host. */
export const S3_CLIENT = {
  sdk: s3sdk as Record<string, any>,
  client: (endpoint: string, credentials: Creds) =>
    new s3sdk.S3Client({ endpoint, region: "us-east-1", credentials, maxAttempts: 1, forcePathStyle: true }),
};

export type S3A = Pick<AResources, "bucketName" | "objectKey" | "uploadId">;

/** A's bucket, an object in it and an open multipart upload. */
export async function s3Objects(srv: TestServer): Promise<S3A> {
  const s3 = S3_CLIENT.client(srv.url, srv.credentials);
  const bucketName = "isolation-a-bucket";
  const objectKey = "a-private/object.txt";
  await s3.send(new s3sdk.CreateBucketCommand({ Bucket: bucketName }));
  await s3.send(new s3sdk.PutObjectCommand({ Bucket: bucketName, Key: objectKey, Body: "a's bytes" }));
  const up = await s3.send(new s3sdk.CreateMultipartUploadCommand({ Bucket: bucketName, Key: "a-upload" }));
  s3.destroy();
  return { bucketName, objectKey, uploadId: up.UploadId! };
}

const DENIED = "AccessDenied";
const bucket = (error = DENIED): Fixture => ({ input: (a) => ({ Bucket: a.bucketName }), error });
/** A bodiless HEAD refusal: the name says nothing, the status says AccessDenied's 403. */
const head: Pick<Fixture, "error" | "status"> = { error: "Unknown", status: 403 };
const object = (extra: Record<string, unknown> = {}, error = DENIED): Fixture => ({
  input: (a) => ({ Bucket: a.bucketName, Key: a.objectKey, ...extra }),
  error,
});
const upload = (extra: Record<string, unknown> = {}): Fixture => ({
  input: (a) => ({ Bucket: a.bucketName, Key: "a-upload", UploadId: a.uploadId, ...extra }),
  error: DENIED,
});

export const S3_FIXTURES: Record<`s3:${S3Action}`, Fixture> = {
  "s3:ListBuckets": { input: () => ({}), list: true },
  "s3:CreateBucket": bucket("BucketAlreadyExists"),
  // HEAD answers carry no body: the SDK v3 names a 404 NotFound and any other status "Unknown",
  // as it does for AWS's own 403 to a HEAD.
  "s3:HeadBucket": { ...bucket(), ...head },
  "s3:DeleteBucket": bucket(),
  "s3:ListObjects": bucket(),
  "s3:ListObjectsV2": bucket(),
  "s3:GetBucketLocation": bucket(),
  "s3:GetBucketVersioning": bucket(),
  "s3:PutBucketPolicy": {
    input: (a) => ({
      Bucket: a.bucketName,
      Policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: "*", Action: "s3:*", Resource: `arn:aws:s3:::${a.bucketName}/*` },
        ],
      }),
    }),
    error: DENIED,
  },
  "s3:GetBucketPolicy": bucket(),
  "s3:DeleteBucketPolicy": bucket(),
  "s3:DeleteObjects": {
    input: (a) => ({ Bucket: a.bucketName, Delete: { Objects: [{ Key: a.objectKey }] } }),
    error: DENIED,
  },
  "s3:PutObject": object({ Body: "b's bytes" }),
  "s3:CopyObject": {
    input: (a) => ({ Bucket: a.bucketName, Key: "b-copy", CopySource: `${a.bucketName}/${a.objectKey}` }),
    error: DENIED,
  },
  "s3:GetObject": object(),
  "s3:HeadObject": { ...object(), ...head },
  "s3:DeleteObject": object(),
  "s3:CreateMultipartUpload": object(),
  "s3:UploadPart": upload({ PartNumber: 1, Body: "b's part" }),
  "s3:ListParts": upload(),
  "s3:CompleteMultipartUpload": upload({ MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"0"' }] } }),
  "s3:AbortMultipartUpload": upload(),
};
