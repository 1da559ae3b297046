import { cidrOverlaps, formatIp, isCanonicalCidr, parseCidr, parseIp } from "./cidr.js";
import { type Ctx, isoNow } from "./context.js";
import { AwsError, dependencyViolation, invalidParameterValue, missingParameter } from "./errors.js";
import { newId } from "./ids.js";
import { syncPropagatedRoutes } from "./propagation.js";
import { registerRouteTargets } from "./route-table.js";
import { siteOfCustomerGateway } from "./site-links.js";
import type { State, Tx } from "./state.js";

export { siteOfCustomerGateway, vpnPrefixes } from "./site-links.js";

import { registerTaggable } from "./tags.js";
import type { CustomerGateway, Tags, VpnConnection, VpnGateway } from "./types.js";
import { getVpc, registerVpcDependents } from "./vpc.js";

/**
 * Site-to-Site VPN: customer gateways (the on-premises device, found by its public IP: a site
 * with that public IP is the network behind it), virtual private gateways attached to a VPC,
 * and VPN connections between the two with their static routes. Objects are available at once
 * (AWS takes minutes); deleted VPN connections stay visible as `deleted`, as on AWS.
 */

registerTaggable("cgw", "customerGateway", "customer-gateway");
registerTaggable("vgw", "vpnGateway", "vpn-gateway");
registerTaggable("vpn", "vpnConnection", "vpn-connection");

registerRouteTargets((tx, ctx, target) => {
  if (target.kind !== "gateway" || !target.id.startsWith("vgw-")) return false;
  const g = tx.get("vpnGateway", target.id);
  return !!g && g.accountId === ctx.accountId && g.state !== "deleted";
});

registerVpcDependents((tx, vpc) =>
  [...tx.all("vpnGateway")]
    .filter((g) => g.attachments.some((a) => a.vpcId === vpc.id && a.state === "attached"))
    .map((g) => g.id),
);

const mine = (o: { accountId: string; region: string }, ctx: Ctx) =>
  o.accountId === ctx.accountId && o.region === ctx.region;

export function getCustomerGateway(tx: Tx, ctx: Ctx, id: string | undefined): CustomerGateway {
  const c = id ? tx.get("customerGateway", id) : undefined;
  if (!c || !mine(c, ctx) || c.state === "deleted")
    throw new AwsError(
      "InvalidCustomerGatewayID.NotFound",
      `The customerGateway ID '${id ?? ""}' does not exist`,
    );
  return c;
}

export function getVpnGateway(tx: Tx, ctx: Ctx, id: string | undefined): VpnGateway {
  const g = id ? tx.get("vpnGateway", id) : undefined;
  if (!g || !mine(g, ctx) || g.state === "deleted")
    throw new AwsError("InvalidVpnGatewayID.NotFound", `The vpnGateway ID '${id ?? ""}' does not exist`);
  return g;
}

export function getVpnConnection(tx: Tx, ctx: Ctx, id: string | undefined): VpnConnection {
  const v = id ? tx.get("vpnConnection", id) : undefined;
  if (!v || !mine(v, ctx))
    throw new AwsError(
      "InvalidVpnConnectionID.NotFound",
      `The vpnConnection ID '${id ?? ""}' does not exist`,
    );
  return v;
}

function checkType(type: string | undefined): "ipsec.1" {
  if (type === undefined || type === "") throw missingParameter("Type");
  if (type !== "ipsec.1")
    throw invalidParameterValue(`Value (${type}) for parameter type is invalid. Valid values: ipsec.1`);
  return type;
}

function checkAsn(value: number | undefined, fallback: number, name: string): number {
  const asn = value ?? fallback;
  if (!Number.isInteger(asn) || asn < 1 || asn > 4294967294)
    throw invalidParameterValue(
      `Value (${asn}) for parameter ${name} is invalid. It must be in 1-4294967294.`,
    );
  return asn;
}

export interface CustomerGatewayInput {
  type?: string;
  bgpAsn?: number;
  ipAddress?: string;
  deviceName?: string;
  tags?: Tags;
}

/** Same IP and ASN as an existing gateway: AWS answers that gateway instead of a new one. */
export function createCustomerGateway(tx: Tx, ctx: Ctx, input: CustomerGatewayInput): CustomerGateway {
  const type = checkType(input.type);
  const bgpAsn = checkAsn(input.bgpAsn, 65000, "BgpAsn");
  if (!input.ipAddress) throw missingParameter("IpAddress");
  if (parseIp(input.ipAddress) === undefined)
    throw invalidParameterValue(
      `The customer gateway IP address '${input.ipAddress}' is not a valid IPv4 address`,
    );
  const same = [...tx.all("customerGateway")].find(
    (c) => mine(c, ctx) && c.state !== "deleted" && c.ipAddress === input.ipAddress && c.bgpAsn === bgpAsn,
  );
  if (same) return same;
  return tx.put("customerGateway", {
    id: newId(ctx.rt, "cgw"),
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    type,
    bgpAsn,
    ipAddress: input.ipAddress,
    deviceName: input.deviceName,
    state: "available",
  });
}

export function deleteCustomerGateway(tx: Tx, ctx: Ctx, id: string | undefined): void {
  const c = getCustomerGateway(tx, ctx, id);
  const users = [...tx.all("vpnConnection")].filter(
    (v) => v.state !== "deleted" && v.customerGatewayId === c.id,
  );
  if (users.length)
    throw new AwsError(
      "IncorrectState",
      `The customer gateway '${c.id}' is in use by VPN connection ${users.map((v) => v.id).join(", ")}`,
    );
  tx.put("customerGateway", { ...c, state: "deleted" });
}

export function createVpnGateway(
  tx: Tx,
  ctx: Ctx,
  input: { type?: string; amazonSideAsn?: number; availabilityZone?: string; tags?: Tags },
): VpnGateway {
  const type = checkType(input.type);
  const asn = input.amazonSideAsn ?? 64512;
  const privateAsn = (asn >= 64512 && asn <= 65534) || (asn >= 4200000000 && asn <= 4294967294);
  if (!Number.isInteger(asn) || !privateAsn)
    throw invalidParameterValue(
      `Invalid ASN ${asn}: the Amazon side ASN must be in 64512-65534 or 4200000000-4294967294`,
    );
  return tx.put("vpnGateway", {
    id: newId(ctx.rt, "vgw"),
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    type,
    amazonSideAsn: asn,
    availabilityZone: input.availabilityZone,
    state: "available",
    attachments: [],
  });
}

export function attachVpnGateway(tx: Tx, ctx: Ctx, vgwId: string | undefined, vpcId: string | undefined) {
  const g = getVpnGateway(tx, ctx, vgwId);
  const vpc = getVpc(tx, ctx, vpcId);
  const current = attachedVpc(g);
  if (current === vpc.id) return { vpcId: vpc.id, state: "attached" as const };
  if (current)
    throw new AwsError(
      "VpnGatewayAttachmentLimitExceeded",
      `The virtual private gateway ${g.id} is already attached to ${current}; a virtual private gateway attaches to one VPC at a time`,
    );
  const other = [...tx.all("vpnGateway")].find((x) => x.state !== "deleted" && attachedVpc(x) === vpc.id);
  if (other)
    throw invalidParameterValue(
      `The VPC ${vpc.id} already has a virtual private gateway attached (${other.id})`,
    );
  const attachment = { vpcId: vpc.id, state: "attached" as const };
  tx.put("vpnGateway", {
    ...g,
    attachments: [...g.attachments.filter((a) => a.vpcId !== vpc.id), attachment],
  });
  syncPropagatedRoutes(tx);
  return attachment;
}

/** Detaching leaves static routes to the gateway in place, as blackholes (AWS does the same). */
export function detachVpnGateway(
  tx: Tx,
  ctx: Ctx,
  vgwId: string | undefined,
  vpcId: string | undefined,
): void {
  const g = getVpnGateway(tx, ctx, vgwId);
  const vpc = getVpc(tx, ctx, vpcId);
  if (attachedVpc(g) !== vpc.id)
    throw new AwsError(
      "InvalidVpnGatewayAttachment.NotFound",
      `The attachment with vpn gateway ID '${g.id}' and vpc ID '${vpc.id}' does not exist`,
    );
  tx.put("vpnGateway", {
    ...g,
    attachments: g.attachments.map((a) => (a.vpcId === vpc.id ? { ...a, state: "detached" as const } : a)),
  });
  syncPropagatedRoutes(tx);
}

export function deleteVpnGateway(tx: Tx, ctx: Ctx, id: string | undefined): void {
  const g = getVpnGateway(tx, ctx, id);
  if (attachedVpc(g))
    throw new AwsError(
      "IncorrectState",
      `The virtual private gateway '${g.id}' is attached to ${attachedVpc(g)}`,
    );
  const users = [...tx.all("vpnConnection")].filter((v) => v.state !== "deleted" && v.vpnGatewayId === g.id);
  if (users.length)
    throw new AwsError(
      "IncorrectState",
      `The virtual private gateway '${g.id}' is in use by VPN connection ${users.map((v) => v.id).join(", ")}`,
    );
  const dx = [...tx.all("dxGatewayAssociation")].filter(
    (a) => a.state !== "disassociated" && a.gatewayId === g.id,
  );
  const vifs = [...tx.all("dxVirtualInterface")].filter(
    (v) => v.state !== "deleted" && v.virtualGatewayId === g.id,
  );
  if (dx.length || vifs.length)
    throw dependencyViolation(`The virtual private gateway '${g.id}' is in use by Direct Connect`);
  tx.put("vpnGateway", { ...g, state: "deleted", attachments: [] });
}

export function attachedVpc(g: VpnGateway): string | undefined {
  return g.attachments.find((a) => a.state === "attached")?.vpcId;
}

export interface VpnConnectionInput {
  type?: string;
  customerGatewayId?: string;
  vpnGatewayId?: string;
  transitGatewayId?: string;
  staticRoutesOnly?: boolean;
  tags?: Tags;
}

/** The TGW side of VPN connections is checked by the transit gateway module once it exists. */
export type TransitGatewayCheck = (tx: Tx, ctx: Ctx, tgwId: string) => void;
let transitCheck: TransitGatewayCheck | undefined;
export function registerVpnTransitGateways(check: TransitGatewayCheck): void {
  transitCheck = check;
}

export function createVpnConnection(tx: Tx, ctx: Ctx, input: VpnConnectionInput): VpnConnection {
  const type = checkType(input.type);
  if (!input.customerGatewayId) throw missingParameter("CustomerGatewayId");
  const cgw = getCustomerGateway(tx, ctx, input.customerGatewayId);
  if (input.vpnGatewayId && input.transitGatewayId)
    throw new AwsError(
      "InvalidParameterCombination",
      "The parameter VpnGatewayId cannot be used with the parameter TransitGatewayId",
    );
  if (!input.vpnGatewayId && !input.transitGatewayId)
    throw missingParameter("VpnGatewayId or TransitGatewayId");
  if (input.vpnGatewayId) getVpnGateway(tx, ctx, input.vpnGatewayId);
  if (input.transitGatewayId) {
    if (!transitCheck)
      throw new AwsError(
        "InvalidTransitGatewayID.NotFound",
        `The transitGateway ID '${input.transitGatewayId}' does not exist`,
      );
    transitCheck(tx, ctx, input.transitGatewayId);
  }
  const n = [...tx.all("vpnConnection")].length;
  const v = tx.put("vpnConnection", {
    id: newId(ctx.rt, "vpn"),
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    type,
    customerGatewayId: cgw.id,
    vpnGatewayId: input.vpnGatewayId,
    transitGatewayId: input.transitGatewayId,
    staticRoutesOnly: input.staticRoutesOnly ?? false,
    routes: [],
    state: "available",
    // Documentation range (TEST-NET-2) for the AWS tunnel endpoints.
    tunnelOutsideIps: [
      formatIp(0xc6336400 + ((2 * n) % 254) + 1),
      formatIp(0xc6336400 + ((2 * n + 1) % 254) + 1),
    ],
    createdAt: isoNow(ctx),
  });
  for (const f of vpnCreatedHooks) f(tx, ctx, v);
  syncPropagatedRoutes(tx);
  return v;
}

/** The TGW module gives a TGW VPN connection its attachment. */
const vpnCreatedHooks: ((tx: Tx, ctx: Ctx, v: VpnConnection) => void)[] = [];
export function onVpnConnectionCreated(f: (tx: Tx, ctx: Ctx, v: VpnConnection) => void): void {
  vpnCreatedHooks.push(f);
}

export function deleteVpnConnection(tx: Tx, ctx: Ctx, id: string | undefined): void {
  const v = getVpnConnection(tx, ctx, id);
  if (v.state === "deleted") return;
  tx.put("vpnConnection", { ...v, state: "deleted", routes: [], deletedAt: isoNow(ctx) });
  for (const f of vpnDeletedHooks) f(tx, ctx, v);
  syncPropagatedRoutes(tx);
}

/** The TGW module retires a TGW VPN connection's attachment with it. */
const vpnDeletedHooks: ((tx: Tx, ctx: Ctx, v: VpnConnection) => void)[] = [];
export function onVpnConnectionDeleted(f: (tx: Tx, ctx: Ctx, v: VpnConnection) => void): void {
  vpnDeletedHooks.push(f);
}

function liveVpn(tx: Tx, ctx: Ctx, id: string | undefined): VpnConnection {
  const v = getVpnConnection(tx, ctx, id);
  if (v.state === "deleted")
    throw new AwsError("IncorrectState", `The VPN connection '${v.id}' is in the deleted state`);
  return v;
}

function checkRouteCidr(cidr: string | undefined): string {
  if (!cidr) throw missingParameter("DestinationCidrBlock");
  if (!parseCidr(cidr) || !isCanonicalCidr(cidr))
    throw invalidParameterValue(
      `Value (${cidr}) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block.`,
    );
  return cidr;
}

/** Static routes belong to VGW connections with StaticRoutesOnly; TGW VPNs use TGW static routes. */
export function createVpnConnectionRoute(
  tx: Tx,
  ctx: Ctx,
  id: string | undefined,
  cidr: string | undefined,
): void {
  const v = liveVpn(tx, ctx, id);
  const c = checkRouteCidr(cidr);
  if (v.transitGatewayId)
    throw new AwsError(
      "InvalidVpnConnection.InvalidType",
      `The VPN connection ${v.id} is attached to a transit gateway: use CreateTransitGatewayRoute instead`,
    );
  if (!v.staticRoutesOnly)
    throw new AwsError(
      "InvalidVpnConnection.InvalidState",
      `The VPN connection ${v.id} uses dynamic (BGP) routing; static routes need StaticRoutesOnly=true`,
    );
  if (v.routes.some((r) => r.cidr === c))
    throw new AwsError("RouteAlreadyExists", `The route identified by ${c} already exists.`);
  if (v.routes.length >= 100)
    throw new AwsError("RouteLimitExceeded", `The VPN connection ${v.id} already has 100 static routes`);
  tx.put("vpnConnection", { ...v, routes: [...v.routes, { cidr: c, state: "available" }] });
  syncPropagatedRoutes(tx);
}

export function deleteVpnConnectionRoute(
  tx: Tx,
  ctx: Ctx,
  id: string | undefined,
  cidr: string | undefined,
): void {
  const v = liveVpn(tx, ctx, id);
  const c = checkRouteCidr(cidr);
  if (!v.routes.some((r) => r.cidr === c))
    throw new AwsError("InvalidRoute.NotFound", `The route identified by ${c} does not exist for ${v.id}`);
  tx.put("vpnConnection", { ...v, routes: v.routes.filter((r) => r.cidr !== c) });
  syncPropagatedRoutes(tx);
}

/** Whether a VPN connection's tunnels are up: its site's `privlink site vpn up|down`. */
export function tunnelsUp(state: State | Tx, v: VpnConnection): boolean {
  const site = siteOfCustomerGateway(state, v.customerGatewayId);
  return !!site && !site.tunnelsDown && v.state === "available";
}

export function overlapsAny(cidr: string, others: readonly string[]): boolean {
  const c = parseCidr(cidr)!;
  return others.some((o) => cidrOverlaps(c, parseCidr(o)!));
}
