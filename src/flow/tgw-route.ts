import { formatIp, parseIp } from "../cloud/cidr.js";
import { lookupTgwRoute } from "../cloud/transit-gateway-route-table.js";
import type { TransitGatewayAttachment } from "../cloud/types.js";
import { type Crossing, passed, type RouteContext, refused } from "./cross-vpc.js";
import { returnRoute } from "./return-path.js";
import type { Hop } from "./types.js";

/*
 * Inside a transit gateway, whoever entered it: a VPC's flow (transit-gateway.ts) or a site's
 * arriving over a VPN or Direct Connect attachment (site-transit.ts) take the same two steps.
 */

const T = "transit-gateway" as const;

/**
 * The TGW's own step: the route table associated with the attachment the flow entered by, its
 * longest-prefix route for the destination, and the attachment that route leads to.
 */
export function routeThrough(
  c: Pick<RouteContext, "state" | "ip" | "label">,
  att: TransitGatewayAttachment,
  hops: Hop[],
): TransitGatewayAttachment | undefined {
  const { state, label } = c;
  // The packet is inside the TGW now: a drop here is one its flow logs count as lost.
  const fail = (resource: string | undefined, detail: string, lost: Hop["lost"] = "no-route") => {
    hops.push({ ...refused(T, resource, `no route to ${label}: ${detail}`), lost });
    return undefined;
  };
  const rtb = att.associatedRouteTableId
    ? state.get("transitGatewayRouteTable", att.associatedRouteTableId)
    : undefined;
  if (!rtb) return fail(att.id, `${att.id} is not associated with a transit gateway route table`);
  const r = lookupTgwRoute(state, rtb, c.ip);
  if (!r) return fail(rtb.id, `${rtb.id} has no route for ${formatIp(c.ip)}`);
  if (r.state === "blackhole")
    return fail(rtb.id, `${rtb.id} route ${r.destinationCidr} (${r.type}) is a blackhole`, "blackhole");
  const next = r.attachmentId ? state.get("transitGatewayAttachment", r.attachmentId) : undefined;
  if (!next) return fail(rtb.id, `${rtb.id} route ${r.destinationCidr} leads nowhere`);
  hops.push(
    passed(
      T,
      rtb.id,
      `${rtb.id}: ${r.destinationCidr} (${r.type}) via ${next.id} (${next.resourceType} ${next.resourceId})`,
    ),
  );
  return next;
}

/** What delivering into a VPC reads: a VPC's flow, or a site's arriving over a VPN or DX attachment. */
export type IntoVpcContext = Pick<RouteContext, "state" | "dst" | "label" | "ip"> & {
  readonly src: { readonly ip: string };
};

/** Into the destination's VPC: the right attachment, its subnet in the destination's AZ, the way back. */
export function deliverIntoVpc(
  c: IntoVpcContext,
  from: TransitGatewayAttachment,
  to: TransitGatewayAttachment,
  hops: Hop[],
): Crossing {
  const { state, dst, label } = c;
  const vpcId = to.vpc!.vpcId;
  if (!dst.vpc || dst.vpc.id !== vpcId) {
    hops.push(
      refused(
        T,
        to.id,
        `no route to ${label}: ${to.id} leads to ${vpcId}, but ${label} is in ${dst.vpc?.id ?? "no VPC"}`,
      ),
    );
    return { hops, groupReferences: false };
  }
  hops.push(...returnRoute(c, { kind: "transit", id: to.transitGatewayId }));
  if (dst.eni && !to.vpc!.subnets.some((s) => s.az === dst.eni!.az))
    hops.push(
      refused(
        T,
        to.id,
        `return path: ${to.id} has no subnet in ${dst.eni.az}, so replies from ${dst.eni.id} cannot reach ${to.transitGatewayId}`,
      ),
    );
  const back = to.associatedRouteTableId
    ? state.get("transitGatewayRouteTable", to.associatedRouteTableId)
    : undefined;
  const r = back && lookupTgwRoute(state, back, parseIp(c.src.ip)!);
  if (!back || !r || r.state !== "active" || r.attachmentId !== from.id)
    hops.push(
      refused(
        T,
        back?.id ?? to.id,
        back
          ? `return path: ${back.id} has no active route back to ${c.src.ip} via ${from.id}`
          : `return path: ${to.id} is not associated with a transit gateway route table`,
      ),
    );
  const refs =
    state.get("transitGateway", to.transitGatewayId)?.options.securityGroupReferencingSupport === "enable" &&
    from.vpc?.securityGroupReferencingSupport === "enable" &&
    to.vpc?.securityGroupReferencingSupport === "enable";
  return { hops, groupReferences: refs };
}
