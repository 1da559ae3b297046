import type { Fixture } from "./shape-fixtures.js";
import type { World } from "./world.js";

/**
 * Response-shape fixtures for the connectivity wave: VPN, transit gateways, peering, network
 * ACLs, flow logs and Network Insights (EC2), Route 53 Resolver and Direct Connect. They use the
 * world's connectivity resources (World.buildConnectivity) and run in the order written here.
 */

const ec2 = (w: World, action: string, input: Record<string, unknown>) => w.call("ec2", action, input);

/** A new VPC with one subnet, for attachments that must not touch the world's VPC. */
async function vpcWithSubnet(w: World, second: number): Promise<{ vpc: string; subnet: string }> {
  const vpc = await w.fresh.vpc(`10.${second}.0.0/16`);
  const subnet = (
    await ec2(w, "CreateSubnet", {
      VpcId: vpc,
      CidrBlock: `10.${second}.1.0/24`,
      AvailabilityZone: "us-east-1a",
    })
  ).Subnet.SubnetId as string;
  return { vpc, subnet };
}

async function attachedVgw(w: World, second: number): Promise<string> {
  const vgw = (await ec2(w, "CreateVpnGateway", { Type: "ipsec.1" })).VpnGateway.VpnGatewayId as string;
  await ec2(w, "AttachVpnGateway", { VpnGatewayId: vgw, VpcId: await w.fresh.vpc(`10.${second}.0.0/16`) });
  return vgw;
}

async function tgwAttachment(w: World, second: number): Promise<string> {
  const { vpc, subnet } = await vpcWithSubnet(w, second);
  const id = (
    await ec2(w, "CreateTransitGatewayVpcAttachment", {
      TransitGatewayId: w.transitGateway,
      VpcId: vpc,
      SubnetIds: [subnet],
    })
  ).TransitGatewayVpcAttachment.TransitGatewayAttachmentId as string;
  await w.attachmentAvailable(id);
  return id;
}

const flowLogInput = (resource: string, type: string, group: string) => ({
  ResourceIds: [resource],
  ResourceType: type,
  TrafficType: "REJECT",
  LogDestinationType: "cloud-watch-logs",
  LogGroupName: group,
  DeliverLogsPermissionArn: "arn:aws:iam::000000000000:role/flow-logs",
});

const peering = async (w: World, second: number) =>
  (
    await ec2(w, "CreateVpcPeeringConnection", {
      VpcId: w.vpc,
      PeerVpcId: await w.fresh.vpc(`10.${second}.0.0/16`),
    })
  ).VpcPeeringConnection.VpcPeeringConnectionId as string;

export const EC2_CONNECTIVITY: Record<string, Fixture> = {
  CreateVpcPeeringConnection: async (w) => ({ VpcId: w.vpc, PeerVpcId: await w.fresh.vpc("10.73.0.0/16") }),
  AcceptVpcPeeringConnection: async (w) => ({ VpcPeeringConnectionId: await peering(w, 74) }),
  RejectVpcPeeringConnection: async (w) => ({ VpcPeeringConnectionId: await peering(w, 75) }),
  DeleteVpcPeeringConnection: async (w) => ({ VpcPeeringConnectionId: await peering(w, 76) }),
  ModifyVpcPeeringConnectionOptions: (w) => ({
    VpcPeeringConnectionId: w.peering,
    RequesterPeeringConnectionOptions: { AllowDnsResolutionFromRemoteVpc: true },
  }),
  DescribeVpcPeeringConnections: (w) => ({ VpcPeeringConnectionIds: [w.peering] }),
  DescribeStaleSecurityGroups: (w) => ({ VpcId: w.vpc }),

  CreateNetworkAcl: (w) => ({
    VpcId: w.vpc,
    TagSpecifications: [{ ResourceType: "network-acl", Tags: [{ Key: "k", Value: "v" }] }],
  }),
  DeleteNetworkAcl: async (w) => ({
    NetworkAclId: (await ec2(w, "CreateNetworkAcl", { VpcId: w.vpc })).NetworkAcl.NetworkAclId,
  }),
  CreateNetworkAclEntry: (w) => ({
    NetworkAclId: w.networkAcl,
    RuleNumber: 200,
    Protocol: "-1",
    RuleAction: "deny",
    Egress: true,
    CidrBlock: "0.0.0.0/0",
  }),
  ReplaceNetworkAclEntry: (w) => ({
    NetworkAclId: w.networkAcl,
    RuleNumber: 100,
    Protocol: "6",
    RuleAction: "allow",
    Egress: false,
    CidrBlock: "10.0.0.0/8",
    PortRange: { From: 443, To: 443 },
  }),
  DeleteNetworkAclEntry: (w) => ({ NetworkAclId: w.networkAcl, RuleNumber: 200, Egress: true }),
  ReplaceNetworkAclAssociation: async (w) => {
    const subnet = await w.fresh.subnet("10.0.7.0/24");
    const acls = await ec2(w, "DescribeNetworkAcls", {
      Filters: [{ Name: "association.subnet-id", Values: [subnet] }],
    });
    const assoc = acls.NetworkAcls[0].Associations.find((a: { SubnetId: string }) => a.SubnetId === subnet);
    return { AssociationId: assoc.NetworkAclAssociationId, NetworkAclId: w.networkAcl };
  },
  DescribeNetworkAcls: (w) => ({ NetworkAclIds: [w.networkAcl] }),

  CreateFlowLogs: (w) => flowLogInput(w.subnetA, "Subnet", "/shape/flow-subnet"),
  DescribeFlowLogs: (w) => ({ FlowLogIds: [w.flowLog] }),
  DeleteFlowLogs: async (w) => ({
    FlowLogIds: (await ec2(w, "CreateFlowLogs", flowLogInput(w.eni, "NetworkInterface", "/shape/flow-eni")))
      .FlowLogIds,
  }),

  CreateNetworkInsightsPath: (w) => ({
    Source: w.instance,
    DestinationIp: "10.0.2.10",
    Protocol: "tcp",
    DestinationPort: 5432,
    TagSpecifications: [{ ResourceType: "network-insights-path", Tags: [{ Key: "k", Value: "v" }] }],
  }),
  DescribeNetworkInsightsPaths: (w) => ({ NetworkInsightsPathIds: [w.insightsPath] }),
  DeleteNetworkInsightsPath: async (w) => ({
    NetworkInsightsPathId: (
      await ec2(w, "CreateNetworkInsightsPath", { Source: w.instance, Destination: w.eni, Protocol: "tcp" })
    ).NetworkInsightsPath.NetworkInsightsPathId,
  }),
  StartNetworkInsightsAnalysis: (w) => ({ NetworkInsightsPathId: w.insightsPath }),
  DescribeNetworkInsightsAnalyses: (w) => ({ NetworkInsightsAnalysisIds: [w.insightsAnalysis] }),
  DeleteNetworkInsightsAnalysis: async (w) => ({
    NetworkInsightsAnalysisId: (
      await ec2(w, "StartNetworkInsightsAnalysis", { NetworkInsightsPathId: w.insightsPath })
    ).NetworkInsightsAnalysis.NetworkInsightsAnalysisId,
  }),

  CreateCustomerGateway: () => ({ Type: "ipsec.1", IpAddress: "198.51.100.20", BgpAsn: 65010 }),
  DeleteCustomerGateway: async (w) => ({
    CustomerGatewayId: (
      await ec2(w, "CreateCustomerGateway", { Type: "ipsec.1", IpAddress: "198.51.100.21" })
    ).CustomerGateway.CustomerGatewayId,
  }),
  DescribeCustomerGateways: (w) => ({ CustomerGatewayIds: [w.customerGateway] }),
  CreateVpnGateway: () => ({ Type: "ipsec.1", AmazonSideAsn: 64512 }),
  DeleteVpnGateway: async (w) => ({
    VpnGatewayId: (await ec2(w, "CreateVpnGateway", { Type: "ipsec.1" })).VpnGateway.VpnGatewayId,
  }),
  AttachVpnGateway: async (w) => ({
    VpnGatewayId: (await ec2(w, "CreateVpnGateway", { Type: "ipsec.1" })).VpnGateway.VpnGatewayId,
    VpcId: await w.fresh.vpc("10.77.0.0/16"),
  }),
  DetachVpnGateway: async (w) => {
    const vgw = (await ec2(w, "CreateVpnGateway", { Type: "ipsec.1" })).VpnGateway.VpnGatewayId;
    const vpc = await w.fresh.vpc("10.78.0.0/16");
    await ec2(w, "AttachVpnGateway", { VpnGatewayId: vgw, VpcId: vpc });
    return { VpnGatewayId: vgw, VpcId: vpc };
  },
  DescribeVpnGateways: (w) => ({ VpnGatewayIds: [w.vpnGateway] }),
  CreateVpnConnection: async (w) => ({
    Type: "ipsec.1",
    CustomerGatewayId: w.customerGateway,
    VpnGatewayId: await attachedVgw(w, 79),
    Options: { StaticRoutesOnly: true },
  }),
  DeleteVpnConnection: async (w) => ({
    VpnConnectionId: (
      await ec2(w, "CreateVpnConnection", {
        Type: "ipsec.1",
        CustomerGatewayId: w.customerGateway,
        VpnGatewayId: await attachedVgw(w, 82),
      })
    ).VpnConnection.VpnConnectionId,
  }),
  DescribeVpnConnections: (w) => ({ VpnConnectionIds: [w.vpnConnection] }),
  CreateVpnConnectionRoute: (w) => ({
    VpnConnectionId: w.vpnConnection,
    DestinationCidrBlock: "172.30.0.0/16",
  }),
  DeleteVpnConnectionRoute: (w) => ({
    VpnConnectionId: w.vpnConnection,
    DestinationCidrBlock: "172.30.0.0/16",
  }),
  EnableVgwRoutePropagation: (w) => ({ RouteTableId: w.rtb, GatewayId: w.vpnGateway }),
  DisableVgwRoutePropagation: (w) => ({ RouteTableId: w.rtb, GatewayId: w.vpnGateway }),

  CreateTransitGateway: () => ({
    Description: "new",
    TagSpecifications: [{ ResourceType: "transit-gateway", Tags: [{ Key: "k", Value: "v" }] }],
  }),
  ModifyTransitGateway: (w) => ({ TransitGatewayId: w.transitGateway, Description: "modified" }),
  DeleteTransitGateway: async (w) => {
    const id = (await ec2(w, "CreateTransitGateway", {})).TransitGateway.TransitGatewayId;
    await w.until(
      async () =>
        (await ec2(w, "DescribeTransitGateways", { TransitGatewayIds: [id] })).TransitGateways[0].State ===
        "available",
    );
    return { TransitGatewayId: id };
  },
  DescribeTransitGateways: (w) => ({ TransitGatewayIds: [w.transitGateway] }),
  CreateTransitGatewayVpcAttachment: async (w) => {
    const { vpc, subnet } = await vpcWithSubnet(w, 83);
    return { TransitGatewayId: w.transitGateway, VpcId: vpc, SubnetIds: [subnet] };
  },
  ModifyTransitGatewayVpcAttachment: (w) => ({
    TransitGatewayAttachmentId: w.tgwAttachment,
    AddSubnetIds: [w.subnetB],
  }),
  DeleteTransitGatewayVpcAttachment: async (w) => ({
    TransitGatewayAttachmentId: await tgwAttachment(w, 84),
  }),
  AcceptTransitGatewayVpcAttachment: async (w) => ({
    TransitGatewayAttachmentId: await w.foreignAttachment("10.80.0.0/16"),
  }),
  RejectTransitGatewayVpcAttachment: async (w) => ({
    TransitGatewayAttachmentId: await w.foreignAttachment("10.81.0.0/16"),
  }),
  DescribeTransitGatewayVpcAttachments: (w) => ({ TransitGatewayAttachmentIds: [w.tgwAttachment] }),
  DescribeTransitGatewayAttachments: (w) => ({ TransitGatewayAttachmentIds: [w.tgwAttachment] }),
  CreateTransitGatewayRouteTable: (w) => ({ TransitGatewayId: w.transitGateway }),
  DeleteTransitGatewayRouteTable: async (w) => ({
    TransitGatewayRouteTableId: (
      await ec2(w, "CreateTransitGatewayRouteTable", { TransitGatewayId: w.transitGateway })
    ).TransitGatewayRouteTable.TransitGatewayRouteTableId,
  }),
  DescribeTransitGatewayRouteTables: (w) => ({ TransitGatewayRouteTableIds: [w.tgwRouteTable] }),
  AssociateTransitGatewayRouteTable: async (w) => {
    // A new attachment joins the default route table; it must leave it to join another.
    const id = await tgwAttachment(w, 85);
    const current = async () =>
      (await ec2(w, "DescribeTransitGatewayAttachments", { TransitGatewayAttachmentIds: [id] }))
        .TransitGatewayAttachments[0].Association;
    const assoc = await current();
    if (assoc?.TransitGatewayRouteTableId) {
      await ec2(w, "DisassociateTransitGatewayRouteTable", {
        TransitGatewayRouteTableId: assoc.TransitGatewayRouteTableId,
        TransitGatewayAttachmentId: id,
      });
      await w.until(async () => !(await current()));
    }
    return { TransitGatewayRouteTableId: w.tgwRouteTable, TransitGatewayAttachmentId: id };
  },
  GetTransitGatewayRouteTableAssociations: (w) => ({ TransitGatewayRouteTableId: w.tgwRouteTable }),
  DisassociateTransitGatewayRouteTable: async (w) => {
    const a = await ec2(w, "GetTransitGatewayRouteTableAssociations", {
      TransitGatewayRouteTableId: w.tgwRouteTable,
    });
    return {
      TransitGatewayRouteTableId: w.tgwRouteTable,
      TransitGatewayAttachmentId: a.Associations[0].TransitGatewayAttachmentId,
    };
  },
  EnableTransitGatewayRouteTablePropagation: (w) => ({
    TransitGatewayRouteTableId: w.tgwRouteTable,
    TransitGatewayAttachmentId: w.tgwAttachment,
  }),
  GetTransitGatewayRouteTablePropagations: (w) => ({ TransitGatewayRouteTableId: w.tgwRouteTable }),
  GetTransitGatewayAttachmentPropagations: (w) => ({ TransitGatewayAttachmentId: w.tgwAttachment }),
  DisableTransitGatewayRouteTablePropagation: (w) => ({
    TransitGatewayRouteTableId: w.tgwRouteTable,
    TransitGatewayAttachmentId: w.tgwAttachment,
  }),
  CreateTransitGatewayRoute: (w) => ({
    DestinationCidrBlock: "10.90.0.0/16",
    TransitGatewayRouteTableId: w.tgwRouteTable,
    TransitGatewayAttachmentId: w.tgwAttachment,
  }),
  ReplaceTransitGatewayRoute: (w) => ({
    DestinationCidrBlock: "10.90.0.0/16",
    TransitGatewayRouteTableId: w.tgwRouteTable,
    Blackhole: true,
  }),
  SearchTransitGatewayRoutes: (w) => ({
    TransitGatewayRouteTableId: w.tgwRouteTable,
    Filters: [{ Name: "type", Values: ["static"] }],
  }),
  DeleteTransitGatewayRoute: (w) => ({
    DestinationCidrBlock: "10.90.0.0/16",
    TransitGatewayRouteTableId: w.tgwRouteTable,
  }),
};

const resolverEndpoint = (w: World, direction: string) => ({
  CreatorRequestId: w.unique("endpoint"),
  Direction: direction,
  SecurityGroupIds: [w.sg],
  IpAddresses: [{ SubnetId: w.subnetA }, { SubnetId: w.subnetB }],
});

const resolverRule = (w: World, domain: string) => ({
  CreatorRequestId: w.unique("rule"),
  RuleType: "FORWARD",
  DomainName: domain,
  ResolverEndpointId: w.resolverEndpoint,
  TargetIps: [{ Ip: "172.30.0.3", Port: 53 }],
});

export const ROUTE53RESOLVER: Record<string, Fixture> = {
  CreateResolverEndpoint: (w) => ({ ...resolverEndpoint(w, "INBOUND"), Name: "inbound" }),
  GetResolverEndpoint: (w) => ({ ResolverEndpointId: w.resolverEndpoint }),
  UpdateResolverEndpoint: (w) => ({ ResolverEndpointId: w.resolverEndpoint, Name: "renamed" }),
  DeleteResolverEndpoint: async (w) => ({
    ResolverEndpointId: (
      await w.call("route53resolver", "CreateResolverEndpoint", resolverEndpoint(w, "INBOUND"))
    ).ResolverEndpoint.Id,
  }),
  ListResolverEndpoints: () => ({}),
  ListResolverEndpointIpAddresses: (w) => ({ ResolverEndpointId: w.resolverEndpoint }),
  CreateResolverRule: (w) => ({ ...resolverRule(w, "branch.example"), Name: "branch" }),
  GetResolverRule: (w) => ({ ResolverRuleId: w.resolverRule }),
  DeleteResolverRule: async (w) => ({
    ResolverRuleId: (await w.call("route53resolver", "CreateResolverRule", resolverRule(w, "gone.example")))
      .ResolverRule.Id,
  }),
  ListResolverRules: () => ({}),
  AssociateResolverRule: (w) => ({ ResolverRuleId: w.resolverRule, VPCId: w.vpc, Name: "corp" }),
  GetResolverRuleAssociation: async (w) => ({
    ResolverRuleAssociationId: (await w.call("route53resolver", "ListResolverRuleAssociations", {}))
      .ResolverRuleAssociations[0].Id,
  }),
  ListResolverRuleAssociations: () => ({}),
  DisassociateResolverRule: (w) => ({ ResolverRuleId: w.resolverRule, VPCId: w.vpc }),
};

const dx = (w: World, action: string, input: Record<string, unknown>) =>
  w.call("directconnect", action, input);

const newDxGateway = async (w: World) =>
  (
    await dx(w, "CreateDirectConnectGateway", {
      directConnectGatewayName: w.unique("dxgw"),
      amazonSideAsn: 64700,
    })
  ).directConnectGateway.directConnectGatewayId as string;

const transitVif = async (w: World, vlan: number) => ({
  connectionId: w.dxConnection,
  newTransitVirtualInterface: {
    virtualInterfaceName: w.unique("transit"),
    vlan,
    asn: 65002,
    directConnectGatewayId: await newDxGateway(w),
  },
});

const dxOwner = async (w: World) =>
  (await dx(w, "DescribeDirectConnectGateways", { directConnectGatewayId: w.dxGateway }))
    .directConnectGateways[0].ownerAccount as string;

/** The association of the world's DX gateway with its VGW, once the lifecycle has made it. */
const dxAssociation = async (w: World) => {
  for (let i = 0; i < 200; i++) {
    const a = (
      await dx(w, "DescribeDirectConnectGatewayAssociations", { directConnectGatewayId: w.dxGateway })
    ).directConnectGatewayAssociations[0];
    if (a?.associationState === "associated") return a.associationId as string;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("the DX gateway association never became associated");
};

const proposal = async (w: World, cidr: string) => {
  await dxAssociation(w);
  return {
    directConnectGatewayId: w.dxGateway,
    directConnectGatewayOwnerAccount: await dxOwner(w),
    gatewayId: w.vpnGateway,
    addAllowedPrefixesToDirectConnectGateway: [{ cidr }],
  };
};

export const DIRECTCONNECT: Record<string, Fixture> = {
  DescribeLocations: () => ({}),
  CreateConnection: (w) => ({ location: w.site, bandwidth: "1Gbps", connectionName: w.unique("dx") }),
  DescribeConnections: (w) => ({ connectionId: w.dxConnection }),
  DeleteConnection: async (w) => ({
    connectionId: (
      await dx(w, "CreateConnection", { location: w.site, bandwidth: "1Gbps", connectionName: "gone" })
    ).connectionId,
  }),
  CreatePrivateVirtualInterface: (w) => ({
    connectionId: w.dxConnection,
    newPrivateVirtualInterface: {
      virtualInterfaceName: "private-2",
      vlan: 101,
      asn: 65001,
      directConnectGatewayId: w.dxGateway,
    },
  }),
  CreateTransitVirtualInterface: (w) => transitVif(w, 102),
  DescribeVirtualInterfaces: (w) => ({ connectionId: w.dxConnection }),
  DeleteVirtualInterface: async (w) => ({
    virtualInterfaceId: (
      await dx(w, "CreatePrivateVirtualInterface", {
        connectionId: w.dxConnection,
        newPrivateVirtualInterface: {
          virtualInterfaceName: "gone",
          vlan: 103,
          asn: 65001,
          directConnectGatewayId: w.dxGateway,
        },
      })
    ).virtualInterfaceId,
  }),
  ConfirmPrivateVirtualInterface: (w) => ({
    virtualInterfaceId: w.dxVif,
    directConnectGatewayId: w.dxGateway,
  }),
  ConfirmTransitVirtualInterface: async (w) => {
    const v = (await dx(w, "CreateTransitVirtualInterface", await transitVif(w, 104))).virtualInterface;
    return { virtualInterfaceId: v.virtualInterfaceId, directConnectGatewayId: v.directConnectGatewayId };
  },
  DescribeVirtualGateways: () => ({}),
  CreateDirectConnectGateway: (w) => ({ directConnectGatewayName: w.unique("dxgw"), amazonSideAsn: 64800 }),
  DescribeDirectConnectGateways: (w) => ({ directConnectGatewayId: w.dxGateway }),
  DeleteDirectConnectGateway: async (w) => ({ directConnectGatewayId: await newDxGateway(w) }),
  CreateDirectConnectGatewayAssociation: (w) => ({
    directConnectGatewayId: w.dxGateway,
    gatewayId: w.vpnGateway,
    addAllowedPrefixesToDirectConnectGateway: [{ cidr: "10.0.0.0/16" }],
  }),
  DescribeDirectConnectGatewayAssociations: (w) => ({ directConnectGatewayId: w.dxGateway }),
  UpdateDirectConnectGatewayAssociation: async (w) => ({
    associationId: await dxAssociation(w),
    addAllowedPrefixesToDirectConnectGateway: [{ cidr: "10.0.0.0/8" }],
  }),
  // The world's own DX gateway and VGW: a proposal to change the association's prefixes.
  CreateDirectConnectGatewayAssociationProposal: async (w) => proposal(w, "172.16.0.0/12"),
  DescribeDirectConnectGatewayAssociationProposals: (w) => ({ directConnectGatewayId: w.dxGateway }),
  AcceptDirectConnectGatewayAssociationProposal: async (w) => ({
    directConnectGatewayId: w.dxGateway,
    proposalId: (
      await dx(w, "DescribeDirectConnectGatewayAssociationProposals", { directConnectGatewayId: w.dxGateway })
    ).directConnectGatewayAssociationProposals.find((p: any) => p.proposalState === "requested").proposalId,
    associatedGatewayOwnerAccount: await dxOwner(w),
  }),
  DeleteDirectConnectGatewayAssociationProposal: async (w) => ({
    proposalId: (
      await dx(w, "CreateDirectConnectGatewayAssociationProposal", await proposal(w, "192.168.0.0/16"))
    ).directConnectGatewayAssociationProposal.proposalId,
  }),
  DescribeDirectConnectGatewayAttachments: (w) => ({ directConnectGatewayId: w.dxGateway }),
  DeleteDirectConnectGatewayAssociation: (w) => ({
    directConnectGatewayId: w.dxGateway,
    virtualGatewayId: w.vpnGateway,
  }),
};
