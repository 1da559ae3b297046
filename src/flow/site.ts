import { awsPrefixLists } from "../cloud/catalog.js";
import { cidrContains, parseCidr, parseIp } from "../cloud/cidr.js";
import { siteHostAddress, siteOfHost, siteOfIp } from "../cloud/site.js";
import { siteOfCustomerGateway, siteOfDxConnection, vifsToVgw, vpnPrefixes } from "../cloud/site-links.js";
import type { State } from "../cloud/state.js";
import type { Eni, Route, Site, Vpc, VpnConnection, VpnGateway } from "../cloud/types.js";
import { blackhole, describeTarget, longestMatch, routeTableOf } from "./route.js";
import { dxGatewayHop } from "./site-dx.js";
import { siteViaTransitHops, transitDestinationVpc, transitGatewayToVpc } from "./site-transit.js";
import type { Hop, SiteEnd } from "./types.js";

/**
 * The hops of flows that start or end on an on-premises site: the site as a source, its link to
 * a VPC (a VPN connection whose tunnels are up, or a Direct Connect virtual interface, each
 * ending at a virtual private gateway attached to the VPC), the VPC's route back to the site,
 * and the `vgw-` route target for flows from a VPC to a site. Pure, like the rest of flow/.
 */

/** A host address in a site's slot is that site's workload. */
export function siteEndOfHost(state: State, host: string): SiteEnd | undefined {
  const hit = siteOfHost(state, host);
  return hit && { site: hit.site, ip: hit.ip, host };
}

/** A site address seen from a VPC (192.168.0.10), or a host address in a site slot. */
export function siteEndOf(state: State, destination: string): SiteEnd | undefined {
  const byHost = siteEndOfHost(state, destination);
  if (byHost) return byHost;
  const ip = parseIp(destination);
  const site = ip === undefined ? undefined : siteOfIp(state, ip);
  const host = site && siteHostAddress(site, destination);
  return site && host ? { site, ip: destination, host } : undefined;
}

export function siteSourceHop(end: SiteEnd): Hop {
  return {
    kind: "source",
    allowed: true,
    resource: `site:${end.site.id}`,
    detail: `${end.ip} on site ${end.site.id} (${end.site.cidr}, on-premises)`,
  };
}

/** How a site reaches a virtual private gateway: its VPN connections and DX virtual interfaces. */
interface Link {
  readonly hop: Hop;
  readonly up: boolean;
  readonly vpn?: VpnConnection;
}

function attachedVgw(state: State, vpcId: string): VpnGateway | undefined {
  for (const g of state.all("vpnGateway"))
    if (g.state !== "deleted" && g.attachments.some((a) => a.vpcId === vpcId && a.state === "attached"))
      return g;
  return undefined;
}

/** `awsSideIp`: the VPC end of the flow, which a DX gateway's allowed prefixes must cover. */
function linksToVgw(state: State, site: Site, vgw: VpnGateway, awsSideIp?: number): Link[] {
  const links: Link[] = [];
  // Direct Connect first: AWS prefers DX routes over VPN routes for the same prefix.
  for (const vif of vifsToVgw(state, vgw.id)) {
    if (siteOfDxConnection(state, vif.connectionId)?.id !== site.id) continue;
    const dxgw = vif.directConnectGatewayId;
    const path = `site ${site.id} reaches ${vgw.id} over Direct Connect: connection ${vif.connectionId}, private virtual interface ${vif.id}${dxgw ? ` through Direct Connect gateway ${dxgw}` : ""}`;
    const link = dxgw
      ? dxGatewayHop(state, site, { vifId: vif.id, dxGatewayId: dxgw, gatewayId: vgw.id, path }, awsSideIp)
      : { up: true, hop: { kind: "direct-connect" as const, allowed: true, resource: vif.id, detail: path } };
    if (link) links.push(link);
  }
  for (const v of state.all("vpnConnection")) {
    if (v.state !== "available" || v.vpnGatewayId !== vgw.id) continue;
    if (siteOfCustomerGateway(state, v.customerGatewayId)?.id !== site.id) continue;
    const up = !site.tunnelsDown;
    links.push({
      up,
      vpn: v,
      hop: up
        ? {
            kind: "vpn",
            allowed: true,
            resource: v.id,
            detail: `site ${site.id} reaches ${vgw.id} over ${v.id} (customer gateway ${v.customerGatewayId}, tunnels UP)`,
          }
        : {
            kind: "vpn",
            allowed: false,
            resource: v.id,
            detail: `both tunnels of ${v.id} (site ${site.id} to ${vgw.id}) are DOWN: nothing crosses the VPN (privlink site vpn up ${site.id})`,
          },
    });
  }
  return links;
}

/** The working link if there is one, else the first refusing one, else a refusal naming what is missing. */
function bestLink(state: State, site: Site, vpc: Vpc, label: string, awsSideIp?: number): Link {
  const vgw = attachedVgw(state, vpc.id);
  const none = (detail: string): Link => ({ up: false, hop: { kind: "vpn", allowed: false, detail } });
  if (!vgw)
    return none(
      `no route to ${label} from site ${site.id}: ${vpc.id} has no virtual private gateway attached, so no VPN connection or Direct Connect virtual interface reaches it`,
    );
  const links = linksToVgw(state, site, vgw, awsSideIp);
  const link = links.find((l) => l.up) ?? links[0];
  return (
    link ??
    none(
      `no route to ${label} from site ${site.id}: no VPN connection from a customer gateway at ${site.publicIp} and no Direct Connect virtual interface at location ${site.id} ends at ${vgw.id} (attached to ${vpc.id})`,
    )
  );
}

/** The VGW sends a reply into a static VPN only for prefixes of its static routes. */
function vpnCarries(state: State, v: VpnConnection | undefined, ip: number): boolean {
  if (!v?.staticRoutesOnly) return true;
  return vpnPrefixes(state, v).some((c) => cidrContains(parseCidr(c)!, ip));
}

function staticRouteMissing(v: VpnConnection, end: SiteEnd): Hop {
  return {
    kind: "vpn",
    allowed: false,
    resource: v.id,
    detail: `${v.id} has no static route covering ${end.ip} (site ${end.site.id}): the virtual private gateway does not send it into the tunnel (CreateVpnConnectionRoute)`,
  };
}

/**
 * The reply's way back: the destination subnet's route table must send the site's address to
 * the gateway the flow came through, or the reply is lost and the connection never opens.
 */
function returnRouteHop(state: State, eni: Eni, end: SiteEnd, vgw: string, link: Link): Hop[] {
  const subnet = state.get("subnet", eni.subnetId);
  const table = subnet && routeTableOf(state, subnet);
  const ip = parseIp(end.ip)!;
  const route: Route | undefined = table && longestMatch(table, ip);
  const fix = `add a route for ${end.site.cidr} to ${vgw} (CreateRoute) or enable route propagation from ${vgw} (EnableVgwRoutePropagation)`;
  if (!table || !route || route.target.kind === "local")
    return [
      {
        kind: "route",
        allowed: false,
        resource: table?.id,
        detail: `no route back to ${end.ip} (site ${end.site.id}) in ${table?.id ?? "the route table"} of ${eni.subnetId}: the reply from ${eni.id} has no way to the site; ${fix}`,
      },
    ];
  if (route.state === "blackhole") return [blackhole(route, end.ip)];
  const dest = route.destinationCidr ?? route.destinationPrefixListId;
  if (route.target.kind !== "gateway" || route.target.id !== vgw)
    return [
      {
        kind: "route",
        allowed: false,
        resource: table.id,
        detail: `the reply to ${end.ip} (site ${end.site.id}) leaves ${table.id} by ${describeTarget(route)} (${dest}), not by ${vgw} it came through: ${fix}`,
      },
    ];
  if (!vpnCarries(state, link.vpn, ip)) return [staticRouteMissing(link.vpn!, end)];
  const how = route.origin === "EnableVgwRoutePropagation" ? "propagated" : "static";
  return [
    {
      kind: "route",
      allowed: true,
      resource: table.id,
      detail: `${table.id}: ${dest} via ${vgw} (${how}) carries the reply back to site ${end.site.id}`,
    },
  ];
}

/** A site's flow to an address in a VPC: the link to the VPC's gateway, then the way back. */
export function siteToVpcHops(
  state: State,
  src: SiteEnd,
  vpc: Vpc,
  eni: Eni | undefined,
  label: string,
): Hop[] {
  const link = bestLink(state, src.site, vpc, label, eni && parseIp(eni.privateIp));
  const viaVgw =
    !link.up || !eni
      ? [link.hop]
      : [link.hop, ...returnRouteHop(state, eni, src, attachedVgw(state, vpc.id)!.id, link)];
  if (!eni || viaVgw.every((h) => h.allowed)) return viaVgw;
  // Not through a virtual private gateway: perhaps through a transit gateway.
  const viaTgw = siteViaTransitHops(state, src, vpc, eni, label);
  return viaTgw && (viaTgw.every((h) => h.allowed) || !attachedVgw(state, vpc.id)) ? viaTgw : viaVgw;
}

/** How the site reaches `vpc`: its VPN / Direct Connect link to the VGW, or a transit gateway (its ID). */
function siteReaches(state: State, site: Site, vpc: Vpc): { tgw?: string } | undefined {
  if (bestLink(state, site, vpc, "").up) return {};
  const tgw = transitGatewayToVpc(state, site, vpc.id);
  return tgw ? { tgw } : undefined;
}

/**
 * The gateway endpoint a site's flow would need: its VPC is reachable (over the VGW or a transit
 * gateway) and its service is the target; with the transit gateway it came through, if any.
 */
function gatewayEndpointFor(state: State, site: Site, ip: number | undefined, name: string | undefined) {
  for (const ep of state.all("vpcEndpoint")) {
    if (ep.type !== "Gateway" || ep.state !== "available") continue;
    const vpc = state.get("vpc", ep.vpcId);
    const reach = vpc && siteReaches(state, site, vpc);
    if (!reach) continue;
    const service = ep.serviceName.split(".").pop()!;
    const list = awsPrefixLists(ep.serviceRegion).find((p) => p.name === ep.serviceName);
    const byIp = ip !== undefined && !!list?.cidrs.some((c) => cidrContains(parseCidr(c)!, ip));
    // us-east-1 also answers on the legacy global name (s3.amazonaws.com), which clients still use.
    const suffixes = [`${service}.${ep.serviceRegion}.amazonaws.com`];
    if (ep.serviceRegion === "us-east-1") suffixes.push(`${service}.amazonaws.com`);
    const byName = !!name && suffixes.some((x) => name === x || name.endsWith(`.${x}`));
    if (byIp || byName) return { ep, tgw: reach.tgw };
  }
  return undefined;
}

/**
 * The VPC a site's flow to private address `ip` enters: the one its VPN / Direct Connect links
 * reach over a virtual private gateway, else the one its transit gateway routes it to, else the
 * only VPC holding an interface at that address (the refusal then names the missing link).
 */
export function siteDestinationVpc(state: State, site: Site, ip: number): Vpc | undefined {
  const holding: Vpc[] = [];
  for (const vpc of state.all("vpc")) {
    if (!vpc.cidrBlocks.some((b) => b.state === "associated" && cidrContains(parseCidr(b.cidr)!, ip)))
      continue;
    const vgw = attachedVgw(state, vpc.id);
    if (vgw && linksToVgw(state, site, vgw).length > 0) return vpc;
    holding.push(vpc);
  }
  const viaTgw = transitDestinationVpc(state, site, ip);
  return holding.find((v) => v.id === viaTgw) ?? (holding.length === 1 ? holding[0] : undefined);
}

/**
 * A site's flow to an address outside every VPC: through a VPC's gateway endpoint never (AWS:
 * endpoint connections cannot be extended out of a VPC), over the site's own internet only when
 * it has one.
 */
export function siteOutsideHops(
  state: State,
  src: SiteEnd,
  destination: string,
  name: string | undefined,
): Hop[] {
  const ip = parseIp(destination);
  const hit = gatewayEndpointFor(state, src.site, ip, name);
  if (hit) {
    const { ep, tgw } = hit;
    const over = tgw ? ` over transit gateway ${tgw}` : "";
    const across = tgw ? "a transit gateway" : "a VPN or Direct Connect connection";
    return [
      {
        kind: "gateway-endpoint",
        allowed: false,
        resource: ep.id,
        detail: `gateway endpoint ${ep.id} (${ep.serviceName}) in ${ep.vpcId} cannot be used from site ${src.site.id}${over}: endpoint connections cannot be extended out of a VPC, so resources on the other side of ${across} cannot use a gateway endpoint (use an interface endpoint for ${ep.serviceName})`,
      },
    ];
  }
  if (ip !== undefined && siteOfIp(state, ip))
    return [
      {
        kind: "route",
        allowed: false,
        resource: `site:${src.site.id}`,
        detail: `no route to ${name ?? destination}: privlink does not carry site-to-site traffic (AWS VPN CloudHub is not modelled)`,
      },
    ];
  if (!src.site.internet)
    return [
      {
        kind: "route",
        allowed: false,
        resource: `site:${src.site.id}`,
        detail: `no route to ${name ?? destination}: site ${src.site.id} has no internet connection, only its VPN and Direct Connect links to AWS (privlink site create --internet gives it one)`,
      },
    ];
  return [
    {
      kind: "route",
      allowed: true,
      resource: `site:${src.site.id}`,
      detail: `site ${src.site.id} reaches ${name ?? destination} over its own internet connection`,
    },
  ];
}

/** A VPC's flow whose route targets a virtual private gateway: on to the site behind it. */
export function vgwRouteHops(
  state: State,
  route: Route,
  vpcId: string,
  dst: SiteEnd | undefined,
  label: string,
  srcIp: string,
): Hop[] {
  const vgwId = route.target.kind === "gateway" ? route.target.id : "";
  const routeHop: Hop = {
    kind: "route",
    allowed: true,
    resource: vgwId,
    detail: `route ${route.destinationCidr ?? route.destinationPrefixListId} via ${vgwId}${route.origin === "EnableVgwRoutePropagation" ? " (propagated)" : ""}`,
  };
  const vgw = state.get("vpnGateway", vgwId);
  if (
    !vgw ||
    vgw.state === "deleted" ||
    !vgw.attachments.some((a) => a.vpcId === vpcId && a.state === "attached")
  )
    return [
      routeHop,
      {
        kind: "vpn",
        allowed: false,
        resource: vgwId,
        detail: `no route to ${label}: ${vgwId} is not attached to ${vpcId} (blackhole)`,
      },
    ];
  if (!dst)
    return [
      routeHop,
      {
        kind: "vpn",
        allowed: false,
        resource: vgwId,
        detail: `no route to ${label}: no on-premises site behind ${vgwId} holds that address`,
      },
    ];
  const links = linksToVgw(state, dst.site, vgw, parseIp(srcIp));
  const link = links.find((l) => l.up) ?? links[0];
  if (!link)
    return [
      routeHop,
      {
        kind: "vpn",
        allowed: false,
        resource: vgwId,
        detail: `no route to ${label}: no VPN connection or Direct Connect virtual interface connects ${vgwId} to site ${dst.site.id}`,
      },
    ];
  if (link.up && !vpnCarries(state, link.vpn, parseIp(dst.ip)!))
    return [routeHop, staticRouteMissing(link.vpn!, dst)];
  return [routeHop, link.hop];
}
