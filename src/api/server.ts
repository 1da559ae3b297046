import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AuthMode } from "../cloud/account.js";
import type { HostConfig } from "../cloud/context.js";
import { AwsError } from "../cloud/errors.js";
import type { Runtime } from "../cloud/runtime.js";
import type { State } from "../cloud/state.js";
import { ADMIN_TOKEN_REQUIRED, hasAdminToken, OPEN_ADMIN_ROUTES } from "./admin-auth.js";
import { type AwsResponse, type DispatchOptions, dispatchAws, MAX_BODY } from "./dispatch.js";
import { type EdgeAnswer, useEdge } from "./edge.js";
import type { HandlerTable } from "./handler.js";
import { requestUrl } from "./request-url.js";
import { type StreamingServices, streamingServiceFor } from "./streaming.js";

export interface AdminResponse {
  status: number;
  body: unknown;
  contentType?: string;
}

export type AdminRoute = (req: {
  method: string;
  url: URL;
  body: Buffer;
}) => AdminResponse | Promise<AdminResponse>;

export interface ApiOptions {
  state: State;
  rt: Runtime;
  host: HostConfig;
  auth: AuthMode;
  /** Handlers per SigV4 service name (ec2, sts, elasticloadbalancing, route53, …). */
  services: Record<string, HandlerTable>;
  /** Routes under /_privlink/, by "METHOD /path" (e.g. "POST /_privlink/reset"). */
  admin: Record<string, AdminRoute>;
  /** Services that read their own bodies as streams (S3), by SigV4 name. */
  streaming?: StreamingServices;
  /** When set, admin routes (but health) need `Authorization: Bearer <adminToken>`. */
  adminToken?: string;
  /**
   * Admin routes that strangers must reach without the token because the URL itself is the
   * capability (SNS's SubscribeURL/UnsubscribeURL, which carry the subscription's token or ARN)
   * or the answer is public (SNS's signing certificate): a subscriber never holds the admin token.
   */
  openAdmin?: ReadonlySet<string>;
  /** A browser session (the console's cookie) that may call admin routes in place of the token. */
  adminSession?: (req: IncomingMessage) => boolean;
  /** Admin routes that hold the response open (the console's event stream), by "METHOD /path". */
  adminStreams?: Record<string, (req: IncomingMessage, res: ServerResponse) => void>;
  /** Anything not AWS and not admin (the console). */
  fallback?: (req: IncomingMessage, res: ServerResponse) => boolean;
  observe?: DispatchOptions["observe"];
  afterWrite?: DispatchOptions["afterWrite"];
  /** A buffered body must arrive whole within this long after its headers (default 60 s). */
  bodyDeadlineMs?: number;
  /** false: node:http reads every request (to compare with the edge; default true). */
  edge?: boolean;
}

export function createApiServer(opts: ApiOptions): Server {
  const bodies = new BodyDeadlines(opts.bodyDeadlineMs ?? BODY_DEADLINE_MS);
  const server = createServer({ keepAlive: true, maxHeaderSize: 16 * 1024 }, (req, res) => {
    handle(opts, bodies, req, res).catch((err) => {
      // Never crash on a request: anything unexpected is an InternalError in the caller's protocol.
      if (!res.headersSent) send(res, 500, "text/plain", `internal error: ${(err as Error).message}`);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  // A slow client holds a socket, never the event loop: headers must arrive within 20 s and a
  // buffered body within 60 s of them (AWS's front ends cut slow requests too); headers stay
  // <= 16 KiB. Node's own requestTimeout would also cut S3's streamed uploads, which live as
  // long as their bytes flow (S3's idle limit), so the body deadline is readBody's.
  server.headersTimeout = 20_000;
  server.requestTimeout = 0;
  server.once("close", () => bodies.stop());
  // A signed call to `/` with its body in hand is what handle() would dispatch with a buffered
  // body (not admin, not a streaming service): the edge reads and answers it without node:http.
  if (opts.edge !== false)
    useEdge(server, {
      take: (authorization) =>
        streamingServiceFor(opts.streaming, { headers: { authorization }, url: "/" }) === undefined,
      answer: (req) => dispatchAws(opts, req).then(awsAnswer),
    });
  return server;
}

const BODY_DEADLINE_MS = 60_000;

/** A buffered body being read, and what its deadline does to it. */
interface PendingBody {
  readonly at: number;
  readonly req: IncomingMessage;
  expire(): void;
}

/**
 * The deadlines of the bodies being read, swept by one timer per server rather than a timer
 * per request (a request's own timer cost more than the rest of reading its few hundred bytes).
 * A sweep every tenth of the deadline (10 ms … 1 s) cuts a stalled body at most that late.
 */
class BodyDeadlines {
  private readonly pending = new Set<PendingBody>();
  private timer: NodeJS.Timeout | undefined;
  private readonly every: number;

  constructor(readonly ms: number) {
    this.every = Math.min(1000, Math.max(10, Math.floor(ms / 10)));
  }

  add(p: PendingBody): void {
    this.pending.add(p);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), this.every);
      this.timer.unref();
    }
  }

  delete(p: PendingBody): void {
    this.pending.delete(p);
  }

  private sweep(): void {
    const now = performance.now();
    for (const p of this.pending)
      if (p.req.destroyed) {
        // The client went: there is no one to answer, and the connection is gone already.
        this.pending.delete(p);
      } else if (now >= p.at) {
        this.pending.delete(p);
        p.expire();
      }
    if (this.pending.size === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  deadlines: BodyDeadlines,
): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    const pending: PendingBody = {
      at: performance.now() + deadlines.ms,
      req,
      expire() {
        // What Node's requestTimeout answers, then the connection goes.
        if (!res.headersSent)
          send(res, 408, "text/plain", "request body not received in time", { connection: "close" });
        req.socket.destroy();
        reject(new Error("request body timeout"));
      },
    };
    deadlines.add(pending);
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooBig = true;
      else chunks.push(c);
    });
    req.on("end", () => {
      deadlines.delete(pending);
      resolve(tooBig ? undefined : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.on("error", (err) => {
      deadlines.delete(pending);
      reject(err);
    });
  });
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/**
 * An AWS answer as the head and body pieces both doors write (node:http's and the edge's); one
 * made of stored pieces is written piece by piece (one writev), not joined.
 */
function awsAnswer(out: AwsResponse): EdgeAnswer {
  const body = out.parts ?? [typeof out.body === "string" ? Buffer.from(out.body) : out.body];
  let length = 0;
  for (const p of body) length += p.byteLength;
  return {
    status: out.status,
    headers: {
      "content-type": out.headers["content-type"] ?? "text/xml",
      "content-length": length,
      ...out.headers,
    },
    body,
  };
}

function sendAws(res: ServerResponse, out: AwsResponse): void {
  const a = awsAnswer(out);
  res.writeHead(a.status, a.headers);
  // Writes in one tick are corked by node:http: the head and the pieces leave in one writev.
  for (const p of a.body) if (p.byteLength > 0) res.write(p);
  res.end();
}

/**
 * The path of a request target, and its parsed URL when it has more than a path. The target
 * every SDK call but S3's sends, `/`, needs no parse; any other goes through `requestUrl` (which normalises
 * `.`/`..` segments and percent-encoding, so the admin prefix is read as the router reads it).
 */
function targetOf(target: string): { pathname: string; url?: URL } {
  if (target === "/") return { pathname: "/" };
  const url = requestUrl(target);
  return { pathname: url.pathname, url };
}

async function handle(
  opts: ApiOptions,
  bodies: BodyDeadlines,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let target: { pathname: string; url?: URL };
  try {
    target = targetOf(req.url ?? "/");
  } catch (err) {
    return send(res, 400, "text/plain", (err as Error).message);
  }
  const isAdmin = target.pathname.startsWith("/_privlink/");
  const distinct = headersOf(req.rawHeaders);
  // Node keeps the first of repeated Authorization headers, as this does.
  const authorization = distinct.authorization?.[0];
  // S3 reads its own body as a stream: it never passes through the buffered path.
  const streaming = isAdmin
    ? undefined
    : streamingServiceFor(opts.streaming, { headers: { authorization }, url: req.url });
  if (streaming) return streaming(req, res);
  const body = await readBody(req, res, bodies);
  if (isAdmin) return admin(opts, req, res, target.url!, body ?? Buffer.alloc(0));
  const signed = authorization !== undefined || target.url?.searchParams.has("X-Amz-Signature") === true;
  if (!signed && opts.fallback?.(req, res)) return;
  const out = await dispatchAws(opts, {
    method: req.method ?? "GET",
    url: req.url ?? "/",
    // Node's own map (it reads `host` from it for every request), for the readers that want its
    // folding of repeated headers (JSON, REST-XML).
    get headers() {
      return req.headers;
    },
    headersDistinct: distinct,
    body,
  });
  sendAws(res, out);
}

/**
 * What Node's `headersDistinct` holds (every value of each header, in order, by lowercased
 * name), made in one pass over `rawHeaders`: the AWS path reads this map (SigV4, the prepared
 * key, the query protocols' content type), cheaper than Node's getter, which builds it
 * through its per-line header matching.
 */
export function headersOf(raw: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null);
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const values = out[name];
    if (values === undefined) out[name] = [raw[i + 1]!];
    else values.push(raw[i + 1]!);
  }
  return out;
}

async function admin(
  opts: ApiOptions,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  body: Buffer,
): Promise<void> {
  const key = `${req.method} ${url.pathname}`;
  if (
    opts.adminToken !== undefined &&
    !OPEN_ADMIN_ROUTES.has(key) &&
    !opts.openAdmin?.has(key) &&
    !hasAdminToken(req.headers, opts.adminToken) &&
    !opts.adminSession?.(req)
  )
    return send(
      res,
      401,
      "application/json",
      JSON.stringify({ error: "AdminTokenRequired", message: ADMIN_TOKEN_REQUIRED }),
    );
  const stream = opts.adminStreams?.[key];
  if (stream) return stream(req, res);
  const route = opts.admin[key];
  if (!route)
    return send(
      res,
      404,
      "application/json",
      JSON.stringify({ error: `no admin route ${req.method} ${url.pathname}` }),
    );
  try {
    const out = await route({ method: req.method ?? "GET", url, body });
    // An admin write is acknowledged only once durable, as an AWS call is (see transactDurable).
    await opts.state.durable();
    const text = typeof out.body === "string" ? out.body : JSON.stringify(out.body);
    send(res, out.status, out.contentType ?? "application/json", text);
  } catch (err) {
    const status = err instanceof AwsError ? err.status : 500;
    const code = err instanceof AwsError ? err.code : "InternalError";
    send(res, status, "application/json", JSON.stringify({ error: code, message: (err as Error).message }));
  }
}
