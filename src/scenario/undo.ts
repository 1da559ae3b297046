import { valueAt } from "./refs.js";

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

/** The value at a dotted path of a call's output ("Vpc.VpcId"); undefined where it stops. */
const at = (o: P, path: string): any => valueAt(o, path);

/**
 * Removed by the id the create call answered: the delete action, its parameter, and where the
 * id is in the output; `list` when the delete action takes a list of ids.
 */
const byId = (action: string, key: string, path: string, list = false): Inverse =>
  one(
    action,
    (_p, o) => ({ [key]: list ? [at(o, path)] : at(o, path) }),
    (_p, o) => at(o, path),
  );

/** Removed by the create call's own parameter of the same name (`label` prefixes the report). */
const byParam = (action: string, key: string, label = ""): Inverse =>
  one(
    action,
    (p) => ({ [key]: p[key] }),
    (p) => (label ? `${label}${p[key]}` : p[key]),
  );

const detach = (action: string, gateway: string): Inverse =>
  one(
    action,
    (p) => ({ ...p }),
    (p) => `${p[gateway]} from ${p.VpcId}`,
  );

const EC2: Record<string, Inverse> = {
  CreateVpc: byId("DeleteVpc", "VpcId", "Vpc.VpcId"),
  CreateSubnet: byId("DeleteSubnet", "SubnetId", "Subnet.SubnetId"),
  CreateSecurityGroup: byId("DeleteSecurityGroup", "GroupId", "GroupId"),
  RunInstances: one(
    "TerminateInstances",
    (_p, o) => ({ InstanceIds: (o.Instances ?? []).map((i: P) => i.InstanceId) }),
    (_p, o) => (o.Instances ?? []).map((i: P) => i.InstanceId).join(" "),
  ),
  CreateVpcEndpoint: byId("DeleteVpcEndpoints", "VpcEndpointIds", "VpcEndpoint.VpcEndpointId", true),
  CreateVpcEndpointServiceConfiguration: byId(
    "DeleteVpcEndpointServiceConfigurations",
    "ServiceIds",
    "ServiceConfiguration.ServiceId",
    true,
  ),
  CreateVpcEndpointConnectionNotification: byId(
    "DeleteVpcEndpointConnectionNotifications",
    "ConnectionNotificationIds",
    "ConnectionNotification.ConnectionNotificationId",
    true,
  ),
  CreateVpcPeeringConnection: byId(
    "DeleteVpcPeeringConnection",
    "VpcPeeringConnectionId",
    "VpcPeeringConnection.VpcPeeringConnectionId",
  ),
  CreateTransitGateway: byId("DeleteTransitGateway", "TransitGatewayId", "TransitGateway.TransitGatewayId"),
  CreateTransitGatewayVpcAttachment: byId(
    "DeleteTransitGatewayVpcAttachment",
    "TransitGatewayAttachmentId",
    "TransitGatewayVpcAttachment.TransitGatewayAttachmentId",
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
  CreateRouteTable: byId("DeleteRouteTable", "RouteTableId", "RouteTable.RouteTableId"),
  AssociateRouteTable: byId("DisassociateRouteTable", "AssociationId", "AssociationId"),
  CreateInternetGateway: byId(
    "DeleteInternetGateway",
    "InternetGatewayId",
    "InternetGateway.InternetGatewayId",
  ),
  AttachInternetGateway: detach("DetachInternetGateway", "InternetGatewayId"),
  CreateCustomerGateway: byId(
    "DeleteCustomerGateway",
    "CustomerGatewayId",
    "CustomerGateway.CustomerGatewayId",
  ),
  CreateVpnGateway: byId("DeleteVpnGateway", "VpnGatewayId", "VpnGateway.VpnGatewayId"),
  AttachVpnGateway: detach("DetachVpnGateway", "VpnGatewayId"),
  CreateVpnConnection: byId("DeleteVpnConnection", "VpnConnectionId", "VpnConnection.VpnConnectionId"),
  CreateFlowLogs: one(
    "DeleteFlowLogs",
    (_p, o) => ({ FlowLogIds: o.FlowLogIds }),
    (_p, o) => (o.FlowLogIds ?? []).join(" "),
  ),
  CreateNetworkAcl: byId("DeleteNetworkAcl", "NetworkAclId", "NetworkAcl.NetworkAclId"),
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
    CreateLogGroup: byParam("DeleteLogGroup", "logGroupName"),
    PutResourcePolicy: byParam("DeleteResourcePolicy", "policyName", "resource policy "),
  },
  ssm: { PutParameter: byParam("DeleteParameter", "Name") },
  sns: { CreateTopic: byId("DeleteTopic", "TopicArn", "TopicArn") },
  // The runner empties a bucket before this (S3 refuses to delete one with objects).
  s3: { CreateBucket: byParam("DeleteBucket", "Bucket", "bucket ") },
  route53resolver: {
    CreateResolverEndpoint: byId("DeleteResolverEndpoint", "ResolverEndpointId", "ResolverEndpoint.Id"),
  },
  directconnect: {
    CreateConnection: byId("DeleteConnection", "connectionId", "connectionId"),
    CreateDirectConnectGateway: byId(
      "DeleteDirectConnectGateway",
      "directConnectGatewayId",
      "directConnectGateway.directConnectGatewayId",
    ),
    CreateDirectConnectGatewayAssociation: byId(
      "DeleteDirectConnectGatewayAssociation",
      "associationId",
      "directConnectGatewayAssociation.associationId",
    ),
    // An accepted proposal made an association: the accepter removes it (the proposal stays accepted).
    AcceptDirectConnectGatewayAssociationProposal: byId(
      "DeleteDirectConnectGatewayAssociation",
      "associationId",
      "directConnectGatewayAssociation.associationId",
    ),
    CreatePrivateVirtualInterface: byId("DeleteVirtualInterface", "virtualInterfaceId", "virtualInterfaceId"),
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
