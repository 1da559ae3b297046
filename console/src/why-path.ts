import type { Graph, GraphEdge } from "./graph.js";
import { ownerOfEni } from "./graph.js";
import type { Snapshot } from "./model.js";

export interface WhyHop {
  kind: string;
  allowed: boolean;
  resource?: string;
  ruleId?: string;
  detail: string;
  code?: string;
}

/** What POST /_privlink/why answers (src/analyze/why.ts WhyResult). */
export interface WhyResult {
  allowed: boolean;
  source: { label: string; eniId?: string; vpcId?: string; site?: string; privateIp: string };
  destination: {
    label: string;
    name?: string;
    address: string;
    vpcId?: string;
    privateIp?: string;
    port: number;
  };
  hops: WhyHop[];
  refusedAt?: number;
  reason: string;
  explanationCode?: string;
  fix?: string;
}

/** A hop of the answer placed on the graph: on a node or on an edge. */
export interface PlacedHop {
  index: number;
  kind: string;
  allowed: boolean;
  /** A node ID or an edge ID of the drawn graph. */
  at: string;
  onEdge: boolean;
}

export interface WhyPath {
  /** The nodes the flow crosses, source first. */
  nodes: string[];
  /** The edges it crosses; `why:` edges join a source to its destination (the routing hops). */
  edges: GraphEdge[];
  hops: PlacedHop[];
  /** The refusing hop, when the answer is a refusal. */
  refused?: PlacedHop;
}

/** Hops met between the source and the destination: drawn on the edge that joins them. */
const TRANSIT = new Set([
  "network-acl",
  "route",
  "nat-gateway",
  "internet-gateway",
  "peering",
  "transit-gateway",
  "vpn",
  "direct-connect",
  "gateway-endpoint",
]);

/**
 * The path of a `why` answer on the topology graph: source node → (routing) → destination node
 * → its endpoint service → the NLB whose listener took the port → targets, with every hop of the
 * answer placed on the node or edge where it is decided, so the refusing one can be marked.
 * Pure; the graph is the one drawn (buildGraph), and the `why:` edge is added to it.
 */
export function whyPath(s: Snapshot, g: Graph, r: WhyResult): WhyPath {
  const has = new Set(g.nodes.map((n) => n.id));
  const edgeById = new Map(g.edges.map((e) => [e.id, e]));
  const src = ownerOfEni(s, r.source.eniId) ?? (r.source.site ? `site:${r.source.site}` : undefined);
  const dstEni = s.enis.find(
    (e) => e.vpcId === r.destination.vpcId && e.privateIp === r.destination.privateIp,
  );
  const dst = ownerOfEni(s, dstEni?.id);
  const nodes = [src, dst].filter((n): n is string => !!n && has.has(n));
  const edges: GraphEdge[] = [];
  const link = (id: string, fallback?: GraphEdge): string | undefined => {
    const e = edgeById.get(id) ?? fallback;
    if (!e || !has.has(e.source) || !has.has(e.target)) return undefined;
    if (!edges.includes(e)) edges.push(e);
    if (!nodes.includes(e.target)) nodes.push(e.target);
    return e.id;
  };
  const transit =
    src && dst && src !== dst
      ? link(`why:${src}->${dst}`, {
          id: `why:${src}->${dst}`,
          source: src,
          target: dst,
          kind: "flow",
          label: `:${r.destination.port}`,
        })
      : undefined;
  const endpoint = s.endpoints.find((e) => e.id === dst);
  const service = endpoint?.serviceId ? link(`endpoint:${endpoint.id}->${endpoint.serviceId}`) : undefined;
  /** The NLB hop names the listener (or, refused, the load balancer with no listener on the port). */
  const placeNlb = (ref?: string) => {
    const l = s.listeners.find((x) => x.id === ref);
    const lbArn = l?.loadBalancerArn ?? s.loadBalancers.find((lb) => lb.id === ref)?.id;
    if (!lbArn || !endpoint?.serviceId) return undefined;
    const nlb = link(`service:${endpoint.serviceId}->${lbArn}`);
    const targets = g.edges
      .filter(
        (e) =>
          e.kind === "target" &&
          e.source === lbArn &&
          l &&
          e.target.startsWith(`target:${l.targetGroupArn}:`),
      )
      .map((e) => link(e.id));
    return { nlb, targets: targets.find(Boolean) };
  };
  let nlb: { nlb?: string; targets?: string } | undefined;
  const hops = r.hops.map((h, index): PlacedHop => {
    let at: string | undefined;
    if (h.kind === "source" || h.kind === "source-sg-egress") at = src;
    else if (TRANSIT.has(h.kind)) at = transit ?? src;
    else if (h.kind === "acceptance" || h.kind === "service" || h.kind === "endpoint-state")
      at = h.kind === "endpoint-state" ? dst : (service ?? dst);
    else if (h.kind === "nlb-listener") {
      nlb = placeNlb(h.resource);
      at = nlb?.nlb ?? service ?? dst;
    } else if (h.kind === "target-health") at = nlb?.targets ?? nlb?.nlb ?? dst;
    else at = dst;
    const place = at ?? nodes[0] ?? "";
    return { index, kind: h.kind, allowed: h.allowed, at: place, onEdge: edges.some((e) => e.id === place) };
  });
  return {
    nodes,
    edges,
    hops,
    refused: r.refusedAt === undefined ? undefined : hops[r.refusedAt],
  };
}
