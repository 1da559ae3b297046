import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type AuthMode, callerFor, recordAccount } from "../cloud/account.js";
import type { Ctx, HostConfig } from "../cloud/context.js";
import { AwsError } from "../cloud/errors.js";
import type { Runtime } from "../cloud/runtime.js";
import type { State } from "../cloud/state.js";
import type { HandlerTable } from "./handler.js";
import { authErrorFor, type IncomingSigned, parseScope, verifySigV4 } from "./sigv4.js";
import { decodeRequest, encodeResponse, type Protocol, protocolOf, renderError } from "./wire.js";

/** The largest API request body privlink reads (AWS's own limits are lower for most actions). */
const MAX_BODY = 10 * 1024 * 1024;

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
  /** Anything not AWS and not admin (the console). */
  fallback?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

export function createApiServer(opts: ApiOptions): Server {
  const server = createServer({ keepAlive: true }, (req, res) => {
    handle(opts, req, res).catch((err) => {
      // Never crash on a request: anything unexpected is an InternalError in the caller's protocol.
      if (!res.headersSent) send(res, 500, "text/plain", `internal error: ${(err as Error).message}`);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  return server;
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooBig = true;
      else chunks.push(c);
    });
    req.on("end", () => resolve(tooBig ? undefined : Buffer.concat(chunks)));
    req.on("error", reject);
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

async function handle(opts: ApiOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://privlink");
  const body = await readBody(req);
  if (url.pathname.startsWith("/_privlink/")) return admin(opts, req, res, url, body ?? Buffer.alloc(0));
  const signed = req.headers.authorization !== undefined || url.searchParams.has("X-Amz-Signature");
  if (!signed && opts.fallback?.(req, res)) return;
  const requestId = randomUUID();
  let protocol: Protocol = "ec2";
  let service = "ec2";
  try {
    if (body === undefined)
      throw new AwsError("RequestEntityTooLarge", `Request body exceeds ${MAX_BODY} bytes`, 413);
    const incoming: IncomingSigned = {
      method: req.method ?? "GET",
      url: req.url ?? "/",
      headers: req.headersDistinct,
      body,
    };
    const scope = parseScope(incoming);
    service = scope.service;
    const table = opts.services[service];
    if (!table)
      throw new AwsError(
        "UnknownService",
        `privlink does not serve the AWS service '${service}' on its API port`,
        400,
      );
    protocol = protocolOf(service);
    const caller = callerFor(opts.state, opts.auth, scope.accessKeyId);
    if (!caller) throw authErrorFor(service, "unknownKey");
    if (opts.auth === "verify") {
      await verifySigV4(incoming, (id) => opts.state.get("accessKey", id)?.secret, opts.rt.now());
    }
    const { action, input } = decodeRequest(service, protocol, req.method ?? "GET", url, req.headers, body);
    const handler = table[action];
    if (!handler)
      throw new AwsError("InvalidAction", `The action ${action} is not valid for this web service.`);
    const ctx: Ctx = {
      accountId: caller.accountId,
      region: scope.region,
      principalArn: caller.principalArn,
      rt: opts.rt,
      host: opts.host,
    };
    const dryRun = input?.DryRun === true;
    const output = opts.state.transact(
      (tx) => {
        if (opts.auth === "open") recordAccount(tx, ctx);
        return handler({ tx, ctx, input });
      },
      { dryRun },
    );
    if (dryRun)
      throw new AwsError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412);
    const out = encodeResponse(service, protocol, action, output, requestId);
    send(res, out.status, out.contentType, out.body, { "x-amzn-requestid": requestId, ...out.headers });
  } catch (err) {
    const e =
      err instanceof AwsError
        ? err
        : new AwsError("InternalError", `An internal error has occurred: ${(err as Error).message}`, 500);
    const out = renderError(e, protocol, requestId, service);
    send(res, out.status, out.headers["content-type"] ?? "text/xml", out.body, {
      "x-amzn-requestid": requestId,
      ...out.headers,
    });
  }
}

async function admin(
  opts: ApiOptions,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  body: Buffer,
): Promise<void> {
  const route = opts.admin[`${req.method} ${url.pathname}`];
  if (!route)
    return send(
      res,
      404,
      "application/json",
      JSON.stringify({ error: `no admin route ${req.method} ${url.pathname}` }),
    );
  try {
    const out = await route({ method: req.method ?? "GET", url, body });
    const text = typeof out.body === "string" ? out.body : JSON.stringify(out.body);
    send(res, out.status, out.contentType ?? "application/json", text);
  } catch (err) {
    const status = err instanceof AwsError ? err.status : 500;
    const code = err instanceof AwsError ? err.code : "InternalError";
    send(res, status, "application/json", JSON.stringify({ error: code, message: (err as Error).message }));
  }
}
