import type { Fixture } from "./isolation-fixtures.js";

/** Isolation rows for EC2's VPN, peering, transit gateway, NACL, flow log and Network Insights actions. */

const list: Fixture = { input: () => ({}), list: true };
const VPC_NF = "InvalidVpcID.NotFound";
const CGW_NF = "InvalidCustomerGatewayID.NotFound";
const VGW_NF = "InvalidVpnGatewayID.NotFound";
const VPN_NF = "InvalidVpnConnectionID.NotFound";
const PCX_NF = "InvalidVpcPeeringConnectionID.NotFound";
const TGW_NF = "InvalidTransitGatewayID.NotFound";
const TGWA_NF = "InvalidTransitGatewayAttachmentID.NotFound";
// AWS answers an unknown transit gateway route table with the VPC route table's code.
const TGWRT_NF = "InvalidRouteTableID.NotFound";
const ACL_NF = "InvalidNetworkAclID.NotFound";
const NIP_NF = "InvalidNetworkInsightsPathId.NotFound";
const NIA_NF = "InvalidNetworkInsightsAnalysisId.NotFound";

export const NETWORK_FIXTURES: Record<string, Fixture> = {
  // ---- Site-to-Site VPN ----
  "ec2:CreateCustomerGateway": { input: () => ({ Type: "ipsec.1", IpAddress: "198.51.100.7" }), list: true },
  "ec2:DeleteCustomerGateway": { input: (a) => ({ CustomerGatewayId: a.cgwId }), error: CGW_NF },
  "ec2:DescribeCustomerGateways": list,
  "ec2:CreateVpnGateway": { input: () => ({ Type: "ipsec.1" }), list: true },
  "ec2:DeleteVpnGateway": { input: (a) => ({ VpnGatewayId: a.vgwId }), error: VGW_NF },
  "ec2:AttachVpnGateway": { input: (a) => ({ VpnGatewayId: a.vgwId, VpcId: a.vpc2Id }), error: VGW_NF },
  "ec2:DetachVpnGateway": { input: (a) => ({ VpnGatewayId: a.vgwId, VpcId: a.vpcId }), error: VGW_NF },
  "ec2:DescribeVpnGateways": list,
  "ec2:CreateVpnConnection": {
    input: (a) => ({ Type: "ipsec.1", CustomerGatewayId: a.cgwId, VpnGatewayId: a.vgwId }),
    error: CGW_NF,
  },
  "ec2:DeleteVpnConnection": { input: (a) => ({ VpnConnectionId: a.vpnId }), error: VPN_NF },
  "ec2:DescribeVpnConnections": list,
  "ec2:CreateVpnConnectionRoute": {
    input: (a) => ({ VpnConnectionId: a.vpnId, DestinationCidrBlock: "172.16.0.0/16" }),
    error: VPN_NF,
  },
  "ec2:DeleteVpnConnectionRoute": {
    input: (a) => ({ VpnConnectionId: a.vpnId, DestinationCidrBlock: "172.16.0.0/16" }),
    error: VPN_NF,
  },
  "ec2:EnableVgwRoutePropagation": {
    input: (a) => ({ RouteTableId: a.routeTableId, GatewayId: a.vgwId }),
    error: "InvalidRouteTableID.NotFound",
  },
  "ec2:DisableVgwRoutePropagation": {
    input: (a) => ({ RouteTableId: a.routeTableId, GatewayId: a.vgwId }),
    error: "InvalidRouteTableID.NotFound",
  },
  // ---- transit gateways ----
  "ec2:CreateTransitGateway": list,
  "ec2:ModifyTransitGateway": {
    input: (a) => ({ TransitGatewayId: a.tgwId, Options: { DnsSupport: "disable" } }),
    error: TGW_NF,
  },
  "ec2:DeleteTransitGateway": { input: (a) => ({ TransitGatewayId: a.tgwId }), error: TGW_NF },
  "ec2:DescribeTransitGateways": list,
  "ec2:CreateTransitGatewayVpcAttachment": {
    input: (a) => ({ TransitGatewayId: a.tgwId, VpcId: a.vpc2Id, SubnetIds: [a.subnetId] }),
    error: VPC_NF, // both are A's: the VPC is checked first
  },
  "ec2:ModifyTransitGatewayVpcAttachment": {
    input: (a) => ({ TransitGatewayAttachmentId: a.tgwAttachmentId, Options: { DnsSupport: "disable" } }),
    error: TGWA_NF,
  },
  "ec2:DeleteTransitGatewayVpcAttachment": {
    input: (a) => ({ TransitGatewayAttachmentId: a.tgwAttachmentId }),
    error: TGWA_NF,
  },
  "ec2:AcceptTransitGatewayVpcAttachment": {
    input: (a) => ({ TransitGatewayAttachmentId: a.tgwAttachmentId }),
    error: TGWA_NF,
  },
  "ec2:RejectTransitGatewayVpcAttachment": {
    input: (a) => ({ TransitGatewayAttachmentId: a.tgwAttachmentId }),
    error: TGWA_NF,
  },
  "ec2:DescribeTransitGatewayVpcAttachments": list,
  "ec2:DescribeTransitGatewayAttachments": list,
  "ec2:CreateTransitGatewayRouteTable": { input: (a) => ({ TransitGatewayId: a.tgwId }), error: TGW_NF },
  "ec2:DeleteTransitGatewayRouteTable": {
    input: (a) => ({ TransitGatewayRouteTableId: a.tgwRouteTableId }),
    error: TGWRT_NF,
  },
  "ec2:DescribeTransitGatewayRouteTables": list,
  "ec2:AssociateTransitGatewayRouteTable": {
    input: (a) => ({
      TransitGatewayRouteTableId: a.tgwRouteTableId,
      TransitGatewayAttachmentId: a.tgwAttachmentId,
    }),
    error: TGWRT_NF,
  },
  "ec2:DisassociateTransitGatewayRouteTable": {
    input: (a) => ({
      TransitGatewayRouteTableId: a.tgwRouteTableId,
      TransitGatewayAttachmentId: a.tgwAttachmentId,
    }),
    error: TGWRT_NF,
  },
  "ec2:EnableTransitGatewayRouteTablePropagation": {
    input: (a) => ({
      TransitGatewayRouteTableId: a.tgwRouteTableId,
      TransitGatewayAttachmentId: a.tgwAttachmentId,
    }),
    error: TGWRT_NF,
  },
  "ec2:DisableTransitGatewayRouteTablePropagation": {
    input: (a) => ({
      TransitGatewayRouteTableId: a.tgwRouteTableId,
      TransitGatewayAttachmentId: a.tgwAttachmentId,
    }),
    error: TGWRT_NF,
  },
  "ec2:GetTransitGatewayRouteTableAssociations": {
    input: (a) => ({ TransitGatewayRouteTableId: a.tgwRouteTableId }),
    error: TGWRT_NF,
  },
  "ec2:GetTransitGatewayRouteTablePropagations": {
    input: (a) => ({ TransitGatewayRouteTableId: a.tgwRouteTableId }),
    error: TGWRT_NF,
  },
  "ec2:GetTransitGatewayAttachmentPropagations": {
    input: (a) => ({ TransitGatewayAttachmentId: a.tgwAttachmentId }),
    error: TGWA_NF,
  },
  "ec2:CreateTransitGatewayRoute": {
    input: (a) => ({
      TransitGatewayRouteTableId: a.tgwRouteTableId,
      DestinationCidrBlock: "10.77.0.0/16",
      Blackhole: true,
    }),
    error: TGWRT_NF,
  },
  "ec2:ReplaceTransitGatewayRoute": {
    input: (a) => ({
      TransitGatewayRouteTableId: a.tgwRouteTableId,
      DestinationCidrBlock: "10.77.0.0/16",
      Blackhole: true,
    }),
    error: TGWRT_NF,
  },
  "ec2:DeleteTransitGatewayRoute": {
    input: (a) => ({ TransitGatewayRouteTableId: a.tgwRouteTableId, DestinationCidrBlock: "10.77.0.0/16" }),
    error: TGWRT_NF,
  },
  "ec2:SearchTransitGatewayRoutes": {
    input: (a) => ({
      TransitGatewayRouteTableId: a.tgwRouteTableId,
      Filters: [{ Name: "state", Values: ["active"] }],
    }),
    error: TGWRT_NF,
  },
  // ---- VPC peering (B may request peering with A's VPC, but only from a VPC of its own) ----
  "ec2:CreateVpcPeeringConnection": {
    input: (a) => ({ VpcId: a.vpcId, PeerVpcId: a.vpc2Id }),
    error: VPC_NF,
  },
  "ec2:AcceptVpcPeeringConnection": { input: (a) => ({ VpcPeeringConnectionId: a.pcxId }), error: PCX_NF },
  "ec2:RejectVpcPeeringConnection": { input: (a) => ({ VpcPeeringConnectionId: a.pcxId }), error: PCX_NF },
  "ec2:DeleteVpcPeeringConnection": { input: (a) => ({ VpcPeeringConnectionId: a.pcxId }), error: PCX_NF },
  "ec2:ModifyVpcPeeringConnectionOptions": {
    input: (a) => ({
      VpcPeeringConnectionId: a.pcxId,
      RequesterPeeringConnectionOptions: { AllowDnsResolutionFromRemoteVpc: true },
    }),
    error: PCX_NF,
  },
  "ec2:DescribeVpcPeeringConnections": list,
  "ec2:DescribeStaleSecurityGroups": { input: (a) => ({ VpcId: a.vpcId }), error: VPC_NF },
  // ---- network ACLs ----
  "ec2:CreateNetworkAcl": { input: (a) => ({ VpcId: a.vpcId }), error: VPC_NF },
  "ec2:DeleteNetworkAcl": { input: (a) => ({ NetworkAclId: a.naclId }), error: ACL_NF },
  "ec2:CreateNetworkAclEntry": {
    input: (a) => ({
      NetworkAclId: a.naclId,
      RuleNumber: 50,
      Protocol: "-1",
      RuleAction: "allow",
      Egress: false,
      CidrBlock: "0.0.0.0/0",
    }),
    error: ACL_NF,
  },
  "ec2:ReplaceNetworkAclEntry": {
    input: (a) => ({
      NetworkAclId: a.naclId,
      RuleNumber: 100,
      Protocol: "-1",
      RuleAction: "deny",
      Egress: false,
      CidrBlock: "0.0.0.0/0",
    }),
    error: ACL_NF,
  },
  "ec2:DeleteNetworkAclEntry": {
    input: (a) => ({ NetworkAclId: a.naclId, RuleNumber: 100, Egress: false }),
    error: ACL_NF,
  },
  "ec2:ReplaceNetworkAclAssociation": {
    input: (a) => ({ AssociationId: a.naclAssociationId, NetworkAclId: a.naclId }),
    error: ACL_NF, // both are A's: the ACL is checked first
  },
  "ec2:DescribeNetworkAcls": list,
  // ---- flow logs (batch calls: refusals come back in Unsuccessful) ----
  "ec2:CreateFlowLogs": {
    input: (a) => ({
      ResourceIds: [a.vpcId],
      ResourceType: "VPC",
      TrafficType: "ALL",
      LogGroupName: "b-flow-logs",
      DeliverLogsPermissionArn: "arn:aws:iam::222233334444:role/b-flow",
    }),
    unsuccessful: VPC_NF,
  },
  "ec2:DescribeFlowLogs": list,
  "ec2:DeleteFlowLogs": {
    input: (a) => ({ FlowLogIds: [a.flowLogId] }),
    unsuccessful: "InvalidFlowLogId.NotFound",
  },
  // ---- Network Insights ----
  "ec2:CreateNetworkInsightsPath": {
    input: (a) => ({ Source: a.instanceId, Destination: a.endpointId, Protocol: "tcp" }),
    error: "InvalidInstanceID.NotFound",
  },
  "ec2:DescribeNetworkInsightsPaths": list,
  "ec2:DeleteNetworkInsightsPath": { input: (a) => ({ NetworkInsightsPathId: a.niPathId }), error: NIP_NF },
  "ec2:StartNetworkInsightsAnalysis": {
    input: (a) => ({ NetworkInsightsPathId: a.niPathId }),
    error: NIP_NF,
  },
  "ec2:DescribeNetworkInsightsAnalyses": list,
  "ec2:DeleteNetworkInsightsAnalysis": {
    input: (a) => ({ NetworkInsightsAnalysisId: a.niAnalysisId }),
    error: NIA_NF,
  },
};
