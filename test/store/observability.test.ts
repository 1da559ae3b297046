/**
 * CloudWatch Logs events and CloudWatch datapoints on the shared PostgreSQL store (issue 19):
 * two API nodes on one store answer alike, whichever of them took the write, through the real
 * AWS SDK and the aws CLI; a flow-log batch an agent queued is readable from both, whichever
 * node delivered it.
 */

import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  ListMetricsCommand,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
} from "@aws-sdk/client-cloudwatch";
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeBatch } from "../../src/agent/outbox.js";
import type { FlowLog } from "../../src/cloud/types.js";
import { PgMetricStore } from "../../src/services/cloudwatch/pg-store.js";
import { single } from "../../src/services/cloudwatch/statistics.js";
import { Leases } from "../../src/store/leases.js";
import { postgresMissing, startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runAws } from "../helpers/spawn.js";
import { eventually } from "../net/sockets.js";

const missing = postgresMissing();
if (missing) console.log(`skipping the shared logs and metrics tests: ${missing}`);

const config = (s: TestServer) => ({
  endpoint: s.url,
  region: "us-east-1",
  credentials: s.credentials,
  maxAttempts: 1,
});

/** The aws CLI against one node, JSON out; fails with its stderr. */
async function aws(s: TestServer, ...args: string[]): Promise<any> {
  const r = await runAws([...args, "--output", "json"], s.cliEnv());
  if (r.code !== 0) throw new Error(`aws ${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Polls `probe` until it answers true, an error counting as not yet (bounded: 2,000 polls 10 ms apart). */
const settled = (probe: () => Promise<boolean>) => eventually(() => probe().catch(() => false), 2_000);

describe.skipIf(missing)("logs and metrics on the shared store, two API nodes", () => {
  let pgs: TestPostgres;
  let url: string;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    pgs = await startPostgres();
    url = await pgs.createDatabase();
    a = await startTestServer({ store: url });
    b = await startTestServer({ store: url });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await pgs?.stop();
  });

  it("events put through node A are read through node B, page by page and by filter pattern", async () => {
    const logsA = new CloudWatchLogsClient(config(a));
    const logsB = new CloudWatchLogsClient(config(b));
    await logsA.send(new CreateLogGroupCommand({ logGroupName: "/app" }));
    await logsA.send(new CreateLogStreamCommand({ logGroupName: "/app", logStreamName: "web" }));
    const now = Date.now();
    await logsA.send(
      new PutLogEventsCommand({
        logGroupName: "/app",
        logStreamName: "web",
        logEvents: [
          { timestamp: now - 3000, message: "GET /orders 200" },
          { timestamp: now - 2000, message: "GET /cart 500 ERROR" },
          { timestamp: now - 1000, message: "GET /orders 200" },
        ],
      }),
    );
    // B learns of the stream from the change feed; the events were in the store before A answered.
    await settled(async () => {
      const got = await logsB.send(
        new GetLogEventsCommand({
          logGroupName: "/app",
          logStreamName: "web",
          startFromHead: true,
          limit: 2,
        }),
      );
      return got.events?.length === 2;
    });
    const first = await logsB.send(
      new GetLogEventsCommand({ logGroupName: "/app", logStreamName: "web", startFromHead: true, limit: 2 }),
    );
    expect(first.events?.map((e) => e.message)).toEqual(["GET /orders 200", "GET /cart 500 ERROR"]);
    // The token B handed out goes on at A: the seq is the store's, not a node's.
    const rest = await logsA.send(
      new GetLogEventsCommand({
        logGroupName: "/app",
        logStreamName: "web",
        nextToken: first.nextForwardToken,
      }),
    );
    expect(rest.events?.map((e) => e.message)).toEqual(["GET /orders 200"]);
    const cli = await aws(
      b,
      "logs",
      "filter-log-events",
      "--log-group-name",
      "/app",
      "--filter-pattern",
      "ERROR",
    );
    expect(
      cli.events.map((e: { message: string; logStreamName: string }) => [e.logStreamName, e.message]),
    ).toEqual([["web", "GET /cart 500 ERROR"]]);
    const streams = await aws(b, "logs", "describe-log-streams", "--log-group-name", "/app");
    expect(streams.logStreams[0]).toMatchObject({ logStreamName: "web", lastEventTimestamp: now - 1000 });
  });

  it("PutMetricData on A is what GetMetricData and ListMetrics on B answer, and an alarm changes state once", async () => {
    const cwA = new CloudWatchClient(config(a));
    const cwB = new CloudWatchClient(config(b));
    const at = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 120_000);
    const metric = { Namespace: "Shop", MetricName: "Orders", Dimensions: [{ Name: "Site", Value: "eu" }] };
    await cwA.send(
      new PutMetricDataCommand({
        Namespace: "Shop",
        MetricData: [
          { MetricName: "Orders", Dimensions: metric.Dimensions, Timestamp: at, Value: 3 },
          { MetricName: "Orders", Dimensions: metric.Dimensions, Timestamp: at, Value: 4 },
        ],
      }),
    );
    // Through B too: both add to the same minute.
    await cwB.send(
      new PutMetricDataCommand({
        Namespace: "Shop",
        MetricData: [{ MetricName: "Orders", Dimensions: metric.Dimensions, Timestamp: at, Value: 5 }],
      }),
    );
    const window = { StartTime: new Date(at.getTime() - 600_000), EndTime: new Date(at.getTime() + 60_000) };
    const out = await cwB.send(
      new GetMetricDataCommand({
        ...window,
        MetricDataQueries: [
          { Id: "sum", MetricStat: { Metric: metric, Period: 60, Stat: "Sum" } },
          { Id: "n", MetricStat: { Metric: metric, Period: 300, Stat: "SampleCount" } },
        ],
      }),
    );
    expect(out.MetricDataResults?.map((r) => [r.Id, r.Values])).toEqual([
      ["sum", [12]],
      ["n", [3]],
    ]);
    const listed = await aws(b, "cloudwatch", "list-metrics", "--namespace", "Shop");
    expect(listed.Metrics).toEqual([{ ...metric }]);
    const stats = await aws(
      a,
      "cloudwatch",
      "get-metric-statistics",
      "--namespace",
      "Shop",
      "--metric-name",
      "Orders",
      "--dimensions",
      "Name=Site,Value=eu",
      "--start-time",
      window.StartTime.toISOString(),
      "--end-time",
      window.EndTime.toISOString(),
      "--period",
      "60",
      "--statistics",
      "Maximum",
    );
    expect(stats.Datapoints.map((d: { Maximum: number }) => d.Maximum)).toEqual([5]);

    await cwA.send(
      new PutMetricAlarmCommand({
        AlarmName: "many-orders",
        ...metric,
        Statistic: "Sum",
        Period: 60,
        EvaluationPeriods: 60,
        DatapointsToAlarm: 1,
        Threshold: 10,
        ComparisonOperator: "GreaterThanThreshold",
      }),
    );
    // Both nodes evaluate on DescribeAlarms at once: the transition is written once.
    const [fromA, fromB] = await Promise.all([
      cwA.send(new DescribeAlarmsCommand({ AlarmNames: ["many-orders"] })),
      cwB.send(new DescribeAlarmsCommand({ AlarmNames: ["many-orders"] })),
    ]);
    const stored = await cwB.send(new DescribeAlarmsCommand({ AlarmNames: ["many-orders"] }));
    const alarm = stored.MetricAlarms?.[0];
    expect(alarm?.StateValue).toBe("ALARM");
    expect([fromA, fromB].map((d) => d.MetricAlarms?.[0]?.StateValue)).toEqual(["ALARM", "ALARM"]);
    expect(
      (await cwA.send(new DescribeAlarmsCommand({}))).MetricAlarms?.[0]?.StateTransitionedTimestamp,
    ).toEqual(alarm?.StateTransitionedTimestamp);
    expect(await cwA.send(new ListMetricsCommand({ Namespace: "Shop" }))).toMatchObject({
      Metrics: [metric],
    });
  });

  it("a flow-log batch is readable from both nodes, whichever delivered it", async () => {
    const logsA = new CloudWatchLogsClient(config(a));
    await logsA.send(new CreateLogGroupCommand({ logGroupName: "/flows" }));
    const flowLog: FlowLog = {
      id: "fl-0123456789abcdef0",
      accountId: "000000000000",
      region: "us-east-1",
      tags: {},
      resourceId: "vpc-0123456789abcdef0",
      resourceType: "VPC",
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: "arn:aws:logs:us-east-1:000000000000:log-group:/flows",
      logGroupName: "/flows",
      logFormat: `\${srcaddr} \${dstaddr}`,
      maxAggregationInterval: 60,
      deliverLogsStatus: "SUCCESS",
      createdAt: new Date().toISOString(),
    };
    await a.state.transactDurable((tx) => tx.put("flowLog", flowLog));
    const start = Math.floor(Date.now() / 1000) - 60;
    const batch = (line: string, interfaceId: string) => ({
      flowLog,
      interfaceId,
      header: "srcaddr dstaddr",
      lines: [line],
      start,
    });
    // One recorded by node A itself, one an agent queued in the store's outbox, taken by B.
    await a.flowLogs.deliver(batch("10.0.1.4 10.0.1.5", "eni-0aaaaaaaaaaaaaaaa"));
    const leases = await Leases.open(url);
    try {
      await leases.queueFlowLogs("agent-x", [
        encodeBatch(batch("10.0.2.4 10.0.2.5", "eni-0bbbbbbbbbbbbbbbb")),
      ]);
    } finally {
      await leases.close();
    }
    await settled(async () => {
      await b.admin("POST", "/_privlink/cloudwatch/flush");
      for (const node of [a, b]) {
        const got = await new CloudWatchLogsClient(config(node)).send(
          new FilterLogEventsCommand({ logGroupName: "/flows" }),
        );
        if (got.events?.length !== 2) return false;
      }
      return true;
    });
    for (const node of [a, b]) {
      const got = await aws(
        node,
        "logs",
        "filter-log-events",
        "--log-group-name",
        "/flows",
        "--filter-pattern",
        "10.0.2.4",
      );
      expect(
        got.events.map((e: { logStreamName: string; message: string }) => [e.logStreamName, e.message]),
      ).toEqual([["eni-0bbbbbbbbbbbbbbbb", "10.0.2.4 10.0.2.5"]]);
    }
  });

  it("keeps CloudWatch's retention and rollups in the shared tables: counters grow their minute, one node leads", async () => {
    const store = await PgMetricStore.open(url);
    const other = await PgMetricStore.open(url);
    try {
      const DAY = 86_400;
      const now = 1_800_000_000 - (1_800_000_000 % 3600);
      const key = {
        accountId: "555555555555",
        region: "us-east-1",
        namespace: "Shop",
        metricName: "Bytes",
        dimensions: [],
      };
      for (const age of [20 * DAY, 70 * DAY])
        await store.put(
          Array.from({ length: 60 }, (_, i) => ({ key, ts: now - age + i * 60, agg: single(1) })),
        );
      // A counter's minute written early (a flush), then again when it is over: one sample, the total.
      await store.put([{ key, ts: now - 120, agg: single(5), counter: true }]);
      await other.put([{ key, ts: now - 120, agg: single(2), counter: true }]);
      await store.compact(now);
      const [id] = await store.seriesIds(key.accountId, key.region, [{ ...key }]);
      const sumOf = async (period: 60 | 300 | 3600, from: number, to: number) =>
        (await other.points(id!, period, from, to)).map((p) => [p.sum, p.n]);
      expect(await sumOf(60, now - 600, now)).toEqual([[7, 1]]);
      expect(await sumOf(3600, now - 3600, now)).toEqual([[7, 1]]);
      expect(await sumOf(60, 0, now - 15 * DAY)).toEqual([]);
      expect(await sumOf(300, now - 20 * DAY, now - 20 * DAY + 3600)).toEqual(Array(12).fill([5, 5]));
      expect(await sumOf(300, 0, now - 63 * DAY)).toEqual([]);
      expect(await sumOf(3600, now - 70 * DAY, now - 70 * DAY + 3600)).toEqual([[60, 60]]);
      await store.compact(now + 456 * DAY);
      expect(await other.series(key.accountId, key.region)).toEqual([]);
      // One lead at a time: the API nodes' stores may hold it already; of these two, at most one.
      const leads = [await store.leads(), await other.leads()];
      expect(leads.filter(Boolean).length).toBeLessThanOrEqual(1);
    } finally {
      await store.close();
      await other.close();
    }
  });
});
