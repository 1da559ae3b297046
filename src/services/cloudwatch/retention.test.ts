import { describe, expect, it } from "vitest";
import { CloudWatchMetrics } from "./metrics.js";
import { single } from "./statistics.js";
import { SqliteMetricStore } from "./store.js";

const DAY = 86_400;
const key = {
  accountId: "000000000000",
  region: "us-east-1",
  namespace: "Shop",
  metricName: "Orders",
  dimensions: [],
};

describe("retention as AWS compacts it", () => {
  const now = 1_800_000_000 - (1_800_000_000 % 3600);
  const store = new SqliteMetricStore(":memory:");
  const metrics = new CloudWatchMetrics(store, () => new Date(now * 1000));
  // One datapoint a minute for an hour, 20 days ago and 70 days ago; and one now.
  for (const age of [20 * DAY, 70 * DAY])
    store.put(Array.from({ length: 60 }, (_, i) => ({ key, ts: now - age + i * 60, agg: single(1) })));
  store.put([{ key, ts: now - 120, agg: single(5) }]);
  store.compact(now);

  // The SQLite side writes before its promises return: the puts above are done here.
  const sum = async (start: number, end: number, period: number) =>
    (
      await metrics.getMetricStatistics(
        { accountId: key.accountId, region: key.region },
        {
          Namespace: "Shop",
          MetricName: "Orders",
          StartTime: new Date(start * 1000),
          EndTime: new Date(end * 1000),
          Period: period,
          Statistics: ["Sum", "SampleCount"],
        },
      )
    ).Datapoints.map((d) => [d.Sum, d.SampleCount]);

  it("keeps 1-minute data for 15 days", async () => {
    expect(await sum(now - 600, now, 60)).toEqual([[5, 1]]);
    expect(await store.points(1, 60, 0, now - 15 * DAY)).toEqual([]);
  });

  it("serves 20-day-old data at 5 minutes, exact", async () => {
    const got = await sum(now - 20 * DAY, now - 20 * DAY + 3600, 300);
    expect(got).toHaveLength(12);
    expect(got.every(([s, n]) => s === 5 && n === 5)).toBe(true);
  });

  it("serves 70-day-old data at 1 hour only", async () => {
    expect(await sum(now - 70 * DAY, now - 70 * DAY + 3600, 3600)).toEqual([[60, 60]]);
    expect(await store.points(1, 300, 0, now - 63 * DAY)).toEqual([]);
  });

  it("forgets everything after 455 days", async () => {
    await store.compact(now + 456 * DAY);
    expect(await store.series(key.accountId, key.region)).toEqual([]);
  });
});
