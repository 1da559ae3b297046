/**
 * The built-in S3 (REST-XML): buckets, objects streamed to files under PRIVLINK_HOME (or into
 * the shared PostgreSQL store, pg-blobs.ts), multipart uploads, bucket policies. It serves whole HTTP exchanges (bodies are never buffered): the edge
 * and the service fronts hand it S3 requests before reading their bodies.
 */
import { join } from "node:path";
import type { StreamingService } from "../../api/streaming.js";
import type { AuthMode } from "../../cloud/account.js";
import type { Runtime } from "../../cloud/runtime.js";
import type { State } from "../../cloud/state.js";
import { type Blobs, FileBlobs, referencedBlobs } from "./blobs.js";
import * as b from "./buckets.js";
import { type Router, type S3Deps, type S3Operation, serveS3 } from "./http.js";
import * as m from "./multipart.js";
import * as o from "./objects.js";

export interface S3Options {
  readonly state: State;
  readonly rt: Runtime;
  readonly auth: AuthMode;
  /** PRIVLINK_HOME: object bytes live in `<home>/s3/` unless `blobs` says where. */
  readonly home?: string;
  /** Where object bytes live instead of the home (the shared store's PgBlobs). */
  readonly blobs?: Blobs;
  /** RequestTimeout after this long without a byte of a request body (default 20 s). */
  readonly requestTimeoutMs?: number;
}

/**
 * How long S3 waits for the next byte of a request body. AWS does not document its value
 * (clients see RequestTimeout after roughly 20 s of silence); privlink chooses 20 s.
 */
export const S3_REQUEST_TIMEOUT_MS = 20_000;

/**
 * Every subresource S3 names in a query string (botocore's request URIs): a request naming one
 * privlink does not serve answers NotImplemented, never a plain call (PUT ?website is not
 * CreateBucket, GET ?versions is not ListObjects, GET key?retention is not GetObject).
 */
const SUBRESOURCES = new Set([
  "abac",
  "accelerate",
  "acl",
  "analytics",
  "attributes",
  "cors",
  "delete",
  "encryption",
  "intelligent-tiering",
  "inventory",
  "legal-hold",
  "lifecycle",
  "list-type",
  "location",
  "logging",
  "metadataConfiguration",
  "metadataInventoryTable",
  "metadataJournalTable",
  "metadataTable",
  "metrics",
  "notification",
  "object-lock",
  "ownershipControls",
  "policy",
  "policyStatus",
  "publicAccessBlock",
  "renameObject",
  "replication",
  "requestPayment",
  "restore",
  "retention",
  "select",
  "select-type",
  "session",
  "tagging",
  "torrent",
  "uploads",
  "versioning",
  "versions",
  "website",
]);

/**
 * Every operation S3 serves, by its AWS name: the router answers only with these, so this
 * table is the list of implemented actions (the fidelity and isolation tests read it).
 */
export const S3_OPERATIONS = {
  ListBuckets: b.listBucketsOp,
  CreateBucket: b.createBucketOp,
  HeadBucket: b.headBucketOp,
  DeleteBucket: b.deleteBucketOp,
  ListObjects: b.listObjectsOp,
  ListObjectsV2: b.listObjectsOp,
  GetBucketLocation: b.getBucketLocationOp,
  GetBucketVersioning: b.getBucketVersioningOp,
  PutBucketPolicy: b.putBucketPolicyOp,
  GetBucketPolicy: b.getBucketPolicyOp,
  DeleteBucketPolicy: b.deleteBucketPolicyOp,
  DeleteObjects: o.deleteObjectsOp,
  PutObject: o.putObjectOp,
  CopyObject: o.copyObjectOp,
  GetObject: (call) => o.getObjectOp(call),
  HeadObject: (call) => o.getObjectOp(call, true),
  DeleteObject: o.deleteObjectOp,
  CreateMultipartUpload: m.createMultipartOp,
  UploadPart: m.uploadPartOp,
  ListParts: m.listPartsOp,
  CompleteMultipartUpload: m.completeMultipartOp,
  AbortMultipartUpload: m.abortMultipartOp,
} as const satisfies Record<string, S3Operation>;

export type S3Action = keyof typeof S3_OPERATIONS;

/** The names of the operations S3 serves. */
export const S3_ACTIONS: readonly S3Action[] = Object.keys(S3_OPERATIONS) as S3Action[];

export const s3Router: Router = {
  route(method, url, bucket, key, headers): S3Operation | undefined {
    const name = s3ActionOf(method, url, bucket, key, headers);
    return name === undefined ? undefined : S3_OPERATIONS[name];
  },
};

/** The S3 action a request names, from method, path and subresources. */
function s3ActionOf(
  method: string,
  url: URL,
  bucket: string | undefined,
  key: string | undefined,
  headers: Parameters<Router["route"]>[4],
): S3Action | undefined {
  const q = url.searchParams;
  if (bucket === undefined) return method === "GET" ? "ListBuckets" : undefined;
  const sub = [...q.keys()].find((k) => SUBRESOURCES.has(k)) ?? "";
  return key === undefined ? bucketAction(`${method} ${sub}`) : objectAction(`${method} ${sub}`, q, headers);
}

function bucketAction(methodAndSub: string): S3Action | undefined {
  switch (methodAndSub) {
    case "PUT ":
      return "CreateBucket";
    case "HEAD ":
      return "HeadBucket";
    case "DELETE ":
      return "DeleteBucket";
    case "GET ":
      return "ListObjects";
    case "GET list-type":
      return "ListObjectsV2";
    case "GET location":
      return "GetBucketLocation";
    case "GET versioning":
      return "GetBucketVersioning";
    case "PUT policy":
      return "PutBucketPolicy";
    case "GET policy":
      return "GetBucketPolicy";
    case "DELETE policy":
      return "DeleteBucketPolicy";
    case "POST delete":
      return "DeleteObjects";
    default:
      return undefined;
  }
}

function objectAction(
  methodAndSub: string,
  q: URLSearchParams,
  headers: Parameters<Router["route"]>[4],
): S3Action | undefined {
  const uploadId = q.has("uploadId");
  switch (methodAndSub) {
    case "PUT ":
      if (uploadId) return q.has("partNumber") ? "UploadPart" : undefined;
      return headers["x-amz-copy-source"] !== undefined ? "CopyObject" : "PutObject";
    case "GET ":
      return uploadId ? "ListParts" : "GetObject";
    case "HEAD ":
      return "HeadObject";
    case "DELETE ":
      return uploadId ? "AbortMultipartUpload" : "DeleteObject";
    case "POST uploads":
      return "CreateMultipartUpload";
    case "POST ":
      return uploadId ? "CompleteMultipartUpload" : undefined;
    default:
      return undefined;
  }
}

/** Starts S3 over its blobs: sweeps leftovers of interrupted uploads first, returns the handler. */
export async function createS3(opts: S3Options): Promise<{ serve: StreamingService; blobs: Blobs }> {
  if (opts.blobs === undefined && opts.home === undefined) throw new Error("S3 needs a home or its blobs");
  const blobs = opts.blobs ?? new FileBlobs(join(opts.home!, "s3"));
  await blobs.sweep(() => referencedBlobs(opts.state));
  const requestTimeoutMs = opts.requestTimeoutMs ?? S3_REQUEST_TIMEOUT_MS;
  if (!(requestTimeoutMs > 0)) throw new RangeError(`requestTimeoutMs must be > 0: ${requestTimeoutMs}`);
  const deps: S3Deps = { state: opts.state, rt: opts.rt, auth: opts.auth, blobs, requestTimeoutMs };
  return { serve: (req, res, via) => serveS3(deps, s3Router, req, res, via), blobs };
}
