/** S3's object operations: Put (streamed to a file), Get/Head (ranges), Delete, DeleteObjects, Copy. */

import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AwsError } from "../../cloud/errors.js";
import type { S3Checksum, S3Object } from "../../cloud/types.js";
import { type BodyDigest, receiveBody } from "./body.js";
import { allow, bucketFor, reply, type S3Call, smallBody, streamOut } from "./http.js";
import { noSuchBucket, noSuchKey, objectId } from "./rules.js";
import { document, elements, fields, malformedXml, requireRoot, text } from "./xml.js";

const MAX_PUT_SIZE = 5 * 1024 ** 3;
/** Headers S3 stores with an object and answers on GET/HEAD. */
const STORED_HEADERS = [
  "cache-control",
  "content-disposition",
  "content-encoding",
  "content-language",
  "expires",
];

export interface ObjectAttributes {
  readonly contentType: string;
  readonly metadata: Record<string, string>;
  readonly headers: Record<string, string>;
}

export function attributesOf(h: IncomingHttpHeaders): ObjectAttributes {
  const metadata: Record<string, string> = {};
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(h)) {
    if (value === undefined) continue;
    const v = Array.isArray(value) ? value.join(",") : value;
    if (name.startsWith("x-amz-meta-")) metadata[name.slice("x-amz-meta-".length)] = v;
    else if (STORED_HEADERS.includes(name)) headers[name] = v;
  }
  // aws-chunked is the transfer's encoding, not the object's.
  if (headers["content-encoding"] !== undefined) {
    const rest = headers["content-encoding"]
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "" && s !== "aws-chunked");
    if (rest.length > 0) headers["content-encoding"] = rest.join(",");
    else delete headers["content-encoding"];
  }
  const ct = h["content-type"];
  return { contentType: typeof ct === "string" && ct !== "" ? ct : "binary/octet-stream", metadata, headers };
}

/** Receives the body into a committed blob; the temp file is gone whatever happens. */
export async function bodyToBlob(call: S3Call): Promise<{ blob: string; digest: BodyDigest }> {
  const declared = Number(
    call.req.headers["x-amz-decoded-content-length"] ?? call.req.headers["content-length"] ?? 0,
  );
  if (declared > MAX_PUT_SIZE)
    throw new AwsError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400);
  const temp = call.deps.blobs.create();
  try {
    const digest = await receiveBody(call.req, call.body, temp.stream);
    return { blob: await temp.commit(), digest };
  } catch (err) {
    temp.stream.destroy();
    await temp.discard();
    throw err;
  }
}

/** Commits object metadata naming `blob`; the replaced object's bytes are removed afterwards. */
export async function commitObject(call: S3Call, object: S3Object): Promise<void> {
  const { state, blobs } = call.deps;
  let replaced: string | undefined;
  try {
    await state.transactDurable((tx) => {
      if (!tx.get("s3Bucket", object.bucket)) throw noSuchBucket(object.bucket);
      replaced = tx.get("s3Object", object.id)?.blob;
      tx.put("s3Object", object);
    });
  } catch (err) {
    // Committed here but not yet durable (PostgreSQL lost meanwhile): the commit stays queued and
    // may still land, so its body stays; if it never lands, the sweep takes the unnamed body.
    if (state.get("s3Object", object.id)?.blob !== object.blob) await blobs.remove([object.blob]);
    throw err;
  }
  if (replaced !== undefined && replaced !== object.blob) await blobs.remove([replaced]);
}

/** A single-part object's checksum as S3 answers it: the value and its (full-object) type. */
function checksumHeaders(c: S3Checksum | undefined): Record<string, string> {
  return c ? { [`x-amz-checksum-${c.algorithm}`]: c.value, "x-amz-checksum-type": "FULL_OBJECT" } : {};
}

/**
 * S3 encrypts every new object with SSE-S3 by default (since January 2023) and says so on each
 * object write and read; privlink stores bytes in the clear but answers as S3 does (docs/s3.md).
 */
export const SSE_S3: Readonly<Record<string, string>> = { "x-amz-server-side-encryption": "AES256" };

export async function putObjectOp(call: S3Call): Promise<void> {
  bucketFor(call, "s3:PutObject", call.key);
  const attrs = attributesOf(call.req.headers);
  const { blob, digest } = await bodyToBlob(call);
  const etag = `"${digest.md5Hex}"`;
  await commitObject(call, {
    id: objectId(call.bucket!, call.key!),
    bucket: call.bucket!,
    key: call.key!,
    size: digest.size,
    etag,
    lastModified: call.deps.rt.now().toISOString(),
    ...attrs,
    ...(digest.checksum ? { checksum: digest.checksum } : {}),
    blob,
  });
  reply(call, 200, "", { etag, ...SSE_S3, ...checksumHeaders(digest.checksum) });
}

function objectFor(call: S3Call, action: string): S3Object {
  bucketFor(call, action, call.key);
  const o = call.deps.state.get("s3Object", objectId(call.bucket!, call.key!));
  if (!o) throw noSuchKey();
  return o;
}

function objectHeaders(o: S3Object, withChecksum: boolean): Record<string, string> {
  return {
    etag: o.etag,
    "last-modified": new Date(o.lastModified).toUTCString(),
    "content-type": o.contentType,
    "accept-ranges": "bytes",
    ...SSE_S3,
    ...o.headers,
    ...Object.fromEntries(Object.entries(o.metadata).map(([k, v]) => [`x-amz-meta-${k}`, v])),
    ...(withChecksum && o.parts === undefined ? checksumHeaders(o.checksum) : {}),
    ...(o.parts !== undefined ? { "x-amz-mp-parts-count": String(o.parts) } : {}),
  };
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n`; undefined for no (or an ignored multi-) range. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  let start: number;
  let end: number;
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0) throw invalidRange(size);
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== "" && Number(m[2]) < start) return undefined;
  }
  if (start >= size) throw invalidRange(size);
  return { start, end };
}

function invalidRange(size: number): AwsError {
  return Object.assign(new AwsError("InvalidRange", "The requested range is not satisfiable", 416), {
    actualObjectSize: size,
  });
}

export async function getObjectOp(call: S3Call, head = false): Promise<void> {
  const o = objectFor(call, "s3:GetObject");
  const range = parseRange(call.req.headers.range, o.size);
  const checksum = call.req.headers["x-amz-checksum-mode"] === "ENABLED" && range === undefined;
  const headers: Record<string, string> = {
    ...objectHeaders(o, checksum),
    "x-amz-request-id": call.requestId,
  };
  const length = range ? range.end - range.start + 1 : o.size;
  headers["content-length"] = String(length);
  if (range) headers["content-range"] = `bytes ${range.start}-${range.end}/${o.size}`;
  const status = range ? 206 : 200;
  if (head || length === 0) {
    call.res.writeHead(status, headers);
    call.res.end();
    return;
  }
  const source = call.deps.blobs.read(o.blob, range);
  call.res.writeHead(status, headers);
  await streamOut(call.res, source);
}

export async function deleteObjectOp(call: S3Call): Promise<void> {
  bucketFor(call, "s3:DeleteObject", call.key);
  const gone = await deleteKeys(call, [call.key!]);
  await call.deps.blobs.remove(gone);
  reply(call, 204);
}

/** Deletes object metadata; returns the blobs to remove once committed. */
async function deleteKeys(call: S3Call, keys: readonly string[]): Promise<string[]> {
  const blobs: string[] = [];
  await call.deps.state.transactDurable((tx) => {
    for (const key of keys) {
      const id = objectId(call.bucket!, key);
      const o = tx.get("s3Object", id);
      if (o) {
        blobs.push(o.blob);
        tx.delete("s3Object", id);
      }
    }
  });
  return blobs;
}

export async function deleteObjectsOp(call: S3Call): Promise<void> {
  const bucket = bucketFor(call, "s3:ListBucket");
  const xml = await smallBody(call, 2 << 20);
  requireRoot(xml, "Delete");
  const keys = elements(xml, "Object").map((o) => {
    const k = text(o, "Key");
    if (k === undefined) throw malformedXml();
    return k;
  });
  if (keys.length > 1000) throw malformedXml();
  const quiet = text(xml, "Quiet") === "true";
  const allowed: string[] = [];
  let out = "";
  for (const key of keys) {
    try {
      allow(call, "s3:DeleteObject", bucket, key);
      allowed.push(key);
      if (!quiet) out += `<Deleted>${fields({ Key: key })}</Deleted>`;
    } catch (err) {
      const e = err as AwsError;
      out += `<Error>${fields({ Key: key, Code: e.code, Message: e.message })}</Error>`;
    }
  }
  await call.deps.blobs.remove(await deleteKeys(call, allowed));
  reply(call, 200, document("DeleteResult", out));
}

/** CopyObject: the source streamed through MD5 into a new blob (the copy is a single-part object). */
export async function copyObjectOp(call: S3Call): Promise<void> {
  const source = parseCopySource(String(call.req.headers["x-amz-copy-source"]));
  const srcBucket = call.deps.state.get("s3Bucket", source.bucket);
  allow(call, "s3:GetObject", srcBucket, source.key);
  if (!srcBucket) throw noSuchBucket(source.bucket);
  const src = call.deps.state.get("s3Object", objectId(source.bucket, source.key));
  if (!src) throw noSuchKey();
  bucketFor(call, "s3:PutObject", call.key);
  const replace = call.req.headers["x-amz-metadata-directive"] === "REPLACE";
  if (!replace && source.bucket === call.bucket && source.key === call.key)
    throw new AwsError(
      "InvalidRequest",
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      400,
    );
  const attrs = replace
    ? attributesOf(call.req.headers)
    : { contentType: src.contentType, metadata: src.metadata, headers: src.headers };
  const { blobs } = call.deps;
  const temp = blobs.create();
  const md5 = createHash("md5");
  let blob: string;
  try {
    const tap = new Transform({ transform: (c: Buffer, _e, done) => done(null, md5.update(c) && c) });
    await pipeline(blobs.read(src.blob), tap, temp.stream);
    blob = await temp.commit();
  } catch (err) {
    await temp.discard();
    throw err;
  }
  const etag = `"${md5.digest("hex")}"`;
  const lastModified = call.deps.rt.now().toISOString();
  const checksum = src.parts === undefined ? src.checksum : undefined;
  await commitObject(call, {
    id: objectId(call.bucket!, call.key!),
    bucket: call.bucket!,
    key: call.key!,
    size: src.size,
    etag,
    lastModified,
    ...attrs,
    // The same bytes: a single-part source's full-object checksum holds for the copy.
    ...(checksum ? { checksum } : {}),
    blob,
  });
  const result = fields({
    LastModified: lastModified,
    ETag: etag,
    ...(checksum
      ? { [`Checksum${checksum.algorithm.toUpperCase()}`]: checksum.value, ChecksumType: "FULL_OBJECT" }
      : {}),
  });
  reply(call, 200, document("CopyObjectResult", result), SSE_S3);
}

function parseCopySource(header: string): { bucket: string; key: string } {
  const raw = header.split("?")[0]!.replace(/^\//, "");
  const slash = raw.indexOf("/");
  if (slash <= 0 || slash === raw.length - 1)
    throw new AwsError(
      "InvalidArgument",
      "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
      400,
    );
  try {
    return { bucket: decodeURIComponent(raw.slice(0, slash)), key: decodeURIComponent(raw.slice(slash + 1)) };
  } catch {
    throw new AwsError("InvalidArgument", "Invalid copy source encoding", 400);
  }
}
