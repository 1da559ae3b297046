import type { AdminRoute } from "../api/server.js";
import { AwsError } from "../cloud/errors.js";
import type { State } from "../cloud/state.js";
import type { CloudWatchMetrics } from "../services/cloudwatch/metrics.js";
import { bill, billCsv } from "./cost.js";
import { PRICES, PRICES_SOURCE, withOverrides } from "./prices.js";
import { collectUsage } from "./usage.js";

/**
 * GET /_privlink/cost?since=T&until=T&account=A&what-if=nat&format=json|csv, and the same as a
 * POST with a JSON body that may also carry `prices` (the CLI's --prices FILE).
 */
export function costRoutes(deps: {
  state: State;
  metrics: CloudWatchMetrics;
  now: () => Date;
}): Record<string, AdminRoute> {
  const route: AdminRoute = async ({ url, body }) => {
    const q = url.searchParams;
    const b = body.length ? (JSON.parse(body.toString("utf8")) as Record<string, unknown>) : {};
    const param = (k: string) => (b[k] as string | undefined) ?? q.get(k) ?? undefined;
    const until = time(param("until"), deps.now());
    const since = time(param("since"), new Date(until.getTime() - 30 * 86_400_000));
    if (since >= until) throw new AwsError("InvalidParameterValue", "since must be before until");
    let prices = PRICES;
    try {
      if (b.prices !== undefined) prices = withOverrides(b.prices);
    } catch (err) {
      throw new AwsError("InvalidParameterValue", (err as Error).message);
    }
    const usage = await collectUsage(deps.state, deps.metrics, { since, until });
    const whatIf = param("what-if") ?? param("whatIf");
    if (whatIf !== undefined && whatIf !== "nat")
      throw new AwsError("InvalidParameterValue", "what-if takes nat");
    const out = bill(usage, prices, { whatIfNat: whatIf === "nat", account: param("account") });
    if (param("format") === "csv") return { status: 200, body: billCsv(out), contentType: "text/csv" };
    return { status: 200, body: { ...out, currency: "USD", prices: b.prices ? "custom" : PRICES_SOURCE } };
  };
  return { "GET /_privlink/cost": route, "POST /_privlink/cost": route };
}

function time(text: string | undefined, fallback: Date): Date {
  if (text === undefined || text === "") return fallback;
  const d = new Date(/^\d+$/.test(text) ? Number(text) * 1000 : text);
  if (Number.isNaN(d.getTime()))
    throw new AwsError("InvalidParameterValue", `'${text}' is not a time (ISO 8601 or epoch seconds)`);
  return d;
}
