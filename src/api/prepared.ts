import type { State } from "../cloud/state.js";
import type { AwsRequest } from "./dispatch.js";

/**
 * Answers prepared as bytes, for reads repeated between two commits (a Terraform plan, a test
 * suite or a controller listing the same resources over and over): the second identical request
 * skips decoding, the handler, the shapes and the encoder, and writes the bytes the first one
 * produced with its own request ID patched in.
 *
 * Nothing stale can be served. An entry is kept only for a handler marked `stateRead` (its
 * answer depends on the committed state, the caller and the input alone) whose transaction
 * wrote nothing, and only for the state version it was read at: the first request after any
 * commit starts a new generation. A read whose answer moves with the clock alone says until
 * when it holds (`ctx.answerHolds`). The key is everything the decoder and the handler read
 * of the request: the caller (account, principal, organization, region), the service and
 * protocol, the method, the target, the headers that choose the action and its encoding, and
 * the body. Signature headers are not in it: the request was verified before the lookup.
 */
export interface PreparedKey {
  accountId: string;
  principalArn: string;
  orgId?: string;
  region: string;
  service: string;
  protocol: string;
  req: AwsRequest;
}

/** An answer as stored pieces: its status, headers and the body around its request ID. */
export interface PreparedPieces {
  readonly status: number;
  readonly contentType: string;
  readonly headers: Record<string, string>;
  /**
   * The body before and after the request ID, as buffers to write in order (a Describe's items
   * are the bytes its shapes keep, never copied into one answer); `after` undefined: the body
   * holds no ID.
   */
  readonly before: readonly Buffer[];
  readonly after?: readonly Buffer[];
}

export interface Prepared extends PreparedPieces {
  readonly action: string;
  /** The answer holds until then (ms, the runtime's clock). */
  readonly until: number;
}

/** Requests with bigger bodies are not worth a key (a Describe's body is a few hundred bytes). */
const MAX_KEY_BODY = 4096;
/** Bounds per generation: entries and bytes of answers. */
const MAX_ENTRIES = 512;
const MAX_BYTES = 64 * 1024 * 1024;

/** Every value of a header, newline-separated (no value holds one): repeated headers stay apart. */
function header(req: AwsRequest, name: string): string {
  if (req.lowered !== undefined) return req.lowered[name] ?? "";
  const v = req.headersDistinct[name];
  return v === undefined ? "" : v.length === 1 ? v[0]! : v.join("\n");
}

/** A header's first value (what Node's `headers` keeps of it), from the map the door made. */
export function firstHeader(req: AwsRequest, name: string): string | undefined {
  return req.lowered === undefined ? req.headersDistinct[name]?.[0] : req.lowered[name];
}

/** The key of a request, or undefined when it is not one to prepare (a big body). */
export function preparedKey(k: PreparedKey): string | undefined {
  const body = k.req.body;
  if (body === undefined || body.length > MAX_KEY_BODY) return undefined;
  // REST-XML reads any header and the query into its input: the key would have to hold them all.
  if (k.protocol === "restXml") return undefined;
  return [
    k.accountId,
    k.principalArn,
    k.orgId ?? "",
    k.region,
    k.service,
    k.protocol,
    k.req.method,
    k.req.url,
    header(k.req, "content-type"),
    header(k.req, "x-amz-target"),
    body.toString("latin1"),
  ].join("\0");
}

/** One state's prepared answers, for its current version only. */
export class PreparedAnswers {
  private version = -1;
  private entries = new Map<string, Prepared>();
  private bytes = 0;

  constructor(private readonly state: State) {}

  get(key: string, nowMs: number): Prepared | undefined {
    if (this.version !== this.state.version) return undefined;
    const p = this.entries.get(key);
    if (p === undefined || nowMs >= p.until) return undefined;
    if (p.before.length === 1 && (p.after === undefined || p.after.length <= 1)) return p;
    // Asked again: from now on written as one buffer each side of the ID. A fresh read writes
    // its item bytes as they are (joining them costs more than the writes), but a repeated one
    // would pay a write per item on every hit; the join is paid once, on the first.
    const joined: Prepared = {
      ...p,
      before: [joinParts(p.before)],
      after: p.after === undefined ? undefined : [joinParts(p.after)],
    };
    this.entries.set(key, joined);
    return joined;
  }

  /** Keeps an answer read at `version` (ignored when the state has moved on since). */
  set(key: string, version: number, p: Prepared): void {
    if (version !== this.state.version) return;
    if (this.version !== version || this.entries.size >= MAX_ENTRIES || this.bytes > MAX_BYTES) {
      this.version = version;
      this.entries = new Map();
      this.bytes = 0;
    }
    this.entries.set(key, p);
    this.bytes += key.length + byteLength(p.before) + (p.after === undefined ? 0 : byteLength(p.after));
  }

  /** Splits an encoded body around its request ID. */
  static split(body: string | Uint8Array, requestId: string): { before: Buffer[]; after?: Buffer[] } {
    const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body);
    const at = bytes.indexOf(requestId, 0, "latin1");
    if (at < 0) return { before: [bytes] };
    return { before: [bytes.subarray(0, at)], after: [bytes.subarray(at + requestId.length)] };
  }

  /**
   * The body of a prepared answer for `requestId`, as the pieces to write in order: the stored
   * bytes themselves around the request ID, so a ~80 KB answer is never copied per request.
   */
  static parts(p: PreparedPieces, requestId: string): Buffer[] {
    if (p.after === undefined) return p.before.slice();
    // Pushed, not spread: a spread goes through the array iterator.
    const out = p.before.slice();
    out.push(Buffer.from(requestId, "latin1"));
    for (const b of p.after) out.push(b);
    return out;
  }

  /** The same body as one buffer (what `parts` writes, joined). */
  static body(p: PreparedPieces, requestId: string): Buffer {
    return joinParts(PreparedAnswers.parts(p, requestId));
  }
}

function byteLength(buffers: readonly Buffer[]): number {
  let n = 0;
  for (const b of buffers) n += b.length;
  return n;
}

/** Pieces of a body as one buffer; a single piece is returned as it is. */
export function joinParts(parts: readonly Uint8Array[]): Buffer {
  if (parts.length === 1) {
    const only = parts[0]!;
    return Buffer.isBuffer(only) ? only : Buffer.from(only.buffer, only.byteOffset, only.byteLength);
  }
  return Buffer.concat(parts);
}
