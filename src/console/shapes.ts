/**
 * What the console's admin routes send, in the subset of privlink's shapes the browser reads.
 * This file imports nothing, so the console bundle (console/src/model.ts) takes these types with
 * `import type` while the server's snapshot and stream are compiled against them: a field the
 * server renames fails the server's build, not the browser at run time.
 */
export type Tags = Record<string, string>;

interface Owned {
  id: string;
  accountId: string;
  region: string;
  tags: Tags;
}

export interface Vpc extends Owned {
  isDefault?: boolean;
  cidrBlocks: readonly { cidr: string; state: string }[];
}
export interface Subnet extends Owned {
  vpcId: string;
  cidr: string;
  az: string;
  azId: string;
}
export interface Eni extends Owned {
  vpcId: string;
  subnetId: string;
  privateIp: string;
  interfaceType: string;
  description: string;
  securityGroupIds: readonly string[];
  attachment?: { instanceId?: string };
}
export interface Instance extends Owned {
  vpcId: string;
  subnetId: string;
  eniId: string;
  state: string;
}
export interface SgRule {
  ruleId: string;
  protocol: string;
  fromPort: number;
  toPort: number;
  cidrIpv4?: string;
  groupId?: string;
  prefixListId?: string;
  description?: string;
}
export interface SecurityGroup extends Owned {
  vpcId: string;
  name: string;
  ingress: readonly SgRule[];
  egress: readonly SgRule[];
}
export interface LoadBalancer extends Owned {
  name: string;
  type: string;
  vpcId: string;
  dnsName: string;
  state: string;
  subnets: readonly { subnetId: string; az: string }[];
  enis?: readonly { subnetId: string; eniId: string }[];
}
export interface Target {
  id: string;
  port: number;
}
export interface TargetGroup extends Owned {
  name: string;
  port: number;
  targets: readonly Target[];
}
export interface Listener extends Owned {
  loadBalancerArn: string;
  port: number;
  protocol: string;
  targetGroupArn: string;
}
export interface EndpointService extends Owned {
  serviceName: string;
  state: string;
  acceptanceRequired: boolean;
  networkLoadBalancerArns: readonly string[];
  privateDnsName?: string;
  privateDnsVerification?: { state: string; name?: string; value?: string };
  permissions: readonly { principal: string; principalType: string }[];
}
export interface DnsName {
  name: string;
  kind: string;
  az?: string;
}
export interface Endpoint extends Owned {
  type: string;
  vpcId: string;
  serviceName: string;
  serviceId?: string;
  state: string;
  policyDocument?: string;
  subnetIds: readonly string[];
  enis: readonly { subnetId: string; eniId: string }[];
  securityGroupIds: readonly string[];
  privateDnsEnabled: boolean;
  dnsNames: readonly DnsName[];
  createdAt: string;
}
export interface PeeringSide {
  vpcId: string;
  ownerId: string;
}
export interface Peering extends Owned {
  requester: PeeringSide;
  accepter: PeeringSide;
  status: string;
}
export interface TransitGateway extends Owned {
  state: string;
}
export interface TgwAttachment extends Owned {
  transitGatewayId: string;
  resourceType: string;
  resourceId: string;
  state: string;
}
export interface Site {
  id: string;
  cidr: string;
  publicIp: string;
  tunnelsDown: boolean;
}
export interface CustomerGateway extends Owned {
  ipAddress: string;
}
export interface VpnConnection extends Owned {
  customerGatewayId: string;
  vpnGatewayId?: string;
  transitGatewayId?: string;
  state: string;
}
export interface VpnGateway extends Owned {
  attachments: readonly { vpcId: string; state: string }[];
}
export interface ConnectionEvent {
  id: string;
  time: string;
  event: string;
  serviceId: string;
  vpcEndpointId: string;
  vpcEndpointOwner: string;
  vpcEndpointState: string;
}

/** GET /_privlink/console/state. */
export interface Snapshot {
  stateVersion: number;
  accounts: readonly { id: string }[];
  vpcs: readonly Vpc[];
  subnets: readonly Subnet[];
  enis: readonly Eni[];
  instances: readonly Instance[];
  securityGroups: readonly SecurityGroup[];
  loadBalancers: readonly LoadBalancer[];
  targetGroups: readonly TargetGroup[];
  listeners: readonly Listener[];
  services: readonly EndpointService[];
  endpoints: readonly Endpoint[];
  peerings: readonly Peering[];
  transitGateways: readonly TransitGateway[];
  tgwAttachments: readonly TgwAttachment[];
  natGateways: readonly (Owned & { vpcId: string; subnetId: string; eniId: string; state: string })[];
  sites: readonly Site[];
  customerGateways: readonly CustomerGateway[];
  vpnConnections: readonly VpnConnection[];
  vpnGateways: readonly VpnGateway[];
  connectionEvents: readonly ConnectionEvent[];
}

export interface Counters {
  bytesIn: number;
  bytesOut: number;
  newConnections: number;
  activeConnections: number;
  resets: number;
  dropped: number;
}

/** The `stats` event: the data plane's counters (src/net/meter.ts Stats, the part the console reads) at `time`. */
export interface StatsSample {
  time: string;
  endpoints: readonly ({ vpcEndpointId: string } & Counters)[];
  enis: readonly ({ networkInterfaceId: string } & Counters)[];
}

/** One `flows` row: a row of the console's live flow table. */
export interface FlowRow {
  /** Stable per flow: the open row and the close row of one connection share it. */
  readonly id: number;
  readonly time: string;
  readonly srcEniId?: string;
  readonly dstEniId?: string;
  readonly srcIp: string;
  readonly dstIp: string;
  readonly dstPort: number;
  readonly verdict: "ACCEPT" | "REJECT";
  readonly phase: "open" | "closed" | "refused";
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly reason?: string;
  readonly hop?: string;
}

/** One minute of an endpoint's AWS/PrivateLinkEndpoints datapoints. */
export interface HistoryPoint {
  /** The minute's start (ISO). */
  time: string;
  /** BytesProcessed, Sum. */
  bytes: number;
  /** NewConnections, Sum. */
  newConnections: number;
  /** ActiveConnections, Maximum. */
  activeConnections: number;
  /** PacketsDropped, Sum. */
  dropped: number;
}

/** GET /_privlink/console/metrics?endpoint=vpce-…: the last hour from the CloudWatch store. */
export interface EndpointHistory {
  endpointId: string;
  /** Seconds per point (CloudWatch's 1-minute resolution). */
  period: number;
  since: string;
  until: string;
  /** Minutes with datapoints only, oldest first: a quiet minute has none (as in CloudWatch). */
  points: HistoryPoint[];
}
