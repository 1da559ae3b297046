import { formatIp, parseIp } from "../cloud/cidr.js";
import { siteOfIp } from "../cloud/site.js";
import { siteOfCustomerGateway, siteOfDxConnection } from "../cloud/site-links.js";
import type { State } from "../cloud/state.js";
import { lookupTgwRoute } from "../cloud/transit-gateway-route-table.js";
import type { Eni, Site, TransitGatewayAttachment, Vpc } from "../cloud/types.js";
import { passed, type RouteContext, refused } from "./cross-vpc.js";
import { dxGatewayHop } from "./site-dx.js";
import { deliverIntoVpc, type IntoVpcContext, routeThrough } from "./tgw-route.js";
import type { Hop, SiteEnd } from "./types.js";

/**
 * Sites behind a transit gateway: a VPN connection created with TransitGatewayId (a `vpn`
 * attachment) or a transit virtual interface on a Direct Connect gateway associated with the
 * TGW (a `direct-connect-gateway` attachment). A site's flow enters the TGW by that attachment,
 * is routed by the route table associated with it, and is delivered into the VPC as any TGW
 * flow; a VPC's flow routed to such an attachment reaches the site behind it.
 */

interface TransitLink {
  readonly attachment: TransitGatewayAttachment;
  readonly hop: Hop;
  readonly up: boolean;
}

/**
 * The link an on-premises attachment gives `site`, if the site is behind it; `awsSideIp` (the
 * VPC end of the flow) must be inside the DX gateway association's allowed prefixes.
 */
function linkOf(
  state: State,
  a: TransitGatewayAttachment,
  site: Site,
  awsSideIp?: number,
): TransitLink | undefined {
  if (a.state !== "available") return undefined;
  if (a.resourceType === "vpn") {
    const v = state.get("vpnConnection", a.resourceId);
    if (v?.state !== "available" || siteOfCustomerGateway(state, v.customerGatewayId)?.id !== site.id)
      return undefined;
    const up = !site.tunnelsDown;
    const hop = up
      ? passed(
          "vpn",
          v.id,
          `site ${site.id} reaches ${a.transitGatewayId} over ${v.id} (attachment ${a.id}, tunnels UP)`,
        )
      : refused(
          "vpn",
          v.id,
          `both tunnels of ${v.id} (site ${site.id} to ${a.transitGatewayId}) are DOWN: nothing crosses the VPN (privlink site vpn up ${site.id})`,
        );
    return { attachment: a, hop, up };
  }
  if (a.resourceType !== "direct-connect-gateway") return undefined;
  for (const vif of state.all("dxVirtualInterface")) {
    if (vif.state !== "available" || vif.type !== "transit" || vif.directConnectGatewayId !== a.resourceId)
      continue;
    if (siteOfDxConnection(state, vif.connectionId)?.id !== site.id) continue;
    const path = `site ${site.id} reaches ${a.transitGatewayId} over Direct Connect: connection ${vif.connectionId}, transit virtual interface ${vif.id} through Direct Connect gateway ${a.resourceId} (attachment ${a.id})`;
    const via = { vifId: vif.id, dxGatewayId: a.resourceId, gatewayId: a.transitGatewayId, path };
    const link = dxGatewayHop(state, site, via, awsSideIp);
    return link && { attachment: a, ...link };
  }
  return undefined;
}

/** Direct Connect first, as AWS prefers it to VPN for the same prefix. */
function linksOf(state: State, site: Site, awsSideIp?: number): TransitLink[] {
  const out: TransitLink[] = [];
  for (const a of state.all("transitGatewayAttachment")) {
    const l = linkOf(state, a, site, awsSideIp);
    if (l) out.push(l);
  }
  return out.sort(
    (x, y) => (x.attachment.resourceType === "vpn" ? 1 : 0) - (y.attachment.resourceType === "vpn" ? 1 : 0),
  );
}

function pathThrough(state: State, link: TransitLink, c: IntoVpcContext, vpc: Vpc): Hop[] {
  const hops = [link.hop];
  if (!link.up) return hops;
  const a = link.attachment;
  const tgw = state.get("transitGateway", a.transitGatewayId);
  if (tgw?.state !== "available")
    return [
      ...hops,
      refused(
        "transit-gateway",
        a.transitGatewayId,
        `no route to ${c.label}: transit gateway ${a.transitGatewayId} is ${tgw?.state ?? "gone"}`,
      ),
    ];
  const next = routeThrough(c, a, hops);
  if (!next) return hops;
  if (next.resourceType !== "vpc")
    return [
      ...hops,
      refused(
        "transit-gateway",
        next.id,
        `no route to ${c.label}: ${a.transitGatewayId} sends it to ${next.id} (${next.resourceType}), not to ${vpc.id}`,
      ),
    ];
  return deliverIntoVpc(c, a, next, hops).hops;
}

/**
 * A site's flow to an interface in a VPC through a transit gateway: the first path that passes,
 * else the first one found (its refusal names the missing piece); undefined when the site has no
 * link to any transit gateway.
 */
export function siteViaTransitHops(
  state: State,
  src: SiteEnd,
  vpc: Vpc,
  eni: Eni,
  label: string,
): Hop[] | undefined {
  const c: IntoVpcContext = {
    state,
    ip: parseIp(eni.privateIp)!,
    label,
    dst: { vpc, eni, privateIp: eni.privateIp },
    src: { ip: src.ip },
  };
  let first: Hop[] | undefined;
  for (const link of linksOf(state, src.site, c.ip)) {
    const hops = pathThrough(state, link, c, vpc);
    if (hops.every((h) => h.allowed)) return hops;
    first ??= hops;
  }
  return first;
}

/**
 * The transit gateway over which `site` reaches `vpcId`: one its tunnels (or DX) are up to, with
 * an available attachment for the VPC. Routes are not read: this names the path a gateway
 * endpoint would have been used over, which AWS refuses whatever the routes say.
 */
export function transitGatewayToVpc(state: State, site: Site, vpcId: string): string | undefined {
  for (const link of linksOf(state, site)) {
    if (!link.up) continue;
    const tgw = link.attachment.transitGatewayId;
    for (const a of state.all("transitGatewayAttachment"))
      if (
        a.transitGatewayId === tgw &&
        a.resourceType === "vpc" &&
        a.resourceId === vpcId &&
        a.state === "available"
      )
        return tgw;
  }
  return undefined;
}

/**
 * The VPC a site's flow to a private address goes to over its transit gateways: the VPC
 * attachment the TGW route table (associated with the site's attachment) sends the address to.
 */
export function transitDestinationVpc(state: State, site: Site, ip: number): string | undefined {
  for (const link of linksOf(state, site)) {
    const rtbId = link.attachment.associatedRouteTableId;
    const table = rtbId ? state.get("transitGatewayRouteTable", rtbId) : undefined;
    const r = table && lookupTgwRoute(state, table, ip);
    const next = r?.attachmentId ? state.get("transitGatewayAttachment", r.attachmentId) : undefined;
    if (next?.resourceType === "vpc") return next.resourceId;
  }
  return undefined;
}

/** A VPC's flow that a TGW route sends to an on-premises attachment: the site behind it, and the way back. */
export function transitToSite(
  c: RouteContext,
  from: TransitGatewayAttachment,
  to: TransitGatewayAttachment,
): Hop[] {
  const { state, label } = c;
  const site = siteOfIp(state, c.ip);
  const link = site && linkOf(state, to, site, parseIp(c.src.ip));
  if (!site || !link)
    return [
      refused(
        "transit-gateway",
        to.id,
        `no route to ${label}: ${to.id} (${to.resourceType} ${to.resourceId}) leads to no on-premises site holding ${formatIp(c.ip)}`,
      ),
    ];
  if (!link.up) return [link.hop];
  const back = to.associatedRouteTableId
    ? state.get("transitGatewayRouteTable", to.associatedRouteTableId)
    : undefined;
  const r = back && lookupTgwRoute(state, back, parseIp(c.src.ip)!);
  if (back && r?.state === "active" && r.attachmentId === from.id) return [link.hop];
  return [
    link.hop,
    refused(
      "transit-gateway",
      back?.id ?? to.id,
      back
        ? `return path: ${back.id} (associated with ${to.id}) has no active route back to ${c.src.ip} via ${from.id}`
        : `return path: ${to.id} is not associated with a transit gateway route table`,
    ),
  ];
}
