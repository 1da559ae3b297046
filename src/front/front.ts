/**
 * The service front of AWS-service interface endpoints. The data plane hands it each admitted
 * TCP connection to an endpoint ENI; the front terminates TLS with a leaf from the local CA for
 * every name the endpoint answers to, speaks HTTP/1.1 with keep-alive, and serves each request
 * through the one AWS pipeline (`dispatchAws`) with the trusted endpoint context (`via`).
 *
 * Where the endpoint policy is evaluated: services that authorize in their handlers (they know
 * their resource ARNs: Secrets Manager) get it there, through `via`; for every other service
 * (built-in ones without resource knowledge, and upstreams) the front authenticates the caller
 * itself, derives action and resource from the wire and evaluates the policy before passing
 * the request on.
 *
 * Public mode ({@link ServiceFront.servePublic}) is the same HTTP pipeline for a connection that
 * reached AWS's *public* name over an internet or NAT path (the workload proxy hands it over,
 * TLS already terminated there): no endpoint, so no endpoint policy and no `via` — resource
 * policies see no aws:SourceVpce/SourceVpc/VpcSourceIp, exactly as on the public edge.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { SecureContext } from "node:tls";
import { type AwsRequest, type AwsResponse, type DispatchOptions, dispatchAws } from "../api/dispatch.js";
import { authErrorFor, type IncomingSigned, parseScope, type SigV4Scope, verifySigV4 } from "../api/sigv4.js";
import type { StreamingServices } from "../api/streaming.js";
import { notImplemented } from "../api/unimplemented.js";
import { callerFor } from "../cloud/account.js";
import {
  type AwsService,
  awsServiceByName,
  awsServiceByPrivateDnsName,
  type ServiceProtocol,
} from "../cloud/catalog.js";
import type { Via } from "../cloud/context.js";
import { endpointAnsweredNames, s3EndpointSubdomainNames } from "../cloud/endpoint-dns.js";
import { eniHostAddress } from "../cloud/eni.js";
import { AwsError } from "../cloud/errors.js";
import type { VpcEndpoint } from "../cloud/types.js";
import { gatewayServiceOfName } from "../flow/gateway-endpoint.js";
import { authorize } from "./authorize.js";
import type { LocalCa } from "./ca.js";
import { deriveRequest } from "./derive.js";
import { familyOf, renderServiceError, serviceOfRequest } from "./render.js";
import { acceptServerTls, serverSecureContext } from "./server-tls.js";
import { forwardToUpstream, stateUpstreams, type UpstreamTable } from "./upstream.js";

/** A connection to a public AWS name: what the client dialled, for requests that do not say. */
export interface PublicConnection {
  /** The name the client asked for (CONNECT authority, the TLS server name). */
  readonly name: string;
  /** The flow went through a gateway endpoint (S3, DynamoDB): its policy and aws:SourceVpce apply. */
  readonly gateway?: GatewayConnection;
}

/** What the data plane knows about a connection a gateway endpoint carried. */
export interface GatewayConnection {
  readonly endpointId: string;
  /** The client's private IP (aws:VpcSourceIp). */
  readonly clientIp: string;
}

/** What the data plane knows about an admitted connection. */
export interface FrontConnection {
  readonly endpointId: string;
  readonly eniId: string;
  /** The client's private IP (aws:VpcSourceIp). */
  readonly clientIp: string;
}

export interface FrontLimits {
  /** Request bodies beyond this are refused (413) and the connection closed. */
  readonly maxBodyBytes: number;
  /** A TLS handshake that has not finished by then is dropped. */
  readonly handshakeTimeoutMs: number;
  /** Request head must arrive within this (slowloris). */
  readonly headersTimeoutMs: number;
  /** The whole request must arrive within this; 0 (the default): no total limit, as on AWS. */
  readonly requestTimeoutMs: number;
  /**
   * A request (its body, then its response) during which no byte moves for this long is cut,
   * however long it has run: a slow 5 GiB PUT lives as long as its bytes keep flowing (AWS's
   * endpoint idle timeout is 350 s).
   */
  readonly requestIdleTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (AWS: 350 s idle timeout). */
  readonly idleTimeoutMs: number;
  /** How often node:http checks the two request timeouts. */
  readonly checkIntervalMs: number;
  readonly upstreamTimeoutMs: number;
}

export const DEFAULT_FRONT_LIMITS: FrontLimits = {
  maxBodyBytes: 10 * 1024 * 1024,
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 0,
  requestIdleTimeoutMs: 350_000,
  idleTimeoutMs: 350_000,
  checkIntervalMs: 1_000,
  upstreamTimeoutMs: 30_000,
};

export interface FrontOptions extends DispatchOptions {
  readonly ca: LocalCa;
  /** Default: the upstreams persisted in the state. */
  readonly upstreams?: UpstreamTable;
  readonly limits?: Partial<FrontLimits>;
  /** Built-in services that read their own bodies as streams (S3), by signing name. */
  readonly streaming?: StreamingServices;
}

/** Services whose handlers call `authorize` with their own resource ARNs. */
export const HANDLER_AUTHORIZED = new Set(["secretsmanager"]);

interface Served {
  readonly endpoint: VpcEndpoint;
  readonly service: AwsService;
}

export class ServiceFront {
  private readonly http: Server;
  /** The limits in force: the defaults with the options' overrides. */
  readonly limits: FrontLimits;
  private readonly upstreams: UpstreamTable;
  private readonly connections = new WeakMap<Socket, FrontConnection>();
  private readonly publicConnections = new WeakMap<Socket, PublicConnection>();
  private readonly sockets = new Set<Socket>();
  private readonly contexts = new Map<string, Promise<SecureContext>>();
  private closed = false;

  constructor(private readonly opts: FrontOptions) {
    this.limits = { ...DEFAULT_FRONT_LIMITS, ...opts.limits };
    this.upstreams = opts.upstreams ?? stateUpstreams(opts.state);
    this.http = createServer(
      {
        keepAlive: true,
        headersTimeout: this.limits.headersTimeoutMs,
        requestTimeout: this.limits.requestTimeoutMs,
        connectionsCheckingInterval: this.limits.checkIntervalMs,
      },
      (req, res) => {
        this.onRequest(req, res).catch((err: Error) => {
          if (!res.headersSent) {
            const e = new AwsError("InternalFailure", `An internal error has occurred: ${err.message}`, 500);
            writeOut(res, renderServiceError(e, "unknown", randomUUID(), "json"));
          } else res.destroy();
        });
      },
    );
    this.http.keepAliveTimeout = this.limits.idleTimeoutMs;
    // node:http enforces headersTimeout/requestTimeout only once its server is "listening";
    // this server never listens (the data plane owns the sockets), so start the checks here.
    this.http.emit("listening");
    this.http.on("clientError", (_err, socket) => socket.destroy());
  }

  /** Takes over an admitted connection to an endpoint ENI. */
  handle(socket: Socket, conn: FrontConnection): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.track(socket);
    socket.on("error", () => socket.destroy());
    this.secureContextFor(conn.endpointId, conn.eniId)
      .then((secureContext) => this.startTls(socket, conn, secureContext))
      .catch(() => socket.destroy());
  }

  /**
   * Takes over a connection to a public AWS name, ready for HTTP: the caller terminated TLS (or
   * the client speaks plain HTTP). Requests go through `dispatchAws` without `via`, upstreams
   * or NotImplemented as on an endpoint; keep-alive and limits as on an endpoint.
   */
  servePublic(socket: Socket, conn: PublicConnection): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.track(socket);
    socket.on("error", () => socket.destroy());
    this.publicConnections.set(socket, conn);
    this.http.emit("connection", socket);
  }

  /** Closes every connection; the front serves nothing afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeAllConnections();
    for (const s of this.sockets) s.destroy();
  }

  /** Open sockets (raw and TLS) the front holds: for leak checks. */
  get openSockets(): number {
    return this.sockets.size;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
  }

  private startTls(socket: Socket, conn: FrontConnection, secureContext: SecureContext): void {
    if (socket.destroyed || this.closed) {
      socket.destroy();
      return;
    }
    const { handshakeTimeoutMs } = this.limits;
    const tls = acceptServerTls(socket, { secureContext, handshakeTimeoutMs }, (tls) => {
      if (this.closed) tls.destroy();
      else this.http.emit("connection", tls);
    });
    if (!tls) return;
    this.track(tls);
    this.connections.set(tls, conn);
  }

  /**
   * One leaf per endpoint for all its names (regional, zonal, private, the service's public
   * names and wildcards, the ENI's addresses): whichever name the client dialled (SNI), the
   * certificate covers it.
   */
  private secureContextFor(endpointId: string, eniId: string): Promise<SecureContext> {
    const { state, rt } = this.opts;
    const endpoint = state.get("vpcEndpoint", endpointId);
    if (!endpoint) return Promise.reject(new Error(`no endpoint ${endpointId}`));
    const names = new Set(endpointAnsweredNames(state, endpoint).map((n) => n.name));
    for (const n of s3EndpointSubdomainNames(endpoint, [...names])) names.add(n);
    const service = serviceOf(endpoint);
    for (const n of service?.privateDnsNames ?? []) names.add(n);
    for (const base of service?.baseEndpointDnsNames ?? [])
      names.add(base.startsWith("*.") ? base : `*.${base}`);
    const eni = state.get("eni", eniId);
    if (eni) {
      names.add(eni.privateIp);
      const host = eniHostAddress(state, eni);
      if (host) names.add(host);
    }
    const key = [...names].sort().join(",");
    let ctx = this.contexts.get(key);
    if (!ctx) {
      ctx = this.opts.ca.leaf([...names], rt.now()).then(serverSecureContext);
      ctx.catch(() => this.contexts.delete(key));
      if (this.contexts.size > 1024) this.contexts.clear();
      this.contexts.set(key, ctx);
    }
    return ctx;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    // node:http's timeout handler destroys an idle socket; after the response its keep-alive
    // timeout takes over.
    req.socket.setTimeout(this.limits.requestIdleTimeoutMs);
    const pub = this.publicConnections.get(req.socket);
    if (pub) return this.onPublicRequest(req, res, pub, requestId);
    const conn = this.connections.get(req.socket);
    const served = conn && this.served(conn.endpointId);
    if (!conn || !served) return noLongerServed(res, requestId);
    return this.serveVia(req, res, viaOf(served, conn.clientIp), served, requestId);
  }

  /** A request through an endpoint (interface or gateway), with its trusted context. */
  private async serveVia(
    req: IncomingMessage,
    res: ServerResponse,
    via: Via,
    served: Served,
    requestId: string,
  ): Promise<void> {
    // A streaming service authenticates and authorizes (endpoint policy included) itself.
    const streaming = this.opts.streaming?.[served.service.signingName];
    if (streaming) return streaming(req, res, via);
    const request = await this.readRequest(req, res, requestId, served.service);
    if (!request) return;
    writeOut(res, await this.route(request, via, served, requestId));
  }

  /** The request with its body, or undefined once a 413 went out (the connection then closes). */
  private async readRequest(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    service: { signingName: string; protocol?: ServiceProtocol },
  ): Promise<(AwsRequest & { body: Buffer }) | undefined> {
    const declared = Number(req.headers["content-length"] ?? 0);
    const body =
      declared > this.limits.maxBodyBytes ? undefined : await readBody(req, this.limits.maxBodyBytes);
    if (body === undefined) {
      const e = new AwsError(
        "RequestEntityTooLarge",
        `Request body exceeds the ${this.limits.maxBodyBytes} bytes this endpoint accepts`,
        413,
      );
      res.setHeader("connection", "close");
      writeOut(res, renderServiceError(e, service.signingName, requestId, service.protocol));
      res.once("finish", () => req.socket.destroy());
      return undefined;
    }
    return {
      method: req.method ?? "GET",
      url: req.url ?? "/",
      headers: req.headers,
      headersDistinct: req.headersDistinct,
      body,
    };
  }

  private async onPublicRequest(
    req: IncomingMessage,
    res: ServerResponse,
    conn: PublicConnection,
    requestId: string,
  ): Promise<void> {
    if (conn.gateway) {
      const served = this.servedByGateway(conn.gateway.endpointId);
      if (!served) return noLongerServed(res, requestId);
      return this.serveVia(req, res, viaOf(served, conn.gateway.clientIp), served, requestId);
    }
    const streaming = this.opts.streaming?.[publicServiceOf(conn.name)?.signingName ?? ""];
    if (streaming) return streaming(req, res);
    // Unsigned or not yet read: the name dialled says which service errors speak for.
    const named = serviceOfRequest(conn.name, {
      method: req.method ?? "GET",
      url: req.url ?? "/",
      headers: req.headersDistinct,
      body: Buffer.alloc(0),
    });
    const request = await this.readRequest(req, res, requestId, {
      signingName: named.service,
      protocol: named.protocol,
    });
    if (request) writeOut(res, await this.routePublic(request, conn, requestId));
  }

  /**
   * A request to a public AWS name: built-in services through `dispatchAws` without `via` (it
   * authenticates and authorizes, resource policies included); the others to their upstream
   * once the signature holds, else NotImplemented.
   */
  private async routePublic(
    request: AwsRequest & { body: Buffer },
    conn: PublicConnection,
    requestId: string,
  ): Promise<AwsResponse> {
    const service = publicServiceOf(conn.name);
    const expected = service?.signingName;
    const fail = (err: unknown, name: string) =>
      renderServiceError(asAwsError(err), name, requestId, name === expected ? service?.protocol : undefined);
    const signed = signedOf(request);
    // Unsigned or malformed: the name dialled stands for the service, as in the proxy's refusals.
    const named = expected ?? serviceOfRequest(conn.name, signed).service;
    let scope: SigV4Scope;
    try {
      scope = parseScope(signed, named);
    } catch (err) {
      return fail(err, named);
    }
    if (expected !== undefined && scope.service !== expected)
      return fail(
        authErrorFor(
          expected,
          "badSignature",
          `Credential should be scoped to correct service: '${expected}'. `,
        ),
        expected,
      );
    if (this.opts.services[scope.service]) return dispatchAws(this.opts, request);
    try {
      const secret = await this.authenticate(request, scope);
      return await this.forward(request, scope, secret, service);
    } catch (err) {
      return fail(err, scope.service);
    }
  }

  /** A gateway endpoint still carrying traffic, with the service the front serves for it. */
  private servedByGateway(endpointId: string): Served | undefined {
    const endpoint = this.opts.state.get("vpcEndpoint", endpointId);
    if (endpoint?.type !== "Gateway" || endpoint.state !== "available") return undefined;
    const service = serviceOf(endpoint);
    return service ? { endpoint, service } : undefined;
  }

  private served(endpointId: string): Served | undefined {
    const endpoint = this.opts.state.get("vpcEndpoint", endpointId);
    if (endpoint?.type !== "Interface" || endpoint.serviceId !== undefined) return undefined;
    const service = serviceOf(endpoint);
    return service ? { endpoint, service } : undefined;
  }

  private async route(
    request: AwsRequest & { body: Buffer },
    via: Via,
    served: Served,
    requestId: string,
  ): Promise<AwsResponse> {
    const expected = served.service.signingName;
    const fail = (err: unknown, service = expected) =>
      renderServiceError(
        asAwsError(err),
        service,
        requestId,
        service === expected ? served.service.protocol : undefined,
      );
    let scope: SigV4Scope;
    try {
      scope = parseScope(signedOf(request), expected);
    } catch (err) {
      return fail(err);
    }
    if (scope.service !== expected)
      return fail(
        authErrorFor(
          expected,
          "badSignature",
          `Credential should be scoped to correct service: '${expected}'. `,
        ),
      );
    if (this.opts.services[scope.service] && HANDLER_AUTHORIZED.has(scope.service))
      return dispatchAws(this.opts, request, via);
    try {
      const secret = await this.authenticate(request, scope);
      this.checkEndpointPolicy(request, via, scope, served);
      if (this.opts.services[scope.service]) return dispatchAws(this.opts, request, via);
      return await this.forward(request, scope, secret, served.service);
    } catch (err) {
      return fail(err);
    }
  }

  /** Verifies the signature; returns the caller's secret key (to re-sign for an upstream). */
  private async authenticate(request: AwsRequest & { body: Buffer }, scope: SigV4Scope): Promise<string> {
    const { state, auth, rt } = this.opts;
    if (!callerFor(state, auth, scope.accessKeyId)) throw authErrorFor(scope.service, "unknownKey");
    if (auth === "verify")
      await verifySigV4(signedOf(request), (id) => state.get("accessKey", id)?.secret, rt.now());
    // Open mode accepts unknown keys; their upstream signature then uses the conventional "test".
    return state.get("accessKey", scope.accessKeyId)?.secret ?? "test";
  }

  private checkEndpointPolicy(
    request: AwsRequest & { body: Buffer },
    via: Via,
    scope: SigV4Scope,
    served: Served,
  ): void {
    if (via.policyDocument === undefined) return;
    const caller = callerFor(this.opts.state, this.opts.auth, scope.accessKeyId)!;
    const derived = deriveRequest({
      service: scope.service,
      family: familyOf(scope.service, served.service.protocol),
      method: request.method,
      url: request.url,
      headers: request.headers,
      body: request.body,
      region: scope.region,
      accountId: caller.accountId,
      bucket: bucketOf(request, served.service),
    });
    const ctx = { ...caller, region: scope.region, rt: this.opts.rt, via, service: scope.service };
    if (derived.action === undefined)
      throw new AwsError(
        "AccessDenied",
        `User: ${caller.principalArn} is not authorized to perform this request: privlink cannot name the action of a ${scope.service} request to evaluate the VPC endpoint policy`,
        403,
      );
    authorize(ctx, { action: derived.action, resource: derived.resource });
  }

  private async forward(
    request: AwsRequest & { body: Buffer },
    scope: SigV4Scope,
    secretAccessKey: string,
    service: AwsService | undefined,
  ): Promise<AwsResponse> {
    const upstream = this.upstreams.urlFor(scope.service);
    const named = service ? ` (${service.serviceName})` : "";
    if (upstream === undefined)
      throw notImplemented(scope.service, `${named} and no upstream is configured for it`);
    try {
      return await forwardToUpstream({
        upstream,
        request,
        scope,
        secretAccessKey,
        now: this.opts.rt.now(),
        timeoutMs: this.limits.upstreamTimeoutMs,
        maxResponseBytes: this.limits.maxBodyBytes * 10,
        bucket: scope.service === "s3" ? bucketOf(request, service) : undefined,
      });
    } catch (err) {
      throw new AwsError(
        "ServiceUnavailable",
        `privlink could not reach the upstream of '${scope.service}' at ${upstream}: ${(err as Error).message}`,
        503,
      );
    }
  }
}

/** The service an endpoint reaches, as the front serves it (a gateway endpoint's too: S3, DynamoDB). */
function serviceOf(endpoint: VpcEndpoint): AwsService | undefined {
  return awsServiceByName(endpoint.serviceName, { type: "Interface", region: endpoint.serviceRegion });
}

/**
 * The trusted context of a request through an endpoint. A gateway endpoint always has a policy
 * (its default is AWS's full-access 2008 document); an interface endpoint when its service
 * supports one.
 */
function viaOf(served: Served, clientIp: string): Via {
  const { endpoint, service } = served;
  const policy = endpoint.type === "Gateway" || service.vpcEndpointPolicySupported;
  return {
    vpceId: endpoint.id,
    vpcId: endpoint.vpcId,
    sourceIp: clientIp,
    endpointAccountId: endpoint.accountId,
    ...(policy && endpoint.policyDocument !== undefined ? { policyDocument: endpoint.policyDocument } : {}),
  };
}

function noLongerServed(res: ServerResponse, requestId: string): void {
  res.setHeader("connection", "close");
  const e = new AwsError("ServiceUnavailable", "This VPC endpoint no longer serves requests.", 503);
  writeOut(res, renderServiceError(e, "unknown", requestId, "json"));
}

const REGIONAL_AWS_NAME = /\.([a-z]{2}(?:-[a-z]+)+-\d+)\.(?:amazonaws\.com(?:\.cn)?|api\.aws)$/;

/** The service whose public regional name `host` is; global names (sts.amazonaws.com) have none but S3's. */
function publicServiceOf(host: string): AwsService | undefined {
  const name = host.replace(/\.$/, "").toLowerCase();
  const gateway = gatewayServiceOfName(name);
  if (gateway) return awsServiceByName(gateway.serviceName, { type: "Interface" });
  const region = REGIONAL_AWS_NAME.exec(name)?.[1];
  return region ? awsServiceByPrivateDnsName(name, region) : undefined;
}

function signedOf(request: AwsRequest & { body: Buffer }): IncomingSigned {
  return { method: request.method, url: request.url, headers: request.headersDistinct, body: request.body };
}

function asAwsError(err: unknown): AwsError {
  return err instanceof AwsError
    ? err
    : new AwsError("InternalFailure", `An internal error has occurred: ${(err as Error).message}`, 500);
}

/** The bucket of an S3 virtual-hosted request: the label a wildcard name of the service covers. */
function bucketOf(request: AwsRequest, service: AwsService | undefined): string | undefined {
  if (service?.signingName !== "s3") return undefined;
  const host = String(request.headers.host ?? "")
    .replace(/:\d+$/, "")
    .toLowerCase();
  const bases = service.baseEndpointDnsNames.map((b) => (b.startsWith("*.") ? b : `*.${b}`));
  for (const name of [...service.privateDnsNames, ...bases]) {
    if (!name.startsWith("*.")) continue;
    const suffix = name.slice(1);
    if (host.endsWith(suffix) && host.length > suffix.length) {
      const rest = host.slice(0, -suffix.length);
      // `bucket.vpce-….s3.<region>.vpce.amazonaws.com`: the bucket is what precedes the endpoint label.
      const label = rest.replace(/\.?vpce-[a-z0-9-]+$/, "");
      return label === "" || label.startsWith("vpce-") ? undefined : label;
    }
  }
  return undefined;
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners("data");
        req.pause();
        resolve(undefined);
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function writeOut(res: ServerResponse, out: AwsResponse): void {
  const body = typeof out.body === "string" ? Buffer.from(out.body) : out.body;
  res.writeHead(out.status, { ...out.headers, "content-length": body.byteLength });
  res.end(body);
}
