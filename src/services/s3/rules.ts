/**
 * S3's rules over the state, apart from the wire and from the bytes: buckets (global names,
 * regions, ownership), object metadata, listing with prefixes, delimiters and continuation, and
 * the checks of multipart completion. No I/O: object bytes are named by blob, never read here.
 */
import { createHash } from "node:crypto";
import { AwsError } from "../../cloud/errors.js";
import type { Tx } from "../../cloud/state.js";
import type { S3Bucket, S3Object, S3Part, S3Upload } from "../../cloud/types.js";
import { checkBucketName } from "./names.js";

export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_NUMBER = 10_000;

export const noSuchBucket = (bucket: string) =>
  Object.assign(new AwsError("NoSuchBucket", "The specified bucket does not exist", 404), {
    bucketName: bucket,
  });
export const noSuchKey = () => new AwsError("NoSuchKey", "The specified key does not exist.", 404);
export const noSuchUpload = () =>
  new AwsError(
    "NoSuchUpload",
    "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    404,
  );

export function objectId(bucket: string, key: string): string {
  return `${bucket}/${key}`;
}

export function bucketOf(tx: Tx, name: string): S3Bucket {
  const b = tx.get("s3Bucket", name);
  if (!b) throw noSuchBucket(name);
  return b;
}

/**
 * CreateBucket. The LocationConstraint must name the region the request was signed for (none
 * means us-east-1). Re-creating one's own bucket answers BucketAlreadyOwnedByYou, except in
 * us-east-1 where S3 answers 200 for compatibility (returned as `existing`).
 */
export function createBucket(
  tx: Tx,
  who: { accountId: string; region: string },
  name: string,
  locationConstraint: string | undefined,
  now: string,
): { bucket: S3Bucket; existing: boolean } {
  checkBucketName(name);
  const wanted = locationConstraint || "us-east-1";
  if (locationConstraint === "us-east-1")
    throw new AwsError("InvalidLocationConstraint", "The specified location-constraint is not valid", 400);
  if (wanted !== who.region)
    throw new AwsError(
      "IllegalLocationConstraintException",
      `The ${wanted} location constraint is incompatible for the region specific endpoint this request was sent to.`,
      400,
    );
  const prior = tx.get("s3Bucket", name);
  if (prior) {
    if (prior.accountId !== who.accountId)
      throw new AwsError(
        "BucketAlreadyExists",
        "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
        409,
      );
    if (prior.region === "us-east-1" && who.region === "us-east-1") return { bucket: prior, existing: true };
    throw new AwsError(
      "BucketAlreadyOwnedByYou",
      "Your previous request to create the named bucket succeeded and you already own it.",
      409,
    );
  }
  const bucket = tx.put("s3Bucket", {
    id: name,
    accountId: who.accountId,
    region: wanted,
    tags: {},
    createdAt: now,
  });
  return { bucket, existing: false };
}

export function deleteBucket(tx: Tx, name: string): void {
  bucketOf(tx, name);
  const busy = someObject(tx, name) || [...tx.all("s3Upload")].some((u) => u.bucket === name);
  if (busy) throw new AwsError("BucketNotEmpty", "The bucket you tried to delete is not empty", 409);
  tx.delete("s3Bucket", name);
}

function someObject(tx: Tx, bucket: string): boolean {
  for (const o of tx.all("s3Object")) if (o.bucket === bucket) return true;
  return false;
}

export function bucketsOf(tx: Tx, accountId: string): S3Bucket[] {
  return [...tx.all("s3Bucket")].filter((b) => b.accountId === accountId).sort((a, b) => cmp(a.id, b.id));
}

/** S3 orders keys by their UTF-8 bytes. */
export function cmp(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

export interface ListQuery {
  readonly prefix: string;
  readonly delimiter?: string;
  readonly maxKeys: number;
  /** Keys strictly after this one (StartAfter, or the continuation token's key). */
  readonly after?: string;
}

export interface ListPage {
  readonly contents: S3Object[];
  readonly commonPrefixes: string[];
  readonly truncated: boolean;
  /** The last key or prefix returned: where the next page starts after. */
  readonly last?: string;
}

/** One page of ListObjectsV2: keys and common prefixes together count toward MaxKeys. */
export function listObjects(tx: Tx, bucket: string, q: ListQuery): ListPage {
  const keys = [...tx.all("s3Object")]
    .filter((o) => o.bucket === bucket && o.key.startsWith(q.prefix))
    .sort((a, b) => cmp(a.key, b.key));
  const contents: S3Object[] = [];
  const prefixes: string[] = [];
  let last: string | undefined;
  for (const o of keys) {
    if (q.after !== undefined && cmp(o.key, q.after) <= 0) continue;
    let entry: string | S3Object = o;
    if (q.delimiter) {
      const at = o.key.indexOf(q.delimiter, q.prefix.length);
      if (at >= 0) {
        const p = o.key.slice(0, at + q.delimiter.length);
        if (p === last) continue;
        // A prefix the previous page ended on (or started inside) is behind us already.
        if (q.after?.startsWith(p)) continue;
        entry = p;
      }
    }
    if (contents.length + prefixes.length >= q.maxKeys)
      return { contents, commonPrefixes: prefixes, truncated: true, last };
    if (typeof entry === "string") prefixes.push(entry);
    else contents.push(entry);
    last = typeof entry === "string" ? entry : entry.key;
  }
  return { contents, commonPrefixes: prefixes, truncated: false, last };
}

/** The ETag of a multipart object: MD5 of the parts' binary MD5s, then `-<count>`. */
export function multipartEtag(parts: readonly S3Part[]): string {
  const h = createHash("md5");
  for (const p of parts) h.update(Buffer.from(p.etag.replace(/"/g, ""), "hex"));
  return `"${h.digest("hex")}-${parts.length}"`;
}

export function uploadOf(tx: Tx, uploadId: string, bucket: string, key: string): S3Upload {
  const u = tx.get("s3Upload", uploadId);
  if (!u || u.bucket !== bucket || u.key !== key) throw noSuchUpload();
  return u;
}

export function checkPartNumber(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_PART_NUMBER)
    throw new AwsError(
      "InvalidArgument",
      "Part number must be an integer between 1 and 10000, inclusive",
      400,
    );
}

/**
 * The parts CompleteMultipartUpload names, checked as S3 does: ascending order, each uploaded
 * with the ETag given, every part but the last at least 5 MiB.
 */
export function partsToComplete(
  upload: S3Upload,
  requested: readonly { partNumber: number; etag: string }[],
): S3Part[] {
  if (requested.length === 0)
    throw new AwsError(
      "MalformedXML",
      "The XML you provided was not well-formed or did not validate against our published schema",
      400,
    );
  const out: S3Part[] = [];
  let previous = 0;
  for (const r of requested) {
    if (r.partNumber <= previous)
      throw new AwsError(
        "InvalidPartOrder",
        "The list of parts was not in ascending order. Parts must be ordered by part number.",
        400,
      );
    previous = r.partNumber;
    const part = upload.parts[String(r.partNumber)];
    const etag = r.etag.replace(/"/g, "");
    if (!part || part.etag.replace(/"/g, "") !== etag)
      throw new AwsError(
        "InvalidPart",
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
        400,
      );
    out.push(part);
  }
  for (const p of out.slice(0, -1))
    if (p.size < MIN_PART_SIZE)
      throw new AwsError(
        "EntityTooSmall",
        "Your proposed upload is smaller than the minimum allowed object size.",
        400,
      );
  return out;
}
