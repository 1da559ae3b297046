/**
 * S3's wire (REST-XML) over a streamed request: authenticates the head (SigV4, payload checked
 * while it streams), names the operation from method, path and subresources, authorizes it with
 * the front's hook (endpoint policy through `via`, bucket policy), and runs it with bodies
 * streamed to and from files. Requests arrive from the public edge (no `via`) or from a service
 * front on an interface endpoint.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { authErrorFor, parseScope, verifySigV4Head } from "../../api/sigv4.js";
import { type AuthMode, callerFor, recordAccount } from "../../cloud/account.js";
import type { Via } from "../../cloud/context.js";
import { AwsError } from "../../cloud/errors.js";
import type { Runtime } from "../../cloud/runtime.js";
import type { State } from "../../cloud/state.js";
import type { S3Bucket } from "../../cloud/types.js";
import { type AuthzCtx, authorize } from "../../front/authorize.js";
import type { Blobs } from "./blobs.js";
import { type BodySpec, BoundedBuffer, receiveBody } from "./body.js";
import type { ChunkSigning } from "./chunked.js";
import { requestTarget } from "./names.js";
import { noSuchBucket } from "./rules.js";
import { errorDocument } from "./xml.js";

export interface S3Deps {
  readonly state: State;
  readonly rt: Runtime;
  readonly auth: AuthMode;
  readonly blobs: Blobs;
  /** A request body from which no byte arrives for this long is refused (RequestTimeout). */
  readonly requestTimeoutMs: number;
}

/** Everything an operation needs about one request. */
export interface S3Call {
  readonly deps: S3Deps;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly bucket?: string;
  readonly key?: string;
  readonly ctx: AuthzCtx;
  readonly body: BodySpec;
  readonly requestId: string;
}

export type S3Operation = (call: S3Call) => Promise<void>;

/** The response of an operation that is not a stream. */
export function reply(call: S3Call, status: number, body = "", headers: Record<string, string> = {}): void {
  const payload = Buffer.from(body);
  call.res.writeHead(status, {
    "x-amz-request-id": call.requestId,
    "x-amz-id-2": call.requestId,
    ...(payload.length > 0 ? { "content-type": "application/xml" } : {}),
    ...headers,
    "content-length": String(payload.length),
  });
  call.res.end(payload);
}

/** Authorizes `action` on the bucket (or an object in it) with the bucket's policy. */
export function allow(call: S3Call, action: string, bucket: S3Bucket | undefined, key?: string): void {
  const name = bucket?.id ?? call.bucket ?? "";
  authorize(call.ctx, {
    action,
    resource: name === "" ? "*" : key === undefined ? `arn:aws:s3:::${name}` : `arn:aws:s3:::${name}/${key}`,
    resourceAccount: bucket?.accountId,
    resourcePolicy: bucket?.policy,
  });
}

/**
 * The bucket the call names, authorized for `action` first: a caller the policies deny learns
 * nothing about whether the bucket exists. A bucket in another region answers as S3 does.
 */
export function bucketFor(call: S3Call, action: string, key?: string): S3Bucket {
  const name = call.bucket!;
  const bucket = call.deps.state.get("s3Bucket", name);
  allow(call, action, bucket, key);
  if (!bucket) throw noSuchBucket(name);
  if (bucket.region !== call.ctx.region)
    throw Object.assign(
      new AwsError(
        "AuthorizationHeaderMalformed",
        `The authorization header is malformed; the region '${call.ctx.region}' is wrong; expecting '${bucket.region}'`,
        400,
      ),
      { region: bucket.region },
    );
  return bucket;
}

/** A small request body (XML or a policy), decoded and checked like any other. */
export async function smallBody(call: S3Call, limit = 1 << 20): Promise<string> {
  const sink = new BoundedBuffer(limit);
  await receiveBody(call.req, call.body, sink);
  return sink.text();
}

export interface Router {
  route(
    method: string,
    url: URL,
    bucket: string | undefined,
    key: string | undefined,
    headers: IncomingMessage["headers"],
  ): S3Operation | undefined;
}

/** Serves one S3 request on `req`/`res`; `via` when it came through an interface endpoint. */
export async function serveS3(
  deps: S3Deps,
  router: Router,
  req: IncomingMessage,
  res: ServerResponse,
  via?: Via,
): Promise<void> {
  const requestId = randomUUID().replace(/-/g, "").slice(0, 16).toUpperCase();
  const method = req.method ?? "GET";
  let target: { bucket?: string; key?: string } = {};
  try {
    const url = new URL(req.url ?? "/", "http://s3");
    const rawPath = (req.url ?? "/").split("?")[0]!;
    const t = requestTarget(String(req.headers.host ?? ""), rawPath);
    target = t;
    const head = await authenticate(deps, req);
    if (t.unsupported)
      throw new AwsError(
        "NotImplemented",
        `privlink does not implement S3 ${t.unsupported === "control" ? "Control" : "access points"}`,
        501,
      );
    const op = router.route(method, url, t.bucket, t.key, req.headers);
    if (!op)
      throw new AwsError(
        "NotImplemented",
        "A header or query you provided implies functionality that is not implemented.",
        501,
      );
    const ctx: AuthzCtx = { ...head.caller, region: head.region, rt: deps.rt, via, service: "s3" };
    if (deps.auth === "open")
      deps.state.transact((tx) => recordAccount(tx, { ...ctx, host: { slots: { min: 1, max: 254 } } }));
    await op({
      deps,
      req,
      res,
      url,
      bucket: t.bucket,
      key: t.key,
      ctx,
      body: { ...head.body, headers: req.headers, idleTimeoutMs: deps.requestTimeoutMs },
      requestId,
    });
  } catch (err) {
    sendError(req, res, method, asS3Error(err), requestId, target);
  }
}

interface Head {
  readonly caller: { accountId: string; principalArn: string; orgId?: string };
  readonly region: string;
  readonly body: Omit<BodySpec, "headers" | "idleTimeoutMs">;
}

async function authenticate(deps: S3Deps, req: IncomingMessage): Promise<Head> {
  const signed = { method: req.method ?? "GET", url: req.url ?? "/", headers: req.headersDistinct };
  const scope = parseScope({ ...signed, body: new Uint8Array(0) }, "s3");
  if (scope.service !== "s3")
    throw authErrorFor("s3", "badSignature", `Credential should be scoped to correct service: 's3'. `);
  const caller = callerFor(deps.state, deps.auth, scope.accessKeyId);
  if (!caller) throw authErrorFor("s3", "unknownKey");
  if (deps.auth === "open") {
    const claimed = req.headers["x-amz-content-sha256"];
    return {
      caller,
      region: scope.region,
      body: { payloadHash: typeof claimed === "string" ? claimed : "UNSIGNED-PAYLOAD" },
    };
  }
  const head = await verifySigV4Head(signed, (id) => deps.state.get("accessKey", id)?.secret, deps.rt.now());
  const signing: ChunkSigning = {
    signingKey: head.signingKey,
    longDate: head.longDate,
    scope: `${head.scope.date}/${head.scope.region}/${head.scope.service}/aws4_request`,
    seed: head.signature,
  };
  return { caller, region: scope.region, body: { payloadHash: head.payloadHash, signing } };
}

function asS3Error(err: unknown): AwsError {
  if (err instanceof AwsError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ERR_STREAM_PREMATURE_CLOSE" || code === "ECONNRESET")
    return new AwsError("IncompleteBody", "The request body terminated unexpectedly", 400);
  return new AwsError(
    "InternalError",
    `We encountered an internal error. Please try again. (${(err as Error).message})`,
    500,
  );
}

function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  err: AwsError,
  requestId: string,
  target: { bucket?: string; key?: string },
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const region = (err as AwsError & { region?: string }).region;
  const extra: Record<string, string | undefined> =
    err.code === "NoSuchBucket"
      ? { BucketName: target.bucket }
      : err.code === "NoSuchKey"
        ? { Key: target.key }
        : region
          ? { Region: region }
          : {};
  const body = method === "HEAD" ? Buffer.alloc(0) : Buffer.from(errorDocument(err, requestId, extra));
  const headers: Record<string, string> = {
    "x-amz-request-id": requestId,
    "x-amz-id-2": requestId,
    "content-length": String(body.length),
  };
  if (body.length > 0) headers["content-type"] = "application/xml";
  if (region) headers["x-amz-bucket-region"] = region;
  // An unread body: small ones (declared or chunked) are drained to keep the connection, as
  // clients retry a reset; beyond DRAIN_LIMIT the connection closes, and so does an idle one
  // (RequestTimeout: "Idle connections will be closed").
  if (!req.complete) {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > DRAIN_LIMIT || err.code === "RequestTimeout") {
      headers.connection = "close";
      res.once("finish", () => req.destroy());
    } else drain(req);
  }
  res.writeHead(err.status, headers);
  res.end(body);
}

const DRAIN_LIMIT = 1 << 20;

function drain(req: IncomingMessage): void {
  let seen = 0;
  req.on("data", (c: Buffer) => {
    seen += c.length;
    if (seen > DRAIN_LIMIT) req.destroy();
  });
  req.resume();
}

/** Streams `source` into the response; a client that goes away just ends it. */
export async function streamOut(res: ServerResponse, source: NodeJS.ReadableStream): Promise<void> {
  try {
    await pipeline(source, res);
  } catch {
    res.destroy();
  }
}
