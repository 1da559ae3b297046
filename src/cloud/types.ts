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
  /** EnableVgwRoutePropagation: the virtual private gateways whose routes this table receives. */
  readonly propagatingVgws?: readonly string[];
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
    | "gateway_load_balancer"
    | "transit_gateway";
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
  /** From the pool (instance-address.ts) when the subnet maps public IPs or the launch asked. */
  readonly publicIp?: string;
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

// ---- Beyond one VPC: peering, transit gateways, network ACLs (issue 10) ----

export type PeeringStatus =
  | "initiating-request"
  | "pending-acceptance"
  | "provisioning"
  | "active"
  | "rejected"
  | "expired"
  | "failed"
  | "deleting"
  | "deleted";

/** One side of a peering: the VPC, its owner and region, and the options that side controls. */
export interface PeeringSide {
  readonly vpcId: string;
  readonly ownerId: string;
  readonly region: string;
  /** The VPC's IPv4 blocks when the request was made (AWS shows them as they were). */
  readonly cidrBlocks: readonly string[];
  readonly allowDnsResolutionFromRemoteVpc: boolean;
}

/**
 * A VPC peering connection. `accountId`/`region` are the requester's; the accepter sees the
 * same object (same pcx- ID) from its own account and region.
 */
export interface VpcPeeringConnection extends Owned {
  readonly requester: PeeringSide;
  readonly accepter: PeeringSide;
  readonly status: PeeringStatus;
  readonly message: string;
  readonly createdAt: string;
  readonly statusChangedAt: string;
  /** Pending requests expire 7 days after they were made. */
  readonly expiresAt?: string;
}

export type TgwFlag = "enable" | "disable";

export interface TransitGatewayOptions {
  readonly amazonSideAsn: number;
  readonly autoAcceptSharedAttachments: TgwFlag;
  readonly defaultRouteTableAssociation: TgwFlag;
  readonly defaultRouteTablePropagation: TgwFlag;
  readonly associationDefaultRouteTableId?: string;
  readonly propagationDefaultRouteTableId?: string;
  readonly vpnEcmpSupport: TgwFlag;
  readonly dnsSupport: TgwFlag;
  readonly securityGroupReferencingSupport: TgwFlag;
  readonly multicastSupport: TgwFlag;
}

export interface TransitGateway extends Owned {
  readonly description?: string;
  readonly state: "pending" | "available" | "modifying" | "deleting" | "deleted";
  readonly options: TransitGatewayOptions;
  readonly createdAt: string;
  readonly deletedAt?: string;
}

/**
 * What a transit gateway attachment connects. VPC attachments carry their subnets and ENIs;
 * other kinds (VPN, Direct Connect gateway) name their resource and add their own fields.
 */
export type TgwAttachmentResourceType = "vpc" | "vpn" | "direct-connect-gateway" | "peering" | "connect";

export type TgwAttachmentState =
  | "pendingAcceptance"
  | "pending"
  | "available"
  | "modifying"
  | "deleting"
  | "deleted"
  | "rejected"
  | "failed";

export interface TgwVpcAttachmentDetails {
  readonly vpcId: string;
  /** One subnet per AZ, each with the attachment's ENI in it. */
  readonly subnets: readonly { readonly subnetId: string; readonly az: string; readonly eniId: string }[];
  readonly dnsSupport: TgwFlag;
  readonly ipv6Support: TgwFlag;
  readonly applianceModeSupport: TgwFlag;
  readonly securityGroupReferencingSupport: TgwFlag;
}

export interface TransitGatewayAttachment extends Owned {
  readonly transitGatewayId: string;
  /** The TGW's owner (the attachment's `accountId` is the resource owner). */
  readonly transitGatewayOwnerId: string;
  readonly resourceType: TgwAttachmentResourceType;
  /** vpc-…, vpn-…, the DX gateway's ID… */
  readonly resourceId: string;
  readonly state: TgwAttachmentState;
  /** The TGW route table this attachment is associated with (at most one). */
  readonly associatedRouteTableId?: string;
  readonly vpc?: TgwVpcAttachmentDetails;
  readonly createdAt: string;
  readonly deletedAt?: string;
}

export interface TgwStaticRoute {
  readonly destinationCidr: string;
  /** Absent for a blackhole route. */
  readonly attachmentId?: string;
  readonly blackhole: boolean;
}

export interface TransitGatewayRouteTable extends Owned {
  readonly transitGatewayId: string;
  readonly state: "pending" | "available" | "deleting" | "deleted";
  readonly defaultAssociationRouteTable: boolean;
  readonly defaultPropagationRouteTable: boolean;
  readonly staticRoutes: readonly TgwStaticRoute[];
  /** Attachments whose routes propagate into this table. */
  readonly propagations: readonly string[];
  readonly createdAt: string;
}

export interface NetworkAclEntry {
  readonly ruleNumber: number; // 1-32766; 32767 is the implicit deny
  readonly egress: boolean;
  /** "-1" (all) or an IANA protocol number as a string ("6" TCP, "17" UDP, "1" ICMP…). */
  readonly protocol: string;
  readonly ruleAction: "allow" | "deny";
  readonly cidrBlock?: string;
  readonly ipv6CidrBlock?: string;
  readonly portRange?: { readonly from: number; readonly to: number };
  readonly icmpTypeCode?: { readonly type: number; readonly code: number };
}

export interface NetworkAcl extends Owned {
  readonly vpcId: string;
  readonly isDefault: boolean;
  readonly entries: readonly NetworkAclEntry[];
  readonly associations: readonly { readonly id: string; readonly subnetId: string }[];
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

/** A CloudWatch Logs log group; `id` is its ARN without the trailing `:*`. Events live in the log event store. */
export interface LogGroup extends Owned {
  readonly name: string;
  readonly retentionInDays?: number;
  readonly kmsKeyId?: string;
  readonly logGroupClass: string;
  /** Names the group's events in the event store (random: a re-created group starts empty). */
  readonly key: string;
  readonly createdAt: number; // epoch ms
}

/** A log stream; `id` is `<group ARN>:log-stream:<name>`; `key` names its events in the event store. */
export interface LogStream extends Owned {
  readonly groupId: string;
  readonly name: string;
  readonly key: string;
  readonly createdAt: number; // epoch ms
}

/** An account-level (or, with `resourceArn`, group-level) Logs resource policy. */
export interface LogsResourcePolicy extends Owned {
  readonly name: string; // id: `${accountId}/${region}/${name}`
  readonly document: string;
  readonly resourceArn?: string;
  readonly updatedAt: number; // epoch ms
}

/** One version of an SSM parameter (`value` is ciphertext for SecureString). */
export interface ParameterVersion {
  readonly version: number;
  readonly value: string;
  readonly type: "String" | "StringList" | "SecureString";
  readonly description?: string;
  readonly keyId?: string;
  readonly allowedPattern?: string;
  readonly dataType: string;
  readonly tier: string;
  readonly labels: readonly string[];
  readonly modifiedAt: string;
  readonly modifiedBy: string;
}

/** An SSM parameter; `id` is `<account>/<region>/<name>` (`/a` and `a` share an ARN). Versions oldest first. */
export interface SsmParameter extends Owned {
  readonly name: string;
  readonly versions: readonly ParameterVersion[];
}

/** An SNS topic; `id` is its ARN. */
export interface SnsTopic extends Owned {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly createdAt: string;
}

/** An SNS subscription; `id` is its ARN (`<topic ARN>:<uuid>`). */
export interface SnsSubscription extends Owned {
  readonly topicArn: string;
  readonly protocol: string;
  readonly endpoint: string;
  readonly owner: string;
  readonly confirmed: boolean;
  readonly token: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly createdAt: string;
}

/** A message delivered to a `privlink-events` subscription: privlink's SNS event log. */
export interface SnsLogEntry {
  readonly id: string; // zero-padded sequence
  readonly time: string;
  readonly subscriptionArn: string;
  readonly topicArn: string;
  readonly messageId: string;
  readonly subject?: string;
  readonly message: string;
}

/** An S3 bucket; `id` is its name (bucket names are global across accounts and regions). */
export interface S3Bucket extends Owned {
  readonly createdAt: string;
  /** The bucket policy document, as stored by PutBucketPolicy. */
  readonly policy?: string;
}

/** The checksum an upload carried (x-amz-checksum-<algorithm>), base64 as S3 answers it. */
export interface S3Checksum {
  readonly algorithm: string;
  readonly value: string;
}

/** An S3 object's metadata; `id` is `<bucket>/<key>`. Its bytes live in one file under PRIVLINK_HOME. */
export interface S3Object {
  readonly id: string;
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  /** With its quotes, as S3 answers it: MD5, or MD5-of-MD5s plus `-N` for multipart. */
  readonly etag: string;
  readonly lastModified: string;
  readonly contentType: string;
  /** x-amz-meta-* (names lowercased) and the stored standard headers (Content-Encoding, …). */
  readonly metadata: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly checksum?: S3Checksum;
  /** The file name of the bytes (under the blob directory). */
  readonly blob: string;
  readonly parts?: number;
}

/** One uploaded part of a multipart upload. */
export interface S3Part {
  readonly partNumber: number;
  readonly size: number;
  readonly etag: string;
  readonly blob: string;
  readonly lastModified: string;
  readonly checksum?: S3Checksum;
}

/** A multipart upload in progress; `id` is its UploadId. */
export interface S3Upload {
  readonly id: string;
  readonly bucket: string;
  readonly key: string;
  readonly accountId: string;
  readonly initiatedAt: string;
  readonly contentType: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly checksumAlgorithm?: string;
  readonly parts: Readonly<Record<string, S3Part>>;
}

/** Where requests for an AWS service privlink does not build in are forwarded. */
export interface Upstream {
  readonly id: string; // the SigV4 service name (kms, sqs, s3, …)
  readonly url: string;
  readonly createdAt: string;
}

export * from "./types-hybrid.js";

import type * as hybrid from "./types-hybrid.js";
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
/** A VPC flow log: which interfaces it watches, what it keeps, where it delivers (cloud/flow-log.ts). */
export interface FlowLog extends Owned {
  readonly resourceId: string;
  readonly resourceType:
    | "VPC"
    | "Subnet"
    | "NetworkInterface"
    | "TransitGateway"
    | "TransitGatewayAttachment";
  readonly trafficType: "ACCEPT" | "REJECT" | "ALL";
  /** AWS's `cloud-watch-logs` and `s3`, and privlink's `file` (a file under PRIVLINK_HOME/flow-logs). */
  readonly logDestinationType: "cloud-watch-logs" | "s3" | "file";
  readonly logDestination: string;
  readonly logGroupName?: string;
  readonly deliverLogsPermissionArn?: string;
  readonly logFormat: string;
  readonly maxAggregationInterval: 60 | 600;
  readonly deliverLogsStatus: "SUCCESS" | "FAILED";
  readonly deliverLogsErrorMessage?: string;
  readonly createdAt: string;
  readonly clientToken?: string;
}

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
  site: hybrid.Site;
  customerGateway: hybrid.CustomerGateway;
  vpnGateway: hybrid.VpnGateway;
  vpnConnection: hybrid.VpnConnection;
  dxConnection: hybrid.DxConnection;
  dxVirtualInterface: hybrid.DxVirtualInterface;
  dxGateway: hybrid.DxGateway;
  dxGatewayAssociation: hybrid.DxGatewayAssociation;
  dxGatewayAssociationProposal: hybrid.DxGatewayAssociationProposal;
  resolverEndpoint: hybrid.ResolverEndpoint;
  resolverRule: hybrid.ResolverRule;
  resolverRuleAssociation: hybrid.ResolverRuleAssociation;
  vpcPeeringConnection: VpcPeeringConnection;
  transitGateway: TransitGateway;
  transitGatewayAttachment: TransitGatewayAttachment;
  transitGatewayRouteTable: TransitGatewayRouteTable;
  networkAcl: NetworkAcl;
  flowLog: FlowLog;
  logGroup: LogGroup;
  logStream: LogStream;
  logsResourcePolicy: LogsResourcePolicy;
  ssmParameter: SsmParameter;
  snsTopic: SnsTopic;
  snsSubscription: SnsSubscription;
  snsLogEntry: SnsLogEntry;
  s3Bucket: S3Bucket;
  s3Object: S3Object;
  s3Upload: S3Upload;
  networkInsightsPath: NetworkInsightsPath;
  networkInsightsAnalysis: NetworkInsightsAnalysis;
}

export type Kind = keyof Kinds;
