/**
 * Domain objects of the hybrid network: on-premises sites and the AWS objects that connect them
 * (Site-to-Site VPN, Direct Connect), and Route 53 Resolver endpoints and rules. Plain data, as
 * in types.ts (which re-exports this file and lists the kinds).
 */
import type { Owned, Tags } from "./types.js";

/** One zone the site's DNS server forwards, like a conditional forwarder on an on-premises server. */
export interface SiteDnsForward {
  /** Lower case, no trailing dot. */
  readonly zone: string;
  /** Addresses as the site sees them (private IPs of a VPC, e.g. a Resolver inbound endpoint). */
  readonly targets: readonly string[];
}

/**
 * An on-premises network (privlink's own object, not an AWS one): its CIDR, a host-address slot
 * like a VPC block's, the public IP its VPN device speaks from (a CustomerGateway with this
 * IpAddress is that device), and its DNS server's forwarders.
 */
export interface Site {
  readonly id: string; // the site's name
  readonly cidr: string;
  readonly slot: number;
  readonly publicIp: string;
  readonly bgpAsn: number;
  /** Whether the site reaches the internet on its own (default: no, its only path is to AWS). */
  readonly internet: boolean;
  /** `privlink site vpn down NAME`: every tunnel of the site's VPN connections is DOWN. */
  readonly tunnelsDown: boolean;
  readonly dnsForwards: readonly SiteDnsForward[];
  readonly createdAt: string;
}

export interface CustomerGateway extends Owned {
  readonly type: "ipsec.1";
  readonly bgpAsn: number;
  readonly ipAddress: string;
  readonly deviceName?: string;
  readonly state: "available" | "deleted";
}

export interface VpnGatewayAttachment {
  readonly vpcId: string;
  readonly state: "attached" | "detached";
}

export interface VpnGateway extends Owned {
  readonly type: "ipsec.1";
  readonly amazonSideAsn: number;
  readonly availabilityZone?: string;
  readonly state: "available" | "deleted";
  readonly attachments: readonly VpnGatewayAttachment[];
}

export interface VpnStaticRoute {
  readonly cidr: string;
  readonly state: "available";
}

export interface VpnConnection extends Owned {
  readonly type: "ipsec.1";
  readonly customerGatewayId: string;
  readonly vpnGatewayId?: string;
  readonly transitGatewayId?: string;
  readonly staticRoutesOnly: boolean;
  readonly routes: readonly VpnStaticRoute[];
  readonly state: "available" | "deleted";
  /** The AWS side of the two tunnels. */
  readonly tunnelOutsideIps: readonly [string, string];
  readonly createdAt: string;
  /** When DeleteVpnConnection ran (the cost report bills hours up to it). */
  readonly deletedAt?: string;
}

export interface DxConnection extends Owned {
  readonly name: string;
  /** privlink's Direct Connect locations are its sites: the location is the site's name. */
  readonly location: string;
  readonly bandwidth: string;
  readonly state: "available" | "deleted";
  /** Port-hours are billed from here (absent on connections stored before it was recorded). */
  readonly createdAt?: string;
  /** When DeleteConnection ran (the cost report bills hours up to it). */
  readonly deletedAt?: string;
}

export interface DxVirtualInterface extends Owned {
  readonly connectionId: string;
  readonly type: "private" | "transit";
  readonly name: string;
  readonly vlan: number;
  readonly asn: number;
  readonly mtu: number;
  readonly amazonAddress: string;
  readonly customerAddress: string;
  readonly virtualGatewayId?: string;
  readonly directConnectGatewayId?: string;
  readonly state: "available" | "deleted";
}

/** Direct Connect gateways are global: an owner account, no region. */
export interface DxGateway {
  readonly id: string; // a UUID
  readonly accountId: string;
  readonly name: string;
  readonly amazonSideAsn: number;
  readonly state: "available" | "deleted";
}

export type DxAssociatedGatewayType = "virtualPrivateGateway" | "transitGateway";

/**
 * A DX gateway ↔ VGW/TGW association. `accountId` owns the DX gateway; `gatewayOwnerAccount`
 * owns the VGW/TGW (another account when it came from an accepted proposal). It is `associating`
 * (or `updating`, `disassociating`) until the lifecycle step moves it on.
 */
export interface DxGatewayAssociation {
  readonly id: string; // a UUID
  readonly accountId: string;
  readonly dxGatewayId: string;
  readonly gatewayId: string; // vgw-… or tgw-…
  readonly gatewayType: DxAssociatedGatewayType;
  readonly gatewayRegion: string;
  readonly gatewayOwnerAccount: string;
  /** The AWS-side prefixes advertised to on-premises over the DX gateway (see site-links.ts). */
  readonly allowedPrefixes: readonly string[];
  readonly state: "associating" | "associated" | "updating" | "disassociating" | "disassociated";
}

/** A VGW/TGW owner's request to associate with another account's DX gateway. */
export interface DxGatewayAssociationProposal {
  readonly id: string; // a UUID
  /** The proposer: the owner of the VGW/TGW. */
  readonly accountId: string;
  readonly dxGatewayId: string;
  readonly dxGatewayOwnerAccount: string;
  readonly gatewayId: string;
  readonly gatewayType: DxAssociatedGatewayType;
  readonly gatewayRegion: string;
  /** The prefixes of the association it would update (none for a new one). */
  readonly existingAllowedPrefixes: readonly string[];
  readonly requestedAllowedPrefixes: readonly string[];
  readonly state: "requested" | "accepted" | "deleted";
}

export interface ResolverEndpointIp {
  readonly ipId: string; // rni-…
  readonly subnetId: string;
  readonly ip: string;
  readonly eniId: string;
}

export interface ResolverEndpoint extends Owned {
  readonly arn: string;
  readonly name?: string;
  readonly creatorRequestId: string;
  readonly direction: "INBOUND" | "OUTBOUND";
  readonly vpcId: string;
  readonly securityGroupIds: readonly string[];
  readonly ipAddresses: readonly ResolverEndpointIp[];
  readonly status: "OPERATIONAL";
  readonly createdAt: string;
  readonly modifiedAt: string;
}

export interface ResolverTargetIp {
  readonly ip: string;
  readonly port: number;
}

export interface ResolverRule extends Owned {
  readonly arn: string;
  readonly name?: string;
  readonly creatorRequestId: string;
  readonly ruleType: "FORWARD" | "SYSTEM" | "RECURSIVE";
  /** Lower case, no trailing dot ("" for the root). */
  readonly domainName: string;
  readonly targetIps: readonly ResolverTargetIp[];
  readonly resolverEndpointId?: string;
  readonly status: "COMPLETE";
  readonly createdAt: string;
  readonly modifiedAt: string;
}

export interface ResolverRuleAssociation {
  readonly id: string; // rslvr-rrassoc-…
  readonly accountId: string;
  readonly region: string;
  readonly ruleId: string;
  readonly vpcId: string;
  readonly name?: string;
  readonly status: "COMPLETE";
  readonly tags?: Tags;
}
