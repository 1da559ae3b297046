import { performance } from "node:perf_hooks";

/** Latency samples of a bounded run: count, rate, and percentiles in milliseconds. */
export interface Measured {
  count: number;
  seconds: number;
  perSec: number;
  p50: number;
  p99: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Runs `op` from `concurrency` loops until `seconds` pass or `maxOps` complete, whichever is
 * first: every load loop here is bounded in count and time.
 */
export async function runFor(op: () => Promise<unknown>, opts: { seconds: number; concurrency: number; maxOps?: number }): Promise<Measured> {
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
  return { count: samples.length, seconds, perSec: samples.length / seconds, p50: percentile(samples, 50), p99: percentile(samples, 99) };
}
