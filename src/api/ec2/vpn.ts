import { AwsError } from "../../cloud/errors.js";
import * as propagation from "../../cloud/propagation.js";
import type { Tx } from "../../cloud/state.js";
import type { CustomerGateway, VpnConnection, VpnGateway } from "../../cloud/types.js";
import { ensureRegion } from "../../cloud/vpc.js";
import * as vpn from "../../cloud/vpn.js";
import { type Call, describe, type HandlerTable, need, specTags, tagList } from "../handler.js";

function customerGatewayShape(c: CustomerGateway) {
  return {
    CustomerGatewayId: c.id,
    BgpAsn: String(c.bgpAsn),
    IpAddress: c.ipAddress,
    DeviceName: c.deviceName,
    State: c.state,
    Type: c.type,
    Tags: tagList(c.tags),
  };
}

function vpnGatewayShape(g: VpnGateway) {
  return {
    VpnGatewayId: g.id,
    State: g.state,
    Type: g.type,
    AvailabilityZone: g.availabilityZone,
    AmazonSideAsn: g.amazonSideAsn,
    VpcAttachments: g.attachments.map((a) => ({ VpcId: a.vpcId, State: a.state })),
    Tags: tagList(g.tags),
  };
}

/** The device configuration AWS hands out; privlink's tunnels need none, but tools read its shape. */
function customerGatewayConfiguration(v: VpnConnection, cgw: CustomerGateway | undefined): string {
  const tunnels = v.tunnelOutsideIps
    .map(
      (ip) =>
        `<ipsec_tunnel><customer_gateway><tunnel_outside_address><ip_address>${cgw?.ipAddress ?? ""}</ip_address></tunnel_outside_address></customer_gateway><vpn_gateway><tunnel_outside_address><ip_address>${ip}</ip_address></tunnel_outside_address></vpn_gateway></ipsec_tunnel>`,
    )
    .join("");
  return `<?xml version="1.0" encoding="UTF-8"?>\n<vpn_connection id="${v.id}"><customer_gateway_id>${v.customerGatewayId}</customer_gateway_id><vpn_gateway_id>${v.vpnGatewayId ?? ""}</vpn_gateway_id><vpn_connection_type>ipsec.1</vpn_connection_type>${tunnels}</vpn_connection>`;
}

function vpnConnectionShape(tx: Tx, v: VpnConnection) {
  const up = vpn.tunnelsUp(tx, v);
  const site = vpn.siteOfCustomerGateway(tx, v.customerGatewayId);
  const accepted = vpn.vpnPrefixes(tx, v).length;
  return {
    VpnConnectionId: v.id,
    CustomerGatewayId: v.customerGatewayId,
    VpnGatewayId: v.vpnGatewayId,
    TransitGatewayId: v.transitGatewayId,
    Category: "VPN",
    // AWS reports whether the connection is associated with its gateway; always, once created.
    GatewayAssociationState: v.state === "deleted" ? "not-associated" : "associated",
    State: v.state,
    Type: v.type,
    CustomerGatewayConfiguration:
      v.state === "deleted"
        ? undefined
        : customerGatewayConfiguration(v, tx.get("customerGateway", v.customerGatewayId)),
    Options: {
      StaticRoutesOnly: v.staticRoutesOnly,
      EnableAcceleration: false, // no accelerated (Global Accelerator) VPNs
      TunnelInsideIpVersion: "ipv4",
      LocalIpv4NetworkCidr: "0.0.0.0/0",
      RemoteIpv4NetworkCidr: "0.0.0.0/0",
      OutsideIpAddressType: "PublicIpv4",
      TunnelOptions: v.tunnelOutsideIps.map((ip) => ({ OutsideIpAddress: ip })),
    },
    Routes: v.routes.map((r) => ({ DestinationCidrBlock: r.cidr, Source: "Static", State: r.state })),
    VgwTelemetry:
      v.state === "deleted"
        ? []
        : v.tunnelOutsideIps.map((ip) => ({
            OutsideIpAddress: ip,
            Status: up ? "UP" : "DOWN",
            StatusMessage: up
              ? ""
              : site
                ? `privlink site vpn down ${site.id}`
                : "no site speaks from the customer gateway's IP",
            AcceptedRouteCount: up ? accepted : 0,
            LastStatusChange: new Date(v.createdAt),
          })),
    Tags: tagList(v.tags),
  };
}

const mine = <K extends "customerGateway" | "vpnGateway" | "vpnConnection">({ tx, ctx }: Call, kind: K) => {
  ensureRegion(tx, ctx);
  return [...tx.all(kind)].filter((x) => x.accountId === ctx.accountId && x.region === ctx.region);
};

export const vpnHandlers: HandlerTable = {
  CreateCustomerGateway: ({ tx, ctx, input }) => ({
    CustomerGateway: customerGatewayShape(
      vpn.createCustomerGateway(tx, ctx, {
        type: input.Type,
        bgpAsn:
          input.BgpAsn ?? (input.BgpAsnExtended === undefined ? undefined : Number(input.BgpAsnExtended)),
        ipAddress: input.IpAddress ?? input.PublicIp,
        deviceName: input.DeviceName,
        tags: specTags(input.TagSpecifications, "customer-gateway"),
      }),
    ),
  }),
  DeleteCustomerGateway: ({ tx, ctx, input }) => {
    vpn.deleteCustomerGateway(tx, ctx, need(input.CustomerGatewayId, "CustomerGatewayId"));
    return {};
  },
  DescribeCustomerGateways: (call) => {
    const page = describe(mine(call, "customerGateway"), call.input, {
      ids: call.input.CustomerGatewayIds,
      notFound: (id) =>
        new AwsError("InvalidCustomerGatewayID.NotFound", `The customerGateway ID '${id}' does not exist`),
      fields: {
        "customer-gateway-id": (c) => c.id,
        "bgp-asn": (c) => String(c.bgpAsn),
        "ip-address": (c) => c.ipAddress,
        state: (c) => c.state,
        type: (c) => c.type,
      },
    });
    return { CustomerGateways: page.items.map(customerGatewayShape) };
  },
  CreateVpnGateway: ({ tx, ctx, input }) => ({
    VpnGateway: vpnGatewayShape(
      vpn.createVpnGateway(tx, ctx, {
        type: input.Type,
        amazonSideAsn: input.AmazonSideAsn === undefined ? undefined : Number(input.AmazonSideAsn),
        availabilityZone: input.AvailabilityZone,
        tags: specTags(input.TagSpecifications, "vpn-gateway"),
      }),
    ),
  }),
  DeleteVpnGateway: ({ tx, ctx, input }) => {
    vpn.deleteVpnGateway(tx, ctx, need(input.VpnGatewayId, "VpnGatewayId"));
    return {};
  },
  AttachVpnGateway: ({ tx, ctx, input }) => {
    const a = vpn.attachVpnGateway(
      tx,
      ctx,
      need(input.VpnGatewayId, "VpnGatewayId"),
      need(input.VpcId, "VpcId"),
    );
    return { VpcAttachment: { VpcId: a.vpcId, State: a.state } };
  },
  DetachVpnGateway: ({ tx, ctx, input }) => {
    vpn.detachVpnGateway(tx, ctx, need(input.VpnGatewayId, "VpnGatewayId"), need(input.VpcId, "VpcId"));
    return {};
  },
  DescribeVpnGateways: (call) => {
    const page = describe(mine(call, "vpnGateway"), call.input, {
      ids: call.input.VpnGatewayIds,
      notFound: (id) =>
        new AwsError("InvalidVpnGatewayID.NotFound", `The vpnGateway ID '${id}' does not exist`),
      fields: {
        "vpn-gateway-id": (g) => g.id,
        "amazon-side-asn": (g) => String(g.amazonSideAsn),
        "attachment.vpc-id": (g) => g.attachments.map((a) => a.vpcId),
        "attachment.state": (g) => g.attachments.map((a) => a.state),
        state: (g) => g.state,
        type: (g) => g.type,
      },
    });
    return { VpnGateways: page.items.map(vpnGatewayShape) };
  },
  CreateVpnConnection: ({ tx, ctx, input }) => ({
    VpnConnection: vpnConnectionShape(
      tx,
      vpn.createVpnConnection(tx, ctx, {
        type: input.Type,
        customerGatewayId: input.CustomerGatewayId,
        vpnGatewayId: input.VpnGatewayId,
        transitGatewayId: input.TransitGatewayId,
        staticRoutesOnly: input.Options?.StaticRoutesOnly,
        tags: specTags(input.TagSpecifications, "vpn-connection"),
      }),
    ),
  }),
  DeleteVpnConnection: ({ tx, ctx, input }) => {
    vpn.deleteVpnConnection(tx, ctx, need(input.VpnConnectionId, "VpnConnectionId"));
    return {};
  },
  DescribeVpnConnections: (call) => {
    const page = describe(mine(call, "vpnConnection"), call.input, {
      ids: call.input.VpnConnectionIds,
      notFound: (id) =>
        new AwsError("InvalidVpnConnectionID.NotFound", `The vpnConnection ID '${id}' does not exist`),
      fields: {
        "vpn-connection-id": (v) => v.id,
        "customer-gateway-id": (v) => v.customerGatewayId,
        "vpn-gateway-id": (v) => v.vpnGatewayId,
        "transit-gateway-id": (v) => v.transitGatewayId,
        "option.static-routes-only": (v) => String(v.staticRoutesOnly),
        "route.destination-cidr-block": (v) => v.routes.map((r) => r.cidr),
        state: (v) => v.state,
        type: (v) => v.type,
      },
    });
    return { VpnConnections: page.items.map((v) => vpnConnectionShape(call.tx, v)) };
  },
  CreateVpnConnectionRoute: ({ tx, ctx, input }) => {
    vpn.createVpnConnectionRoute(
      tx,
      ctx,
      need(input.VpnConnectionId, "VpnConnectionId"),
      input.DestinationCidrBlock,
    );
    return {};
  },
  DeleteVpnConnectionRoute: ({ tx, ctx, input }) => {
    vpn.deleteVpnConnectionRoute(
      tx,
      ctx,
      need(input.VpnConnectionId, "VpnConnectionId"),
      input.DestinationCidrBlock,
    );
    return {};
  },
  EnableVgwRoutePropagation: ({ tx, ctx, input }) => {
    propagation.enableVgwRoutePropagation(
      tx,
      ctx,
      need(input.RouteTableId, "RouteTableId"),
      need(input.GatewayId, "GatewayId"),
    );
    return {};
  },
  DisableVgwRoutePropagation: ({ tx, ctx, input }) => {
    propagation.disableVgwRoutePropagation(
      tx,
      ctx,
      need(input.RouteTableId, "RouteTableId"),
      need(input.GatewayId, "GatewayId"),
    );
    return {};
  },
};
