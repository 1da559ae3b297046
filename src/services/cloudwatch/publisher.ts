import type { State } from "../../cloud/state.js";
import type { VpcEndpoint } from "../../cloud/types.js";
import { minuteOf, PendingMinutes, type Scope } from "./pending.js";
import type { Dimension, MetricStore } from "./store.js";

/** The data plane's counters as the publisher reads them (net/meter.ts `Stats`). */
export interface CounterRow {
  bytesIn: number;
  bytesOut: number;
  newConnections: number;
  activeConnections: number;
  resets: number;
  dropped: number;
}
export interface CounterSource {
  /** `lead`: whether this node leads the metric store (MetricStore.leads): only it adds the agents' counters. */
  snapshot(lead: boolean): {
    endpoints: ({ vpcEndpointId: string } & CounterRow)[];
    enis: ({ networkInterfaceId: string } & CounterRow)[];
  };
}

export const ENDPOINTS_NS = "AWS/PrivateLinkEndpoints";
export const SERVICES_NS = "AWS/PrivateLinkServices";

/**
 * Turns the data plane's cumulative counters into CloudWatch's 1-minute datapoints for
 * AWS/PrivateLinkEndpoints (consumer account) and AWS/PrivateLinkServices (service owner),
 * with AWS's metric and dimension names (spaces included). Each tick adds the counters'
 * deltas to the current minute of the injected clock; a minute is written once the clock has
 * left it. A minute in which an endpoint saw nothing writes nothing.
 */
export class PrivateLinkPublisher {
  private last = new Map<string, CounterRow>();
  private readonly pending = new PendingMinutes();

  constructor(
    private readonly state: State,
    private readonly source: CounterSource,
    private readonly store: MetricStore,
    private readonly now: () => Date,
  ) {}

  /**
   * Reads the counters now; writes every minute that is over. `lead` (MetricStore.leads): this
   * node publishes what every node sees alike (the agents' counters, EndpointsCount from the
   * State), so on a shared store it is published once; its own data plane's counters every node.
   */
  tick(lead = true): Promise<number> {
    const minute = minuteOf(this.now());
    this.sample(minute, lead);
    return this.pending.write(this.store, (m) => m < minute);
  }

  /** Writes everything, the current minute included (flush, shutdown); answers the datapoints written. */
  flushAll(lead = true): Promise<number> {
    this.sample(minuteOf(this.now()), lead);
    return this.pending.write(this.store, () => true);
  }

  clear(): void {
    this.last.clear();
    this.pending.clear();
  }

  private sample(minute: number, lead: boolean): void {
    const snap = this.source.snapshot(lead);
    const next = new Map<string, CounterRow>();
    const endpointDelta = new Map<string, CounterRow>();
    for (const { vpcEndpointId, ...c } of snap.endpoints) {
      next.set(`e/${vpcEndpointId}`, c);
      endpointDelta.set(vpcEndpointId, this.delta(`e/${vpcEndpointId}`, c));
    }
    for (const { networkInterfaceId, ...c } of snap.enis) {
      next.set(`i/${networkInterfaceId}`, c);
      const d = this.delta(`i/${networkInterfaceId}`, c);
      this.publishEni(minute, networkInterfaceId, d);
    }
    for (const [id, d] of endpointDelta) this.publishEndpoint(minute, id, d);
    if (lead) this.publishEndpointCounts(minute);
    this.last = next;
  }

  private delta(key: string, c: CounterRow): CounterRow {
    const p = this.last.get(key);
    // Counters only grow; a smaller value means a reset (POST /_privlink/reset), so count from zero.
    const d = (k: keyof CounterRow) => (p && c[k] >= p[k] ? c[k] - p[k] : c[k]);
    return {
      bytesIn: d("bytesIn"),
      bytesOut: d("bytesOut"),
      newConnections: d("newConnections"),
      resets: d("resets"),
      dropped: d("dropped"),
      activeConnections: c.activeConnections,
    };
  }

  private publishEndpoint(minute: number, id: string, d: CounterRow): void {
    if (!active(d)) return;
    const ep = this.state.get("vpcEndpoint", id);
    if (!ep || ep.type === "Gateway") return;
    this.endpointMetrics(minute, ep, endpointDimensions(ep), d);
    const svc = ep.serviceId ? this.state.get("endpointService", ep.serviceId) : undefined;
    if (!svc) return;
    const owner = { accountId: svc.accountId, region: svc.region };
    const sets: Dimension[][] = [
      [{ name: "Service Id", value: svc.id }],
      [
        { name: "Service Id", value: svc.id },
        { name: "VPC Endpoint Id", value: id },
      ],
    ];
    const lb = svc.networkLoadBalancerArns[0] ?? svc.gatewayLoadBalancerArns[0];
    if (lb)
      sets.push([
        { name: "Load Balancer Arn", value: lb },
        { name: "Service Id", value: svc.id },
      ]);
    for (const dims of sets) this.serviceMetrics(minute, owner, dims, d);
  }

  /** Per-subnet endpoint metrics, and the provider's per-AZ view, come from the ENI counters. */
  private publishEni(minute: number, eniId: string, d: CounterRow): void {
    if (!active(d)) return;
    const eni = this.state.get("eni", eniId);
    if (eni?.interfaceType !== "vpc_endpoint") return;
    const ep = [...this.state.all("vpcEndpoint")].find((e) => e.enis.some((x) => x.eniId === eniId));
    if (!ep || ep.type === "Gateway") return;
    this.endpointMetrics(
      minute,
      ep,
      [...endpointDimensions(ep), { name: "Subnet Id", value: eni.subnetId }],
      d,
    );
    const svc = ep.serviceId ? this.state.get("endpointService", ep.serviceId) : undefined;
    const lb = svc && (svc.networkLoadBalancerArns[0] ?? svc.gatewayLoadBalancerArns[0]);
    if (svc && lb)
      this.serviceMetrics(
        minute,
        { accountId: svc.accountId, region: svc.region },
        [
          { name: "Az", value: eni.az },
          { name: "Load Balancer Arn", value: lb },
          { name: "Service Id", value: svc.id },
        ],
        d,
      );
  }

  private endpointMetrics(minute: number, ep: VpcEndpoint, dims: Dimension[], d: CounterRow): void {
    const scope = { accountId: ep.accountId, region: ep.region };
    const p = this.pending;
    p.add(minute, scope, ENDPOINTS_NS, "BytesProcessed", dims, "Bytes", d.bytesIn + d.bytesOut);
    p.add(minute, scope, ENDPOINTS_NS, "NewConnections", dims, "Count", d.newConnections);
    p.add(minute, scope, ENDPOINTS_NS, "PacketsDropped", dims, "Count", d.dropped);
    p.add(minute, scope, ENDPOINTS_NS, "RstPacketsReceived", dims, "Count", d.resets);
    p.add(minute, scope, ENDPOINTS_NS, "ActiveConnections", dims, "Count", d.activeConnections, true);
  }

  private serviceMetrics(minute: number, scope: Scope, dims: Dimension[], d: CounterRow): void {
    const p = this.pending;
    p.add(minute, scope, SERVICES_NS, "BytesProcessed", dims, "Bytes", d.bytesIn + d.bytesOut);
    p.add(minute, scope, SERVICES_NS, "NewConnections", dims, "Count", d.newConnections);
    p.add(minute, scope, SERVICES_NS, "RstPacketsSent", dims, "Count", d.resets);
    p.add(minute, scope, SERVICES_NS, "ActiveConnections", dims, "Count", d.activeConnections, true);
  }

  /** EndpointsCount: the service's endpoints that are connected (available), sampled each tick. */
  private publishEndpointCounts(minute: number): void {
    const counts = new Map<string, number>();
    for (const ep of this.state.all("vpcEndpoint"))
      if (ep.serviceId && ep.state === "available")
        counts.set(ep.serviceId, (counts.get(ep.serviceId) ?? 0) + 1);
    for (const [serviceId, n] of counts) {
      const svc = this.state.get("endpointService", serviceId);
      if (!svc) continue;
      this.pending.add(
        minute,
        { accountId: svc.accountId, region: svc.region },
        SERVICES_NS,
        "EndpointsCount",
        [{ name: "Service Id", value: serviceId }],
        "Count",
        n,
        true,
      );
    }
  }
}

function active(d: CounterRow): boolean {
  return d.bytesIn + d.bytesOut + d.newConnections + d.resets + d.dropped + d.activeConnections > 0;
}

export function endpointDimensions(ep: VpcEndpoint): Dimension[] {
  return [
    { name: "Endpoint Type", value: ep.type },
    { name: "Service Name", value: ep.serviceName },
    { name: "VPC Endpoint Id", value: ep.id },
    { name: "VPC Id", value: ep.vpcId },
  ];
}
