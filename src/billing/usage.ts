import type { State } from "../cloud/state.js";
import type { VpcEndpoint } from "../cloud/types.js";
import type { CloudWatchMetrics } from "../services/cloudwatch/metrics.js";
import { ENDPOINTS_NS, endpointDimensions } from "../services/cloudwatch/publisher.js";
import { resolutionFor } from "../services/cloudwatch/statistics.js";
import { billedHours, type EndpointUsage, type NatUsage, type Usage } from "./cost.js";

/**
 * Usage in a window from what privlink really recorded: endpoint and NAT gateway lifetimes
 * from the state, bytes per endpoint from AWS/PrivateLinkEndpoints BytesProcessed (the billed
 * bytes), NAT gateway bytes from the data plane's counters (not windowed: since the last reset).
 */
export function collectUsage(
  state: State,
  metrics: CloudWatchMetrics,
  natBytes: (natGatewayId: string) => number,
  window: { since: Date; until: Date },
): Usage {
  const since = window.since.getTime();
  const until = window.until.getTime();
  const endpoints: EndpointUsage[] = [];
  for (const ep of state.all("vpcEndpoint")) {
    if (ep.state === "deleted" || ep.state === "rejected" || ep.state === "failed") continue;
    const from = Math.max(since, Date.parse(ep.createdAt));
    const to = ep.state === "deleting" ? Math.min(until, Date.parse(ep.stateChangedAt)) : until;
    endpoints.push({
      id: ep.id,
      type: ep.type,
      accountId: ep.accountId,
      region: ep.region,
      payer: payerOf(state, ep),
      serviceName: ep.serviceName,
      azs: ep.enis.map((e) => state.get("subnet", e.subnetId)?.az ?? e.subnetId),
      hours: billedHours(from, to),
      bytes: ep.type === "Gateway" ? 0 : bytesProcessed(metrics, ep, since, until),
    });
  }
  const natGateways: NatUsage[] = [];
  for (const n of state.all("natGateway")) {
    const from = Math.max(since, Date.parse(n.createdAt));
    const to = n.deletedAt ? Math.min(until, Date.parse(n.deletedAt)) : until;
    natGateways.push({
      id: n.id,
      accountId: n.accountId,
      region: n.region,
      hours: billedHours(from, to),
      bytes: natBytes(n.id),
    });
  }
  return { since: window.since.toISOString(), until: window.until.toISOString(), endpoints, natGateways };
}

/** ModifyVpcEndpointServicePayerResponsibility=ServiceOwner moves the charges to the service's owner. */
function payerOf(state: State, ep: VpcEndpoint): string {
  const svc = ep.serviceId ? state.get("endpointService", ep.serviceId) : undefined;
  return svc?.payerResponsibility === "ServiceOwner" ? svc.accountId : ep.accountId;
}

function bytesProcessed(
  metrics: CloudWatchMetrics,
  ep: VpcEndpoint,
  sinceMs: number,
  untilMs: number,
): number {
  const series = metrics.exact(
    { accountId: ep.accountId, region: ep.region },
    ENDPOINTS_NS,
    "BytesProcessed",
    endpointDimensions(ep),
  );
  if (!series) return 0;
  const start = Math.floor(sinceMs / 1000);
  const end = Math.ceil(untilMs / 1000);
  const res = resolutionFor(60, start, Math.floor(Date.now() / 1000));
  return metrics.store.points(series.id, res, start - (start % res), end).reduce((a, p) => a + p.sum, 0);
}
