import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { eniHostAddress } from "../cloud/eni.js";
import type { State } from "../cloud/state.js";
import type { Decision } from "../flow/index.js";
import { stateIndex } from "../flow/index.js";
import type { DataPlane } from "./dataplane.js";
import { AWS_IDLE_TIMEOUT_MS, connectUpstream, relay } from "./relay.js";
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

/**
 * Per-workload HTTP proxies (CONNECT and plain-HTTP forwarding). Each resolves names in its
 * workload's VPC, asks flow/ whether the workload may reach the address, and either connects
 * from the workload's host address or answers 403 with the reason in the status line and body.
 */
export class WorkloadProxies {
  private readonly running = new Map<string, Promise<Running>>();

  constructor(
    private readonly state: State,
    private readonly dataplane: DataPlane,
    private readonly resolver: NameResolver,
  ) {}

  /** Starts (once) the proxy of an instance (i-…) or interface (eni-…). */
  async ensure(workloadId: string): Promise<WorkloadProxyInfo> {
    const { eniId, instanceId } = this.workload(workloadId);
    let r = this.running.get(eniId);
    if (!r) {
      r = this.start(workloadId, eniId, instanceId);
      this.running.set(eniId, r);
      r.catch(() => this.running.delete(eniId));
    }
    return (await r).info;
  }

  async close(): Promise<void> {
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

  private workload(id: string): { eniId: string; instanceId?: string } {
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
    throw new WorkloadError(
      `a workload is an instance (i-…) or a network interface (eni-…), not '${id}'`,
      400,
    );
  }

  private async start(workloadId: string, eniId: string, instanceId?: string): Promise<Running> {
    const eni = this.state.get("eni", eniId)!;
    const host = eniHostAddress(this.state, eni);
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
      vpcId: eni.vpcId,
      host,
      port,
      url: `http://${host}:${port}`,
    };
    return { info, server, sockets };
  }

  /** Resolves and decides; the first admitted address wins, else the first refusal explains. */
  private async admit(eniId: string, name: string, port: number): Promise<Decision> {
    const vpcId = this.state.get("eni", eniId)?.vpcId;
    const answers = await this.resolver.resolve(vpcId, name).catch(() => [] as readonly string[]);
    const candidates = answers.length ? answers : [OUTSIDE_ADDRESS];
    let first: Decision | undefined;
    for (const address of candidates) {
      const d = this.dataplane.decider.decide({
        source: { kind: "eni", eniId },
        destination: address,
        port,
        name,
      });
      if (d.allowed) return d;
      first ??= d;
    }
    this.refused(eniId, name, port, first!);
    return first!;
  }

  private refused(eniId: string, name: string, port: number, d: Decision): void {
    const dstEni = d.destination.eniId;
    const endpoint = dstEni ? stateIndex(this.state).endpointOfEni(dstEni) : undefined;
    this.dataplane.meter.dropped(eniId, undefined);
    if (endpoint) this.dataplane.meter.dropped(dstEni, endpoint.id);
    this.dataplane.events.record({
      at: "workload-proxy",
      source: d.source.privateIp ?? eniId,
      sourceEniId: eniId,
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
    const d = await this.admit(eniId, authority.name, authority.port);
    if (!d.allowed) return rawReply(socket, 403, d.reason);
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
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      const meter = this.dataplane.meter.open(eniId, undefined);
      const handle = relay(socket, () => upstream, {
        preamble: head.length ? head : undefined,
        idleTimeoutMs: AWS_IDLE_TIMEOUT_MS,
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
    const d = await this.admit(eniId, name, port);
    if (!d.allowed) return textReply(res, 403, d.reason);
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
    req.pipe(upstream);
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
