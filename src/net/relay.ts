import { type Server, Socket, type SocketConstructorOpts } from "node:net";
import { type IdleFlow, type IdleSweep, sharedIdleSweep } from "./idle-sweep.js";
import { type Splicer, splicer } from "./splice.js";

/** Why a relayed connection ended; reported once per connection. */
export type CloseReason = "fin" | "reset" | "idle" | "upstream-error";

/**
 * Receives byte counts and the end of one relayed connection. Counts arrive as deltas: once
 * at close, and in between whenever the owner calls `RelayHandle.report()`.
 */
export interface RelayMeter {
  /** Bytes read from the client (client to target). */
  bytesIn(n: number): void;
  /** Bytes read from the upstream (target to client). */
  bytesOut(n: number): void;
  closed(reason: CloseReason): void;
}

export interface RelayOptions {
  /** Written to the upstream before any client byte (a PROXY protocol header). */
  preamble?: Buffer;
  /**
   * No byte in either direction for this long resets both sides (AWS: 350 s), enforced by the
   * process's shared sweep for this timeout unless `idle` names the sweep to join.
   */
  idleTimeoutMs?: number;
  idle?: IdleSweep;
  meter: RelayMeter;
  /**
   * Bytes the client socket read before the flow began that are not the flow's (an
   * agent-to-agent tunnel's header): left out of bytesIn, so the flow is metered as the workload sent it.
   */
  consumedIn?: number;
}

export interface RelayHandle {
  /** Ends the connection: `reset` sends RST both ways (endpoint deleted), else FIN both ways. */
  close(reset: boolean): void;
  /** Reports the bytes moved since the last report to the meter (for live connections). */
  report(): void;
  /** Live totals, read from the kernel-side counters without per-chunk work. */
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly closedReason: CloseReason | undefined;
}

/** AWS's fixed idle timeout for PrivateLink and NLB flows. */
export const AWS_IDLE_TIMEOUT_MS = 350_000;

/**
 * Stream buffer size of a direction relayed with socket.pipe. 16, 64 and 128 KiB
 * measured within noise of each other on loopback (bench/dataplane.ts, "relay-16k" etc.);
 * 64 KiB, one libuv read, was marginally ahead and buffers half of 128 KiB per stalled flow.
 */
export const RELAY_HIGH_WATER_MARK = 64 * 1024;

/**
 * Read size of an upstream socket while it streams in bulk. Node reads 64 KiB at a time into a
 * fresh allocation; reading into a reused 1 MiB buffer instead halved the relay's CPU per GiB
 * downloaded on loopback (bench/dataplane.ts: "relay" ~280 ms/GiB, "relay-pipe" ~600 ms/GiB,
 * HAProxy ~450 ms/GiB); 256 KiB gave ~340 ms/GiB. A bulk flow holds two per direction
 * (UpstreamReader), so that it reads on while a write is pending.
 */
export const BULK_READ_BYTES = 1024 * 1024;
const SMALL_READ_BYTES = 64 * 1024;
/** Bulk buffers kept for reuse once their flow goes quiet (two per flow); more are allocated on demand. */
const BULK_POOL_LIMIT = 8;

export interface UpstreamTarget {
  host: string;
  port: number;
  /** Source address, e.g. the provider-side NLB node address. */
  localAddress?: string;
}

export interface UpstreamOptions {
  /** Buffer size of the client-to-upstream direction. */
  highWaterMark?: number;
  /**
   * Read upstream bytes into reused buffers and hand them to relay() directly (default true).
   * Such a socket emits no 'data' events: it is for relay() only.
   */
  fastRead?: boolean;
}

/**
 * Opens an upstream connection the way the relay expects it: half-open allowed, no Nagle, and
 * (by default) the zero-allocation read path that only relay() consumes.
 */
export function connectUpstream(target: UpstreamTarget, opts: UpstreamOptions = {}): Socket {
  const highWaterMark = opts.highWaterMark ?? RELAY_HIGH_WATER_MARK;
  const reader = opts.fastRead === false ? undefined : new UpstreamReader();
  // Node 20 takes noDelay from the constructor only; connect() ignores it.
  const socket = new Socket(socketOptions(undefined, highWaterMark, reader, true));
  if (reader) lend(reader, socket);
  const { host, port, localAddress } = target;
  socket.connect({ host, port, localAddress });
  readFromConnect(socket);
  return socket;
}

/** The parts of Node 20's TCP handle that readFromConnect uses. */
interface ConnectingHandle {
  connect?: (req: unknown, address: string, port: number) => number;
  readStart(): number;
  reading?: boolean;
}

/**
 * Makes a connecting socket read from the moment its handle connects, not from Node's 'connect'
 * event: libuv then registers the descriptor once for both readiness events, where starting the
 * read after connecting cost a failing EPOLL_CTL_ADD and a MOD (3 epoll_ctl calls become 2; 7
 * Dec). Node 20 connects to an IP address on the next tick, so the handle's own `connect` is
 * replaced for that one call; Node's first read then finds `reading` set and starts nothing.
 * Bytes can arrive only once connected, and libuv reports a failed connect before any read.
 */
function readFromConnect(socket: Socket): void {
  const handle = (socket as unknown as SocketInternals)._handle as ConnectingHandle | null;
  if (!handle || typeof handle.connect !== "function" || typeof handle.readStart !== "function") return;
  tcpConnect ??= handle.connect;
  if (handle.connect !== tcpConnect) return;
  handle.connect = connectThenRead;
}

let tcpConnect: ConnectingHandle["connect"];

function connectThenRead(this: ConnectingHandle, req: unknown, address: string, port: number): number {
  delete this.connect;
  const err = tcpConnect!.call(this, req, address, port);
  if (err === 0 && this.readStart() === 0) this.reading = true;
  return err;
}

/** The parts of Node 20's net.Socket that adoptAccepted moves from one Socket to another. */
interface SocketInternals {
  _handle: { useUserBuffer?: unknown } | null;
  _server: unknown;
  server: unknown;
}

/**
 * Gives an accepted socket the reused-buffer read path of connectUpstream's sockets. Node 20
 * has no `onread` for a net.Server's sockets, but a Socket built on an existing handle applies
 * it: the returned Socket adopts the accepted one's handle (and its place in the server's
 * connection count), and the accepted Socket, now without a handle, is destroyed so that it
 * closes nothing. The result is for relay() only (it emits no 'data'). A socket that has read,
 * queued a write or is not a plain open TCP socket is returned unchanged, and so is one that
 * already reads that way (acceptForRelay built it).
 */
export function adoptAccepted(socket: Socket): Socket {
  if ((socket as ReaderSocket)[READER]) return socket;
  const old = socket as unknown as SocketInternals;
  const handle = old._handle;
  const fresh =
    !socket.destroyed &&
    !socket.connecting &&
    socket.bytesRead === 0 &&
    socket.readableLength === 0 &&
    socket.writableLength === 0 &&
    socket.listenerCount("data") === 0;
  if (!handle || typeof handle.useUserBuffer !== "function" || !fresh) return socket;
  const server = old._server;
  old._handle = null;
  old._server = null;
  socket.destroy();
  const reader = new UpstreamReader();
  const adopted = new Socket(socketOptions(handle, RELAY_HIGH_WATER_MARK, reader, false));
  const internals = adopted as unknown as SocketInternals;
  internals._server = server;
  internals.server = server;
  lend(reader, adopted);
  return adopted;
}

/**
 * The options of every Socket the relay builds, all with the same keys in the same order. Node
 * 20's Socket constructor copies its options with a spread and then sets allowHalfOpen,
 * emitClose, autoDestroy and decodeStrings on the copy; in V8 11.3 adding properties to a spread
 * copy left part of every connection's garbage alive through the next scavenges (a loop of
 * net.Socket connect/echo/destroy: 63 KB survived per MB allocated, 0.1 KB with these keys
 * present, 7 Dec), which made scavenges longer and promoted the survivors. With every key already
 * there, the constructor only overwrites them; the values are the ones it forces anyway.
 * Exported for the tests.
 */
export function socketOptions(
  handle: unknown,
  highWaterMark: number,
  reader: UpstreamReader | undefined,
  noDelay: boolean,
): SocketConstructorOpts {
  // @types/node omits the Duplex options that net.Socket passes through.
  const options: SocketConstructorOpts & Record<string, unknown> = {
    handle,
    allowHalfOpen: true,
    noDelay,
    readableHighWaterMark: highWaterMark,
    writableHighWaterMark: highWaterMark,
    onread: reader && { buffer: reader.nextBuffer, callback: readInto },
    emitClose: false,
    autoDestroy: true,
    decodeStrings: false,
  };
  return options;
}

/** A socket's reused-buffer reader, for relay() to attach. */
const READER = Symbol("reader");
type ReaderSocket = Socket & { [READER]?: UpstreamReader };

/**
 * Ties a reader to the socket built with it. Node calls the onread callback with the socket as
 * `this`, so one function serves every reader; `on`, not `once`, for an event that comes once
 * (no wrapper object and bound function per socket, no removal when it fires).
 */
function lend(reader: UpstreamReader, socket: Socket): void {
  reader.socket = socket;
  (socket as ReaderSocket)[READER] = reader;
  socket.on("close", retireReader);
}

function readInto(this: ReaderSocket, n: number, buf: Buffer): boolean {
  return this[READER]!.onRead(n, buf);
}

function retireReader(this: ReaderSocket): void {
  this[READER]!.onClose();
}
/** The parts of Node 20's net.Server that acceptForRelay reads and hooks. */
interface ServerInternals {
  _handle: {
    onconnection?: (err: number, clientHandle: unknown) => void;
    setNoDelay?: (on: boolean) => number;
  } | null;
  _connections: number;
  keepAlive: boolean;
}

/** The parts of an accepted TCP handle that acceptForRelay calls, as Node's own accept does. */
interface AcceptedHandle {
  setNoDelay?: (on: boolean) => number;
}

/**
 * Makes `server` build the sockets it accepts, while `forRelay()` says so, with the reused-buffer
 * read path of adoptAccepted: one Socket per connection instead of Node's plus adoptAccepted's.
 * Node 20 has no `onread` option for a net.Server, so this replaces its handle's `onconnection`
 * with the same steps (count, no-delay, the 'connection' event); anything else (an accept error,
 * maxConnections, keep-alive, a socket for an AWS service's front) goes to Node's own. Building
 * the fronts' sockets here too, from Node's options with its four keys present, cut their garbage
 * (docs/performance.md) but kept a front's slow TLS clients open past the idle limit
 * (test/reliability/slow-peers.test.ts), not yet understood: so fronts keep Node's accept.
 * Call once the server listens; returns false when the internals are not there (then Node's
 * sockets are used, and relay() pipes them).
 */
export function acceptForRelay(
  server: Server,
  forRelay: () => boolean,
  highWaterMark = RELAY_HIGH_WATER_MARK,
): boolean {
  const internals = server as unknown as ServerInternals;
  const handle = internals._handle;
  const original = handle?.onconnection;
  if (!handle || typeof original !== "function") return false;
  // Linux gives an accepted socket the listener's TCP_NODELAY: set once here, it spares every
  // connection a setsockopt (a socket built on a handle applies its noDelay option to nothing).
  const inherited = process.platform === "linux" && handle.setNoDelay?.(true) === 0;
  handle.onconnection = function (this: unknown, err: number, clientHandle: unknown) {
    if (err || server.maxConnections || internals.keepAlive || !forRelay())
      return original.call(this, err, clientHandle);
    const reader = new UpstreamReader();
    const socket = new Socket(socketOptions(clientHandle, highWaterMark, reader, false));
    if (!inherited) (clientHandle as AcceptedHandle).setNoDelay?.(true);
    internals._connections++;
    const owned = socket as unknown as SocketInternals;
    owned._server = server;
    owned.server = server;
    lend(reader, socket);
    server.emit("connection", socket);
  };
  return true;
}

const bulkPool: Buffer[] = [];
/**
 * One small read buffer shared by every upstream socket that is not streaming in bulk: what is
 * read into it is copied out at once, so no pending write ever points into it.
 */
const sharedReadBuffer = Buffer.allocUnsafe(SMALL_READ_BYTES);

/** One of a bulk flow's own read buffers, and the writes from it not yet completed. */
interface Slot {
  readonly buf: Buffer;
  busy: number;
  /** The flow left bulk mode: the buffer goes back to the pool once no write points into it. */
  retired: boolean;
}

const newSlot = (): Slot => ({
  buf: bulkPool.pop() ?? Buffer.allocUnsafe(BULK_READ_BYTES),
  busy: 0,
  retired: false,
});

function release(slot: Slot): void {
  if (bulkPool.length < BULK_POOL_LIMIT) bulkPool.push(slot.buf);
}

/**
 * Forwards a socket's reads (an upstream's, or an adopted client's) to the other side without
 * Node's per-read allocation.
 * Reads into the shared buffer are copied out; once a read fills it, the flow is bulk and gets
 * two buffers of its own, read into in turn and written to the other side directly: while the
 * write from one is pending (the kernel did not take it all at once) the next read goes into
 * the other, so the relay keeps draining its receive side as HAProxy does with its buffers.
 * Reading stops only when the next buffer still has a pending write, so a buffer is never
 * overwritten under a write; one returns to the pool only after every write from it completed.
 */
export class UpstreamReader {
  /** The upstream socket; set by connectUpstream (exported for the buffer-lending tests). */
  socket!: Socket;
  private dest: Socket | undefined;
  private early: Buffer[] = [];
  /** A bulk flow's two buffers; `cur` is the one the next read goes into. */
  private ring: [Slot, Slot] | undefined;
  private cur = 0;
  /** The buffer of each write not yet completed, oldest first (undefined for a copy). */
  private readonly order: (Slot | undefined)[] = [];
  private waiting = false;
  /** The relay is handing this flow to the splice addon: read nothing, resume nothing. */
  private held = false;

  /** Called by Node after each read (and once at connect) for the buffer of the next read. */
  readonly nextBuffer = (): Buffer => (this.ring ? this.ring[this.cur].buf : sharedReadBuffer);

  onRead(n: number, buf: Buffer): boolean {
    const dest = this.dest;
    if (!dest) {
      this.early.push(Buffer.from(buf.subarray(0, n)));
      return false;
    }
    const ring = this.ring;
    const slot = ring?.[this.cur];
    if (slot && slot.buf === buf) {
      slot.busy++;
      this.order.push(slot);
      dest.write(buf.subarray(0, n), this.onWritten);
      if (n < SMALL_READ_BYTES) this.retire();
      else this.cur ^= 1;
      if (n === buf.length) relayOf(this.socket)?.offerSplice();
    } else {
      this.order.push(undefined);
      dest.write(Buffer.from(buf.subarray(0, n)), this.onWritten);
      if (!ring && n === buf.length && !relayOf(this.socket)?.offerSplice())
        this.ring = [newSlot(), newSlot()];
    }
    if (this.held) return false;
    // Everything written went to the kernel at once, or the next buffer is free: read on. A copy
    // lends nothing, so copies only keep within the destination's buffer, as pipe() does: a
    // client's first bytes, written while the upstream still connects, do not stop its reads
    // (that cost a read stop and restart, two epoll_ctl calls, per connection).
    if (dest.writableLength === 0 || this.ready()) return true;
    if (!this.ring && dest.writableLength < dest.writableHighWaterMark) return true;
    this.waiting = true;
    return false;
  }

  /** Whether the next read has a buffer no pending write points into (copies: none pending). */
  private ready(): boolean {
    return this.ring ? this.ring[this.cur].busy === 0 : this.order.length === 0;
  }

  private readonly onWritten = (): void => {
    // Writes complete in the order they were made.
    const slot = this.order.shift();
    if (slot && --slot.busy === 0 && slot.retired) release(slot);
    if (this.held) {
      if (this.order.length === 0) relayOf(this.socket)?.handOver();
      return;
    }
    if (!this.waiting || !this.ready()) return;
    this.waiting = false;
    if (!this.socket.destroyed) this.socket.resume();
  };

  /** No write from this reader is pending. */
  get idle(): boolean {
    return this.order.length === 0;
  }

  /** Stops reading (for the splice hand-over); onRead returns false for a read in progress. */
  hold(): void {
    this.held = true;
    if (!this.socket.readableEnded) this.socket.pause();
  }

  /** Reads again, into the shared buffer: a flow that goes bulk again gets its own buffers. */
  unhold(): void {
    this.held = false;
    this.waiting = false;
    if (!this.socket.destroyed && !this.socket.readableEnded) this.socket.resume();
  }

  /** Leaves bulk mode: each buffer is free for another flow once no write points into it. */
  private retire(): void {
    for (const slot of this.ring ?? []) {
      slot.retired = true;
      if (slot.busy === 0) release(slot);
    }
    this.ring = undefined;
    this.cur = 0;
  }

  /** The socket reads no more; its bulk buffers are free once no write points into them. */
  onClose(): void {
    this.retire();
  }

  /** Starts delivering to `dest`, first the bytes that arrived before relay() attached. */
  attach(dest: Socket): void {
    this.dest = dest;
    const early = this.early;
    this.early = [];
    for (const chunk of early) dest.write(chunk);
    if (early.length && !this.socket.destroyed) this.socket.resume();
  }
}

/** The relay a socket belongs to: its event listeners are shared functions that look it up here. */
const RELAY = Symbol("relay");
type RelaySocket = Socket & { [RELAY]?: Relay };

const relayOf = (socket: Socket): Relay | undefined => (socket as RelaySocket)[RELAY];
const readerOf = (socket: Socket | undefined): UpstreamReader | undefined =>
  socket && (socket as ReaderSocket)[READER];
const fdOf = (socket: Socket): number =>
  (socket as unknown as { _handle: { fd?: number } | null })._handle?.fd ?? -1;

/** Flows the relay handed to the splice addon since the process started (tests, metrics). */
export const relayStats = { splicedFlows: 0 };

/** A flow's splice hand-over: waiting for pending writes, the addon's, or given back. */
enum Splice {
  Pending,
  Active,
  Over,
}

/** A flow offered to the splice addon (see Relay.offerSplice). */
interface Spliced {
  phase: Splice;
  readonly addon: Splicer;
  flow: object | undefined;
  /** Bytes the addon read from the client and from the upstream. */
  readonly counts: Float64Array;
  /** close(false) came while the addon had the flow: finish it once the addon has drained. */
  closeAfter: boolean;
}

/**
 * Relays bytes between an accepted client socket and an upstream, propagating FIN as FIN and
 * errors as RST, with backpressure. Every path ends with both sockets destroyed and exactly one
 * `meter.closed` call. Idleness is enforced by `opts.idle` (or the shared sweep of
 * `opts.idleTimeoutMs`), not by a timer per connection.
 */
export function relay(client: Socket, openUpstream: () => Socket, opts: RelayOptions): RelayHandle {
  const upstream = client.destroyed ? undefined : tryOpen(openUpstream);
  const idle = opts.idle ?? sharedIdleSweep(opts.idleTimeoutMs ?? AWS_IDLE_TIMEOUT_MS);
  const r = new Relay(client, upstream, opts.meter, idle, opts.consumedIn ?? 0);
  (client as RelaySocket)[RELAY] = r;
  // Errors on one side reset the other; the listeners also keep them from becoming uncaught.
  client.on("error", onClientError);
  if (!upstream || upstream.destroyed) {
    // The client went away during an asynchronous admission, or the upstream could not be
    // created or is already gone: nothing to relay, but the meter still hears about it.
    r.open = 1;
    r.reason = client.destroyed ? "reset" : "upstream-error";
    if (client.destroyed) process.nextTick(sideClosed.bind(client));
    else client.on("close", sideClosed);
    resetSocket(client);
    return r;
  }
  (upstream as RelaySocket)[RELAY] = r;
  // A FIN from one side must become end() on the other while bytes still flow back.
  client.allowHalfOpen = true;
  upstream.allowHalfOpen = true;
  // `on`: 'close', 'connect' and 'end' come once each (see lend()).
  client.on("close", sideClosed);
  upstream.on("close", sideClosed);
  r.connected = !upstream.connecting && !upstream.destroyed;
  if (!r.connected) upstream.on("connect", onUpstreamConnect);
  upstream.on("error", onUpstreamError);
  r.idle.add(r);

  if (opts.preamble) upstream.write(opts.preamble);
  const clientReader = (client as ReaderSocket)[READER];
  if (clientReader) {
    clientReader.attach(upstream);
    client.on("end", endUpstream);
  } else {
    client.pipe(upstream);
  }
  const reader = (upstream as ReaderSocket)[READER];
  if (reader) {
    reader.attach(client);
    upstream.on("end", endClient);
  } else {
    upstream.pipe(client);
  }
  return r;
}

/** One relayed connection; its methods are shared, so a connection costs no closures. */
class Relay implements RelayHandle, IdleFlow {
  reason: CloseReason | undefined;
  open = 2;
  connected = false;
  idleBytes = 0;
  idleSince = 0;
  private reportedIn = 0;
  private reportedOut = 0;
  /** undefined until a reader goes bulk, null if the flow was not handed to the addon then. */
  private spliced: Spliced | null | undefined;

  constructor(
    readonly client: Socket,
    readonly upstream: Socket | undefined,
    private readonly meter: RelayMeter,
    readonly idle: IdleSweep,
    /** {@link RelayOptions.consumedIn}: counted as already reported. */
    private readonly consumedIn = 0,
  ) {
    this.reportedIn = consumedIn;
  }

  close(reset: boolean): void {
    if (reset) {
      this.resetBoth("reset");
      return;
    }
    this.reason ??= "fin";
    const spliced = this.spliced;
    if (spliced?.phase === Splice.Active) {
      spliced.closeAfter = true;
      spliced.addon.stop(spliced.flow!, false);
      return;
    }
    this.client.destroySoon();
    this.upstream?.destroySoon();
  }

  report(): void {
    const bytesIn = this.client.bytesRead + (this.spliced?.counts[0] ?? 0);
    const bytesOut = (this.upstream?.bytesRead ?? 0) + (this.spliced?.counts[1] ?? 0);
    if (bytesIn > this.reportedIn) this.meter.bytesIn(bytesIn - this.reportedIn);
    if (bytesOut > this.reportedOut) this.meter.bytesOut(bytesOut - this.reportedOut);
    this.reportedIn = bytesIn;
    this.reportedOut = bytesOut;
  }

  get bytesIn(): number {
    return this.client.bytesRead + (this.spliced?.counts[0] ?? 0) - this.consumedIn;
  }

  get bytesOut(): number {
    return (this.upstream?.bytesRead ?? 0) + (this.spliced?.counts[1] ?? 0);
  }

  get closedReason(): CloseReason | undefined {
    return this.open === 0 ? (this.reason ?? "fin") : undefined;
  }

  activity(): number {
    const spliced = this.spliced ? this.spliced.counts[0] + this.spliced.counts[1] : 0;
    return this.client.bytesRead + (this.upstream?.bytesRead ?? 0) + spliced;
  }

  expire(): void {
    this.resetBoth("idle");
  }

  resetBoth(why: CloseReason): void {
    this.reason ??= why;
    this.abortSplice();
    resetSocket(this.client);
    if (this.upstream) resetSocket(this.upstream);
  }

  /**
   * The splice hand-over, offered by a reader that goes bulk. When the addon is there and both
   * sockets are plain connected TCP sockets read by UpstreamReaders, both readers stop and, once
   * no write of theirs is pending (handOver, from their write callbacks), the addon gets both
   * directions. It gives the flow back at the first EOF (with every byte it read delivered), on
   * a splice error, or when asked; JavaScript then reads on (and sees the EOF itself), resets,
   * or closes, exactly as it would have without the addon. Returns whether the readers stopped.
   */
  offerSplice(): boolean {
    // Offered at every full read until the upstream has connected; decided once then.
    if (this.spliced !== undefined || !this.connected) return false;
    const { client, upstream } = this;
    const addon = readerOf(client) && readerOf(upstream) && this.open === 2 ? splicer() : undefined;
    if (!addon || !spliceable(client) || !spliceable(upstream!) || liveDirections(client, upstream!) <= 0) {
      this.spliced = null;
      return false;
    }
    const counts = new Float64Array(2);
    this.spliced = { phase: Splice.Pending, addon, flow: undefined, counts, closeAfter: false };
    readerOf(client)!.hold();
    readerOf(upstream)!.hold();
    return true;
  }

  handOver(): void {
    const { client, spliced } = this;
    const upstream = this.upstream!;
    const readers = [readerOf(client)!, readerOf(upstream)!];
    if (spliced?.phase !== Splice.Pending || !readers[0].idle || !readers[1].idle) return;
    spliced.phase = Splice.Over;
    const quiet = client.writableLength === 0 && upstream.writableLength === 0;
    const live = liveDirections(client, upstream);
    if (quiet && live > 0 && this.open === 2 && spliceable(client) && spliceable(upstream)) {
      try {
        const done = (code: number) => this.spliceDone(code);
        const { addon, counts } = spliced;
        spliced.flow = addon.start(fdOf(client), fdOf(upstream), counts, done, live);
        spliced.phase = Splice.Active;
        relayStats.splicedFlows++;
        return;
      } catch (err) {
        process.emitWarning(`privlink: splice not started, the relay copies (${(err as Error).message})`);
      }
    }
    for (const reader of readers) reader.unhold();
  }

  /** The addon gave the flow back (see offerSplice): code 0 EOF, < 0 asked to, > 0 an errno. */
  private spliceDone(code: number): void {
    const spliced = this.spliced!;
    if (spliced.phase !== Splice.Active) return;
    spliced.phase = Splice.Over;
    if (code > 0) {
      this.resetBoth("reset");
      return;
    }
    readerOf(this.client)!.unhold();
    readerOf(this.upstream)!.unhold();
    if (spliced.closeAfter) this.close(false);
  }

  /** Takes the flow back at once, dropping what the addon's pipes hold (a reset or a close). */
  private abortSplice(): void {
    const spliced = this.spliced;
    if (spliced?.phase !== Splice.Active) return;
    spliced.phase = Splice.Over;
    spliced.addon.stop(spliced.flow!, true);
  }

  sideClosed(): void {
    // Closed by someone else while the addon has it: the addon's descriptors go now, so the
    // connection ends as the closed socket says (its last descriptor was the addon's).
    this.abortSplice();
    if (--this.open > 0) return;
    this.idle.delete(this);
    this.report();
    this.meter.closed(this.reason ?? "fin");
  }
}

/** A socket the addon may splice: open, with a descriptor of its own. */
function spliceable(socket: Socket): boolean {
  return !socket.destroyed && fdOf(socket) >= 0;
}

/**
 * The directions the addon would carry (bit 1 the client's, bit 2 the upstream's): a direction
 * whose FIN was already relayed (the other side's shutdown done) carries nothing; -1 while a
 * FIN is on its way, when the flow cannot be handed over.
 */
function liveDirections(client: Socket, upstream: Socket): number {
  const state = (from: Socket, to: Socket) =>
    !from.readableEnded && !to.writableEnded ? 1 : from.readableEnded && to.writableFinished ? 0 : -1;
  const up = state(client, upstream);
  const down = state(upstream, client);
  return up < 0 || down < 0 ? -1 : up | (down << 1);
}

function onClientError(this: RelaySocket): void {
  this[RELAY]!.resetBoth("reset");
}

function onUpstreamError(this: RelaySocket): void {
  const r = this[RELAY]!;
  r.resetBoth(r.connected ? "reset" : "upstream-error");
}

function onUpstreamConnect(this: RelaySocket): void {
  this[RELAY]!.connected = true;
}

function sideClosed(this: RelaySocket): void {
  this[RELAY]!.sideClosed();
}

function endUpstream(this: RelaySocket): void {
  passFin(this[RELAY]!.upstream!);
}

function endClient(this: RelaySocket): void {
  passFin(this[RELAY]!.client);
}

/**
 * Sends a FIN on `to`. When `to` has already read its own peer's FIN, is not ending yet and has no
 * write left in flight, close() sends that FIN by itself: no shutdown(2) first, and none of Node's
 * shutdown request, 'finish' tick and second close step (a connection's second FIN, 7 Dec).
 * Otherwise end(): the FIN follows the bytes still queued, and the socket stays open for the peer's.
 */
function passFin(to: Socket): void {
  const idle = !to.writableEnded && to.writableLength === 0 && !to.connecting;
  if (idle && to.readableEnded) to.destroy();
  else to.end();
}

function tryOpen(openUpstream: () => Socket): Socket | undefined {
  try {
    return openUpstream();
  } catch {
    return undefined;
  }
}

/** Longest wait for an in-flight FIN before resetSocket settles for a plain close. */
const SHUTDOWN_WAIT_MS = 1000;

/**
 * Closes a socket with RST. Two states need care:
 * - still connecting: Node would wait for a 'connect' that may never come, so just close;
 * - a FIN (shutdown) in flight: libuv refuses SO_LINGER=0 then, and Node 20 drops the handle
 *   without closing it (the fd leaks and 'close' never fires). The reset waits for the FIN to
 *   complete, normally the next loop turn, and falls back to a plain close if it does not.
 */
export function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.connecting) return void socket.destroy();
  const shuttingDown = socket.writableEnded && !socket.writableFinished && socket.writableLength === 0;
  if (!shuttingDown) return void socket.resetAndDestroy();
  const fallback = setTimeout(() => socket.destroy(), SHUTDOWN_WAIT_MS).unref();
  socket.once("close", () => clearTimeout(fallback));
  socket.once("finish", () => {
    clearTimeout(fallback);
    resetSocket(socket);
  });
}
