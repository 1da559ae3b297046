import { createServer, type Server, type Socket } from "node:net";
import { acceptForRelay, RELAY_HIGH_WATER_MARK, resetSocket } from "./relay.js";

export type ListenerKey = string;

export interface ListenerSpec {
  host: string;
  port: number;
  /**
   * Every socket this listener accepts goes to relay() or is refused: it is built with the
   * reused-buffer read path at accept (relay.ts acceptForRelay) and emits no 'data'.
   */
  relayOnly?: boolean;
  onConnection(socket: Socket): void;
}

export interface ReconcileResult {
  opened: ListenerKey[];
  closed: ListenerKey[];
  updated: ListenerKey[];
  /** Listeners that could not be opened (EADDRINUSE, EMFILE...); retried on the next reconcile. */
  failed: { key: ListenerKey; error: Error }[];
}

export interface ListenerSetOptions {
  /** Accept backlog per listener (default 511, as Node). */
  backlog?: number;
  /** Stream buffer size of accepted sockets; see RELAY_HIGH_WATER_MARK. */
  highWaterMark?: number;
  /** Called when a listener that was open fails later (rare: the kernel reports accept errors). */
  onError?(key: ListenerKey, error: Error): void;
  /**
   * Where a listener's socket comes from when this process cannot bind it itself: namespace mode
   * binds inside a VPC's network namespace and hands the bound socket over. Default: bind here.
   */
  bind?(host: string, port: number): Promise<Server>;
}

interface Entry {
  server: Server;
  spec: ListenerSpec;
}

export const listenerKey = (host: string, port: number): ListenerKey => `${host}:${port}`;

/**
 * TCP listeners converging to a desired set. Closing a listener stops accepting; connections it
 * already accepted belong to their owner (the relay), which resets them if it must.
 */
export class ListenerSet {
  private readonly entries = new Map<ListenerKey, Entry>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: ListenerSetOptions = {}) {}

  /** Serialised, so overlapping calls apply in order and each sees the previous one's result. */
  reconcile(desired: ReadonlyMap<ListenerKey, ListenerSpec>): Promise<ReconcileResult> {
    const run = this.queue.then(() => this.apply(desired));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Closes every listener. */
  close(): Promise<ReconcileResult> {
    return this.reconcile(new Map());
  }

  get size(): number {
    return this.entries.size;
  }

  keys(): ListenerKey[] {
    return [...this.entries.keys()];
  }

  has(key: ListenerKey): boolean {
    return this.entries.has(key);
  }

  /** The bound port, which differs from the spec's when it asked for port 0. */
  port(key: ListenerKey): number | undefined {
    const address = this.entries.get(key)?.server.address();
    return typeof address === "object" && address ? address.port : undefined;
  }

  private async apply(desired: ReadonlyMap<ListenerKey, ListenerSpec>): Promise<ReconcileResult> {
    const result: ReconcileResult = { opened: [], closed: [], updated: [], failed: [] };
    const closing: Promise<void>[] = [];
    for (const [key, entry] of this.entries) {
      const want = desired.get(key);
      // A key whose address changed is reopened: handlers are swapped in place, addresses not.
      if (want && want.host === entry.spec.host && want.port === entry.spec.port) continue;
      this.entries.delete(key);
      result.closed.push(key);
      closing.push(closeServer(entry.server));
    }
    const opening: Promise<void>[] = [];
    for (const [key, spec] of desired) {
      const entry = this.entries.get(key);
      if (entry) {
        if (entry.spec !== spec) result.updated.push(key);
        entry.spec = spec;
        continue;
      }
      opening.push(
        this.open(key, spec).then(
          () => void result.opened.push(key),
          (error: Error) => void result.failed.push({ key, error }),
        ),
      );
    }
    await Promise.all([...closing, ...opening]);
    return result;
  }

  private async open(key: ListenerKey, spec: ListenerSpec): Promise<void> {
    const bound = this.opts.bind ? await this.opts.bind(spec.host, spec.port) : undefined;
    const server = createServer({
      allowHalfOpen: true,
      pauseOnConnect: false,
      noDelay: true,
      highWaterMark: this.opts.highWaterMark ?? RELAY_HIGH_WATER_MARK,
    });
    const entry: Entry = { server, spec };
    // The handler is looked up per connection so that reconcile can swap it in place.
    server.on("connection", (socket: Socket) => entry.spec.onConnection(socket));
    return new Promise((resolve, reject) => {
      const onListenError = (error: Error) => {
        server.close();
        reject(error);
      };
      server.once("error", onListenError);
      const onListening = () => {
        server.off("error", onListenError);
        const hwm = this.opts.highWaterMark ?? RELAY_HIGH_WATER_MARK;
        acceptForRelay(server, () => entry.spec.relayOnly === true, hwm);
        server.on("error", (error: Error) => this.opts.onError?.(key, error));
        this.entries.set(key, entry);
        resolve();
      };
      // A handed-over socket is already bound and listening: this server takes over its handle.
      if (bound) server.listen(bound, onListening);
      else
        server.listen({ host: spec.host, port: spec.port, backlog: this.opts.backlog ?? 511 }, onListening);
    });
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    // close() resolves only after accepted sockets end; stop listening is all we wait for.
    server.close();
    setImmediate(resolve);
  });
}

/** Refuses an accepted connection with a TCP reset, as a closed port or a denied flow would. */
export function refuse(socket: Socket): void {
  socket.on("error", () => undefined);
  resetSocket(socket);
}
