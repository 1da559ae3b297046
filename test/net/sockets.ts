import { createHash } from "node:crypto";
import { connect, createServer, type Server, type Socket } from "node:net";
import {
  adoptAccepted,
  type CloseReason,
  connectUpstream,
  type RelayHandle,
  type RelayOptions,
  relay,
} from "../../src/net/relay.js";

export interface Listening {
  server: Server;
  port: number;
  host: string;
  /** Accepted sockets, so a test can act on the server side of a connection. */
  accepted: Socket[];
  close(): Promise<void>;
}

/** A half-open capable server on a free port; every accepted socket gets an error listener. */
export function listen(onConnection: (socket: Socket) => void, host = "127.0.0.1"): Promise<Listening> {
  const server = createServer({ allowHalfOpen: true, noDelay: true });
  const accepted: Socket[] = [];
  server.on("connection", (socket) => {
    accepted.push(socket);
    socket.on("error", () => undefined);
    onConnection(socket);
  });
  return new Promise((resolve) => {
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      const close = () =>
        new Promise<void>((done) => {
          for (const s of accepted) s.destroy();
          server.close(() => done());
        });
      resolve({ server, port, host, accepted, close });
    });
  });
}

export const echo = (socket: Socket) => socket.pipe(socket);

export interface RecordedMeter {
  bytesIn: number;
  bytesOut: number;
  reasons: CloseReason[];
  closed: Promise<CloseReason>;
  meter: RelayOptions["meter"];
}

export function recordMeter(): RecordedMeter {
  let onClosed: (r: CloseReason) => void = () => undefined;
  const rec: RecordedMeter = {
    bytesIn: 0,
    bytesOut: 0,
    reasons: [],
    closed: new Promise((resolve) => {
      onClosed = resolve;
    }),
    meter: {
      bytesIn: (n) => {
        rec.bytesIn += n;
      },
      bytesOut: (n) => {
        rec.bytesOut += n;
      },
      closed: (reason) => {
        rec.reasons.push(reason);
        onClosed(reason);
      },
    },
  };
  return rec;
}

export interface Frontend extends Listening {
  relays: RelayHandle[];
  /** The client sockets the relays read (adopted ones differ from `accepted`). */
  clients: Socket[];
  meters: RecordedMeter[];
}

/** A listener that relays every connection to `target`, recording one meter per connection. */
export async function frontend(
  target: { host: string; port: number },
  opts: Partial<Omit<RelayOptions, "meter">> & {
    preambleFor?: (client: Socket) => Buffer;
    /** connectUpstream's zero-allocation read path (default) or socket.pipe both ways. */
    fastRead?: boolean;
    /** Reads the client through adoptAccepted's reused buffers too (as the data plane does). */
    adopt?: boolean;
  } = {},
): Promise<Frontend> {
  const relays: RelayHandle[] = [];
  const clients: Socket[] = [];
  const meters: RecordedMeter[] = [];
  const listening = await listen((accepted) => {
    const m = recordMeter();
    meters.push(m);
    const preamble = opts.preambleFor?.(accepted) ?? opts.preamble;
    const client = opts.adopt ? adoptAccepted(accepted) : accepted;
    clients.push(client);
    relays.push(
      relay(client, () => connectUpstream(target, { fastRead: opts.fastRead }), {
        idleTimeoutMs: opts.idleTimeoutMs ?? 60_000,
        idle: opts.idle,
        preamble,
        meter: m.meter,
      }),
    );
  });
  return { ...listening, relays, clients, meters };
}

export interface Received {
  data: Buffer;
  error?: NodeJS.ErrnoException;
  /** True when the stream ended with a FIN (not an error). */
  ended: boolean;
}

/** Everything a socket receives until it closes, and how it closed. */
export function collect(socket: Socket): Promise<Received> {
  const chunks: Buffer[] = [];
  let error: NodeJS.ErrnoException | undefined;
  let ended = false;
  socket.on("data", (c: Buffer) => chunks.push(c));
  socket.on("end", () => {
    ended = true;
  });
  socket.on("error", (e) => {
    error = e;
  });
  return new Promise((resolve) =>
    socket.once("close", () => resolve({ data: Buffer.concat(chunks), error, ended })),
  );
}

/** Server-side collector that answers the peer's FIN with its own, as a plain server would. */
export function collectAndEnd(socket: Socket): Promise<Received> {
  socket.once("end", () => socket.end());
  return collect(socket);
}

export function dial(port: number, host = "127.0.0.1"): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host, allowHalfOpen: true });
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** A port that nothing listens on: bound, then released. */
export async function closedPort(host = "127.0.0.1"): Promise<number> {
  const l = await listen(() => undefined, host);
  await l.close();
  return l.port;
}

export const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

export function connectionCount(server: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
  );
}

/** Waits until `cond` holds, polling on the event loop; bounded so a failing test ends. */
export async function eventually(cond: () => boolean | Promise<boolean>, tries = 500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("condition not reached");
}
