import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { SecureContext, TLSSocket } from "node:tls";
import { AWS_PUBLIC_ADDRESS } from "../cloud/addressing.js";
import { eniHostAddress } from "../cloud/eni.js";
import { AwsError } from "../cloud/errors.js";
import { siteHostAddress, siteWorkloadIp } from "../cloud/site.js";
import type { State } from "../cloud/state.js";
import type { Decision, FlowSource, HopKind } from "../flow/index.js";
import { stateIndex } from "../flow/index.js";
import { renderServiceError, serviceOfRequest } from "../front/render.js";
import { acceptServerTls, serverSecureContext } from "../front/server-tls.js";
import type { DataPlane } from "./dataplane.js";
import { admittedFlow, refusedFlow } from "./flow-tap.js";
import { connectUpstream, relay } from "./relay.js";
import { type NameResolver, OUTSIDE_ADDRESS } from "./resolver.js";

export interface WorkloadProxyInfo {
  workloadId: string;
  eniId: string;
  instanceId?: string;
  vpcId: string;
  /** The workload's host address: the proxy listens here and its connections leave from here. */
  host: string;
  port: number;
  url: string;
}

/** A workload could not be found or has no address; the admin route turns it into a 4xx. */
export class WorkloadError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

interface Running {
  info: WorkloadProxyInfo;
  server: Server;
  sockets: Set<Socket>;
}

/** What the proxy needs to speak TLS for AWS names it refuses or serves: privlink's CA (`LocalCa` fits). */
export interface LeafIssuer {
  leaf(names: string[], now: Date): Promise<{ certPem: string; keyPem: string }>;
}

export interface RefusalTls {
  readonly ca: LeafIssuer;
  readonly now: () => Date;
}

/**
 * Where the proxy hands a connection to a public AWS name once it has terminated TLS: the
 * service front's public mode (`ServiceFront.servePublic`), which serves it with no endpoint.
 */
export interface PublicFront {
  servePublic(
    socket: Socket,
    conn: { name: string; gateway?: { endpointId: string; clientIp: string } },
  ): void;
}

/**
 * The error codes a workload's AWS SDK or CLI receives when the proxy refuses its connection to
 * an AWS name on 443 (see {@link WorkloadProxies}): `PrivlinkNoRoute` when routing refused it
 * (no internet or NAT path, a blackhole, a missing peering or transit gateway route, a gateway
 * endpoint used from outside its VPC), and
 * `PrivlinkConnectionRefused` for every other hop (security groups, endpoint state, acceptance).
 * HTTP 403: neither botocore nor the SDK v3 retries it, so the refusal shows at once.
 */
export const NO_ROUTE_CODE = "PrivlinkNoRoute";
export const REFUSED_CODE = "PrivlinkConnectionRefused";
const REFUSAL_STATUS = 403;
const ROUTING_HOPS: ReadonlySet<HopKind> = new Set([
  "route",
  "nat-gateway",
  "internet-gateway",
  "peering",
  "transit-gateway",
  "vpn",
  "gateway-endpoint",
]);

/** A refused client gets this long to finish its handshake and send one request. */
const REFUSAL_TIMEOUT_MS = 10_000;
/** Any client of a TLS tunnel the proxy terminates must finish its handshake within this. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Request bodies beyond this are not read: the answer goes out and the connection closes. */
const REFUSAL_MAX_BODY = 1024 * 1024;

/** AWS's public names: only these get an AWS-shaped refusal; anything else keeps the plain 403. */
export function isAwsName(name: string): boolean {
  return /(^|\.)amazonaws\.com(\.cn)?$|(^|\.)api\.aws$/.test(name.replace(/\.$/, ""));
}

/**
 * Whether an admitted flow goes to "the public AWS endpoint": the address AWS names resolve to
 * outside a VPC with their endpoint, reached over the internet or a NAT gateway, on 443.
 */
export function isPublicAwsFlow(name: string, port: number, d: Decision): boolean {
  return (
    port === 443 &&
    d.target?.kind === "external" &&
    d.destination.host === AWS_PUBLIC_ADDRESS &&
    (isAwsName(name) || name === AWS_PUBLIC_ADDRESS)
  );
}

/** Whether an admitted flow goes through a gateway endpoint to AWS's service on 443 (S3, DynamoDB). */
export function isGatewayEndpointFlow(port: number, d: Decision): boolean {
  return port === 443 && d.target?.kind === "gateway-endpoint";
}

/** The NAT gateway an admitted flow leaves through, if any: its bytes are metered there too. */
export function natGatewayOf(d: Decision): string | undefined {
  return d.hops.find((h) => h.kind === "nat-gateway" && h.allowed)?.resource;
}

function isEndpointTarget(d: Decision): boolean {
  return d.target?.kind === "nlb" || d.target?.kind === "aws-service";
}

/** The AwsError a refused flow becomes: routing refusals say "no route", the rest "refused". */
export function refusalError(d: Decision): AwsError {
  const hop = d.hops.find((h) => !h.allowed);
  const code = hop && !ROUTING_HOPS.has(hop.kind) ? REFUSED_CODE : NO_ROUTE_CODE;
  return new AwsError(code, d.reason, REFUSAL_STATUS);
}

/**
 * Per-workload HTTP proxies (CONNECT and plain-HTTP forwarding). Each resolves names in its
 * workload's VPC, asks flow/ whether the workload may reach the address, and either connects
 * from the workload's host address or answers 403 with the reason in the status line and body.
 *
 * A 403 to CONNECT loses its reason in AWS clients (botocore prints only "Failed to connect to
 * proxy URL"), so a refused CONNECT to an AWS name on 443 is accepted instead: the proxy
 * terminates TLS with a leaf from privlink's CA for that name, reads the request and answers
 * an AWS error in the service's own protocol ({@link NO_ROUTE_CODE}, {@link REFUSED_CODE})
 * whose message is the refusal, then closes. Every refusal is recorded in the flow events.
 *
 * An admitted CONNECT to AWS's public endpoint (an AWS name resolving to AWS_PUBLIC_ADDRESS, over
 * an internet or NAT path, on 443) goes the same way into TLS, but the decrypted connection is
 * handed to the service front's public mode ({@link PublicFront}): AWS's public endpoint, served
 * by privlink itself, with keep-alive. Its bytes count on the workload's ENI and NAT gateway.
 * A flow a gateway endpoint admitted (S3 from a subnet with its prefix-list route) goes the same
 * way, and the front applies the gateway endpoint's policy and aws:SourceVpce.
 */
export class WorkloadProxies {
  private readonly running = new Map<string, Promise<Running>>();
  private readonly contexts = new Map<string, Promise<SecureContext>>();
  private readonly refusals = new WeakMap<Socket, { name: string; error: AwsError }>();
  private readonly refusalHttp: Server;
  private publicFront?: PublicFront;

  constructor(
    private readonly state: State,
    private readonly dataplane: DataPlane,
    private readonly resolver: NameResolver,
    private readonly tls?: RefusalTls,
  ) {
    this.refusalHttp = createServer(
      {
        keepAlive: false,
        headersTimeout: REFUSAL_TIMEOUT_MS,
        requestTimeout: REFUSAL_TIMEOUT_MS,
      },
      (req, res) => this.answerRefusal(req, res),
    );
    // node:http checks its timeouts only once "listening"; this server never listens.
    this.refusalHttp.emit("listening");
    this.refusalHttp.on("clientError", (_err, socket) => socket.destroy());
  }

  /**
   * Serves AWS's public endpoint through `front` (privlink.ts wires the service front). Without
   * one, or without a CA, such flows are relayed to AWS_PUBLIC_ADDRESS:443 like any other.
   */
  usePublicFront(front: PublicFront): void {
    this.publicFront = front;
  }

  /** Starts (once) the proxy of an instance (i-…) or interface (eni-…). */
  async ensure(workloadId: string): Promise<WorkloadProxyInfo> {
    const { eniId, instanceId } = this.identify(workloadId);
    let r = this.running.get(eniId);
    if (!r) {
      r = this.start(workloadId, eniId, instanceId);
      this.running.set(eniId, r);
      r.catch(() => this.running.delete(eniId));
    }
    return (await r).info;
  }

  /**
   * Serves a connection to a workload's proxy that did not come through its listener (the
   * in-process fuzzer's in-memory sockets): the same parsing, decisions and answers.
   */
  async accept(workloadId: string, socket: Socket): Promise<void> {
    await this.ensure(workloadId);
    (await this.running.get(this.identify(workloadId).eniId)!).server.emit("connection", socket);
  }

  async close(): Promise<void> {
    this.refusalHttp.close();
    this.refusalHttp.closeAllConnections();
    const all = await Promise.allSettled(this.running.values());
    this.running.clear();
    await Promise.all(
      all.map((p) =>
        p.status === "fulfilled"
          ? new Promise<void>((resolve) => {
              for (const s of p.value.sockets) s.destroy();
              p.value.server.close(() => resolve());
            })
          : undefined,
      ),
    );
  }

  /**
   * The workload's key is its ENI, or `site:NAME` (`site:NAME:IP` for another address of the
   * site) for an on-premises workload: it speaks from the site's host address and resolves
   * through the site's DNS server. Namespace mode's `exec` finds its instance the same way.
   */
  identify(id: string): { eniId: string; instanceId?: string } {
    if (id.startsWith("site:")) {
      const [, name, ip] = id.split(":");
      const site = name ? this.state.get("site", name) : undefined;
      if (!site) throw new WorkloadError(`no site named '${name ?? ""}' (privlink site list)`, 404);
      try {
        return { eniId: `site:${site.id}:${siteWorkloadIp(site, ip)}` };
      } catch (err) {
        throw new WorkloadError((err as Error).message, 400);
      }
    }
    if (id.startsWith("i-")) {
      const i = this.state.get("instance", id);
      if (!i) throw new WorkloadError(`no instance ${id}`, 404);
      if (i.state !== "running") throw new WorkloadError(`instance ${id} is ${i.state}`, 409);
      return { eniId: i.eniId, instanceId: i.id };
    }
    if (id.startsWith("eni-")) {
      if (!this.state.get("eni", id)) throw new WorkloadError(`no network interface ${id}`, 404);
      return { eniId: id, instanceId: this.state.get("eni", id)?.attachment?.instanceId };
    }
    return this.namedInstance(id);
  }

  /** `--from app`: the one running instance tagged Name=app, in any account. */
  private namedInstance(name: string): { eniId: string; instanceId?: string } {
    const running = [...this.state.all("instance")].filter(
      (i) => i.tags.Name === name && i.state === "running",
    );
    if (running.length === 1) return { eniId: running[0]!.eniId, instanceId: running[0]!.id };
    if (running.length > 1)
      throw new WorkloadError(
        `${running.length} running instances are named '${name}' (${running.map((i) => i.id).join(", ")}): give the instance ID`,
        409,
      );
    throw new WorkloadError(
      `a workload is an instance (i-…), a network interface (eni-…) or the Name tag of a running instance; nothing is named '${name}'`,
      404,
    );
  }

  /** A site workload's flows start from its host address, an interface's from the interface. */
  private sourceOf(key: string): { source: FlowSource; scope?: string; eniId?: string; host?: string } {
    if (!key.startsWith("site:"))
      return { source: { kind: "eni", eniId: key }, scope: this.state.get("eni", key)?.vpcId, eniId: key };
    const [, name, ip] = key.split(":");
    const site = this.state.get("site", name!);
    const host = site && siteHostAddress(site, ip!);
    return { source: { kind: "outside", address: host ?? "0.0.0.0" }, scope: `site:${name}`, host };
  }

  private async start(workloadId: string, eniId: string, instanceId?: string): Promise<Running> {
    const eni = this.state.get("eni", eniId);
    const host = eni ? eniHostAddress(this.state, eni) : this.sourceOf(eniId).host;
    if (!host) throw new WorkloadError(`${eniId} has no host address`, 409);
    const sockets = new Set<Socket>();
    const server = createServer({ keepAlive: false });
    server.on("connection", (s: Socket) => {
      sockets.add(s);
      s.once("close", () => sockets.delete(s));
    });
    server.on(
      "connect",
      (req: IncomingMessage, socket: Socket, head: Buffer) =>
        void this.onConnect(eniId, host, req, socket, head),
    );
    server.on(
      "request",
      (req: IncomingMessage, res: ServerResponse) => void this.onRequest(eniId, host, req, res),
    );
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, host, () => resolve());
    });
    const port = (server.address() as { port: number }).port;
    const info = {
      workloadId,
      eniId,
      instanceId,
      vpcId: eni?.vpcId ?? this.sourceOf(eniId).scope!,
      host,
      port,
      url: `http://${host}:${port}`,
    };
    return { info, server, sockets };
  }

  /** Resolves and decides; the first admitted address wins, else the first refusal explains. */
  private async admit(eniId: string, name: string, port: number, srcPort = 0): Promise<Decision> {
    const { source, scope } = this.sourceOf(eniId);
    const answers = await this.resolver.resolve(scope, name).catch(() => [] as readonly string[]);
    const candidates = answers.length ? answers : [OUTSIDE_ADDRESS];
    let first: Decision | undefined;
    for (const address of candidates) {
      const d = this.dataplane.decider.decide({
        source,
        destination: address,
        port,
        name,
      });
      if (d.allowed) return d;
      first ??= d;
    }
    this.refused(eniId, name, port, first!, srcPort);
    return first!;
  }

  private refused(eniId: string, name: string, port: number, d: Decision, srcPort: number): void {
    const dstEni = d.destination.eniId;
    const endpoint = dstEni ? stateIndex(this.state).endpointOfEni(dstEni) : undefined;
    const sourceEniId = this.sourceOf(eniId).eniId;
    this.dataplane.flows.dropped(sourceEniId, undefined, refusedFlow(d, srcPort, port, sourceEniId ?? eniId));
    if (endpoint) this.dataplane.flows.dropped(dstEni, endpoint.id);
    this.dataplane.events.record({
      at: "workload-proxy",
      source: d.source.privateIp ?? eniId,
      sourceEniId,
      destination: d.destination.privateIp ?? d.destination.host,
      port,
      name,
      vpcEndpointId: endpoint?.id,
      networkInterfaceId: dstEni,
      reason: d.reason,
    });
  }

  /** Where to dial an admitted flow: endpoint listeners may sit on a mapped port. */
  private dialPort(d: Decision, port: number): number {
    const t = d.target;
    return t && (t.kind === "nlb" || t.kind === "aws-service")
      ? this.dataplane.boundPort(d.destination.host, port)
      : port;
  }

  private async onConnect(
    eniId: string,
    host: string,
    req: IncomingMessage,
    socket: Socket,
    head: Buffer,
  ): Promise<void> {
    socket.on("error", () => undefined);
    const authority = parseAuthority(req.url ?? "");
    if (!authority) return rawReply(socket, 400, "CONNECT needs host:port");
    const d = await this.admit(eniId, authority.name, authority.port, socket.remotePort);
    if (!d.allowed) {
      // Bytes sent before our 200 (head) would be lost under a TLS socket that takes over the
      // connection's handle; real clients wait for the 200, the others get the plain 403.
      if (this.tls && authority.port === 443 && isAwsName(authority.name) && head.length === 0)
        return this.refuseInTls(socket, authority.name, refusalError(d));
      return rawReply(socket, 403, d.reason);
    }
    if (
      this.tls &&
      this.publicFront &&
      head.length === 0 &&
      (isPublicAwsFlow(authority.name, authority.port, d) || isGatewayEndpointFlow(authority.port, d))
    )
      return this.servePublic(eniId, socket, authority.name, d, this.publicFront);
    // The client may have gone while the flow was decided: nothing would end an upstream dialed now.
    if (socket.destroyed) return;
    const upstream = connectUpstream({
      host: d.destination.host,
      port: this.dialPort(d, authority.port),
      localAddress: host,
    });
    const failed = (err: Error) =>
      rawReply(socket, 502, `cannot connect to ${authority.name}:${authority.port}: ${err.message}`);
    upstream.once("error", failed);
    upstream.once("connect", () => {
      upstream.off("error", failed);
      // Gone while the upstream connected: relay() would not take an upstream for a closed client.
      if (socket.destroyed) return void upstream.destroy();
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      // Flows into an endpoint are logged where the endpoint's listener admits them.
      const flow = isEndpointTarget(d)
        ? undefined
        : admittedFlow(d, upstream.localPort ?? 0, authority.port, host);
      const meter = this.dataplane.flows.open(this.sourceOf(eniId).eniId, undefined, natGatewayOf(d), flow);
      const handle = relay(socket, () => upstream, {
        preamble: head.length ? head : undefined,
        idle: this.dataplane.idle,
        meter,
      });
      meter.track(handle);
    });
  }

  private async onRequest(
    eniId: string,
    host: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? "");
    } catch {
      return textReply(res, 400, "a proxy request needs an absolute http:// URL");
    }
    if (url.protocol !== "http:")
      return textReply(res, 400, `only http:// is forwarded; use CONNECT for ${url.protocol}`);
    const port = Number(url.port || 80);
    const name = url.hostname.replace(/^\[|\]$/g, "");
    const d = await this.admit(eniId, name, port, req.socket.remotePort);
    if (!d.allowed) return textReply(res, 403, d.reason);
    // The client may have gone while the flow was decided (node:http aborts the request on its
    // FIN): an upstream request made now would stay open, since nothing ever ends it.
    if (res.destroyed || req.socket.destroyed) return;
    const headers = { ...req.headers };
    delete headers["proxy-connection"];
    delete headers["proxy-authorization"];
    const upstream = request({
      host: d.destination.host,
      port: this.dialPort(d, port),
      localAddress: host,
      method: req.method,
      path: `${url.pathname}${url.search}`,
      headers,
      agent: false,
    });
    upstream.on("response", (up) => {
      res.writeHead(up.statusCode ?? 502, up.statusMessage, up.headers);
      up.pipe(res);
    });
    upstream.on("error", (err) => {
      if (!res.headersSent) textReply(res, 502, `cannot reach ${name}:${port}: ${err.message}`);
      else res.destroy();
    });
    // A client that leaves before its whole answer takes the upstream request with it.
    res.once("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  /**
   * Accepts the tunnel and speaks TLS as `name` with a leaf from privlink's CA; `secure` gets the
   * decrypted socket after the handshake. False (nothing written) when no leaf could be had.
   */
  private async acceptTls(socket: Socket, name: string, secure: (tls: TLSSocket) => void): Promise<boolean> {
    let secureContext: SecureContext;
    try {
      secureContext = await this.contextFor(name);
    } catch {
      return false;
    }
    if (socket.destroyed) return true;
    const preface = "HTTP/1.1 200 Connection Established\r\n\r\n";
    acceptServerTls(socket, { secureContext, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS, preface }, secure);
    return true;
  }

  /** Accepts the tunnel, then speaks TLS as `name` so the AWS client can read why it is refused. */
  private async refuseInTls(socket: Socket, name: string, error: AwsError): Promise<void> {
    const accepted = await this.acceptTls(socket, name, (tls) => {
      this.refusals.set(tls, { name, error });
      const deadline = setTimeout(() => tls.destroy(), REFUSAL_TIMEOUT_MS);
      tls.once("close", () => clearTimeout(deadline));
      this.refusalHttp.emit("connection", tls);
    });
    if (!accepted) rawReply(socket, 403, error.message);
  }

  /**
   * AWS's public endpoint: TLS as `name`, then the service front's public mode. The tunnel's
   * bytes (after the CONNECT exchange) count on the workload's ENI and its NAT gateway.
   */
  private async servePublic(
    eniId: string,
    socket: Socket,
    name: string,
    d: Decision,
    front: PublicFront,
  ): Promise<void> {
    const t = d.target;
    const gateway =
      t?.kind === "gateway-endpoint"
        ? { endpointId: t.endpointId, clientIp: d.source.privateIp ?? "" }
        : undefined;
    const accepted = await this.acceptTls(socket, name, (tls) => front.servePublic(tls, { name, gateway }));
    if (!accepted) return rawReply(socket, 502, `privlink has no certificate for ${name}`);
    if (socket.destroyed) return;
    const meter = this.dataplane.flows.open(
      this.sourceOf(eniId).eniId,
      undefined,
      natGatewayOf(d),
      admittedFlow(d, socket.remotePort ?? 0, 443, eniId),
    );
    const counted = { read: socket.bytesRead, written: socket.bytesWritten };
    const reporter = {
      report: () => {
        meter.bytesIn(socket.bytesRead - counted.read);
        meter.bytesOut(socket.bytesWritten - counted.written);
        counted.read = socket.bytesRead;
        counted.written = socket.bytesWritten;
      },
    };
    meter.track(reporter);
    socket.once("close", (hadError) => {
      reporter.report();
      meter.closed(hadError ? "reset" : "fin");
    });
  }

  private contextFor(name: string): Promise<SecureContext> {
    let ctx = this.contexts.get(name);
    if (!ctx) {
      const { ca, now } = this.tls!;
      ctx = ca.leaf([name], now()).then(serverSecureContext);
      ctx.catch(() => this.contexts.delete(name));
      if (this.contexts.size >= 256) this.contexts.clear();
      this.contexts.set(name, ctx);
    }
    return ctx;
  }

  /** One request, one AWS-shaped refusal in the service's protocol, then the connection closes. */
  private answerRefusal(req: IncomingMessage, res: ServerResponse): void {
    const refusal = this.refusals.get(req.socket);
    if (!refusal) {
      res.destroy();
      return;
    }
    let size = 0;
    let answered = false;
    const answer = () => {
      if (answered) return;
      answered = true;
      // The scope sits in the headers (or the query of a presigned URL): the body is not needed.
      const { service, protocol } = serviceOfRequest(refusal.name, {
        method: req.method ?? "GET",
        url: req.url ?? "/",
        headers: req.headersDistinct,
        body: Buffer.alloc(0),
      });
      const out = renderServiceError(refusal.error, service, randomUUID(), protocol);
      const body = typeof out.body === "string" ? Buffer.from(out.body) : out.body;
      res.shouldKeepAlive = false;
      res.writeHead(out.status, { ...out.headers, "content-length": body.byteLength, connection: "close" });
      res.end(body);
    };
    // The body is read (and dropped) first, so a client still sending it is not reset mid-way.
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > REFUSAL_MAX_BODY) answer();
    });
    req.once("end", answer);
    req.once("error", () => res.destroy());
  }
}

export function parseAuthority(text: string): { name: string; port: number } | undefined {
  const m = /^\[?([^\]\s]+?)\]?:(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65535) return undefined;
  return { name: m[1]!.toLowerCase(), port };
}

/** The reason goes in the status line too, so `curl -v` and plain clients both show it. */
function statusLine(reason: string): string {
  return reason.replace(/[^\x20-\x7e]/g, "?");
}

function rawReply(socket: Socket, status: number, reason: string): void {
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${statusLine(reason)}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function textReply(res: ServerResponse, status: number, reason: string): void {
  const body = `${reason}\n`;
  res.writeHead(status, statusLine(reason), {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}
