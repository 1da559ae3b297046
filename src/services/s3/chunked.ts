/**
 * The `aws-chunked` content encoding S3 clients use for streamed uploads: each chunk is
 * `<hex size>[;chunk-signature=<sig>]\r\n<bytes>\r\n`, a zero-size chunk ends the data, and
 * trailer headers (a checksum, then `x-amz-trailer-signature` when signed) may follow.
 *
 * Signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]) chain from the seed signature of
 * the request head: each chunk's signature covers the previous signature and its bytes' hash,
 * so a chunk that was altered, dropped or reordered fails. Data passes through without copies;
 * only chunk headers and trailers are buffered (bounded).
 */
import { createHash, createHmac, type Hash, timingSafeEqual } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { AwsError } from "../../cloud/errors.js";

export interface ChunkSigning {
  readonly signingKey: Buffer;
  readonly longDate: string;
  /** `<date>/<region>/<service>/aws4_request` */
  readonly scope: string;
  /** The request head's signature. */
  readonly seed: string;
}

const EMPTY_SHA256 = createHash("sha256").digest("hex");
const MAX_LINE = 8192;
const MAX_TRAILER = 16384;

export const signatureMismatch = () =>
  new AwsError(
    "SignatureDoesNotMatch",
    "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    403,
  );

const incomplete = (message = "The request body terminated unexpectedly") =>
  new AwsError("IncompleteBody", message, 400);

type Phase = "head" | "data" | "crlf" | "trailer" | "done";

export class AwsChunkedDecoder extends Transform {
  /** Trailer headers by lowercased name (checksums), once the body ended. */
  readonly trailers: Record<string, string> = {};
  private phase: Phase = "head";
  private line = "";
  private remaining = 0;
  private crlf = 0;
  private trailerBytes = 0;
  private chunkSignature?: string;
  private previous: string;
  private chunkHash?: Hash;

  constructor(private readonly signing: ChunkSigning | undefined) {
    super();
    this.previous = signing?.seed ?? "";
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.consume(chunk);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    done(this.phase === "done" ? undefined : incomplete());
  }

  private consume(buf: Buffer): void {
    let at = 0;
    while (at < buf.length) {
      switch (this.phase) {
        case "head":
        case "trailer": {
          const nl = buf.indexOf(10, at);
          const end = nl < 0 ? buf.length : nl + 1;
          this.line += buf.toString("latin1", at, end);
          if (this.phase === "trailer") this.trailerBytes += end - at;
          at = end;
          if (this.line.length > MAX_LINE || this.trailerBytes > MAX_TRAILER)
            throw incomplete("An aws-chunked header line is too long");
          if (nl >= 0) {
            const text = this.line.replace(/\r?\n$/, "");
            this.line = "";
            if (this.phase === "head") this.onChunkHeader(text);
            else this.onTrailerLine(text);
          }
          break;
        }
        case "data": {
          const take = Math.min(this.remaining, buf.length - at);
          const piece = buf.subarray(at, at + take);
          this.chunkHash?.update(piece);
          this.push(piece);
          at += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            this.verifyChunk();
            this.phase = "crlf";
            this.crlf = 0;
          }
          break;
        }
        case "crlf": {
          const expected = this.crlf === 0 ? 13 : 10;
          if (buf[at] !== expected) throw incomplete("An aws-chunked chunk does not end with CRLF");
          at++;
          if (++this.crlf === 2) this.phase = "head";
          break;
        }
        case "done":
          // Bytes after the final CRLF are not part of the object.
          throw incomplete("Unexpected bytes after the end of the aws-chunked body");
      }
    }
  }

  private onChunkHeader(text: string): void {
    const semi = text.indexOf(";");
    const sizeText = (semi < 0 ? text : text.slice(0, semi)).trim();
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText))
      throw incomplete("An aws-chunked chunk size is not hexadecimal");
    const size = Number.parseInt(sizeText, 16);
    const ext = semi < 0 ? "" : text.slice(semi + 1);
    const sig = /chunk-signature=([0-9a-f]{64})/.exec(ext)?.[1];
    if (this.signing && !sig) throw signatureMismatch();
    this.chunkSignature = sig;
    this.chunkHash = this.signing ? createHash("sha256") : undefined;
    if (size === 0) {
      this.verifyChunk();
      this.phase = "trailer";
      return;
    }
    this.remaining = size;
    this.phase = "data";
  }

  private verifyChunk(): void {
    if (!this.signing) return;
    const hash = this.chunkHash!.digest("hex");
    const stringToSign = [
      "AWS4-HMAC-SHA256-PAYLOAD",
      this.signing.longDate,
      this.signing.scope,
      this.previous,
      EMPTY_SHA256,
      hash,
    ].join("\n");
    this.previous = this.check(stringToSign, this.chunkSignature);
  }

  private onTrailerLine(text: string): void {
    if (text === "") {
      this.verifyTrailer();
      this.phase = "done";
      return;
    }
    const colon = text.indexOf(":");
    if (colon < 0) throw incomplete("A malformed aws-chunked trailer");
    this.trailers[text.slice(0, colon).trim().toLowerCase()] = text.slice(colon + 1).trim();
  }

  /** Signed trailers: the signature covers `name:value\n` of every trailer but itself. */
  private verifyTrailer(): void {
    const given = this.trailers["x-amz-trailer-signature"];
    delete this.trailers["x-amz-trailer-signature"];
    if (!this.signing || Object.keys(this.trailers).length === 0) return;
    const canonical = Object.entries(this.trailers)
      .map(([k, v]) => `${k}:${v}\n`)
      .join("");
    const stringToSign = [
      "AWS4-HMAC-SHA256-TRAILER",
      this.signing.longDate,
      this.signing.scope,
      this.previous,
      createHash("sha256").update(canonical).digest("hex"),
    ].join("\n");
    this.check(stringToSign, given);
  }

  private check(stringToSign: string, given: string | undefined): string {
    const expected = createHmac("sha256", this.signing!.signingKey).update(stringToSign).digest("hex");
    if (
      given === undefined ||
      given.length !== 64 ||
      !timingSafeEqual(Buffer.from(expected), Buffer.from(given))
    )
      throw signatureMismatch();
    return expected;
  }
}

/** Whether `payloadHash` announces an aws-chunked body, and whether its chunks are signed. */
export function streamingMode(payloadHash: string): { chunked: boolean; signed: boolean } {
  if (payloadHash === "STREAMING-UNSIGNED-PAYLOAD-TRAILER") return { chunked: true, signed: false };
  if (payloadHash.startsWith("STREAMING-AWS4-HMAC-SHA256-PAYLOAD")) return { chunked: true, signed: true };
  if (payloadHash.startsWith("STREAMING-"))
    throw new AwsError(
      "NotImplemented",
      `privlink does not implement the payload signing '${payloadHash}'`,
      501,
    );
  return { chunked: false, signed: false };
}
