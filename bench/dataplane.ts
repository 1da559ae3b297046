/**
 * Data-plane benchmark: the privlink relay against direct loopback, socat and HAProxy.
 *
 * The load generator (clients, and the source, sink and echo servers they reach through each
 * proxy) runs in a child process so that the proxy under test has a core of its own. The relay
 * runs in this process; socat and HAProxy are their own processes, started here and killed by
 * PID. On a machine whose cores are busy or share a physical core, throughput swings from run
 * to run; the CPU-per-GiB and CPU-per-connection rows are the steadier comparison. The load
 * generator, socat, HAProxy and the measuring live in bench/traffic.ts (bench/endpoint.ts uses
 * them too).
 */
import { readdirSync, readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { ListenerSet, type ListenerSpec } from "../src/net/listener.js";
import {
  adoptAccepted,
  connectUpstream,
  RELAY_HIGH_WATER_MARK,
  type RelayMeter,
  relay,
  type UpstreamOptions,
} from "../src/net/relay.js";
import {
  cpuPerConnectionRounds,
  direct,
  ensureInstalled,
  HAPROXY,
  LoadGenerator,
  measure,
  type Ports,
  type ProxyUnderTest,
  type Row,
  SOCAT,
  selfCpuSeconds,
  startHaproxy,
  startNodePipe,
  startSocat,
  TARGETS,
  warmConnections,
  withRatios,
} from "./traffic.js";

export type { Row } from "./traffic.js";

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

export async function benchDataplane(opts: BenchDataplaneOptions = {}): Promise<Row[]> {
  const durationMs = Math.min(opts.durationMs ?? 3000, 5000);
  const rows: Row[] = [];
  if ((opts.listeners ?? 20_000) > 0) rows.push(...(await benchListeners(opts.listeners ?? 20_000)));
  const gen = await LoadGenerator.start();
  const proxies: ProxyUnderTest[] = [];
  try {
    const wanted = new Set(opts.vias ?? ["direct", "relay", "relay-pipe", "node-pipe", "socat", "haproxy"]);
    if (wanted.has("direct")) proxies.push(direct(gen));
    // "relay", "relay-pipe", "relay-16k", "relay-pipe-128k": the relay with its fast upstream
    // read path or with socket.pipe both ways, optionally with another stream buffer size.
    for (const via of wanted) {
      const m = /^relay(-pipe)?(?:-(\d+)k)?$/.exec(via);
      if (!m) continue;
      const highWaterMark = m[2] ? Number(m[2]) * 1024 : RELAY_HIGH_WATER_MARK;
      proxies.push(await startRelay(gen, via, { highWaterMark, fastRead: !m[1] }));
    }
    if (wanted.has("node-pipe")) proxies.push(await startNodePipe(gen));
    if (wanted.has("socat") && ensureInstalled(SOCAT, "socat")) proxies.push(await startSocat(gen));
    if (wanted.has("haproxy") && ensureInstalled(HAPROXY, "haproxy")) proxies.push(await startHaproxy(gen));
    const cases = new Set(opts.cases ?? ["throughput", "connections", "latency"]);
    for (const p of proxies) {
      if (cases.has("connections")) await warmConnections(gen, p, opts.concurrency ?? 8);
      rows.push(...(await measure(gen, p, durationMs, opts.concurrency ?? 8, cases)));
    }
    // A single round, the first after the throughput cases, read 1.5-2x node-pipe's (7 Dec); the
    // same rounds as the endpoint's read 1.1-1.2x in the same run.
    if (cases.has("connections"))
      await cpuPerConnectionRounds(gen, proxies, "relay", rows, durationMs, opts.concurrency ?? 8);
  } finally {
    for (const p of proxies) await p.stop();
    await gen.stop();
  }
  return withRatios(rows);
}

// ---------------------------------------------------------------------------------------------
// The relay under test

async function startRelay(
  gen: LoadGenerator,
  via: string,
  upstream: UpstreamOptions,
): Promise<ProxyUnderTest> {
  const set = new ListenerSet({ highWaterMark: upstream.highWaterMark });
  const meter: RelayMeter = { bytesIn: () => {}, bytesOut: () => {}, closed: () => {} };
  const spec = (targetPort: number): ListenerSpec => ({
    host: "127.0.0.1",
    port: 0,
    // As the data plane does: the fast path reads both directions into reused buffers, the
    // client's built so at accept (not built twice, by Node and then adoptAccepted).
    relayOnly: upstream.fastRead !== false,
    onConnection: (client) =>
      relay(
        upstream.fastRead === false ? client : adoptAccepted(client),
        () => connectUpstream({ host: "127.0.0.1", port: targetPort }, upstream),
        {
          idleTimeoutMs: 350_000,
          meter,
        },
      ),
  });
  await set.reconcile(new Map(TARGETS.map((t) => [t, spec(gen.ports[t])])));
  const ports = Object.fromEntries(TARGETS.map((t) => [t, set.port(t)!])) as Ports;
  return { via, ports, cpuSeconds: selfCpuSeconds, stop: () => set.close().then() };
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
    const host = `127.201.${(i >> 8) & 0xff}.${i & 0xff}`;
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
