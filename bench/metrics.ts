import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { CloudWatchMetrics } from "../src/services/cloudwatch/metrics.js";
import { single } from "../src/services/cloudwatch/statistics.js";
import { SqliteMetricStore } from "../src/services/cloudwatch/store.js";
import type { Row } from "./goals.js";

const ACCOUNT = "222222222222";
const REGION = "us-east-1";
const NS = "AWS/PrivateLinkEndpoints";

/**
 * Issue 12's GetMetricData benchmark: 15 days of 1-minute BytesProcessed for 100 endpoints
 * (2.16 million datapoints, written through the store as the publisher writes them, rollups
 * included), then GetMetricData with one query per endpoint over the whole 15 days at a
 * 1-hour period (36,000 datapoints returned), and the same plus a SUM() expression. The same
 * run also times the path GetMetricData first took (per query: the metric's series listed to find
 * one, then its range read as an object per point), so the gain is measured, not assumed; the
 * present path finds each series on its index and folds only the columns its statistic needs.
 */
export async function benchMetrics(
  opts: { endpoints?: number; days?: number; runs?: number } = {},
): Promise<Row[]> {
  const endpoints = opts.endpoints ?? 100;
  const days = opts.days ?? 15;
  const runs = opts.runs ?? 20;
  const dir = mkdtempSync(join(tmpdir(), "privlink-bench-metrics-"));
  const store = new SqliteMetricStore(join(dir, "metrics.db"));
  const end = Math.floor(Date.now() / 60_000) * 60;
  const start = end - days * 86_400;
  const metrics = new CloudWatchMetrics(store, () => new Date(end * 1000));
  try {
    const dims = (i: number) => [{ name: "VPC Endpoint Id", value: `vpce-${String(i).padStart(17, "0")}` }];
    const t0 = performance.now();
    for (let ts = start; ts < end; ts += 3600) {
      const rows = [];
      for (let m = ts; m < Math.min(end, ts + 3600); m += 60)
        for (let i = 0; i < endpoints; i++)
          rows.push({
            key: {
              accountId: ACCOUNT,
              region: REGION,
              namespace: NS,
              metricName: "BytesProcessed",
              dimensions: dims(i),
            },
            ts: m,
            agg: single(1000 + i),
            unit: "Bytes",
          });
      await store.put(rows);
    }
    const loadS = (performance.now() - t0) / 1000;
    const queries = Array.from({ length: endpoints }, (_, i) => ({
      Id: `e${i}`,
      MetricStat: {
        Metric: {
          Namespace: NS,
          MetricName: "BytesProcessed",
          Dimensions: dims(i).map((d) => ({ Name: d.name, Value: d.value })),
        },
        Period: 3600,
        Stat: "Sum",
      },
    }));
    const time = async (
      qs: typeof queries | ((typeof queries)[number] | { Id: string; Expression: string })[],
    ) => {
      const ms: number[] = [];
      const cpu: number[] = [];
      let points = 0;
      for (let r = 0; r < runs; r++) {
        const a = performance.now();
        const c = process.cpuUsage();
        const out = await metrics.getMetricData(
          { accountId: ACCOUNT, region: REGION },
          {
            MetricDataQueries: qs as never,
            StartTime: new Date(start * 1000),
            EndTime: new Date(end * 1000),
          },
        );
        ms.push(performance.now() - a);
        const used = process.cpuUsage(c);
        cpu.push((used.user + used.system) / 1000);
        points = out.MetricDataResults.reduce((n, x) => n + x.Values.length, 0);
      }
      ms.sort((x, y) => x - y);
      cpu.sort((x, y) => x - y);
      // CPU time beside the wall time: the query is single-threaded, so on a quiet machine the
      // two agree, and on a loaded one the CPU figure is the one to read.
      return {
        p50: ms[Math.floor(ms.length / 2)]!,
        max: ms[ms.length - 1]!,
        cpuP50: cpu[Math.floor(cpu.length / 2)]!,
        points,
      };
    };
    const plain = await time(queries);
    const perQuery = await timePerQuery(metrics, dims, endpoints, start, end, runs);
    const withSum = await time([
      ...queries.map((q) => ({ ...q, ReturnData: false })),
      { Id: "total", Expression: "SUM(METRICS())" },
    ]);
    return [
      { case: "load", endpoints, days, datapoints: endpoints * ((end - start) / 60), seconds: loadS },
      { case: `GetMetricData ${endpoints} queries, ${days} d, period 3600`, ...plain },
      {
        case: `(before batching) ${endpoints} per-query reads, ${days} d, period 3600`,
        ...perQuery,
        vsBatched: perQuery.p50 / plain.p50,
      },
      { case: `GetMetricData ${endpoints} queries + SUM expression`, ...withSum },
    ];
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The unbatched path: per query, find the series and read its range, as GetMetricData once did. */
async function timePerQuery(
  metrics: CloudWatchMetrics,
  dims: (i: number) => { name: string; value: string }[],
  endpoints: number,
  start: number,
  end: number,
  runs: number,
): Promise<{ p50: number; max: number; points: number }> {
  const scope = { accountId: ACCOUNT, region: REGION };
  const ms: number[] = [];
  let points = 0;
  for (let r = 0; r < runs; r++) {
    const a = performance.now();
    points = 0;
    for (let i = 0; i < endpoints; i++) {
      const series = await metrics.exact(scope, NS, "BytesProcessed", dims(i));
      if (series) points += (await metrics.read(series, start, end, 3600, end)).size;
    }
    ms.push(performance.now() - a);
  }
  ms.sort((x, y) => x - y);
  return { p50: ms[Math.floor(ms.length / 2)]!, max: ms[ms.length - 1]!, points };
}
