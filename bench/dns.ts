/**
 * DNS throughput: privlink's resolver against unbound, both holding the same 10,000 A records,
 * measured with dnsperf over UDP on loopback for a bounded time. A tool that is not installed
 * is skipped with a note (Debian packages: dnsperf, unbound).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import dgram from "node:dgram";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import packet from "dns-packet";
import { type RR, startDnsServer, View } from "../src/dns/index.js";

export type DnsBenchOptions = {
  /** Seconds per server, at most 10 (default 5). */
  durationSec?: number;
  records?: number;
  /** dnsperf -c (default 4) and -q (default 100). */
  clients?: number;
  outstanding?: number;
  dnsperf?: string;
  unbound?: string;
};

export type DnsBenchRow = {
  server: "privlink" | "unbound";
  qps?: number;
  avgLatencyMs?: number;
  minLatencyMs?: number;
  maxLatencyMs?: number;
  stddevLatencyMs?: number;
  queriesCompleted?: number;
  queriesLost?: number;
  responseCodes?: string;
  /** qps / unbound's qps in the same run. */
  vsUnbound?: number;
  note?: string;
};

/** Adds each row's qps as a share of unbound's, measured in the same run (when it was). */
export function withVsUnbound<R extends { server: string; qps?: number; vsUnbound?: number }>(
  rows: R[],
): R[] {
  const base = rows.find((r) => r.server === "unbound")?.qps;
  if (!base) return rows;
  return rows.map((r) => (r.qps === undefined ? r : { ...r, vsUnbound: r.qps / base }));
}

const HOST = "127.0.0.1";
const ZONE = "bench.test";
const hostName = (i: number) => `host-${i}.${ZONE}`;
const address = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

export async function benchDns(opts: DnsBenchOptions = {}): Promise<DnsBenchRow[]> {
  const durationSec = Math.min(Math.max(opts.durationSec ?? 5, 1), 10);
  const records = opts.records ?? 10_000;
  const dnsperf = opts.dnsperf ?? "/usr/bin/dnsperf";
  const unbound = opts.unbound ?? "/usr/sbin/unbound";
  if (!existsSync(dnsperf)) {
    const note = `skipped: ${dnsperf} not installed (apt-get install dnsperf)`;
    return [
      { server: "privlink", note },
      { server: "unbound", note },
    ];
  }
  const dir = await mkdtemp(join(tmpdir(), "privlink-dnsbench-"));
  try {
    const queries = join(dir, "queries.txt");
    await writeFile(queries, Array.from({ length: records }, (_, i) => `${hostName(i)} A\n`).join(""));
    const run = (port: number) =>
      runDnsperf(dnsperf, [
        ...["-s", HOST, "-p", String(port), "-d", queries, "-l", String(durationSec)],
        ...["-c", String(opts.clients ?? 4), "-q", String(opts.outstanding ?? 100), "-t", "2"],
      ]);
    const rows: DnsBenchRow[] = [{ server: "privlink", ...(await benchPrivlink(records, run)) }];
    if (existsSync(unbound))
      rows.push({
        server: "unbound",
        ...(await withUnbound(
          unbound,
          dir,
          ZONE,
          Array.from({ length: records }, (_, i) => ({ name: hostName(i), address: address(i) })),
          (_host, port) => run(port),
        )),
      });
    else
      rows.push({ server: "unbound", note: `skipped: ${unbound} not installed (apt-get install unbound)` });
    return withVsUnbound(rows);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

type Measured = Omit<DnsBenchRow, "server">;

async function benchPrivlink(records: number, run: (port: number) => Promise<Measured>): Promise<Measured> {
  const rrs: RR[] = Array.from({ length: records }, (_, i) => ({
    name: hostName(i),
    type: "A",
    ttl: 60,
    data: address(i),
  }));
  const view = new View([{ origin: ZONE, records: rrs }]);
  const server = await startDnsServer({ host: HOST, port: 0, view: () => view });
  try {
    return await run(server.port);
  } finally {
    await server.close();
  }
}

/**
 * Runs unbound (one thread, like privlink's one event loop) serving `records` as local data of
 * `zone` on 127.0.0.1, calls `run` against it and stops it, by PID. The port is free when probed
 * but unbound may still lose a race for it, so this tries a few.
 */
export async function withUnbound<M>(
  bin: string,
  dir: string,
  zone: string,
  records: readonly { name: string; address: string }[],
  run: (host: string, port: number) => Promise<M>,
): Promise<M | { note: string }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const conf = join(dir, "unbound.conf");
    await writeFile(conf, unboundConfig(dir, HOST, port, zone, records));
    const child = spawn(bin, ["-d", "-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (d) => {
      stderr += String(d);
    });
    try {
      if (!(await answers(port, records[0]!.name, child))) {
        if (attempt === 2) return { note: `unbound did not start: ${stderr.trim().slice(0, 300)}` };
        continue;
      }
      return await run(HOST, port);
    } finally {
      await stop(child);
    }
  }
  return { note: "unbound did not start" };
}

function unboundConfig(
  dir: string,
  host: string,
  port: number,
  zone: string,
  records: readonly { name: string; address: string }[],
): string {
  return [
    "server:",
    `  interface: ${host}`,
    `  port: ${port}`,
    "  do-daemonize: no",
    '  chroot: ""',
    '  username: ""',
    `  directory: "${dir}"`,
    '  pidfile: ""',
    "  use-syslog: no",
    "  verbosity: 0",
    "  do-ip6: no",
    // One thread, like privlink's one event loop: the comparison is per core.
    "  num-threads: 1",
    '  module-config: "iterator"',
    "  access-control: 127.0.0.0/8 allow",
    `  local-zone: "${zone}." static`,
    ...records.map((r) => `  local-data: "${r.name}. 60 IN A ${r.address}"`),
    "remote-control:",
    "  control-enable: no",
    "",
  ].join("\n");
}

/** Polls until the server answers a query (bounded: about 10 s), or the process exits. */
async function answers(port: number, name: string, child: ChildProcess): Promise<boolean> {
  const q = packet.encode({ type: "query", id: 1, questions: [{ name, type: "A" }] });
  for (let i = 0; i < 100 && child.exitCode === null; i++) {
    if (await udpAnswered(port, q, 100)) return true;
  }
  return false;
}

function udpAnswered(port: number, msg: Buffer, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket("udp4");
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), ms);
    sock.on("error", () => done(false));
    sock.on("message", () => done(true));
    sock.send(msg, port, HOST);
  });
}

/** Ends the process we started, by its PID, and waits for it. */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => process.kill(child.pid!, "SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    process.kill(child.pid!, "SIGTERM");
  });
}

/** A port free for both UDP and TCP right now. */
async function freePort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const srv = net.createServer();
    const port = await new Promise<number>((resolve) =>
      srv.listen(0, HOST, () => resolve((srv.address() as net.AddressInfo).port)),
    );
    const udp = dgram.createSocket("udp4");
    const ok = await new Promise<boolean>((resolve) => {
      udp.once("error", () => resolve(false));
      udp.bind(port, HOST, () => resolve(true));
    });
    await new Promise<void>((r) => srv.close(() => r()));
    await new Promise<void>((r) => udp.close(() => r()));
    if (ok) return port;
  }
  throw new Error("no free port");
}

export function runDnsperf(bin: string, args: string[]): Promise<Measured> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
      const m = parseDnsperf(stdout ?? "");
      if (m.qps === undefined)
        resolve({ note: `dnsperf failed: ${String(err ?? "no statistics").slice(0, 300)}` });
      else resolve(m);
    });
  });
}

export function parseDnsperf(out: string): Measured {
  const num = (re: RegExp) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : undefined;
  };
  const ms = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * 1e6) / 1e3);
  const latency = /Average Latency \(s\):\s+([\d.]+) \(min ([\d.]+), max ([\d.]+)\)/.exec(out);
  return {
    qps: num(/Queries per second:\s+([\d.]+)/),
    avgLatencyMs: ms(latency ? Number(latency[1]) : undefined),
    minLatencyMs: ms(latency ? Number(latency[2]) : undefined),
    maxLatencyMs: ms(latency ? Number(latency[3]) : undefined),
    stddevLatencyMs: ms(num(/Latency StdDev \(s\):\s+([\d.]+)/)),
    queriesCompleted: num(/Queries completed:\s+(\d+)/),
    queriesLost: num(/Queries lost:\s+(\d+)/),
    responseCodes: /Response codes:\s+(.*)/.exec(out)?.[1]?.trim(),
  };
}
