import type { Series } from "./expression.js";
import { bucket, resolutionFor, roundStart, type Statistic, statistic } from "./statistics.js";
import type { Dimension, MetricStore } from "./store.js";

/** A GetMetricData metric query once validated: which metric, at what period and statistic. */
export interface StatQuery {
  readonly ns: string;
  readonly name: string;
  readonly dims: Dimension[];
  readonly period: number;
  readonly stat: Statistic;
}

/**
 * Every metric query of one GetMetricData request answered from a single store query (one
 * statement for up to 500 metrics rather than a series lookup and a range read per query), then
 * bucketed per query into its period. Element k answers query k; a metric that does not exist
 * answers an empty series, as in CloudWatch.
 */
export function readStatSeries(
  store: MetricStore,
  scope: { accountId: string; region: string },
  queries: readonly StatQuery[],
  win: { start: number; end: number },
  now: number,
): Series[] {
  const starts = queries.map((q) => roundStart(win.start, now, q.period));
  const requests = queries.map((q, k) => {
    const start = starts[k]!;
    const period = resolutionFor(q.period, start, now);
    return {
      namespace: q.ns,
      metricName: q.name,
      dimensions: q.dims,
      period,
      from: start - (start % period),
      to: win.end,
    };
  });
  const points = store.rows(scope.accountId, scope.region, requests);
  return queries.map((q, k) => {
    const buckets = [...bucket(points[k]!, starts[k]!, q.period)].sort((a, b) => a[0] - b[0]);
    return { ts: buckets.map(([t]) => t), vs: buckets.map(([, a]) => statistic(a, q.stat)) };
  });
}
