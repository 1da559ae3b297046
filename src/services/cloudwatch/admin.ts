import type { AdminRoute } from "../../api/server.js";
import type { CloudWatch } from "./index.js";

/**
 * POST /_privlink/cloudwatch/flush: the data plane's counters are sampled and every pending
 * datapoint, the current minute's included, is written now, so GetMetricData right after
 * traffic shows it instead of a minute later. The rest of the minute is still counted: when the
 * minute is over its counters add to what the flush wrote (store.ts `put`). `before` brings
 * counters kept elsewhere up to date first (agents' rows in the shared store, src/agent/observer.ts).
 */
export function cloudWatchAdminRoutes(
  cloudwatch: Pick<CloudWatch, "flush">,
  before?: () => Promise<void> | undefined,
): Record<string, AdminRoute> {
  return {
    "POST /_privlink/cloudwatch/flush": async () => {
      await before?.();
      return { status: 200, body: await cloudwatch.flush() };
    },
  };
}
