import { describe, expect, it } from "vitest";
import { parseIp } from "./cidr.js";
import { State } from "./state.js";
import { lookupTgwRoute, registerPropagatedCidrs } from "./transit-gateway-route-table.js";
import type {
  TgwAttachmentResourceType,
  TransitGatewayAttachment,
  TransitGatewayRouteTable,
} from "./types.js";

function attachment(id: string, resourceType: TgwAttachmentResourceType): TransitGatewayAttachment {
  return {
    id,
    accountId: "000000000000",
    region: "us-east-1",
    tags: {},
    transitGatewayId: "tgw-00000001",
    transitGatewayOwnerId: "000000000000",
    resourceType,
    resourceId: `${resourceType}-1`,
    state: "available",
    createdAt: "2026-01-01T00:00:00Z",
  };
}

const table = (over: Partial<TransitGatewayRouteTable>): TransitGatewayRouteTable => ({
  id: "tgw-rtb-00000001",
  accountId: "000000000000",
  region: "us-east-1",
  tags: {},
  transitGatewayId: "tgw-00000001",
  state: "available",
  defaultAssociationRouteTable: false,
  defaultPropagationRouteTable: false,
  staticRoutes: [],
  propagations: [],
  createdAt: "2026-01-01T00:00:00Z",
  ...over,
});

// Each case: the routes a table holds (static ones written, propagated ones from attachments
// that propagate `cidr`), the address looked up, and the attachment AWS's order picks.
const cases: {
  name: string;
  statics?: { cidr: string; to?: string }[];
  propagated?: { id: string; type: TgwAttachmentResourceType; cidr: string }[];
  ip: string;
  want: string | "blackhole" | undefined;
}[] = [
  {
    name: "longest prefix wins over a static shorter one",
    statics: [{ cidr: "10.0.0.0/8", to: "tgw-attach-00000001" }],
    propagated: [{ id: "tgw-attach-00000002", type: "vpc", cidr: "10.1.0.0/16" }],
    ip: "10.1.2.3",
    want: "tgw-attach-00000002",
  },
  {
    name: "same prefix: static beats propagated",
    statics: [{ cidr: "10.1.0.0/16", to: "tgw-attach-00000001" }],
    propagated: [{ id: "tgw-attach-00000002", type: "vpc", cidr: "10.1.0.0/16" }],
    ip: "10.1.2.3",
    want: "tgw-attach-00000001",
  },
  {
    name: "same prefix: a static blackhole beats a propagated route",
    statics: [{ cidr: "10.1.0.0/16" }],
    propagated: [{ id: "tgw-attach-00000002", type: "vpc", cidr: "10.1.0.0/16" }],
    ip: "10.1.2.3",
    want: "blackhole",
  },
  {
    name: "propagated: VPC beats Direct Connect gateway beats VPN",
    propagated: [
      { id: "tgw-attach-00000003", type: "vpn", cidr: "192.168.0.0/16" },
      { id: "tgw-attach-00000004", type: "direct-connect-gateway", cidr: "192.168.0.0/16" },
      { id: "tgw-attach-00000005", type: "vpc", cidr: "192.168.0.0/16" },
    ],
    ip: "192.168.7.7",
    want: "tgw-attach-00000005",
  },
  {
    name: "propagated: Direct Connect gateway beats VPN",
    propagated: [
      { id: "tgw-attach-00000003", type: "vpn", cidr: "192.168.0.0/16" },
      { id: "tgw-attach-00000004", type: "direct-connect-gateway", cidr: "192.168.0.0/16" },
    ],
    ip: "192.168.7.7",
    want: "tgw-attach-00000004",
  },
  {
    name: "no route",
    statics: [{ cidr: "10.0.0.0/8", to: "tgw-attach-00000001" }],
    ip: "172.16.0.1",
    want: undefined,
  },
];

describe("transit gateway route selection", () => {
  for (const c of cases)
    it(c.name, () => {
      const state = new State();
      state.transact((tx) => {
        tx.put("transitGatewayAttachment", attachment("tgw-attach-00000001", "vpc"));
        for (const p of c.propagated ?? []) tx.put("transitGatewayAttachment", attachment(p.id, p.type));
      });
      // This file's own propagation sources: each attachment propagates the CIDR its case names.
      for (const p of c.propagated ?? [])
        registerPropagatedCidrs(p.type, (_r: unknown, a: TransitGatewayAttachment) =>
          (c.propagated ?? []).filter((x) => x.id === a.id).map((x) => x.cidr),
        );
      const t = table({
        staticRoutes: (c.statics ?? []).map((s) => ({
          destinationCidr: s.cidr,
          attachmentId: s.to,
          blackhole: !s.to,
        })),
        propagations: (c.propagated ?? []).map((p) => p.id),
      });
      const r = lookupTgwRoute(state, t, parseIp(c.ip)!);
      expect(r?.state === "blackhole" ? "blackhole" : r?.attachmentId).toBe(c.want);
    });
});
