import type { S3Action } from "../../src/services/s3/index.js";

/**
 * One refused call per S3 action (REST-XML `<Error>`; HEAD answers carry no body, so the SDK
 * names those by status). Typed by S3's action table, so an S3 action without a row does not
 * compile, and the error-shape test also checks the server's list at run time. The calls run
 * against BUCKET (made, with OBJECT in it and no policy, before they run) or a bucket nobody has.
 */

export const BUCKET = "error-shape-bucket";
export const OBJECT = "present.txt";
const MISSING = "error-shape-no-such-bucket";
const UPLOAD = "2~not-an-upload-privlink-ever-made";

export interface S3ErrorFixture {
  input: Record<string, unknown>;
  code: string;
  status: number;
  message: string;
  /** Sign with a key privlink does not know. */
  unknownKey?: true;
}

const noSuchBucket = (input: Record<string, unknown>): S3ErrorFixture => ({
  input: { Bucket: MISSING, ...input },
  code: "NoSuchBucket",
  status: 404,
  message: "The specified bucket does not exist",
});
const noSuchUpload = (input: Record<string, unknown>): S3ErrorFixture => ({
  input: { Bucket: BUCKET, Key: "uploading", UploadId: UPLOAD, ...input },
  code: "NoSuchUpload",
  status: 404,
  message:
    "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
});
const noSuchKey = (input: Record<string, unknown>): S3ErrorFixture => ({
  input: { Bucket: BUCKET, Key: "absent.txt", ...input },
  code: "NoSuchKey",
  status: 404,
  message: "The specified key does not exist.",
});
/** A HEAD refusal: no body, so the SDK names it after the status and, as on AWS, says "UnknownError". */
const headNotFound = (input: Record<string, unknown>): S3ErrorFixture => ({
  input,
  code: "NotFound",
  status: 404,
  message: "UnknownError",
});

export const S3_ERROR_FIXTURES: Record<S3Action, S3ErrorFixture> = {
  ListBuckets: {
    input: {},
    unknownKey: true,
    code: "InvalidAccessKeyId",
    status: 403,
    message: "The AWS Access Key Id you provided does not exist in our records.",
  },
  CreateBucket: {
    input: { Bucket: "error-shape-east", CreateBucketConfiguration: { LocationConstraint: "us-east-1" } },
    code: "InvalidLocationConstraint",
    status: 400,
    message: "The specified location-constraint is not valid",
  },
  HeadBucket: headNotFound({ Bucket: MISSING }),
  DeleteBucket: {
    input: { Bucket: BUCKET },
    code: "BucketNotEmpty",
    status: 409,
    message: "The bucket you tried to delete is not empty",
  },
  ListObjects: noSuchBucket({}),
  ListObjectsV2: noSuchBucket({}),
  GetBucketLocation: noSuchBucket({}),
  GetBucketVersioning: noSuchBucket({}),
  PutBucketPolicy: noSuchBucket({ Policy: '{"Version":"2012-10-17","Statement":[]}' }),
  GetBucketPolicy: {
    input: { Bucket: BUCKET },
    code: "NoSuchBucketPolicy",
    status: 404,
    message: "The bucket policy does not exist",
  },
  DeleteBucketPolicy: noSuchBucket({}),
  DeleteObjects: noSuchBucket({ Delete: { Objects: [{ Key: "a" }] } }),
  PutObject: noSuchBucket({ Key: "k", Body: "bytes" }),
  CopyObject: noSuchKey({ Key: "copy.txt", CopySource: `${BUCKET}/absent.txt` }),
  GetObject: noSuchKey({}),
  HeadObject: headNotFound({ Bucket: BUCKET, Key: "absent.txt" }),
  DeleteObject: noSuchBucket({ Key: "k" }),
  CreateMultipartUpload: noSuchBucket({ Key: "k" }),
  UploadPart: noSuchUpload({ PartNumber: 1, Body: "part" }),
  ListParts: noSuchUpload({}),
  CompleteMultipartUpload: noSuchUpload({ MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"0"' }] } }),
  AbortMultipartUpload: noSuchUpload({}),
};

/** The AWS CLI line of one of them (the CLI costs a second a call). */
export const S3_CLI = {
  action: "GetBucketPolicy",
  cli: ["s3api", "get-bucket-policy", "--bucket", BUCKET],
} as const;
