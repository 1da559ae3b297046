/**
 * A DNS server on one address: UDP and TCP on the same port, answering from a view the caller
 * supplies per query (so a state change is one View swap). Socket work only; the DNS logic is
 * in responder.ts.
 */
import dgram from "node:dgram";
import dns from "node:dns";
import net from "node:net";
import { type DnsStats, Responder } from "./responder.js";
import { type BatchStats, batchAddon, socketFd, UdpBatch, warnOnce } from "./udp-batch.js";
import type { View } from "./view.js";

export type DnsServerOptions = {
  host: string;
  /** 0 picks a port free for both UDP and TCP. */
  port: number;
  view: () => View | Promise<View>;
  udp?: boolean;
  tcp?: boolean;
  /** A TCP connection with no query for this long is closed (default 10 s, like unbound's tcp-idle-timeout). */
  tcpIdleMs?: number;
  /** Connections beyond this are closed at once (default 256). */
  maxTcpConnections?: number;
  maxUdpPayload?: number;
  cacheSize?: number;
  /**
   * Whether a client address may query this server at all (a Resolver inbound endpoint's
   * security groups, routes and VPN). A refused client gets no answer, as a dropped packet.
   */
  admit?: (address: string) => boolean;
  /**
   * Sockets already bound elsewhere (namespace mode binds them inside a VPC's network namespace):
   * served as they are, `host` and `port` only name them.
   */
  bound?: { udp: dgram.Socket; tcp: net.Server };
  /** Applied to every response before it is sent (namespace mode writes real private IPs). */
  rewrite?: (response: Buffer) => Buffer;
};

export type DnsServerStats = DnsStats &
  BatchStats & { tcpConnections: number; tcpOpen: number; tcpRejected: number };

export type DnsServer = {
  host: string;
  port: number;
  close(): Promise<void>;
  stats(): DnsServerStats;
};

const BIND_ATTEMPTS = 32;
const NO_BATCHES: BatchStats = { udpBatches: 0, udpBatched: 0, udpSendDropped: 0 };

export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const useUdp = opts.udp ?? true;
  const useTcp = opts.tcp ?? true;
  if (!useUdp && !useTcp) throw new Error("startDnsServer: enable udp, tcp or both");
  const inner = new Responder({
    view: opts.view,
    maxUdpPayload: opts.maxUdpPayload,
    cacheSize: opts.cacheSize,
  });
  const responder = opts.rewrite ? rewriting(inner, opts.rewrite) : inner;
  const tcp = useTcp
    ? new TcpSide(responder, opts.tcpIdleMs ?? 10_000, opts.maxTcpConnections ?? 256, opts.admit)
    : undefined;
  const udp = useUdp ? new UdpSide(responder, opts.host, opts.admit) : undefined;
  const port = opts.bound
    ? await adoptBoth(opts.port, opts.bound, tcp, udp)
    : await bindBoth(opts.host, opts.port, tcp, udp);
  return {
    host: opts.host,
    port,
    stats: () => ({
      ...inner.stats(),
      ...(udp?.stats() ?? NO_BATCHES),
      ...(tcp?.stats() ?? { tcpConnections: 0, tcpOpen: 0, tcpRejected: 0 }),
    }),
    close: async () => {
      await Promise.all([tcp?.close(), udp?.close()]);
    },
  };
}

type Answering = Pick<Responder, "handle">;

function rewriting(r: Responder, rewrite: (b: Buffer) => Buffer): Answering {
  const safe = (b: Buffer | undefined) => {
    if (!b) return b;
    try {
      return rewrite(b);
    } catch {
      return b;
    }
  };
  return {
    handle(msg, transport, reuse, len) {
      const out = r.handle(msg, transport, reuse, len);
      return out instanceof Promise ? out.then(safe) : safe(out);
    },
  };
}

async function adoptBoth(
  port: number,
  bound: { udp: dgram.Socket; tcp: net.Server },
  tcp?: TcpSide,
  udp?: UdpSide,
): Promise<number> {
  if (udp) {
    udp.adopt(bound.udp);
    udp.batch();
  } else bound.udp.close();
  if (tcp) await tcp.listen(bound.tcp, port);
  else bound.tcp.close();
  return port;
}

/** TCP first (port 0 → a free port), then UDP on the same number; retry when UDP's is taken. */
async function bindBoth(host: string, port: number, tcp?: TcpSide, udp?: UdpSide): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    let chosen = port;
    try {
      if (tcp) chosen = await tcp.listen(host, port);
    } catch (e) {
      await udp?.close();
      throw e;
    }
    if (!udp) return chosen;
    try {
      return await udp.bind(host, chosen);
    } catch (e) {
      await tcp?.close();
      const retry =
        port === 0 && (e as NodeJS.ErrnoException).code === "EADDRINUSE" && attempt < BIND_ATTEMPTS;
      if (!retry) {
        await udp.close();
        throw e;
      }
      udp.reset();
      tcp?.reset();
    }
  }
}

/**
 * UDP: a dgram socket binds (or comes bound); once bound, the dns_udp addon serves a duplicate
 * of its descriptor in batches and the dgram socket closes (udp-batch.ts). Without the addon the
 * dgram socket answers one datagram at a time.
 */
class UdpSide {
  private sock?: dgram.Socket;
  private batched?: UdpBatch;

  constructor(
    private readonly responder: Answering,
    private readonly host: string,
    private readonly admit?: (address: string) => boolean,
  ) {
    this.reset();
  }

  reset(): void {
    this.adopt(dgram.createSocket({ type: net.isIPv6(this.host) ? "udp6" : "udp4", lookup: literalLookup }));
  }

  /** Serves `sock` (bound or not) instead of the current socket. */
  adopt(sock: dgram.Socket): void {
    if (this.sock) void this.close();
    // A send to a vanished client (ICMP unreachable) surfaces here: never fatal for a server.
    sock.on("error", () => {});
    sock.on("message", (msg, rinfo) => this.onMessage(sock, msg, rinfo));
    this.sock = sock;
  }

  bind(host: string, port: number): Promise<number> {
    const sock = this.sock!;
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      sock.once("error", onError);
      sock.bind({ address: host, port, exclusive: true }, () => {
        sock.off("error", onError);
        const bound = sock.address().port;
        this.batch();
        resolve(bound);
      });
    });
  }

  /** Hands the bound socket to the addon, when there is one; the dgram socket stays otherwise. */
  batch(): void {
    const sock = this.sock;
    const addon = batchAddon();
    if (!sock || !addon || this.batched) return;
    const fd = socketFd(sock);
    if (fd === undefined) {
      warnOnce("this Node does not show a dgram socket's descriptor");
      return;
    }
    try {
      this.batched = new UdpBatch(
        addon,
        fd,
        (msg, len) => this.responder.handle(msg, "udp", true, len),
        this.admit,
      );
    } catch (e) {
      warnOnce((e as Error).message);
      return;
    }
    // The duplicate serves from here on. A datagram the dgram socket read before this line was
    // answered by it; one that arrives now waits in the kernel for the addon's first read.
    sock.removeAllListeners("message");
    sock.close();
  }

  stats(): BatchStats {
    return this.batched?.stats() ?? NO_BATCHES;
  }

  private onMessage(sock: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.admit && !this.admit(rinfo.address)) return;
    // An empty send queue means every earlier datagram has left (the kernel has its bytes; a
    // send still waiting on its address lookup runs before the next message is read), so a
    // prepared answer may be patched in its own bytes. TCP copies into its frame anyway.
    const r = this.responder.handle(msg, "udp", sock.getSendQueueCount() === 0);
    if (r instanceof Promise)
      r.then(
        (buf) => udpSend(sock, buf, rinfo),
        () => {},
      );
    else udpSend(sock, r, rinfo);
  }

  close(): Promise<void> {
    this.batched?.close();
    this.batched = undefined;
    const sock = this.sock;
    return new Promise((resolve) => {
      try {
        if (!sock) return resolve();
        sock.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
  }
}

/**
 * The socket's address lookup: every reply goes to the address a datagram came from (an IP
 * literal), and Node's default lookup answers a literal only a tick later, through dns.lookup's
 * checks and a `process.nextTick` per datagram — about a sixth of a small answer's CPU. A
 * literal is answered at once; anything else (a host name given to bind) takes dns.lookup.
 */
export function literalLookup(
  address: string,
  // Node's dgram passes the socket's family (4 or 6); the typings say lookup options.
  family: dns.LookupOneOptions | number,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const ip = net.isIP(address);
  if (ip !== 0) callback(null, address, ip);
  else dns.lookup(address, typeof family === "number" ? { family } : family, callback);
}

/**
 * No callback: a send error (a vanished client) reaches the socket's "error" listener, and Node
 * skips the completion it would otherwise schedule for every datagram.
 */
function udpSend(sock: dgram.Socket, buf: Buffer | undefined, rinfo: dgram.RemoteInfo): void {
  if (!buf) return;
  try {
    sock.send(buf, rinfo.port, rinfo.address);
  } catch {
    // The socket closed while an asynchronous answer was being prepared.
  }
}

class TcpSide {
  private server!: net.Server;
  private readonly conns = new Set<net.Socket>();
  private counters = { tcpConnections: 0, tcpRejected: 0 };

  constructor(
    private readonly responder: Answering,
    private readonly idleMs: number,
    private readonly maxConns: number,
    private readonly admit?: (address: string) => boolean,
  ) {
    this.reset();
  }

  reset(): void {
    // allowHalfOpen: a client may send its query and FIN at once; the answer must still go out.
    this.server = net.createServer({ allowHalfOpen: true }, (s) => {
      if (this.admit && !this.admit(s.remoteAddress ?? "")) s.destroy();
      else this.onConnection(s);
    });
    this.server.on("error", () => {});
  }

  /** Listens at host:port, or takes over a listening server's socket. */
  listen(at: string | net.Server, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.server.once("error", onError);
      const target = typeof at === "string" ? { host: at, port, exclusive: true } : at;
      this.server.listen(target, () => {
        this.server.off("error", onError);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  stats() {
    return { ...this.counters, tcpOpen: this.conns.size };
  }

  private onConnection(sock: net.Socket): void {
    if (this.conns.size >= this.maxConns) {
      this.counters.tcpRejected++;
      sock.destroy();
      return;
    }
    this.counters.tcpConnections++;
    this.conns.add(sock);
    new TcpConnection(sock, this.responder, this.idleMs);
    sock.on("close", () => this.conns.delete(sock));
  }

  close(): Promise<void> {
    for (const s of this.conns) s.destroy();
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
  }
}

/**
 * RFC 1035 §4.2.2 / RFC 7766 framing: 2-byte length, any number of queries on one connection
 * (pipelined), each answered as soon as it is ready — out of order when a later one is answered
 * from prepared bytes while an earlier one waits on a forwarder; the client matches by ID.
 * The answers to the queries of one segment leave together (cork). Exported for
 * `npm run fuzz -- dns --in-process`, which hands it in-memory sockets.
 */
export class TcpConnection {
  private buffered: Buffer = Buffer.alloc(0);
  private pending = 0;
  private clientDone = false;

  constructor(
    private readonly sock: net.Socket,
    private readonly responder: Answering,
    idleMs: number,
  ) {
    sock.setNoDelay(true);
    sock.setTimeout(idleMs, () => sock.destroy());
    sock.on("error", () => sock.destroy());
    sock.on("data", (chunk: Buffer) => this.onData(chunk));
    sock.on("end", () => {
      this.clientDone = true;
      this.maybeEnd();
    });
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    this.sock.cork();
    try {
      // Each pass removes one whole message, so the loop ends; a partial message waits for more data.
      while (this.buffered.length >= 2 && !this.sock.destroyed) {
        const len = this.buffered.readUInt16BE(0);
        if (this.buffered.length < 2 + len) return;
        const msg = this.buffered.subarray(2, 2 + len);
        this.buffered = this.buffered.subarray(2 + len);
        this.onMessage(msg);
      }
    } finally {
      this.sock.uncork();
    }
  }

  private onMessage(msg: Buffer): void {
    const r = this.responder.handle(Buffer.from(msg), "tcp");
    if (r instanceof Promise) {
      this.pending++;
      r.then(
        (buf) => this.write(buf),
        () => this.write(undefined),
      ).finally(() => {
        this.pending--;
        this.maybeEnd();
      });
    } else {
      this.write(r);
    }
  }

  private write(buf: Buffer | undefined): void {
    if (this.sock.destroyed) return;
    // No reply means not even a DNS header: the peer does not speak DNS, so hang up as BIND does.
    if (!buf) {
      this.sock.destroy();
      return;
    }
    const framed = Buffer.allocUnsafe(2 + buf.length);
    framed.writeUInt16BE(buf.length, 0);
    buf.copy(framed, 2);
    this.sock.write(framed);
  }

  private maybeEnd(): void {
    if (this.clientDone && this.pending === 0 && !this.sock.destroyed) this.sock.end();
  }
}
