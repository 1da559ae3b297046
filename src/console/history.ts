import { endpointNotFound } from "../cloud/endpoint.js";
import type { State } from "../cloud/state.js";
import type { CloudWatchMetrics } from "../services/cloudwatch/metrics.js";
import { ENDPOINTS_NS, endpointDimensions } from "../services/cloudwatch/publisher.js";
import { type Statistic, statistic } from "../services/cloudwatch/statistics.js";
import type { EndpointHistory, HistoryPoint } from "./shapes.js";

const PERIOD = 60;
export const HISTORY_MINUTES = 60;

type Field = Exclude<keyof HistoryPoint, "time">;
/** Which AWS/PrivateLinkEndpoints metric and statistic fills each field of a point. */
const FIELDS: readonly (readonly [Field, string, Statistic])[] = [
  ["bytes", "BytesProcessed", "Sum"],
  ["newConnections", "NewConnections", "Sum"],
  ["activeConnections", "ActiveConnections", "Maximum"],
  ["dropped", "PacketsDropped", "Sum"],
];

/**
 * An endpoint's last hour as CloudWatch holds it: the endpoint-level AWS/PrivateLinkEndpoints
 * series (the same ones `aws cloudwatch get-metric-data` reads), one point per minute that has
 * datapoints. The console draws it, then goes on from the event stream.
 */
export async function endpointHistory(
  state: State,
  metrics: CloudWatchMetrics,
  endpointId: string,
  now: Date,
): Promise<EndpointHistory> {
  const ep = state.get("vpcEndpoint", endpointId);
  if (!ep) throw endpointNotFound(endpointId);
  const nowSec = Math.floor(now.getTime() / 1000);
  const end = nowSec - (nowSec % PERIOD) + PERIOD;
  const start = end - (HISTORY_MINUTES + 1) * PERIOD;
  const scope = { accountId: ep.accountId, region: ep.region };
  const byMinute = new Map<number, HistoryPoint>();
  for (const [field, name, stat] of FIELDS) {
    const series = await metrics.exact(scope, ENDPOINTS_NS, name, endpointDimensions(ep));
    if (!series) continue;
    for (const [ts, agg] of await metrics.read(series, start, end, PERIOD, nowSec)) {
      const p = byMinute.get(ts) ?? emptyPoint(ts);
      p[field] = statistic(agg, stat);
      byMinute.set(ts, p);
    }
  }
  return {
    endpointId,
    period: PERIOD,
    since: new Date(start * 1000).toISOString(),
    until: now.toISOString(),
    points: [...byMinute.keys()].sort((a, b) => a - b).map((ts) => byMinute.get(ts)!),
  };
}

function emptyPoint(ts: number): HistoryPoint {
  return {
    time: new Date(ts * 1000).toISOString(),
    bytes: 0,
    newConnections: 0,
    activeConnections: 0,
    dropped: 0,
  };
}
