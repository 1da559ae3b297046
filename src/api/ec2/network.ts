import { AwsError } from "../../cloud/errors.js";
import * as igw from "../../cloud/internet-gateway.js";
import type { FilterFields } from "../../cloud/query.js";
import * as rt from "../../cloud/route-table.js";
import * as subnet from "../../cloud/subnet.js";
import type { Kinds, RouteTarget, Vpc } from "../../cloud/types.js";
import * as vpc from "../../cloud/vpc.js";
import { type Call, candidates, describe, type HandlerTable, need, specTags, stateRead } from "../handler.js";
import { internetGatewayShape, listedVpcShape, routeTableShape, subnetShape, vpcShape } from "./shapes.js";

/** The filter whose one value reads an index bucket of subnets: filter name → the field it reads. */
const SUBNET_INDEXED = { "vpc-id": "vpcId" };

/** The filters DescribeVpcs knows, made once (not a closure per filter per request). */
const vpcFields: FilterFields<Vpc> = {
  "vpc-id": (v) => v.id,
  cidr: (v) => v.cidrBlocks[0]!.cidr,
  "cidr-block": (v) => v.cidrBlocks[0]!.cidr,
  "cidr-block-association.cidr-block": (v) => v.cidrBlocks.map((b) => b.cidr),
  "cidr-block-association.association-id": (v) => v.cidrBlocks.map((b) => b.associationId),
  "cidr-block-association.state": (v) => v.cidrBlocks.map((b) => b.state),
  "dhcp-options-id": (v) => v.dhcpOptionsId,
  "is-default": (v) => String(v.isDefault),
  "owner-id": (v) => v.accountId,
  state: () => "available",
};

/**
 * The caller's objects of `kind` a Describe considers (the region made first: it may write the
 * default VPC), read from an index bucket when a filter pins one (`candidates`).
 */
const mine = <K extends "vpc" | "subnet" | "routeTable" | "internetGateway">(
  { tx, ctx, input }: Call,
  kind: K,
  indexed: Record<string, string>,
  ids: readonly string[] | undefined,
): { items: Kinds[K][]; pinned?: string } => {
  vpc.ensureRegion(tx, ctx);
  const from = candidates(tx, kind, input, indexed, ids);
  const items: Kinds[K][] = [];
  for (const x of from.items) if (x.accountId === ctx.accountId && x.region === ctx.region) items.push(x);
  return { items, pinned: from.pinned };
};

/** No index by filter: a kind's tags may still pin (`candidates`). */
const NO_FIELD = {};

function routeTarget(input: Record<string, string | undefined>): RouteTarget | undefined {
  if (input.GatewayId) return { kind: "gateway", id: input.GatewayId };
  if (input.NatGatewayId) return { kind: "nat", id: input.NatGatewayId };
  if (input.VpcPeeringConnectionId) return { kind: "peering", id: input.VpcPeeringConnectionId };
  if (input.TransitGatewayId) return { kind: "transit", id: input.TransitGatewayId };
  if (input.NetworkInterfaceId) return { kind: "eni", id: input.NetworkInterfaceId };
  if (input.VpcEndpointId) return { kind: "gateway", id: input.VpcEndpointId };
  return undefined;
}

export const networkHandlers: HandlerTable = {
  CreateVpc: ({ tx, ctx, input }) => {
    vpc.ensureRegion(tx, ctx);
    return {
      Vpc: vpcShape(
        vpc.createVpc(tx, ctx, {
          cidr: input.CidrBlock,
          tenancy: input.InstanceTenancy,
          tags: specTags(input.TagSpecifications, "vpc"),
        }),
      ),
    };
  },
  DeleteVpc: ({ tx, ctx, input }) => {
    vpc.deleteVpc(tx, ctx, need(input.VpcId, "VpcId"));
    return {};
  },
  DescribeVpcs: stateRead((call) => {
    const { tx, input } = call;
    const from = mine(call, "vpc", NO_FIELD, input.VpcIds);
    const page = describe(from.items, input, {
      ids: input.VpcIds,
      notFound: (id) => new AwsError("InvalidVpcID.NotFound", `The vpc ID '${id}' does not exist`),
      fields: vpcFields,
      pinned: from.pinned,
    });
    return { Vpcs: page.items.map((v) => listedVpcShape(tx, v)), NextToken: page.nextToken };
  }),
  DescribeVpcAttribute: ({ tx, ctx, input }) => {
    const v = vpc.getVpc(tx, ctx, need(input.VpcId, "VpcId"));
    const attr = need<string>(input.Attribute, "Attribute");
    if (attr === "enableDnsSupport") return { VpcId: v.id, EnableDnsSupport: { Value: v.dnsSupport } };
    if (attr === "enableDnsHostnames") return { VpcId: v.id, EnableDnsHostnames: { Value: v.dnsHostnames } };
    if (attr === "enableNetworkAddressUsageMetrics")
      return { VpcId: v.id, EnableNetworkAddressUsageMetrics: { Value: false } };
    throw new AwsError(
      "InvalidParameterValue",
      `Value (${attr}) for parameter attribute is invalid. Unknown attribute.`,
    );
  },
  ModifyVpcAttribute: ({ tx, ctx, input }) => {
    vpc.modifyVpcAttribute(tx, ctx, need(input.VpcId, "VpcId"), {
      dnsSupport: input.EnableDnsSupport?.Value,
      dnsHostnames: input.EnableDnsHostnames?.Value,
    });
    return {};
  },
  AssociateVpcCidrBlock: ({ tx, ctx, input }) => {
    const { vpc: v, associationId } = vpc.associateVpcCidrBlock(
      tx,
      ctx,
      need(input.VpcId, "VpcId"),
      input.CidrBlock,
    );
    const block = v.cidrBlocks.find((b) => b.associationId === associationId)!;
    return {
      VpcId: v.id,
      CidrBlockAssociation: {
        AssociationId: associationId,
        CidrBlock: block.cidr,
        CidrBlockState: { State: "associating" },
      },
    };
  },

  CreateSubnet: ({ tx, ctx, input }) => {
    vpc.ensureRegion(tx, ctx);
    const s = subnet.createSubnet(tx, ctx, {
      vpcId: input.VpcId,
      cidr: input.CidrBlock,
      az: input.AvailabilityZone,
      azId: input.AvailabilityZoneId,
      tags: specTags(input.TagSpecifications, "subnet"),
    });
    return { Subnet: subnetShape(tx, s) };
  },
  DeleteSubnet: ({ tx, ctx, input }) => {
    subnet.deleteSubnet(tx, ctx, need(input.SubnetId, "SubnetId"));
    return {};
  },
  ModifySubnetAttribute: ({ tx, ctx, input }) => {
    const value = (a: { Value?: boolean } | undefined) => a?.Value;
    subnet.modifySubnetAttribute(tx, ctx, input.SubnetId, {
      MapPublicIpOnLaunch: value(input.MapPublicIpOnLaunch),
      AssignIpv6AddressOnCreation: value(input.AssignIpv6AddressOnCreation),
      MapCustomerOwnedIpOnLaunch: value(input.MapCustomerOwnedIpOnLaunch),
      CustomerOwnedIpv4Pool: input.CustomerOwnedIpv4Pool,
      EnableDns64: value(input.EnableDns64),
      PrivateDnsHostnameTypeOnLaunch: input.PrivateDnsHostnameTypeOnLaunch,
      EnableResourceNameDnsARecordOnLaunch: value(input.EnableResourceNameDnsARecordOnLaunch),
      EnableResourceNameDnsAAAARecordOnLaunch: value(input.EnableResourceNameDnsAAAARecordOnLaunch),
      EnableLniAtDeviceIndex: input.EnableLniAtDeviceIndex,
      DisableLniAtDeviceIndex: input.DisableLniAtDeviceIndex,
    });
    return {};
  },
  DescribeSubnets: stateRead((call) => {
    const { tx, input } = call;
    const from = mine(call, "subnet", SUBNET_INDEXED, input.SubnetIds);
    const page = describe(from.items, input, {
      ids: input.SubnetIds,
      notFound: (id) => new AwsError("InvalidSubnetID.NotFound", `The subnet ID '${id}' does not exist`),
      fields: {
        "subnet-id": (s) => s.id,
        "vpc-id": (s) => s.vpcId,
        "cidr-block": (s) => s.cidr,
        cidr: (s) => s.cidr,
        cidrBlock: (s) => s.cidr,
        "availability-zone": (s) => s.az,
        availabilityZone: (s) => s.az,
        "availability-zone-id": (s) => s.azId,
        "default-for-az": (s) => String(s.defaultForAz),
        "map-public-ip-on-launch": (s) => String(s.mapPublicIpOnLaunch),
        "owner-id": (s) => s.accountId,
        state: () => "available",
        "subnet-arn": (s) => `arn:aws:ec2:${s.region}:${s.accountId}:subnet/${s.id}`,
        "available-ip-address-count": (s) => String(subnet.availableIpCount(tx, s)),
      },
      pinned: from.pinned,
    });
    return { Subnets: page.items.map((s) => subnetShape(tx, s)), NextToken: page.nextToken };
  }),

  CreateRouteTable: ({ tx, ctx, input }) => ({
    RouteTable: routeTableShape(
      rt.createRouteTable(tx, ctx, {
        vpcId: input.VpcId,
        tags: specTags(input.TagSpecifications, "route-table"),
      }),
    ),
  }),
  DeleteRouteTable: ({ tx, ctx, input }) => {
    rt.deleteRouteTable(tx, ctx, need(input.RouteTableId, "RouteTableId"));
    return {};
  },
  DescribeRouteTables: (call) => {
    const { input } = call;
    const page = describe(mine(call, "routeTable", NO_FIELD, input.RouteTableIds).items, input, {
      ids: input.RouteTableIds,
      notFound: (id) =>
        new AwsError("InvalidRouteTableID.NotFound", `The routeTable ID '${id}' does not exist`),
      fields: {
        "route-table-id": (r) => r.id,
        "vpc-id": (r) => r.vpcId,
        "owner-id": (r) => r.accountId,
        "association.main": (r) => String(r.associations.some((a) => a.main)),
        "association.subnet-id": (r) => r.associations.map((a) => a.subnetId),
        "association.route-table-association-id": (r) => r.associations.map((a) => a.id),
        "association.route-table-id": (r) => (r.associations.length ? r.id : undefined),
        "route.destination-cidr-block": (r) => r.routes.map((x) => x.destinationCidr),
        "route.destination-prefix-list-id": (r) => r.routes.map((x) => x.destinationPrefixListId),
        "route.gateway-id": (r) =>
          r.routes.map((x) =>
            x.target.kind === "local" ? "local" : x.target.kind === "gateway" ? x.target.id : undefined,
          ),
        "route.nat-gateway-id": (r) =>
          r.routes.map((x) => (x.target.kind === "nat" ? x.target.id : undefined)),
        "route.transit-gateway-id": (r) =>
          r.routes.map((x) => (x.target.kind === "transit" ? x.target.id : undefined)),
        "route.vpc-peering-connection-id": (r) =>
          r.routes.map((x) => (x.target.kind === "peering" ? x.target.id : undefined)),
        "route.origin": (r) => r.routes.map((x) => x.origin),
        "route.state": (r) => r.routes.map((x) => x.state),
      },
    });
    return { RouteTables: page.items.map(routeTableShape), NextToken: page.nextToken };
  },
  AssociateRouteTable: ({ tx, ctx, input }) => ({
    AssociationId: rt.associateRouteTable(tx, ctx, need(input.RouteTableId, "RouteTableId"), input.SubnetId),
    AssociationState: { State: "associated" },
  }),
  DisassociateRouteTable: ({ tx, ctx, input }) => {
    rt.disassociateRouteTable(tx, ctx, need(input.AssociationId, "AssociationId"));
    return {};
  },
  CreateRoute: ({ tx, ctx, input }) => {
    rt.createRoute(tx, ctx, need(input.RouteTableId, "RouteTableId"), {
      destinationCidr: input.DestinationCidrBlock,
      destinationPrefixListId: input.DestinationPrefixListId,
      target: routeTarget(input),
    });
    return { Return: true };
  },
  DeleteRoute: ({ tx, ctx, input }) => {
    rt.deleteRoute(tx, ctx, need(input.RouteTableId, "RouteTableId"), {
      destinationCidr: input.DestinationCidrBlock,
      destinationPrefixListId: input.DestinationPrefixListId,
    });
    return {};
  },

  CreateInternetGateway: ({ tx, ctx, input }) => ({
    InternetGateway: internetGatewayShape(
      igw.createInternetGateway(tx, ctx, specTags(input.TagSpecifications, "internet-gateway")),
    ),
  }),
  AttachInternetGateway: ({ tx, ctx, input }) => {
    igw.attachInternetGateway(
      tx,
      ctx,
      need(input.InternetGatewayId, "InternetGatewayId"),
      need(input.VpcId, "VpcId"),
    );
    return {};
  },
  DetachInternetGateway: ({ tx, ctx, input }) => {
    igw.detachInternetGateway(
      tx,
      ctx,
      need(input.InternetGatewayId, "InternetGatewayId"),
      need(input.VpcId, "VpcId"),
    );
    return {};
  },
  DeleteInternetGateway: ({ tx, ctx, input }) => {
    igw.deleteInternetGateway(tx, ctx, need(input.InternetGatewayId, "InternetGatewayId"));
    return {};
  },
  DescribeInternetGateways: (call) => {
    const { input } = call;
    const page = describe(mine(call, "internetGateway", NO_FIELD, input.InternetGatewayIds).items, input, {
      ids: input.InternetGatewayIds,
      notFound: (id) =>
        new AwsError("InvalidInternetGatewayID.NotFound", `The internetGateway ID '${id}' does not exist`),
      fields: {
        "internet-gateway-id": (g) => g.id,
        "attachment.vpc-id": (g) => g.attachments.map((a) => a.vpcId),
        "attachment.state": (g) => g.attachments.map((a) => a.state),
        "owner-id": (g) => g.accountId,
      },
    });
    return { InternetGateways: page.items.map(internetGatewayShape), NextToken: page.nextToken };
  },
};
