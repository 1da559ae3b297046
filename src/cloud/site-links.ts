import { cidrWithin, parseCidr } from "./cidr.js";
import type { State, Tx } from "./state.js";
import type { DxGatewayAssociation, DxVirtualInterface, Site, VpnConnection } from "./types.js";

/** The committed state or a transaction: these reads need only get and all. */
type Reader = Pick<State, "get" | "all"> | Pick<Tx, "get" | "all">;

/**
 * Which site sits behind each AWS hybrid object, and what the AWS side learns from it. A
 * customer gateway belongs to the site speaking from its IP address; a Direct Connect
 * connection to the site named by its location. Over BGP a site advertises its CIDR, and
 * learns over a Direct Connect gateway what each association's allowed prefixes let through.
 */

export function siteOfCustomerGateway(state: Reader, cgwId: string): Site | undefined {
  const cgw = state.get("customerGateway", cgwId);
  if (!cgw || cgw.state === "deleted") return undefined;
  for (const s of state.all("site")) if (s.publicIp === cgw.ipAddress) return s;
  return undefined;
}

export function siteOfDxConnection(state: Reader, connectionId: string): Site | undefined {
  const c = state.get("dxConnection", connectionId);
  return c && c.state !== "deleted" ? state.get("site", c.location) : undefined;
}

/** Static routes when StaticRoutesOnly, else (BGP) the site's CIDR. */
export function vpnPrefixes(state: Reader, v: VpnConnection): string[] {
  if (v.state === "deleted") return [];
  if (v.staticRoutesOnly) return v.routes.map((r) => r.cidr);
  const site = siteOfCustomerGateway(state, v.customerGatewayId);
  return site ? [site.cidr] : [];
}

/** The live private VIFs that end at a virtual private gateway, directly or through a DX gateway. */
export function vifsToVgw(state: Reader, vgwId: string): DxVirtualInterface[] {
  const dxgws = new Set(
    [...state.all("dxGatewayAssociation")]
      .filter((a) => dxAssociationLive(a) && a.gatewayId === vgwId)
      .map((a) => a.dxGatewayId),
  );
  return [...state.all("dxVirtualInterface")].filter(
    (v) =>
      v.state === "available" &&
      v.type === "private" &&
      (v.virtualGatewayId === vgwId ||
        (v.directConnectGatewayId !== undefined && dxgws.has(v.directConnectGatewayId))),
  );
}

/** Every prefix a virtual private gateway learns from on-premises: VPN routes and DX BGP. */
export function vgwLearnedPrefixes(state: Reader, vgwId: string): string[] {
  const out = new Set<string>();
  for (const v of state.all("vpnConnection"))
    if (v.vpnGatewayId === vgwId) for (const c of vpnPrefixes(state, v)) out.add(c);
  for (const vif of vifsToVgw(state, vgwId)) {
    const site = siteOfDxConnection(state, vif.connectionId);
    if (site) out.add(site.cidr);
  }
  return [...out].sort();
}

/** An association carries traffic while associated, and while its prefixes are being updated. */
export function dxAssociationLive(a: DxGatewayAssociation): boolean {
  return a.state === "associated" || a.state === "updating";
}

/** The live association between a DX gateway and a VGW or TGW. */
export function liveDxAssociation(
  state: Reader,
  dxGatewayId: string,
  gatewayId: string,
): DxGatewayAssociation | undefined {
  for (const a of state.all("dxGatewayAssociation"))
    if (a.dxGatewayId === dxGatewayId && a.gatewayId === gatewayId && dxAssociationLive(a)) return a;
  return undefined;
}

/** The CIDR blocks of the VPC a virtual private gateway is attached to. */
export function vgwVpcCidrs(state: Reader, vgwId: string): string[] {
  const vpcId = state.get("vpnGateway", vgwId)?.attachments.find((x) => x.state === "attached")?.vpcId;
  const vpc = vpcId ? state.get("vpc", vpcId) : undefined;
  return vpc ? vpc.cidrBlocks.filter((b) => b.state === "associated").map((b) => b.cidr) : [];
}

/**
 * What on-premises learns over a DX gateway from one association. A transit gateway's allowed
 * prefixes are advertised as entered; a virtual private gateway's are a filter: only the VPC's
 * own CIDRs that are the same as or inside an allowed prefix are advertised (AWS: "allowed
 * prefixes interactions").
 */
export function dxAdvertisedPrefixes(state: Reader, a: DxGatewayAssociation): string[] {
  if (a.gatewayType === "transitGateway") return [...a.allowedPrefixes];
  const allowed = a.allowedPrefixes.map((p) => parseCidr(p)).filter((c) => c !== undefined);
  return vgwVpcCidrs(state, a.gatewayId).filter((cidr) => {
    const c = parseCidr(cidr);
    return !!c && allowed.some((p) => cidrWithin(c, p));
  });
}
