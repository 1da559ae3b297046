/**
 * Several hosts on one machine, for the agent tests and `npm run bench -- agents`: each "host"
 * is a network namespace of its own (its own loopback, so every agent binds the same endpoint
 * addresses), with its own `privlink agent` process; a veth pair joins the hosts for the
 * agent-to-agent tunnel, and agents reach PostgreSQL through its Unix socket (file system, not
 * network). Nothing touches the machine's own interfaces. Needs root.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PACKAGE_ROOT } from "../src/privlink.js";
import { postgresMissing } from "./postgres.js";

export type HostName = "a" | "b";
export interface Host {
  readonly ns: string;
  readonly veth: string;
  /** The host's address on the link between the hosts (the tunnel listens there). */
  readonly ip: string;
}

const BIN = join(PACKAGE_ROOT, "bin/privlink.js");

/** Why hosts cannot be made here (not root, no `ip netns`, no socat, no PostgreSQL), or undefined. */
export function hostsMissing(): string | undefined {
  if (process.getuid?.() !== 0)
    return "not root (the hosts are network namespaces: CAP_NET_ADMIN, CAP_SYS_ADMIN)";
  for (const [cmd, args] of [
    ["ip", ["netns", "list"]],
    ["socat", ["-V"]],
  ] as const)
    try {
      execFileSync(cmd, args, { stdio: "ignore" });
    } catch (err) {
      return `'${cmd}' is unavailable: ${(err as Error).message}`;
    }
  return postgresMissing();
}

export interface TwoHosts {
  readonly hosts: Readonly<Record<HostName, Host>>;
  /** Runs a command in `host`'s namespace and returns its stdout (asynchronous: an API node may answer in this process). */
  run(host: HostName, args: string[], input?: string, timeoutMs?: number): Promise<string>;
  /** Starts a long-running process in `host`'s namespace (`ip netns exec` execs it: the PID is its own). */
  spawn(host: HostName, args: string[]): { child: ChildProcess; output: () => string };
  /** Starts `privlink agent` named after its host and waits for its banner. */
  startAgent(host: HostName, store: string, leaseSeconds: number): Promise<ChildProcess>;
  /**
   * Starts an API-only node (`privlink up --role api`) in `host`'s namespace, beside its agent,
   * on port 4599 there with a home of its own (where the CLI finds its admin token), and waits
   * for its banner.
   */
  startApi(host: HostName, store: string): Promise<{ child: ChildProcess; home: string }>;
  /** What every process started here said (for a failure's report). */
  outputs(): string[];
  /** Kills what was started here, by PID, and removes the namespaces (and with them the link). */
  close(): void;
}

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: "pipe" });

/** Two hosts `${tag}a` and `${tag}b` joined by a veth pair (192.168.250.1 and .2/24). */
export function makeTwoHosts(tag: string): TwoHosts {
  const hosts = {
    a: { ns: `${tag}a`, veth: `${tag}va`, ip: "192.168.250.1" },
    b: { ns: `${tag}b`, veth: `${tag}vb`, ip: "192.168.250.2" },
  } as const;
  const all = Object.values(hosts);
  for (const h of all) {
    // A namespace left by a crashed run with this tag: start clean.
    try {
      ip("netns", "del", h.ns);
    } catch {}
    ip("netns", "add", h.ns);
  }
  const children: ChildProcess[] = [];
  const said: (() => string)[] = [];
  const homes: string[] = [];
  const world: TwoHosts = {
    hosts,
    run(host, args, input, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const child = execFile(
          "ip",
          ["netns", "exec", hosts[host].ns, ...args],
          { encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
          (err, out, errOut) => (err ? reject(new Error(`${err.message}${errOut}`)) : resolve(out)),
        );
        child.stdin!.end(input ?? "");
      });
    },
    spawn(host, args) {
      let out = "";
      const child = spawn("ip", ["netns", "exec", hosts[host].ns, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout!.on("data", (d) => (out += d));
      child.stderr!.on("data", (d) => (out += d));
      children.push(child);
      said.push(() => `${host}: ${args.slice(0, 3).join(" ")}: ${out}`);
      return { child, output: () => out };
    },
    startAgent: (host, store, leaseSeconds) =>
      started(host, "agent", [
        "agent",
        "--store",
        store,
        "--name",
        host,
        "--listen",
        `${hosts[host].ip}:4600`,
        "--lease",
        String(leaseSeconds),
      ]),
    async startApi(host, store) {
      const home = mkdtempSync(join(tmpdir(), `privlink-api-${host}-`));
      homes.push(home);
      const child = await started(host, "privlink", [
        "up",
        "--role",
        "api",
        "--store",
        store,
        "--home",
        home,
        "--port",
        "4599",
      ]);
      return { child, home };
    },
    outputs: () => said.map((s) => s()),
    close() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
      for (const h of all)
        try {
          ip("netns", "del", h.ns);
        } catch {}
      for (const home of homes) rmSync(home, { recursive: true, force: true });
    },
  };
  /** Runs bin/privlink.js with `args` in `host` and waits for its "is running" banner. */
  async function started(host: HostName, what: string, args: string[]): Promise<ChildProcess> {
    const { child, output } = world.spawn(host, [process.execPath, BIN, ...args]);
    const end = Date.now() + 30_000;
    while (!output().includes("is running")) {
      if (child.exitCode !== null) throw new Error(`${what} on ${host} exited: ${output()}`);
      if (Date.now() > end) throw new Error(`${what} on ${host} did not start: ${output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return child;
  }
  try {
    ip(
      "link",
      "add",
      hosts.a.veth,
      "netns",
      hosts.a.ns,
      "type",
      "veth",
      "peer",
      "name",
      hosts.b.veth,
      "netns",
      hosts.b.ns,
    );
    for (const h of all) {
      ip("-n", h.ns, "link", "set", "lo", "up");
      ip("-n", h.ns, "addr", "add", `${h.ip}/24`, "dev", h.veth);
      ip("-n", h.ns, "link", "set", h.veth, "up");
    }
  } catch (err) {
    world.close();
    throw err;
  }
  return world;
}
