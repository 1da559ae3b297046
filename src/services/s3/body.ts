/**
 * Reading an S3 request body as it streams: aws-chunked decoding (chunk signatures checked),
 * then one pass that measures size, MD5 (the ETag), SHA-256 (when the client signed the
 * payload's hash) and the additional checksum, into whatever sink the operation writes (a temp
 * file for objects and parts, a bounded buffer for the small XML bodies). Every check the client
 * asked for is made before the operation commits anything.
 */
import { createHash, type Hash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { type Readable, Transform, type TransformCallback, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AwsError } from "../../cloud/errors.js";
import type { S3Checksum } from "../../cloud/types.js";
import {
  type ChecksumAlgorithm,
  type ChecksumHasher,
  checksumHasher,
  isChecksumAlgorithm,
} from "./checksums.js";
import { AwsChunkedDecoder, type ChunkSigning, streamingMode } from "./chunked.js";

export interface BodySpec {
  /** x-amz-content-sha256 as signed (hex, UNSIGNED-PAYLOAD, STREAMING-…). */
  readonly payloadHash: string;
  /** Present when chunk signatures must be checked (auth verify). */
  readonly signing?: ChunkSigning;
  readonly headers: IncomingHttpHeaders;
  /** The body is refused (RequestTimeout) when the client sends nothing for this long. */
  readonly idleTimeoutMs: number;
}

export interface BodyDigest {
  readonly size: number;
  readonly md5Hex: string;
  readonly checksum?: S3Checksum;
}

/** Pipes the decoded body of `req` into `sink`, then checks every digest the request declared. */
export async function receiveBody(req: Readable, spec: BodySpec, sink: Writable): Promise<BodyDigest> {
  const mode = streamingMode(spec.payloadHash);
  const declared = declaredChecksum(spec.headers);
  const meter = new Meter(/^[0-9a-f]{64}$/i.test(spec.payloadHash), declared?.algorithm);
  const decoder = mode.chunked ? new AwsChunkedDecoder(mode.signed ? spec.signing : undefined) : undefined;
  const watch = new IdleWatch(req, spec.idleTimeoutMs);
  if (decoder) await pipeline(req, watch, decoder, meter, sink);
  else await pipeline(req, watch, meter, sink);
  const size = meter.size;
  const decodedLength = header(spec.headers, "x-amz-decoded-content-length");
  if (mode.chunked && decodedLength !== undefined && Number(decodedLength) !== size)
    throw new AwsError(
      "IncompleteBody",
      "You did not provide the number of bytes specified by the Content-Length HTTP header",
      400,
    );
  if (meter.sha256 && meter.sha256.digest("hex") !== spec.payloadHash.toLowerCase())
    throw new AwsError(
      "XAmzContentSHA256Mismatch",
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
      400,
    );
  const md5 = meter.md5.digest();
  const contentMd5 = header(spec.headers, "content-md5");
  if (contentMd5 !== undefined && contentMd5 !== md5.toString("base64"))
    throw new AwsError("BadDigest", "The Content-MD5 you specified did not match what we received.", 400);
  return { size, md5Hex: md5.toString("hex"), checksum: checkChecksum(declared, meter, decoder?.trailers) };
}

/**
 * Passes the body on and fails it with RequestTimeout once the client has sent nothing for
 * `idleMs`. The client is idle only while privlink is reading: time the sink holds the body back
 * (backpressure pauses `req`) does not count. Failing the pipeline leaves the request's socket
 * open (node's pipeline detaches a server request from its socket), so the error is answered.
 */
class IdleWatch extends Transform {
  private readonly timer: NodeJS.Timeout;

  constructor(req: Readable, idleMs: number) {
    super();
    this.timer = setTimeout(() => {
      if (req.isPaused()) this.timer.refresh();
      else this.destroy(requestTimeout());
    }, idleMs);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.timer.refresh();
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    clearTimeout(this.timer);
    done();
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    clearTimeout(this.timer);
    done(err);
  }
}

export function requestTimeout(): AwsError {
  return new AwsError(
    "RequestTimeout",
    "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.",
    400,
  );
}

interface DeclaredChecksum {
  readonly algorithm: ChecksumAlgorithm;
  /** In the header; undefined when it comes in the trailer. */
  readonly value?: string;
}

/** x-amz-checksum-<alg> in the head, or x-amz-trailer naming one that follows the body. */
function declaredChecksum(headers: IncomingHttpHeaders): DeclaredChecksum | undefined {
  const trailer = header(headers, "x-amz-trailer")?.toLowerCase();
  if (trailer !== undefined) {
    const alg = trailer.replace(/^x-amz-checksum-/, "");
    if (!isChecksumAlgorithm(alg))
      throw new AwsError(
        "InvalidRequest",
        `The value specified in the x-amz-trailer header is not supported`,
        400,
      );
    return { algorithm: alg };
  }
  for (const name of Object.keys(headers)) {
    const m = /^x-amz-checksum-([a-z0-9]+)$/.exec(name);
    if (m && isChecksumAlgorithm(m[1]!)) return { algorithm: m[1], value: header(headers, name) };
  }
  return undefined;
}

function checkChecksum(
  declared: DeclaredChecksum | undefined,
  meter: Meter,
  trailers: Record<string, string> | undefined,
): S3Checksum | undefined {
  if (!declared) return undefined;
  const given = declared.value ?? trailers?.[`x-amz-checksum-${declared.algorithm}`];
  if (given === undefined)
    throw new AwsError("InvalidRequest", `The x-amz-checksum-${declared.algorithm} trailer is missing`, 400);
  const computed = meter.checksum?.digest();
  if (computed !== undefined && computed !== given)
    throw new AwsError(
      "BadDigest",
      `The ${declared.algorithm.toUpperCase()} you specified did not match the calculated checksum.`,
      400,
    );
  return { algorithm: declared.algorithm, value: given };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** One pass over the decoded bytes: size and every digest, passing the bytes on untouched. */
class Meter extends Transform {
  size = 0;
  readonly md5: Hash = createHash("md5");
  readonly sha256?: Hash;
  readonly checksum?: ChecksumHasher;

  constructor(signedHash: boolean, algorithm: ChecksumAlgorithm | undefined) {
    super();
    if (signedHash) this.sha256 = createHash("sha256");
    if (algorithm) this.checksum = checksumHasher(algorithm);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    this.md5.update(chunk);
    this.sha256?.update(chunk);
    this.checksum?.update(chunk);
    done(null, chunk);
  }
}

/** A sink that keeps at most `limit` bytes (the XML bodies of bucket and multipart calls). */
export class BoundedBuffer extends Writable {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.size += chunk.length;
    if (this.size > this.limit) {
      done(new AwsError("MaxMessageLengthExceeded", "Your request was too big.", 400));
      return;
    }
    this.chunks.push(chunk);
    done();
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}
