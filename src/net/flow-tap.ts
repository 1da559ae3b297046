import type { Decision, Hop } from "../flow/types.js";
import type { CloseReason, RelayMeter } from "./relay.js";

/**
 * One TCP flow as the data plane saw it, in the addresses AWS would show: private IPs of the
 * interfaces it crossed (not privlink's 127.S.x.y host addresses) and the real ports.
 */
export interface FlowInfo {
  readonly srcEniId?: string;
  readonly dstEniId?: string;
  readonly srcIp: string;
  readonly dstIp: string;
  readonly srcPort: number;
  readonly dstPort: number;
  /** Egress path code for flow-log `traffic-path` (1 same VPC, 2 internet/gateway, …). */
  readonly trafficPath?: number;
  /** The NAT gateway the flow went out through (the cost report's NAT bytes). */
  readonly natGatewayId?: string;
  /** The transit gateway route table that forwarded it (the cost report finds the attachments). */
  readonly tgwRouteTableId?: string;
}

export interface RefusedFlow extends FlowInfo {
  /** The interface whose rules refused it (a REJECT record is written there). */
  readonly rejectEniId?: string;
  readonly reason: string;
  /** The first refusing hop (security group, route, endpoint state, …). */
  readonly hop?: string;
  /** A transit gateway dropped it after it entered: where (route table or attachment) and why. */
  readonly tgwLoss?: { readonly resource: string; readonly cause: "no-route" | "blackhole" };
}

/** Who listens to flows besides the meter: flow logs, the console's `--log flows`. */
export interface FlowTap {
  /** A per-flow listener, or undefined when nobody cares about this flow. */
  opened(flow: FlowInfo): RelayMeter | undefined;
  refused(flow: RefusedFlow): void;
}

/** Several taps as one; each decides for itself whether a flow interests it. */
export class FlowTaps implements FlowTap {
  /** A plain array: asked on every connection, where a Set's iterator cost more (issue 12). */
  private readonly taps: FlowTap[] = [];

  add(tap: FlowTap): () => void {
    if (!this.taps.includes(tap)) this.taps.push(tap);
    return () => {
      const i = this.taps.indexOf(tap);
      if (i >= 0) this.taps.splice(i, 1);
    };
  }

  get size(): number {
    return this.taps.length;
  }

  opened(flow: FlowInfo): RelayMeter | undefined {
    // Most flows interest one tap or none: no array for them.
    let first: RelayMeter | undefined;
    let all: RelayMeter[] | undefined;
    const taps = this.taps;
    for (let i = 0; i < taps.length; i++) {
      const h = taps[i]!.opened(flow);
      if (!h) continue;
      if (!first) first = h;
      else if (all) all.push(h);
      else all = [first, h];
    }
    return all ? new FanOut(all) : first;
  }

  refused(flow: RefusedFlow): void {
    for (const t of this.taps) t.refused(flow);
  }
}

/** One flow's listeners as one; shared methods, no closures per flow. */
class FanOut implements RelayMeter {
  constructor(private readonly handles: RelayMeter[]) {}

  bytesIn(n: number): void {
    for (const h of this.handles) h.bytesIn(n);
  }

  bytesOut(n: number): void {
    for (const h of this.handles) h.bytesOut(n);
  }

  closed(reason: CloseReason): void {
    for (const h of this.handles) h.closed(reason);
  }
}

/** Hops whose refusal belongs to the destination interface's rules; the rest are the source's. */
const DESTINATION_HOPS = new Set([
  "destination",
  "destination-sg-ingress",
  "endpoint-state",
  "acceptance",
  "service",
  "nlb-listener",
  "target-health",
]);

/**
 * The refused flow of a decision: which interface logs the REJECT, and why (the decision's
 * reason unless the caller names another).
 */
export function refusedFlow(
  d: Decision,
  srcPort: number,
  dstPort: number,
  fallbackSrc: string,
  reason = d.reason,
): RefusedFlow {
  const hop = d.hops.find((h) => !h.allowed);
  const atDestination = !hop || DESTINATION_HOPS.has(hop.kind);
  return {
    srcEniId: d.source.eniId,
    dstEniId: d.destination.eniId,
    srcIp: d.source.privateIp ?? fallbackSrc,
    dstIp: d.destination.privateIp ?? d.destination.host,
    srcPort,
    dstPort,
    rejectEniId: atDestination
      ? (d.destination.eniId ?? d.source.eniId)
      : (d.source.eniId ?? d.destination.eniId),
    reason,
    hop: hop?.kind,
    tgwRouteTableId: passedHop(d, "transit-gateway"),
    tgwLoss: hop?.lost && hop.resource ? { resource: hop.resource, cause: hop.lost } : undefined,
  };
}

/** What a decision's hops say about its flows; decisions are cached, so this is read once per decision. */
const pathOf = new WeakMap<Decision, Pick<FlowInfo, "trafficPath" | "natGatewayId" | "tgwRouteTableId">>();

/**
 * The admitted flow of a decision, at `dstEniId` when the caller knows the interface better (an
 * endpoint listener's). One object literal per flow: a caller spreading it into another object
 * to change a field made V8 build that one the slow way, once per connection.
 */
export function admittedFlow(
  d: Decision,
  srcPort: number,
  dstPort: number,
  fallbackSrc: string,
  dstEniId = d.destination.eniId,
): FlowInfo {
  let path = pathOf.get(d);
  if (!path) {
    path = {
      trafficPath: trafficPathOf(d),
      natGatewayId: passedHop(d, "nat-gateway"),
      tgwRouteTableId: passedHop(d, "transit-gateway"),
    };
    pathOf.set(d, path);
  }
  return {
    srcEniId: d.source.eniId,
    dstEniId,
    srcIp: d.source.privateIp ?? fallbackSrc,
    dstIp: d.destination.privateIp ?? d.destination.host,
    srcPort,
    dstPort,
    trafficPath: path.trafficPath,
    natGatewayId: path.natGatewayId,
    tgwRouteTableId: path.tgwRouteTableId,
  };
}

function passedHop(d: Decision, kind: Hop["kind"]): string | undefined {
  return d.hops.find((h) => h.kind === kind && h.allowed)?.resource;
}

/** AWS's traffic-path codes from the hops a flow crossed. */
function trafficPathOf(d: Decision): number {
  const kinds = new Set(d.hops.map((h) => h.kind));
  if (kinds.has("internet-gateway") || kinds.has("nat-gateway")) return 2;
  if (kinds.has("vpn")) return 3;
  if (kinds.has("peering")) return 4;
  return 1;
}
