import * as cwsdk from "@aws-sdk/client-cloudwatch";
import * as logssdk from "@aws-sdk/client-cloudwatch-logs";
import * as ec2sdk from "@aws-sdk/client-ec2";
import * as snssdk from "@aws-sdk/client-sns";
import * as ssmsdk from "@aws-sdk/client-ssm";
import { until } from "../dataplane/world.js";
import { jsonWire } from "../helpers/json-wire.js";
import type { TestServer } from "../helpers/server.js";
import type { AResources } from "./isolation-fixtures.js";
import { s3Objects } from "./isolation-s3.js";

export const resolverWire = jsonWire("route53resolver", "Route53Resolver");
export const dxWire = jsonWire("directconnect", "OvertureService");

type Base = Pick<AResources, "vpcId" | "subnetId" | "sgId" | "routeTableId" | "instanceId" | "endpointId">;
export type MoreA = Omit<AResources, keyof Base | keyof OlderA>;
type OlderA = Pick<
  AResources,
  | "accountId"
  | "associationId"
  | "igwId"
  | "eniId"
  | "natId"
  | "lbArn"
  | "tgArn"
  | "listenerArn"
  | "serviceId"
  | "serviceName"
  | "notificationId"
  | "zoneId"
  | "secretArn"
>;

const cfg = (srv: TestServer) => ({
  endpoint: srv.url,
  region: "us-east-1",
  credentials: srv.credentials,
  maxAttempts: 1,
});

/** A's VPN, peering, transit gateway, NACL, flow log and Network Insights objects (EC2). */
async function ec2Objects(srv: TestServer, a: Base) {
  const ec2 = srv.ec2();
  const site = await srv.admin<{ publicIp: string }>("POST", "/_privlink/sites", {
    name: "a-site",
    cidr: "192.168.0.0/16",
  });
  const cgwId = (
    await ec2.send(new ec2sdk.CreateCustomerGatewayCommand({ Type: "ipsec.1", IpAddress: site.publicIp }))
  ).CustomerGateway!.CustomerGatewayId!;
  const vgwId = (await ec2.send(new ec2sdk.CreateVpnGatewayCommand({ Type: "ipsec.1" }))).VpnGateway!
    .VpnGatewayId!;
  await ec2.send(new ec2sdk.AttachVpnGatewayCommand({ VpnGatewayId: vgwId, VpcId: a.vpcId }));
  const vpnId = (
    await ec2.send(
      new ec2sdk.CreateVpnConnectionCommand({
        Type: "ipsec.1",
        CustomerGatewayId: cgwId,
        VpnGatewayId: vgwId,
        Options: { StaticRoutesOnly: true },
      }),
    )
  ).VpnConnection!.VpnConnectionId!;
  const vpc2Id = (await ec2.send(new ec2sdk.CreateVpcCommand({ CidrBlock: "10.2.0.0/16" }))).Vpc!.VpcId!;
  const pcxId = (
    await ec2.send(new ec2sdk.CreateVpcPeeringConnectionCommand({ VpcId: a.vpcId, PeerVpcId: vpc2Id }))
  ).VpcPeeringConnection!.VpcPeeringConnectionId!;
  const tgwId = (await ec2.send(new ec2sdk.CreateTransitGatewayCommand({}))).TransitGateway!
    .TransitGatewayId!;
  await until(async () => {
    const t = await ec2.send(new ec2sdk.DescribeTransitGatewaysCommand({ TransitGatewayIds: [tgwId] }));
    return t.TransitGateways![0]!.State === "available" || undefined;
  }, "A's transit gateway");
  const tgwAttachmentId = (
    await ec2.send(
      new ec2sdk.CreateTransitGatewayVpcAttachmentCommand({
        TransitGatewayId: tgwId,
        VpcId: a.vpcId,
        SubnetIds: [a.subnetId],
      }),
    )
  ).TransitGatewayVpcAttachment!.TransitGatewayAttachmentId!;
  const tgwRouteTableId = (
    await ec2.send(new ec2sdk.CreateTransitGatewayRouteTableCommand({ TransitGatewayId: tgwId }))
  ).TransitGatewayRouteTable!.TransitGatewayRouteTableId!;
  const naclId = (await ec2.send(new ec2sdk.CreateNetworkAclCommand({ VpcId: a.vpcId }))).NetworkAcl!
    .NetworkAclId!;
  const acls = await ec2.send(
    new ec2sdk.DescribeNetworkAclsCommand({
      Filters: [{ Name: "association.subnet-id", Values: [a.subnetId] }],
    }),
  );
  const naclAssociationId = acls.NetworkAcls![0]!.Associations!.find((x) => x.SubnetId === a.subnetId)!
    .NetworkAclAssociationId!;
  const flowLogId = (
    await ec2.send(
      new ec2sdk.CreateFlowLogsCommand({
        ResourceIds: [a.vpcId],
        ResourceType: "VPC",
        TrafficType: "ALL",
        LogGroupName: "a-flow-logs",
        DeliverLogsPermissionArn: "arn:aws:iam::000000000000:role/a-flow",
      }),
    )
  ).FlowLogIds![0]!;
  const niPathId = (
    await ec2.send(
      new ec2sdk.CreateNetworkInsightsPathCommand({
        Source: a.instanceId,
        Destination: a.endpointId,
        Protocol: "tcp",
        DestinationPort: 443,
      }),
    )
  ).NetworkInsightsPath!.NetworkInsightsPathId!;
  const niAnalysisId = (
    await ec2.send(new ec2sdk.StartNetworkInsightsAnalysisCommand({ NetworkInsightsPathId: niPathId }))
  ).NetworkInsightsAnalysis!.NetworkInsightsAnalysisId!;
  await until(async () => {
    const d = await ec2.send(
      new ec2sdk.DescribeNetworkInsightsAnalysesCommand({ NetworkInsightsAnalysisIds: [niAnalysisId] }),
    );
    return d.NetworkInsightsAnalyses![0]!.Status !== "running" || undefined;
  }, "A's analysis");
  return {
    cgwId,
    vgwId,
    vpnId,
    vpc2Id,
    pcxId,
    tgwId,
    tgwAttachmentId,
    tgwRouteTableId,
    naclId,
    naclAssociationId,
    flowLogId,
    niPathId,
    niAnalysisId,
  };
}

/** A's Route 53 Resolver endpoint, rule and association, and its Direct Connect objects. */
async function hybridObjects(srv: TestServer, a: Base, vgwId: string) {
  const rr = resolverWire.client(srv.url, srv.credentials);
  const R = resolverWire.sdk;
  const ep = await rr.send(
    new R.CreateResolverEndpointCommand({
      CreatorRequestId: "a-ep",
      Direction: "OUTBOUND",
      SecurityGroupIds: [a.sgId],
      IpAddresses: [{ SubnetId: a.subnetId }, { SubnetId: a.subnetId }],
    }),
  );
  const resolverEndpointId = ep.ResolverEndpoint.Id as string;
  const rule = await rr.send(
    new R.CreateResolverRuleCommand({
      CreatorRequestId: "a-rule",
      RuleType: "FORWARD",
      DomainName: "corp.a.example",
      ResolverEndpointId: resolverEndpointId,
      TargetIps: [{ Ip: "192.168.0.2" }],
    }),
  );
  const resolverRuleId = rule.ResolverRule.Id as string;
  const assoc = await rr.send(
    new R.AssociateResolverRuleCommand({ ResolverRuleId: resolverRuleId, VPCId: a.vpcId }),
  );
  const dx = dxWire.client(srv.url, srv.credentials);
  const D = dxWire.sdk;
  const con = await dx.send(
    new D.CreateConnectionCommand({ location: "a-site", bandwidth: "1Gbps", connectionName: "a-dx" }),
  );
  const gw = await dx.send(
    new D.CreateDirectConnectGatewayCommand({ directConnectGatewayName: "a-dxgw", amazonSideAsn: 64600 }),
  );
  const dxGatewayId = gw.directConnectGateway.directConnectGatewayId as string;
  const vif = await dx.send(
    new D.CreatePrivateVirtualInterfaceCommand({
      connectionId: con.connectionId,
      newPrivateVirtualInterface: {
        virtualInterfaceName: "a-vif",
        vlan: 10,
        asn: 65001,
        directConnectGatewayId: dxGatewayId,
      },
    }),
  );
  // The VGW's association (its VPC's CIDR by default) and A's own proposal to widen it.
  const association = await dx.send(
    new D.CreateDirectConnectGatewayAssociationCommand({
      directConnectGatewayId: dxGatewayId,
      gatewayId: vgwId,
    }),
  );
  const proposal = await dx.send(
    new D.CreateDirectConnectGatewayAssociationProposalCommand({
      directConnectGatewayId: dxGatewayId,
      directConnectGatewayOwnerAccount: "000000000000",
      gatewayId: vgwId,
      addAllowedPrefixesToDirectConnectGateway: [{ cidr: "10.0.0.0/8" }],
    }),
  );
  return {
    dxAssociationId: association.directConnectGatewayAssociation.associationId as string,
    dxProposalId: proposal.directConnectGatewayAssociationProposal.proposalId as string,
    resolverEndpointId,
    resolverRuleId,
    resolverAssociationId: assoc.ResolverRuleAssociation.Id as string,
    dxConnectionId: con.connectionId as string,
    dxGatewayId,
    dxVifId: vif.virtualInterfaceId as string,
  };
}

/** A's log group and stream, parameter, topic and subscription, alarm and metric. */
async function serviceObjects(srv: TestServer, a: Base) {
  const logs = new logssdk.CloudWatchLogsClient(cfg(srv));
  await logs.send(new logssdk.CreateLogGroupCommand({ logGroupName: "a-group" }));
  await logs.send(new logssdk.CreateLogStreamCommand({ logGroupName: "a-group", logStreamName: "a-stream" }));
  await logs.send(
    new logssdk.PutLogEventsCommand({
      logGroupName: "a-group",
      logStreamName: "a-stream",
      logEvents: [{ timestamp: Date.now(), message: `a-event ${a.vpcId}` }],
    }),
  );
  const groups = await logs.send(new logssdk.DescribeLogGroupsCommand({ logGroupNamePrefix: "a-group" }));
  const logGroupArn = groups.logGroups![0]!.arn!;
  // The policy names A's group, so a policy list that leaked to B would show an A resource.
  const statement = {
    Effect: "Allow",
    Principal: { Service: "delivery.logs.amazonaws.com" },
    Action: "logs:PutLogEvents",
    Resource: logGroupArn,
  };
  await logs.send(
    new logssdk.PutResourcePolicyCommand({
      policyName: "a-logs-policy",
      policyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [statement] }),
    }),
  );
  const ssm = new ssmsdk.SSMClient(cfg(srv));
  await ssm.send(
    new ssmsdk.PutParameterCommand({ Name: "/a/param", Value: "a-param-value", Type: "String" }),
  );
  await ssm.send(new ssmsdk.LabelParameterVersionCommand({ Name: "/a/param", Labels: ["a-label"] }));
  const sns = new snssdk.SNSClient(cfg(srv));
  const topicArn = (await sns.send(new snssdk.CreateTopicCommand({ Name: "a-topic" }))).TopicArn!;
  const sub = await sns.send(
    new snssdk.SubscribeCommand({
      TopicArn: topicArn,
      Protocol: "privlink-events",
      ReturnSubscriptionArn: true,
    }),
  );
  const cw = new cwsdk.CloudWatchClient(cfg(srv));
  await cw.send(
    new cwsdk.PutMetricDataCommand({
      Namespace: "A/App",
      MetricData: [{ MetricName: "Hits", Value: 1, Dimensions: [{ Name: "Vpc", Value: a.vpcId }] }],
    }),
  );
  await cw.send(
    new cwsdk.PutMetricAlarmCommand({
      AlarmName: "a-alarm",
      Namespace: "A/App",
      MetricName: "Hits",
      Dimensions: [{ Name: "Vpc", Value: a.vpcId }],
      Statistic: "Sum",
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1000,
      ComparisonOperator: "GreaterThanThreshold",
    }),
  );
  const alarms = await cw.send(new cwsdk.DescribeAlarmsCommand({ AlarmNames: ["a-alarm"] }));
  return {
    logGroupArn,
    paramValue: "a-param-value",
    topicArn,
    subscriptionArn: sub.SubscriptionArn!,
    alarmArn: alarms.MetricAlarms![0]!.AlarmArn!,
  };
}

export async function makeMoreA(srv: TestServer, a: Base): Promise<MoreA> {
  const ec2 = await ec2Objects(srv, a);
  return {
    ...ec2,
    ...(await hybridObjects(srv, a, ec2.vgwId)),
    ...(await serviceObjects(srv, a)),
    ...(await s3Objects(srv)),
  };
}
