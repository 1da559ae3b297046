/** S3 multipart uploads: Create, UploadPart (streamed), Complete (parts joined into one blob), Abort, ListParts. */
import { AwsError } from "../../cloud/errors.js";
import type { S3Upload } from "../../cloud/types.js";
import { ownerXml } from "./buckets.js";
import { isChecksumAlgorithm } from "./checksums.js";
import { bucketFor, reply, type S3Call, smallBody } from "./http.js";
import { attributesOf, bodyToBlob, commitObject, SSE_S3 } from "./objects.js";
import {
  checkPartNumber,
  multipartEtag,
  noSuchUpload,
  objectId,
  partsToComplete,
  uploadOf,
} from "./rules.js";
import { document, elements, fields, requireRoot, text } from "./xml.js";

export async function createMultipartOp(call: S3Call): Promise<void> {
  bucketFor(call, "s3:PutObject", call.key);
  const id = `${call.deps.rt.hex(32)}${call.deps.rt.alnum(32)}`;
  const algorithm = String(call.req.headers["x-amz-checksum-algorithm"] ?? "").toLowerCase();
  const upload: S3Upload = {
    id,
    bucket: call.bucket!,
    key: call.key!,
    accountId: call.ctx.accountId,
    initiatedAt: call.deps.rt.now().toISOString(),
    ...attributesOf(call.req.headers),
    ...(isChecksumAlgorithm(algorithm) ? { checksumAlgorithm: algorithm } : {}),
    parts: {},
  };
  await call.deps.state.transactDurable((tx) => tx.put("s3Upload", upload));
  const headers: Record<string, string> = upload.checksumAlgorithm
    ? { ...SSE_S3, "x-amz-checksum-algorithm": upload.checksumAlgorithm.toUpperCase() }
    : { ...SSE_S3 };
  reply(
    call,
    200,
    document("InitiateMultipartUploadResult", fields({ Bucket: call.bucket, Key: call.key, UploadId: id })),
    headers,
  );
}

/** The upload the call names, authorized for `action` (S3's IAM action of the operation). */
function uploadFor(call: S3Call, action: string): S3Upload {
  bucketFor(call, action, call.key);
  const id = call.url.searchParams.get("uploadId") ?? "";
  return call.deps.state.transact((tx) => uploadOf(tx, id, call.bucket!, call.key!));
}

export async function uploadPartOp(call: S3Call): Promise<void> {
  const partNumber = Number(call.url.searchParams.get("partNumber"));
  checkPartNumber(partNumber);
  const upload = uploadFor(call, "s3:PutObject");
  if (call.req.headers["x-amz-copy-source"] !== undefined)
    throw new AwsError("NotImplemented", "privlink does not implement UploadPartCopy", 501);
  const { blob, digest } = await bodyToBlob(call);
  const etag = `"${digest.md5Hex}"`;
  let replaced: string | undefined;
  try {
    await call.deps.state.transactDurable((tx) => {
      const u = tx.get("s3Upload", upload.id);
      if (!u) throw noSuchUpload();
      replaced = u.parts[String(partNumber)]?.blob;
      const part = {
        partNumber,
        size: digest.size,
        etag,
        blob,
        lastModified: call.deps.rt.now().toISOString(),
        ...(digest.checksum ? { checksum: digest.checksum } : {}),
      };
      tx.put("s3Upload", { ...u, parts: { ...u.parts, [String(partNumber)]: part } });
    });
  } catch (err) {
    // As in commitObject: a commit still queued for the store keeps its body.
    if (call.deps.state.get("s3Upload", upload.id)?.parts[String(partNumber)]?.blob !== blob)
      await call.deps.blobs.remove([blob]);
    throw err;
  }
  if (replaced) await call.deps.blobs.remove([replaced]);
  const headers: Record<string, string> = { etag, ...SSE_S3 };
  if (digest.checksum) headers[`x-amz-checksum-${digest.checksum.algorithm}`] = digest.checksum.value;
  reply(call, 200, "", headers);
}

export async function completeMultipartOp(call: S3Call): Promise<void> {
  const upload = uploadFor(call, "s3:PutObject");
  const xml = await smallBody(call, 4 << 20);
  requireRoot(xml, "CompleteMultipartUpload");
  const requested = elements(xml, "Part").map((p) => ({
    partNumber: Number(text(p, "PartNumber")),
    etag: text(p, "ETag") ?? "",
  }));
  const parts = partsToComplete(upload, requested);
  const { blobs } = call.deps;
  const temp = blobs.create();
  let blob: string;
  try {
    for (const p of parts) await appendFile(blobs.read(p.blob), temp.stream);
    await new Promise<void>((resolve, reject) =>
      temp.stream.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    blob = await temp.commit();
  } catch (err) {
    temp.stream.destroy();
    await temp.discard();
    throw err;
  }
  const etag = multipartEtag(parts);
  const size = parts.reduce((n, p) => n + p.size, 0);
  let stillThere = false;
  await call.deps.state.transactDurable((tx) => {
    stillThere = tx.get("s3Upload", upload.id) !== undefined;
    if (stillThere) tx.delete("s3Upload", upload.id);
  });
  if (!stillThere) {
    await blobs.remove([blob]);
    throw noSuchUpload();
  }
  await commitObject(call, {
    id: objectId(upload.bucket, upload.key),
    bucket: upload.bucket,
    key: upload.key,
    size,
    etag,
    lastModified: call.deps.rt.now().toISOString(),
    contentType: upload.contentType,
    metadata: upload.metadata,
    headers: upload.headers,
    blob,
    parts: parts.length,
  });
  await blobs.remove(Object.values(upload.parts).map((p) => p.blob));
  const location = `http://${call.req.headers.host ?? "s3"}/${upload.bucket}/${encodeURI(upload.key)}`;
  reply(
    call,
    200,
    document(
      "CompleteMultipartUploadResult",
      fields({ Location: location, Bucket: upload.bucket, Key: upload.key, ETag: etag }),
    ),
    SSE_S3,
  );
}

/** Appends one part's file to the open temp stream, honouring backpressure. */
function appendFile(source: NodeJS.ReadableStream, sink: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    source.on("error", reject);
    source.on("end", resolve);
    source.pipe(sink, { end: false });
  });
}

export async function abortMultipartOp(call: S3Call): Promise<void> {
  const upload = uploadFor(call, "s3:AbortMultipartUpload");
  await call.deps.state.transactDurable((tx) => tx.delete("s3Upload", upload.id));
  await call.deps.blobs.remove(Object.values(upload.parts).map((p) => p.blob));
  reply(call, 204);
}

export async function listPartsOp(call: S3Call): Promise<void> {
  const upload = uploadFor(call, "s3:ListMultipartUploadParts");
  const q = call.url.searchParams;
  const marker = Number(q.get("part-number-marker") ?? 0);
  const max = Math.min(Number(q.get("max-parts") ?? 1000), 1000);
  const all = Object.values(upload.parts)
    .filter((p) => p.partNumber > marker)
    .sort((a, b) => a.partNumber - b.partNumber);
  const page = all.slice(0, max);
  const truncated = all.length > page.length;
  const parts = page
    .map(
      (p) =>
        `<Part>${fields({ PartNumber: p.partNumber, LastModified: p.lastModified, ETag: p.etag, Size: p.size, ...(p.checksum ? { [`Checksum${p.checksum.algorithm.toUpperCase()}`]: p.checksum.value } : {}) })}</Part>`,
    )
    .join("");
  const head = fields({
    Bucket: upload.bucket,
    Key: upload.key,
    UploadId: upload.id,
    PartNumberMarker: marker,
    NextPartNumberMarker: page.at(-1)?.partNumber ?? marker,
    MaxParts: max,
    IsTruncated: truncated,
  });
  // privlink records the account that opened an upload, not the IAM principal: both are the account.
  const who = ownerXml(upload.accountId, "Initiator") + ownerXml(upload.accountId);
  reply(call, 200, document("ListPartsResult", `${head}${who}<StorageClass>STANDARD</StorageClass>${parts}`));
}
