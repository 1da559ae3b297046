/**
 * The shapes the console reads from privlink's admin routes (a subset of src/cloud/types.ts:
 * the console is a separate bundle and never imports server code).
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
  cidrBlocks: { cidr: string; state: string }[];
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
  securityGroupIds: string[];
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
  ingress: SgRule[];
  egress: SgRule[];
}
export interface LoadBalancer extends Owned {
  name: string;
  type: string;
  vpcId: string;
  dnsName: string;
  state: string;
  subnets: { subnetId: string; az: string }[];
  enis?: { subnetId: string; eniId: string }[];
}
export interface Target {
  id: string;
  port: number;
}
export interface TargetGroup extends Owned {
  name: string;
  port: number;
  targets: Target[];
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
  networkLoadBalancerArns: string[];
  privateDnsName?: string;
  privateDnsVerification?: { state: string; name?: string; value?: string };
  permissions: { principal: string; principalType: string }[];
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
  subnetIds: string[];
  enis: { subnetId: string; eniId: string }[];
  securityGroupIds: string[];
  privateDnsEnabled: boolean;
  dnsNames: DnsName[];
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
  attachments: { vpcId: string; state: string }[];
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
  accounts: { id: string }[];
  vpcs: Vpc[];
  subnets: Subnet[];
  enis: Eni[];
  instances: Instance[];
  securityGroups: SecurityGroup[];
  loadBalancers: LoadBalancer[];
  targetGroups: TargetGroup[];
  listeners: Listener[];
  services: EndpointService[];
  endpoints: Endpoint[];
  peerings: Peering[];
  transitGateways: TransitGateway[];
  tgwAttachments: TgwAttachment[];
  natGateways: (Owned & { vpcId: string; subnetId: string; eniId: string; state: string })[];
  sites: Site[];
  customerGateways: CustomerGateway[];
  vpnConnections: VpnConnection[];
  vpnGateways: VpnGateway[];
  connectionEvents: ConnectionEvent[];
}

export interface Counters {
  bytesIn: number;
  bytesOut: number;
  newConnections: number;
  activeConnections: number;
  resets: number;
  dropped: number;
}

/** The `stats` event: the data plane's counters at `time`. */
export interface StatsSample {
  time: string;
  endpoints: ({ vpcEndpointId: string } & Counters)[];
  enis: ({ networkInterfaceId: string } & Counters)[];
}

/** One `flows` row (src/console/stream.ts). */
export interface FlowRow {
  id: number;
  time: string;
  srcEniId?: string;
  dstEniId?: string;
  srcIp: string;
  dstIp: string;
  dstPort: number;
  verdict: "ACCEPT" | "REJECT";
  phase: "open" | "closed" | "refused";
  bytesIn: number;
  bytesOut: number;
  reason?: string;
  hop?: string;
}
