import { type Prices, tiered } from "./prices.js";

/**
 * The cost model: usage in, priced lines out. Pure. Every line names the resource, the usage
 * it came from and who pays it.
 */

export const GB = 1024 ** 3;
const HOUR_MS = 3_600_000;

export interface EndpointUsage {
  readonly id: string;
  readonly type: "Interface" | "Gateway" | "GatewayLoadBalancer";
  readonly accountId: string;
  readonly region: string;
  /** The account charged: the consumer, or the service owner under ServiceOwner payer responsibility. */
  readonly payer: string;
  readonly serviceName: string;
  readonly azs: readonly string[];
  /** Billed hours in the window (partial hours count whole). */
  readonly hours: number;
  readonly bytes: number;
}

export interface NatUsage {
  readonly id: string;
  readonly accountId: string;
  readonly region: string;
  readonly hours: number;
  readonly bytes: number;
}

export interface TgwAttachmentUsage {
  readonly id: string;
  readonly transitGatewayId: string;
  /** The attachment's owner (the VPC's): it pays the attachment hours and the data it sends. */
  readonly accountId: string;
  readonly region: string;
  /** What is attached ("vpc vpc-…", "vpn vpn-…"). */
  readonly resource: string;
  readonly hours: number;
  /** Bytes the transit gateway received from this attachment (BytesIn). */
  readonly bytes: number;
}

export interface VpnUsage {
  readonly id: string;
  readonly accountId: string;
  readonly region: string;
  readonly hours: number;
}

export interface ResolverEndpointUsage {
  readonly id: string;
  readonly accountId: string;
  readonly region: string;
  /** One ENI per IP address. */
  readonly enis: number;
  readonly hours: number;
}

export interface DxConnectionUsage {
  readonly id: string;
  readonly accountId: string;
  readonly region: string;
  /** As DescribeConnections gives it: "1Gbps", "10Gbps", … */
  readonly bandwidth: string;
  readonly hours: number;
}

/** Bytes one resource (an interface or a NAT gateway) exchanged with another Availability Zone. */
export interface TransferUsage {
  readonly resource: string;
  readonly accountId: string;
  readonly region: string;
  readonly bytes: number;
}

export interface Usage {
  readonly since: string;
  readonly until: string;
  readonly endpoints: readonly EndpointUsage[];
  readonly natGateways: readonly NatUsage[];
  readonly tgwAttachments?: readonly TgwAttachmentUsage[];
  readonly vpnConnections?: readonly VpnUsage[];
  readonly resolverEndpoints?: readonly ResolverEndpointUsage[];
  readonly dxConnections?: readonly DxConnectionUsage[];
  readonly interAz?: readonly TransferUsage[];
}

export interface CostLine {
  readonly resource: string;
  readonly account: string;
  readonly payer: string;
  readonly usageType: string;
  readonly quantity: number;
  readonly unit: "Hrs" | "GB";
  readonly rate: number;
  readonly cost: number;
  readonly description: string;
}

export interface Bill {
  readonly since: string;
  readonly until: string;
  readonly lines: CostLine[];
  readonly total: number;
  readonly byPayer: Record<string, number>;
  /** --what-if nat: the same bytes through one NAT gateway per AZ and the internet. */
  readonly whatIfNat?: { lines: CostLine[]; total: number; difference: number };
}

/** Billed hours between two instants: any started hour counts whole. */
export function billedHours(fromMs: number, toMs: number): number {
  return toMs > fromMs ? Math.ceil((toMs - fromMs) / HOUR_MS) : 0;
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

export function bill(
  usage: Usage,
  prices: Prices,
  opts: { whatIfNat?: boolean; account?: string } = {},
): Bill {
  const lines: CostLine[] = [];
  const endpoints = usage.endpoints.filter(
    (e) => !opts.account || e.accountId === opts.account || e.payer === opts.account,
  );
  // Data processing tiers apply to each payer's regional monthly total, in order.
  const processed = new Map<string, number>();
  for (const e of endpoints) {
    if (e.type === "Gateway") {
      lines.push(
        line(
          e.id,
          e.accountId,
          e.payer,
          "VpcEndpoint-Gateway-Hours",
          e.hours,
          "Hrs",
          prices.gatewayEndpointHour,
          `gateway endpoint to ${e.serviceName}: free`,
        ),
      );
      continue;
    }
    const azHours = e.hours * e.azs.length;
    lines.push(
      line(
        e.id,
        e.accountId,
        e.payer,
        "VpcEndpoint-Hours",
        azHours,
        "Hrs",
        prices.interfaceEndpointAzHour,
        `${e.azs.length} AZ x ${e.hours} h (${e.azs.join(", ")}) to ${e.serviceName}`,
      ),
    );
    const gb = e.bytes / GB;
    const key = `${e.payer}/${e.region}`;
    const before = processed.get(key) ?? 0;
    processed.set(key, before + gb);
    const cost = tiered(prices.interfaceEndpointGbTiers, gb, before);
    lines.push({
      resource: e.id,
      account: e.accountId,
      payer: e.payer,
      usageType: "VpcEndpoint-Bytes",
      quantity: round(gb),
      unit: "GB",
      rate: gb ? round(cost / gb) : prices.interfaceEndpointGbTiers[0]!.perGb,
      cost: round(cost),
      description: `${e.bytes} bytes processed (BytesProcessed, both directions)`,
    });
  }
  for (const n of usage.natGateways.filter((n) => !opts.account || n.accountId === opts.account)) {
    lines.push(
      line(
        n.id,
        n.accountId,
        n.accountId,
        "NatGateway-Hours",
        n.hours,
        "Hrs",
        prices.natGatewayHour,
        "NAT gateway hours",
      ),
    );
    lines.push(
      line(
        n.id,
        n.accountId,
        n.accountId,
        "NatGateway-Bytes",
        round(n.bytes / GB),
        "GB",
        prices.natGatewayGb,
        `${n.bytes} bytes processed`,
      ),
    );
  }
  lines.push(...networkLines(usage, prices, opts.account));
  const total = round(lines.reduce((a, l) => a + l.cost, 0));
  const out: Bill = { since: usage.since, until: usage.until, lines, total, byPayer: byPayer(lines) };
  if (!opts.whatIfNat) return out;
  const alt = natAlternative(endpoints, prices);
  const altTotal = round(alt.reduce((a, l) => a + l.cost, 0));
  const endpointTotal = round(
    lines.filter((l) => l.usageType.startsWith("VpcEndpoint")).reduce((a, l) => a + l.cost, 0),
  );
  return { ...out, whatIfNat: { lines: alt, total: altTotal, difference: round(altTotal - endpointTotal) } };
}

/**
 * Transit gateway attachments (hours, data sent into the TGW), VPN connections, Resolver
 * endpoints (ENI-hours), Direct Connect ports (port-hours), inter-AZ data.
 */
function networkLines(usage: Usage, prices: Prices, account: string | undefined): CostLine[] {
  const mine = <T extends { accountId: string }>(xs: readonly T[] | undefined) =>
    (xs ?? []).filter((x) => !account || x.accountId === account);
  const out: CostLine[] = [];
  for (const a of mine(usage.tgwAttachments)) {
    const own = (type: string, q: number, unit: "Hrs" | "GB", rate: number, what: string) =>
      out.push(line(a.id, a.accountId, a.accountId, type, q, unit, rate, what));
    own(
      "TransitGateway-Hours",
      a.hours,
      "Hrs",
      prices.tgwAttachmentHour,
      `${a.resource} attached to ${a.transitGatewayId}`,
    );
    own(
      "TransitGateway-Bytes",
      round(a.bytes / GB),
      "GB",
      prices.tgwGb,
      `${a.bytes} bytes sent into ${a.transitGatewayId} (BytesIn)`,
    );
  }
  for (const v of mine(usage.vpnConnections))
    out.push(
      line(
        v.id,
        v.accountId,
        v.accountId,
        "VPN-Usage-Hours",
        v.hours,
        "Hrs",
        prices.vpnConnectionHour,
        "Site-to-Site VPN connection hours",
      ),
    );
  for (const r of mine(usage.resolverEndpoints))
    out.push(
      line(
        r.id,
        r.accountId,
        r.accountId,
        "Route53-Resolver-ENI-Hours",
        r.enis * r.hours,
        "Hrs",
        prices.resolverEndpointEniHour,
        `${r.enis} ENI x ${r.hours} h (one per IP address)`,
      ),
    );
  for (const d of mine(usage.dxConnections)) {
    const rate = dxPortHour(prices, d.bandwidth);
    if (rate !== undefined)
      out.push(
        line(
          d.id,
          d.accountId,
          d.accountId,
          "DirectConnect-Port-Hours",
          d.hours,
          "Hrs",
          rate,
          `${d.bandwidth} dedicated connection port hours`,
        ),
      );
  }
  for (const t of mine(usage.interAz))
    out.push(
      line(
        t.resource,
        t.accountId,
        t.accountId,
        "DataTransfer-Regional-Bytes",
        round(t.bytes / GB),
        "GB",
        prices.interAzGb,
        `${t.bytes} bytes exchanged with another Availability Zone`,
      ),
    );
  return out;
}

/** The port-hour of a dedicated connection's bandwidth; none for speeds the table lacks. */
function dxPortHour(prices: Prices, bandwidth: string): number | undefined {
  return {
    "1Gbps": prices.dxPortHour1Gbps,
    "10Gbps": prices.dxPortHour10Gbps,
    "100Gbps": prices.dxPortHour100Gbps,
  }[bandwidth];
}

/**
 * The interface endpoints' traffic priced through NAT gateways instead: one gateway in each
 * AZ the account's endpoints use in the region, for as long as the endpoints ran, and every
 * byte processed by the gateway.
 */
function natAlternative(endpoints: readonly EndpointUsage[], prices: Prices): CostLine[] {
  const groups = new Map<
    string,
    { account: string; region: string; azs: Map<string, number>; bytes: number }
  >();
  for (const e of endpoints) {
    if (e.type === "Gateway") continue;
    const key = `${e.accountId}/${e.region}`;
    const g = groups.get(key) ?? { account: e.accountId, region: e.region, azs: new Map(), bytes: 0 };
    for (const az of e.azs) g.azs.set(az, Math.max(g.azs.get(az) ?? 0, e.hours));
    g.bytes += e.bytes;
    groups.set(key, g);
  }
  const out: CostLine[] = [];
  for (const g of groups.values()) {
    for (const [az, hours] of g.azs)
      out.push(
        line(
          `nat-gateway (${az})`,
          g.account,
          g.account,
          "NatGateway-Hours",
          hours,
          "Hrs",
          prices.natGatewayHour,
          `one NAT gateway in ${az} instead of the endpoints there`,
        ),
      );
    out.push(
      line(
        `nat-gateways (${g.region})`,
        g.account,
        g.account,
        "NatGateway-Bytes",
        round(g.bytes / GB),
        "GB",
        prices.natGatewayGb,
        `the endpoints' ${g.bytes} bytes through NAT gateways`,
      ),
    );
  }
  return out;
}

function line(
  resource: string,
  account: string,
  payer: string,
  usageType: string,
  quantity: number,
  unit: "Hrs" | "GB",
  rate: number,
  description: string,
): CostLine {
  return {
    resource,
    account,
    payer,
    usageType,
    quantity,
    unit,
    rate,
    cost: round(quantity * rate),
    description,
  };
}

function byPayer(lines: readonly CostLine[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of lines) out[l.payer] = round((out[l.payer] ?? 0) + l.cost);
  return out;
}

/** CSV with a header row, for spreadsheets. */
export function billCsv(b: Bill): string {
  const head = [
    "resource",
    "account",
    "payer",
    "usageType",
    "quantity",
    "unit",
    "rate",
    "cost",
    "description",
  ];
  const esc = (v: unknown) => {
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const rows = [
    ...b.lines,
    ...(b.whatIfNat?.lines.map((l) => ({ ...l, usageType: `what-if:${l.usageType}` })) ?? []),
  ];
  return (
    [head.join(","), ...rows.map((l) => head.map((h) => esc(l[h as keyof CostLine])).join(","))].join("\n") +
    "\n"
  );
}
