/**
 * `npm run bench [-- [--full] NAME …]`: runs the benchmarks (all, or those named), each in a
 * process of its own, prints one table per benchmark plus a line per issue goal, and writes every
 * row to bench/results/<time>.json (gitignored).
 *
 * Bounded: by default every benchmark runs with short, bounded options and is killed (its whole
 * process group: load generators, HAProxy, unbound…) when it overruns its budget, and the run as
 * a whole stops starting benchmarks after 3.5 minutes. `--full` uses each benchmark's own
 * defaults and longer budgets (up to ten minutes each). Each benchmark measures its baseline in the same run
 * and its rows carry the ratio to it (vsCeiling, ratioToEdge, vsUnbound, vsHaproxy, …).
 */
import { type ChildProcess, execFileSync, fork } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { SERVER_NODE_FLAGS } from "../src/package.js";
import { PACKAGE_ROOT } from "../src/privlink.js";
import {
  agentGoals,
  analyzeGoals,
  apiCpuGoals,
  bulkGoals,
  cliStartupGoals,
  coldStartGoals,
  connectionCpuGoals,
  dnsFloodGoals,
  dnsPathGoals,
  dnsVpcGoals,
  hasRatio,
  issue4Goals,
  meteringGoals,
  metricsGoals,
  netnsGoals,
  type Row,
  ratioToFirst,
  ratioToVia,
  s3Goals,
} from "./goals.js";
import type { RunMeta } from "./report.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

interface Entry {
  /** What it measures, and for which issue. */
  readonly title: string;
  /** Runs the benchmark: bounded options unless `full`. */
  run(full: boolean): Promise<Row[]>;
  /** Seconds before the benchmark's process group is killed: [default run, --full]. */
  readonly budget: readonly [number, number];
  /** Ratio columns for benchmarks whose rows do not carry one against their baseline. */
  ratios?(rows: Row[]): Row[];
  /** One line per issue goal: "goal: … measured: … met/not met". */
  goals?(rows: Row[]): string[];
}

const HAPROXY = "/usr/sbin/haproxy";
const SOCAT = "/usr/bin/socat";

/** The proxies of the data-plane comparison that can run here, and a note for those that cannot. */
function dataplaneVias(full: boolean): { vias: string[]; notes: Row[] } {
  const vias = full
    ? ["direct", "relay", "relay-pipe", "node-pipe", "socat", "haproxy"]
    : ["direct", "relay", "node-pipe", "haproxy"];
  const notes: Row[] = [];
  // Missing tools are skipped with a note here rather than installed by the benchmark.
  for (const [via, path] of [
    ["haproxy", HAPROXY],
    ["socat", SOCAT],
  ] as const)
    if (vias.includes(via) && !existsSync(path)) {
      vias.splice(vias.indexOf(via), 1);
      notes.push({ case: "(all)", via, note: `skipped: ${path} not installed (apt-get install ${via})` });
    }
  return { vias, notes };
}

const BENCHES: Record<string, Entry> = {
  api: {
    title: "issue 2: API requests/s and latency through the SDK, against a fixed-response ceiling",
    run: async (full) => (await import("./api.js")).benchApi(full ? {} : { seconds: 2 }) as never,
    budget: [60, 300],
  },
  "api-cpu": {
    title: "issue 15: server CPU per API request (Describes of 50 items, CreateVpcEndpoint, SigV4)",
    run: async (full) =>
      (await import("./api-cpu.js")).benchApiCpu(
        full ? {} : { sizes: [1_000, 10_000], rounds: 12, perRound: 200, creates: 100 },
      ) as never,
    // Twelve Describe cases of 12 paired rounds of 200 requests per server after 200 of warm-up
    // (30 of 400 with --full): about the requests of the 4 rounds of 500 before. The seeding and
    // the creates take most of the time: at load 14–20 (7 Dec) main's bench took 148–236 s, and
    // 20 rounds of 250 (225 s) and 16 of 200 overran the budget.
    budget: [240, 600],
    goals: apiCpuGoals,
  },
  iam: {
    title: "IAM policy evaluations/s (20-statement endpoint policy)",
    run: async () => (await import("./iam.js")).benchIam() as never,
    budget: [30, 60],
    // A pure CPU measurement with no external baseline: the allowed request is the reference.
    ratios: (rows) => ratioToFirst(rows, "opsPerSec", "vsAllowed"),
  },
  dns: {
    title: "DNS queries/s: privlink's resolver against unbound (dnsperf, 10,000 A records)",
    run: async (full) => (await import("./dns.js")).benchDns(full ? {} : { durationSec: 2 }) as never,
    budget: [60, 120],
  },
  "dns-vpc": {
    title: "issue 5: a VPC resolver with 10,000 endpoints' records against unbound (dnsperf)",
    run: async (full) => (await import("./dns-vpc.js")).benchVpcDns(full ? {} : { durationSec: 2 }) as never,
    budget: [90, 180],
    goals: dnsVpcGoals,
  },
  "dns-paths": {
    title: "issue 15: DNS CPU per query on every name path against a minimal Node UDP responder (dnsperf)",
    run: async (full) =>
      (await import("./dns-paths.js")).benchDnsPaths(full ? {} : { roundSec: 0.4, rounds: 12 }) as never,
    // Five paths of a warm-up and 12 paired rounds of 0.4 s per server (30 of 1 s with --full),
    // each dnsperf run ~0.15 s more to start and stop: ~75 s, ~340 s with --full.
    budget: [120, 420],
    goals: dnsPathGoals,
  },
  "control-plane": {
    title: "issue 3: CreateVpcEndpoint and DescribeVpcEndpoints at 1, 1,000 and 10,000 endpoints",
    run: async (full) =>
      (await import("./control-plane.js")).benchControlPlane(
        full ? {} : { seconds: 1.5, creates: 200 },
      ) as never,
    budget: [150, 600],
  },
  store: {
    title: "issue 19: API create/describe with the PostgreSQL store against the SQLite file (same run)",
    run: async (full) => (await import("./store.js")).benchStore(full ? {} : { seconds: 2 }) as never,
    budget: [120, 300],
  },
  front: {
    title: "issue 6: GetSecretValue through an endpoint's service front against the plain edge",
    run: async (full) => (await import("./front.js")).benchFront(full ? {} : { seconds: 2 }) as never,
    budget: [60, 120],
  },
  logs: {
    title: "issue 11: PutLogEvents of 1,000-event batches per second, edge and through a Logs endpoint",
    run: async (full) => (await import("./logs.js")).benchLogs(full ? {} : { seconds: 2 }) as never,
    budget: [60, 120],
  },
  dataplane: {
    title: "issue 4: the relay against direct loopback and HAProxy (throughput, connections, latency)",
    run: async (full) => {
      const { vias, notes } = dataplaneVias(full);
      const { benchDataplane } = await import("./dataplane.js");
      const opts = full ? { vias } : { vias, durationMs: 1500, listeners: 2000 };
      return [...((await benchDataplane(opts)) as unknown as Row[]), ...notes];
    },
    budget: [120, 600],
    ratios: (rows) => ratioToVia(rows, "direct", "vsDirect"),
    goals: (rows) => [...issue4Goals(rows), ...connectionCpuGoals(rows)],
  },
  s3: {
    title:
      "issue 11: S3 PUT/GET of 64 MiB objects through an S3 interface endpoint vs the HTTPS and plain-HTTP edge and socat pipes; RSS during a 1 GiB upload",
    run: async (full) =>
      (await import("./s3.js")).benchS3(full ? {} : { count: 2, bigBytes: 1024 * 1024 * 1024 }) as never,
    budget: [300, 600],
    goals: s3Goals,
  },
  analyze: {
    title: "issue 13: access over 100 VPCs × 1,000 endpoints, and one why end to end",
    run: async (full) => (await import("./analyze.js")).benchAnalyze(full) as never,
    budget: [90, 240],
    goals: analyzeGoals,
  },
  "cli-startup": {
    title: "issues 13/15: start-up of each privlink client subcommand (whole processes) against node -e 0",
    run: async (full) =>
      (await import("./cli-startup.js")).benchCliStartup(
        full ? { runs: 30, seconds: 30 } : { runs: 5, seconds: 2 },
      ) as never,
    budget: [180, 600],
    goals: cliStartupGoals,
  },
  netns: {
    title:
      "issue 19: connection set-up and throughput in namespace mode against loopback mode (same run; root only)",
    run: async (full) =>
      (await import("./netns.js")).benchNetns(full ? {} : { samples: 300, seconds: 20, streams: 6 }) as never,
    budget: [90, 180],
    goals: netnsGoals,
  },
  agents: {
    title: "issue 19: a flow across two agents (hosts = namespaces) against within one (same run; root only)",
    run: async (full) =>
      (await import("./agents.js")).benchAgents(
        full ? {} : { samples: 300, seconds: 15, bytes: 64 * 1024 * 1024 },
      ) as never,
    budget: [120, 240],
    goals: agentGoals,
  },
  "connect-hops": {
    title: "issue 10: connection set-up through a peering and a TGW against same-VPC (same run)",
    run: async (full) =>
      (await import("./connect-hops.js")).benchConnectHops(full ? {} : { samples: 150, seconds: 8 }) as never,
    budget: [60, 90],
    goals: (rows) =>
      rows
        .filter((r) => typeof r.vsSameVpc === "number" && r.case !== "same VPC")
        .map(
          (r) =>
            `goal: ${r.case} adds at most 10 % to connection set-up; measured: median ×${(r.vsSameVpc as number).toFixed(3)} of same-VPC: ${(r.vsSameVpc as number) <= 1.1 ? "met" : "not met"}`,
        ),
  },
  "flow-hops": {
    title:
      "issue 10: a flow decision across 3 route tables of 1,000 routes (spoke, TGW, hub) against same-VPC",
    run: async (full) =>
      (await import("./flow-hops.js")).benchFlowHops(full ? { seconds: 5 } : { seconds: 1 }) as never,
    budget: [30, 60],
  },
  endpoint: {
    title: "issue 4: traffic through a real interface endpoint; listener set-up for many endpoints",
    run: async (full) =>
      (await import("./endpoint.js")).benchEndpoint(
        full ? {} : { durationMs: 1500, endpoints: 2000 },
      ) as never,
    budget: [120, 600],
    ratios: (rows) => ratioToVia(rows, "direct", "vsDirect"),
    goals: (rows) => [...issue4Goals(rows), ...connectionCpuGoals(rows)],
  },
  bulk: {
    title:
      "issue 15: iperf3 bulk throughput through an endpoint against raw loopback and HAProxy (defaults, 128 KiB buffers)",
    run: async (full) =>
      (await import("./bulk.js")).benchBulk(
        full ? { seconds: 2, rounds: 9 } : { seconds: 1, rounds: 7 },
      ) as never,
    // Five rows per case (raw on two cores and on one, the endpoint, two HAProxies), 1 or 2 s
    // each: many short interleaved rounds, so that raw loopback's two modes both show (bench/placement.ts).
    budget: [200, 560],
    goals: bulkGoals,
  },
  metrics: {
    title: "issue 12: GetMetricData over 15 days (2 days unless --full) of 1-minute data for 100 endpoints",
    // Loading 15 days (2.16 million datapoints, rollups included) alone can take minutes on a
    // loaded machine: the bounded run keeps 2 days; the batched-vs-per-query ratio holds either way.
    run: async (full) =>
      (await import("./metrics.js")).benchMetrics(full ? {} : { days: 2, runs: 10 }) as never,
    budget: [180, 600],
    goals: metricsGoals,
  },
  metering: {
    title:
      "issue 12: throughput and connections/s through an endpoint with metering on (metrics, flow log) vs off",
    run: async (full) =>
      (await import("./metering.js")).benchMetering(
        full ? { durationMs: 1000, connectionRounds: 80 } : {},
      ) as never,
    // 15 throughput pairs and 40 connection pairs of 300 ms take ~100 s loaded (--full more).
    budget: [200, 420],
    goals: meteringGoals,
  },
  "cold-start": {
    title:
      "issue 15: privlink up to a healthy /_privlink/health, empty home and 10,000 endpoints, against node -e 0",
    run: async (full) =>
      (await import("./cold-start.js")).benchColdStart(
        full ? { runs: 10, seconds: 60 } : { runs: 3 },
      ) as never,
    budget: [180, 600],
    goals: coldStartGoals,
  },
  "slow-clients": {
    title:
      "issue 16: 1,000 slow clients (a byte a second) on the API edge, a service front and an endpoint listener vs a normal client of each; fds after",
    run: async (full) =>
      (await import("./slow-clients.js")).benchSlowClients(
        full ? { seconds: 30 } : { seconds: 4, samples: 100 },
      ) as never,
    budget: [150, 400],
    // Issue 16 asks for "a small factor" and a report; 2× is privlink's own bar for it.
    goals: (rows) =>
      rows
        .filter((r) => typeof r.p50Factor === "number")
        .map(
          (r) =>
            `goal (issue 16): ${r.case}: median ≤ 2× of without — measured: ×${(r.p50Factor as number).toFixed(2)} (p99 ${r.p99Before} → ${r.p99During} ms, ${r.failed} failed) — ${(r.p50Factor as number) <= 2 && r.failed === 0 ? "met" : "NOT met"}`,
        ),
  },
  "slow-listeners": {
    title:
      "issue 16: idle, non-reading and slow-TLS clients and a stalled target vs a normal client's round trip through endpoints",
    run: async (full) =>
      (await import("./slow-listeners.js")).benchSlowListeners(
        full
          ? { seconds: 30, idleTimeoutMs: 60_000 }
          : { perKind: 100, seconds: 5, samples: 20, idleTimeoutMs: 30_000 },
      ) as never,
    budget: [180, 400],
  },
  "dns-flood": {
    title:
      "issue 16: a normal client's DescribeVpcs p50/p99 without DNS load and under a 50,000 qps DNS flood",
    run: async () => (await import("./dns-flood.js")).benchDnsFlood({ seconds: 10 }) as never,
    goals: dnsFloodGoals,
    budget: [60, 120],
  },
  leak: {
    title:
      "issue 16: 10,000 connections through an endpoint and through an AWS-service endpoint; fds, handles, flows, sockets, heap back to baseline",
    run: async (full) =>
      (await import("./leak.js")).benchLeak(full ? {} : { total: 2000, concurrent: 500 }) as never,
    budget: [120, 600],
  },
};

// ---------------------------------------------------------------------------------------------
// Output

function format(v: unknown, column: string): string {
  if (typeof v === "number") {
    if (/^(vs|ratio)[A-Z]|Cpu$/.test(column)) return v.toFixed(2);
    return Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2);
  }
  if (v === undefined || v === null) return "";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

function table(rows: Row[]): string {
  if (rows.length === 0) return "(no rows)";
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((c) =>
    rows.some((r) => r[c] !== undefined && r[c] !== null),
  );
  const cells = [cols, ...rows.map((r) => cols.map((c) => format(r[c], c)))];
  const widths = cols.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

// ---------------------------------------------------------------------------------------------
// Running, one process per benchmark

interface Outcome {
  seconds: number;
  rows?: Row[];
  goals?: string[];
  error?: string;
}

// Four minutes for `npm run bench`, less the build before it.
const RUN_BUDGET_S = 210;

/** What a reader of the figures needs to know of the machine they came from. */
function machine(): Pick<RunMeta, "node" | "cpus" | "cpuModel" | "kernel" | "commit"> {
  let commit: string | undefined;
  try {
    commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: PACKAGE_ROOT, encoding: "utf8" }).trim();
  } catch {
    // Not a git checkout (an unpacked tarball): the figures still stand without it.
  }
  return {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    kernel: release(),
    commit,
  };
}

/** The benchmark's own process: runs it and hands its rows to the runner. */
async function child(name: string, full: boolean): Promise<void> {
  const entry = BENCHES[name]!;
  try {
    const rows = await entry.run(full);
    process.send!({ rows }, () => process.exit(0));
  } catch (err) {
    process.send!({ error: (err as Error).stack ?? String(err) }, () => process.exit(0));
  }
}

/** Kills the process group the benchmark leads (its servers, load generators and tools too). */
function killGroup(proc: ChildProcess): void {
  try {
    if (proc.pid !== undefined) process.kill(-proc.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/** The benchmark running now: an interrupted runner takes its process group down with it. */
let running: ChildProcess | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    if (running) killGroup(running);
    process.exit(130);
  });

function runOne(name: string, full: boolean, limitS: number): Promise<Outcome> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  const proc = fork(fileURLToPath(import.meta.url), ["--child", name, ...(full ? ["--full"] : [])], {
    detached: true,
    // Benchmarks run privlink in their own process: with the V8 flags the bin gives the server.
    execArgv: [...process.execArgv, ...SERVER_NODE_FLAGS],
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  running = proc;
  return new Promise((resolve) => {
    let result: { rows?: Row[]; error?: string } | undefined;
    const timer = setTimeout(() => {
      result ??= { error: `killed after ${limitS} s (its budget)` };
      killGroup(proc);
    }, limitS * 1000);
    proc.on("message", (m: { rows?: Row[]; error?: string }) => {
      result ??= m;
    });
    proc.once("exit", (code, signal) => {
      clearTimeout(timer);
      running = undefined;
      // Anything the benchmark left running in its group goes with it.
      killGroup(proc);
      resolve({ seconds: seconds(), ...(result ?? { error: `exited (${code ?? signal}) without rows` }) });
    });
  });
}

function report(name: string, entry: Entry, outcome: Outcome): Outcome {
  if (outcome.error !== undefined || !outcome.rows) {
    process.stdout.write(`failed after ${outcome.seconds.toFixed(0)} s: ${outcome.error}\n`);
    return outcome;
  }
  const rows = entry.ratios && !hasRatio(outcome.rows) ? entry.ratios(outcome.rows) : outcome.rows;
  const goals = entry.goals?.(rows) ?? [];
  process.stdout.write(`${table(rows)}\n`);
  for (const g of goals) process.stdout.write(`${g}\n`);
  process.stdout.write(`(${name}: ${outcome.seconds.toFixed(0)} s)\n`);
  return { ...outcome, rows, goals };
}

async function main(args: string[]): Promise<void> {
  const full = args.includes("--full");
  const wanted = args.filter((a) => !a.startsWith("--"));
  const unknown = wanted.filter((n) => !BENCHES[n]);
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown benchmark(s) ${unknown.join(", ")} (have: ${Object.keys(BENCHES).join(", ")})\n`,
    );
    process.exitCode = 2;
    return;
  }
  const names = wanted.length ? wanted : Object.keys(BENCHES);
  const meta: RunMeta = { ...machine(), full, startedAt: new Date().toISOString(), loadAtStart: loadavg() };
  // Benchmarks named on the command line all run; the whole-run budget bounds the default set.
  const deadline = performance.now() + (wanted.length ? Number.POSITIVE_INFINITY : RUN_BUDGET_S * 1000);
  const results: Record<string, Outcome> = {};
  for (const name of names) {
    const entry = BENCHES[name]!;
    process.stdout.write(`\n== ${name}: ${entry.title} ==\n`);
    const left = (deadline - performance.now()) / 1000;
    if (!full && left < 5) {
      results[name] = { seconds: 0, error: `skipped: the run's ${RUN_BUDGET_S} s budget is spent` };
      process.stdout.write(`${results[name]!.error}\n`);
      continue;
    }
    const limit = full ? entry.budget[1] : Math.min(entry.budget[0], left);
    results[name] = report(name, entry, await runOne(name, full, limit));
  }
  const dir = join(PACKAGE_ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  const ended = { endedAt: new Date().toISOString(), loadAtEnd: loadavg() };
  writeFileSync(file, JSON.stringify({ ...meta, ...ended, results }, null, 2));
  process.stdout.write(`\nwrote ${file}\n`);
  if (Object.values(results).some((r) => r.error !== undefined && !r.error.startsWith("skipped")))
    process.exitCode = 1;
}

const argv = process.argv.slice(2);
if (argv[0] === "--child") await child(argv[1]!, argv.includes("--full"));
else await main(argv);
