import {
  Background,
  BaseEdge,
  Controls,
  type Edge,
  type EdgeProps,
  getBezierPath,
  Handle,
  MarkerType,
  type Node,
  type NodeProps,
  Position,
  ReactFlow,
  useReactFlow,
} from "@xyflow/react";
import { type KeyboardEvent, useEffect, useMemo, useRef } from "react";
import { type Box, goesBackward, labelPoint, routeAround, svgPath } from "./edge-route.js";
import type { Graph, GraphEdge, GraphNode } from "./graph.js";
import { nextNode } from "./keyboard.js";
import { layoutGraph, NODE_HEIGHT, NODE_WIDTH } from "./layout.js";

type NodeData = { node: GraphNode; selected: boolean; mark?: string };

function TopoNode({ data }: NodeProps<Node<NodeData>>) {
  const n = data.node;
  return (
    <div
      className={`topo k-${n.kind}${data.selected ? " sel" : ""}${data.mark ? ` ${data.mark}` : ""}`}
      style={{ width: NODE_WIDTH, height: NODE_HEIGHT }}
      title={n.id}
    >
      <Handle type="target" position={Position.Left} />
      <div className="kind">{n.kind}</div>
      <div className="label">{n.label}</div>
      <div className="detail">{n.detail}</div>
      <Handle type="source" position={Position.Right} />
    </div>
  );
}

type EdgeData = { boxes: readonly Box[] };

/**
 * A curve for an edge that runs left to right; one that goes backward (or stays in its rank)
 * is routed around the nodes between its ends instead of drawn through them (edge-route.ts).
 */
function RoutedEdge(p: EdgeProps<Edge<EdgeData>>) {
  const from = { x: p.sourceX, y: p.sourceY };
  const to = { x: p.targetX, y: p.targetY };
  let path: string;
  let label: { x: number; y: number };
  if (goesBackward(from, to)) {
    const points = routeAround(from, to, p.data?.boxes ?? []);
    path = svgPath(points);
    label = labelPoint(points);
  } else {
    const [d, x, y] = getBezierPath(p);
    path = d;
    label = { x, y };
  }
  return (
    <BaseEdge
      id={p.id}
      path={path}
      markerEnd={p.markerEnd}
      label={p.label}
      labelX={label.x}
      labelY={label.y}
      labelStyle={p.labelStyle}
      labelShowBg={p.labelShowBg}
      interactionWidth={p.interactionWidth}
    />
  );
}

const nodeTypes = { topo: TopoNode };
const edgeTypes = { routed: RoutedEdge };

/** @xyflow/react's default handle: a 6 px box (border-box) centred on the node's edge. */
const HANDLE = 6;
const handle = (type: "source" | "target", x: number) => ({
  type,
  position: type === "target" ? Position.Left : Position.Right,
  x: x - HANDLE / 2,
  y: (NODE_HEIGHT - HANDLE) / 2,
  width: HANDLE,
  height: HANDLE,
});
/**
 * Every node's box and handles, given up front so that React Flow draws nodes and edges without
 * measuring them first. Measuring waits for a ResizeObserver, that is for a rendered frame: until
 * then a node is `visibility: hidden` and its edges are not drawn, and a starved browser (Chromium
 * beside a loaded test run) can go seconds without one.
 */
const GEOMETRY = {
  width: NODE_WIDTH,
  height: NODE_HEIGHT,
  handles: [handle("target", 0), handle("source", NODE_WIDTH)],
} satisfies Pick<Node, "width" | "height" | "handles">;

/** How one edge looks beyond its kind: label, classes, animation, accessible name. */
export interface EdgeLook {
  label?: string;
  className?: string;
  animated?: boolean;
  ariaLabel?: string;
}

export interface GraphViewProps {
  graph: Graph;
  testId: string;
  /** The accessible name of the canvas. */
  label: string;
  selected?: string;
  /** Centre this node when `focus.seq` changes (a search hit). */
  focus?: { id: string; seq: number };
  look?: (e: GraphEdge) => EdgeLook;
  /** An extra class for a node (the why page's path). */
  mark?: (n: GraphNode) => string | undefined;
  onSelect?: (id: string) => void;
  /** Enter on a focused node. */
  onOpen?: (id: string) => void;
  onEdgeHover?: (id: string | undefined) => void;
}

/**
 * The topology canvas: dagre's layout (it follows the graph's shape only, so streaming numbers
 * never move a node), routed backward edges, and keyboard navigation: Tab reaches the nodes,
 * the arrow keys move to the nearest node that way, Enter opens the focused one.
 */
export function GraphView(props: GraphViewProps) {
  const { graph, look, mark, selected } = props;
  const flow = useReactFlow();
  const shape = `${graph.nodes.map((n) => n.id).join(",")}|${graph.edges.map((e) => e.id).join(",")}`;
  const graphRef = useRef(graph);
  graphRef.current = graph;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the layout follows the graph's shape, not its labels
  const positions = useMemo(() => layoutGraph(graphRef.current), [shape]);
  const boxes = useMemo(
    () => [...positions.values()].map((p) => ({ ...p, width: NODE_WIDTH, height: NODE_HEIGHT })),
    [positions],
  );
  // The same node objects while only the stream ticks: React Flow keeps what it measured of a
  // node it has seen (a new object is adopted afresh, measurements dropped).
  const nodes = useMemo(
    (): Node<NodeData>[] =>
      graph.nodes.map((n) => ({
        id: n.id,
        type: "topo",
        position: positions.get(n.id) ?? { x: 0, y: 0 },
        data: { node: n, selected: n.id === selected, mark: mark?.(n) },
        draggable: false,
        ariaLabel: `${n.kind} ${n.label}${n.detail ? `, ${n.detail}` : ""}`,
        ...GEOMETRY,
      })),
    [graph.nodes, positions, selected, mark],
  );
  const edges: Edge<EdgeData>[] = graph.edges.map((e) => {
    const l = look?.(e) ?? {};
    return {
      id: e.id,
      source: e.source,
      target: e.target,
      type: "routed",
      label: l.label ?? e.label,
      className: `e-${e.kind}${l.className ? ` ${l.className}` : ""}`,
      animated: l.animated,
      markerEnd: e.kind === "contains" ? undefined : { type: MarkerType.ArrowClosed },
      data: { boxes },
      ariaLabel: l.ariaLabel ?? e.id,
      focusable: false,
    };
  });

  const focus = props.focus;
  useEffect(() => {
    const p = focus && positions.get(focus.id);
    if (p) flow.setCenter(p.x + NODE_WIDTH / 2, p.y + NODE_HEIGHT / 2, { zoom: 1.2, duration: 0 });
  }, [focus, positions, flow]);

  const onKeyDown = (ev: KeyboardEvent<HTMLDivElement>) => {
    const el = (ev.target as HTMLElement).closest<HTMLElement>(".react-flow__node");
    const id = el?.dataset.id;
    if (!id) return;
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      props.onSelect?.(id);
      if (ev.key === "Enter") props.onOpen?.(id);
      return;
    }
    const next = nextNode(positions, id, ev.key);
    if (!next) return;
    ev.preventDefault();
    ev.stopPropagation();
    const target = ev.currentTarget.querySelector<HTMLElement>(
      `.react-flow__node[data-id="${CSS.escape(next)}"]`,
    );
    target?.focus();
  };

  return (
    <div className="canvas" data-testid={props.testId} onKeyDownCapture={onKeyDown}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        fitView
        minZoom={0.1}
        nodesConnectable={false}
        elementsSelectable
        aria-label={props.label}
        onNodeClick={(_, n) => props.onSelect?.(n.id)}
        onEdgeMouseEnter={(_, e) => props.onEdgeHover?.(e.id)}
        onEdgeMouseLeave={() => props.onEdgeHover?.(undefined)}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        <Controls />
      </ReactFlow>
    </div>
  );
}
