import { type Server, STATUS_CODES, validateHeaderName, validateHeaderValue } from "node:http";
import type { Socket } from "node:net";

/**
 * A minimal HTTP/1.1 edge in front of node:http for the one shape of request that is nearly all
 * of the API's traffic: an SDK's signed call to `/` with its whole body in hand. node:http builds a
 * parser, an IncomingMessage, a ServerResponse and two header maps per request, ~25 µs of CPU the
 * answer does not need. This parses that shape strictly and writes the answer as one writev;
 * anything it is not sure of — and the rest of that connection — goes to node:http unchanged
 * (its bytes put back on the socket first), so node:http stays the judge of every odd request,
 * its limits and its error answers. What a request means is not decided here: `take` says
 * whether a request is one the caller would answer from a buffered body, `answer` answers it.
 */
export interface EdgeRequest {
  readonly method: string;
  readonly url: string;
  /** Every value of each header, by lowercased name (what node:http's `headersDistinct` holds). */
  readonly headersDistinct: Record<string, string[]>;
  /** What node:http's `headers` holds for the same lines (no header repeats here). */
  readonly headers: Record<string, string>;
  /** Each header's one value by lowercased name, null prototype: what the edge parsed. */
  readonly lowered: Record<string, string>;
  readonly body: Buffer;
}

/** An answer as `writeHead(status, headers)` and its body pieces would write it. */
export interface EdgeAnswer {
  readonly status: number;
  readonly headers: Record<string, string | number>;
  readonly body: readonly Uint8Array[];
}

export interface EdgeOptions {
  /** Whether a signed request to `/` with this Authorization is answered by `answer`. */
  take(authorization: string): boolean;
  answer(req: EdgeRequest): Promise<EdgeAnswer>;
}

/** Heads and bodies the edge reads itself; anything larger goes to node:http, limits and all. */
const MAX_HEAD = 8 * 1024;
const MAX_BODY = 64 * 1024;
const MAX_HEADERS = 64;
/** A head of the one shape: value characters are those node:http's checkInvalidHeaderChar allows. */
const HEAD = /^(?:POST|GET) \/ HTTP\/1\.1(?:\r\n[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*)*$/;
const CONTENT_LENGTH = /^[0-9]{1,7}$/;
const HEAD_END = Buffer.from("\r\n\r\n", "latin1");
/** node:http's answer to a connection that sent no request within headersTimeout. */
const REQUEST_TIMEOUT = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n";
/** node:http's answer to a request it could not parse. */
const BAD_REQUEST = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";
/** node:http arms the idle timer this much past the advertised keep-alive timeout. */
const KEEP_ALIVE_SLACK = 1000;
/**
 * How long the edge waits for the rest of a body whose head it has (the AWS CLI and boto3 send
 * a request's head and body as two writes): beyond this, node:http reads the request with its
 * own timers, so a client trickling bytes is judged by node:http's limits, not held here.
 */
const REST_WAIT_MS = 1000;
/** parse()'s answer for a request the edge takes whose body has not all arrived. */
const MORE = Symbol("more");

/**
 * Puts the edge in front of `server`'s own connection handling. The server keeps listening,
 * counting and closing its connections as before: the edge's sockets are closed with the rest.
 */
export function useEdge(server: Server, opts: EdgeOptions): void {
  const http = server.listeners("connection") as ((socket: Socket) => void)[];
  if (http.length !== 1) throw new Error("useEdge: expected node:http's one connection listener");
  const toHttp = http[0]!;
  const held = new Set<Conn>();
  server.removeListener("connection", toHttp);
  server.on("connection", (socket: Socket) => {
    // What the edge does not model (per-socket timeouts, request caps) stays node:http's.
    if (server.timeout > 0 || server.maxRequestsPerSocket) return toHttp.call(server, socket);
    const c = new Conn(server, socket, opts, toHttp, held);
    held.add(c);
  });
  const closeIdle = server.closeIdleConnections.bind(server);
  const closeAll = server.closeAllConnections.bind(server);
  server.closeIdleConnections = () => {
    for (const c of held) if (c.idle) c.socket.destroy();
    closeIdle();
  };
  server.closeAllConnections = () => {
    for (const c of held) c.socket.destroy();
    closeAll();
  };
}

/** One connection while the edge holds it. */
class Conn {
  /** Bytes received and not yet answered (a pipelined request waits here). */
  private pending: Buffer | undefined;
  busy = false;
  private fresh = true;
  /** When the edge began waiting for the rest of a request's body (0: not waiting). */
  private waitSince = 0;
  private readonly onData = (chunk: Buffer) => this.data(chunk);
  private readonly onEnd = () => this.end();
  private readonly onTimeout = () => this.timeout();
  private readonly onClose = () => this.held.delete(this);
  private readonly onDrain = () => {
    this.socket.resume();
    this.next();
  };

  constructor(
    private readonly server: Server,
    readonly socket: Socket,
    private readonly opts: EdgeOptions,
    private readonly toHttp: (socket: Socket) => void,
    private readonly held: Set<Conn>,
  ) {
    socket.on("data", this.onData);
    socket.on("end", this.onEnd);
    socket.on("timeout", this.onTimeout);
    socket.on("close", this.onClose);
    socket.on("error", noop);
    // node:http answers a connection that sends no request within headersTimeout with a 408.
    if (server.headersTimeout > 0) socket.setTimeout(server.headersTimeout);
  }

  private data(chunk: Buffer): void {
    this.pending = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    if (!this.busy) this.next();
    // A client pipelining faster than it is answered waits for its answers (bounded memory).
    else if (this.pending.length > MAX_HEAD + MAX_BODY) this.socket.pause();
  }

  /** Answers the next complete request buffered, or hands the connection over. */
  private next(): void {
    const buf = this.pending;
    if (buf === undefined || this.busy || this.socket.writableEnded) return;
    if (this.socket.writableNeedDrain) {
      // As node:http does, a client that does not read its answers is not read either.
      this.socket.pause();
      this.socket.once("drain", this.onDrain);
      return;
    }
    const parsed = parse(buf, this.opts);
    if (parsed === MORE) {
      this.awaitRest();
      return;
    }
    if (parsed === undefined) {
      this.handOff();
      return;
    }
    this.pending = parsed.used === buf.length ? undefined : buf.subarray(parsed.used);
    if (this.fresh || this.waitSince !== 0) {
      this.fresh = false;
      this.waitSince = 0;
      // From the first request on, the idle timer of node:http's keep-alive (it fires while an
      // answer is being made too, and is ignored then: node:http has no timer at that time).
      const idle = this.server.keepAliveTimeout;
      this.socket.setTimeout(idle > 0 ? idle + KEEP_ALIVE_SLACK : 0);
    }
    this.busy = true;
    this.opts.answer(parsed.req).then(
      (a) => this.write(a),
      (err: Error) => this.write(internalError(err)),
    );
  }

  /** As node:http counts it: not answering and not part-way through receiving a request. */
  get idle(): boolean {
    return !this.busy && this.waitSince === 0;
  }

  /** A body still on its way: wait for it, a bounded time from when the wait began. */
  private awaitRest(): void {
    const now = performance.now();
    if (this.waitSince === 0) {
      this.waitSince = now;
      this.socket.setTimeout(REST_WAIT_MS);
    } else if (now - this.waitSince > REST_WAIT_MS) this.handOff();
  }

  private write(a: EdgeAnswer): void {
    this.busy = false;
    const socket = this.socket;
    if (socket.isPaused() && !socket.writableNeedDrain) socket.resume();
    // A client that half-closed was answered with node:http's end (below): no answer after it.
    if (socket.destroyed || socket.writableEnded) return;
    let head: { text: string; close: boolean };
    try {
      head = headOf(a, this.server.keepAliveTimeout);
    } catch (err) {
      head = headOf(internalError(err as Error), this.server.keepAliveTimeout);
      a = internalError(err as Error);
    }
    // 1xx, 204 and 304 answers have no body (node:http drops what is written).
    const body = a.status >= 200 && a.status !== 204 && a.status !== 304 ? a.body : NO_BODY;
    if (!writeCopied(socket, head.text, body)) {
      socket.cork();
      socket.write(head.text, "latin1");
      for (const p of body) if (p.byteLength > 0) socket.write(p);
      socket.uncork();
    }
    if (head.close) {
      socket.destroySoon();
      return;
    }
    this.next();
  }

  /**
   * The client half-closed: node:http ends its side at once (httpAllowHalfOpen is false), and
   * an answer not written by then is not written. Bytes of a request not yet read are complete
   * ones waiting behind an answer (a partial one went to node:http): node:http drops them too.
   */
  private end(): void {
    if (this.waitSince !== 0) this.cutShort();
    else this.socket.end();
  }

  /**
   * The client half-closed part-way through a body the edge was waiting for. The bytes cannot be
   * put back after the end, so this answers as node:http's parser error path does: its
   * 'clientError' event, or else a bare 400 (no answer is in flight while the edge waits), then
   * destroy.
   */
  private cutShort(): void {
    const socket = this.socket;
    const err = Object.assign(new Error("Parse Error: Invalid EOF state"), {
      code: "HPE_INVALID_EOF_STATE",
    });
    if (this.server.emit("clientError", err, socket)) return;
    if (socket.writable) socket.write(BAD_REQUEST);
    socket.destroy(err);
  }

  private timeout(): void {
    if (this.busy) return;
    // A body slower than the edge waits: node:http reads the request from here, its timers too.
    if (this.waitSince !== 0) this.handOff();
    else if (this.fresh) {
      this.socket.write(REQUEST_TIMEOUT);
      this.socket.destroy();
    } else this.socket.destroy();
  }

  /** node:http takes the connection from here on, its unanswered bytes put back first. */
  private handOff(): void {
    const socket = this.socket;
    this.held.delete(this);
    socket.removeListener("data", this.onData);
    socket.removeListener("end", this.onEnd);
    socket.removeListener("timeout", this.onTimeout);
    socket.removeListener("close", this.onClose);
    socket.removeListener("error", noop);
    socket.removeListener("drain", this.onDrain);
    socket.setTimeout(0);
    // Paused, so node:http's 'data' listener does not start a flow that would skip the bytes put
    // back; resumed once it listens (its parser then reads them before anything newer).
    socket.pause();
    if (this.pending !== undefined) socket.unshift(this.pending);
    this.pending = undefined;
    this.toHttp.call(this.server, socket);
    socket.resume();
  }
}

function noop(): void {}

const NO_BODY: readonly Uint8Array[] = [];

/**
 * One buffer the head and body of an answer are copied into and written from, shared by every
 * connection: a stream write per piece (a fresh Describe is ~50 item buffers) costs more CPU
 * than copying them, and a new buffer per answer costs its allocation. It is reused only once
 * the kernel has taken all of it: a write that did not complete at once keeps the buffer (the
 * socket still reads from it) and the next answer gets a new one.
 */
let scratch: Buffer | undefined;
/** Answers larger than this are written piece by piece, not copied. */
const MAX_COPIED = 1024 * 1024;
const MIN_SCRATCH = 64 * 1024;

/** Writes head and body as one copied buffer; false when the answer is too big to copy. */
export function writeCopied(
  socket: Pick<Socket, "write" | "writableLength" | "destroyed">,
  head: string,
  body: readonly Uint8Array[],
): boolean {
  let size = head.length;
  for (const p of body) size += p.byteLength;
  if (size > MAX_COPIED) return false;
  let buf = scratch;
  if (buf === undefined || buf.length < size) {
    buf = Buffer.allocUnsafeSlow(Math.max(MIN_SCRATCH, 2 ** Math.ceil(Math.log2(size))));
    scratch = buf;
  }
  let at = buf.write(head, 0, "latin1");
  for (const p of body) {
    buf.set(p, at);
    at += p.byteLength;
  }
  socket.write(buf.subarray(0, at));
  // Not all of it in the kernel yet: the socket keeps this buffer, the next answer takes another.
  if (socket.writableLength !== 0 || socket.destroyed) scratch = undefined;
  return true;
}

class Request implements EdgeRequest {
  readonly url = "/";
  private folded: Record<string, string> | undefined;
  private distinct: Record<string, string[]> | undefined;

  constructor(
    readonly method: string,
    readonly lowered: Record<string, string>,
    readonly body: Buffer,
  ) {}

  /** Made only when read (JSON protocols): a copy, so a reader cannot change what SigV4 reads. */
  get headers(): Record<string, string> {
    if (this.folded === undefined) this.folded = Object.assign({}, this.lowered);
    return this.folded;
  }

  /** Made only when read (the AWS path reads `lowered`): each name's one value in an array. */
  get headersDistinct(): Record<string, string[]> {
    if (this.distinct === undefined) {
      this.distinct = Object.create(null) as Record<string, string[]>;
      for (const name in this.lowered) this.distinct[name] = [this.lowered[name]!];
    }
    return this.distinct;
  }
}

/** What handle()'s catch answers for an unexpected failure. */
function internalError(err: Error): EdgeAnswer {
  const body = Buffer.from(`internal error: ${err.message}`);
  return {
    status: 500,
    headers: { "content-type": "text/plain", "content-length": body.length },
    body: [body],
  };
}

/**
 * The status line and headers node:http's writeHead and end write for this answer on a
 * keep-alive HTTP/1.1 request: the same validation (its own functions, so its errors), then
 * Date, Connection and Keep-Alive unless the answer set them.
 */
function headOf(a: EdgeAnswer, keepAliveTimeout: number): { text: string; close: boolean } {
  if (a.status < 100 || a.status > 999) throw new Error(`invalid status code ${a.status}`);
  let text = `HTTP/1.1 ${a.status} ${STATUS_CODES[a.status] ?? "unknown"}\r\n`;
  let date = false;
  let connection: string | undefined;
  let keepAlive = false;
  let contentLength = false;
  for (const name in a.headers) {
    const value = a.headers[name]!;
    validateHeaderName(name);
    validateHeaderValue(name, value as string);
    text += `${name}: ${value}\r\n`;
    if (name.length < 4 || name.length > 19) continue;
    switch (name.toLowerCase()) {
      case "date":
        date = true;
        break;
      case "connection":
        connection = String(value);
        break;
      case "keep-alive":
        keepAlive = true;
        break;
      case "content-length":
        contentLength = true;
        break;
      case "transfer-encoding":
      case "trailer":
      case "content-disposition":
        // node:http would reframe or re-encode these; no answer to `/` carries them.
        throw new Error(`the edge does not write a ${name} header`);
    }
  }
  if (!contentLength) throw new Error("the edge writes only answers with a content-length");
  if (!date) text += `Date: ${utcDate()}\r\n`;
  if (connection === undefined) {
    text += "Connection: keep-alive\r\n";
    if (keepAliveTimeout > 0 && !keepAlive)
      text += `Keep-Alive: timeout=${Math.floor(keepAliveTimeout / 1000)}\r\n`;
  }
  return {
    text: `${text}\r\n`,
    close: connection !== undefined && /(?:^|\W)close(?:$|\W)/i.test(connection),
  };
}

let dateText = "";
let dateUntil = 0;

/** The Date header's text, made once a second (as node:http caches it). */
function utcDate(): string {
  const now = Date.now();
  if (now >= dateUntil) {
    dateText = new Date(now).toUTCString();
    dateUntil = now - (now % 1000) + 1000;
  }
  return dateText;
}

/**
 * The first request in `buf` when it is complete and of the one shape the edge answers; MORE when
 * it is of that shape and only part of its body is in; undefined for anything else (node:http
 * then reads it). Strict: one Host, at most one Content-Length of
 * digits, no Transfer-Encoding, Expect, Upgrade, Set-Cookie or repeated header, Connection only
 * `keep-alive`, header values as node:http would keep them, no folded lines.
 */
export function parse(
  buf: Buffer,
  opts: EdgeOptions,
): { req: EdgeRequest; used: number } | typeof MORE | undefined {
  const end = buf.indexOf(HEAD_END);
  if (end < 0 || end > MAX_HEAD) return undefined;
  const head = buf.toString("latin1", 0, end);
  // One pass over the whole head: the request line, then only `name:value` lines of a token and
  // the characters node:http keeps in a value (so no CR or LF but the line ends, no folding).
  if (!HEAD.test(head)) return undefined;
  const method = head.charCodeAt(0) === 80 ? "POST" : "GET";
  const lowered: Record<string, string> = Object.create(null);
  let count = 0;
  let at = method.length + 11 + 2;
  while (at < head.length) {
    let lineEnd = head.indexOf("\r\n", at);
    if (lineEnd < 0) lineEnd = head.length;
    const colon = head.indexOf(":", at);
    if (++count > MAX_HEADERS) return undefined;
    let from = colon + 1;
    while (from < lineEnd && (head.charCodeAt(from) === 32 || head.charCodeAt(from) === 9)) from++;
    const last = head.charCodeAt(lineEnd - 1);
    // node:http trims a value's trailing blanks; the edge does not guess, it passes.
    if (from < lineEnd && (last === 32 || last === 9)) return undefined;
    const name = head.slice(at, colon).toLowerCase();
    if (lowered[name] !== undefined || name === "__proto__") return undefined;
    lowered[name] = head.slice(from, lineEnd);
    at = lineEnd + 2;
  }
  const authorization = lowered.authorization;
  if (
    authorization === undefined ||
    lowered.host === undefined ||
    lowered["transfer-encoding"] !== undefined ||
    lowered.expect !== undefined ||
    lowered.upgrade !== undefined ||
    lowered["set-cookie"] !== undefined
  )
    return undefined;
  const connection = lowered.connection;
  if (connection !== undefined && connection.toLowerCase() !== "keep-alive") return undefined;
  const cl = lowered["content-length"];
  let length = 0;
  if (cl !== undefined) {
    if (!CONTENT_LENGTH.test(cl)) return undefined;
    length = Number(cl);
  }
  if (length > MAX_BODY || !opts.take(authorization)) return undefined;
  const used = end + 4 + length;
  if (buf.length < used) return MORE;
  return { req: new Request(method, lowered, buf.subarray(end + 4, used)), used };
}
