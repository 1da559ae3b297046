/**
 * The prices privlink bills with: us-east-1 on-demand list prices in USD.
 * Source: aws.amazon.com/privatelink/pricing, /vpc/pricing (NAT gateway, data transfer),
 * /transit-gateway/pricing, /vpn/pricing, /route53/pricing, /directconnect/pricing — as
 * summarised in shared/reference/next-capabilities.md section 10, checked 2026-06 (PrivateLink
 * rows on the AWS page; NAT, TGW, VPN, inter-AZ from May-June 2026 summaries). The Resolver
 * endpoint ENI-hour and the DX 1G/10G port-hours are from those summaries too and unconfirmed
 * on the AWS pages; the 100G port-hour ($22.50) is unconfirmed even there. Other DX bandwidths
 * (hosted-connection speeds, 25G, 400G) have no price here and no line in the report. Override
 * with --prices FILE (a JSON object with any of these keys).
 */
export interface Prices {
  /** Per interface endpoint per AZ per hour (partial hours billed as whole). */
  interfaceEndpointAzHour: number;
  /** Data processed by interface endpoints, per GB, tiered on the region's monthly total. */
  interfaceEndpointGbTiers: readonly { upToGb: number; perGb: number }[];
  gatewayEndpointHour: number;
  natGatewayHour: number;
  natGatewayGb: number;
  tgwAttachmentHour: number;
  tgwGb: number;
  vpnConnectionHour: number;
  /** Route 53 Resolver endpoints: per ENI (one per IP address) per hour. */
  resolverEndpointEniHour: number;
  /** Direct Connect dedicated connections: port-hours by bandwidth. */
  dxPortHour1Gbps: number;
  dxPortHour10Gbps: number;
  /** Unconfirmed: from a summary, not checked on the AWS page. */
  dxPortHour100Gbps: number;
  /** Each direction. */
  interAzGb: number;
}

const PB_GB = 1024 * 1024;

export const PRICES: Prices = {
  interfaceEndpointAzHour: 0.01,
  interfaceEndpointGbTiers: [
    { upToGb: PB_GB, perGb: 0.01 },
    { upToGb: 5 * PB_GB, perGb: 0.006 },
    { upToGb: Number.POSITIVE_INFINITY, perGb: 0.004 },
  ],
  gatewayEndpointHour: 0,
  natGatewayHour: 0.045,
  natGatewayGb: 0.045,
  tgwAttachmentHour: 0.05,
  tgwGb: 0.02,
  vpnConnectionHour: 0.05,
  resolverEndpointEniHour: 0.125,
  dxPortHour1Gbps: 0.3,
  dxPortHour10Gbps: 2.25,
  dxPortHour100Gbps: 22.5,
  interAzGb: 0.01,
};

export const PRICES_SOURCE = "AWS list prices, us-east-1, on-demand, USD (checked 2026-06)";

/** The table with a user's overrides (a JSON object with any of the keys above). */
export function withOverrides(json: unknown): Prices {
  if (!json || typeof json !== "object" || Array.isArray(json))
    throw new Error("a prices file is a JSON object");
  const out: Record<string, unknown> = { ...PRICES };
  for (const [k, v] of Object.entries(json)) {
    if (!(k in PRICES)) throw new Error(`unknown price '${k}' (known: ${Object.keys(PRICES).join(", ")})`);
    if (k === "interfaceEndpointGbTiers") {
      if (!Array.isArray(v)) throw new Error("interfaceEndpointGbTiers is a list of {upToGb, perGb}");
      out[k] = v.map((t) => ({ upToGb: t.upToGb ?? Number.POSITIVE_INFINITY, perGb: Number(t.perGb) }));
    } else if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
      throw new Error(`price '${k}' must be a number >= 0`);
    else out[k] = v;
  }
  return out as unknown as Prices;
}

/** The cost of `gb` at tiered prices, given `before` GB already billed this month. */
export function tiered(tiers: Prices["interfaceEndpointGbTiers"], gb: number, before = 0): number {
  let cost = 0;
  let floor = 0;
  for (const t of tiers) {
    const lo = Math.max(floor, before);
    const hi = Math.min(t.upToGb, before + gb);
    if (hi > lo) cost += (hi - lo) * t.perGb;
    floor = t.upToGb;
  }
  return cost;
}
