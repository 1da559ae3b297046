import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type SdkCaller, sdkCaller } from "./sdk-call.js";

/**
 * One account's worth of everything privlink serves, built through the real SDK, so that every
 * action has something non-trivial to describe. Destructive fixtures make their own victims
 * with {@link World.fresh}, so the shared resources stay for the fixtures that follow.
 */
export class World {
  vpc = "";
  subnetA = "";
  subnetB = "";
  sg = "";
  rtb = "";
  rtbAssoc = "";
  igw = "";
  instance = "";
  instanceIp = "";
  eni = "";
  lb = "";
  tg = "";
  listener = "";
  svcId = "";
  svcName = "";
  notification = "";
  endpoint = "";
  awsEndpoint = "";
  gatewayEndpoint = "";
  zone = "";
  secret = "";
  prefixList = "";
  logGroup = "/shape/app";
  logGroupArn = "";
  logStream = "web-1";
  parameter = "/shape/app/url";
  topic = "";
  subscription = "";
  metricNamespace = "Shape";
  alarm = "shape-alarm";
  /** SNS SubscriptionConfirmation tokens, by topic, as a loopback HTTP subscriber receives them. */
  private tokens = new Map<string, string>();
  private receiver?: Server;
  /** Set by fixtures that hand a resource to a later one. */
  authorizedVpc = "";
  private n = 0;

  /** A site (an on-premises network), its public IP, and the hybrid resources attached to it. */
  site = "shape-colo";
  sitePublicIp = "";
  customerGateway = "";
  vpnGateway = "";
  vpnConnection = "";
  transitGateway = "";
  tgwAttachment = "";
  tgwRouteTable = "";
  peerVpc = "";
  peering = "";
  networkAcl = "";
  flowLog = "";
  insightsPath = "";
  insightsAnalysis = "";
  resolverEndpoint = "";
  resolverRule = "";
  dxConnection = "";
  dxGateway = "";
  dxVif = "";
  /** A second account: the owner of attachments the world's account accepts or rejects. */
  other?: SdkCaller & { destroy(): void };

  /**
   * `env` reaches privlink's admin API (sites, accounts) for the hybrid and cross-account
   * resources; without it the world has none of them.
   */
  constructor(
    readonly sdk: SdkCaller,
    readonly env?: { url: string; admin: (method: string, path: string, body?: unknown) => Promise<any> },
  ) {}

  async call(service: string, action: string, input: Record<string, unknown> = {}): Promise<any> {
    return (await this.sdk.send(service, action, input)).output;
  }

  /** A name no earlier call used. */
  unique(prefix: string): string {
    return `${prefix}-${++this.n}`;
  }

  async build(): Promise<this> {
    const ec2 = (a: string, i: Record<string, unknown> = {}) => this.call("ec2", a, i);
    const elb = (a: string, i: Record<string, unknown> = {}) => this.call("elasticloadbalancing", a, i);
    const tags = (type: string) => [{ ResourceType: type, Tags: [{ Key: "Name", Value: `shape-${type}` }] }];
    this.vpc = (
      await ec2("CreateVpc", { CidrBlock: "10.0.0.0/16", TagSpecifications: tags("vpc") })
    ).Vpc.VpcId;
    await ec2("ModifyVpcAttribute", { VpcId: this.vpc, EnableDnsHostnames: { Value: true } });
    const subnet = async (cidr: string, az: string) =>
      (
        await ec2("CreateSubnet", {
          VpcId: this.vpc,
          CidrBlock: cidr,
          AvailabilityZone: az,
          TagSpecifications: tags("subnet"),
        })
      ).Subnet.SubnetId;
    this.subnetA = await subnet("10.0.1.0/24", "us-east-1a");
    this.subnetB = await subnet("10.0.2.0/24", "us-east-1b");
    this.sg = (
      await ec2("CreateSecurityGroup", { GroupName: "app", Description: "app tier", VpcId: this.vpc })
    ).GroupId;
    await ec2("AuthorizeSecurityGroupIngress", {
      GroupId: this.sg,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "10.0.0.0/16" }] },
      ],
    });
    this.rtb = (
      await ec2("CreateRouteTable", { VpcId: this.vpc, TagSpecifications: tags("route-table") })
    ).RouteTable.RouteTableId;
    this.rtbAssoc = (
      await ec2("AssociateRouteTable", { RouteTableId: this.rtb, SubnetId: this.subnetB })
    ).AssociationId;
    this.igw = (
      await ec2("CreateInternetGateway", { TagSpecifications: tags("internet-gateway") })
    ).InternetGateway.InternetGatewayId;
    await ec2("AttachInternetGateway", { InternetGatewayId: this.igw, VpcId: this.vpc });
    await ec2("CreateRoute", {
      RouteTableId: this.rtb,
      DestinationCidrBlock: "0.0.0.0/0",
      GatewayId: this.igw,
    });
    const run = await ec2("RunInstances", {
      ImageId: "ami-12345678",
      MinCount: 1,
      MaxCount: 1,
      SubnetId: this.subnetA,
      SecurityGroupIds: [this.sg],
      TagSpecifications: tags("instance"),
    });
    this.instance = run.Instances[0].InstanceId;
    this.instanceIp = run.Instances[0].PrivateIpAddress;
    this.eni = run.Instances[0].NetworkInterfaces[0].NetworkInterfaceId;
    this.lb = (
      await elb("CreateLoadBalancer", {
        Name: "shape-nlb",
        Type: "network",
        Scheme: "internal",
        Subnets: [this.subnetA, this.subnetB],
        Tags: [{ Key: "Name", Value: "shape" }],
      })
    ).LoadBalancers[0].LoadBalancerArn;
    this.tg = (
      await elb("CreateTargetGroup", {
        Name: "shape-tg",
        Protocol: "TCP",
        Port: 80,
        VpcId: this.vpc,
        TargetType: "ip",
      })
    ).TargetGroups[0].TargetGroupArn;
    this.listener = (
      await elb("CreateListener", {
        LoadBalancerArn: this.lb,
        Protocol: "TCP",
        Port: 80,
        DefaultActions: [{ Type: "forward", TargetGroupArn: this.tg }],
      })
    ).Listeners[0].ListenerArn;
    await elb("RegisterTargets", { TargetGroupArn: this.tg, Targets: [{ Id: this.instanceIp, Port: 80 }] });
    const svc = (
      await ec2("CreateVpcEndpointServiceConfiguration", {
        NetworkLoadBalancerArns: [this.lb],
        AcceptanceRequired: true,
        PrivateDnsName: "api.example.com",
        TagSpecifications: tags("vpc-endpoint-service"),
      })
    ).ServiceConfiguration;
    this.svcId = svc.ServiceId;
    this.svcName = svc.ServiceName;
    await ec2("ModifyVpcEndpointServicePermissions", {
      ServiceId: this.svcId,
      AddAllowedPrincipals: ["arn:aws:iam::000000000000:root"],
    });
    this.notification = (
      await ec2("CreateVpcEndpointConnectionNotification", {
        ServiceId: this.svcId,
        ConnectionNotificationArn: "arn:aws:sns:us-east-1:000000000000:shape",
        ConnectionEvents: ["Connect", "Accept"],
      })
    ).ConnectionNotification.ConnectionNotificationId;
    this.endpoint = (
      await ec2("CreateVpcEndpoint", {
        VpcEndpointType: "Interface",
        VpcId: this.vpc,
        ServiceName: this.svcName,
        SubnetIds: [this.subnetA],
        SecurityGroupIds: [this.sg],
        TagSpecifications: tags("vpc-endpoint"),
      })
    ).VpcEndpoint.VpcEndpointId;
    this.awsEndpoint = (
      await ec2("CreateVpcEndpoint", {
        VpcEndpointType: "Interface",
        VpcId: this.vpc,
        ServiceName: "com.amazonaws.us-east-1.secretsmanager",
        SubnetIds: [this.subnetA, this.subnetB],
        SecurityGroupIds: [this.sg],
      })
    ).VpcEndpoint.VpcEndpointId;
    this.gatewayEndpoint = (
      await ec2("CreateVpcEndpoint", {
        VpcEndpointType: "Gateway",
        VpcId: this.vpc,
        ServiceName: "com.amazonaws.us-east-1.s3",
        RouteTableIds: [this.rtb],
      })
    ).VpcEndpoint.VpcEndpointId;
    this.prefixList = (await ec2("DescribePrefixLists", {})).PrefixLists[0].PrefixListId;
    this.zone = (
      await this.call("route53", "CreateHostedZone", {
        Name: "corp.example.com",
        CallerReference: "shape-zone",
        VPC: { VPCRegion: "us-east-1", VPCId: this.vpc },
        HostedZoneConfig: { Comment: "shape", PrivateZone: true },
      })
    ).HostedZone.Id;
    this.secret = (
      await this.call("secretsmanager", "CreateSecret", {
        Name: "shape/db",
        SecretString: "s3cr3t",
        Description: "db",
      })
    ).ARN;
    await this.buildServices();
    if (this.env) await this.buildConnectivity();
    return this;
  }

  /** Logs, SSM, SNS and CloudWatch: a log group with a stream and events, a parameter, a topic, a metric. */
  private async buildServices(): Promise<void> {
    await this.call("logs", "CreateLogGroup", { logGroupName: this.logGroup, tags: { Name: "shape" } });
    await this.call("logs", "CreateLogStream", {
      logGroupName: this.logGroup,
      logStreamName: this.logStream,
    });
    await this.call("logs", "PutLogEvents", {
      logGroupName: this.logGroup,
      logStreamName: this.logStream,
      logEvents: [{ timestamp: Date.now(), message: "hello shape" }],
    });
    this.logGroupArn = (
      await this.call("logs", "DescribeLogGroups", { logGroupNamePrefix: this.logGroup })
    ).logGroups[0].logGroupArn;
    await this.call("ssm", "PutParameter", {
      Name: this.parameter,
      Value: "https://api.example.com",
      Type: "String",
      Description: "the API",
      Tags: [{ Key: "Name", Value: "shape" }],
    });
    this.topic = (
      await this.call("sns", "CreateTopic", { Name: "shape", Tags: [{ Key: "Name", Value: "shape" }] })
    ).TopicArn;
    this.subscription = (
      await this.call("sns", "Subscribe", {
        TopicArn: this.topic,
        Protocol: "http",
        Endpoint: await this.subscriber(),
        ReturnSubscriptionArn: true,
      })
    ).SubscriptionArn;
    await this.call("monitoring", "PutMetricData", {
      Namespace: this.metricNamespace,
      MetricData: [
        { MetricName: "Requests", Value: 3, Unit: "Count", Dimensions: [{ Name: "Service", Value: "web" }] },
      ],
    });
    await this.call("monitoring", "PutMetricAlarm", {
      AlarmName: this.alarm,
      Namespace: this.metricNamespace,
      MetricName: "Requests",
      Dimensions: [{ Name: "Service", Value: "web" }],
      Statistic: "Sum",
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 10,
      ComparisonOperator: "GreaterThanThreshold",
    });
  }

  /** Peering, NACLs, flow logs, Network Insights, VPN, transit gateways, Resolver, Direct Connect. */
  private async buildConnectivity(): Promise<void> {
    const ec2 = (a: string, i: Record<string, unknown> = {}) => this.call("ec2", a, i);
    this.sitePublicIp = (
      await this.env!.admin("POST", "/_privlink/sites", { name: this.site, cidr: "172.30.0.0/16" })
    ).publicIp;
    this.peerVpc = await this.fresh.vpc("10.70.0.0/16");
    this.peering = (
      await ec2("CreateVpcPeeringConnection", { VpcId: this.vpc, PeerVpcId: this.peerVpc })
    ).VpcPeeringConnection.VpcPeeringConnectionId;
    await ec2("AcceptVpcPeeringConnection", { VpcPeeringConnectionId: this.peering });
    this.networkAcl = (await ec2("CreateNetworkAcl", { VpcId: this.vpc })).NetworkAcl.NetworkAclId;
    await ec2("CreateNetworkAclEntry", {
      NetworkAclId: this.networkAcl,
      RuleNumber: 100,
      Protocol: "6",
      RuleAction: "allow",
      Egress: false,
      CidrBlock: "10.0.0.0/16",
      PortRange: { From: 443, To: 443 },
    });
    this.flowLog = (
      await ec2("CreateFlowLogs", {
        ResourceIds: [this.vpc],
        ResourceType: "VPC",
        TrafficType: "ALL",
        LogDestinationType: "cloud-watch-logs",
        LogGroupName: "/shape/flow",
        DeliverLogsPermissionArn: "arn:aws:iam::000000000000:role/flow-logs",
      })
    ).FlowLogIds[0];
    this.insightsPath = (
      await ec2("CreateNetworkInsightsPath", {
        Source: this.instance,
        Destination: this.eni,
        Protocol: "tcp",
        DestinationPort: 443,
      })
    ).NetworkInsightsPath.NetworkInsightsPathId;
    this.insightsAnalysis = (
      await ec2("StartNetworkInsightsAnalysis", { NetworkInsightsPathId: this.insightsPath })
    ).NetworkInsightsAnalysis.NetworkInsightsAnalysisId;
    this.customerGateway = (
      await ec2("CreateCustomerGateway", { Type: "ipsec.1", IpAddress: this.sitePublicIp, BgpAsn: 65000 })
    ).CustomerGateway.CustomerGatewayId;
    this.vpnGateway = (await ec2("CreateVpnGateway", { Type: "ipsec.1" })).VpnGateway.VpnGatewayId;
    await ec2("AttachVpnGateway", { VpnGatewayId: this.vpnGateway, VpcId: this.vpc });
    this.vpnConnection = (
      await ec2("CreateVpnConnection", {
        Type: "ipsec.1",
        CustomerGatewayId: this.customerGateway,
        VpnGatewayId: this.vpnGateway,
        Options: { StaticRoutesOnly: true },
      })
    ).VpnConnection.VpnConnectionId;
    this.transitGateway = (
      await ec2("CreateTransitGateway", { Description: "shape" })
    ).TransitGateway.TransitGatewayId;
    await this.until(async () => {
      const t = await ec2("DescribeTransitGateways", { TransitGatewayIds: [this.transitGateway] });
      return t.TransitGateways[0].State === "available";
    });
    this.tgwAttachment = (
      await ec2("CreateTransitGatewayVpcAttachment", {
        TransitGatewayId: this.transitGateway,
        VpcId: this.vpc,
        SubnetIds: [this.subnetA],
      })
    ).TransitGatewayVpcAttachment.TransitGatewayAttachmentId;
    await this.attachmentAvailable(this.tgwAttachment);
    this.tgwRouteTable = (
      await ec2("CreateTransitGatewayRouteTable", { TransitGatewayId: this.transitGateway })
    ).TransitGatewayRouteTable.TransitGatewayRouteTableId;
    await this.until(async () => {
      const t = await ec2("DescribeTransitGatewayRouteTables", {
        TransitGatewayRouteTableIds: [this.tgwRouteTable],
      });
      return t.TransitGatewayRouteTables[0].State === "available";
    });
    const resolver = (a: string, i: Record<string, unknown>) => this.call("route53resolver", a, i);
    this.resolverEndpoint = (
      await resolver("CreateResolverEndpoint", {
        CreatorRequestId: "shape-out",
        Name: "shape-out",
        Direction: "OUTBOUND",
        SecurityGroupIds: [this.sg],
        IpAddresses: [{ SubnetId: this.subnetA }, { SubnetId: this.subnetB }],
      })
    ).ResolverEndpoint.Id;
    this.resolverRule = (
      await resolver("CreateResolverRule", {
        CreatorRequestId: "shape-rule",
        Name: "corp",
        RuleType: "FORWARD",
        DomainName: "onprem.example",
        ResolverEndpointId: this.resolverEndpoint,
        TargetIps: [{ Ip: "172.30.0.2", Port: 53 }],
      })
    ).ResolverRule.Id;
    const dx = (a: string, i: Record<string, unknown>) => this.call("directconnect", a, i);
    this.dxConnection = (
      await dx("CreateConnection", { location: this.site, bandwidth: "10Gbps", connectionName: "shape-dx" })
    ).connectionId;
    this.dxGateway = (
      await dx("CreateDirectConnectGateway", { directConnectGatewayName: "shape-dxgw", amazonSideAsn: 64600 })
    ).directConnectGateway.directConnectGatewayId;
    this.dxVif = (
      await dx("CreatePrivateVirtualInterface", {
        connectionId: this.dxConnection,
        newPrivateVirtualInterface: {
          virtualInterfaceName: "shape-vif",
          vlan: 100,
          asn: 65001,
          directConnectGatewayId: this.dxGateway,
        },
      })
    ).virtualInterfaceId;
    const creds = await this.env!.admin("POST", "/_privlink/accounts", { id: "222200000009" });
    this.other = sdkCaller(this.env!.url, {
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
    });
  }

  /** Polls `probe` until it holds (bounded: 10 s). */
  async until(probe: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if (await probe()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("the world did not settle within 10 s");
  }

  async attachmentAvailable(id: string, state = "available"): Promise<void> {
    await this.until(async () => {
      const a = await this.call("ec2", "DescribeTransitGatewayAttachments", {
        TransitGatewayAttachmentIds: [id],
      });
      return a.TransitGatewayAttachments[0]?.State === state;
    });
  }

  /** Another account's attachment to the world's transit gateway, waiting for acceptance. */
  async foreignAttachment(cidr: string): Promise<string> {
    const o = (a: string, i: Record<string, unknown>) => this.other!.send("ec2", a, i).then((r) => r.output);
    const vpc = (await o("CreateVpc", { CidrBlock: cidr })).Vpc.VpcId;
    const subnet = (
      await o("CreateSubnet", {
        VpcId: vpc,
        CidrBlock: cidr.replace(/0\/16$/, "0/24"),
        AvailabilityZone: "us-east-1a",
      })
    ).Subnet.SubnetId;
    const id = (
      await o("CreateTransitGatewayVpcAttachment", {
        TransitGatewayId: this.transitGateway,
        VpcId: vpc,
        SubnetIds: [subnet],
      })
    ).TransitGatewayVpcAttachment.TransitGatewayAttachmentId;
    await this.attachmentAvailable(id, "pendingAcceptance");
    return id;
  }

  destroy(): void {
    this.other?.destroy();
    this.receiver?.close();
  }

  /** A loopback HTTP endpoint that records SNS's subscription tokens (unref'd: it dies with the test). */
  private async subscriber(): Promise<string> {
    if (!this.receiver) {
      this.receiver = createServer((req, res) => {
        let body = "";
        req.on("data", (c) => {
          body += c;
        });
        req.on("end", () => {
          try {
            const m = JSON.parse(body);
            if (m.Type === "SubscriptionConfirmation") this.tokens.set(m.TopicArn, m.Token);
          } catch {}
          res.end();
        });
      });
      await new Promise<void>((ok) => this.receiver!.listen(0, "127.0.0.1", ok));
      this.receiver.unref();
    }
    return `http://127.0.0.1:${(this.receiver.address() as AddressInfo).port}/sns`;
  }

  /** A new topic with a pending HTTP subscription, and the token SNS sent to confirm it. */
  async pendingSubscription(): Promise<{ TopicArn: string; Token: string }> {
    const TopicArn = (await this.call("sns", "CreateTopic", { Name: this.unique("confirm") })).TopicArn;
    await this.call("sns", "Subscribe", { TopicArn, Protocol: "http", Endpoint: await this.subscriber() });
    for (let i = 0; i < 100 && !this.tokens.has(TopicArn); i++) await new Promise((r) => setTimeout(r, 50));
    const Token = this.tokens.get(TopicArn);
    if (!Token) throw new Error("SNS sent no SubscriptionConfirmation to the loopback subscriber");
    return { TopicArn, Token };
  }

  /** New resources for fixtures that delete, detach or terminate. */
  readonly fresh = {
    vpc: async (cidr = "10.9.0.0/16") =>
      (await this.call("ec2", "CreateVpc", { CidrBlock: cidr })).Vpc.VpcId as string,
    subnet: async (cidr: string) =>
      (
        await this.call("ec2", "CreateSubnet", {
          VpcId: this.vpc,
          CidrBlock: cidr,
          AvailabilityZone: "us-east-1a",
        })
      ).Subnet.SubnetId as string,
    routeTable: async () =>
      (await this.call("ec2", "CreateRouteTable", { VpcId: this.vpc })).RouteTable.RouteTableId as string,
    securityGroup: async () =>
      (
        await this.call("ec2", "CreateSecurityGroup", {
          GroupName: this.unique("group"),
          Description: "fixture",
          VpcId: this.vpc,
        })
      ).GroupId as string,
    internetGateway: async () =>
      (await this.call("ec2", "CreateInternetGateway", {})).InternetGateway.InternetGatewayId as string,
    instance: async () =>
      (
        await this.call("ec2", "RunInstances", {
          ImageId: "ami-12345678",
          MinCount: 1,
          MaxCount: 1,
          SubnetId: this.subnetA,
        })
      ).Instances[0].InstanceId as string,
    loadBalancer: async (type: "network" | "gateway" = "network") =>
      (
        await this.call("elasticloadbalancing", "CreateLoadBalancer", {
          Name: this.unique("lb"),
          Type: type,
          Scheme: type === "network" ? "internal" : undefined,
          Subnets: [this.subnetA],
        })
      ).LoadBalancers[0].LoadBalancerArn as string,
    targetGroup: async () =>
      (
        await this.call("elasticloadbalancing", "CreateTargetGroup", {
          Name: this.unique("tg"),
          Protocol: "TCP",
          Port: 8080,
          VpcId: this.vpc,
          TargetType: "ip",
        })
      ).TargetGroups[0].TargetGroupArn as string,
    service: async () =>
      (
        await this.call("ec2", "CreateVpcEndpointServiceConfiguration", {
          NetworkLoadBalancerArns: [await this.fresh.loadBalancer()],
          AcceptanceRequired: true,
        })
      ).ServiceConfiguration as { ServiceId: string; ServiceName: string },
    endpoint: async (serviceName = this.svcName) =>
      (
        await this.call("ec2", "CreateVpcEndpoint", {
          VpcEndpointType: "Interface",
          VpcId: this.vpc,
          ServiceName: serviceName,
          SubnetIds: [this.subnetB],
        })
      ).VpcEndpoint.VpcEndpointId as string,
    secret: async () =>
      (
        await this.call("secretsmanager", "CreateSecret", {
          Name: this.unique("shape/tmp"),
          SecretString: "x",
        })
      ).ARN as string,
  };
}
