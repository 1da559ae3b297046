/**
 * Issue 16: connections through endpoints leak nothing. `total` TCP connections go through an
 * interface endpoint to an endpoint service (NLB → echo target) and `total` TLS connections go
 * through an AWS-service endpoint (the service front, one HTTPS request each), from the
 * workload's address, `concurrent` at a time held open together and then closed. Afterwards the
 * process's open descriptors, active handles, the data plane's relayed flows, the front's
 * sockets, the target's sockets and the meter's active connections must all be back to their
 * baseline, and the heap (after a GC) near it.
 *
 * Bounded: `total` connections per path (default 10,000), `concurrent` at once (default 1,000:
 * each relayed flow costs this process four descriptors, and the limit here is 20,000).
 */
import { readdirSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { type NetWorld, SM_NAME, startNetWorld } from "./net-world.js";

export interface LeakOptions {
  total?: number;
  concurrent?: number;
  slots?: { min: number; max: number };
  publicDns?: string;
}

/** Everything a leaked connection would keep: counted before, between and after the paths. */
export interface LeakCounts {
  fds: number;
  handles: number;
  flows: number;
  frontSockets: number;
  targetSockets: number;
  activeConnections: number;
  heapMb: number;
}

export interface LeakPath {
  path: "endpoint" | "aws-service";
  connections: number;
  /** Connections that did not complete their exchange (refused, reset): reported, not hidden. */
  failed: number;
  peak: LeakCounts;
  after: LeakCounts;
}

export interface LeakResult {
  baseline: LeakCounts;
  paths: LeakPath[];
}

/** Fields that must equal their baseline exactly once every connection is closed. */
export const EXACT: readonly (keyof LeakCounts)[] = [
  "fds",
  "handles",
  "flows",
  "frontSockets",
  "targetSockets",
  "activeConnections",
];

export async function measureLeaks(opts: LeakOptions = {}): Promise<LeakResult> {
  const total = opts.total ?? 10_000;
  const concurrent = Math.min(opts.concurrent ?? 1000, total);
  const w = await startNetWorld({ slots: opts.slots, publicDns: opts.publicDns });
  try {
    // Warm both paths once so that lazily made objects (TLS contexts, caches) are in the baseline.
    await runPath(w, "endpoint", 4, 4);
    await runPath(w, "aws-service", 4, 4);
    const baseline = await settle(w, undefined);
    const paths: LeakPath[] = [];
    for (const path of ["endpoint", "aws-service"] as const) {
      const { failed, peak } = await runPath(w, path, total, concurrent);
      paths.push({ path, connections: total, failed, peak, after: await settle(w, baseline) });
    }
    return { baseline, paths };
  } finally {
    await w.close();
  }
}

/** `total` connections on one path, `concurrent` held open together per batch. */
async function runPath(
  w: NetWorld,
  path: LeakPath["path"],
  total: number,
  concurrent: number,
): Promise<{ failed: number; peak: LeakCounts }> {
  let failed = 0;
  let peak = counts(w);
  for (let done = 0; done < total; done += concurrent) {
    const n = Math.min(concurrent, total - done);
    const open = await Promise.all(
      Array.from({ length: n }, () => (path === "endpoint" ? echoOnce(w) : httpsOnce(w))),
    );
    const batch = counts(w);
    if (batch.flows + batch.frontSockets > peak.flows + peak.frontSockets) peak = batch;
    await Promise.all(open.map((c) => c.close()));
    failed += open.filter((c) => !c.ok).length;
  }
  return { failed, peak };
}

export interface Held {
  ok: boolean;
  close(): Promise<void>;
}

/** A normal client's round trips: median and p99 in ms, and how many failed. */
export interface Timed {
  p50Ms: number;
  p99Ms: number;
  failed: number;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** `n` round trips made one after another by `once`, each closed before the next. */
/** `n` calls of `once` one after another, and more until the `until` time (Date.now) if given. */
export async function timed(n: number, once: () => Promise<Held>, until = 0): Promise<Timed> {
  const ms: number[] = [];
  let failed = 0;
  for (let i = 0; i < n || Date.now() < until; i++) {
    const t = performance.now();
    const c = await once().catch(() => ({ ok: false, close: async () => undefined }));
    if (c.ok) ms.push(performance.now() - t);
    else failed++;
    await c.close();
  }
  ms.sort((a, b) => a - b);
  const at = (q: number) => round2(ms[Math.min(ms.length - 1, Math.floor(ms.length * q))] ?? Number.NaN);
  return { p50Ms: at(0.5), p99Ms: at(0.99), failed };
}

/** One TCP connection through the echo endpoint, its echo read, left open until `close`. */
export function echoOnce(w: NetWorld): Promise<Held> {
  const s = connect({
    host: w.echo.host,
    port: w.echo.port,
    localAddress: w.workloadHost,
    allowHalfOpen: false,
  });
  return held(s, (sock, ok) => {
    sock.once("connect", () => sock.write("ping"));
    sock.once("data", () => ok());
  });
}

/** One TLS connection to the Secrets Manager endpoint with one HTTP request, left open. */
export function httpsOnce(w: NetWorld): Promise<Held> {
  const raw = connect({ host: w.front.host, port: w.front.port, localAddress: w.workloadHost });
  const s = tlsConnect({ socket: raw, servername: SM_NAME, ca: w.p.ca.certPem });
  return held(s, (sock, ok) => {
    sock.once("secureConnect", () => sock.write(`GET / HTTP/1.1\r\nHost: ${SM_NAME}\r\n\r\n`));
    sock.once("data", () => ok());
  });
}

/** Resolves once `start` reports the exchange done or the socket fails; `close` ends it. */
function held(s: Socket, start: (s: Socket, ok: () => void) => void): Promise<Held> {
  return new Promise((resolve) => {
    const closed = new Promise<void>((r) => s.once("close", () => r()));
    const close = async () => {
      s.end();
      // A peer that never answers the FIN must not hang the benchmark.
      const t = setTimeout(() => s.destroy(), 10_000);
      await closed;
      clearTimeout(t);
    };
    const timer = setTimeout(() => s.destroy(), 30_000);
    s.on("error", () => undefined);
    s.once("close", () => {
      clearTimeout(timer);
      resolve({ ok: false, close });
    });
    start(s, () => {
      clearTimeout(timer);
      resolve({ ok: true, close });
    });
  });
}

export function counts(w: NetWorld): LeakCounts {
  const dp = w.p.dataplane.dataplane;
  const active = dp.meter
    .snapshot()
    .endpoints.filter((e) => e.vpcEndpointId === w.echo.endpointId || e.vpcEndpointId === w.front.endpointId)
    .reduce((n, e) => n + e.activeConnections, 0);
  return {
    fds: readdirSync("/proc/self/fd").length,
    handles: process.getActiveResourcesInfo().filter((r) => r !== "Timeout" && r !== "Immediate").length,
    flows: dp.openFlows,
    frontSockets: w.p.front.openSockets,
    targetSockets: w.echoOpen(),
    activeConnections: active,
    heapMb: Math.round((process.memoryUsage().heapUsed / 2 ** 20) * 10) / 10,
  };
}

/** Counts once closes have propagated: polls until they match `baseline` (or `waitMs` pass), after a GC. */
export async function settle(
  w: NetWorld,
  baseline: LeakCounts | undefined,
  waitMs = 15_000,
): Promise<LeakCounts> {
  const until = Date.now() + waitMs;
  let c = counts(w);
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    const next = counts(w);
    const stable = baseline
      ? EXACT.every((k) => next[k] <= baseline[k])
      : EXACT.every((k) => next[k] === c[k]);
    c = next;
    if (stable || Date.now() > until) break;
  }
  gc();
  return { ...c, heapMb: Math.round((process.memoryUsage().heapUsed / 2 ** 20) * 10) / 10 };
}

/** A full GC without starting node with --expose-gc. */
function gc(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

/** The rows `npm run bench -- leak` prints. */
export async function benchLeak(opts: LeakOptions = {}) {
  const r = await measureLeaks(opts);
  const row = (name: string, c: LeakCounts, extra: Record<string, unknown> = {}) => ({
    case: name,
    ...c,
    ...extra,
  });
  return [
    row("baseline", r.baseline),
    ...r.paths.flatMap((p) => [
      row(`${p.path}: ${p.connections} connections, peak`, p.peak, { failed: p.failed }),
      row(`${p.path}: after closing`, p.after, {
        leaked: EXACT.reduce((n, k) => n + Math.max(0, p.after[k] - r.baseline[k]), 0),
        heapGrowthMb: Math.round((p.after.heapMb - r.baseline.heapMb) * 10) / 10,
      }),
    ]),
  ];
}
