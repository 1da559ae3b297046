/**
 * The vocabulary of a flow decision. A flow is one TCP connection attempt; the decision lists
 * the hops it crossed, each with its own verdict, so that the data plane (which enforces) and
 * the analyzer (which explains) read the same answer.
 */

import type { Site } from "../cloud/types.js";

/** An address on an on-premises site, one end of a flow. */
export interface SiteEnd {
  readonly site: Site;
  /** The address on the site (its CIDR), as AWS sees it. */
  readonly ip: string;
  readonly host: string;
}

/** Where a flow starts: a network interface in a VPC, or an address outside every VPC. */
export type FlowSource =
  | { readonly kind: "eni"; readonly eniId: string }
  | { readonly kind: "outside"; readonly address: string };

export interface Flow {
  readonly source: FlowSource;
  /**
   * A host address (127.S.x.y: exactly one VPC's private IP), or any other IPv4 address, read
   * from the source's point of view (a private IP in the source VPC's CIDR is local).
   */
  readonly destination: string;
  readonly port: number;
  /** The name the client asked for, used in reasons ("no route to <name>: …"). */
  readonly name?: string;
}

/**
 * The kinds of hop, in the order a packet meets them. Peering, transit gateway, VPN and the
 * NAT gateway are hops of their own so that later issues add them without changing the shape.
 */
export type HopKind =
  | "source"
  | "source-sg-egress"
  | "network-acl"
  | "route"
  | "nat-gateway"
  | "internet-gateway"
  | "peering"
  | "transit-gateway"
  | "vpn"
  | "direct-connect"
  | "gateway-endpoint"
  | "destination"
  | "destination-sg-ingress"
  | "endpoint-state"
  | "acceptance"
  | "service"
  | "nlb-listener"
  | "target-health"
  | "endpoint-listener";

export interface Hop {
  readonly kind: HopKind;
  readonly allowed: boolean;
  /** The resource that decided (sg-…, rtb-…, vpce-…, listener ARN…), when there is one. */
  readonly resource?: string;
  /** For security-group hops: the rule that admitted the flow. */
  readonly ruleId?: string;
  /** For a transit gateway that dropped the packet after it entered: AWS's packets-lost-* cause. */
  readonly lost?: "no-route" | "blackhole";
  readonly detail: string;
}

/** Where an admitted flow's bytes go. */
export type FlowTarget =
  /** Through an interface endpoint to a customer service: NLB listener → target group → targets. */
  | {
      readonly kind: "nlb";
      readonly endpointId: string;
      readonly eniId: string;
      readonly loadBalancerArn: string;
      readonly listenerArn: string;
      readonly targetGroupArn: string;
      /** The targets to balance over: the healthy ones, or all of them when none is (fail open). */
      readonly targets: readonly ResolvedTarget[];
      readonly proxyProtocolV2: boolean;
    }
  /** Through an interface endpoint to an AWS service: the service front terminates it. */
  | {
      readonly kind: "aws-service";
      readonly endpointId: string;
      readonly eniId: string;
      readonly serviceName: string;
    }
  /** To another interface (an instance): whatever listens on its host address. */
  | { readonly kind: "eni"; readonly eniId: string; readonly host: string }
  /** To an on-premises site's address (over VPN or Direct Connect): whatever listens on its host address. */
  | { readonly kind: "site"; readonly site: string; readonly host: string }
  /** Through a gateway endpoint to an AWS service (S3, DynamoDB): the service front serves it. */
  | {
      readonly kind: "gateway-endpoint";
      readonly endpointId: string;
      readonly vpcId: string;
      readonly serviceName: string;
      readonly host: string;
    }
  /** Out of privlink's world through an internet or NAT gateway. */
  | { readonly kind: "external"; readonly host: string };

export interface ResolvedTarget {
  /** The target group's view: IP or instance ID, and port. */
  readonly id: string;
  readonly port: number;
  /** Where privlink dials it on this host. */
  readonly host: string;
  readonly dialPort: number;
}

export interface Decision {
  readonly allowed: boolean;
  readonly hops: readonly Hop[];
  /** The first refusing hop's detail, or "allowed". */
  readonly reason: string;
  /** The destination as privlink resolved it: VPC private IP and its host address, when in a VPC. */
  readonly destination: {
    readonly vpcId?: string;
    readonly privateIp?: string;
    readonly host: string;
    readonly eniId?: string;
  };
  /** The source's private IP and VPC, when it is an interface. */
  readonly source: {
    readonly vpcId?: string;
    readonly privateIp?: string;
    readonly eniId?: string;
    readonly host?: string;
  };
  readonly target?: FlowTarget;
}

export type TargetHealthState = "initial" | "healthy" | "unhealthy" | "unused" | "unavailable";

/**
 * Target health is the data plane's knowledge (it runs the checks), not the store's. The
 * decision reads it through this view; `version` changes whenever any target's health does,
 * which invalidates cached decisions the same way the state version does.
 */
export interface HealthView {
  readonly version: number;
  state(targetGroupArn: string, target: { id: string; port: number }): TargetHealthState | undefined;
}

/** No data plane: every target counts as healthy (the analyzer's view without live checks). */
export const ASSUME_HEALTHY: HealthView = { version: 0, state: () => "healthy" };
