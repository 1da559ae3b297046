import type { HandlerTable } from "../../api/handler.js";
import type { CloudWatchAlarms } from "./alarms.js";
import type { CloudWatchMetrics } from "./metrics.js";

/**
 * The `monitoring` service's actions. Thin: the SDK-shaped input goes to the metric and alarm
 * rules with the caller's account and region; the wire (awsQuery, JSON 1.0, RPC v2 CBOR) is
 * decoded and encoded in api/. The store may be PostgreSQL: every action answers a promise.
 */
export function cloudWatchHandlers(metrics: CloudWatchMetrics, alarms: CloudWatchAlarms): HandlerTable {
  const scope = (ctx: { accountId: string; region: string }) => ({
    accountId: ctx.accountId,
    region: ctx.region,
  });
  return {
    PutMetricData: ({ ctx, input }) => metrics.putMetricData(scope(ctx), input).then(() => ({})),
    GetMetricStatistics: ({ ctx, input }) => metrics.getMetricStatistics(scope(ctx), input),
    GetMetricData: ({ ctx, input }) => metrics.getMetricData(scope(ctx), input),
    ListMetrics: ({ ctx, input }) => metrics.listMetrics(scope(ctx), input),
    PutMetricAlarm: ({ ctx, input }) => alarms.put(scope(ctx), input).then(() => ({})),
    DescribeAlarms: ({ ctx, input }) => alarms.describe(scope(ctx), input),
    DeleteAlarms: ({ ctx, input }) => alarms.delete(scope(ctx), input.AlarmNames).then(() => ({})),
  };
}
