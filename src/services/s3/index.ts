/**
 * The built-in S3 (REST-XML): buckets, objects streamed to files under PRIVLINK_HOME, multipart
 * uploads, bucket policies. It serves whole HTTP exchanges (bodies are never buffered): the edge
 * and the service fronts hand it S3 requests before reading their bodies.
 */
import { join } from "node:path";
import type { StreamingService } from "../../api/streaming.js";
import type { AuthMode } from "../../cloud/account.js";
import type { Runtime } from "../../cloud/runtime.js";
import type { State } from "../../cloud/state.js";
import { BlobStore } from "./blobs.js";
import * as b from "./buckets.js";
import { type Router, type S3Deps, type S3Operation, serveS3 } from "./http.js";
import * as m from "./multipart.js";
import * as o from "./objects.js";

export interface S3Options {
  readonly state: State;
  readonly rt: Runtime;
  readonly auth: AuthMode;
  /** PRIVLINK_HOME: object bytes live in `<home>/s3/`. */
  readonly home: string;
}

const BUCKET_SUBRESOURCES = ["policy", "location", "versioning", "uploads", "delete", "list-type"];

export const s3Router: Router = {
  route(method, url, bucket, key, headers): S3Operation | undefined {
    const q = url.searchParams;
    if (bucket === undefined) return method === "GET" ? b.listBucketsOp : undefined;
    if (key === undefined) {
      const sub = [...q.keys()].find(
        (k) =>
          BUCKET_SUBRESOURCES.includes(k) ||
          k === "acl" ||
          k === "tagging" ||
          k === "cors" ||
          k === "lifecycle" ||
          k === "encryption",
      );
      switch (`${method} ${sub ?? ""}`) {
        case "PUT ":
          return b.createBucketOp;
        case "HEAD ":
          return b.headBucketOp;
        case "DELETE ":
          return b.deleteBucketOp;
        case "GET ":
        case "GET list-type":
          return b.listObjectsOp;
        case "GET location":
          return b.getBucketLocationOp;
        case "GET versioning":
          return b.getBucketVersioningOp;
        case "PUT policy":
          return b.putBucketPolicyOp;
        case "GET policy":
          return b.getBucketPolicyOp;
        case "DELETE policy":
          return b.deleteBucketPolicyOp;
        case "POST delete":
          return o.deleteObjectsOp;
        default:
          return undefined;
      }
    }
    const uploadId = q.has("uploadId");
    switch (method) {
      case "PUT":
        if (uploadId && q.has("partNumber")) return m.uploadPartOp;
        if (q.has("tagging") || q.has("acl") || q.has("retention") || q.has("legal-hold")) return undefined;
        return headers["x-amz-copy-source"] !== undefined ? o.copyObjectOp : o.putObjectOp;
      case "GET":
        if (uploadId) return m.listPartsOp;
        if (q.has("tagging") || q.has("acl") || q.has("attributes") || q.has("torrent")) return undefined;
        return (call) => o.getObjectOp(call);
      case "HEAD":
        return (call) => o.getObjectOp(call, true);
      case "DELETE":
        return uploadId ? m.abortMultipartOp : o.deleteObjectOp;
      case "POST":
        if (q.has("uploads")) return m.createMultipartOp;
        if (uploadId) return m.completeMultipartOp;
        return undefined;
      default:
        return undefined;
    }
  },
};

/** Starts S3 over `opts.home`: sweeps leftovers of interrupted uploads, returns the handler. */
export function createS3(opts: S3Options): { serve: StreamingService; blobs: BlobStore } {
  const blobs = new BlobStore(join(opts.home, "s3"));
  const referenced = new Set<string>();
  for (const obj of opts.state.all("s3Object")) referenced.add(obj.blob);
  for (const u of opts.state.all("s3Upload")) for (const p of Object.values(u.parts)) referenced.add(p.blob);
  blobs.sweep(referenced);
  const deps: S3Deps = { state: opts.state, rt: opts.rt, auth: opts.auth, blobs };
  return { serve: (req, res, via) => serveS3(deps, s3Router, req, res, via), blobs };
}
