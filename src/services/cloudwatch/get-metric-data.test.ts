import { describe, expect, it } from "vitest";
import { CloudWatchMetrics } from "./metrics.js";
import { STATISTICS } from "./statistics.js";
import { SqliteMetricStore } from "./store.js";

const scope = { accountId: "000000000000", region: "us-east-1" };
const key = {
  ...scope,
  namespace: "Shop",
  metricName: "Latency",
  dimensions: [{ name: "Api", value: "cart" }],
};

describe("GetMetricData folds stored points into periods per statistic", () => {
  const now = 1_800_000_000 - (1_800_000_000 % 3600);
  const store = new SqliteMetricStore(":memory:");
  const metrics = new CloudWatchMetrics(store, () => new Date(now * 1000));
  // Three minutes in one 5-minute period (two samples in the first), one minute in the next.
  const t0 = now - 3600;
  store.put([
    { key, ts: t0, agg: { n: 2, sum: 10, min: 3, max: 7 } },
    { key, ts: t0 + 60, agg: { n: 1, sum: 1, min: 1, max: 1 } },
    { key, ts: t0 + 240, agg: { n: 1, sum: 9, min: 9, max: 9 } },
    { key, ts: t0 + 300, agg: { n: 1, sum: 4, min: 4, max: 4 } },
  ]);
  const window = { StartTime: new Date((t0 - 600) * 1000), EndTime: new Date(now * 1000) };
  const metric = { Namespace: "Shop", MetricName: "Latency", Dimensions: [{ Name: "Api", Value: "cart" }] };

  it("answers every statistic as GetMetricStatistics does, newest first by default", async () => {
    const out = await metrics.getMetricData(scope, {
      ...window,
      MetricDataQueries: STATISTICS.map((stat) => ({
        Id: stat.toLowerCase(),
        MetricStat: { Metric: metric, Period: 300, Stat: stat },
      })),
    });
    const stats = await metrics.getMetricStatistics(scope, {
      ...metric,
      ...window,
      Period: 300,
      Statistics: [...STATISTICS],
    });
    const byTime = [...stats.Datapoints].sort(
      (a, b) => (b.Timestamp as Date).getTime() - (a.Timestamp as Date).getTime(),
    );
    expect(byTime.map((d) => d.Timestamp)).toEqual([new Date((t0 + 300) * 1000), new Date(t0 * 1000)]);
    for (const [k, stat] of STATISTICS.entries()) {
      const r = out.MetricDataResults[k]!;
      expect(r.Timestamps).toEqual(byTime.map((d) => d.Timestamp));
      expect(r.Values).toEqual(byTime.map((d) => d[stat]));
    }
    expect(out.MetricDataResults.map((r) => r.Values)).toEqual([
      [1, 4],
      [4, 5],
      [4, 20],
      [4, 1],
      [4, 9],
    ]);
  });

  it("ascending order on request, and an empty series for a metric that does not exist", async () => {
    const out = await metrics.getMetricData(scope, {
      ...window,
      ScanBy: "TimestampAscending",
      MetricDataQueries: [
        { Id: "sum", MetricStat: { Metric: metric, Period: 60, Stat: "Sum" } },
        {
          Id: "none",
          MetricStat: { Metric: { ...metric, Dimensions: [] }, Period: 60, Stat: "Sum" },
        },
      ],
    });
    expect(out.MetricDataResults[0]!.Values).toEqual([10, 1, 9, 4]);
    expect(out.MetricDataResults[0]!.Timestamps.map((d) => d.getTime() / 1000)).toEqual([
      t0,
      t0 + 60,
      t0 + 240,
      t0 + 300,
    ]);
    expect(out.MetricDataResults[1]!.Values).toEqual([]);
  });
});
