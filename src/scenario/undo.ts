/**
 * Teardown through the public APIs: each call that makes something has the call that removes
 * it, built from the call's own parameters and output (as Terraform destroys what it made).
 * The runner replays them in reverse order, retrying those a dependency still blocks.
 */

export interface UndoCall {
  readonly service: string;
  readonly action: string;
  readonly input: Record<string, unknown>;
  /** The account whose keys make the call. */
  readonly as: string;
  /** What it removes, for the report. */
  readonly what: string;
}

type P = Record<string, any>;
type Inverse = (params: P, out: P) => { action: string; input: P; what: string }[] | undefined;

const one =
  (action: string, build: (p: P, o: P) => P | undefined, what: (p: P, o: P) => string): Inverse =>
  (p, o) => {
    const input = build(p, o);
    return input ? [{ action, input, what: what(p, o) }] : undefined;
  };

const EC2: Record<string, Inverse> = {
  CreateVpc: one(
    "DeleteVpc",
    (_p, o) => ({ VpcId: o.Vpc?.VpcId }),
    (_p, o) => o.Vpc?.VpcId,
  ),
  CreateSubnet: one(
    "DeleteSubnet",
    (_p, o) => ({ SubnetId: o.Subnet?.SubnetId }),
    (_p, o) => o.Subnet?.SubnetId,
  ),
  CreateSecurityGroup: one(
    "DeleteSecurityGroup",
    (_p, o) => ({ GroupId: o.GroupId }),
    (_p, o) => o.GroupId,
  ),
  RunInstances: one(
    "TerminateInstances",
    (_p, o) => ({ InstanceIds: (o.Instances ?? []).map((i: P) => i.InstanceId) }),
    (_p, o) => (o.Instances ?? []).map((i: P) => i.InstanceId).join(" "),
  ),
  CreateVpcEndpoint: one(
    "DeleteVpcEndpoints",
    (_p, o) => ({ VpcEndpointIds: [o.VpcEndpoint?.VpcEndpointId] }),
    (_p, o) => o.VpcEndpoint?.VpcEndpointId,
  ),
  CreateVpcEndpointServiceConfiguration: one(
    "DeleteVpcEndpointServiceConfigurations",
    (_p, o) => ({ ServiceIds: [o.ServiceConfiguration?.ServiceId] }),
    (_p, o) => o.ServiceConfiguration?.ServiceId,
  ),
  CreateVpcEndpointConnectionNotification: one(
    "DeleteVpcEndpointConnectionNotifications",
    (_p, o) => ({ ConnectionNotificationIds: [o.ConnectionNotification?.ConnectionNotificationId] }),
    (_p, o) => o.ConnectionNotification?.ConnectionNotificationId,
  ),
  CreateVpcPeeringConnection: one(
    "DeleteVpcPeeringConnection",
    (_p, o) => ({ VpcPeeringConnectionId: o.VpcPeeringConnection?.VpcPeeringConnectionId }),
    (_p, o) => o.VpcPeeringConnection?.VpcPeeringConnectionId,
  ),
  CreateTransitGateway: one(
    "DeleteTransitGateway",
    (_p, o) => ({ TransitGatewayId: o.TransitGateway?.TransitGatewayId }),
    (_p, o) => o.TransitGateway?.TransitGatewayId,
  ),
  CreateTransitGatewayVpcAttachment: one(
    "DeleteTransitGatewayVpcAttachment",
    (_p, o) => ({ TransitGatewayAttachmentId: o.TransitGatewayVpcAttachment?.TransitGatewayAttachmentId }),
    (_p, o) => o.TransitGatewayVpcAttachment?.TransitGatewayAttachmentId,
  ),
  CreateTransitGatewayRoute: one(
    "DeleteTransitGatewayRoute",
    (p) => ({
      TransitGatewayRouteTableId: p.TransitGatewayRouteTableId,
      DestinationCidrBlock: p.DestinationCidrBlock,
    }),
    (p) => `route ${p.DestinationCidrBlock} in ${p.TransitGatewayRouteTableId}`,
  ),
  CreateRoute: one(
    "DeleteRoute",
    (p) => ({ RouteTableId: p.RouteTableId, DestinationCidrBlock: p.DestinationCidrBlock }),
    (p) => `route ${p.DestinationCidrBlock} in ${p.RouteTableId}`,
  ),
  CreateRouteTable: one(
    "DeleteRouteTable",
    (_p, o) => ({ RouteTableId: o.RouteTable?.RouteTableId }),
    (_p, o) => o.RouteTable?.RouteTableId,
  ),
  AssociateRouteTable: one(
    "DisassociateRouteTable",
    (_p, o) => ({ AssociationId: o.AssociationId }),
    (_p, o) => o.AssociationId,
  ),
  CreateInternetGateway: one(
    "DeleteInternetGateway",
    (_p, o) => ({ InternetGatewayId: o.InternetGateway?.InternetGatewayId }),
    (_p, o) => o.InternetGateway?.InternetGatewayId,
  ),
  AttachInternetGateway: one(
    "DetachInternetGateway",
    (p) => ({ ...p }),
    (p) => `${p.InternetGatewayId} from ${p.VpcId}`,
  ),
  CreateCustomerGateway: one(
    "DeleteCustomerGateway",
    (_p, o) => ({ CustomerGatewayId: o.CustomerGateway?.CustomerGatewayId }),
    (_p, o) => o.CustomerGateway?.CustomerGatewayId,
  ),
  CreateVpnGateway: one(
    "DeleteVpnGateway",
    (_p, o) => ({ VpnGatewayId: o.VpnGateway?.VpnGatewayId }),
    (_p, o) => o.VpnGateway?.VpnGatewayId,
  ),
  AttachVpnGateway: one(
    "DetachVpnGateway",
    (p) => ({ ...p }),
    (p) => `${p.VpnGatewayId} from ${p.VpcId}`,
  ),
  CreateVpnConnection: one(
    "DeleteVpnConnection",
    (_p, o) => ({ VpnConnectionId: o.VpnConnection?.VpnConnectionId }),
    (_p, o) => o.VpnConnection?.VpnConnectionId,
  ),
  CreateFlowLogs: one(
    "DeleteFlowLogs",
    (_p, o) => ({ FlowLogIds: o.FlowLogIds }),
    (_p, o) => (o.FlowLogIds ?? []).join(" "),
  ),
  CreateNetworkAcl: one(
    "DeleteNetworkAcl",
    (_p, o) => ({ NetworkAclId: o.NetworkAcl?.NetworkAclId }),
    (_p, o) => o.NetworkAcl?.NetworkAclId,
  ),
};

const ELBV2: Record<string, Inverse> = {
  CreateLoadBalancer: one(
    "DeleteLoadBalancer",
    (_p, o) => ({ LoadBalancerArn: o.LoadBalancers?.[0]?.LoadBalancerArn }),
    (_p, o) => o.LoadBalancers?.[0]?.LoadBalancerName,
  ),
  CreateTargetGroup: one(
    "DeleteTargetGroup",
    (_p, o) => ({ TargetGroupArn: o.TargetGroups?.[0]?.TargetGroupArn }),
    (_p, o) => o.TargetGroups?.[0]?.TargetGroupName,
  ),
  CreateListener: one(
    "DeleteListener",
    (_p, o) => ({ ListenerArn: o.Listeners?.[0]?.ListenerArn }),
    (_p, o) => `listener ${o.Listeners?.[0]?.Port}`,
  ),
};

const ROUTE53: Record<string, Inverse> = {
  CreateHostedZone: one(
    "DeleteHostedZone",
    (_p, o) => ({ Id: o.HostedZone?.Id }),
    (_p, o) => o.HostedZone?.Name,
  ),
  ChangeResourceRecordSets: (p) => {
    const changes = (p.ChangeBatch?.Changes ?? []).filter((c: P) => c.Action === "CREATE");
    if (!changes.length) return undefined;
    return [
      {
        action: "ChangeResourceRecordSets",
        input: {
          HostedZoneId: p.HostedZoneId,
          ChangeBatch: { Changes: changes.map((c: P) => ({ ...c, Action: "DELETE" })) },
        },
        what: changes.map((c: P) => `${c.ResourceRecordSet?.Type} ${c.ResourceRecordSet?.Name}`).join(", "),
      },
    ];
  },
  AssociateVPCWithHostedZone: one(
    "DisassociateVPCFromHostedZone",
    (p) => ({ HostedZoneId: p.HostedZoneId, VPC: p.VPC }),
    (p) => `${p.VPC?.VPCId} from ${p.HostedZoneId}`,
  ),
};

const OTHERS: Record<string, Record<string, Inverse>> = {
  secretsmanager: {
    CreateSecret: one(
      "DeleteSecret",
      (_p, o) => ({ SecretId: o.ARN, ForceDeleteWithoutRecovery: true }),
      (_p, o) => o.Name,
    ),
  },
  logs: {
    CreateLogGroup: one(
      "DeleteLogGroup",
      (p) => ({ logGroupName: p.logGroupName }),
      (p) => p.logGroupName,
    ),
    PutResourcePolicy: one(
      "DeleteResourcePolicy",
      (p) => ({ policyName: p.policyName }),
      (p) => `resource policy ${p.policyName}`,
    ),
  },
  ssm: {
    PutParameter: one(
      "DeleteParameter",
      (p) => ({ Name: p.Name }),
      (p) => p.Name,
    ),
  },
  sns: {
    CreateTopic: one(
      "DeleteTopic",
      (_p, o) => ({ TopicArn: o.TopicArn }),
      (_p, o) => o.TopicArn,
    ),
  },
  // The runner empties a bucket before this (S3 refuses to delete one with objects).
  s3: {
    CreateBucket: one(
      "DeleteBucket",
      (p) => ({ Bucket: p.Bucket }),
      (p) => `bucket ${p.Bucket}`,
    ),
  },
  route53resolver: {
    CreateResolverEndpoint: one(
      "DeleteResolverEndpoint",
      (_p, o) => ({ ResolverEndpointId: o.ResolverEndpoint?.Id }),
      (_p, o) => o.ResolverEndpoint?.Id,
    ),
  },
  directconnect: {
    CreateConnection: one(
      "DeleteConnection",
      (_p, o) => ({ connectionId: o.connectionId }),
      (_p, o) => o.connectionId,
    ),
    CreateDirectConnectGateway: one(
      "DeleteDirectConnectGateway",
      (_p, o) => ({ directConnectGatewayId: o.directConnectGateway?.directConnectGatewayId }),
      (_p, o) => o.directConnectGateway?.directConnectGatewayId,
    ),
    CreateDirectConnectGatewayAssociation: one(
      "DeleteDirectConnectGatewayAssociation",
      (_p, o) => ({ associationId: o.directConnectGatewayAssociation?.associationId }),
      (_p, o) => o.directConnectGatewayAssociation?.associationId,
    ),
    CreatePrivateVirtualInterface: one(
      "DeleteVirtualInterface",
      (_p, o) => ({ virtualInterfaceId: o.virtualInterfaceId }),
      (_p, o) => o.virtualInterfaceId,
    ),
  },
};

const TABLE: Record<string, Record<string, Inverse>> = {
  ec2: EC2,
  elbv2: ELBV2,
  route53: ROUTE53,
  ...OTHERS,
};

/** The calls that remove what `service:action` made (none for reads and updates). */
export function undoOf(service: string, action: string, params: P, output: P, as: string): UndoCall[] {
  const calls = TABLE[service]?.[action]?.(params, output) ?? [];
  return calls.map((c) => ({ service, as, ...c }));
}

/** Whether an error means the thing is already gone (teardown goes on). */
export function isGone(code: string): boolean {
  return /NotFound|NoSuch/.test(code);
}
