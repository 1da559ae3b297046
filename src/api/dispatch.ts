import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { type AuthMode, callerFor, recordAccount } from "../cloud/account.js";
import type { Ctx, HostConfig, Via } from "../cloud/context.js";
import { AwsError } from "../cloud/errors.js";
import type { Runtime } from "../cloud/runtime.js";
import type { Change, State, Tx } from "../cloud/state.js";
import { type HandlerTable, isStateRead } from "./handler.js";
import { firstHeader, joinParts, PreparedAnswers, type PreparedPieces, preparedKey } from "./prepared.js";
import { authErrorFor, checkSigV4, SignedRequest } from "./sigv4.js";
import { unimplementedService } from "./unimplemented.js";
import { decodeRequest, encodeResponse, type Protocol, renderError, requestProtocol } from "./wire.js";

export interface DispatchOptions {
  state: State;
  rt: Runtime;
  host: HostConfig;
  auth: AuthMode;
  /** Handlers per SigV4 service name (ec2, sts, elasticloadbalancing, route53, …). */
  services: Record<string, HandlerTable>;
  /** Called once per AWS request when it is answered (Prometheus, `privlink up --log requests`). */
  observe?: (r: ObservedRequest) => void;
  /**
   * Called once a write committed, with its changes, before it is answered: what the write needs
   * beyond the state (namespace mode's namespaces) is made here. An error undoes the write (each
   * object no later write has touched goes back to what it was) and becomes the answer.
   */
  afterWrite?: (changes: readonly Change[]) => Promise<void>;
}

export interface ObservedRequest {
  readonly time: Date;
  readonly accountId?: string;
  readonly region?: string;
  readonly service: string;
  readonly action?: string;
  readonly status: number;
  readonly code?: string;
  readonly ms: number;
}

export interface AwsRequest {
  method: string;
  /** Raw path and query as received. */
  url: string;
  headers: IncomingHttpHeaders;
  /** Node's headersDistinct: repeated headers kept apart, as SigV4 needs them. */
  headersDistinct: Record<string, string[] | undefined>;
  /**
   * When the door saw no header twice (the edge): each header's one value by lowercased name, in a
   * map of null prototype. SigV4, the prepared key and the content type read it as it is, and
   * `headersDistinct` is then not read at all.
   */
  lowered?: Record<string, string>;
  body: Buffer | undefined;
}

export interface AwsResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Uint8Array;
  /**
   * The body as pieces to write in order, when it is made of stored bytes (a prepared answer
   * around its request ID): an edge that can write them as they are does, and `body` joins them
   * only when read.
   */
  parts?: readonly Uint8Array[];
}

/** The largest API request body privlink reads (AWS's own limits are lower for most actions). */
export const MAX_BODY = 10 * 1024 * 1024;

/**
 * One AWS request, whichever door it came through: the public edge (no `via`) or a service
 * front on an interface endpoint (`via` carries the trusted endpoint context). Authenticates,
 * decodes, runs the handler in one transaction, encodes; every failure becomes an AWS error in
 * the service's protocol.
 */
export function dispatchAws(opts: DispatchOptions, req: AwsRequest, via?: Via): Promise<AwsResponse> {
  // Not async itself: an async function returning dispatchOnce's promise would wrap it in another.
  if (!opts.observe) return dispatchOnce(opts, req, via);
  return observed(opts, opts.observe, req, via);
}

async function observed(
  opts: DispatchOptions,
  observe: NonNullable<DispatchOptions["observe"]>,
  req: AwsRequest,
  via?: Via,
): Promise<AwsResponse> {
  const started = performance.now();
  const seen: { accountId?: string; region?: string; service: string; action?: string; code?: string } = {
    service: "unknown",
  };
  const res = await dispatchOnce(opts, req, via, seen);
  observe({ time: new Date(), ...seen, status: res.status, ms: performance.now() - started });
  return res;
}

const preparedByState = new WeakMap<State, PreparedAnswers>();

function preparedOf(state: State): PreparedAnswers {
  let p = preparedByState.get(state);
  if (!p) {
    p = new PreparedAnswers(state);
    preparedByState.set(state, p);
  }
  return p;
}

async function dispatchOnce(
  opts: DispatchOptions,
  req: AwsRequest,
  via?: Via,
  seen?: { accountId?: string; region?: string; service: string; action?: string; code?: string },
): Promise<AwsResponse> {
  const requestId = randomUUID();
  let protocol: Protocol = "ec2";
  let service = "ec2";
  try {
    if (req.body === undefined)
      throw new AwsError("RequestEntityTooLarge", `Request body exceeds ${MAX_BODY} bytes`, 413);
    const incoming = SignedRequest.parse(
      req.lowered === undefined
        ? { method: req.method, url: req.url, headers: req.headersDistinct, body: req.body }
        : { method: req.method, url: req.url, headers: req.lowered, lowered: true, body: req.body },
    );
    const { scope } = incoming;
    service = scope.service;
    const table = opts.services[service];
    if (!table) return unimplementedService(service, req, requestId);
    protocol = requestProtocol(service, () => req.headers, req.url.split("?")[0] ?? "/");
    const caller = callerFor(opts.state, opts.auth, scope.accessKeyId);
    if (!caller) throw authErrorFor(service, "unknownKey");
    // One clock read serves the signature's skew check and the prepared answer's expiry.
    const now = opts.rt.now();
    if (opts.auth === "verify") checkSigV4(incoming, (id) => opts.state.get("accessKey", id)?.secret, now);
    // Answers through an endpoint's service front depend on its policy and source: never prepared.
    // The key's fields are named, not spread: a literal that starts with a spread and adds members
    // takes V8's slow path (~5 µs a request on Node 20).
    const key =
      via === undefined
        ? preparedKey({
            accountId: caller.accountId,
            principalArn: caller.principalArn,
            orgId: caller.orgId,
            region: scope.region,
            service,
            protocol,
            req,
          })
        : undefined;
    const prepared = key === undefined ? undefined : preparedOf(opts.state);
    const hit = key === undefined ? undefined : prepared?.get(key, now.getTime());
    if (hit) {
      if (seen)
        Object.assign(seen, {
          service,
          action: hit.action,
          accountId: caller.accountId,
          region: scope.region,
        });
      return preparedResponse(hit, requestId);
    }
    // The query protocols read the content type alone: its first value, as Node's `headers` keeps
    // it, without having Node build that map.
    const headers =
      protocol === "ec2" || protocol === "awsQuery"
        ? { "content-type": firstHeader(req, "content-type") }
        : req.headers;
    const { action, input } = decodeRequest(service, protocol, req.method, req.url, headers, req.body);
    const handler = table[action];
    if (!handler)
      throw new AwsError("InvalidAction", `The action ${action} is not valid for this web service.`);
    if (seen) Object.assign(seen, { service, action, accountId: caller.accountId, region: scope.region });
    const keep = prepared !== undefined && isStateRead(handler);
    const ctx: Ctx = {
      accountId: caller.accountId,
      region: scope.region,
      principalArn: caller.principalArn,
      orgId: caller.orgId,
      rt: opts.rt,
      host: opts.host,
      via,
      service,
      action,
      ...(keep ? { answerHolds: { until: Number.POSITIVE_INFINITY } } : {}),
    };
    const dryRun = input?.DryRun === true;
    const version = opts.state.version;
    let wrote = false;
    let written: Written | undefined;
    const output = await opts.state.transactDurable(
      (tx) => {
        if (opts.auth === "open") recordAccount(tx, ctx);
        const result = handler({ tx, ctx, input });
        // A handler whose store answers later (CloudWatch, Logs) returns a promise, awaited with
        // the commit; if the commit is refused first, its rejection must not go unhandled.
        if (result instanceof Promise) result.catch(() => undefined);
        wrote = tx.written;
        if (opts.afterWrite && !dryRun) written = undoable(tx);
        return result;
      },
      { dryRun },
    );
    if (written?.changes.length) await afterWrite(opts.state, opts.afterWrite!, written);
    if (dryRun)
      throw new AwsError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412);
    const out = encodeResponse(service, protocol, action, output, requestId);
    if (keep && !wrote) {
      const p = {
        action,
        status: out.status,
        contentType: out.contentType,
        headers: out.headers,
        ...(out.split ?? PreparedAnswers.split(out.body, requestId)),
        until: ctx.answerHolds!.until,
      };
      prepared.set(key!, version, p);
      // This answer too is written from the bytes just prepared: the text is encoded once.
      return preparedResponse(p, requestId);
    }
    // An answer encoded as bytes around its request ID is written as those pieces (not joined).
    if (out.split)
      return preparedResponse(
        {
          status: out.status,
          contentType: out.contentType,
          headers: out.headers,
          before: out.split.before,
          after: out.split.after,
        },
        requestId,
      );
    return {
      status: out.status,
      headers: { "content-type": out.contentType, "x-amzn-requestid": requestId, ...out.headers },
      body: out.body,
    };
  } catch (err) {
    const e =
      err instanceof AwsError
        ? err
        : new AwsError("InternalError", `An internal error has occurred: ${(err as Error).message}`, 500);
    if (seen) Object.assign(seen, { service, code: e.code });
    const out = renderError(e, protocol, requestId, service);
    return { status: out.status, headers: { "x-amzn-requestid": requestId, ...out.headers }, body: out.body };
  }
}

/** A prepared answer for `requestId`: its stored pieces, joined into `body` only if read. */
function preparedResponse(p: PreparedPieces, requestId: string): AwsResponse {
  return new PiecesResponse(
    p.status,
    { "content-type": p.contentType, "x-amzn-requestid": requestId, ...p.headers },
    PreparedAnswers.parts(p, requestId),
  );
}

/** A class, not a literal with a getter: a literal's accessor is a new closure per answer. */
class PiecesResponse implements AwsResponse {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    readonly parts: readonly Uint8Array[],
  ) {}

  get body(): Buffer {
    return joinParts(this.parts);
  }
}

/** A write's changes and, for each, what the object was before it. */
interface Written {
  readonly changes: readonly Change[];
  readonly before: readonly unknown[];
}

function undoable(tx: Tx): Written {
  const changes = tx.changes();
  return { changes, before: changes.map((c) => tx.state.get(c.kind, c.id)) };
}

async function afterWrite(state: State, hook: NonNullable<DispatchOptions["afterWrite"]>, w: Written) {
  try {
    await hook(w.changes);
  } catch (err) {
    const undo = await state.transactDurable((tx) => {
      w.changes.forEach((c, i) => {
        // The caller's account record stays: it is the caller's, not the write's.
        if (c.kind === "account" || state.get(c.kind, c.id) !== c.value) return;
        const was = w.before[i];
        if (was === undefined) tx.delete(c.kind, c.id);
        else tx.put(c.kind, was as never);
      });
      return tx.changes();
    });
    // What the undone write had begun outside the state goes too before the caller hears of it.
    await hook(undo).catch(() => undefined);
    throw err;
  }
}
