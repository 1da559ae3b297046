import type { HandlerTable } from "../api/handler.js";
import { CloudWatchAlarms } from "../services/cloudwatch/alarms.js";
import { cloudWatchHandlers } from "../services/cloudwatch/handlers.js";
import { CloudWatchMetrics } from "../services/cloudwatch/metrics.js";
import { PgMetricStore } from "../services/cloudwatch/pg-store.js";
import { logsHandlers } from "../services/logs/handlers.js";
import { PgLogEvents } from "../services/logs/pg-event-store.js";

/**
 * The built-in services an agent's front answers beside the State's because their data is in
 * the shared store's own tables: CloudWatch (`monitoring`: datapoints and alarms) and CloudWatch
 * Logs (events). The same handlers as an API node's, on the same tables; an agent publishes
 * nothing and evaluates no alarm on a tick (the API node that leads the metric store does), but
 * DescribeAlarms here evaluates as anywhere (transitions are compare-and-set in the store).
 */
export async function storeServices(
  url: string,
  now: () => Date,
): Promise<{ services: Record<string, HandlerTable>; close(): Promise<void> }> {
  const events = await PgLogEvents.open(url);
  const points = await PgMetricStore.open(url).catch(async (err) => {
    await events.close();
    throw err;
  });
  const metrics = new CloudWatchMetrics(points, now);
  return {
    services: {
      monitoring: cloudWatchHandlers(metrics, new CloudWatchAlarms(metrics, now)),
      logs: logsHandlers(events),
    },
    async close() {
      await events.close();
      await points.close();
    },
  };
}
