import type { Counters, FlowRow, Snapshot, StatsSample } from "./model.js";

export type NodeKind =
  | "account"
  | "vpc"
  | "subnet"
  | "instance"
  | "endpoint"
  | "service"
  | "nlb"
  | "target"
  | "tgw"
  | "site"
  | "nat";

export interface GraphNode {
  id: string;
  kind: NodeKind;
  label: string;
  /** Second line: CIDR, AZ, IP, state… */
  detail: string;
  accountId?: string;
  vpcId?: string;
}

/** `contains` edges draw the hierarchy; the others carry (or could carry) traffic. */
export type EdgeKind = "contains" | "endpoint" | "service" | "target" | "peering" | "tgw" | "vpn" | "flow";

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  kind: EdgeKind;
  label?: string;
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface GraphFilter {
  /** Only these accounts (empty or undefined: all). */
  accounts?: readonly string[];
  /** Only this VPC and what its traffic reaches. */
  vpcId?: string;
  /** Leave out default VPCs (and what is in them): every account has one per region. */
  hideDefaultVpcs?: boolean;
}

const nameOf = (tags: Record<string, string> | undefined, id: string) => tags?.Name ?? id;

/**
 * The topology as a graph: accounts → VPCs → subnets → instances and endpoints; endpoints →
 * their service → its NLBs → targets; peering, transit gateways and on-premises sites as
 * edges and nodes. Pure: the same snapshot gives the same graph.
 */
export function buildGraph(s: Snapshot, filter: GraphFilter = {}): Graph {
  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, GraphEdge>();
  const node = (n: GraphNode) => nodes.set(n.id, n);
  const edge = (source: string, target: string, kind: EdgeKind, label?: string) => {
    const id = `${kind}:${source}->${target}`;
    edges.set(id, { id, source, target, kind, label });
  };

  for (const a of s.accounts)
    node({ id: a.id, kind: "account", label: `account ${a.id}`, detail: "", accountId: a.id });
  const hidden = new Set(filter.hideDefaultVpcs ? s.vpcs.filter((v) => v.isDefault).map((v) => v.id) : []);
  for (const v of s.vpcs) {
    if (hidden.has(v.id)) continue;
    const cidrs = v.cidrBlocks.filter((c) => c.state === "associated").map((c) => c.cidr);
    node({
      id: v.id,
      kind: "vpc",
      label: nameOf(v.tags, v.id),
      detail: `${v.region} ${cidrs.join(" ")}`,
      accountId: v.accountId,
      vpcId: v.id,
    });
    edge(v.accountId, v.id, "contains");
  }
  for (const sn of s.subnets) {
    node({
      id: sn.id,
      kind: "subnet",
      label: nameOf(sn.tags, sn.id),
      detail: `${sn.cidr} ${sn.az} (${sn.azId})`,
      accountId: sn.accountId,
      vpcId: sn.vpcId,
    });
    edge(sn.vpcId, sn.id, "contains");
  }
  const ipOf = new Map(s.enis.map((e) => [e.id, e.privateIp]));
  for (const i of s.instances) {
    node({
      id: i.id,
      kind: "instance",
      label: nameOf(i.tags, i.id),
      detail: `${ipOf.get(i.eniId) ?? ""} ${i.state}`,
      accountId: i.accountId,
      vpcId: i.vpcId,
    });
    edge(i.subnetId, i.id, "contains");
  }
  for (const n of s.natGateways) {
    node({
      id: n.id,
      kind: "nat",
      label: nameOf(n.tags, n.id),
      detail: `${ipOf.get(n.eniId) ?? ""} ${n.state}`,
      accountId: n.accountId,
      vpcId: n.vpcId,
    });
    edge(n.subnetId, n.id, "contains");
  }
  for (const e of s.endpoints) {
    const ips = e.enis.map((x) => ipOf.get(x.eniId)).filter(Boolean);
    node({
      id: e.id,
      kind: "endpoint",
      label: nameOf(e.tags, e.id),
      detail: `${e.state} ${ips.join(" ")}`,
      accountId: e.accountId,
      vpcId: e.vpcId,
    });
    const subnets = e.enis.length ? e.enis.map((x) => x.subnetId) : e.subnetIds;
    if (subnets.length === 0) edge(e.vpcId, e.id, "contains");
    for (const sn of subnets) edge(sn, e.id, "contains");
    if (e.serviceId) edge(e.id, e.serviceId, "endpoint", e.state);
  }
  const lbByArn = new Map(s.loadBalancers.map((lb) => [lb.id, lb]));
  for (const svc of s.services) {
    node({
      id: svc.id,
      kind: "service",
      label: nameOf(svc.tags, svc.id),
      detail: svc.serviceName,
      accountId: svc.accountId,
    });
    for (const arn of svc.networkLoadBalancerArns) if (lbByArn.has(arn)) edge(svc.id, arn, "service");
  }
  for (const lb of s.loadBalancers) {
    node({
      id: lb.id,
      kind: "nlb",
      label: lb.name,
      detail: `${lb.type} ${lb.state}`,
      accountId: lb.accountId,
      vpcId: lb.vpcId,
    });
    edge(lb.vpcId, lb.id, "contains");
  }
  const tgByArn = new Map(s.targetGroups.map((t) => [t.id, t]));
  for (const l of s.listeners) {
    const tg = tgByArn.get(l.targetGroupArn);
    if (!tg || !nodes.has(l.loadBalancerArn)) continue;
    for (const t of tg.targets) {
      const id = `target:${tg.id}:${t.id}:${t.port}`;
      const instance = s.instances.find((i) => i.id === t.id);
      node({
        id,
        kind: "target",
        label: `${t.id}:${t.port}`,
        detail: `${tg.name}${instance ? ` ${ipOf.get(instance.eniId)}` : ""}`,
        accountId: tg.accountId,
        vpcId: instance?.vpcId,
      });
      edge(l.loadBalancerArn, id, "target", `${l.protocol} ${l.port}`);
    }
  }
  for (const p of s.peerings) {
    if (p.status === "deleted" || p.status === "rejected" || p.status === "expired" || p.status === "failed")
      continue;
    edge(p.requester.vpcId, p.accepter.vpcId, "peering", `${p.id} ${p.status}`);
  }
  for (const t of s.transitGateways) {
    if (t.state === "deleted") continue;
    node({ id: t.id, kind: "tgw", label: nameOf(t.tags, t.id), detail: t.state, accountId: t.accountId });
  }
  for (const a of s.tgwAttachments) {
    if (a.state === "deleted" || !nodes.has(a.transitGatewayId)) continue;
    if (a.resourceType === "vpc") edge(a.resourceId, a.transitGatewayId, "tgw", a.id);
  }
  const cgwSite = new Map<string, string>();
  for (const site of s.sites) {
    node({
      id: `site:${site.id}`,
      kind: "site",
      label: `site ${site.id}`,
      detail: `${site.cidr}${site.tunnelsDown ? " (tunnels down)" : ""}`,
    });
    for (const c of s.customerGateways)
      if (c.ipAddress === site.publicIp) cgwSite.set(c.id, `site:${site.id}`);
  }
  const vgwVpc = new Map(
    s.vpnGateways.map((g) => [g.id, g.attachments.find((a) => a.state === "attached")?.vpcId]),
  );
  for (const v of s.vpnConnections) {
    const site = cgwSite.get(v.customerGatewayId);
    const aws = v.transitGatewayId ?? (v.vpnGatewayId ? vgwVpc.get(v.vpnGatewayId) : undefined);
    if (site && aws && v.state !== "deleted") edge(site, aws, "vpn", v.id);
  }
  for (const n of nodes.values()) if (n.vpcId && hidden.has(n.vpcId)) nodes.delete(n.id);
  return applyFilter(
    {
      nodes: [...nodes.values()],
      edges: [...edges.values()].filter((e) => nodes.has(e.source) && nodes.has(e.target)),
    },
    filter,
  );
}

/**
 * Keeps the chosen accounts' nodes, or one VPC's, plus anything one traffic edge away
 * (the service a kept endpoint reaches, the NLB behind it, its targets) so a consumer's view
 * still shows where its endpoints go.
 */
export function applyFilter(g: Graph, f: GraphFilter): Graph {
  const accounts = f.accounts?.length ? new Set(f.accounts) : undefined;
  if (!accounts && !f.vpcId) return g;
  const keep = new Set(
    g.nodes
      .filter(
        (n) =>
          (!accounts || (n.accountId !== undefined && accounts.has(n.accountId))) &&
          (!f.vpcId || n.vpcId === f.vpcId || n.id === f.vpcId),
      )
      .map((n) => n.id),
  );
  if (f.vpcId)
    for (const n of g.nodes)
      if (n.kind === "account" && g.edges.some((e) => e.source === n.id && e.target === f.vpcId))
        keep.add(n.id);
  // Follow traffic edges outward (endpoint → service → NLB → target; peering, TGW, VPN) until nothing new.
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of g.edges) {
      if (e.kind === "contains") continue;
      if (keep.has(e.source) && !keep.has(e.target)) {
        keep.add(e.target);
        grew = true;
      }
    }
  }
  return {
    nodes: g.nodes.filter((n) => keep.has(n.id)),
    edges: g.edges.filter((e) => keep.has(e.source) && keep.has(e.target)),
  };
}

/** The node a search finds: an exact ID, a Name tag, a private IP, or a DNS name; else the first partial match. */
export function findNode(s: Snapshot, g: Graph, query: string): string | undefined {
  const q = query.trim().toLowerCase();
  if (!q) return undefined;
  const has = (id: string | undefined) => (id && g.nodes.some((n) => n.id === id) ? id : undefined);
  const exact = g.nodes.find((n) => n.id.toLowerCase() === q || n.label.toLowerCase() === q);
  if (exact) return exact.id;
  const eni = s.enis.find((e) => e.privateIp === q || e.id === q);
  if (eni) {
    const owner =
      s.instances.find((i) => i.eniId === eni.id)?.id ??
      s.endpoints.find((e) => e.enis.some((x) => x.eniId === eni.id))?.id ??
      s.loadBalancers.find((lb) => lb.enis?.some((x) => x.eniId === eni.id))?.id ??
      s.natGateways.find((n) => n.eniId === eni.id)?.id;
    if (has(owner)) return owner;
  }
  const byDns = s.endpoints.find((e) => e.dnsNames.some((d) => d.name.toLowerCase() === q));
  if (has(byDns?.id)) return byDns!.id;
  const byService = s.services.find(
    (x) => x.serviceName.toLowerCase() === q || x.privateDnsName?.toLowerCase() === q,
  );
  if (has(byService?.id)) return byService!.id;
  return g.nodes.find(
    (n) =>
      n.id.toLowerCase().includes(q) ||
      n.label.toLowerCase().includes(q) ||
      n.detail.toLowerCase().includes(q),
  )?.id;
}

export interface EdgeTraffic {
  /** Bytes per second, both directions. */
  rate: number;
  active: number;
  /** The last refusal seen on this hop. */
  refused?: { reason: string; hop?: string; time: string };
}

/** Bytes per second per endpoint between two counter samples (counters only grow; a reset reads as 0). */
export function endpointRates(
  prev: StatsSample | undefined,
  next: StatsSample,
): Map<string, { rate: number; active: number }> {
  const out = new Map<string, { rate: number; active: number }>();
  const dt = prev ? (Date.parse(next.time) - Date.parse(prev.time)) / 1000 : 0;
  const before = new Map((prev?.endpoints ?? []).map((c) => [c.vpcEndpointId, c]));
  for (const c of next.endpoints) {
    const b = before.get(c.vpcEndpointId);
    const bytes = b ? total(c) - total(b) : 0;
    out.set(c.vpcEndpointId, { rate: dt > 0 && bytes > 0 ? bytes / dt : 0, active: c.activeConnections });
  }
  return out;
}

/** How long a refused flow keeps its hop marked. */
export const REFUSAL_SHOWN_MS = 15_000;

const total = (c: Counters) => c.bytesIn + c.bytesOut;

/**
 * Traffic on the graph's edges: each endpoint's rate on its endpoint → service edge (and on
 * the flow edges from the workloads seen using it); refused flows mark the hop that refused
 * them — the endpoint's edge when the flow was aimed at an endpoint interface, else the edge
 * into the destination's node.
 */
export function edgeTraffic(
  s: Snapshot,
  g: Graph,
  rates: Map<string, { rate: number; active: number }>,
  flows: readonly FlowRow[],
  /** The present (ms); refusals older than REFUSAL_SHOWN_MS before it are not shown. */
  now?: number,
): Map<string, EdgeTraffic> {
  const out = new Map<string, EdgeTraffic>();
  const endpointOfEni = eniEndpoints(s);
  for (const e of g.edges) {
    if (e.kind === "endpoint") {
      const r = rates.get(e.source);
      if (r) out.set(e.id, { rate: r.rate, active: r.active });
    }
    if (e.kind === "flow") {
      const r = rates.get(e.target);
      if (r) out.set(e.id, { rate: r.rate, active: r.active });
    }
  }
  for (const f of flows) {
    // A refusal marks its hop for a while, then the mark goes: the edge shows the present.
    if (f.verdict !== "REJECT" || (now !== undefined && Date.parse(f.time) < now - REFUSAL_SHOWN_MS))
      continue;
    const endpointId = f.dstEniId ? endpointOfEni.get(f.dstEniId) : undefined;
    const target = endpointId ?? ownerOfEni(s, f.dstEniId);
    const edge =
      g.edges.find(
        (e) => e.kind === "flow" && e.target === target && e.source === ownerOfEni(s, f.srcEniId),
      ) ??
      g.edges.find((e) => e.kind === "endpoint" && e.source === target) ??
      g.edges.find((e) => e.target === target);
    if (!edge) continue;
    const cur = out.get(edge.id) ?? { rate: 0, active: 0 };
    out.set(edge.id, { ...cur, refused: { reason: f.reason ?? "refused", hop: f.hop, time: f.time } });
  }
  return out;
}

/** Adds a `flow` edge from each workload seen sending to a node (an endpoint, an instance). */
export function withFlowEdges(s: Snapshot, g: Graph, flows: readonly FlowRow[]): Graph {
  const ids = new Set(g.nodes.map((n) => n.id));
  const endpointOfEni = eniEndpoints(s);
  const extra = new Map<string, GraphEdge>();
  for (const f of flows) {
    const src = ownerOfEni(s, f.srcEniId);
    const dst = (f.dstEniId && endpointOfEni.get(f.dstEniId)) || ownerOfEni(s, f.dstEniId);
    if (!src || !dst || src === dst || !ids.has(src) || !ids.has(dst)) continue;
    const id = `flow:${src}->${dst}`;
    extra.set(id, { id, source: src, target: dst, kind: "flow", label: `:${f.dstPort}` });
  }
  const have = new Set(g.edges.map((e) => e.id));
  return { nodes: g.nodes, edges: [...g.edges, ...[...extra.values()].filter((e) => !have.has(e.id))] };
}

function eniEndpoints(s: Snapshot): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of s.endpoints) for (const x of e.enis) m.set(x.eniId, e.id);
  return m;
}

/** The node that owns an interface: its instance, endpoint, load balancer or NAT gateway. */
export function ownerOfEni(s: Snapshot, eniId: string | undefined): string | undefined {
  if (!eniId) return undefined;
  return (
    s.instances.find((i) => i.eniId === eniId)?.id ??
    s.endpoints.find((e) => e.enis.some((x) => x.eniId === eniId))?.id ??
    s.loadBalancers.find((lb) => lb.enis?.some((x) => x.eniId === eniId))?.id ??
    s.natGateways.find((n) => n.eniId === eniId)?.id
  );
}
