import { DIRECTCONNECT, EC2_CONNECTIVITY, ROUTE53RESOLVER } from "./shape-fixtures-connectivity.js";
import { S3 } from "./shape-fixtures-s3.js";
import type { World } from "./world.js";

/**
 * One fixture per implemented action: the input that makes its response non-trivial, given the
 * shared {@link World}. The response-shape test runs every action of every registered handler
 * table and fails, listing them, for actions that have no fixture here.
 *
 * To add one: put `Action: (w) => ({ …input… })` under the service's SigV4 name (add the
 * service's block if it is new). Use `w.<resource>` for the shared world, `await w.fresh.…()` or
 * `await w.call(service, action, input)` for anything the action consumes (deletes, detaches),
 * so later fixtures still find the world whole. Fixtures run in the order written here.
 */
export type Fixture = (w: World) => Record<string, unknown> | Promise<Record<string, unknown>>;

const rid = (w: World) => w.zone.replace("/hostedzone/", "");

export const FIXTURES: Record<string, Record<string, Fixture>> = {
  s3: S3,
  sts: {
    GetCallerIdentity: () => ({}),
  },

  ec2: {
    DescribeRegions: () => ({ AllRegions: true }),
    DescribeAvailabilityZones: () => ({}),
    DescribeAccountAttributes: () => ({}),
    CreateTags: (w) => ({ Resources: [w.vpc], Tags: [{ Key: "team", Value: "net" }] }),
    DescribeTags: (w) => ({ Filters: [{ Name: "resource-id", Values: [w.vpc] }] }),
    DeleteTags: (w) => ({ Resources: [w.vpc], Tags: [{ Key: "team" }] }),
    CreateVpc: () => ({
      CidrBlock: "10.1.0.0/16",
      TagSpecifications: [{ ResourceType: "vpc", Tags: [{ Key: "k", Value: "v" }] }],
    }),
    DescribeVpcs: (w) => ({ VpcIds: [w.vpc] }),
    DescribeVpcAttribute: (w) => ({ VpcId: w.vpc, Attribute: "enableDnsHostnames" }),
    ModifyVpcAttribute: (w) => ({ VpcId: w.vpc, EnableDnsSupport: { Value: true } }),
    AssociateVpcCidrBlock: async (w) => ({
      VpcId: await w.fresh.vpc("10.20.0.0/16"),
      CidrBlock: "10.21.0.0/16",
    }),
    DeleteVpc: async (w) => ({ VpcId: await w.fresh.vpc("10.30.0.0/16") }),
    CreateSubnet: (w) => ({ VpcId: w.vpc, CidrBlock: "10.0.3.0/24", AvailabilityZone: "us-east-1b" }),
    DescribeSubnets: (w) => ({ SubnetIds: [w.subnetA, w.subnetB] }),
    DeleteSubnet: async (w) => ({ SubnetId: await w.fresh.subnet("10.0.4.0/24") }),
    ModifySubnetAttribute: (w) => ({ SubnetId: w.subnetB, MapPublicIpOnLaunch: { Value: false } }),
    CreateRouteTable: (w) => ({ VpcId: w.vpc }),
    DescribeRouteTables: (w) => ({ Filters: [{ Name: "vpc-id", Values: [w.vpc] }] }),
    AssociateRouteTable: async (w) => ({
      RouteTableId: await w.fresh.routeTable(),
      SubnetId: await w.fresh.subnet("10.0.5.0/24"),
    }),
    DisassociateRouteTable: async (w) => {
      const rtb = await w.fresh.routeTable();
      const subnet = await w.fresh.subnet("10.0.6.0/24");
      const assoc = await w.call("ec2", "AssociateRouteTable", { RouteTableId: rtb, SubnetId: subnet });
      return { AssociationId: assoc.AssociationId };
    },
    CreateRoute: async (w) => ({
      RouteTableId: await w.fresh.routeTable(),
      DestinationCidrBlock: "0.0.0.0/0",
      GatewayId: w.igw,
    }),
    DeleteRoute: (w) => ({ RouteTableId: w.rtb, DestinationCidrBlock: "0.0.0.0/0" }),
    DeleteRouteTable: async (w) => ({ RouteTableId: await w.fresh.routeTable() }),
    CreateInternetGateway: () => ({
      TagSpecifications: [{ ResourceType: "internet-gateway", Tags: [{ Key: "k", Value: "v" }] }],
    }),
    DescribeInternetGateways: (w) => ({ InternetGatewayIds: [w.igw] }),
    AttachInternetGateway: async (w) => ({
      InternetGatewayId: await w.fresh.internetGateway(),
      VpcId: await w.fresh.vpc("10.40.0.0/16"),
    }),
    DetachInternetGateway: async (w) => {
      const igw = await w.fresh.internetGateway();
      const vpc = await w.fresh.vpc("10.41.0.0/16");
      await w.call("ec2", "AttachInternetGateway", { InternetGatewayId: igw, VpcId: vpc });
      return { InternetGatewayId: igw, VpcId: vpc };
    },
    DeleteInternetGateway: async (w) => ({ InternetGatewayId: await w.fresh.internetGateway() }),
    CreateSecurityGroup: (w) => ({ GroupName: w.unique("web"), Description: "web", VpcId: w.vpc }),
    DescribeSecurityGroups: (w) => ({ GroupIds: [w.sg] }),
    DescribeSecurityGroupRules: (w) => ({ Filters: [{ Name: "group-id", Values: [w.sg] }] }),
    AuthorizeSecurityGroupIngress: (w) => ({
      GroupId: w.sg,
      IpPermissions: [
        {
          IpProtocol: "tcp",
          FromPort: 80,
          ToPort: 80,
          IpRanges: [{ CidrIp: "10.0.0.0/8", Description: "web" }],
        },
      ],
    }),
    AuthorizeSecurityGroupEgress: (w) => ({
      GroupId: w.sg,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, IpRanges: [{ CidrIp: "10.0.0.0/8" }] },
      ],
    }),
    RevokeSecurityGroupIngress: (w) => ({
      GroupId: w.sg,
      IpPermissions: [{ IpProtocol: "tcp", FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: "10.0.0.0/8" }] }],
    }),
    RevokeSecurityGroupEgress: (w) => ({
      GroupId: w.sg,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, IpRanges: [{ CidrIp: "10.0.0.0/8" }] },
      ],
    }),
    DeleteSecurityGroup: async (w) => ({ GroupId: await w.fresh.securityGroup() }),
    RunInstances: (w) => ({
      ImageId: "ami-12345678",
      MinCount: 1,
      MaxCount: 1,
      SubnetId: w.subnetB,
      InstanceType: "t3.micro",
    }),
    DescribeInstances: (w) => ({ InstanceIds: [w.instance] }),
    TerminateInstances: async (w) => ({ InstanceIds: [await w.fresh.instance()] }),
    DescribeNetworkInterfaces: (w) => ({ NetworkInterfaceIds: [w.eni] }),
    CreateVpcEndpoint: (w) => ({
      VpcEndpointType: "Interface",
      VpcId: w.vpc,
      ServiceName: "com.amazonaws.us-east-1.kms",
      SubnetIds: [w.subnetA],
      ClientToken: "shape-token",
    }),
    ModifyVpcEndpoint: (w) => ({ VpcEndpointId: w.awsEndpoint, AddSecurityGroupIds: [w.sg] }),
    DescribeVpcEndpoints: (w) => ({ VpcEndpointIds: [w.endpoint, w.awsEndpoint, w.gatewayEndpoint] }),
    DescribeVpcEndpointServices: (w) => ({ ServiceNames: [w.svcName, "com.amazonaws.us-east-1.s3"] }),
    DescribeVpcEndpointConnections: (w) => ({ Filters: [{ Name: "service-id", Values: [w.svcId] }] }),
    AcceptVpcEndpointConnections: (w) => ({ ServiceId: w.svcId, VpcEndpointIds: [w.endpoint] }),
    RejectVpcEndpointConnections: async (w) => ({
      ServiceId: w.svcId,
      VpcEndpointIds: [await w.fresh.endpoint()],
    }),
    ModifyVpcEndpointPayerResponsibility: (w) => ({
      VpcEndpointId: w.endpoint,
      Scope: "vpc-endpoint-charges",
      PayerResponsibility: "vpc-endpoint-service-account",
    }),
    DescribeVpcEndpointAssociations: (w) => ({ VpcEndpointIds: [w.endpoint] }),
    DescribePrefixLists: () => ({}),
    DescribeManagedPrefixLists: () => ({}),
    GetManagedPrefixListEntries: (w) => ({ PrefixListId: w.prefixList }),
    DeleteVpcEndpoints: async (w) => ({
      VpcEndpointIds: [await w.fresh.endpoint("com.amazonaws.us-east-1.sqs")],
    }),
    CreateVpcEndpointServiceConfiguration: async (w) => ({
      NetworkLoadBalancerArns: [await w.fresh.loadBalancer()],
      ClientToken: "shape-svc",
      PrivateDnsName: "svc.example.com",
    }),
    DescribeVpcEndpointServiceConfigurations: (w) => ({ ServiceIds: [w.svcId] }),
    ModifyVpcEndpointServiceConfiguration: (w) => ({ ServiceId: w.svcId, AcceptanceRequired: true }),
    ModifyVpcEndpointServicePayerResponsibility: async (w) => ({
      ServiceId: (await w.fresh.service()).ServiceId,
      PayerResponsibility: "ServiceOwner",
    }),
    StartVpcEndpointServicePrivateDnsVerification: (w) => ({ ServiceId: w.svcId }),
    ModifyVpcEndpointServicePermissions: (w) => ({
      ServiceId: w.svcId,
      AddAllowedPrincipals: ["arn:aws:iam::111122223333:root"],
    }),
    DescribeVpcEndpointServicePermissions: (w) => ({ ServiceId: w.svcId }),
    CreateVpcEndpointConnectionNotification: async (w) => ({
      ServiceId: (await w.fresh.service()).ServiceId,
      ConnectionNotificationArn: "arn:aws:sns:us-east-1:000000000000:other",
      ConnectionEvents: ["Reject"],
      ClientToken: "shape-notify",
    }),
    DescribeVpcEndpointConnectionNotifications: (w) => ({ ConnectionNotificationId: w.notification }),
    ModifyVpcEndpointConnectionNotification: (w) => ({
      ConnectionNotificationId: w.notification,
      ConnectionEvents: ["Connect", "Accept", "Delete"],
    }),
    DeleteVpcEndpointConnectionNotifications: async (w) => {
      const n = await w.call("ec2", "CreateVpcEndpointConnectionNotification", {
        ServiceId: w.svcId,
        ConnectionNotificationArn: "arn:aws:sns:us-east-1:000000000000:gone",
        ConnectionEvents: ["Delete"],
      });
      return { ConnectionNotificationIds: [n.ConnectionNotification.ConnectionNotificationId] };
    },
    DeleteVpcEndpointServiceConfigurations: async (w) => ({
      ServiceIds: [(await w.fresh.service()).ServiceId],
    }),
    CreateNatGateway: (w) => ({ SubnetId: w.subnetA, ConnectivityType: "private", ClientToken: "shape-nat" }),
    DescribeNatGateways: () => ({}),
    DeleteNatGateway: async (w) => ({
      NatGatewayId: (
        await w.call("ec2", "CreateNatGateway", { SubnetId: w.subnetB, ConnectivityType: "private" })
      ).NatGateway.NatGatewayId,
    }),
    ...EC2_CONNECTIVITY,
  },

  elasticloadbalancing: {
    CreateLoadBalancer: (w) => ({
      Name: w.unique("nlb"),
      Type: "network",
      Scheme: "internal",
      Subnets: [w.subnetA, w.subnetB],
    }),
    DescribeLoadBalancers: (w) => ({ LoadBalancerArns: [w.lb] }),
    DescribeLoadBalancerAttributes: (w) => ({ LoadBalancerArn: w.lb }),
    ModifyLoadBalancerAttributes: (w) => ({
      LoadBalancerArn: w.lb,
      Attributes: [{ Key: "load_balancing.cross_zone.enabled", Value: "true" }],
    }),
    DeleteLoadBalancer: async (w) => ({ LoadBalancerArn: await w.fresh.loadBalancer() }),
    CreateTargetGroup: (w) => ({
      Name: w.unique("tg"),
      Protocol: "TCP",
      Port: 443,
      VpcId: w.vpc,
      TargetType: "ip",
    }),
    DescribeTargetGroups: (w) => ({ TargetGroupArns: [w.tg] }),
    ModifyTargetGroup: (w) => ({ TargetGroupArn: w.tg, HealthCheckIntervalSeconds: 30 }),
    DescribeTargetGroupAttributes: (w) => ({ TargetGroupArn: w.tg }),
    ModifyTargetGroupAttributes: (w) => ({
      TargetGroupArn: w.tg,
      Attributes: [{ Key: "deregistration_delay.timeout_seconds", Value: "30" }],
    }),
    RegisterTargets: (w) => ({ TargetGroupArn: w.tg, Targets: [{ Id: "10.0.1.200", Port: 80 }] }),
    DeregisterTargets: (w) => ({ TargetGroupArn: w.tg, Targets: [{ Id: "10.0.1.200", Port: 80 }] }),
    DescribeTargetHealth: (w) => ({ TargetGroupArn: w.tg }),
    CreateListener: async (w) => ({
      LoadBalancerArn: w.lb,
      Protocol: "TCP",
      Port: 8443,
      DefaultActions: [{ Type: "forward", TargetGroupArn: await w.fresh.targetGroup() }],
    }),
    DescribeListeners: (w) => ({ LoadBalancerArn: w.lb }),
    DeleteListener: async (w) => {
      const l = await w.call("elasticloadbalancing", "CreateListener", {
        LoadBalancerArn: w.lb,
        Protocol: "TCP",
        Port: 9000,
        DefaultActions: [{ Type: "forward", TargetGroupArn: await w.fresh.targetGroup() }],
      });
      return { ListenerArn: l.Listeners[0].ListenerArn };
    },
    DeleteTargetGroup: async (w) => ({ TargetGroupArn: await w.fresh.targetGroup() }),
    AddTags: (w) => ({ ResourceArns: [w.lb], Tags: [{ Key: "team", Value: "net" }] }),
    DescribeTags: (w) => ({ ResourceArns: [w.lb, w.tg] }),
    RemoveTags: (w) => ({ ResourceArns: [w.lb], TagKeys: ["team"] }),
  },

  route53: {
    CreateHostedZone: () => ({ Name: "public.example.org", CallerReference: "shape-public" }),
    GetHostedZone: (w) => ({ Id: rid(w) }),
    ListHostedZones: () => ({}),
    ListHostedZonesByName: () => ({ DNSName: "corp.example.com" }),
    GetHostedZoneCount: () => ({}),
    ChangeResourceRecordSets: (w) => ({
      HostedZoneId: rid(w),
      ChangeBatch: {
        Changes: [
          {
            Action: "UPSERT",
            ResourceRecordSet: {
              Name: "db.corp.example.com",
              Type: "A",
              TTL: 60,
              ResourceRecords: [{ Value: "10.0.1.9" }],
            },
          },
        ],
      },
    }),
    ListResourceRecordSets: (w) => ({ HostedZoneId: rid(w) }),
    GetChange: async (w) => {
      const c = await w.call("route53", "ChangeResourceRecordSets", {
        HostedZoneId: rid(w),
        ChangeBatch: {
          Changes: [
            {
              Action: "UPSERT",
              ResourceRecordSet: {
                Name: "cache.corp.example.com",
                Type: "A",
                TTL: 60,
                ResourceRecords: [{ Value: "10.0.1.8" }],
              },
            },
          ],
        },
      });
      return { Id: c.ChangeInfo.Id.replace("/change/", "") };
    },
    AssociateVPCWithHostedZone: async (w) => ({
      HostedZoneId: rid(w),
      VPC: { VPCRegion: "us-east-1", VPCId: await w.fresh.vpc("10.50.0.0/16") },
    }),
    DisassociateVPCFromHostedZone: async (w) => {
      const vpc = await w.fresh.vpc("10.51.0.0/16");
      await w.call("route53", "AssociateVPCWithHostedZone", {
        HostedZoneId: rid(w),
        VPC: { VPCRegion: "us-east-1", VPCId: vpc },
      });
      return { HostedZoneId: rid(w), VPC: { VPCRegion: "us-east-1", VPCId: vpc } };
    },
    CreateVPCAssociationAuthorization: async (w) => {
      w.authorizedVpc = await w.fresh.vpc("10.52.0.0/16");
      return { HostedZoneId: rid(w), VPC: { VPCRegion: "us-east-1", VPCId: w.authorizedVpc } };
    },
    ListVPCAssociationAuthorizations: (w) => ({ HostedZoneId: rid(w) }),
    DeleteVPCAssociationAuthorization: (w) => ({
      HostedZoneId: rid(w),
      VPC: { VPCRegion: "us-east-1", VPCId: w.authorizedVpc },
    }),
    ListHostedZonesByVPC: (w) => ({ VPCId: w.vpc, VPCRegion: "us-east-1" }),
    DeleteHostedZone: async (w) => ({
      Id: (
        await w.call("route53", "CreateHostedZone", {
          Name: "gone.example.org",
          CallerReference: w.unique("gone"),
        })
      ).HostedZone.Id.replace("/hostedzone/", ""),
    }),
  },

  secretsmanager: {
    CreateSecret: (w) => ({
      Name: w.unique("shape/new"),
      SecretString: "v1",
      Tags: [{ Key: "k", Value: "v" }],
    }),
    GetSecretValue: (w) => ({ SecretId: w.secret }),
    PutSecretValue: (w) => ({ SecretId: w.secret, SecretString: "v2" }),
    UpdateSecret: (w) => ({ SecretId: w.secret, Description: "database" }),
    DescribeSecret: (w) => ({ SecretId: w.secret }),
    ListSecrets: () => ({}),
    TagResource: (w) => ({ SecretId: w.secret, Tags: [{ Key: "team", Value: "db" }] }),
    UntagResource: (w) => ({ SecretId: w.secret, TagKeys: ["team"] }),
    PutResourcePolicy: (w) => ({
      SecretId: w.secret,
      ResourcePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::000000000000:root" },
            Action: "secretsmanager:GetSecretValue",
            Resource: "*",
          },
        ],
      }),
    }),
    GetResourcePolicy: (w) => ({ SecretId: w.secret }),
    DeleteResourcePolicy: (w) => ({ SecretId: w.secret }),
    DeleteSecret: async (w) => ({ SecretId: await w.fresh.secret(), RecoveryWindowInDays: 7 }),
    RestoreSecret: async (w) => {
      const arn = await w.fresh.secret();
      await w.call("secretsmanager", "DeleteSecret", { SecretId: arn, RecoveryWindowInDays: 7 });
      return { SecretId: arn };
    },
  },

  logs: {
    CreateLogGroup: (w) => ({ logGroupName: w.unique("/shape/new"), tags: { k: "v" } }),
    DeleteLogGroup: async (w) => {
      const logGroupName = w.unique("/shape/gone");
      await w.call("logs", "CreateLogGroup", { logGroupName });
      return { logGroupName };
    },
    CreateLogStream: (w) => ({ logGroupName: w.logGroup, logStreamName: w.unique("stream") }),
    DeleteLogStream: async (w) => {
      const logStreamName = w.unique("gone");
      await w.call("logs", "CreateLogStream", { logGroupName: w.logGroup, logStreamName });
      return { logGroupName: w.logGroup, logStreamName };
    },
    PutRetentionPolicy: (w) => ({ logGroupName: w.logGroup, retentionInDays: 7 }),
    DeleteRetentionPolicy: (w) => ({ logGroupName: w.logGroup }),
    AssociateKmsKey: (w) => ({
      logGroupName: w.logGroup,
      kmsKeyId: "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    }),
    DisassociateKmsKey: (w) => ({ logGroupName: w.logGroup }),
    PutLogEvents: (w) => ({
      logGroupName: w.logGroup,
      logStreamName: w.logStream,
      logEvents: [{ timestamp: Date.now(), message: "second event" }],
    }),
    GetLogEvents: (w) => ({ logGroupName: w.logGroup, logStreamName: w.logStream, startFromHead: true }),
    FilterLogEvents: (w) => ({ logGroupName: w.logGroup, filterPattern: "hello" }),
    DescribeLogGroups: () => ({ logGroupNamePrefix: "/shape" }),
    DescribeLogStreams: (w) => ({ logGroupName: w.logGroup }),
    TagLogGroup: (w) => ({ logGroupName: w.logGroup, tags: { team: "net" } }),
    UntagLogGroup: (w) => ({ logGroupName: w.logGroup, tags: ["team"] }),
    ListTagsLogGroup: (w) => ({ logGroupName: w.logGroup }),
    TagResource: (w) => ({ resourceArn: w.logGroupArn.replace(/:\*$/, ""), tags: { owner: "ops" } }),
    UntagResource: (w) => ({ resourceArn: w.logGroupArn.replace(/:\*$/, ""), tagKeys: ["owner"] }),
    ListTagsForResource: (w) => ({ resourceArn: w.logGroupArn.replace(/:\*$/, "") }),
    PutResourcePolicy: () => ({
      policyName: "shape",
      policyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "route53.amazonaws.com" },
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: "arn:aws:logs:us-east-1:000000000000:log-group:*",
          },
        ],
      }),
    }),
    DescribeResourcePolicies: () => ({}),
    DeleteResourcePolicy: () => ({ policyName: "shape" }),
  },

  ssm: {
    PutParameter: (w) => ({ Name: w.parameter, Value: "https://api2.example.com", Overwrite: true }),
    GetParameter: (w) => ({ Name: w.parameter }),
    GetParameters: (w) => ({ Names: [w.parameter, "/shape/nope"] }),
    GetParametersByPath: () => ({ Path: "/shape", Recursive: true }),
    DeleteParameter: async (w) => {
      const Name = w.unique("/shape/gone");
      await w.call("ssm", "PutParameter", { Name, Value: "x", Type: "String" });
      return { Name };
    },
    DeleteParameters: async (w) => {
      const Name = w.unique("/shape/gone");
      await w.call("ssm", "PutParameter", { Name, Value: "x", Type: "String" });
      return { Names: [Name, "/shape/nope"] };
    },
    DescribeParameters: () => ({}),
    GetParameterHistory: (w) => ({ Name: w.parameter }),
    LabelParameterVersion: (w) => ({ Name: w.parameter, ParameterVersion: 1, Labels: ["prod"] }),
    UnlabelParameterVersion: (w) => ({ Name: w.parameter, ParameterVersion: 1, Labels: ["prod"] }),
    AddTagsToResource: (w) => ({
      ResourceType: "Parameter",
      ResourceId: w.parameter,
      Tags: [{ Key: "team", Value: "net" }],
    }),
    RemoveTagsFromResource: (w) => ({
      ResourceType: "Parameter",
      ResourceId: w.parameter,
      TagKeys: ["team"],
    }),
    ListTagsForResource: (w) => ({ ResourceType: "Parameter", ResourceId: w.parameter }),
  },

  sns: {
    CreateTopic: (w) => ({ Name: w.unique("shape-new"), Tags: [{ Key: "k", Value: "v" }] }),
    DeleteTopic: async (w) => ({
      TopicArn: (await w.call("sns", "CreateTopic", { Name: w.unique("gone") })).TopicArn,
    }),
    ListTopics: () => ({}),
    GetTopicAttributes: (w) => ({ TopicArn: w.topic }),
    SetTopicAttributes: (w) => ({ TopicArn: w.topic, AttributeName: "DisplayName", AttributeValue: "Shape" }),
    Subscribe: (w) => ({ TopicArn: w.topic, Protocol: "privlink-events", ReturnSubscriptionArn: true }),
    ConfirmSubscription: (w) => w.pendingSubscription(),
    Unsubscribe: async (w) => ({
      SubscriptionArn: (
        await w.call("sns", "Subscribe", {
          TopicArn: w.topic,
          Protocol: "privlink-events",
          Endpoint: "gone",
          ReturnSubscriptionArn: true,
        })
      ).SubscriptionArn,
    }),
    ListSubscriptions: () => ({}),
    ListSubscriptionsByTopic: (w) => ({ TopicArn: w.topic }),
    GetSubscriptionAttributes: (w) => ({ SubscriptionArn: w.subscription }),
    SetSubscriptionAttributes: (w) => ({
      SubscriptionArn: w.subscription,
      AttributeName: "RawMessageDelivery",
      AttributeValue: "true",
    }),
    Publish: (w) => ({ TopicArn: w.topic, Message: "hello", Subject: "shape" }),
    TagResource: (w) => ({ ResourceArn: w.topic, Tags: [{ Key: "team", Value: "net" }] }),
    UntagResource: (w) => ({ ResourceArn: w.topic, TagKeys: ["team"] }),
    ListTagsForResource: (w) => ({ ResourceArn: w.topic }),
  },

  monitoring: {
    PutMetricData: (w) => ({
      Namespace: w.metricNamespace,
      MetricData: [
        { MetricName: "Requests", Value: 2, Unit: "Count", Dimensions: [{ Name: "Service", Value: "web" }] },
      ],
    }),
    GetMetricStatistics: (w) => ({
      Namespace: w.metricNamespace,
      MetricName: "Requests",
      Dimensions: [{ Name: "Service", Value: "web" }],
      StartTime: new Date(Date.now() - 3_600_000),
      EndTime: new Date(Date.now() + 60_000),
      Period: 60,
      Statistics: ["Sum", "Average"],
    }),
    GetMetricData: (w) => ({
      MetricDataQueries: [
        {
          Id: "m1",
          MetricStat: {
            Metric: {
              Namespace: w.metricNamespace,
              MetricName: "Requests",
              Dimensions: [{ Name: "Service", Value: "web" }],
            },
            Period: 60,
            Stat: "Sum",
          },
        },
      ],
      StartTime: new Date(Date.now() - 3_600_000),
      EndTime: new Date(Date.now() + 60_000),
    }),
    ListMetrics: (w) => ({ Namespace: w.metricNamespace }),
    PutMetricAlarm: (w) => ({
      AlarmName: w.unique("alarm"),
      Namespace: w.metricNamespace,
      MetricName: "Requests",
      Statistic: "Sum",
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 5,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    }),
    DescribeAlarms: (w) => ({ AlarmNames: [w.alarm] }),
    DeleteAlarms: async (w) => {
      const AlarmName = w.unique("gone");
      await w.call("monitoring", "PutMetricAlarm", {
        AlarmName,
        Namespace: w.metricNamespace,
        MetricName: "Requests",
        Statistic: "Sum",
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 5,
        ComparisonOperator: "GreaterThanThreshold",
      });
      return { AlarmNames: [AlarmName] };
    },
  },

  route53resolver: ROUTE53RESOLVER,
  directconnect: DIRECTCONNECT,
};
