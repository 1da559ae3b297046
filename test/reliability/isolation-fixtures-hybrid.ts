import type { Fixture } from "./isolation-fixtures.js";

/** Isolation rows for Route 53 Resolver and Direct Connect (JSON wire; see helpers/json-wire.ts). */

const list: Fixture = { input: () => ({}), list: true };
const RR_NF = "ResourceNotFoundException";
// Direct Connect answers every unknown or foreign ID with its one client error.
const DX_NF = "DirectConnectClientException";

export const HYBRID_FIXTURES: Record<string, Fixture> = {
  // ---- route53resolver ----
  "route53resolver:CreateResolverEndpoint": {
    input: (a) => ({
      CreatorRequestId: "b-ep",
      Direction: "OUTBOUND",
      SecurityGroupIds: [a.sgId],
      IpAddresses: [{ SubnetId: a.subnetId }, { SubnetId: a.subnetId }],
    }),
    error: "InvalidParameterException",
  },
  "route53resolver:GetResolverEndpoint": {
    input: (a) => ({ ResolverEndpointId: a.resolverEndpointId }),
    error: RR_NF,
  },
  "route53resolver:UpdateResolverEndpoint": {
    input: (a) => ({ ResolverEndpointId: a.resolverEndpointId, Name: "b" }),
    error: RR_NF,
  },
  "route53resolver:DeleteResolverEndpoint": {
    input: (a) => ({ ResolverEndpointId: a.resolverEndpointId }),
    error: RR_NF,
  },
  "route53resolver:ListResolverEndpoints": list,
  "route53resolver:ListResolverEndpointIpAddresses": {
    input: (a) => ({ ResolverEndpointId: a.resolverEndpointId }),
    error: RR_NF,
  },
  "route53resolver:CreateResolverRule": {
    input: (a) => ({
      CreatorRequestId: "b-rule",
      RuleType: "FORWARD",
      DomainName: "corp.b.example",
      ResolverEndpointId: a.resolverEndpointId,
      TargetIps: [{ Ip: "192.168.0.3" }],
    }),
    error: RR_NF,
  },
  "route53resolver:GetResolverRule": { input: (a) => ({ ResolverRuleId: a.resolverRuleId }), error: RR_NF },
  "route53resolver:DeleteResolverRule": {
    input: (a) => ({ ResolverRuleId: a.resolverRuleId }),
    error: RR_NF,
  },
  "route53resolver:ListResolverRules": list,
  "route53resolver:AssociateResolverRule": {
    input: (a) => ({ ResolverRuleId: a.resolverRuleId, VPCId: a.vpc2Id }),
    error: RR_NF,
  },
  "route53resolver:DisassociateResolverRule": {
    input: (a) => ({ ResolverRuleId: a.resolverRuleId, VPCId: a.vpcId }),
    error: RR_NF,
  },
  "route53resolver:GetResolverRuleAssociation": {
    input: (a) => ({ ResolverRuleAssociationId: a.resolverAssociationId }),
    error: RR_NF,
  },
  "route53resolver:ListResolverRuleAssociations": list,
  // ---- directconnect (sites are shared locations; connections, VIFs and gateways are A's) ----
  "directconnect:DescribeLocations": list,
  "directconnect:CreateConnection": {
    input: () => ({ location: "a-site", bandwidth: "1Gbps", connectionName: "b-dx" }),
    list: true,
  },
  "directconnect:DescribeConnections": list,
  "directconnect:DeleteConnection": { input: (a) => ({ connectionId: a.dxConnectionId }), error: DX_NF },
  "directconnect:CreatePrivateVirtualInterface": {
    input: (a) => ({
      connectionId: a.dxConnectionId,
      newPrivateVirtualInterface: {
        virtualInterfaceName: "b-vif",
        vlan: 11,
        asn: 65002,
        directConnectGatewayId: a.dxGatewayId,
      },
    }),
    error: DX_NF,
  },
  "directconnect:CreateTransitVirtualInterface": {
    input: (a) => ({
      connectionId: a.dxConnectionId,
      newTransitVirtualInterface: {
        virtualInterfaceName: "b-tvif",
        vlan: 12,
        asn: 65002,
        directConnectGatewayId: a.dxGatewayId,
      },
    }),
    error: DX_NF,
  },
  "directconnect:DescribeVirtualInterfaces": list,
  "directconnect:DeleteVirtualInterface": { input: (a) => ({ virtualInterfaceId: a.dxVifId }), error: DX_NF },
  "directconnect:ConfirmPrivateVirtualInterface": {
    input: (a) => ({ virtualInterfaceId: a.dxVifId, directConnectGatewayId: a.dxGatewayId }),
    error: DX_NF,
  },
  "directconnect:ConfirmTransitVirtualInterface": {
    input: (a) => ({ virtualInterfaceId: a.dxVifId, directConnectGatewayId: a.dxGatewayId }),
    error: DX_NF,
  },
  "directconnect:DescribeVirtualGateways": list,
  "directconnect:CreateDirectConnectGateway": {
    input: () => ({ directConnectGatewayName: "b-dxgw", amazonSideAsn: 64601 }),
    list: true,
  },
  "directconnect:DescribeDirectConnectGateways": list,
  "directconnect:DeleteDirectConnectGateway": {
    input: (a) => ({ directConnectGatewayId: a.dxGatewayId }),
    error: DX_NF,
  },
  "directconnect:CreateDirectConnectGatewayAssociation": {
    input: (a) => ({ directConnectGatewayId: a.dxGatewayId, virtualGatewayId: a.vgwId }),
    error: DX_NF,
  },
  "directconnect:DescribeDirectConnectGatewayAssociations": {
    input: (a) => ({ directConnectGatewayId: a.dxGatewayId }),
    list: true, // answers B's own (no) rows for the gateway
  },
  "directconnect:DeleteDirectConnectGatewayAssociation": {
    input: (a) => ({ directConnectGatewayId: a.dxGatewayId, virtualGatewayId: a.vgwId }),
    error: DX_NF,
  },
  "directconnect:UpdateDirectConnectGatewayAssociation": {
    input: (a) => ({
      associationId: a.dxAssociationId,
      addAllowedPrefixesToDirectConnectGateway: [{ cidr: "10.0.0.0/8" }],
    }),
    error: DX_NF,
  },
  // B may propose to A's DX gateway, but only for a gateway of its own: A's VGW is not.
  "directconnect:CreateDirectConnectGatewayAssociationProposal": {
    input: (a) => ({
      directConnectGatewayId: a.dxGatewayId,
      directConnectGatewayOwnerAccount: a.accountId,
      gatewayId: a.vgwId,
    }),
    error: DX_NF,
  },
  "directconnect:DescribeDirectConnectGatewayAssociationProposals": {
    input: (a) => ({ directConnectGatewayId: a.dxGatewayId }),
    list: true, // answers B's own (no) proposals for the gateway
  },
  "directconnect:AcceptDirectConnectGatewayAssociationProposal": {
    input: (a) => ({
      directConnectGatewayId: a.dxGatewayId,
      proposalId: a.dxProposalId,
      associatedGatewayOwnerAccount: a.accountId,
    }),
    error: DX_NF,
  },
  "directconnect:DeleteDirectConnectGatewayAssociationProposal": {
    input: (a) => ({ proposalId: a.dxProposalId }),
    error: DX_NF,
  },
  "directconnect:DescribeDirectConnectGatewayAttachments": {
    input: (a) => ({ directConnectGatewayId: a.dxGatewayId }),
    list: true, // answers B's own (no) rows for the gateway
  },
};
