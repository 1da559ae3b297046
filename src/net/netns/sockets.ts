import { type ChildProcess, spawn } from "node:child_process";
import type { Socket as UdpSocket } from "node:dgram";
import type { Server } from "node:net";

/**
 * The helper that binds sockets inside one network namespace. A Node process cannot enter a
 * namespace itself (no setns), but a socket keeps the namespace it was made in: the helper runs
 * under `ip netns exec`, binds what it is asked, and hands each bound socket to privlink over the
 * IPC channel (SCM_RIGHTS). privlink then accepts and answers on it as on any of its own; the
 * helper holds nothing afterwards. It is inline so that it runs the same from src/ and dist/.
 */
const HELPER = `
const net = require("node:net");
const dgram = require("node:dgram");
const reply = (id, err) => process.send({ id, error: err.message });
process.on("message", (m) => {
  if (m.op === "tcp") {
    const s = net.createServer();
    s.once("error", (e) => reply(m.id, e));
    s.listen({ host: m.host, port: m.port, backlog: 511 }, () => process.send({ id: m.id }, s, () => s.close()));
  } else if (m.op === "udp") {
    const s = dgram.createSocket("udp4");
    s.once("error", (e) => reply(m.id, e));
    s.bind({ address: m.host, port: m.port, exclusive: true }, () => process.send({ id: m.id }, s, () => s.close()));
  }
});
process.on("disconnect", () => process.exit(0));
`;

type Pending = { resolve(handle: unknown): void; reject(err: Error): void };

/**
 * A helper process under `ip netns exec` that answers requests on Node's IPC channel, with a
 * socket handle or `{error, code}`: the socket helpers of namespace mode share this plumbing.
 */
export class HelperChannel {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private next = 1;
  private exited?: Error;

  constructor(
    readonly namespace: string,
    private readonly what: string,
    command: readonly string[],
  ) {
    this.child = spawn("ip", ["netns", "exec", namespace, ...command], {
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    this.child.on("message", (m: { id: number; error?: string; code?: string }, handle: unknown) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.reject(new HelperError(`${namespace}: ${m.error}`, m.code ?? "EIO"));
      else p.resolve(handle);
    });
    const gone = (why: string) => {
      this.exited ??= new Error(`the ${what} of ${namespace} ${why}`);
      for (const p of this.pending.values()) p.reject(this.exited);
      this.pending.clear();
    };
    this.child.on("error", (err) => gone(`cannot start: ${err.message}`));
    this.child.on("exit", (code) => gone(`exited (${code})`));
  }

  close(): void {
    if (this.child.connected) this.child.disconnect();
  }

  ask(message: Record<string, unknown>): Promise<unknown> {
    if (this.exited || !this.child.connected)
      return Promise.reject(this.exited ?? new Error(`the ${this.what} of ${this.namespace} is closed`));
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...message, id });
    });
  }
}

/** What a helper refused, with the errno name (EADDRINUSE, ECONNREFUSED…) when there is one. */
export class HelperError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export class NamespaceSockets {
  private readonly channel: HelperChannel;

  constructor(readonly namespace: string) {
    this.channel = new HelperChannel(namespace, "socket helper", [process.execPath, "-e", HELPER]);
  }

  /** A TCP socket bound and listening at host:port inside the namespace. */
  tcp(host: string, port: number): Promise<Server> {
    return this.channel.ask({ op: "tcp", host, port }) as Promise<Server>;
  }

  /** A UDP socket bound at host:port inside the namespace. */
  udp(host: string, port: number): Promise<UdpSocket> {
    return this.channel.ask({ op: "udp", host, port }) as Promise<UdpSocket>;
  }

  close(): void {
    this.channel.close();
  }
}
