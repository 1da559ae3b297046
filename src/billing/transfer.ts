import type { State } from "../cloud/state.js";
import type { FlowInfo, FlowTap } from "../net/flow-tap.js";
import type { RelayMeter } from "../net/relay.js";
import { minuteOf, PendingMinutes, pendingSeries, type Scope } from "../services/cloudwatch/pending.js";
import type { Dimension, MetricStore } from "../services/cloudwatch/store.js";

export const NAT_NS = "AWS/NATGateway";
export const TGW_NS = "AWS/TransitGateway";
/** privlink's own namespace: bytes that crossed Availability Zones, per resource (no AWS metric has them). */
export const TRANSFER_NS = "privlink/DataTransfer";
export const INTER_AZ_METRIC = "InterAzBytes";

/** One side of a flow that is billed: where its bytes are published and which way they count. */
interface Billed {
  scope: Scope;
  ns: string;
  dims: Dimension[];
  /** Metric names for request-direction and response-direction bytes. */
  req: string[];
  resp: string[];
}

/** Billing per state version: by source then destination interface, or by a key of all four ends. */
function newBilledCache(version: number) {
  return {
    version,
    direct: new Map<string | undefined, Map<string | undefined, readonly Billed[]>>(),
    through: new Map<string, readonly Billed[]>(),
  };
}

/**
 * The bytes the cost report prices beyond endpoints, from the data plane's real flows: NAT
 * gateway bytes (AWS/NATGateway), transit gateway attachment bytes (AWS/TransitGateway) and
 * bytes between Availability Zones (privlink/DataTransfer), as 1-minute datapoints in the
 * CloudWatch store, so the report can window them with --since/--until and they survive
 * restarts. A flow that crosses none of these costs nothing here.
 */
export class TransferPublisher implements FlowTap {
  private readonly pending = new PendingMinutes();
  private billed = newBilledCache(-1);

  constructor(
    private readonly state: State,
    private readonly store: MetricStore,
    private readonly now: () => Date,
  ) {}

  opened(flow: FlowInfo): RelayMeter | undefined {
    const billed = this.billedOf(flow);
    if (billed.length === 0) return undefined;
    // The series are built once per flow: the byte callbacks run per chunk.
    const seriesOf = (dir: "req" | "resp") =>
      billed.flatMap((b) => b[dir].map((name) => pendingSeries(b.scope, b.ns, name, b.dims, "Bytes")));
    const series = { req: seriesOf("req"), resp: seriesOf("resp") };
    const add = (n: number, dir: "req" | "resp") => {
      const minute = minuteOf(this.now());
      for (const s of series[dir]) this.pending.addTo(minute, s, n);
    };
    return {
      bytesIn: (n) => add(n, "req"),
      bytesOut: (n) => add(n, "resp"),
      closed: () => undefined,
    };
  }

  refused(): void {}

  /**
   * What a flow's ends are billed for, per state version: flows between the same ends repeat.
   * Looked up by its interfaces without building a key (this runs once per connection, and
   * most flows cross neither a NAT nor a transit gateway); the rare flow that does goes by a
   * key of all four.
   */
  private billedOf(flow: FlowInfo): readonly Billed[] {
    if (this.billed.version !== this.state.version) this.billed = newBilledCache(this.state.version);
    if (flow.natGatewayId !== undefined || flow.tgwRouteTableId !== undefined) {
      const key = `${flow.srcEniId}|${flow.dstEniId}|${flow.natGatewayId}|${flow.tgwRouteTableId}`;
      const hit = this.billed.through.get(key);
      if (hit) return hit;
      const billed = this.compute(flow);
      this.billed.through.set(key, billed);
      return billed;
    }
    let bySrc = this.billed.direct.get(flow.srcEniId);
    if (!bySrc) {
      bySrc = new Map();
      this.billed.direct.set(flow.srcEniId, bySrc);
    }
    let billed = bySrc.get(flow.dstEniId);
    if (!billed) {
      billed = this.compute(flow);
      bySrc.set(flow.dstEniId, billed);
    }
    return billed;
  }

  private compute(flow: FlowInfo): readonly Billed[] {
    return [...this.nat(flow), ...this.transit(flow), ...this.interAz(flow)];
  }

  /** Writes the minutes that are over (or all of them). */
  tick(all = false): Promise<number> {
    const minute = minuteOf(this.now());
    return this.pending.write(this.store, (m) => all || m < minute);
  }

  clear(): void {
    this.pending.clear();
  }

  private nat(flow: FlowInfo): Billed[] {
    const n = flow.natGatewayId ? this.state.get("natGateway", flow.natGatewayId) : undefined;
    if (!n) return [];
    return [
      {
        scope: { accountId: n.accountId, region: n.region },
        ns: NAT_NS,
        dims: [{ name: "NatGatewayId", value: n.id }],
        req: ["BytesInFromSource", "BytesOutToDestination"],
        resp: ["BytesInFromDestination", "BytesOutToSource"],
      },
    ];
  }

  /** The source VPC's attachment sends requests into the TGW; the destination's sends responses. */
  private transit(flow: FlowInfo): Billed[] {
    const rtb = flow.tgwRouteTableId
      ? this.state.get("transitGatewayRouteTable", flow.tgwRouteTableId)
      : undefined;
    const tgw = rtb && this.state.get("transitGateway", rtb.transitGatewayId);
    if (!tgw) return [];
    const vpcOf = (eniId?: string) => (eniId ? this.state.get("eni", eniId)?.vpcId : undefined);
    const attachmentOf = (vpcId?: string) =>
      [...this.state.all("transitGatewayAttachment")].find(
        (a) => a.transitGatewayId === tgw.id && a.vpc?.vpcId === vpcId && a.state === "available",
      );
    const out: Billed[] = [];
    const scope = { accountId: tgw.accountId, region: tgw.region };
    const each = (id: string | undefined, into: "req" | "resp") => {
      const a = attachmentOf(vpcOf(id));
      if (!a) return;
      out.push({
        scope,
        ns: TGW_NS,
        dims: [
          { name: "TransitGateway", value: tgw.id },
          { name: "TransitGatewayAttachment", value: a.id },
        ],
        req: into === "req" ? ["BytesIn"] : ["BytesOut"],
        resp: into === "req" ? ["BytesOut"] : ["BytesIn"],
      });
    };
    each(flow.srcEniId, "req");
    each(flow.dstEniId, "resp");
    return out;
  }

  /** Both sides of a flow between two AZs pay for its bytes (AWS bills each direction on each side). */
  private interAz(flow: FlowInfo): Billed[] {
    // Transit gateway data is billed as its processing, not as inter-AZ transfer.
    if (flow.tgwRouteTableId) return [];
    const src = this.placeOf(flow.srcEniId);
    const natEni = flow.natGatewayId ? this.state.get("natGateway", flow.natGatewayId)?.eniId : undefined;
    const dst = this.placeOf(flow.dstEniId ?? natEni);
    if (!src || !dst || src.azId === dst.azId) return [];
    const dstId = flow.dstEniId ?? flow.natGatewayId!;
    return [
      { ...src, id: flow.srcEniId! },
      { ...dst, id: dstId },
    ].map((p) => ({
      scope: p.scope,
      ns: TRANSFER_NS,
      dims: [{ name: "Resource Id", value: p.id }],
      req: [INTER_AZ_METRIC],
      resp: [INTER_AZ_METRIC],
    }));
  }

  private placeOf(eniId: string | undefined): { scope: Scope; azId: string } | undefined {
    const eni = eniId ? this.state.get("eni", eniId) : undefined;
    const azId = eni && this.state.get("subnet", eni.subnetId)?.azId;
    return eni && azId ? { scope: { accountId: eni.accountId, region: eni.region }, azId } : undefined;
  }
}
