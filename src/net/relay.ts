import { Socket, type SocketConstructorOpts } from "node:net";

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
  /** No byte in either direction for this long resets both sides (AWS: 350 s). */
  idleTimeoutMs: number;
  meter: RelayMeter;
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
 * HAProxy ~450 ms/GiB); 256 KiB gave ~340 ms/GiB.
 */
export const BULK_READ_BYTES = 1024 * 1024;
const SMALL_READ_BYTES = 64 * 1024;
/** Bulk buffers kept for reuse once their flow goes quiet; more are allocated on demand. */
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
  // @types/node omits the Duplex buffer options that net.Socket passes through.
  const options: SocketConstructorOpts & Record<string, unknown> = {
    allowHalfOpen: true,
    readableHighWaterMark: highWaterMark,
    writableHighWaterMark: highWaterMark,
    onread: reader && { buffer: reader.nextBuffer, callback: reader.onRead },
  };
  const socket = new Socket(options);
  if (reader) {
    reader.socket = socket;
    readers.set(socket, reader);
    socket.once("close", reader.onClose);
  }
  const { host, port, localAddress } = target;
  return socket.connect({ host, port, localAddress, noDelay: true });
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
 * queued a write or is not a plain open TCP socket is returned unchanged.
 */
export function adoptAccepted(socket: Socket): Socket {
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
  const options: SocketConstructorOpts & Record<string, unknown> = {
    handle,
    allowHalfOpen: true,
    readableHighWaterMark: RELAY_HIGH_WATER_MARK,
    writableHighWaterMark: RELAY_HIGH_WATER_MARK,
    onread: { buffer: reader.nextBuffer, callback: reader.onRead },
  };
  const adopted = new Socket(options);
  const internals = adopted as unknown as SocketInternals;
  internals._server = server;
  internals.server = server;
  reader.socket = adopted;
  readers.set(adopted, reader);
  adopted.once("close", reader.onClose);
  return adopted;
}

const readers = new WeakMap<Socket, UpstreamReader>();
const bulkPool: Buffer[] = [];
/**
 * One small read buffer shared by every upstream socket that is not streaming in bulk: what is
 * read into it is copied out at once, so no pending write ever points into it.
 */
const sharedReadBuffer = Buffer.allocUnsafe(SMALL_READ_BYTES);

/**
 * Forwards a socket's reads (an upstream's, or an adopted client's) to the other side without
 * Node's per-read allocation.
 * Reads into the shared buffer are copied out; once a read fills it, the flow is bulk and gets
 * a buffer of its own that is written to the client directly. While any such write is pending
 * (the kernel did not take it all at once) reading stops, so the buffer is never overwritten
 * under a write; it returns to the pool only after every write from it has completed.
 */
export class UpstreamReader {
  /** The upstream socket; set by connectUpstream (exported for the buffer-lending tests). */
  socket!: Socket;
  private dest: Socket | undefined;
  private early: Buffer[] = [];
  private bulk: Buffer | undefined;
  /** A bulk buffer that left its flow but may still be referenced by a pending write. */
  private retiring: Buffer | undefined;
  private inflight = 0;
  private waiting = false;

  /** Called by Node after each read (and once at connect) for the buffer of the next read. */
  readonly nextBuffer = (): Buffer => this.bulk ?? sharedReadBuffer;

  readonly onRead = (n: number, buf: Buffer): boolean => {
    const dest = this.dest;
    if (!dest) {
      this.early.push(Buffer.from(buf.subarray(0, n)));
      return false;
    }
    this.inflight++;
    if (buf === sharedReadBuffer) {
      dest.write(Buffer.from(buf.subarray(0, n)), this.onWritten);
      if (n === buf.length) this.bulk = bulkPool.pop() ?? Buffer.allocUnsafe(BULK_READ_BYTES);
    } else {
      dest.write(buf.subarray(0, n), this.onWritten);
      if (n < SMALL_READ_BYTES) {
        this.bulk = undefined;
        this.retiring = buf;
      }
    }
    if (dest.writableLength === 0) return this.settled();
    this.waiting = true;
    return false;
  };

  private readonly onWritten = (): void => {
    if (--this.inflight > 0) return;
    this.settled();
    if (!this.waiting) return;
    this.waiting = false;
    if (!this.socket.destroyed) this.socket.resume();
  };

  /** No write points into a retired buffer any more: it can serve another flow. */
  private settled(): true {
    if (this.retiring) {
      if (bulkPool.length < BULK_POOL_LIMIT) bulkPool.push(this.retiring);
      this.retiring = undefined;
    }
    return true;
  }

  /** The socket reads no more; its bulk buffer is free once no write points into it. */
  readonly onClose = (): void => {
    if (this.bulk) this.retiring = this.bulk;
    this.bulk = undefined;
    if (this.inflight === 0) this.settled();
  };

  /** Starts delivering to `dest`, first the bytes that arrived before relay() attached. */
  attach(dest: Socket): void {
    this.dest = dest;
    const early = this.early;
    this.early = [];
    for (const chunk of early) dest.write(chunk);
    if (early.length && !this.socket.destroyed) this.socket.resume();
  }
}

/**
 * Relays bytes between an accepted client socket and an upstream, propagating FIN as FIN and
 * errors as RST, with backpressure. Every path ends with both sockets destroyed and exactly one
 * `meter.closed` call.
 */
export function relay(client: Socket, openUpstream: () => Socket, opts: RelayOptions): RelayHandle {
  let reason: CloseReason | undefined;
  let reportedIn = 0;
  let reportedOut = 0;
  let open = 2;
  let connected = false;
  const upstream = client.destroyed ? undefined : tryOpen(openUpstream);

  const report = () => {
    const bytesIn = client.bytesRead;
    const bytesOut = upstream?.bytesRead ?? 0;
    if (bytesIn > reportedIn) opts.meter.bytesIn(bytesIn - reportedIn);
    if (bytesOut > reportedOut) opts.meter.bytesOut(bytesOut - reportedOut);
    reportedIn = bytesIn;
    reportedOut = bytesOut;
  };
  const onClose = () => {
    if (--open > 0) return;
    report();
    opts.meter.closed(reason ?? "fin");
  };
  const resetBoth = (why: CloseReason) => {
    reason ??= why;
    resetSocket(client);
    if (upstream) resetSocket(upstream);
  };
  const handle: RelayHandle = {
    close(reset: boolean) {
      if (reset) return resetBoth("reset");
      reason ??= "fin";
      client.destroySoon();
      upstream?.destroySoon();
    },
    report,
    get bytesIn() {
      return client.bytesRead;
    },
    get bytesOut() {
      return upstream?.bytesRead ?? 0;
    },
    get closedReason() {
      return open === 0 ? (reason ?? "fin") : undefined;
    },
  };

  // Errors on one side reset the other; the listeners also keep them from becoming uncaught.
  client.on("error", () => resetBoth("reset"));
  if (!upstream || upstream.destroyed) {
    // The client went away during an asynchronous admission, or the upstream could not be
    // created or is already gone: nothing to relay, but the meter still hears about it.
    open = 1;
    reason = client.destroyed ? "reset" : "upstream-error";
    if (client.destroyed) process.nextTick(onClose);
    else client.once("close", onClose);
    resetSocket(client);
    return handle;
  }

  // A FIN from one side must become end() on the other while bytes still flow back.
  client.allowHalfOpen = true;
  upstream.allowHalfOpen = true;
  client.once("close", onClose);
  upstream.once("close", onClose);
  connected = !upstream.connecting && !upstream.destroyed;
  upstream.once("connect", () => {
    connected = true;
  });
  upstream.on("error", () => resetBoth(connected ? "reset" : "upstream-error"));
  // Reads and writes both refresh a socket's timer, so the client's alone sees both directions.
  client.setTimeout(opts.idleTimeoutMs, () => resetBoth("idle"));

  if (opts.preamble) upstream.write(opts.preamble);
  const clientReader = readers.get(client);
  if (clientReader) {
    clientReader.attach(upstream);
    client.once("end", () => upstream.end());
  } else {
    client.pipe(upstream);
  }
  const reader = readers.get(upstream);
  if (reader) {
    reader.attach(client);
    upstream.once("end", () => client.end());
  } else {
    upstream.pipe(client);
  }
  return handle;
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
