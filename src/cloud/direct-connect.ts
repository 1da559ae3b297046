import { parseCidr } from "./cidr.js";
import { type Ctx, isoNow } from "./context.js";
import { AwsError } from "./errors.js";
import { syncPropagatedRoutes } from "./propagation.js";
import type { Tx } from "./state.js";
import type { DxConnection, DxGateway, DxVirtualInterface, Site, Tags } from "./types.js";

/**
 * AWS Direct Connect, the minimal set: dedicated connections, private and transit virtual
 * interfaces and Direct Connect gateways (their associations and proposals are in
 * direct-connect-association.ts). privlink's locations are its sites: a
 * connection at location `dc1` is a cross-connect from site dc1. Everything is available at
 * once (AWS waits for the LOA, the cross-connect and BGP).
 */

/** Direct Connect answers every client error with this code (and the reason in the message). */
export const dxError = (message: string) => new AwsError("DirectConnectClientException", message);

const BANDWIDTHS = [
  "50Mbps",
  "100Mbps",
  "200Mbps",
  "300Mbps",
  "400Mbps",
  "500Mbps",
  "1Gbps",
  "2Gbps",
  "5Gbps",
  "10Gbps",
  "25Gbps",
  "100Gbps",
  "400Gbps",
];

/** DX gateways, associations and proposals have UUIDs for IDs. */
export function dxUuid(ctx: Ctx): string {
  const h = ctx.rt.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}

const mine = (o: { accountId: string; region: string }, ctx: Ctx) =>
  o.accountId === ctx.accountId && o.region === ctx.region;

export function locations(tx: Tx): Site[] {
  return [...tx.all("site")].sort((a, b) => (a.id < b.id ? -1 : 1));
}

export function getConnection(tx: Tx, ctx: Ctx, id: string | undefined): DxConnection {
  const c = id ? tx.get("dxConnection", id) : undefined;
  if (!c || !mine(c, ctx) || c.state === "deleted") throw dxError(`Connection ${id ?? ""} does not exist`);
  return c;
}

export function createConnection(
  tx: Tx,
  ctx: Ctx,
  input: { location?: string; bandwidth?: string; connectionName?: string; tags?: Tags },
): DxConnection {
  if (!input.connectionName) throw dxError("connectionName is required");
  if (!input.location) throw dxError("location is required");
  if (!input.bandwidth) throw dxError("bandwidth is required");
  if (!tx.get("site", input.location))
    throw dxError(
      `Location ${input.location} is not a valid location (privlink's locations are its sites: privlink site list)`,
    );
  if (!BANDWIDTHS.includes(input.bandwidth))
    throw dxError(`Bandwidth ${input.bandwidth} is not available. Valid values: ${BANDWIDTHS.join(", ")}`);
  return tx.put("dxConnection", {
    id: `dxcon-${ctx.rt.hex(8)}`,
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    name: input.connectionName,
    location: input.location,
    bandwidth: input.bandwidth,
    state: "available",
    createdAt: isoNow(ctx),
  });
}

export function deleteConnection(tx: Tx, ctx: Ctx, id: string | undefined): DxConnection {
  const c = getConnection(tx, ctx, id);
  const vifs = [...tx.all("dxVirtualInterface")].filter(
    (v) => v.connectionId === c.id && v.state !== "deleted",
  );
  if (vifs.length)
    throw dxError(
      `Connection ${c.id} has virtual interfaces (${vifs.map((v) => v.id).join(", ")}): delete them first`,
    );
  return tx.put("dxConnection", { ...c, state: "deleted", deletedAt: isoNow(ctx) });
}

export interface VifInput {
  type: "private" | "transit";
  virtualInterfaceName?: string;
  vlan?: number;
  asn?: number;
  mtu?: number;
  amazonAddress?: string;
  customerAddress?: string;
  virtualGatewayId?: string;
  directConnectGatewayId?: string;
  tags?: Tags;
}

function checkVif(tx: Tx, ctx: Ctx, connection: DxConnection, input: VifInput): void {
  if (!input.virtualInterfaceName) throw dxError("virtualInterfaceName is required");
  if (input.vlan === undefined || !Number.isInteger(input.vlan) || input.vlan < 1 || input.vlan > 4094)
    throw dxError(`VLAN ${input.vlan ?? "(none)"} is invalid: it must be in 1-4094`);
  if (input.asn === undefined || !Number.isInteger(input.asn) || input.asn < 1 || input.asn > 4294967294)
    throw dxError(`ASN ${input.asn ?? "(none)"} is invalid: it must be in 1-4294967294`);
  const mtus = input.type === "private" ? [1500, 9001] : [1500, 8500];
  if (input.mtu !== undefined && !mtus.includes(input.mtu))
    throw dxError(
      `MTU ${input.mtu} is invalid for a ${input.type} virtual interface: use ${mtus.join(" or ")}`,
    );
  for (const a of [input.amazonAddress, input.customerAddress])
    if (a !== undefined && !parseCidr(a))
      throw dxError(`Address ${a} is not an IPv4 address with a prefix (169.254.255.1/30)`);
  if (
    [...tx.all("dxVirtualInterface")].some(
      (v) => v.connectionId === connection.id && v.state !== "deleted" && v.vlan === input.vlan,
    )
  )
    throw dxError(`VLAN ${input.vlan} is already in use on connection ${connection.id}`);
  if (input.type === "private") {
    if (!!input.virtualGatewayId === !!input.directConnectGatewayId)
      throw dxError("Exactly one of virtualGatewayId and directConnectGatewayId must be given");
    if (input.virtualGatewayId) {
      const g = tx.get("vpnGateway", input.virtualGatewayId);
      if (!g || !mine(g, ctx) || g.state === "deleted")
        throw dxError(`Virtual private gateway ${input.virtualGatewayId} does not exist`);
    }
  } else if (!input.directConnectGatewayId) throw dxError("directConnectGatewayId is required");
  if (input.directConnectGatewayId) {
    const g = getDxGateway(tx, ctx, input.directConnectGatewayId);
    const other = input.type === "private" ? "transitGateway" : "virtualPrivateGateway";
    const clash = dxGatewayUsers(tx, g.id).find((u) => u.kind === other);
    if (clash)
      throw dxError(
        `Direct Connect gateway ${g.id} is associated with ${clash.id}: a ${input.type} virtual interface cannot attach to it (private VIFs go with virtual private gateways, transit VIFs with transit gateways)`,
      );
  }
}

/** What uses a DX gateway: its present associations (by gateway type) and live VIFs (by type). */
export function dxGatewayUsers(
  tx: Tx,
  dxGatewayId: string,
): { id: string; kind: "virtualPrivateGateway" | "transitGateway" }[] {
  const out: { id: string; kind: "virtualPrivateGateway" | "transitGateway" }[] = [];
  for (const a of tx.all("dxGatewayAssociation"))
    if (a.dxGatewayId === dxGatewayId && a.state !== "disassociated")
      out.push({ id: a.gatewayId, kind: a.gatewayType });
  for (const v of tx.all("dxVirtualInterface"))
    if (v.directConnectGatewayId === dxGatewayId && v.state !== "deleted")
      out.push({ id: v.id, kind: v.type === "private" ? "virtualPrivateGateway" : "transitGateway" });
  return out;
}

export function createVirtualInterface(
  tx: Tx,
  ctx: Ctx,
  connectionId: string | undefined,
  input: VifInput,
): DxVirtualInterface {
  const connection = getConnection(tx, ctx, connectionId);
  checkVif(tx, ctx, connection, input);
  const vif = tx.put("dxVirtualInterface", {
    id: `dxvif-${ctx.rt.hex(8)}`,
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    connectionId: connection.id,
    type: input.type,
    name: input.virtualInterfaceName!,
    vlan: input.vlan!,
    asn: input.asn!,
    mtu: input.mtu ?? 1500,
    amazonAddress: input.amazonAddress ?? "169.254.255.1/30",
    customerAddress: input.customerAddress ?? "169.254.255.2/30",
    virtualGatewayId: input.virtualGatewayId,
    directConnectGatewayId: input.directConnectGatewayId,
    state: "available",
  });
  syncPropagatedRoutes(tx);
  return vif;
}

export function getVirtualInterface(tx: Tx, ctx: Ctx, id: string | undefined): DxVirtualInterface {
  const v = id ? tx.get("dxVirtualInterface", id) : undefined;
  if (!v || !mine(v, ctx) || v.state === "deleted")
    throw dxError(`Virtual interface ${id ?? ""} does not exist`);
  return v;
}

export function deleteVirtualInterface(tx: Tx, ctx: Ctx, id: string | undefined): DxVirtualInterface {
  const v = getVirtualInterface(tx, ctx, id);
  const next = tx.put("dxVirtualInterface", { ...v, state: "deleted" });
  syncPropagatedRoutes(tx);
  return next;
}

export function getDxGateway(tx: Tx, ctx: Ctx, id: string | undefined): DxGateway {
  const g = id ? tx.get("dxGateway", id) : undefined;
  if (!g || g.accountId !== ctx.accountId || g.state === "deleted")
    throw dxError(`Direct Connect gateway ${id ?? ""} does not exist`);
  return g;
}

export function createDxGateway(
  tx: Tx,
  ctx: Ctx,
  input: { name?: string; amazonSideAsn?: number },
): DxGateway {
  if (!input.name) throw dxError("directConnectGatewayName is required");
  const asn = input.amazonSideAsn ?? 64512;
  const ok = (asn >= 64512 && asn <= 65534) || (asn >= 4200000000 && asn <= 4294967294);
  if (!Number.isInteger(asn) || !ok)
    throw dxError(`amazonSideAsn ${asn} is invalid: it must be in 64512-65534 or 4200000000-4294967294`);
  return tx.put("dxGateway", {
    id: dxUuid(ctx),
    accountId: ctx.accountId,
    name: input.name,
    amazonSideAsn: asn,
    state: "available",
  });
}

export function deleteDxGateway(tx: Tx, ctx: Ctx, id: string | undefined): DxGateway {
  const g = getDxGateway(tx, ctx, id);
  const users = [
    ...[...tx.all("dxGatewayAssociation")]
      .filter((a) => a.dxGatewayId === g.id && a.state !== "disassociated")
      .map((a) => a.id),
    ...[...tx.all("dxVirtualInterface")]
      .filter((v) => v.directConnectGatewayId === g.id && v.state !== "deleted")
      .map((v) => v.id),
  ];
  if (users.length) throw dxError(`Direct Connect gateway ${g.id} is in use (${users.join(", ")})`);
  return tx.put("dxGateway", { ...g, state: "deleted" });
}
