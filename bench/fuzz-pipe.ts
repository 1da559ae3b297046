/**
 * A connected pair of in-memory sockets for `npm run fuzz -- TARGET --in-process`: the server end
 * goes to the same handler a listener hands an accepted socket to (node:http's "connection",
 * the service front, the DNS TCP framing), the client end is the fuzzer's. No kernel, no port:
 * the parsers see the same byte stream, at the cost of the CPU only.
 *
 * What a handler uses of a net.Socket is here: half-close (the server end allows it, as the
 * listeners do; the client end does not, as net.connect's default), destroy seen by the peer as
 * an end of stream, setTimeout with its "timeout" event, byte counters, addresses.
 */
import { Duplex } from "node:stream";

class PipeEnd extends Duplex {
  peer!: PipeEnd;
  bytesRead = 0;
  bytesWritten = 0;
  private timer?: NodeJS.Timeout;
  private timeoutMs = 0;
  private eof = false;

  constructor(
    allowHalfOpen: boolean,
    readonly remoteAddress: string,
    readonly remotePort: number,
    readonly localAddress: string,
    readonly localPort: number,
  ) {
    super({ allowHalfOpen });
    this.once("close", () => clearTimeout(this.timer));
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.bytesWritten += chunk.length;
    this.touch();
    this.peer.deliver(chunk);
    cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    // The FIN comes in a read of its own, as from the kernel: a handler that answers after a
    // few promise turns has answered before it sees the end (node:http drops a request then).
    setImmediate(() => this.peer.deliver(null));
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    clearTimeout(this.timer);
    // The peer reads what was sent, then the end of the stream, as after a close on TCP.
    this.peer.deliver(null);
    cb(err);
  }

  /** Bytes (or the end of the stream: null) from the peer; nothing after the end. */
  private deliver(chunk: Buffer | null): void {
    if (this.destroyed || this.eof) return;
    if (chunk === null) this.eof = true;
    else {
      this.bytesRead += chunk.length;
      this.touch();
    }
    this.push(chunk);
  }

  setTimeout(ms: number, onTimeout?: () => void): this {
    this.timeoutMs = ms;
    if (onTimeout) this.once("timeout", onTimeout);
    this.touch();
    return this;
  }

  /** A TCP reset: for the peer, the end of the stream. */
  resetAndDestroy(): this {
    return this.destroy();
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  destroySoon(): void {
    if (this.writableFinished) this.destroy();
    else this.end(() => this.destroy());
  }

  private touch(): void {
    clearTimeout(this.timer);
    if (this.timeoutMs > 0 && !this.destroyed)
      this.timer = setTimeout(() => this.emit("timeout"), this.timeoutMs).unref();
  }
}

export interface SocketPair {
  /** The fuzzer's end (as from net.connect). */
  client: Duplex & { remotePort: number };
  /** The end a listener would accept: give it to the handler, typed as the net.Socket it stands for. */
  server: PipeEnd;
}

let nextPort = 40_000;

/** A pair from `clientAddress` to `serverAddress:serverPort` (the addresses handlers may log). */
export function socketPair(
  clientAddress = "127.0.0.1",
  serverAddress = "127.0.0.1",
  serverPort = 1,
): SocketPair {
  nextPort = nextPort >= 65_000 ? 40_000 : nextPort + 1;
  const clientPort = nextPort;
  const client = new PipeEnd(false, serverAddress, serverPort, clientAddress, clientPort);
  const server = new PipeEnd(true, clientAddress, clientPort, serverAddress, serverPort);
  client.peer = server;
  server.peer = client;
  return { client, server };
}
