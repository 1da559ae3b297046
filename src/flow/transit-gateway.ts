import type { TransitGatewayAttachment } from "../cloud/types.js";
import { type Crossing, passed, type RouteContext, refused } from "./cross-vpc.js";
import { edgeOf } from "./peering.js";
import { longestMatch, natHop, routeTableOf } from "./route.js";
import { transitToSite } from "./site-transit.js";
import { deliverIntoVpc, routeThrough } from "./tgw-route.js";
import type { Hop } from "./types.js";

const T = "transit-gateway" as const;

/** The source VPC's attachment to a TGW, when it is up. */
function attachmentOf(c: RouteContext, tgwId: string, vpcId: string): TransitGatewayAttachment | undefined {
  for (const a of c.state.all("transitGatewayAttachment"))
    if (a.transitGatewayId === tgwId && a.vpc?.vpcId === vpcId && a.state === "available") return a;
  return undefined;
}

/**
 * A flow routed to a transit gateway: the source VPC's attachment (with a subnet in the
 * source's AZ), the route table associated with it, the longest-prefix route there, and the
 * attachment that route leads to — each a hop with its own reason.
 */
export function transitHops(c: RouteContext): Crossing {
  const { state, route, table, src, label } = c;
  const tgwId = route.target.kind === "transit" ? route.target.id : "";
  const hops: Hop[] = [passed("route", table.id, `${table.id}: ${route.destinationCidr} via ${tgwId}`)];
  const fail = (resource: string | undefined, detail: string): Crossing => {
    hops.push(refused(T, resource, `no route to ${label}: ${detail}`));
    return { hops, groupReferences: false };
  };
  const tgw = state.get("transitGateway", tgwId);
  if (tgw?.state !== "available") return fail(tgwId, `transit gateway ${tgwId} is ${tgw?.state ?? "gone"}`);
  const att = attachmentOf(c, tgwId, src.vpc.id);
  if (!att) return fail(tgwId, `${src.vpc.id} has no available attachment to ${tgwId}`);
  if (!att.vpc!.subnets.some((s) => s.az === src.eni.az))
    return fail(
      att.id,
      `${att.id} has no subnet in ${src.eni.az}, so sources in ${src.eni.az} cannot use ${tgwId} (TGW_ROUTE_AZ_RESTRICTION)`,
    );
  const next = routeThrough(c, att, hops);
  return next ? attachmentEgress(c, att, next, hops) : { hops, groupReferences: false };
}

/** Where the TGW delivers: one function per attachment kind (VPN and Direct Connect add theirs). */
function attachmentEgress(
  c: RouteContext,
  from: TransitGatewayAttachment,
  to: TransitGatewayAttachment,
  hops: Hop[],
): Crossing {
  switch (to.resourceType) {
    case "vpc":
      return intoVpc(c, from, to, hops);
    case "vpn":
    case "direct-connect-gateway":
      return { hops: [...hops, ...transitToSite(c, from, to)], groupReferences: false };
    default:
      hops.push(
        refused(
          T,
          to.id,
          `no route to ${c.label}: ${to.id} is a ${to.resourceType} attachment with no network behind it in privlink`,
        ),
      );
      return { hops, groupReferences: false };
  }
}

function intoVpc(
  c: RouteContext,
  from: TransitGatewayAttachment,
  to: TransitGatewayAttachment,
  hops: Hop[],
): Crossing {
  return c.dst.vpc ? deliverIntoVpc(c, from, to, hops) : onwardFromVpc(c, to, hops);
}

/**
 * An outside address through a VPC behind the TGW: a NAT gateway there carries it (centralised
 * egress), a gateway endpoint or an internet gateway does not.
 */
function onwardFromVpc(c: RouteContext, to: TransitGatewayAttachment, hops: Hop[]): Crossing {
  const { state, label } = c;
  const vpc = state.get("vpc", to.vpc!.vpcId);
  const subnet = state.get("subnet", to.vpc!.subnets[0]?.subnetId ?? "");
  const table = subnet && routeTableOf(state, subnet);
  const r = table && longestMatch(table, c.ip);
  if (r?.target.kind === "nat") {
    hops.push(natHop(state, r.target.id, c.ip, label));
    return { hops, groupReferences: false };
  }
  const edge = vpc && edgeOf(state, vpc, c.ip);
  hops.push(
    refused(
      T,
      to.id,
      edge
        ? `no route to ${label}: ${edge} in ${to.vpc!.vpcId} serves only flows that start in ${to.vpc!.vpcId}, not flows arriving through ${to.transitGatewayId}`
        : `no route to ${label}: ${to.vpc!.vpcId} has no NAT gateway route for it behind ${to.id}`,
    ),
  );
  return { hops, groupReferences: false };
}
