import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { connect, createServer, type Server, type Socket } from "node:net";
import { refuse } from "../net/listener.js";
import { AWS_IDLE_TIMEOUT_MS, adoptAccepted, connectUpstream, type RelayMeter, relay } from "../net/relay.js";

/**
 * The agent-to-agent tunnel: a workload's connection accepted on one agent, for an endpoint
 * whose VPC another agent serves, is carried to that agent over one TCP connection per flow.
 * The connection opens with a header naming the flow (endpoint address, original source) and
 * an HMAC-SHA256 over it keyed with the receiving agent's key from the store; the bytes that
 * follow are the workload's, unchanged. The receiver applies the one flow decision as if the
 * workload had connected to it.
 *
 * Header: "PLT1", u16 length of the JSON, the JSON ({@link CarriedFlow}), 32 bytes of MAC.
 * Every header carries a random nonce, and the receiver remembers the MACs it accepted for as
 * long as their timestamp is within {@link TUNNEL_SKEW_MS} ({@link ReplayGuard}): a recorded
 * header replayed to the same agent is refused as "replayed", and once it is older than that the
 * age check refuses it, so a header is accepted at most once.
 */
const MAGIC = Buffer.from("PLT1");
const MAC_BYTES = 32;
/** Longest JSON accepted: a header is a few hundred bytes; anything longer is not one of ours. */
const MAX_JSON = 2048;
/** A header older or newer than this (receiver's clock) is refused: replays stay short-lived. */
export const TUNNEL_SKEW_MS = 30_000;
/** Time a tunnel connection gets to send its whole header. */
const HEADER_DEADLINE_MS = 5_000;

/** One carried flow, as the header states it. */
export interface CarriedFlow extends HeaderCommon {
  /** The endpoint address the workload dialled (host address) and the port it asked for. */
  host: string;
  port: number;
  /** The workload's address and port as the sending agent accepted them. */
  source: string;
  sourcePort: number;
}

/** What every header states, flow or request. */
interface HeaderCommon {
  /** Sender's name (an agent's, or `api` for an API node's request) and the receiving agent's. */
  from: string;
  to: string;
  /** Sender's clock (ms): bounds replays together with {@link TUNNEL_SKEW_MS}. */
  at: number;
  /**
   * Random per header (hex): two flows whose other fields coincide (same source port within the
   * same millisecond) still have different MACs, so refusing a MAC seen before refuses replays only.
   */
  nonce: string;
}

/**
 * A request to the receiving agent instead of a flow: an API node asks the agent serving a
 * workload's VPC to start that workload's proxy on its host (`privlink exec`, `connect`). The
 * agent answers one JSON line ({@link TunnelAnswer}) and closes. Same header, MAC and replay
 * rules as a flow: whoever holds the store's keys may ask, as they may carry flows.
 */
export interface TunnelRequest extends HeaderCommon {
  op: "workload-proxy";
  workload: string;
}

/** An agent's answer to a {@link TunnelRequest}: an admin route's status and body. */
export type TunnelAnswer =
  | { status: 200; body: unknown }
  | { status: number; error: string; message: string };

export type TunnelHeader = CarriedFlow | TunnelRequest;

/** A fresh nonce for {@link CarriedFlow.nonce}: 96 random bits. */
export const tunnelNonce = (): string => randomBytes(12).toString("hex");

export function encodeTunnelHeader(flow: TunnelHeader, key: string): Buffer {
  const json = Buffer.from(JSON.stringify(flow));
  const len = Buffer.alloc(2);
  len.writeUInt16BE(json.length);
  const signed = Buffer.concat([MAGIC, len, json]);
  return Buffer.concat([signed, mac(key, signed)]);
}

export type HeaderRead =
  | { kind: "more" }
  | { kind: "bad"; reason: string }
  | { kind: "flow"; flow: CarriedFlow; mac: Buffer; rest: Buffer }
  | { kind: "request"; request: TunnelRequest; mac: Buffer };

/** Reads a header from the bytes received so far, checking its MAC with `key`, `to` and its age. */
export function decodeTunnelHeader(buf: Buffer, me: { name: string; key: string }, now: number): HeaderRead {
  if (buf.length < MAGIC.length + 2)
    return MAGIC.subarray(0, buf.length).equals(buf.subarray(0, MAGIC.length))
      ? { kind: "more" }
      : { kind: "bad", reason: "not a privlink tunnel" };
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) return { kind: "bad", reason: "not a privlink tunnel" };
  const len = buf.readUInt16BE(MAGIC.length);
  if (len > MAX_JSON) return { kind: "bad", reason: "header too long" };
  const end = MAGIC.length + 2 + len;
  if (buf.length < end + MAC_BYTES) return { kind: "more" };
  const signed = buf.subarray(0, end);
  if (!timingSafeEqual(mac(me.key, signed), buf.subarray(end, end + MAC_BYTES)))
    return { kind: "bad", reason: "bad MAC (not signed with this agent's key)" };
  let flow: TunnelHeader;
  try {
    flow = JSON.parse(signed.subarray(MAGIC.length + 2).toString()) as TunnelHeader;
  } catch {
    return { kind: "bad", reason: "unreadable header" };
  }
  if (flow.to !== me.name) return { kind: "bad", reason: `meant for agent ${flow.to}` };
  if (!(Math.abs(now - flow.at) <= TUNNEL_SKEW_MS))
    return { kind: "bad", reason: "header too old or too new" };
  if (typeof flow.nonce !== "string" || flow.nonce.length < 16) return { kind: "bad", reason: "no nonce" };
  const tag = Buffer.from(buf.subarray(end, end + MAC_BYTES));
  if ("op" in flow) return { kind: "request", request: flow, mac: tag };
  return { kind: "flow", flow, mac: tag, rest: Buffer.from(buf.subarray(end + MAC_BYTES)) };
}

/**
 * The MACs of the headers an agent accepted, each kept until its timestamp leaves the skew
 * window (after that the age check refuses the header anyway). Memory is bounded by the flows
 * accepted within one window (one entry of ~100 bytes per flow).
 */
export class ReplayGuard {
  /** MAC (base64) → the receiver time after which the age check refuses the header. */
  private readonly seen = new Map<string, number>();

  /** Whether `mac` is new; it is remembered from now on. False for a replay. */
  admit(mac: Buffer, at: number, now: number): boolean {
    this.prune(now);
    const k = mac.toString("base64");
    if (this.seen.has(k)) return false;
    this.seen.set(k, at + TUNNEL_SKEW_MS);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  /**
   * Forgets entries past their window, from the oldest: headers arrive nearly in timestamp
   * order (senders' clocks differ by less than the skew), so this stops at the first live one
   * and costs O(1) per header amortised; an out-of-order entry waits for the next sweep.
   */
  private prune(now: number): void {
    for (const [k, until] of this.seen) {
      if (until >= now) return;
      this.seen.delete(k);
    }
  }
}

function mac(key: string, data: Buffer): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

/** What a tunnel endpoint counts: flows carried each way, refused headers, failed dials. */
export interface TunnelCounters {
  sent: number;
  received: number;
  refused: number;
  bytesSent: number;
  bytesReceived: number;
}

export interface TunnelServerOptions {
  me: () => { name: string; key: string };
  now?: () => number;
  /** An authenticated flow: admit `socket` (its pending bytes put back) as from `flow.source`. */
  onFlow(flow: CarriedFlow, socket: Socket): void;
  /** An authenticated request (no other bytes follow it): what to answer. Without it, refused. */
  onRequest?(request: TunnelRequest): Promise<TunnelAnswer>;
  onRefused?(reason: string, remote: string): void;
  counters: TunnelCounters;
}

/** Accepts tunnel connections; each is handed on once its header checks out, else reset. */
export function createTunnelServer(opts: TunnelServerOptions): Server {
  const now = opts.now ?? Date.now;
  const guard = new ReplayGuard();
  return createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    let buf: Buffer = Buffer.alloc(0);
    const deadline = setTimeout(() => fail("no header in time"), HEADER_DEADLINE_MS);
    const fail = (reason: string) => {
      clearTimeout(deadline);
      socket.removeListener("data", onData);
      socket.removeListener("end", onEnd);
      opts.counters.refused++;
      opts.onRefused?.(reason, `${socket.remoteAddress}:${socket.remotePort}`);
      refuse(socket);
    };
    const onData = (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const read = decodeTunnelHeader(buf, opts.me(), now());
      if (read.kind === "more") return;
      if (read.kind === "bad") return fail(read.reason);
      const at = read.kind === "flow" ? read.flow.at : read.request.at;
      if (!guard.admit(read.mac, at, now())) return fail("replayed header (seen before)");
      if (read.kind === "request" && !opts.onRequest) return fail("requests are not served here");
      clearTimeout(deadline);
      socket.removeListener("data", onData);
      socket.removeListener("end", onEnd);
      if (read.kind === "request") return answer(socket, opts.onRequest!(read.request));
      socket.pause();
      if (read.rest.length > 0) socket.unshift(read.rest);
      opts.counters.received++;
      opts.onFlow(read.flow, socket);
    };
    // A spare connection another agent dialled ahead and closed unused (TunnelDialer) ends
    // before a single byte: closed quietly, not refused. A header cut short is refused.
    const onEnd = () => {
      if (buf.length > 0) return fail("ended before its header");
      clearTimeout(deadline);
      socket.removeListener("data", onData);
      socket.destroy();
    };
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("error", () => clearTimeout(deadline));
  });
}

/** Writes a request's answer as one JSON line, then closes; an exception becomes a 500 answer. */
function answer(socket: Socket, reply: Promise<TunnelAnswer>): void {
  reply
    .catch((err: Error): TunnelAnswer => ({ status: 500, error: "InternalError", message: err.message }))
    .then((a) => socket.end(`${JSON.stringify(a)}\n`));
}

/** Time an API node waits for an agent's answer to a {@link TunnelRequest}. */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Sends `request` to the agent at `to.address`, signed with its key, and resolves with its
 * answer. Rejects when the agent cannot be reached, resets the connection (a bad or replayed
 * header) or does not answer in time.
 */
export function askAgent(
  to: { name: string; address: string; key: string },
  request: Omit<TunnelRequest, "to" | "at" | "nonce">,
  now: () => number = Date.now,
): Promise<TunnelAnswer> {
  const [host, port] = splitAddress(to.address);
  const header = encodeTunnelHeader({ ...request, to: to.name, at: now(), nonce: tunnelNonce() }, to.key);
  return new Promise((resolve, reject) => {
    // Half-open: the header ends our side, the answer follows on theirs.
    const socket = connect({ host, port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.setTimeout(REQUEST_TIMEOUT_MS, () =>
      socket.destroy(new Error(`agent ${to.name} at ${to.address} did not answer in time`)),
    );
    socket.once("connect", () => socket.end(header));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.once("error", (err) => reject(new Error(`agent ${to.name} at ${to.address}: ${err.message}`)));
    socket.once("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString()) as TunnelAnswer);
      } catch {
        reject(new Error(`agent ${to.name} at ${to.address} refused the request (no answer)`));
      }
    });
  });
}

/**
 * Carries `socket` (a workload's connection accepted here) to the agent at `to.address`: the
 * header first, then the workload's bytes both ways, on a tunnel connection from `dialer`. The
 * serving agent meters the flow; this side counts the tunnel's bytes only. A peer that cannot be
 * reached resets the workload.
 */
export function carry(
  socket: Socket,
  to: { name: string; address: string; key: string },
  flow: Omit<CarriedFlow, "to" | "at" | "nonce">,
  counters: TunnelCounters,
  dialer: TunnelDialer,
  now: () => number = Date.now,
): void {
  const preamble = encodeTunnelHeader({ ...flow, to: to.name, at: now(), nonce: tunnelNonce() }, to.key);
  counters.sent++;
  const meter: RelayMeter = {
    bytesIn: (n) => {
      counters.bytesSent += n;
    },
    bytesOut: (n) => {
      counters.bytesReceived += n;
    },
    closed: () => undefined,
  };
  relay(adoptAccepted(socket), () => dialer.take(to.address), {
    preamble,
    idleTimeoutMs: AWS_IDLE_TIMEOUT_MS,
    meter,
  });
}

/**
 * How long a spare tunnel connection waits for a flow before it is closed: well within the
 * receiver's {@link HEADER_DEADLINE_MS}, so that a spare never waits out the deadline there.
 */
export const SPARE_MAX_AGE_MS = 2_000;

/** A spare's own listeners, kept to be removed when a flow takes it. */
interface Spare {
  socket: Socket;
  timer: NodeJS.Timeout;
  discard: () => void;
}

/**
 * Tunnel connections to the other agents, one dialled ahead per peer while flows are carried
 * there: a flow takes the spare (already connected, the receiver already accepted it) and writes
 * its header at once, instead of waiting for its own handshake and the receiver's accept
 * before its first byte; taking it dials the next spare. A spare no flow took within
 * {@link SPARE_MAX_AGE_MS} is closed and not replaced, so an agent that carries nothing holds no
 * connection. A spare carries nothing but the header that a flow writes on it: the header's
 * time, nonce and MAC are the flow's, made when it is carried.
 */
export class TunnelDialer {
  private readonly spares = new Map<string, Spare>();
  private closed = false;

  constructor(private readonly maxAgeMs = SPARE_MAX_AGE_MS) {}

  /** A tunnel connection to `address` for one flow (connected or connecting). */
  take(address: string): Socket {
    const spare = this.spares.get(address);
    this.spares.delete(address);
    if (spare) this.release(spare);
    const usable = spare && !spare.socket.destroyed && !spare.socket.readableEnded;
    if (spare && !usable) spare.socket.destroy();
    const socket = usable ? spare.socket : dial(address);
    if (!this.closed) this.prepare(address);
    return socket;
  }

  /** Closes the spares; flows already carried are not touched. */
  close(): void {
    this.closed = true;
    for (const spare of this.spares.values()) {
      this.release(spare);
      spare.socket.destroy();
    }
    this.spares.clear();
  }

  private prepare(address: string): void {
    let socket: Socket;
    try {
      socket = dial(address);
    } catch {
      return;
    }
    // Gone or ended before a flow took it (the peer stopped, or it aged out): never handed out.
    const discard = () => {
      if (this.spares.get(address) !== spare) return;
      this.spares.delete(address);
      this.release(spare);
      socket.destroy();
    };
    const spare: Spare = { socket, discard, timer: setTimeout(discard, this.maxAgeMs).unref() };
    socket.on("error", discard);
    socket.on("end", discard);
    socket.on("close", discard);
    this.spares.set(address, spare);
  }

  private release(spare: Spare): void {
    clearTimeout(spare.timer);
    spare.socket.removeListener("error", spare.discard);
    spare.socket.removeListener("end", spare.discard);
    spare.socket.removeListener("close", spare.discard);
  }
}

function dial(address: string): Socket {
  const [host, port] = splitAddress(address);
  return connectUpstream({ host, port });
}

/** "host:port" or "[v6]:port" into its parts. */
export function splitAddress(address: string): [string, number] {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!m) throw new Error(`an agent address is host:port, not '${address}'`);
  return [m[1]!, Number(m[2])];
}
