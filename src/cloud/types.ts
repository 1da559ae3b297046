/**
 * The domain objects of privlink's virtual AWS, in one place. Everything here is plain data
 * (JSON-serialisable) so that the store can persist it as is; wire shapes live in api/.
 * Objects held by the state are never mutated: a change puts a new object.
 */

export type Tags = Record<string, string>;

/** Fields every regional, account-owned resource has. */
export interface Owned {
  readonly id: string;
  readonly accountId: string;
  readonly region: string;
  readonly tags: Tags;
}

export interface Account {
  readonly id: string; // 12 digits
  readonly orgId?: string;
  readonly createdAt: string;
}

export interface AccessKey {
  readonly id: string; // the access key ID
  readonly secret: string;
  readonly accountId: string;
  /** The IAM principal the key signs as; the account root when absent. */
  readonly principalArn?: string;
}

/** Marks that an account's default resources in a region exist (default VPC and friends). */
export interface RegionInit {
  readonly id: string; // `${accountId}/${region}`
}

export interface VpcCidrBlock {
  readonly associationId: string;
  readonly cidr: string;
  readonly state: "associated" | "disassociated";
  /** Host-address slot (1-254), given when the block first needs a host address. */
  readonly slot?: number;
}

export interface Vpc extends Owned {
  readonly cidrBlocks: readonly VpcCidrBlock[];
  readonly isDefault: boolean;
  readonly dnsSupport: boolean;
  readonly dnsHostnames: boolean;
  readonly instanceTenancy: string;
  readonly dhcpOptionsId: string;
  readonly createdAt: string;
}

export interface Subnet extends Owned {
  readonly vpcId: string;
  readonly cidr: string;
  readonly az: string;
  readonly azId: string;
  readonly defaultForAz: boolean;
  readonly mapPublicIpOnLaunch: boolean;
}

export interface SgRule {
  readonly ruleId: string;
  /** "-1" (all), "tcp", "udp", "icmp", "icmpv6" or an IANA protocol number as a string. */
  readonly protocol: string;
  readonly fromPort: number; // -1 when the protocol has no ports
  readonly toPort: number;
  readonly cidrIpv4?: string;
  readonly cidrIpv6?: string;
  readonly prefixListId?: string;
  readonly groupId?: string; // a referenced security group
  readonly groupOwnerId?: string;
  readonly description?: string;
}

export interface SecurityGroup extends Owned {
  readonly vpcId: string;
  readonly name: string;
  readonly description: string;
  readonly ingress: readonly SgRule[];
  readonly egress: readonly SgRule[];
}

export type RouteTarget =
  | { readonly kind: "local" }
  | { readonly kind: "gateway"; readonly id: string } // igw-, vgw-, vpce- (gateway endpoints)
  | { readonly kind: "nat"; readonly id: string }
  | { readonly kind: "peering"; readonly id: string }
  | { readonly kind: "transit"; readonly id: string }
  | { readonly kind: "eni"; readonly id: string };

export interface Route {
  readonly destinationCidr?: string;
  readonly destinationIpv6Cidr?: string;
  readonly destinationPrefixListId?: string;
  readonly target: RouteTarget;
  readonly origin: "CreateRouteTable" | "CreateRoute" | "EnableVgwRoutePropagation";
  readonly state: "active" | "blackhole";
}

export interface RouteTableAssociation {
  readonly id: string;
  readonly subnetId?: string;
  readonly main: boolean;
}

export interface RouteTable extends Owned {
  readonly vpcId: string;
  readonly associations: readonly RouteTableAssociation[];
  readonly routes: readonly Route[];
}

export interface Eni extends Owned {
  readonly vpcId: string;
  readonly subnetId: string;
  readonly az: string;
  readonly privateIp: string;
  readonly securityGroupIds: readonly string[];
  readonly interfaceType:
    | "interface"
    | "vpc_endpoint"
    | "gateway_load_balancer_endpoint"
    | "nat_gateway"
    | "network_load_balancer"
    | "gateway_load_balancer";
  readonly requesterManaged: boolean;
  readonly requesterId?: string;
  readonly description: string;
  readonly macAddress: string;
  readonly status: "available" | "in-use";
  readonly attachment?: {
    readonly id: string;
    readonly instanceId?: string;
    readonly deviceIndex: number;
    readonly attachedAt: string;
  };
}

export interface Instance extends Owned {
  readonly vpcId: string;
  readonly subnetId: string;
  readonly eniId: string;
  readonly reservationId: string;
  readonly imageId: string;
  readonly instanceType: string;
  readonly state: "pending" | "running" | "shutting-down" | "terminated";
  readonly launchTime: string;
  readonly keyName?: string;
  /** The role the workload acts as (an instance profile's role ARN), when given. */
  readonly iamRoleArn?: string;
  readonly terminatedAt?: string;
}

export interface InternetGateway extends Owned {
  readonly attachments: readonly {
    readonly vpcId: string;
    readonly state: "attaching" | "available" | "detaching";
  }[];
}

/** A NAT gateway: a managed ENI in a subnet that carries the subnet's outbound flows onward. */
export interface NatGateway extends Owned {
  readonly vpcId: string;
  readonly subnetId: string;
  readonly eniId: string;
  readonly connectivityType: "public" | "private";
  readonly state: "pending" | "available" | "deleting" | "deleted" | "failed";
  readonly allocationId?: string;
  readonly publicIp?: string;
  readonly createdAt: string;
  readonly deletedAt?: string;
  readonly clientToken?: string;
}

// ---- PrivateLink: load balancers (ELBv2), endpoint services, endpoints, notifications ----

/** ELBv2 objects are identified by their ARN, as in the ELBv2 API. */
export interface LoadBalancer extends Owned {
  readonly name: string;
  readonly type: "network" | "gateway" | "application";
  readonly scheme: "internal" | "internet-facing";
  readonly vpcId: string;
  readonly subnets: readonly {
    readonly subnetId: string;
    readonly az: string;
    readonly azId: string;
    /** The address the request pinned with SubnetMappings.PrivateIPv4Address (internal only). */
    readonly privateIpv4Address?: string;
  }[];
  readonly ipAddressType: "ipv4" | "dualstack";
  readonly securityGroupIds: readonly string[];
  readonly dnsName: string;
  readonly state: "provisioning" | "active" | "failed";
  readonly createdAt: string;
  /** The load balancer's requester-managed ENI in each subnet (one node per AZ). */
  readonly enis?: readonly { readonly subnetId: string; readonly eniId: string }[];
  /** ELBv2 load balancer attributes (deletion_protection.enabled, load_balancing.cross_zone.enabled, …). */
  readonly attributes?: Readonly<Record<string, string>>;
}

export interface HealthCheck {
  readonly protocol: "TCP" | "HTTP" | "HTTPS";
  readonly port: string; // "traffic-port" or a number
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  readonly path?: string;
  /** HTTP codes that count as healthy (HTTP/HTTPS checks only), e.g. "200-399". */
  readonly matcher?: string;
}

export interface Target {
  readonly id: string; // an IP address or an instance ID
  readonly port: number;
  readonly availabilityZone?: string; // "all" for IPs outside the VPC
  readonly registeredAt?: string;
  /** Set by DeregisterTargets: the target drains until the deregistration delay has passed. */
  readonly deregisteredAt?: string;
}

export interface TargetGroup extends Owned {
  readonly name: string;
  readonly protocol: "TCP" | "TLS" | "UDP" | "TCP_UDP" | "GENEVE" | "HTTP" | "HTTPS";
  readonly port: number;
  readonly vpcId?: string;
  readonly targetType: "ip" | "instance" | "alb" | "lambda";
  readonly healthCheck: HealthCheck;
  readonly attributes: Readonly<Record<string, string>>;
  readonly targets: readonly Target[];
  readonly createdAt: string;
}

export interface Listener extends Owned {
  readonly loadBalancerArn: string;
  readonly protocol: string;
  readonly port: number;
  readonly targetGroupArn: string; // the default forward action
}

export type EndpointServiceState = "Pending" | "Available" | "Deleting" | "Deleted" | "Failed";

export interface ServicePermission {
  readonly id: string; // vpce-svc-perm-…
  readonly principal: string;
  readonly principalType: "All" | "Service" | "OrganizationUnit" | "Account" | "User" | "Role";
  readonly tags: Tags;
}

export interface PrivateDnsVerification {
  readonly state: "pendingVerification" | "verified" | "failed";
  readonly type: "TXT";
  readonly name: string; // "_<random>"
  readonly value: string; // "vpce:<random>"
}

export interface EndpointService extends Owned {
  readonly serviceName: string; // com.amazonaws.vpce.<region>.vpce-svc-…
  readonly serviceType: "Interface" | "GatewayLoadBalancer";
  readonly state: EndpointServiceState;
  readonly acceptanceRequired: boolean;
  readonly networkLoadBalancerArns: readonly string[];
  readonly gatewayLoadBalancerArns: readonly string[];
  readonly supportedIpAddressTypes: readonly ("ipv4" | "ipv6")[];
  readonly supportedRegions: readonly string[];
  readonly privateDnsName?: string;
  readonly privateDnsVerification?: PrivateDnsVerification;
  readonly payerResponsibility?: "ServiceOwner";
  readonly permissions: readonly ServicePermission[];
  readonly createdAt: string;
  readonly clientToken?: string;
}

export type EndpointState =
  | "pendingAcceptance"
  | "pending"
  | "available"
  | "deleting"
  | "deleted"
  | "rejected"
  | "failed"
  | "expired"
  | "partial";

export interface EndpointEni {
  readonly subnetId: string;
  readonly eniId: string;
}

export interface VpcEndpoint extends Owned {
  readonly type: "Interface" | "Gateway" | "GatewayLoadBalancer";
  readonly vpcId: string;
  readonly serviceName: string;
  /** The endpoint service's ID for customer services; undefined for AWS services. */
  readonly serviceId?: string;
  readonly serviceRegion: string;
  readonly state: EndpointState;
  readonly policyDocument?: string;
  readonly routeTableIds: readonly string[];
  readonly subnetIds: readonly string[];
  readonly enis: readonly EndpointEni[];
  readonly securityGroupIds: readonly string[];
  readonly ipAddressType: "ipv4" | "dualstack" | "ipv6";
  readonly dnsRecordIpType: "ipv4" | "dualstack" | "ipv6" | "service-defined";
  readonly privateDnsOnlyForInboundResolverEndpoint?: boolean;
  readonly privateDnsEnabled: boolean;
  /** The 8-character suffix of the endpoint-specific DNS names (vpce-…-<suffix>.<base>). */
  readonly dnsSuffix: string;
  readonly connectionId: string;
  readonly createdAt: string;
  readonly stateChangedAt: string;
  readonly lastError?: { readonly code: string; readonly message: string };
  readonly clientToken?: string;
  readonly payerResponsibility?: string;
  /** ModifyVpcEndpointPayerResponsibility settings, one per scope. */
  readonly payerResponsibilities?: readonly { readonly scope: string; readonly type: string }[];
}

export type ConnectionEventType = "Connect" | "Accept" | "Reject" | "Delete";

export interface ConnectionNotification extends Owned {
  readonly serviceId?: string;
  readonly vpcEndpointId?: string;
  readonly arn: string; // the SNS topic ARN
  readonly events: readonly ConnectionEventType[];
  readonly state: "Enabled" | "Disabled";
  readonly clientToken?: string;
}

/** One delivered notification, as GET /_privlink/events shows it. */
export interface ConnectionEvent {
  readonly id: string; // zero-padded sequence, so that ids sort by time
  readonly time: string;
  readonly event: ConnectionEventType;
  readonly serviceId: string;
  readonly vpcEndpointId: string;
  readonly vpcEndpointOwner: string;
  readonly vpcEndpointState: EndpointState;
  readonly notificationId: string;
  readonly topicArn: string;
}

// ---- Route 53: hosted zones, record sets, changes, cross-account association authorizations ----

export interface HostedZoneVpc {
  readonly vpcId: string;
  readonly vpcRegion: string;
}

/** Route 53 is global: a hosted zone has an owner account but no region. */
export interface HostedZone {
  readonly id: string; // Z… (without the /hostedzone/ prefix)
  readonly accountId: string;
  /** Lower case, no trailing dot. */
  readonly name: string;
  readonly callerReference: string;
  readonly comment?: string;
  readonly privateZone: boolean;
  readonly vpcs: readonly HostedZoneVpc[];
  readonly nameServers: readonly string[];
  readonly createdAt: string;
  readonly tags: Tags;
}

export interface AliasTargetValue {
  readonly hostedZoneId: string;
  /** Lower case, no trailing dot. */
  readonly dnsName: string;
  readonly evaluateTargetHealth: boolean;
}

/** One Route 53 record set (simple routing). */
export interface RecordSet {
  readonly id: string; // `${zoneId}|${name}|${type}`
  readonly zoneId: string;
  /** Lower case, no trailing dot; a wildcard owner starts with "*.". */
  readonly name: string;
  readonly type: string;
  readonly ttl?: number;
  /** Values in Route 53's text form (`10 mail.example.com`, `"v=spf1 -all"`). */
  readonly values: readonly string[];
  readonly alias?: AliasTargetValue;
}

export interface Route53Change {
  readonly id: string; // C… (without the /change/ prefix)
  readonly submittedAt: string;
  readonly comment?: string;
}

/** CreateVPCAssociationAuthorization: the zone owner lets another account's VPC associate. */
export interface VpcAssociationAuthorization {
  readonly id: string; // `${zoneId}|${vpcId}`
  readonly zoneId: string;
  readonly vpcId: string;
  readonly vpcRegion: string;
}

/** A request that carried a ClientToken, for idempotent retries. */
export interface IdempotencyRecord {
  readonly id: string; // `${accountId}/${action}/${clientToken}`
  readonly fingerprint: string; // the request's parameters, canonicalised
  readonly resourceId: string;
}

// ---- Built-in AWS services behind the service fronts ----

/** One version of a secret's value; a version without stages is deprecated but kept. */
export interface SecretVersion {
  readonly versionId: string;
  readonly secretString?: string;
  /** Base64 of the binary value. */
  readonly secretBinary?: string;
  readonly stages: readonly string[];
  readonly createdAt: string;
}

/** A Secrets Manager secret; `id` is its ARN (…:secret:<name>-<6 random alphanumerics>). */
export interface Secret extends Owned {
  readonly name: string;
  readonly description?: string;
  readonly kmsKeyId?: string;
  /** Oldest first. */
  readonly versions: readonly SecretVersion[];
  readonly resourcePolicy?: string;
  readonly createdAt: string;
  readonly lastChangedAt: string;
  readonly lastAccessedAt?: string;
  /** When DeleteSecret ran (DeletedDate); the secret is purged at `deletionDate`. */
  readonly deletedAt?: string;
  readonly deletionDate?: string;
}

/** Where requests for an AWS service privlink does not build in are forwarded. */
export interface Upstream {
  readonly id: string; // the SigV4 service name (kms, sqs, s3, …)
  readonly url: string;
  readonly createdAt: string;
}

// ---- Reachability Analyzer (EC2 Network Insights) ----

/** CreateNetworkInsightsPath: what to analyse, as given (resource IDs or ARNs, addresses, port). */
export interface NetworkInsightsPath extends Owned {
  readonly arn: string;
  readonly source: string;
  readonly destination?: string;
  readonly sourceArn?: string;
  readonly destinationArn?: string;
  readonly sourceIp?: string;
  readonly destinationIp?: string;
  readonly protocol: "tcp" | "udp";
  readonly destinationPort?: number;
  readonly createdAt: string;
  readonly clientToken?: string;
}

/**
 * One analysis of a path. It starts `running`; a lifecycle step (src/analyze/insights.ts) takes
 * the flow decision and stores its result in the wire's own shapes (path components, explanations).
 */
export interface NetworkInsightsAnalysis extends Owned {
  readonly arn: string;
  readonly pathId: string;
  readonly startedAt: string;
  readonly status: "running" | "succeeded" | "failed";
  readonly statusMessage?: string;
  readonly networkPathFound?: boolean;
  readonly forwardPathComponents?: readonly Record<string, unknown>[];
  readonly returnPathComponents?: readonly Record<string, unknown>[];
  readonly explanations?: readonly Record<string, unknown>[];
  readonly filterInArns?: readonly string[];
  readonly additionalAccounts?: readonly string[];
}

/**
 * Every kind of object the state holds. Issues add their kinds here; the store persists every
 * kind the same way.
 */
export interface Kinds {
  account: Account;
  accessKey: AccessKey;
  regionInit: RegionInit;
  vpc: Vpc;
  subnet: Subnet;
  securityGroup: SecurityGroup;
  routeTable: RouteTable;
  eni: Eni;
  instance: Instance;
  internetGateway: InternetGateway;
  natGateway: NatGateway;
  loadBalancer: LoadBalancer;
  targetGroup: TargetGroup;
  listener: Listener;
  endpointService: EndpointService;
  vpcEndpoint: VpcEndpoint;
  connectionNotification: ConnectionNotification;
  connectionEvent: ConnectionEvent;
  idempotency: IdempotencyRecord;
  hostedZone: HostedZone;
  recordSet: RecordSet;
  route53Change: Route53Change;
  vpcAssociationAuthorization: VpcAssociationAuthorization;
  secret: Secret;
  upstream: Upstream;
  networkInsightsPath: NetworkInsightsPath;
  networkInsightsAnalysis: NetworkInsightsAnalysis;
}

export type Kind = keyof Kinds;
