/**
 * How far apart two CPUs are right now: the one-way latency of a cache line bounced between two
 * threads pinned to them. On the 2-vCPU VM this project is measured on, the host moves the two
 * vCPUs between nearby cores (~50 ns one way, ~110 Gbit/s for a 256 KiB copy handed across)
 * and distant ones (~200–240 ns, ~33 Gbit/s) every few seconds to minutes, and loopback TCP
 * between the two CPUs follows (its receiver copies what the sender's CPU just wrote): raw
 * loopback on two cores is bimodal for a reason the guest neither sees nor chooses. The
 * bulk benchmark probes before each sample to say which placement the sample ran in.
 */
import { Worker } from "node:worker_threads";

/** Round trips per probe; the figure is the fastest batch of 100 (a preempted batch is slow). */
const ROUND_TRIPS = 4000;
/** A probe whose peer is not running gives up rather than spin (a loaded machine). */
const PROBE_MS = 50;

/** The two threads' shared words: [0] the ball, [1] go (round trips), [2] done, [3] ns × 10. */
const WORKER = `
const { workerData, parentPort } = require("node:worker_threads");
const { execFileSync } = require("node:child_process");
const { readlinkSync } = require("node:fs");
const { shared, cpu, serve, taskset } = workerData;
const a = new Int32Array(shared);
// Pin this thread only: /proc/thread-self names its task id.
const tid = readlinkSync("/proc/thread-self").split("/").pop();
execFileSync(taskset, ["-p", "-c", String(cpu), tid], { stdio: "ignore" });
parentPort.postMessage("pinned");
const deadline = () => performance.now() + ${PROBE_MS};
if (serve) {
  parentPort.on("message", () => {
    const n = ${ROUND_TRIPS};
    Atomics.store(a, 0, 0);
    Atomics.store(a, 1, n);
    Atomics.notify(a, 1);
    let best = Infinity;
    let t0 = performance.now();
    const end = deadline();
    out: for (let i = 0; i < n; i++) {
      Atomics.store(a, 0, 2 * i + 1);
      while (Atomics.load(a, 0) !== 2 * i + 2) if (performance.now() > end) break out;
      if (i % 100 === 99) {
        const t1 = performance.now();
        best = Math.min(best, t1 - t0);
        t0 = t1;
      }
    }
    Atomics.store(a, 0, -1);
    parentPort.postMessage(Number.isFinite(best) ? (best * 1e6) / 200 : undefined);
  });
} else {
  for (;;) {
    Atomics.wait(a, 1, 0);
    const n = Atomics.exchange(a, 1, 0);
    for (let i = 0; i < n; i++) {
      let v;
      while ((v = Atomics.load(a, 0)) !== 2 * i + 1) if (v === -1) break;
      if (v === -1) break;
      Atomics.store(a, 0, 2 * i + 2);
    }
  }
}
`;

export interface PlacementProbe {
  /** One-way cache-line latency between the two CPUs, ns; undefined when a thread did not run. */
  probe(): Promise<number | undefined>;
  stop(): Promise<void>;
}

/**
 * Two threads of this process pinned to `cpus` (with taskset), idle between probes; undefined
 * when they cannot be pinned (then samples go unlabelled).
 */
export async function startPlacementProbe(
  cpus: [number, number],
  taskset: string,
): Promise<PlacementProbe | undefined> {
  const shared = new SharedArrayBuffer(16);
  const start = (cpu: number, serve: boolean) => {
    const w = new Worker(WORKER, { eval: true, workerData: { shared, cpu, serve, taskset } });
    w.unref();
    return w;
  };
  const threads = [start(cpus[0], true), start(cpus[1], false)] as const;
  const stop = async () => {
    await Promise.all(threads.map((w) => w.terminate()));
  };
  const pinned = (w: Worker) =>
    new Promise<boolean>((resolve) => {
      w.once("message", () => resolve(true));
      w.once("error", () => resolve(false));
    });
  if (!(await Promise.all(threads.map(pinned))).every(Boolean)) {
    await stop();
    return undefined;
  }
  const [server] = threads;
  return {
    // A thread that died answers nothing: the probe then reads undefined rather than wait.
    probe: () =>
      new Promise((resolve) => {
        const done = (ns?: number) => {
          server.off("message", done).off("exit", gone);
          resolve(ns);
        };
        const gone = () => done();
        server.on("message", done).on("exit", gone);
        server.postMessage("probe");
      }),
    stop,
  };
}

/**
 * Splits probe readings into the two placements when there are two: when the slowest reading is
 * at least twice the fastest, at their geometric mean; else everything is one placement.
 */
export function placementSplit(readings: readonly number[]): number | undefined {
  if (readings.length === 0) return undefined;
  const lo = Math.min(...readings);
  const hi = Math.max(...readings);
  return hi >= 2 * lo ? Math.sqrt(lo * hi) : undefined;
}
