/**
 * CloudWatch's statistics over stored aggregates. Pure: no I/O, times in epoch seconds.
 * A datapoint is an aggregate (sample count, sum, minimum, maximum), so any period that is a
 * multiple of the stored resolution is exact for SampleCount, Sum, Average, Minimum, Maximum.
 */

export interface Aggregate {
  readonly n: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
}

/** The resolutions privlink stores: 1 minute, 5 minutes, 1 hour. */
export type Resolution = 60 | 300 | 3600;
export const RESOLUTIONS: readonly Resolution[] = [60, 300, 3600];

export const STATISTICS = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"] as const;
export type Statistic = (typeof STATISTICS)[number];

const DAY = 86_400;

export function merge(a: Aggregate, b: Aggregate): Aggregate {
  return { n: a.n + b.n, sum: a.sum + b.sum, min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) };
}

export function single(value: number): Aggregate {
  return { n: 1, sum: value, min: value, max: value };
}

export function statistic(a: Aggregate, stat: Statistic): number {
  switch (stat) {
    case "SampleCount":
      return a.n;
    case "Sum":
      return a.sum;
    case "Average":
      return a.n ? a.sum / a.n : 0;
    case "Minimum":
      return a.min;
    case "Maximum":
      return a.max;
  }
}

/**
 * The stored resolution a query reads: the coarsest one that divides the period, but never
 * finer than what AWS still keeps for data as old as `start` (1-minute data lives 15 days,
 * 5-minute data 63 days).
 */
export function resolutionFor(period: number, start: number, now: number): Resolution {
  const age = now - start;
  const floor: Resolution = age > 63 * DAY ? 3600 : age > 15 * DAY ? 300 : 60;
  for (const r of [3600, 300, 60] as const) if (r >= floor && period % r === 0) return r;
  return floor;
}

/**
 * Points grouped into buckets of `period` seconds starting at `start`; only buckets that
 * received data appear (CloudWatch returns no datapoint for a minute without data).
 */
export function bucket(
  points: readonly (Aggregate & { ts: number })[],
  start: number,
  period: number,
): Map<number, Aggregate> {
  const out = new Map<number, Aggregate>();
  for (const p of points) {
    const at = start + Math.floor((p.ts - start) / period) * period;
    const old = out.get(at);
    out.set(at, old ? merge(old, p) : p);
  }
  return out;
}

/** StartTime as AWS rounds it: to the minute within 15 days, 5 minutes to 63 days, the hour after. */
export function roundStart(start: number, now: number, period: number): number {
  const age = now - start;
  const unit = age > 63 * DAY ? 3600 : age > 15 * DAY ? 300 : 60;
  const step = Math.min(unit, period);
  return start - (((start % step) + step) % step);
}
