import { type ChildProcess, fork } from "node:child_process";
import { existsSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

/** Latency samples of a bounded run: count, rate, and percentiles in milliseconds. */
export interface Measured {
  count: number;
  seconds: number;
  perSec: number;
  p50: number;
  p99: number;
}

/** The middle of sorted values (the mean of the two middle ones for an even count). */
export function median(sorted: readonly number[]): number {
  return percentile(sorted, 50);
}

/**
 * A distribution-free 95 % interval of the median of sorted values: the order statistics
 * n/2 ∓ 0.98·√n (the binomial's normal approximation), clamped to the values.
 */
export function medianInterval(sorted: readonly number[]): [number, number] {
  const n = sorted.length;
  const half = 0.98 * Math.sqrt(n);
  const lo = Math.max(0, Math.floor(n / 2 - half));
  const hi = Math.min(n - 1, Math.ceil(n / 2 + half) - 1);
  return [sorted[lo]!, sorted[hi]!];
}

/**
 * The p-th percentile of sorted values, interpolated between the two values around rank
 * (n − 1)·p/100 (Hyndman and Fan's type 7, numpy's default). With one rule for every figure, p50
 * is the median, p and 100 − p sit symmetrically (an interquartile range is not shifted up or
 * down by a rank), and p99 of 100 values is not the maximum.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = ((sorted.length - 1) * p) / 100;
  const below = Math.floor(rank);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (rank - below);
}

/** The median of values in any order, the 95 % interval of it, and how many values there were. */
export interface Spread {
  median: number;
  low: number;
  high: number;
  n: number;
}

/** The Spread of the finite values among `values` (NaN throughout when there are none). */
export function spreadOf(values: readonly number[]): Spread {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return { median: Number.NaN, low: Number.NaN, high: Number.NaN, n: 0 };
  const [low, high] = medianInterval(sorted);
  return { median: median(sorted), low, high, n: sorted.length };
}

/**
 * Runs `op` from `concurrency` loops until `seconds` pass or `maxOps` complete, whichever is
 * first: every load loop here is bounded in count and time.
 */
export async function runFor(
  op: () => Promise<unknown>,
  opts: { seconds: number; concurrency: number; maxOps?: number },
): Promise<Measured> {
  const samples: number[] = [];
  const start = performance.now();
  const deadline = start + opts.seconds * 1000;
  const maxOps = opts.maxOps ?? 1_000_000;
  let started = 0;
  const loop = async () => {
    while (performance.now() < deadline && started < maxOps) {
      started++;
      const t = performance.now();
      await op();
      samples.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, loop));
  const seconds = (performance.now() - start) / 1000;
  samples.sort((a, b) => a - b);
  return {
    count: samples.length,
    seconds,
    perSec: samples.length / seconds,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
  };
}

/** One bounded SDK load run, executed by bench/sdk-load.mjs in its own process. */
export interface LoadSpec {
  /** SigV4 service name of the client: ec2, secretsmanager, … */
  service: string;
  endpoint: string;
  /** Command name without the suffix, e.g. "DescribeVpcEndpoints". */
  command: string;
  /** Operation i sends inputs[i % inputs.length] (structured-cloned: Dates survive). */
  inputs: unknown[];
  seconds: number;
  concurrency: number;
  maxOps?: number;
  warmupSeconds?: number;
  warmupOps?: number;
  /** HTTPS trusting `ca`, every host name resolved to `address`. */
  tls?: { ca: string; address: string };
}

export interface LoadResult extends Measured {
  /** Failed operations (not in the percentiles); firstError says what the first one was. */
  errors: number;
  firstError?: string;
  /** CPU the load process used, in cores: near 1 means the client, not the server, was the limit. */
  clientCpu: number;
}

/** bench/NAME (a .mjs), from bench/ (sources) or dist/bench/ (built; tsc does not copy .mjs). */
export function benchScript(name: string): string {
  for (const up of ["./", "../../bench/"]) {
    const path = fileURLToPath(new URL(`${up}${name}`, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error(`bench/${name} not found`);
}

/**
 * The SDK load generator process. Requests are answered in order; a run that does not answer in
 * its time plus a minute kills the process.
 */
export class SdkLoad {
  private next = 0;
  private readonly waiting = new Map<number, { resolve(r: LoadResult): void; reject(e: Error): void }>();

  private constructor(private readonly proc: ChildProcess) {
    proc.on("message", (msg: { id: number; result?: LoadResult; error?: string }) => {
      const w = this.waiting.get(msg.id);
      this.waiting.delete(msg.id);
      if (msg.error !== undefined) w?.reject(new Error(msg.error));
      else w?.resolve(msg.result!);
    });
    proc.once("exit", (code, signal) => {
      for (const w of this.waiting.values()) w.reject(new Error(`sdk-load exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }

  static start(): SdkLoad {
    const proc = fork(benchScript("sdk-load.mjs"), [], {
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    });
    return new SdkLoad(proc);
  }

  /** The load process's id (to pin it to a core, to read its CPU). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  run(spec: LoadSpec): Promise<LoadResult> {
    const id = this.next++;
    const limitMs = ((spec.warmupSeconds ?? 0) + spec.seconds + 60) * 1000;
    return new Promise<LoadResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        this.proc.kill("SIGKILL");
        reject(new Error(`sdk-load: no answer within ${limitMs / 1000} s`));
      }, limitMs);
      const done =
        <T>(f: (v: T) => void) =>
        (v: T) => {
          clearTimeout(timer);
          f(v);
        };
      this.waiting.set(id, { resolve: done(resolve), reject: done(reject) });
      this.proc.send({ id, spec });
    });
  }

  /** Asks the process to close its clients and exit; kills it if it has not after two seconds. */
  close(): Promise<void> {
    return closeChild(this.proc);
  }
}

/** Asks a bench child process to close and exit; kills it if it has not after two seconds. */
export async function closeChild(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  if (proc.connected) proc.send({ type: "close" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 2000);
  await exited;
  clearTimeout(timer);
}
