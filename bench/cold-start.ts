/**
 * Issue 15, item 5: `privlink up` from process start to a healthy /_privlink/health, with an
 * empty home and with 10,000 interface endpoints in the store. A run counts once the banner is
 * out (startPrivlink returns after every listener and DNS view is up) and health answers.
 * Baseline in the same run: `node -e 0`. Beside the wall time, the server process's own CPU time
 * until then (/proc/PID/stat), which a loaded machine inflates far less than the wall time. Runs
 * are sequential, bounded in count and time; every server is stopped by its PID.
 *
 * The 10,000-endpoint home is made once, by the store (cloud/ functions in transactions, as
 * bench/control-plane.ts seeds): 200 VPCs of 50 endpoints, each VPC a host slot. It needs slots
 * 1-254 free on this host (run it in a network namespace of its own when others run servers).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ensureDefaultAccount } from "../src/cloud/account.js";
import type { Ctx } from "../src/cloud/context.js";
import { systemRuntime } from "../src/cloud/runtime.js";
import { State } from "../src/cloud/state.js";
import { PACKAGE_ROOT, SERVER_NODE_FLAGS } from "../src/package.js";
import { SqliteStore } from "../src/store/sqlite.js";
import { seed, seedServices } from "./api-fixture.js";
import type { Row } from "./goals.js";
import { percentile } from "./measure.js";
import { freePort } from "./traffic.js";

const BIN = join(PACKAGE_ROOT, "bin/privlink.js");
const ACCOUNT = "000000000000";

function healthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    get(`${url}/_privlink/health`, (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode === 200));
    }).once("error", () => resolve(false));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGINT");
  });
}

/** CPU ms a process has used (utime + stime, fields 14 and 15 of /proc/PID/stat, 10 ms ticks). */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Start {
  ms: number;
  cpuMs: number;
}

/** One `privlink up` on `home`: ms from spawn to a healthy answer after the banner, and its CPU. */
async function startOnce(home: string, timeoutMs: number): Promise<Start> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const t = performance.now();
  const child = spawn(
    process.execPath,
    // What the bin's shebang runs: node with the server's V8 flags.
    [...SERVER_NODE_FLAGS, BIN, "up", "--home", home, "--port", String(port), "--public-dns", "127.0.9.153"],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PRIVLINK_SLOTS: "1-254" } },
  );
  let out = "";
  try {
    return await new Promise<Start>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not healthy in ${timeoutMs} ms: ${out}`)), timeoutMs);
      child.stderr!.on("data", (d) => (out += d));
      child.once("exit", (code) => reject(new Error(`privlink up exited ${code}: ${out}`)));
      child.stdout!.on("data", async (d) => {
        out += d;
        if (!out.includes("privlink is running")) return;
        child.stdout!.removeAllListeners("data");
        if (await healthy(url)) {
          clearTimeout(timer);
          resolve({ ms: performance.now() - t, cpuMs: cpuMsOf(child.pid!) });
        }
      });
    });
  } finally {
    await stop(child);
  }
}

/** Sequential starts: `runs` at most, and no more once `seconds` passed (at least one). */
async function starts(home: () => string, runs: number, seconds: number, timeoutMs: number) {
  const all: Start[] = [];
  const deadline = performance.now() + seconds * 1000;
  while (all.length < runs && (all.length === 0 || performance.now() < deadline))
    all.push(await startOnce(home(), timeoutMs));
  return {
    ms: all.map((s) => s.ms).sort((a, b) => a - b),
    cpuMs: all.map((s) => s.cpuMs).sort((a, b) => a - b),
  };
}

/**
 * What `privlink up` runs from, by bin/privlink.js's rule: dist/bundle when it is at least as new
 * as dist/src (npm run build writes both), else dist/src (tsc alone ran since, or no bundle).
 */
function startsFrom(): string {
  const mtime = (p: string) => statSync(join(PACKAGE_ROOT, p), { throwIfNoEntry: false })?.mtimeMs ?? -1;
  return mtime("dist/bundle/main.js") >= mtime("dist/src/cli/main.js")
    ? "runs from dist/bundle"
    : "runs from dist/src: no bundle as new as it (npm run build writes one)";
}

function nodeOnce(): Promise<number> {
  const t = performance.now();
  return new Promise((resolve) =>
    execFile(process.execPath, ["-e", "0"], () => resolve(performance.now() - t)),
  );
}

/** A home whose store holds `endpoints` interface endpoints (50 per VPC) and nothing running. */
export function seededHome(endpoints: number): string {
  const home = mkdtempSync(join(tmpdir(), "privlink-bench-cold-"));
  const store = new SqliteStore(join(home, "state.db"));
  try {
    const state = new State(store);
    const rt = systemRuntime;
    state.transact((tx) => ensureDefaultAccount(tx, rt));
    const ctx: Ctx = {
      accountId: ACCOUNT,
      region: "us-east-1",
      principalArn: `arn:aws:iam::${ACCOUNT}:root`,
      rt,
      host: { slots: { min: 1, max: 254 } },
    };
    seed(state, ctx, seedServices(), 0, endpoints, { n: 1 });
  } finally {
    store.close();
  }
  return home;
}

export async function benchColdStart(
  opts: { runs?: number; seconds?: number; endpoints?: number } = {},
): Promise<Row[]> {
  const runs = opts.runs ?? 5;
  const seconds = opts.seconds ?? 20;
  const endpoints = opts.endpoints ?? 10_000;
  await nodeOnce();
  const node: number[] = [];
  for (let i = 0; i < runs; i++) node.push(await nodeOnce());
  node.sort((a, b) => a - b);
  const row = (name: string, ms: number[], goalMs?: number, cpuMs?: number[]): Row => ({
    case: name,
    runs: ms.length,
    min: ms[0],
    p50: percentile(ms, 50),
    max: ms[ms.length - 1],
    vsNode: percentile(ms, 50) / percentile(node, 50),
    ...(cpuMs ? { cpuP50: percentile(cpuMs, 50) } : {}),
    ...(goalMs ? { goalMs, note: startsFrom() } : {}),
  });
  const rows: Row[] = [row("node -e 0 (baseline)", node)];
  const empties: string[] = [];
  const empty = () => {
    empties.push(mkdtempSync(join(tmpdir(), "privlink-bench-cold-")));
    return empties[empties.length - 1]!;
  };
  try {
    await startOnce(empty(), 60_000); // warms the file cache, as a hyperfine warm-up run does
    const s = await starts(empty, runs, seconds, 60_000);
    rows.push(row("privlink up, empty home", s.ms, 400, s.cpuMs));
  } finally {
    for (const h of empties) rmSync(h, { recursive: true, force: true });
  }
  const t = performance.now();
  const seeded = seededHome(endpoints);
  rows.push({ case: `seeding ${endpoints} endpoints (once, by the store)`, ms: performance.now() - t });
  try {
    // The first start also settles the seeded endpoints (pending → available): not counted.
    await startOnce(seeded, 120_000);
    const s = await starts(() => seeded, Math.min(runs, 3), seconds, 120_000);
    rows.push(row(`privlink up, ${endpoints.toLocaleString("en-US")} endpoints`, s.ms, 3000, s.cpuMs));
  } finally {
    rmSync(seeded, { recursive: true, force: true });
  }
  return rows;
}
