import type { State } from "../cloud/state.js";
import type { VpcEndpoint } from "../cloud/types.js";
import type { CloudWatchMetrics } from "../services/cloudwatch/metrics.js";
import type { Scope } from "../services/cloudwatch/pending.js";
import { ENDPOINTS_NS, endpointDimensions } from "../services/cloudwatch/publisher.js";
import { resolutionFor } from "../services/cloudwatch/statistics.js";
import type { Dimension } from "../services/cloudwatch/store.js";
import {
  billedHours,
  type DxConnectionUsage,
  type EndpointUsage,
  type NatUsage,
  type ResolverEndpointUsage,
  type TgwAttachmentUsage,
  type TransferUsage,
  type Usage,
  type VpnUsage,
} from "./cost.js";
import { INTER_AZ_METRIC, NAT_NS, TGW_NS, TRANSFER_NS } from "./transfer.js";

/**
 * Usage in a window from what privlink really recorded: lifetimes (endpoints, NAT gateways,
 * transit gateway attachments, VPN connections, Resolver endpoints, Direct Connect connections)
 * from the state; bytes from the CloudWatch
 * store, windowed by minute: BytesProcessed in AWS/PrivateLinkEndpoints per endpoint, the NAT
 * gateways' AWS/NATGateway bytes, the attachments' AWS/TransitGateway BytesIn, and the bytes
 * each interface exchanged with another AZ (privlink/DataTransfer).
 */
export async function collectUsage(
  state: State,
  metrics: CloudWatchMetrics,
  window: { since: Date; until: Date },
): Promise<Usage> {
  const since = window.since.getTime();
  const until = window.until.getTime();
  const sum = windowSum(metrics, since, until);
  const hours = (createdAt: string, endedAt: string | undefined) =>
    billedHours(
      Math.max(since, Date.parse(createdAt)),
      endedAt ? Math.min(until, Date.parse(endedAt)) : until,
    );
  const endpoints: EndpointUsage[] = [];
  for (const ep of state.all("vpcEndpoint")) {
    if (ep.state === "deleted" || ep.state === "rejected" || ep.state === "failed") continue;
    endpoints.push({
      id: ep.id,
      type: ep.type,
      accountId: ep.accountId,
      region: ep.region,
      payer: payerOf(state, ep),
      serviceName: ep.serviceName,
      azs: ep.enis.map((e) => state.get("subnet", e.subnetId)?.az ?? e.subnetId),
      hours: hours(ep.createdAt, ep.state === "deleting" ? ep.stateChangedAt : undefined),
      bytes:
        ep.type === "Gateway" ? 0 : await sum(ep, ENDPOINTS_NS, ["BytesProcessed"], endpointDimensions(ep)),
    });
  }
  const natGateways: NatUsage[] = [];
  for (const n of state.all("natGateway")) {
    const dims = [{ name: "NatGatewayId", value: n.id }];
    natGateways.push({
      id: n.id,
      accountId: n.accountId,
      region: n.region,
      hours: hours(n.createdAt, n.deletedAt),
      bytes: await sum(n, NAT_NS, ["BytesOutToDestination", "BytesInFromDestination"], dims),
    });
  }
  const tgwAttachments: TgwAttachmentUsage[] = [];
  for (const a of state.all("transitGatewayAttachment")) {
    if (a.state === "rejected" || a.state === "failed" || a.state === "pendingAcceptance") continue;
    const tgw = state.get("transitGateway", a.transitGatewayId);
    const dims = [
      { name: "TransitGateway", value: a.transitGatewayId },
      { name: "TransitGatewayAttachment", value: a.id },
    ];
    tgwAttachments.push({
      id: a.id,
      transitGatewayId: a.transitGatewayId,
      accountId: a.accountId,
      region: a.region,
      resource: `${a.resourceType} ${a.resourceId}`,
      hours: hours(a.createdAt, a.deletedAt),
      bytes: tgw ? await sum(tgw, TGW_NS, ["BytesIn"], dims) : 0,
    });
  }
  const vpnConnections: VpnUsage[] = [...state.all("vpnConnection")].map((v) => ({
    id: v.id,
    accountId: v.accountId,
    region: v.region,
    hours: v.state === "deleted" && !v.deletedAt ? 0 : hours(v.createdAt, v.deletedAt),
  }));
  // A deleted Resolver endpoint leaves the state: its hours are billed only while it exists.
  const resolverEndpoints: ResolverEndpointUsage[] = [...state.all("resolverEndpoint")].map((r) => ({
    id: r.id,
    accountId: r.accountId,
    region: r.region,
    enis: r.ipAddresses.length,
    hours: hours(r.createdAt, undefined),
  }));
  // Connections stored before createdAt was recorded are billed from the window's start.
  const dxConnections: DxConnectionUsage[] = [...state.all("dxConnection")].map((d) => ({
    id: d.id,
    accountId: d.accountId,
    region: d.region,
    bandwidth: d.bandwidth,
    hours:
      d.state === "deleted" && !d.deletedAt
        ? 0
        : hours(d.createdAt ?? window.since.toISOString(), d.deletedAt),
  }));
  const interAz: TransferUsage[] = [];
  const regions = new Set([...state.all("vpc")].map((v) => v.region));
  const scopes = [...state.all("account")].flatMap((a) => [...regions].map((r) => [a.id, r] as const));
  const transfer = await Promise.all(
    scopes.map(([a, r]) => metrics.store.series(a, r, TRANSFER_NS, INTER_AZ_METRIC)),
  );
  for (const s of transfer.flat()) {
    const bytes = await sum(s, TRANSFER_NS, [INTER_AZ_METRIC], s.dimensions);
    if (bytes > 0)
      interAz.push({ resource: s.dimensions[0]!.value, accountId: s.accountId, region: s.region, bytes });
  }
  return {
    since: window.since.toISOString(),
    until: window.until.toISOString(),
    endpoints,
    natGateways,
    tgwAttachments,
    vpnConnections,
    resolverEndpoints,
    dxConnections,
    interAz,
  };
}

/** ModifyVpcEndpointServicePayerResponsibility=ServiceOwner moves the charges to the service's owner. */
function payerOf(state: State, ep: VpcEndpoint): string {
  const svc = ep.serviceId ? state.get("endpointService", ep.serviceId) : undefined;
  return svc?.payerResponsibility === "ServiceOwner" ? svc.accountId : ep.accountId;
}

/** The sum of some metrics' datapoints in the window, at the finest resolution still kept. */
function windowSum(metrics: CloudWatchMetrics, sinceMs: number, untilMs: number) {
  const start = Math.floor(sinceMs / 1000);
  const end = Math.ceil(untilMs / 1000);
  const res = resolutionFor(60, start, Math.floor(Date.now() / 1000));
  return async (scope: Scope, ns: string, names: string[], dims: readonly Dimension[]): Promise<number> => {
    let total = 0;
    for (const name of names) {
      const series = await metrics.exact(
        { accountId: scope.accountId, region: scope.region },
        ns,
        name,
        dims,
      );
      if (series)
        total += (await metrics.store.points(series.id, res, start - (start % res), end - 1)).reduce(
          (a, p) => a + p.sum,
          0,
        );
    }
    return total;
  };
}
