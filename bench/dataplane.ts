/**
 * Data-plane benchmark: the privlink relay against direct loopback, socat and HAProxy.
 *
 * The load generator (clients, the bulk source and the echo server) runs in a child process so
 * that the proxy under test has a core of its own. Proxies: the relay runs in this process;
 * socat and HAProxy are their own processes, started here and killed by PID.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListenerSet, type ListenerSpec } from "../src/net/listener.js";
import {
  connectUpstream,
  RELAY_HIGH_WATER_MARK,
  type RelayMeter,
  relay,
  type UpstreamOptions,
} from "../src/net/relay.js";

export interface Row {
  case: string;
  via: string;
  value: number;
  unit: string;
  higherIsBetter: boolean;
  /** value / HAProxy's value for the same case; null where HAProxy was not measured. */
  vsHaproxy: number | null;
  /** CPU the proxy used during the case, in cores (1 = one core saturated). */
  proxyCpu?: number;
  /** CPU the load generator used during the case, in cores: near 1 means it was the limit. */
  loadCpu?: number;
  note?: string;
}

export interface BenchDataplaneOptions {
  /** Measuring time per case; capped at 5 s. */
  durationMs?: number;
  /** Proxies to compare; default all available. */
  vias?: string[];
  /** Listeners for the scale case (capped by the file-descriptor limit); 0 skips it. */
  listeners?: number;
  /** Concurrent connection loops in the connections-per-second case. */
  concurrency?: number;
  /** Which measurements to run; default all. */
  cases?: ("throughput" | "connections" | "latency")[];
}

const SOCAT = "/usr/bin/socat";
const HAPROXY = "/usr/sbin/haproxy";
const WARMUP_MS = 300;

/** The load generator's servers: a bulk source, a sink and a one-shot echo. */
const TARGETS = ["source", "sink", "echo"] as const;
type Target = (typeof TARGETS)[number];
type Ports = Record<Target, number>;

interface Proxy {
  via: string;
  /** The proxy's frontend port for each of the load generator's servers. */
  ports: Ports;
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export async function benchDataplane(opts: BenchDataplaneOptions = {}): Promise<Row[]> {
  const durationMs = Math.min(opts.durationMs ?? 3000, 5000);
  const rows: Row[] = [];
  if ((opts.listeners ?? 20_000) > 0) rows.push(...(await benchListeners(opts.listeners ?? 20_000)));
  const gen = await LoadGenerator.start();
  const proxies: Proxy[] = [];
  try {
    const wanted = new Set(
      opts.vias ?? ["direct", "relay", "relay-pipe", "relay-pipe-16k", "socat", "haproxy"],
    );
    if (wanted.has("direct")) proxies.push(direct(gen));
    // "relay", "relay-pipe", "relay-pipe-16k": the relay with its fast upstream read path, with
    // socket.pipe both ways instead, and with another stream buffer size.
    for (const via of wanted) {
      const m = /^relay(-pipe)?(?:-(\d+)k)?$/.exec(via);
      if (!m) continue;
      const highWaterMark = m[2] ? Number(m[2]) * 1024 : RELAY_HIGH_WATER_MARK;
      proxies.push(await startRelay(gen, via, { highWaterMark, fastRead: !m[1] }));
    }
    if (wanted.has("socat") && ensureInstalled(SOCAT, "socat")) proxies.push(await startSocat(gen));
    if (wanted.has("haproxy") && ensureInstalled(HAPROXY, "haproxy")) proxies.push(await startHaproxy(gen));
    const cases = new Set(opts.cases ?? ["throughput", "connections", "latency"]);
    for (const p of proxies) rows.push(...(await measure(gen, p, durationMs, opts.concurrency ?? 8, cases)));
  } finally {
    for (const p of proxies) await p.stop();
    await gen.stop();
  }
  addedLatency(rows);
  return withRatios(rows);
}

async function measure(
  gen: LoadGenerator,
  p: Proxy,
  durationMs: number,
  concurrency: number,
  cases: Set<string>,
): Promise<Row[]> {
  const rows: Row[] = [];
  const row = (c: string, value: number, unit: string, higherIsBetter: boolean, cpu?: Cpu): Row => ({
    case: c,
    via: p.via,
    value,
    unit,
    higherIsBetter,
    vsHaproxy: null,
    proxyCpu: cpu && Math.round(cpu.proxy * 100) / 100,
    loadCpu: cpu && Math.round(cpu.load * 100) / 100,
  });
  const flows = cases.has("throughput") ? STREAM_CASES : [];
  for (const { direction, streams } of flows) {
    const target = direction === "download" ? "source" : "sink";
    const r = await withCpu(gen, p, () =>
      gen.request<StreamResult>({ cmd: "stream", port: p.ports[target], direction, streams, durationMs }),
    );
    const name = `${direction}, ${streams} stream${streams > 1 ? "s" : ""}`;
    rows.push(row(`throughput ${name}`, mib(r.value), "MiB/s", true, r.cpu));
    if (p.via !== "direct")
      rows.push(row(`proxy CPU per GiB, ${name}`, (r.cpu.proxy * 1024 * 1000) / mib(r.value), "ms", false));
  }
  if (cases.has("connections")) {
    const c = await withCpu(gen, p, () =>
      gen.request<ConnResult>({ cmd: "conns", port: p.ports.echo, concurrency, durationMs }),
    );
    rows.push(row(`new connections/s (${concurrency} loops)`, c.value.rate, "conn/s", true, c.cpu));
    if (p.via !== "direct")
      rows.push(row("proxy CPU per connection", (c.cpu.proxy * 1e6) / c.value.rate, "µs", false));
  }
  if (!cases.has("latency")) return rows;
  const lat = await gen.request<ConnResult>({
    cmd: "conns",
    port: p.ports.echo,
    concurrency: 1,
    durationMs: Math.min(durationMs, 2000),
  });
  rows.push(row("connect+1-byte echo, p50", lat.p50Us, "µs", false));
  rows.push(row("connect+1-byte echo, p99", lat.p99Us, "µs", false));
  return rows;
}

const STREAM_CASES = [
  { direction: "download", streams: 1 },
  { direction: "download", streams: 4 },
  { direction: "upload", streams: 1 },
  { direction: "upload", streams: 4 },
] as const;

const mib = (r: StreamResult) => r.bytes / r.seconds / 2 ** 20;

interface Cpu {
  proxy: number;
  load: number;
}

async function withCpu<T>(
  gen: LoadGenerator,
  p: Proxy,
  run: () => Promise<T>,
): Promise<{ value: T; cpu: Cpu }> {
  const [proxy0, load0] = [p.cpuSeconds(), gen.cpuSeconds()];
  const t0 = performance.now();
  const value = await run();
  const seconds = (performance.now() - t0) / 1000;
  const cores = (used: number) => used / seconds;
  return { value, cpu: { proxy: cores(p.cpuSeconds() - proxy0), load: cores(gen.cpuSeconds() - load0) } };
}

/** Latency the proxy adds over direct loopback, from the p50/p99 rows. */
function addedLatency(rows: Row[]): void {
  for (const pct of ["p50", "p99"]) {
    const c = `connect+1-byte echo, ${pct}`;
    const base = rows.find((r) => r.case === c && r.via === "direct");
    if (!base) continue;
    for (const r of rows.filter((x) => x.case === c && x.via !== "direct")) {
      rows.push({ ...r, case: `added connect latency, ${pct}`, value: r.value - base.value });
    }
  }
}

function withRatios(rows: Row[]): Row[] {
  return rows.map((r) => {
    const h = rows.find((x) => x.case === r.case && x.via === "haproxy");
    const ratio = h && h.value !== 0 ? Math.round((r.value / h.value) * 100) / 100 : null;
    return { ...r, value: Math.round(r.value * 10) / 10, vsHaproxy: ratio };
  });
}

// ---------------------------------------------------------------------------------------------
// Proxies under test

function direct(gen: LoadGenerator): Proxy {
  return { via: "direct", ports: gen.ports, cpuSeconds: () => 0, stop: async () => {} };
}

async function startRelay(gen: LoadGenerator, via: string, upstream: UpstreamOptions): Promise<Proxy> {
  const set = new ListenerSet({ highWaterMark: upstream.highWaterMark });
  const meter: RelayMeter = { bytesIn: () => {}, bytesOut: () => {}, closed: () => {} };
  const spec = (targetPort: number): ListenerSpec => ({
    host: "127.0.0.1",
    port: 0,
    onConnection: (client) =>
      relay(client, () => connectUpstream({ host: "127.0.0.1", port: targetPort }, upstream), {
        idleTimeoutMs: 350_000,
        meter,
      }),
  });
  await set.reconcile(new Map(TARGETS.map((t) => [t, spec(gen.ports[t])])));
  const ports = Object.fromEntries(TARGETS.map((t) => [t, set.port(t)!])) as Ports;
  const cpuSeconds = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  return { via, ports, cpuSeconds, stop: () => set.close().then() };
}

async function freePorts(): Promise<Ports> {
  const ports = {} as Ports;
  for (const t of TARGETS) ports[t] = await freePort();
  return ports;
}

async function startSocat(gen: LoadGenerator): Promise<Proxy> {
  const ports = await freePorts();
  const procs = TARGETS.map((t) =>
    spawn(SOCAT, [`TCP-LISTEN:${ports[t]},bind=127.0.0.1,fork,reuseaddr`, `TCP:127.0.0.1:${gen.ports[t]}`], {
      stdio: "ignore",
    }),
  );
  await Promise.all(TARGETS.map((t) => waitForPort(ports[t])));
  return {
    via: "socat",
    ports,
    cpuSeconds: () => procs.reduce((sum, p) => sum + processTreeCpuSeconds(p.pid!), 0),
    stop: () => Promise.all(procs.map(stopProcess)).then(),
  };
}

async function startHaproxy(gen: LoadGenerator): Promise<Proxy> {
  const ports = await freePorts();
  const dir = mkdtempSync(join(tmpdir(), "privlink-haproxy-"));
  const cfg = join(dir, "haproxy.cfg");
  // Only what HAProxy refuses to run without (mode and timeouts); everything else is default.
  const sections = TARGETS.flatMap((t) => [
    `listen ${t}`,
    `  bind 127.0.0.1:${ports[t]}`,
    `  server s 127.0.0.1:${gen.ports[t]}`,
  ]);
  writeFileSync(
    cfg,
    [
      "defaults",
      "  mode tcp",
      "  timeout connect 5s",
      "  timeout client 350s",
      "  timeout server 350s",
      ...sections,
      "",
    ].join("\n"),
  );
  const proc = spawn(HAPROXY, ["-db", "-f", cfg], { stdio: "ignore" });
  await Promise.all(TARGETS.map((t) => waitForPort(ports[t])));
  return {
    via: "haproxy",
    ports,
    cpuSeconds: () => procCpuSeconds(proc.pid!, false),
    stop: async () => {
      await stopProcess(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** socat and HAProxy come from Debian packages; installs one when it is missing. */
function ensureInstalled(path: string, pkg: string): boolean {
  if (existsSync(path)) return true;
  const apt = (args: string[]) => execFileSync("apt-get", args, { stdio: "ignore", timeout: 300_000 });
  try {
    apt(["install", "-y", pkg]);
  } catch {
    try {
      apt(["update"]);
      apt(["install", "-y", pkg]);
    } catch {
      return false;
    }
  }
  return existsSync(path);
}

/** utime+stime (and reaped children's) of a process, from /proc. */
function procCpuSeconds(pid: number, withChildren: boolean): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14-17 of stat(5): utime stime cutime cstime; here offset by the 2 skipped fields.
    const ticks = fields.slice(11, withChildren ? 15 : 13).reduce((s, f) => s + Number(f), 0);
    return ticks / 100;
  } catch {
    return 0;
  }
}

/** socat forks per connection: its CPU, its reaped children's and its live children's. */
function processTreeCpuSeconds(pid: number): number {
  let total = procCpuSeconds(pid, true);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) total += procCpuSeconds(Number(entry), false);
    } catch {
      // the process ended while we looked
    }
  }
  return total;
}

function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => proc.kill("SIGKILL"), 3000);
    proc.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    proc.kill("SIGTERM");
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

// ---------------------------------------------------------------------------------------------
// Listener scale

async function benchListeners(requested: number): Promise<Row[]> {
  const { count, limit } = listenerBudget(requested);
  const set = new ListenerSet({ backlog: 64 });
  const desired = new Map<string, ListenerSpec>();
  const refuseAll = (s: Socket) => s.resetAndDestroy();
  for (let i = 0; i < count; i++) {
    // 127.S.x.y as privlink assigns ENI addresses; every one of 127/8 is bindable without setup.
    const host = `127.201.${(i >> 8) & 0xff}.${(i & 0xff) + 0}`;
    desired.set(`${host}:8443`, { host, port: 8443, onConnection: refuseAll });
  }
  globalThis.gc?.();
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const opened = await set.reconcile(desired);
  const setupMs = performance.now() - t0;
  const rss1 = process.memoryUsage().rss;
  const t1 = performance.now();
  await set.close();
  const closeMs = performance.now() - t1;
  const note =
    count < requested
      ? `${count} of ${requested} requested: RLIMIT_NOFILE is ${limit} here (one fd per listener)`
      : `${count} listeners`;
  const failed = opened.failed.length
    ? `; ${opened.failed.length} failed (${opened.failed[0]!.error.message})`
    : "";
  const row = (c: string, value: number, unit: string): Row => ({
    case: c,
    via: "relay",
    value,
    unit,
    higherIsBetter: false,
    vsHaproxy: null,
    note: note + failed,
  });
  return [
    row("listeners: open all", setupMs, "ms"),
    row("listeners: close all", closeMs, "ms"),
    row("listeners: RSS per listener", (rss1 - rss0) / Math.max(1, opened.opened.length), "bytes"),
    row("listeners: RSS added", (rss1 - rss0) / 2 ** 20, "MiB"),
  ];
}

function listenerBudget(requested: number): { count: number; limit: number } {
  const line = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith("Max open files"));
  const limit = Number(line?.split(/\s+/)[3] ?? 1024);
  const inUse = readdirSync("/proc/self/fd").length;
  // Keep headroom for the load generator's pipes, the proxies and the runtime itself.
  return { count: Math.max(0, Math.min(requested, limit - inUse - 200)), limit };
}

// ---------------------------------------------------------------------------------------------
// Load generator: runs in a child process (its source is serialised from loadGenerator below)

interface StreamResult {
  bytes: number;
  seconds: number;
  errors: number;
}
interface ConnResult {
  rate: number;
  count: number;
  errors: number;
  p50Us: number;
  p99Us: number;
}

class LoadGenerator {
  private seq = 0;
  private readonly waiting = new Map<number, (v: unknown) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly ports: Ports,
  ) {
    child.on("message", (m: { id: number; result: unknown }) => {
      this.waiting.get(m.id)?.(m.result);
      this.waiting.delete(m.id);
    });
  }

  static async start(): Promise<LoadGenerator> {
    const code = `const __name = (f) => f;\n(${loadGenerator.toString()})(${JSON.stringify(WARMUP_MS)});`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", code], {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const ports = await new Promise<Ports>((resolve, reject) => {
      child.once("message", resolve);
      child.once("exit", (code) => reject(new Error(`load generator exited with ${code}: ${stderr}`)));
    });
    return new LoadGenerator(child, ports);
  }

  request<T>(msg: Record<string, unknown>): Promise<T> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      const onExit = () => reject(new Error("load generator died"));
      this.child.once("exit", onExit);
      this.waiting.set(id, (v) => {
        this.child.off("exit", onExit);
        resolve(v as T);
      });
      this.child.send({ ...msg, id });
    });
  }

  cpuSeconds(): number {
    return procCpuSeconds(this.child.pid!, false);
  }

  stop(): Promise<void> {
    return stopProcess(this.child);
  }
}

/**
 * The child's whole program. Self-contained (it is shipped as source text): a source that
 * writes a fixed buffer as fast as the peer reads, a sink that counts, an echo server that
 * answers one chunk then closes, and clients: downloaders read into one reused buffer so that
 * the generator allocates nothing per chunk, uploaders write one fixed buffer.
 */
async function loadGenerator(warmupMs: number): Promise<void> {
  const net = await import("node:net");
  const send = (m: unknown) => process.send!(m);
  const chunk = Buffer.alloc(256 * 1024, 0x5a);

  const source = net.createServer({ noDelay: true }, (s) => {
    s.on("error", () => {});
    const pump = () => {
      while (!s.destroyed && s.write(chunk));
      if (!s.destroyed) s.once("drain", pump);
    };
    pump();
  });
  let sinkBytes = 0;
  const sink = net.createServer({ noDelay: true }, (s) => {
    s.on("error", () => {});
    s.on("data", (c: Buffer) => {
      sinkBytes += c.length;
    });
  });
  const echo = net.createServer({ noDelay: true }, (s) => {
    s.on("error", () => {});
    s.once("data", (d) => s.end(d));
  });
  const listen = (srv: import("node:net").Server) =>
    new Promise<number>((r) => srv.listen(0, "127.0.0.1", () => r((srv.address() as { port: number }).port)));
  send({ source: await listen(source), sink: await listen(sink), echo: await listen(echo) });

  const readBuffer = Buffer.alloc(256 * 1024);
  let downloaded = 0;

  function downloader(port: number) {
    return net.connect({
      port,
      host: "127.0.0.1",
      onread: {
        buffer: readBuffer,
        callback: (n: number) => {
          downloaded += n;
          return true;
        },
      },
    });
  }

  function uploader(port: number) {
    const s = net.connect({ port, host: "127.0.0.1", noDelay: true });
    const pump = () => {
      while (!s.destroyed && s.write(chunk));
      if (!s.destroyed) s.once("drain", pump);
    };
    s.once("connect", pump);
    return s;
  }

  /** Bytes that crossed the proxy during the measuring window, counted where they arrive. */
  function stream(port: number, direction: string, streams: number, durationMs: number) {
    const arrived = () => (direction === "download" ? downloaded : sinkBytes);
    return new Promise((resolve) => {
      let errors = 0;
      const sockets = Array.from({ length: streams }, () => {
        const s = direction === "download" ? downloader(port) : uploader(port);
        s.on("error", () => errors++);
        return s;
      });
      setTimeout(() => {
        const [t0, b0] = [performance.now(), arrived()];
        setTimeout(() => {
          const [seconds, bytes] = [(performance.now() - t0) / 1000, arrived() - b0];
          for (const s of sockets) s.destroy();
          resolve({ bytes, seconds, errors });
        }, durationMs);
      }, warmupMs);
    });
  }

  function conns(port: number, concurrency: number, durationMs: number) {
    return new Promise((resolve) => {
      const latencies: number[] = [];
      let errors = 0;
      let stop = false;
      let running = concurrency;
      const t0 = performance.now();
      const one = () => {
        if (stop) {
          if (--running === 0) finish();
          return;
        }
        const start = performance.now();
        const s = net.connect({ port, host: "127.0.0.1", noDelay: true });
        let ok = false;
        s.once("connect", () => s.write("x"));
        s.once("data", () => {
          ok = true;
          latencies.push(performance.now() - start);
        });
        s.on("error", () => {});
        s.once("close", () => {
          if (!ok) errors++;
          one();
        });
      };
      const finish = () => {
        const seconds = (performance.now() - t0) / 1000;
        latencies.sort((a, b) => a - b);
        const pct = (p: number) =>
          Math.round((latencies[Math.floor((latencies.length - 1) * p)] ?? 0) * 1000);
        resolve({
          rate: latencies.length / seconds,
          count: latencies.length,
          errors,
          p50Us: pct(0.5),
          p99Us: pct(0.99),
        });
      };
      setTimeout(() => {
        stop = true;
      }, durationMs);
      for (let i = 0; i < concurrency; i++) one();
    });
  }

  process.on(
    "message",
    async (m: { id: number; cmd: string; port: number; direction: string } & Record<string, number>) => {
      const result =
        m.cmd === "stream"
          ? await stream(m.port, m.direction, m.streams!, m.durationMs!)
          : await conns(m.port, m.concurrency!, m.durationMs!);
      send({ id: m.id, result });
    },
  );
  process.on("disconnect", () => process.exit(0));
}
