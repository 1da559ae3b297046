/**
 * The isolation matrix's data: for every API action privlink serves, how account B calls it on
 * account A's resources and what AWS answers. The test (isolation.test.ts) reads the actions
 * from the server's handler tables, so an action with no row here fails its coverage check by
 * name. To add one: a row keyed "service:Action" (service = the SigV4 name the server routes
 * by) with the input B sends (built from A's resources, `a`) and either
 *   - `error`: the AWS error code B must get (the resource stays unchanged: checked for all), or
 *   - `list: true`: a Describe/List whose answer to B must not mention any of A's resources, or
 *   - `unsuccessful`: the code a batch call (DeleteVpcEndpoints…) puts in `Unsuccessful`.
 * Services need a client in SERVICE_CLIENTS (isolation.test.ts) the first time.
 */

import { HYBRID_FIXTURES } from "./isolation-fixtures-hybrid.js";
import { NETWORK_FIXTURES } from "./isolation-fixtures-network.js";
import { SERVICE_FIXTURES } from "./isolation-fixtures-services.js";
import { S3_FIXTURES } from "./isolation-s3.js";

/** Account A's resources, made once before the matrix runs. */
export interface AResources {
  accountId: string;
  vpcId: string;
  subnetId: string;
  routeTableId: string;
  associationId: string;
  igwId: string;
  sgId: string;
  instanceId: string;
  eniId: string;
  natId: string;
  lbArn: string;
  tgArn: string;
  listenerArn: string;
  serviceId: string;
  serviceName: string;
  endpointId: string;
  notificationId: string;
  zoneId: string;
  secretArn: string;
  // VPN, peering, transit gateways, NACLs, flow logs, Network Insights (isolation-account-a.ts)
  cgwId: string;
  vgwId: string;
  vpnId: string;
  vpc2Id: string;
  pcxId: string;
  tgwId: string;
  tgwAttachmentId: string;
  tgwRouteTableId: string;
  naclId: string;
  naclAssociationId: string;
  flowLogId: string;
  niPathId: string;
  niAnalysisId: string;
  // Route 53 Resolver and Direct Connect
  resolverEndpointId: string;
  resolverRuleId: string;
  resolverAssociationId: string;
  dxConnectionId: string;
  dxGatewayId: string;
  dxVifId: string;
  dxAssociationId: string;
  dxProposalId: string;
  // Name-keyed services: B naming the same name names its own (absent) object, so what must
  // never reach B is A's ARNs and data.
  logGroupArn: string;
  paramValue: string;
  topicArn: string;
  subscriptionArn: string;
  alarmArn: string;
  // S3 (isolation-s3.ts)
  bucketName: string;
  objectKey: string;
  uploadId: string;
}

export interface Fixture {
  input: (a: AResources) => Record<string, unknown>;
  /** The error code B gets; `list` instead for calls that answer with B's own (empty) view. */
  error?: string;
  list?: true;
  /** Batch deletes answer 200 and name each refused ID in `Unsuccessful` with this code. */
  unsuccessful?: string;
  /** The HTTP status B gets, where the error's name alone does not say it (S3's bodiless HEAD). */
  status?: number;
}

const NF = "InvalidVpcID.NotFound";
const EP_NF = "InvalidVpcEndpointId.NotFound";
const SVC_NF = "InvalidVpcEndpointServiceId.NotFound";
// Secrets Manager answers a cross-account ARN without a resource-policy grant with AccessDenied.
const SM_NF = "AccessDeniedException";
const ELB_LB_NF = "LoadBalancerNotFoundException";
const ELB_TG_NF = "TargetGroupNotFoundException";
const R53_NF = "NoSuchHostedZone";
const list: Fixture = { input: () => ({}), list: true };

export const FIXTURES: Record<string, Fixture> = {
  // ---- ec2: account-wide reads ----
  "ec2:DescribeRegions": list,
  "ec2:DescribeAvailabilityZones": list,
  "ec2:DescribeAccountAttributes": list,
  "ec2:DescribeTags": list,
  "ec2:DescribeVpcs": list,
  "ec2:DescribeSubnets": list,
  "ec2:DescribeRouteTables": list,
  "ec2:DescribeInternetGateways": list,
  "ec2:DescribeSecurityGroups": list,
  "ec2:DescribeSecurityGroupRules": list,
  "ec2:DescribeInstances": list,
  "ec2:DescribeNetworkInterfaces": list,
  "ec2:DescribeVpcEndpoints": list,
  "ec2:DescribeVpcEndpointConnections": list,
  "ec2:DescribeVpcEndpointAssociations": list,
  "ec2:DescribePrefixLists": list,
  "ec2:DescribeManagedPrefixLists": list,
  "ec2:DescribeVpcEndpointServiceConfigurations": list,
  "ec2:DescribeVpcEndpointConnectionNotifications": list,
  "ec2:DescribeNatGateways": list,
  // A's service is not allowed to B: B's service list must not show it.
  "ec2:DescribeVpcEndpointServices": list,
  // ---- ec2: B names A's resources ----
  "ec2:CreateTags": { input: (a) => ({ Resources: [a.vpcId], Tags: [{ Key: "x", Value: "y" }] }), error: NF },
  "ec2:DeleteTags": { input: (a) => ({ Resources: [a.vpcId], Tags: [{ Key: "Name" }] }), error: NF },
  "ec2:CreateVpc": { input: () => ({ CidrBlock: "10.1.0.0/16" }), list: true },
  "ec2:DeleteVpc": { input: (a) => ({ VpcId: a.vpcId }), error: NF },
  "ec2:DescribeVpcAttribute": {
    input: (a) => ({ VpcId: a.vpcId, Attribute: "enableDnsSupport" }),
    error: NF,
  },
  "ec2:ModifyVpcAttribute": {
    input: (a) => ({ VpcId: a.vpcId, EnableDnsSupport: { Value: false } }),
    error: NF,
  },
  "ec2:AssociateVpcCidrBlock": { input: (a) => ({ VpcId: a.vpcId, CidrBlock: "10.99.0.0/16" }), error: NF },
  "ec2:CreateSubnet": { input: (a) => ({ VpcId: a.vpcId, CidrBlock: "10.0.9.0/24" }), error: NF },
  "ec2:DeleteSubnet": { input: (a) => ({ SubnetId: a.subnetId }), error: "InvalidSubnetID.NotFound" },
  "ec2:ModifySubnetAttribute": {
    input: (a) => ({ SubnetId: a.subnetId, MapPublicIpOnLaunch: { Value: true } }),
    error: "InvalidSubnetID.NotFound",
  },
  "ec2:CreateRouteTable": { input: (a) => ({ VpcId: a.vpcId }), error: NF },
  "ec2:DeleteRouteTable": {
    input: (a) => ({ RouteTableId: a.routeTableId }),
    error: "InvalidRouteTableID.NotFound",
  },
  "ec2:AssociateRouteTable": {
    input: (a) => ({ RouteTableId: a.routeTableId, SubnetId: a.subnetId }),
    error: "InvalidRouteTableID.NotFound",
  },
  "ec2:DisassociateRouteTable": {
    input: (a) => ({ AssociationId: a.associationId }),
    error: "InvalidAssociationID.NotFound",
  },
  "ec2:CreateRoute": {
    input: (a) => ({ RouteTableId: a.routeTableId, DestinationCidrBlock: "0.0.0.0/0", GatewayId: a.igwId }),
    error: "InvalidRouteTableID.NotFound",
  },
  "ec2:DeleteRoute": {
    input: (a) => ({ RouteTableId: a.routeTableId, DestinationCidrBlock: "0.0.0.0/0" }),
    error: "InvalidRouteTableID.NotFound",
  },
  "ec2:CreateInternetGateway": { input: () => ({}), list: true },
  "ec2:AttachInternetGateway": {
    input: (a) => ({ InternetGatewayId: a.igwId, VpcId: a.vpcId }),
    error: "InvalidInternetGatewayID.NotFound",
  },
  "ec2:DetachInternetGateway": {
    input: (a) => ({ InternetGatewayId: a.igwId, VpcId: a.vpcId }),
    error: "InvalidInternetGatewayID.NotFound",
  },
  "ec2:DeleteInternetGateway": {
    input: (a) => ({ InternetGatewayId: a.igwId }),
    error: "InvalidInternetGatewayID.NotFound",
  },
  "ec2:CreateSecurityGroup": {
    input: (a) => ({ VpcId: a.vpcId, GroupName: "b", Description: "b" }),
    error: NF,
  },
  "ec2:DeleteSecurityGroup": { input: (a) => ({ GroupId: a.sgId }), error: "InvalidGroup.NotFound" },
  "ec2:AuthorizeSecurityGroupIngress": {
    input: (a) => ({
      GroupId: a.sgId,
      IpPermissions: [{ IpProtocol: "tcp", FromPort: 1, ToPort: 1, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
    }),
    error: "InvalidGroup.NotFound",
  },
  "ec2:AuthorizeSecurityGroupEgress": {
    input: (a) => ({
      GroupId: a.sgId,
      IpPermissions: [{ IpProtocol: "tcp", FromPort: 1, ToPort: 1, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
    }),
    error: "InvalidGroup.NotFound",
  },
  "ec2:RevokeSecurityGroupIngress": {
    input: (a) => ({
      GroupId: a.sgId,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "10.0.0.0/8" }] },
      ],
    }),
    error: "InvalidGroup.NotFound",
  },
  "ec2:RevokeSecurityGroupEgress": {
    input: (a) => ({
      GroupId: a.sgId,
      IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
    }),
    error: "InvalidGroup.NotFound",
  },
  "ec2:RunInstances": {
    input: (a) => ({ ImageId: "ami-12345678", MinCount: 1, MaxCount: 1, SubnetId: a.subnetId }),
    error: "InvalidSubnetID.NotFound",
  },
  "ec2:TerminateInstances": {
    input: (a) => ({ InstanceIds: [a.instanceId] }),
    error: "InvalidInstanceID.NotFound",
  },
  "ec2:CreateVpcEndpoint": {
    input: (a) => ({
      VpcId: a.vpcId,
      ServiceName: "com.amazonaws.us-east-1.secretsmanager",
      VpcEndpointType: "Interface",
    }),
    error: NF,
  },
  "ec2:ModifyVpcEndpoint": {
    input: (a) => ({ VpcEndpointId: a.endpointId, PolicyDocument: "{}" }),
    error: EP_NF,
  },
  "ec2:DeleteVpcEndpoints": {
    input: (a) => ({ VpcEndpointIds: [a.endpointId] }),
    unsuccessful: "InvalidVpcEndpointId.NotFound",
  },
  "ec2:AcceptVpcEndpointConnections": {
    input: (a) => ({ ServiceId: a.serviceId, VpcEndpointIds: [a.endpointId] }),
    error: SVC_NF,
  },
  "ec2:RejectVpcEndpointConnections": {
    input: (a) => ({ ServiceId: a.serviceId, VpcEndpointIds: [a.endpointId] }),
    error: SVC_NF,
  },
  "ec2:ModifyVpcEndpointPayerResponsibility": {
    input: (a) => ({ VpcEndpointId: a.endpointId, PayerResponsibility: "ServiceOwner" }),
    error: EP_NF,
  },
  "ec2:GetManagedPrefixListEntries": {
    input: () => ({ PrefixListId: "pl-0000000000000000a" }),
    error: "InvalidPrefixListID.NotFound",
  },
  "ec2:CreateVpcEndpointServiceConfiguration": {
    input: (a) => ({ NetworkLoadBalancerArns: [a.lbArn] }),
    error: "InvalidNetworkLoadBalancerArn.NotFound",
  },
  "ec2:ModifyVpcEndpointServiceConfiguration": {
    input: (a) => ({ ServiceId: a.serviceId, AcceptanceRequired: false }),
    error: SVC_NF,
  },
  "ec2:DeleteVpcEndpointServiceConfigurations": {
    input: (a) => ({ ServiceIds: [a.serviceId] }),
    unsuccessful: "InvalidVpcEndpointService.NotFound",
  },
  "ec2:ModifyVpcEndpointServicePayerResponsibility": {
    input: (a) => ({ ServiceId: a.serviceId, PayerResponsibility: "ServiceOwner" }),
    error: SVC_NF,
  },
  "ec2:StartVpcEndpointServicePrivateDnsVerification": {
    input: (a) => ({ ServiceId: a.serviceId }),
    error: SVC_NF,
  },
  "ec2:ModifyVpcEndpointServicePermissions": {
    input: (a) => ({ ServiceId: a.serviceId, AddAllowedPrincipals: ["*"] }),
    error: SVC_NF,
  },
  "ec2:DescribeVpcEndpointServicePermissions": { input: (a) => ({ ServiceId: a.serviceId }), error: SVC_NF },
  "ec2:CreateVpcEndpointConnectionNotification": {
    input: (a) => ({
      ServiceId: a.serviceId,
      ConnectionNotificationArn: "arn:aws:sns:us-east-1:222233334444:t",
      ConnectionEvents: ["Accept"],
    }),
    error: SVC_NF,
  },
  "ec2:ModifyVpcEndpointConnectionNotification": {
    input: (a) => ({ ConnectionNotificationId: a.notificationId, ConnectionEvents: ["Reject"] }),
    error: "InvalidConnectionNotification",
  },
  "ec2:DeleteVpcEndpointConnectionNotifications": {
    input: (a) => ({ ConnectionNotificationIds: [a.notificationId] }),
    unsuccessful: "InvalidConnectionNotification",
  },
  "ec2:CreateNatGateway": {
    input: (a) => ({ SubnetId: a.subnetId, ConnectivityType: "private" }),
    error: "InvalidSubnetID.NotFound",
  },
  "ec2:DeleteNatGateway": { input: (a) => ({ NatGatewayId: a.natId }), error: "NatGatewayNotFound" },
  // ---- elbv2 ----
  "elasticloadbalancing:CreateLoadBalancer": {
    input: (a) => ({ Name: "b-lb", Type: "network", Scheme: "internal", Subnets: [a.subnetId] }),
    error: "SubnetNotFoundException",
  },
  "elasticloadbalancing:DescribeLoadBalancers": list,
  "elasticloadbalancing:DeleteLoadBalancer": {
    input: (a) => ({ LoadBalancerArn: a.lbArn }),
    list: true, // AWS: deleting a load balancer that is not there succeeds
  },
  "elasticloadbalancing:DescribeLoadBalancerAttributes": {
    input: (a) => ({ LoadBalancerArn: a.lbArn }),
    error: ELB_LB_NF,
  },
  "elasticloadbalancing:ModifyLoadBalancerAttributes": {
    input: (a) => ({
      LoadBalancerArn: a.lbArn,
      Attributes: [{ Key: "deletion_protection.enabled", Value: "true" }],
    }),
    error: ELB_LB_NF,
  },
  "elasticloadbalancing:CreateTargetGroup": {
    input: (a) => ({ Name: "b-tg", Protocol: "TCP", Port: 80, VpcId: a.vpcId, TargetType: "ip" }),
    error: "ValidationError",
  },
  "elasticloadbalancing:DescribeTargetGroups": list,
  "elasticloadbalancing:ModifyTargetGroup": {
    input: (a) => ({ TargetGroupArn: a.tgArn, HealthCheckPort: "81" }),
    error: ELB_TG_NF,
  },
  "elasticloadbalancing:DeleteTargetGroup": { input: (a) => ({ TargetGroupArn: a.tgArn }), list: true },
  "elasticloadbalancing:DescribeTargetGroupAttributes": {
    input: (a) => ({ TargetGroupArn: a.tgArn }),
    error: ELB_TG_NF,
  },
  "elasticloadbalancing:ModifyTargetGroupAttributes": {
    input: (a) => ({
      TargetGroupArn: a.tgArn,
      Attributes: [{ Key: "deregistration_delay.timeout_seconds", Value: "10" }],
    }),
    error: ELB_TG_NF,
  },
  "elasticloadbalancing:RegisterTargets": {
    input: (a) => ({ TargetGroupArn: a.tgArn, Targets: [{ Id: "10.0.1.9", Port: 80 }] }),
    error: ELB_TG_NF,
  },
  "elasticloadbalancing:DeregisterTargets": {
    input: (a) => ({ TargetGroupArn: a.tgArn, Targets: [{ Id: "10.0.1.9", Port: 80 }] }),
    error: ELB_TG_NF,
  },
  "elasticloadbalancing:DescribeTargetHealth": {
    input: (a) => ({ TargetGroupArn: a.tgArn }),
    error: ELB_TG_NF,
  },
  "elasticloadbalancing:CreateListener": {
    input: (a) => ({
      LoadBalancerArn: a.lbArn,
      Protocol: "TCP",
      Port: 81,
      DefaultActions: [{ Type: "forward", TargetGroupArn: a.tgArn }],
    }),
    error: ELB_LB_NF,
  },
  "elasticloadbalancing:DescribeListeners": {
    input: (a) => ({ LoadBalancerArn: a.lbArn }),
    error: ELB_LB_NF,
  },
  "elasticloadbalancing:DeleteListener": {
    input: (a) => ({ ListenerArn: a.listenerArn }),
    error: "ListenerNotFoundException",
  },
  "elasticloadbalancing:AddTags": {
    input: (a) => ({ ResourceArns: [a.lbArn], Tags: [{ Key: "x", Value: "y" }] }),
    error: ELB_LB_NF,
  },
  "elasticloadbalancing:RemoveTags": {
    input: (a) => ({ ResourceArns: [a.lbArn], TagKeys: ["Name"] }),
    error: ELB_LB_NF,
  },
  "elasticloadbalancing:DescribeTags": { input: (a) => ({ ResourceArns: [a.lbArn] }), error: ELB_LB_NF },
  // ---- route53 (global; A's private zone) ----
  "route53:CreateHostedZone": {
    input: (a) => ({
      Name: "b.internal",
      CallerReference: "b-1",
      VPC: { VPCRegion: "us-east-1", VPCId: a.vpcId },
    }),
    error: "InvalidVPCId",
  },
  "route53:GetHostedZone": { input: (a) => ({ Id: a.zoneId }), error: R53_NF },
  "route53:ListHostedZones": list,
  "route53:ListHostedZonesByName": list,
  "route53:DeleteHostedZone": { input: (a) => ({ Id: a.zoneId }), error: R53_NF },
  "route53:ChangeResourceRecordSets": {
    input: (a) => ({
      HostedZoneId: a.zoneId,
      ChangeBatch: {
        Changes: [
          {
            Action: "CREATE",
            ResourceRecordSet: {
              Name: "x.a.internal",
              Type: "A",
              TTL: 60,
              ResourceRecords: [{ Value: "10.0.0.1" }],
            },
          },
        ],
      },
    }),
    error: R53_NF,
  },
  "route53:ListResourceRecordSets": { input: (a) => ({ HostedZoneId: a.zoneId }), error: R53_NF },
  "route53:GetChange": { input: () => ({ Id: "C0000000000000000000" }), error: "NoSuchChange" },
  "route53:AssociateVPCWithHostedZone": {
    input: (a) => ({ HostedZoneId: a.zoneId, VPC: { VPCRegion: "us-east-1", VPCId: a.vpcId } }),
    error: "NotAuthorizedException",
  },
  "route53:DisassociateVPCFromHostedZone": {
    input: (a) => ({ HostedZoneId: a.zoneId, VPC: { VPCRegion: "us-east-1", VPCId: a.vpcId } }),
    error: R53_NF,
  },
  "route53:CreateVPCAssociationAuthorization": {
    input: (a) => ({ HostedZoneId: a.zoneId, VPC: { VPCRegion: "us-east-1", VPCId: a.vpcId } }),
    error: R53_NF,
  },
  "route53:DeleteVPCAssociationAuthorization": {
    input: (a) => ({ HostedZoneId: a.zoneId, VPC: { VPCRegion: "us-east-1", VPCId: a.vpcId } }),
    error: R53_NF,
  },
  "route53:ListVPCAssociationAuthorizations": { input: (a) => ({ HostedZoneId: a.zoneId }), error: R53_NF },
  "route53:ListHostedZonesByVPC": {
    input: (a) => ({ VPCId: a.vpcId, VPCRegion: "us-east-1" }),
    error: "InvalidInput",
  },
  "route53:GetHostedZoneCount": list,
  // ---- sts ----
  "sts:GetCallerIdentity": list,
  // ---- secretsmanager (A's secret by ARN; B has no resource policy grant) ----
  "secretsmanager:CreateSecret": { input: () => ({ Name: "b/own", SecretString: "b" }), list: true },
  "secretsmanager:GetSecretValue": { input: (a) => ({ SecretId: a.secretArn }), error: SM_NF },
  "secretsmanager:PutSecretValue": {
    input: (a) => ({ SecretId: a.secretArn, SecretString: "b" }),
    error: SM_NF,
  },
  "secretsmanager:UpdateSecret": {
    input: (a) => ({ SecretId: a.secretArn, Description: "b" }),
    error: SM_NF,
  },
  "secretsmanager:DescribeSecret": { input: (a) => ({ SecretId: a.secretArn }), error: SM_NF },
  "secretsmanager:ListSecrets": list,
  "secretsmanager:DeleteSecret": {
    input: (a) => ({ SecretId: a.secretArn, ForceDeleteWithoutRecovery: true }),
    error: SM_NF,
  },
  "secretsmanager:RestoreSecret": { input: (a) => ({ SecretId: a.secretArn }), error: SM_NF },
  "secretsmanager:TagResource": {
    input: (a) => ({ SecretId: a.secretArn, Tags: [{ Key: "x", Value: "y" }] }),
    error: SM_NF,
  },
  "secretsmanager:UntagResource": {
    input: (a) => ({ SecretId: a.secretArn, TagKeys: ["Name"] }),
    error: SM_NF,
  },
  "secretsmanager:PutResourcePolicy": {
    input: (a) => ({ SecretId: a.secretArn, ResourcePolicy: "{}" }),
    error: SM_NF,
  },
  "secretsmanager:GetResourcePolicy": { input: (a) => ({ SecretId: a.secretArn }), error: SM_NF },
  "secretsmanager:DeleteResourcePolicy": { input: (a) => ({ SecretId: a.secretArn }), error: SM_NF },
  ...NETWORK_FIXTURES,
  ...HYBRID_FIXTURES,
  ...SERVICE_FIXTURES,
  ...S3_FIXTURES,
};
