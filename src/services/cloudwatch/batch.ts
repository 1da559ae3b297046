import type { Series } from "./expression.js";
import { resolutionFor, roundStart, type Statistic } from "./statistics.js";
import type { ColumnRead, Dimension, MetricStore, PointColumn } from "./store.js";

/** A GetMetricData metric query once validated: which metric, at what period and statistic. */
export interface StatQuery {
  readonly ns: string;
  readonly name: string;
  readonly dims: Dimension[];
  readonly period: number;
  readonly stat: Statistic;
}

/**
 * What each statistic reads from a stored aggregate and how a period's points fold into it:
 * `x` (and `y` for Average) accumulate over the period's points, `value` gives the datapoint.
 */
const FOLDS: Record<
  Statistic,
  { cols: readonly PointColumn[]; add(x: number, v: number): number; value(x: number, y: number): number }
> = {
  SampleCount: { cols: ["n"], add: (x, v) => x + v, value: (x) => x },
  Sum: { cols: ["sum"], add: (x, v) => x + v, value: (x) => x },
  Average: { cols: ["n", "sum"], add: (x, v) => x + v, value: (n, sum) => (n ? sum / n : 0) },
  Minimum: { cols: ["min"], add: Math.min, value: (x) => x },
  Maximum: { cols: ["max"], add: Math.max, value: (x) => x },
};

/**
 * Every metric query of one GetMetricData request: the series found in one statement, then
 * each query's points read with only the columns its statistic needs and folded into its
 * periods as they stream in time order — no object per datapoint, no map, no sort (GetMetricData
 * over 15 days of 100 metrics reads 36,000 points). Element k answers query k; a metric that
 * does not exist answers an empty series, as in CloudWatch. Only periods with data appear.
 */
export async function readStatSeries(
  store: MetricStore,
  scope: { accountId: string; region: string },
  queries: readonly StatQuery[],
  win: { start: number; end: number },
  now: number,
): Promise<Series[]> {
  const ids = await store.seriesIds(
    scope.accountId,
    scope.region,
    queries.map((q) => ({ namespace: q.ns, metricName: q.name, dimensions: q.dims })),
  );
  // Every query's read at once: one round trip to the store, not one per metric.
  const reads: ColumnRead[] = [];
  const readOf = queries.map((q, k) => {
    const id = ids[k];
    if (id === undefined) return -1;
    const start = roundStart(win.start, now, q.period);
    const res = resolutionFor(q.period, start, now);
    reads.push({
      seriesId: id,
      period: res,
      from: start - (start % res),
      to: win.end,
      cols: FOLDS[q.stat].cols,
    });
    return reads.length - 1;
  });
  const rowsOf = await store.columns(reads);
  return queries.map((q, k) => {
    const ts: number[] = [];
    const vs: number[] = [];
    if (readOf[k]! < 0) return { ts, vs };
    const start = roundStart(win.start, now, q.period);
    const fold = FOLDS[q.stat];
    const two = fold.cols.length === 2;
    let at = Number.NaN;
    let x = 0;
    let y = 0;
    for (const row of rowsOf[readOf[k]!]!) {
      const bucket = start + Math.floor((row[0]! - start) / q.period) * q.period;
      if (bucket !== at) {
        if (!Number.isNaN(at)) {
          ts.push(at);
          vs.push(fold.value(x, y));
        }
        at = bucket;
        x = row[1]!;
        y = two ? row[2]! : 0;
      } else {
        x = fold.add(x, row[1]!);
        if (two) y = fold.add(y, row[2]!);
      }
    }
    if (!Number.isNaN(at)) {
      ts.push(at);
      vs.push(fold.value(x, y));
    }
    return { ts, vs };
  });
}
