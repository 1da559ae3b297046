/**
 * THE table of what each kind of hop means to an analyst: the AWS Reachability Analyzer
 * explanation code of a refusal there, the kind of component it names, and the smallest fix in
 * the AWS CLI's words. `why`, Network Insights and `impact` read hops only through this table,
 * so a hop kind that flow/ gains later (network ACLs, VPN, sites) joins with one row here and no
 * new code path; a kind without a row still prints, with a generic code.
 */
import type { State } from "../cloud/state.js";
import type { Eni } from "../cloud/types.js";
import { type Decision, EPHEMERAL, type Hop, matchingRule } from "../flow/index.js";

/** What a fix needs to know besides the refusing hop. */
export interface FixContext {
  readonly state: State;
  readonly decision: Decision;
  readonly hop: Hop;
  readonly port: number;
  /** The AWS service the destination name belongs to (`secretsmanager`), when it is one. */
  readonly awsService?: string;
  readonly region: string;
}

export interface HopMeaning {
  /** Network Insights `explanationCode` when this hop refuses. */
  readonly code: (hop: Hop) => string;
  /** The AWS component type Network Insights reports (`AWS::EC2::SecurityGroup`, …). */
  readonly component: string;
  /** The smallest change that lets the flow through, as an AWS CLI command; none when no change can. */
  readonly fix: (c: FixContext) => string | undefined;
}

const PLACEHOLDER = "…";

function sgFix(direction: "ingress" | "egress", c: FixContext): string | undefined {
  const group = c.hop.resource;
  if (!group) return undefined;
  const d = c.decision;
  // Within one VPC a group reference is the tightest rule; across VPCs the peer's address.
  const peerGroups =
    direction === "ingress" ? eniGroups(c.state, d.source.eniId) : eniGroups(c.state, d.destination.eniId);
  const sameVpc = d.source.vpcId !== undefined && d.source.vpcId === d.destination.vpcId;
  const peerIp = direction === "ingress" ? d.source.privateIp : d.destination.privateIp;
  const peer =
    sameVpc && peerGroups[0]
      ? `--source-group ${peerGroups[0]}`
      : `--cidr ${peerIp ?? (direction === "ingress" ? "0.0.0.0" : d.destination.host)}/32`;
  return `aws ec2 authorize-security-group-${direction} --group-id ${group} --protocol tcp --port ${c.port} ${peer}`;
}

function eniGroups(state: State, eniId: string | undefined): readonly string[] {
  return (eniId && state.get("eni", eniId)?.securityGroupIds) || [];
}

/** A group of the source's VPC that already admits tcp/`port` from the source: the new endpoint's. */
function groupAdmitting(state: State, src: Eni, port: number): string | undefined {
  const peer = { ip: src.privateIp, groupIds: src.securityGroupIds, region: src.region };
  for (const g of state.all("securityGroup"))
    if (g.vpcId === src.vpcId && matchingRule(g, "ingress", port, peer)) return g.id;
  return undefined;
}

function routeTableOfSource(c: FixContext): string | undefined {
  return c.decision.hops.find((h) => h.kind === "route" && h.resource?.startsWith("rtb-"))?.resource;
}

function routeFix(c: FixContext): string | undefined {
  const d = c.decision;
  const vpc = d.source.vpcId;
  if (!vpc) return undefined;
  if (c.awsService && !d.destination.vpcId) {
    // No internet path to an AWS service: the private fix is an interface endpoint in the VPC.
    const src = d.source.eniId ? c.state.get("eni", d.source.eniId) : undefined;
    const group = src && groupAdmitting(c.state, src, 443);
    return `aws ec2 create-vpc-endpoint --vpc-id ${vpc} --vpc-endpoint-type Interface --service-name com.amazonaws.${c.region}.${c.awsService} --subnet-ids ${src?.subnetId ?? PLACEHOLDER} --security-group-ids ${group ?? `sg-${PLACEHOLDER}`} --private-dns-enabled`;
  }
  const table = c.hop.resource?.startsWith("rtb-") ? c.hop.resource : routeTableOfSource(c);
  if (!table) return undefined;
  if (d.destination.vpcId && d.destination.vpcId !== vpc) {
    const dst = c.state.get("vpc", d.destination.vpcId);
    const cidr =
      dst?.cidrBlocks.find((b) => b.state === "associated")?.cidr ?? `${d.destination.privateIp}/32`;
    return `aws ec2 create-route --route-table-id ${table} --destination-cidr-block ${cidr} --vpc-peering-connection-id pcx-${PLACEHOLDER}`;
  }
  if (!d.destination.vpcId)
    return `aws ec2 create-route --route-table-id ${table} --destination-cidr-block 0.0.0.0/0 --gateway-id igw-${PLACEHOLDER}`;
  return undefined;
}

/**
 * An allow entry ahead of whatever denies: for the peer's address only, on the flow's port or,
 * at a reply boundary, on the client's whole ephemeral range (flow/nacl.ts checks every port of
 * it), numbered below the denying rule and free in that direction.
 */
function naclFix(c: FixContext): string | undefined {
  const acl = c.hop.resource ? c.state.get("networkAcl", c.hop.resource) : undefined;
  const m = /: (outbound|inbound) .* (?:to|from) (\S+) is denied \((?:rule (\d+) denies|no rule allows)/.exec(
    c.hop.detail,
  );
  if (!acl || !m) return undefined;
  const egress = m[1] === "outbound";
  const ports = /\(replies\)/.test(c.hop.detail) ? EPHEMERAL : { from: c.port, to: c.port };
  const below = m[3] ? Number(m[3]) : 32767;
  const taken = new Set(acl.entries.filter((e) => e.egress === egress).map((e) => e.ruleNumber));
  let rule = Math.min(below - 1, 100);
  while (rule > 0 && taken.has(rule)) rule--;
  if (rule < 1) return undefined; // rule 1 denies: only deleting or replacing it lets the flow through
  return `aws ec2 create-network-acl-entry --network-acl-id ${acl.id} --rule-number ${rule} --protocol tcp --port-range From=${ports.from},To=${ports.to} --cidr-block ${m[2]}/32 --rule-action allow ${egress ? "--egress" : "--ingress"}`;
}

function endpointOf(c: FixContext) {
  const e = c.hop.resource;
  return e ? c.state.get("vpcEndpoint", e) : undefined;
}

/**
 * A DX gateway association whose allowed prefixes leave out the VPC end of the flow: add the
 * VPC's CIDR (what a VGW association must cover anyway), or the address alone outside a VPC.
 */
function dxFix(c: FixContext): string | undefined {
  const m = /outside the allowed prefixes of Direct Connect gateway association (\S+) /.exec(c.hop.detail);
  if (!m) return undefined;
  const d = c.decision;
  const vpcId = d.destination.vpcId ?? d.source.vpcId;
  const ip = d.destination.vpcId ? d.destination.privateIp : d.source.privateIp;
  const cidr = (vpcId && c.state.get("vpc", vpcId)?.cidrBlocks[0]?.cidr) ?? (ip ? `${ip}/32` : undefined);
  return cidr
    ? `aws directconnect update-direct-connect-gateway-association --association-id ${m[1]} --add-allowed-prefixes-to-direct-connect-gateway cidr=${cidr}`
    : undefined;
}

/** Hop kinds that flow/ has, and the site hop the hybrid flows name. */
export type KnownHopKind = Hop["kind"] | "site";

export const HOP_MEANINGS: Readonly<Record<KnownHopKind, HopMeaning>> = {
  source: {
    code: (h) => (h.resource?.startsWith("i-") ? "BAD_STATE" : "UNKNOWN_COMPONENT"),
    component: "AWS::EC2::NetworkInterface",
    fix: (c) =>
      c.hop.resource?.startsWith("i-")
        ? `aws ec2 start-instances --instance-ids ${c.hop.resource}`
        : undefined,
  },
  "source-sg-egress": {
    code: () => "ENI_SG_RULES_MISMATCH",
    component: "AWS::EC2::SecurityGroup",
    fix: (c) => sgFix("egress", c),
  },
  route: {
    code: (h) =>
      /blackhole/.test(h.detail)
        ? "BAD_STATE_ROUTE"
        : /does not lead|sends/.test(h.detail)
          ? "CANNOT_ROUTE"
          : "NO_ROUTE_TO_DESTINATION",
    component: "AWS::EC2::RouteTable",
    fix: routeFix,
  },
  "nat-gateway": {
    code: (h) => (/private NAT/.test(h.detail) ? "NGW_REQUIRES_SOURCE_IN_VPC" : "BAD_STATE"),
    component: "AWS::EC2::NatGateway",
    fix: () => undefined,
  },
  "internet-gateway": {
    code: () => "BAD_STATE_ATTACHMENT",
    component: "AWS::EC2::InternetGateway",
    fix: (c) =>
      c.hop.resource && c.decision.source.vpcId
        ? `aws ec2 attach-internet-gateway --internet-gateway-id ${c.hop.resource} --vpc-id ${c.decision.source.vpcId}`
        : undefined,
  },
  peering: {
    code: (h) =>
      /pending|not active|deleted|rejected|expired|failed/.test(h.detail)
        ? "BAD_STATE"
        : /cidr|CIDR|outside/.test(h.detail)
          ? "PCX_REQUIRES_ADDRESS_IN_VPC_CIDR"
          : "NO_ROUTE_TO_DESTINATION",
    component: "AWS::EC2::VPCPeeringConnection",
    fix: (c) =>
      c.hop.resource && /pending/.test(c.hop.detail)
        ? `aws ec2 accept-vpc-peering-connection --vpc-peering-connection-id ${c.hop.resource}`
        : undefined,
  },
  "transit-gateway": {
    code: (h) =>
      /\bAZ\b|availability zone/i.test(h.detail)
        ? "TGW_ROUTE_AZ_RESTRICTION"
        : /blackhole/.test(h.detail)
          ? "TGW_RTB_BAD_STATE_ROUTE"
          : /associat/.test(h.detail)
            ? "TGW_ATTACH_MISSING_TGW_RTB_ASSOCIATION"
            : "TGW_RTB_NO_ROUTE_TO_TGW_ATTACHMENT",
    component: "AWS::EC2::TransitGateway",
    fix: (c) => {
      const cidr =
        c.decision.destination.vpcId && c.state.get("vpc", c.decision.destination.vpcId)?.cidrBlocks[0]?.cidr;
      return cidr
        ? `aws ec2 create-transit-gateway-route --transit-gateway-route-table-id tgw-rtb-${PLACEHOLDER} --destination-cidr-block ${cidr} --transit-gateway-attachment-id tgw-attach-${PLACEHOLDER}`
        : undefined;
    },
  },
  "network-acl": {
    code: () => "SUBNET_ACL_RESTRICTION",
    component: "AWS::EC2::NetworkAcl",
    fix: naclFix,
  },
  vpn: {
    code: () => "BAD_STATE_VPN",
    component: "AWS::EC2::VPNConnection",
    fix: (c) =>
      c.hop.resource && c.decision.destination.privateIp
        ? `aws ec2 create-vpn-connection-route --vpn-connection-id ${c.hop.resource} --destination-cidr-block ${c.decision.destination.privateIp}/32`
        : undefined,
  },
  "direct-connect": {
    code: () => "BAD_STATE",
    component: "AWS::DirectConnect::VirtualInterface",
    fix: dxFix,
  },
  // Gateway endpoints carry only flows that start inside their own VPC: no change lets a peer,
  // a transit-gateway spoke or a site use one; an interface endpoint for the service does.
  "gateway-endpoint": {
    code: () => "NO_POSSIBLE_DESTINATION",
    component: "AWS::EC2::VPCEndpoint",
    fix: () => undefined,
  },
  site: {
    code: () => "NO_POSSIBLE_DESTINATION",
    component: "privlink::Site",
    fix: () => undefined,
  },
  destination: {
    code: (h) => (/outside/.test(h.detail) ? "NO_POSSIBLE_DESTINATION" : "UNKNOWN_DESTINATION"),
    component: "AWS::EC2::NetworkInterface",
    fix: () => undefined,
  },
  "destination-sg-ingress": {
    code: () => "ENI_SG_RULES_MISMATCH",
    component: "AWS::EC2::SecurityGroup",
    fix: (c) => sgFix("ingress", c),
  },
  "endpoint-state": {
    code: () => "BAD_STATE",
    component: "AWS::EC2::VPCEndpoint",
    fix: () => undefined,
  },
  acceptance: {
    code: () => "BAD_STATE",
    component: "AWS::EC2::VPCEndpoint",
    fix: (c) => {
      const ep = endpointOf(c);
      return ep?.serviceId
        ? `aws ec2 accept-vpc-endpoint-connections --service-id ${ep.serviceId} --vpc-endpoint-ids ${ep.id}`
        : undefined;
    },
  },
  service: {
    code: (h) => (/listens on/.test(h.detail) ? "ELBV2_LISTENER_PORT_RESTRICTION" : "BAD_STATE"),
    component: "AWS::EC2::VPCEndpointService",
    fix: () => undefined,
  },
  "nlb-listener": {
    code: () => "ELBV2_LISTENER_PORT_RESTRICTION",
    component: "AWS::ElasticLoadBalancingV2::Listener",
    fix: (c) => {
      const lb = c.hop.resource;
      const listener = lb ? [...c.state.all("listener")].find((l) => l.loadBalancerArn === lb) : undefined;
      return lb
        ? `aws elbv2 create-listener --load-balancer-arn ${lb} --protocol TCP --port ${c.port} --default-actions Type=forward,TargetGroupArn=${listener?.targetGroupArn ?? PLACEHOLDER}`
        : undefined;
    },
  },
  "target-health": {
    code: () => "TARGET_ADDRESS_RESTRICTION",
    component: "AWS::ElasticLoadBalancingV2::TargetGroup",
    fix: (c) =>
      c.hop.resource
        ? `aws elbv2 register-targets --target-group-arn ${c.hop.resource} --targets Id=${PLACEHOLDER},Port=${c.port}`
        : undefined,
  },
  // The endpoint's own listener: a full connection table or a missing front is a component not
  // working (BAD_STATE, no change to make); an admitted flow with nowhere to go is the listener
  // of an endpoint the state no longer has (the data plane converges, nothing to fix either).
  "endpoint-listener": {
    code: (h) => (/no forwarding/.test(h.detail) ? "NO_POSSIBLE_DESTINATION" : "BAD_STATE"),
    component: "AWS::EC2::VPCEndpoint",
    fix: () => undefined,
  },
};

const UNKNOWN: HopMeaning = {
  code: () => "BAD_STATE",
  component: "privlink::Hop",
  fix: () => undefined,
};

export function meaningOf(kind: string): HopMeaning {
  return (HOP_MEANINGS as Record<string, HopMeaning>)[kind] ?? UNKNOWN;
}

/** Hops that move a packet between networks rather than admit it: Network Insights' path components. */
export const ROUTING_KINDS: ReadonlySet<string> = new Set([
  "route",
  "nat-gateway",
  "internet-gateway",
  "peering",
  "transit-gateway",
  "vpn",
  "direct-connect",
  "site",
]);
