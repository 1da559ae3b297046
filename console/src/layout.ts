import { Graph as Dagre, layout } from "@dagrejs/dagre";
import type { Graph } from "./graph.js";

export const NODE_WIDTH = 210;
export const NODE_HEIGHT = 54;

/** Positions (top-left corners) from dagre, left to right: containment, then where traffic goes. */
export function layoutGraph(g: Graph): Map<string, { x: number; y: number }> {
  const d = new Dagre({ multigraph: true });
  d.setGraph({ rankdir: "LR", nodesep: 18, ranksep: 70, marginx: 10, marginy: 10 });
  d.setDefaultEdgeLabel(() => ({}));
  for (const n of g.nodes) d.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  // Peering and flow edges join nodes of one rank: they must not pull the layout into a cycle.
  for (const e of g.edges)
    if (e.kind !== "peering" && e.kind !== "flow")
      d.setEdge(e.source, e.target, { weight: e.kind === "contains" ? 2 : 1 }, e.id);
  layout(d);
  const out = new Map<string, { x: number; y: number }>();
  for (const n of g.nodes) {
    const p = d.node(n.id) as { x: number; y: number } | undefined;
    out.set(n.id, { x: (p?.x ?? 0) - NODE_WIDTH / 2, y: (p?.y ?? 0) - NODE_HEIGHT / 2 });
  }
  return out;
}
