/** S3's bucket operations: Create/Head/Delete/ListBuckets, GetBucketLocation, bucket policies, listings. */
import { AwsError } from "../../cloud/errors.js";
import type { S3Object } from "../../cloud/types.js";
import { parsePolicy } from "../../iam/index.js";
import { allow, bucketFor, reply, type S3Call, smallBody } from "./http.js";
import { bucketsOf, createBucket, deleteBucket, type ListPage, listObjects } from "./rules.js";
import { document, esc, fields, text } from "./xml.js";

export async function createBucketOp(call: S3Call): Promise<void> {
  allow(call, "s3:CreateBucket", undefined);
  const xml = await smallBody(call);
  const constraint = xml.trim() === "" ? undefined : text(xml, "LocationConstraint");
  const { state, rt } = call.deps;
  await state.transactDurable((tx) =>
    createBucket(tx, call.ctx, call.bucket!, constraint, rt.now().toISOString()),
  );
  reply(call, 200, "", { location: `/${call.bucket}` });
}

export async function headBucketOp(call: S3Call): Promise<void> {
  const bucket = bucketFor(call, "s3:ListBucket");
  reply(call, 200, "", { "x-amz-bucket-region": bucket.region, "x-amz-access-point-alias": "false" });
}

export async function deleteBucketOp(call: S3Call): Promise<void> {
  bucketFor(call, "s3:DeleteBucket");
  await call.deps.state.transactDurable((tx) => deleteBucket(tx, call.bucket!));
  reply(call, 204);
}

export async function listBucketsOp(call: S3Call): Promise<void> {
  allow(call, "s3:ListAllMyBuckets", undefined);
  const buckets = call.deps.state.transact((tx) => bucketsOf(tx, call.ctx.accountId));
  const items = buckets
    .map(
      (b) => `<Bucket>${fields({ Name: b.id, CreationDate: b.createdAt, BucketRegion: b.region })}</Bucket>`,
    )
    .join("");
  const owner = ownerXml(call.ctx.accountId);
  reply(call, 200, document("ListAllMyBucketsResult", `${owner}<Buckets>${items}</Buckets>`));
}

/** An account as S3 names an owner (`Owner`) or the initiator of an upload (`Initiator`). */
export function ownerXml(accountId: string, element = "Owner"): string {
  return `<${element}>${fields({ ID: canonicalId(accountId), DisplayName: accountId })}</${element}>`;
}

/** privlink's stand-in for the canonical user ID: 64 hex digits derived from the account. */
export function canonicalId(accountId: string): string {
  return Buffer.from(accountId.padStart(32, "0")).toString("hex").slice(0, 64);
}

export async function getBucketLocationOp(call: S3Call): Promise<void> {
  const bucket = bucketFor(call, "s3:GetBucketLocation");
  const region = bucket.region === "us-east-1" ? "" : esc(bucket.region);
  reply(
    call,
    200,
    `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${region}</LocationConstraint>`,
  );
}

export async function getBucketVersioningOp(call: S3Call): Promise<void> {
  bucketFor(call, "s3:GetBucketVersioning");
  reply(call, 200, document("VersioningConfiguration", ""));
}

export async function putBucketPolicyOp(call: S3Call): Promise<void> {
  bucketFor(call, "s3:PutBucketPolicy");
  const policy = await smallBody(call, 20 * 1024);
  try {
    parsePolicy(policy, { kind: "resource" });
  } catch (err) {
    throw new AwsError(
      "MalformedPolicy",
      (err as Error).message || "Policies must be valid JSON and the first byte must be '{'",
      400,
    );
  }
  await call.deps.state.transactDurable((tx) => {
    const b = tx.get("s3Bucket", call.bucket!);
    if (b) tx.put("s3Bucket", { ...b, policy });
  });
  reply(call, 204);
}

export async function getBucketPolicyOp(call: S3Call): Promise<void> {
  const bucket = bucketFor(call, "s3:GetBucketPolicy");
  if (bucket.policy === undefined)
    throw Object.assign(new AwsError("NoSuchBucketPolicy", "The bucket policy does not exist", 404), {});
  reply(call, 200, bucket.policy, { "content-type": "application/json" });
}

export async function deleteBucketPolicyOp(call: S3Call): Promise<void> {
  bucketFor(call, "s3:DeleteBucketPolicy");
  await call.deps.state.transactDurable((tx) => {
    const b = tx.get("s3Bucket", call.bucket!);
    if (b) {
      const { policy: _drop, ...rest } = b;
      tx.put("s3Bucket", rest);
    }
  });
  reply(call, 204);
}

/** ListObjectsV2 (list-type=2) and the original ListObjects (marker). */
export async function listObjectsOp(call: S3Call): Promise<void> {
  bucketFor(call, "s3:ListBucket");
  const q = call.url.searchParams;
  const v2 = q.get("list-type") === "2";
  const encoding = q.get("encoding-type") ?? undefined;
  if (encoding !== undefined && encoding !== "url")
    throw new AwsError("InvalidArgument", "Invalid Encoding Method specified in Request", 400);
  const maxKeys = parseMaxKeys(q.get("max-keys"));
  const prefix = q.get("prefix") ?? "";
  const delimiter = q.get("delimiter") || undefined;
  const token = q.get("continuation-token") ?? undefined;
  const startAfter = q.get("start-after") ?? undefined;
  const marker = q.get("marker") ?? undefined;
  const after = v2 ? (token !== undefined ? decodeToken(token) : startAfter) : marker;
  const page = call.deps.state.transact((tx) =>
    listObjects(tx, call.bucket!, { prefix, delimiter, maxKeys, after }),
  );
  const enc = (s: string) => (encoding === "url" ? encodeKey(s) : s);
  const head = v2
    ? fields({
        Name: call.bucket,
        Prefix: enc(prefix),
        Delimiter: delimiter && enc(delimiter),
        MaxKeys: maxKeys,
        EncodingType: encoding,
        KeyCount: page.contents.length + page.commonPrefixes.length,
        IsTruncated: page.truncated,
        ContinuationToken: token,
        NextContinuationToken: page.truncated && page.last !== undefined ? encodeToken(page.last) : undefined,
        StartAfter: startAfter && enc(startAfter),
      })
    : fields({
        Name: call.bucket,
        Prefix: enc(prefix),
        Marker: enc(marker ?? ""),
        NextMarker: page.truncated && delimiter ? page.last && enc(page.last) : undefined,
        MaxKeys: maxKeys,
        Delimiter: delimiter && enc(delimiter),
        EncodingType: encoding,
        IsTruncated: page.truncated,
      });
  reply(
    call,
    200,
    document(
      "ListBucketResult",
      head + listEntries(page, enc, q.get("fetch-owner") === "true" || !v2, call.ctx.accountId),
    ),
  );
}

function listEntries(page: ListPage, enc: (s: string) => string, owner: boolean, accountId: string): string {
  const owned = owner ? ownerXml(accountId) : "";
  const contents = page.contents
    .map(
      (o) =>
        `<Contents>${fields({ Key: enc(o.key), LastModified: o.lastModified, ETag: o.etag, Size: o.size, ...checksumOf(o) })}${owned}<StorageClass>STANDARD</StorageClass></Contents>`,
    )
    .join("");
  const prefixes = page.commonPrefixes
    .map((p) => `<CommonPrefixes>${fields({ Prefix: enc(p) })}</CommonPrefixes>`)
    .join("");
  return contents + prefixes;
}

/** A listed object's checksum algorithm and type, as listings name them (single-part objects). */
function checksumOf(o: S3Object): Record<string, string> {
  if (!o.checksum || o.parts !== undefined) return {};
  return { ChecksumAlgorithm: o.checksum.algorithm.toUpperCase(), ChecksumType: "FULL_OBJECT" };
}

function parseMaxKeys(v: string | null): number {
  if (v === null) return 1000;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 2 ** 31)
    throw new AwsError("InvalidArgument", "Provided max-keys not an integer or within integer range", 400);
  return Math.min(n, 1000);
}

/** S3's url encoding-type: every byte but unreserved characters and `/` percent-encoded. */
export function encodeKey(s: string): string {
  return encodeURIComponent(s)
    .replace(/%2F/g, "/")
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function encodeToken(key: string): string {
  return Buffer.from(`k:${key}`, "utf8").toString("base64");
}

function decodeToken(token: string): string {
  const text = Buffer.from(token, "base64").toString("utf8");
  if (!text.startsWith("k:"))
    throw new AwsError("InvalidArgument", "The continuation token provided is incorrect", 400);
  return text.slice(2);
}
