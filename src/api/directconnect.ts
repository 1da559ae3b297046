import * as dx from "../cloud/direct-connect.js";
import type { Tx } from "../cloud/state.js";
import type { DxConnection, DxGateway, DxVirtualInterface, Tags } from "../cloud/types.js";
import { directConnectAssociationHandlers } from "./directconnect-associations.js";
import type { HandlerTable } from "./handler.js";

/** Direct Connect (JSON 1.1, camelCase members): the rules are in cloud/direct-connect.ts. */

const tagsIn = (tags: unknown): Tags =>
  Object.fromEntries(
    (Array.isArray(tags) ? tags : []).map((t: { key?: string; value?: string }) => [
      String(t.key),
      t.value ?? "",
    ]),
  );
const tagsOut = (tags: Tags) => Object.entries(tags).map(([key, value]) => ({ key, value }));

function connectionShape(c: DxConnection) {
  return {
    ownerAccount: c.accountId,
    connectionId: c.id,
    connectionName: c.name,
    connectionState: c.state,
    region: c.region,
    location: c.location,
    bandwidth: c.bandwidth,
    awsDeviceV2: `privlink-${c.location}`,
    awsLogicalDeviceId: `privlink-${c.location}`,
    hasLogicalRedundancy: "no",
    jumboFrameCapable: true,
    macSecCapable: false,
    tags: tagsOut(c.tags),
  };
}

function vifShape(tx: Tx, v: DxVirtualInterface) {
  const c = tx.get("dxConnection", v.connectionId);
  const dxgw = v.directConnectGatewayId ? tx.get("dxGateway", v.directConnectGatewayId) : undefined;
  const vgw = v.virtualGatewayId ? tx.get("vpnGateway", v.virtualGatewayId) : undefined;
  return {
    ownerAccount: v.accountId,
    virtualInterfaceId: v.id,
    location: c?.location,
    connectionId: v.connectionId,
    virtualInterfaceType: v.type,
    virtualInterfaceName: v.name,
    vlan: v.vlan,
    asn: v.asn,
    amazonSideAsn: dxgw?.amazonSideAsn ?? vgw?.amazonSideAsn,
    amazonAddress: v.amazonAddress,
    customerAddress: v.customerAddress,
    addressFamily: "ipv4",
    virtualInterfaceState: v.state,
    mtu: v.mtu,
    jumboFrameCapable: true,
    virtualGatewayId: v.virtualGatewayId ?? "",
    directConnectGatewayId: v.directConnectGatewayId ?? "",
    routeFilterPrefixes: [],
    bgpPeers: [
      {
        bgpPeerId: `dxpeer-${v.id.slice(6)}`,
        asn: v.asn,
        addressFamily: "ipv4",
        amazonAddress: v.amazonAddress,
        customerAddress: v.customerAddress,
        bgpPeerState: v.state === "available" ? "available" : "deleted",
        bgpStatus: v.state === "available" ? "up" : "down",
        awsDeviceV2: `privlink-${c?.location ?? ""}`,
      },
    ],
    region: v.region,
    awsDeviceV2: `privlink-${c?.location ?? ""}`,
    tags: tagsOut(v.tags),
  };
}

function gatewayShape(g: DxGateway) {
  return {
    directConnectGatewayId: g.id,
    directConnectGatewayName: g.name,
    amazonSideAsn: g.amazonSideAsn,
    ownerAccount: g.accountId,
    directConnectGatewayState: g.state,
  };
}

function newVif(type: "private" | "transit", n: Record<string, any> | undefined): dx.VifInput {
  if (!n) throw dx.dxError(`new${type === "private" ? "Private" : "Transit"}VirtualInterface is required`);
  return {
    type,
    virtualInterfaceName: n.virtualInterfaceName,
    vlan: n.vlan,
    asn: n.asn,
    mtu: n.mtu,
    amazonAddress: n.amazonAddress,
    customerAddress: n.customerAddress,
    virtualGatewayId: type === "private" ? n.virtualGatewayId : undefined,
    directConnectGatewayId: n.directConnectGatewayId,
    tags: tagsIn(n.tags),
  };
}

export const directConnectHandlers: HandlerTable = {
  DescribeLocations: ({ tx, ctx }) => ({
    locations: dx.locations(tx).map((s) => ({
      locationCode: s.id,
      locationName: `privlink site ${s.id} (${s.cidr})`,
      region: ctx.region,
      availablePortSpeeds: ["1Gbps", "10Gbps", "100Gbps"],
      availableProviders: [],
      availableMacSecPortSpeeds: [],
    })),
  }),
  CreateConnection: ({ tx, ctx, input }) =>
    connectionShape(
      dx.createConnection(tx, ctx, {
        location: input.location,
        bandwidth: input.bandwidth,
        connectionName: input.connectionName,
        tags: tagsIn(input.tags),
      }),
    ),
  DescribeConnections: ({ tx, ctx, input }) => {
    if (input.connectionId)
      return { connections: [connectionShape(dx.getConnection(tx, ctx, input.connectionId))] };
    const all = [...tx.all("dxConnection")].filter(
      (c) => c.accountId === ctx.accountId && c.region === ctx.region && c.state !== "deleted",
    );
    return { connections: all.map(connectionShape) };
  },
  DeleteConnection: ({ tx, ctx, input }) => connectionShape(dx.deleteConnection(tx, ctx, input.connectionId)),
  CreatePrivateVirtualInterface: ({ tx, ctx, input }) =>
    vifShape(
      tx,
      dx.createVirtualInterface(
        tx,
        ctx,
        input.connectionId,
        newVif("private", input.newPrivateVirtualInterface),
      ),
    ),
  CreateTransitVirtualInterface: ({ tx, ctx, input }) => ({
    virtualInterface: vifShape(
      tx,
      dx.createVirtualInterface(
        tx,
        ctx,
        input.connectionId,
        newVif("transit", input.newTransitVirtualInterface),
      ),
    ),
  }),
  DescribeVirtualInterfaces: ({ tx, ctx, input }) => {
    if (input.virtualInterfaceId)
      return { virtualInterfaces: [vifShape(tx, dx.getVirtualInterface(tx, ctx, input.virtualInterfaceId))] };
    if (input.connectionId) dx.getConnection(tx, ctx, input.connectionId);
    const all = [...tx.all("dxVirtualInterface")].filter(
      (v) =>
        v.accountId === ctx.accountId &&
        v.region === ctx.region &&
        v.state !== "deleted" &&
        (!input.connectionId || v.connectionId === input.connectionId),
    );
    return { virtualInterfaces: all.map((v) => vifShape(tx, v)) };
  },
  DeleteVirtualInterface: ({ tx, ctx, input }) => ({
    virtualInterfaceState: dx.deleteVirtualInterface(tx, ctx, input.virtualInterfaceId).state,
  }),
  ConfirmPrivateVirtualInterface: ({ tx, ctx, input }) => ({
    virtualInterfaceState: dx.getVirtualInterface(tx, ctx, input.virtualInterfaceId).state,
  }),
  ConfirmTransitVirtualInterface: ({ tx, ctx, input }) => ({
    virtualInterfaceState: dx.getVirtualInterface(tx, ctx, input.virtualInterfaceId).state,
  }),
  DescribeVirtualGateways: ({ tx, ctx }) => ({
    virtualGateways: [...tx.all("vpnGateway")]
      .filter((g) => g.accountId === ctx.accountId && g.region === ctx.region && g.state !== "deleted")
      .map((g) => ({ virtualGatewayId: g.id, virtualGatewayState: g.state })),
  }),
  CreateDirectConnectGateway: ({ tx, ctx, input }) => ({
    directConnectGateway: gatewayShape(
      dx.createDxGateway(tx, ctx, {
        name: input.directConnectGatewayName,
        amazonSideAsn: input.amazonSideAsn,
      }),
    ),
  }),
  DescribeDirectConnectGateways: ({ tx, ctx, input }) => {
    if (input.directConnectGatewayId)
      return {
        directConnectGateways: [gatewayShape(dx.getDxGateway(tx, ctx, input.directConnectGatewayId))],
      };
    const all = [...tx.all("dxGateway")].filter(
      (g) => g.accountId === ctx.accountId && g.state !== "deleted",
    );
    return { directConnectGateways: all.map(gatewayShape) };
  },
  DeleteDirectConnectGateway: ({ tx, ctx, input }) => ({
    directConnectGateway: gatewayShape(dx.deleteDxGateway(tx, ctx, input.directConnectGatewayId)),
  }),
  ...directConnectAssociationHandlers,
  DescribeDirectConnectGatewayAttachments: ({ tx, ctx, input }) => ({
    directConnectGatewayAttachments: [...tx.all("dxVirtualInterface")]
      .filter(
        (v) =>
          v.accountId === ctx.accountId &&
          v.state !== "deleted" &&
          v.directConnectGatewayId &&
          (!input.directConnectGatewayId || v.directConnectGatewayId === input.directConnectGatewayId) &&
          (!input.virtualInterfaceId || v.id === input.virtualInterfaceId),
      )
      .map((v) => ({
        directConnectGatewayId: v.directConnectGatewayId,
        virtualInterfaceId: v.id,
        virtualInterfaceRegion: v.region,
        virtualInterfaceOwnerAccount: v.accountId,
        attachmentState: "attached",
        attachmentType: v.type === "private" ? "PrivateVirtualInterface" : "TransitVirtualInterface",
      })),
  }),
};
