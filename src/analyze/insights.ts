/**
 * Network Insights analyses, answered by flow/: a running analysis takes the decision for its
 * path and stores NetworkPathFound, the path components and the explanations (explain.ts codes),
 * then moves to `succeeded` (or `failed` with a message when privlink cannot analyse the path).
 */
import { hostAddressOf } from "../cloud/addressing.js";
import { parseIp } from "../cloud/cidr.js";
import { registerLifecycleStep, Watched } from "../cloud/lifecycle.js";
import type { State, Tx } from "../cloud/state.js";
import type { Eni, NetworkInsightsAnalysis, NetworkInsightsPath, SgRule } from "../cloud/types.js";
import { type Decision, type Hop, longestMatch } from "../flow/index.js";
import { endpointPorts } from "./access.js";
import { meaningOf } from "./explain.js";
import { decideAny } from "./why.js";

type Json = Record<string, unknown>;

export interface AnalysisResult {
  readonly status: "succeeded" | "failed";
  readonly statusMessage?: string;
  readonly networkPathFound?: boolean;
  readonly forwardPathComponents?: Json[];
  readonly returnPathComponents?: Json[];
  readonly explanations?: Json[];
}

function eniOf(state: State, id: string): Eni | undefined {
  if (id.startsWith("i-")) return state.get("eni", state.get("instance", id)?.eniId ?? "");
  if (id.startsWith("eni-")) return state.get("eni", id);
  if (id.startsWith("vpce-")) return state.get("eni", state.get("vpcEndpoint", id)?.enis[0]?.eniId ?? "");
  return undefined;
}

function destinationAddresses(state: State, src: Eni, path: NetworkInsightsPath): string[] {
  if (!path.destination) return path.destinationIp ? [path.destinationIp] : [];
  const id = path.destination;
  const enis = id.startsWith("vpce-")
    ? (state.get("vpcEndpoint", id)?.enis ?? [])
        .map((n) => state.get("eni", n.eniId))
        .filter((e): e is Eni => !!e)
        .sort((a, b) => Number(b.az === src.az) - Number(a.az === src.az))
    : [eniOf(state, id)].filter((e): e is Eni => !!e);
  return enis.map((e) => {
    if (e.vpcId === src.vpcId) return e.privateIp;
    const vpc = state.get("vpc", e.vpcId);
    return (vpc && hostAddressOf(vpc, e.privateIp)) ?? e.privateIp;
  });
}

function portOf(state: State, path: NetworkInsightsPath): number {
  if (path.destinationPort) return path.destinationPort;
  const ep = path.destination?.startsWith("vpce-") ? state.get("vpcEndpoint", path.destination) : undefined;
  return (ep && endpointPorts(state, ep)[0]) ?? 443;
}

export function analyzePath(state: State, path: NetworkInsightsPath): AnalysisResult {
  if (path.protocol !== "tcp")
    return {
      status: "failed",
      statusMessage: "privlink's data plane carries TCP only: analyse Protocol tcp",
    };
  const src = eniOf(state, path.source);
  if (!src) return { status: "failed", statusMessage: `the source ${path.source} no longer exists` };
  const addresses = destinationAddresses(state, src, path);
  if (addresses.length === 0)
    return { status: "failed", statusMessage: `the destination ${path.destination} no longer exists` };
  const port = portOf(state, path);
  const { decision: d } = decideAny(state, { kind: "eni", eniId: src.id }, addresses, port, undefined);
  const at = d.hops.findIndex((h) => !h.allowed);
  const reached = at < 0 ? d.hops : d.hops.slice(0, at);
  const forward: Json[] = reached.map((h, i) => ({
    SequenceNumber: i + 1,
    ...component(state, d, h, port, path),
  }));
  const explanations = at < 0 ? [] : [explanation(state, d, d.hops[at]!, port)];
  return {
    status: "succeeded",
    networkPathFound: d.allowed,
    forwardPathComponents: forward,
    // Security groups are stateful: the reply retraces the forward path with no rule to match.
    returnPathComponents: d.allowed
      ? [...forward].reverse().map(({ SecurityGroupRule: _r, OutboundHeader: _h, ...c }, i) => ({
          ...c,
          SequenceNumber: i + 1,
        }))
      : [],
    explanations,
  };
}

function ref(state: State, id: string | undefined): Json | undefined {
  if (!id) return undefined;
  if (id.startsWith("arn:")) return { Id: id.slice(id.lastIndexOf("/") + 1), Arn: id };
  const types: [string, string, string][] = [
    ["i-", "instance", "instance"],
    ["eni-", "eni", "network-interface"],
    ["sg-", "securityGroup", "security-group"],
    ["rtb-", "routeTable", "route-table"],
    ["vpce-svc-", "endpointService", "vpc-endpoint-service"],
    ["vpce-", "vpcEndpoint", "vpc-endpoint"],
    ["igw-", "internetGateway", "internet-gateway"],
    ["nat-", "natGateway", "natgateway"],
    ["vpc-", "vpc", "vpc"],
    ["subnet-", "subnet", "subnet"],
    ["acl-", "networkAcl", "network-acl"],
  ];
  const t = types.find(([p]) => id.startsWith(p));
  const owner = t && (state.get(t[1] as "vpc", id) as { accountId: string; region: string } | undefined);
  return owner
    ? { Id: id, Arn: `arn:aws:ec2:${owner.region}:${owner.accountId}:${t![2]}/${id}` }
    : { Id: id };
}

function sgRule(state: State, h: Hop, direction: "ingress" | "egress", port: number): Json | undefined {
  const g = h.resource ? state.get("securityGroup", h.resource) : undefined;
  const r: SgRule | undefined = g?.[direction].find((x) => x.ruleId === h.ruleId);
  if (!r) return undefined;
  return {
    Direction: direction,
    SecurityGroupId: g!.id,
    Protocol: r.protocol,
    PortRange: r.fromPort >= 0 ? { From: r.fromPort, To: r.toPort } : { From: port, To: port },
    Cidr: r.cidrIpv4,
    PrefixListId: r.prefixListId,
  };
}

function routeOf(state: State, d: Decision, tableId: string): Json | undefined {
  const table = state.get("routeTable", tableId);
  const ip = parseIp(d.destination.privateIp ?? d.destination.host);
  const route = table && ip !== undefined ? longestMatch(table, ip) : undefined;
  if (!route) return undefined;
  const t = route.target;
  const target: Json =
    t.kind === "local"
      ? { GatewayId: "local" }
      : t.kind === "gateway"
        ? { GatewayId: t.id }
        : t.kind === "nat"
          ? { NatGatewayId: t.id }
          : t.kind === "peering"
            ? { VpcPeeringConnectionId: t.id }
            : t.kind === "transit"
              ? { TransitGatewayId: t.id }
              : { NetworkInterfaceId: t.id };
  return {
    DestinationCidr: route.destinationCidr,
    DestinationPrefixListId: route.destinationPrefixListId,
    Origin: route.origin,
    State: route.state,
    ...target,
  };
}

function component(state: State, d: Decision, h: Hop, port: number, path: NetworkInsightsPath): Json {
  switch (h.kind) {
    case "source":
      return {
        Component: ref(state, path.source),
        Vpc: ref(state, d.source.vpcId),
        Subnet: ref(state, d.source.eniId && state.get("eni", d.source.eniId)?.subnetId),
        OutboundHeader: {
          Protocol: "6",
          SourceAddresses: [d.source.privateIp],
          DestinationAddresses: [d.destination.privateIp ?? d.destination.host],
          DestinationPortRanges: [{ From: port, To: port }],
        },
      };
    case "source-sg-egress":
      return { Component: ref(state, d.source.eniId), SecurityGroupRule: sgRule(state, h, "egress", port) };
    case "destination-sg-ingress":
      return {
        Component: ref(state, d.destination.eniId),
        Vpc: ref(state, d.destination.vpcId),
        SecurityGroupRule: sgRule(state, h, "ingress", port),
      };
    case "route":
      return h.resource?.startsWith("rtb-")
        ? { Component: ref(state, h.resource), RouteTableRoute: routeOf(state, d, h.resource) }
        : { Component: ref(state, h.resource) };
    case "transit-gateway":
      return { Component: ref(state, h.resource), TransitGateway: ref(state, h.resource) };
    case "peering":
      return {
        Component: ref(state, h.resource),
        SourceVpc: ref(state, d.source.vpcId),
        DestinationVpc: ref(state, d.destination.vpcId),
      };
    case "endpoint-state":
    case "acceptance":
      return {
        Component: ref(state, h.resource),
        ServiceName: h.resource && state.get("vpcEndpoint", h.resource)?.serviceName,
      };
    case "nlb-listener":
      return { Component: ref(state, h.resource), ElasticLoadBalancerListener: ref(state, h.resource) };
    default:
      return { Component: ref(state, h.resource), AdditionalDetails: [{ AdditionalDetailType: h.kind }] };
  }
}

function explanation(state: State, d: Decision, h: Hop, port: number): Json {
  const m = meaningOf(h.kind);
  const base: Json = {
    ExplanationCode: m.code(h),
    Component: ref(state, h.resource),
    Port: port,
    Protocols: ["tcp"],
    Vpc: ref(state, d.destination.vpcId ?? d.source.vpcId),
    Destination: ref(state, d.destination.eniId),
    Address: d.destination.privateIp ?? d.destination.host,
    MissingComponent: h.detail,
  };
  if (h.kind === "source-sg-egress" || h.kind === "destination-sg-ingress") {
    const eni = h.kind === "source-sg-egress" ? d.source.eniId : d.destination.eniId;
    const groups = (eni && state.get("eni", eni)?.securityGroupIds) || [];
    return {
      ...base,
      Direction: h.kind === "source-sg-egress" ? "egress" : "ingress",
      NetworkInterface: ref(state, eni),
      SecurityGroups: groups.map((g) => ref(state, g)),
    };
  }
  if (h.kind === "route" && h.resource?.startsWith("rtb-"))
    return { ...base, RouteTable: ref(state, h.resource), RouteTableRoute: routeOf(state, d, h.resource) };
  if (h.kind === "network-acl")
    return {
      ...base,
      Acl: ref(state, h.resource),
      Direction: /: outbound /.test(h.detail) ? "egress" : "ingress",
    };
  if (h.kind === "internet-gateway") return { ...base, InternetGateway: ref(state, h.resource) };
  if (h.kind === "nat-gateway") return { ...base, NatGateway: ref(state, h.resource) };
  if (h.kind === "peering") return { ...base, VpcPeeringConnection: ref(state, h.resource) };
  if (h.kind === "nlb-listener")
    return { ...base, LoadBalancerArn: h.resource, LoadBalancerListenerPort: port };
  if (h.kind === "target-health") return { ...base, LoadBalancerTargetGroup: ref(state, h.resource) };
  return base;
}

const runningAnalyses = new Watched(
  "networkInsightsAnalysis",
  (a: NetworkInsightsAnalysis) => a.status === "running",
);

/** Running → succeeded: each running analysis is answered from the committed state. */
export function insightsStep(tx: Tx): void {
  const running = runningAnalyses.in(tx);
  for (const a of running) {
    const path = tx.get("networkInsightsPath", a.pathId);
    const result: AnalysisResult = path
      ? analyzePath(tx.state, path)
      : { status: "failed", statusMessage: `the path ${a.pathId} was deleted` };
    tx.put("networkInsightsAnalysis", { ...a, ...result });
  }
}

registerLifecycleStep(insightsStep);
