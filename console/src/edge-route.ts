/** A node's box on the canvas (top-left corner and size). */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

/** How far a routed edge keeps from the nodes it passes, and how far it leaves its handles. */
const GAP = 12;
const STUB = 24;

/** True when the edge runs right to left (or within one rank): a curve would cross its own nodes. */
export function goesBackward(source: Point, target: Point): boolean {
  return target.x < source.x + STUB;
}

/**
 * The way around for an edge that goes backward in a left-to-right layout: out of the source's
 * right handle, along a horizontal lane clear of every node between the two columns, and into
 * the target's left handle. The vertical legs run in the gaps between ranks (dagre's ranksep),
 * which hold no node. Returns the corner points, source first.
 */
export function routeAround(source: Point, target: Point, boxes: readonly Box[]): Point[] {
  const right = source.x + STUB;
  const left = target.x - STUB;
  const lo = Math.min(left, right);
  const hi = Math.max(left, right);
  const inSpan = boxes.filter((b) => b.x < hi && b.x + b.width > lo);
  const blocked = (y: number) => inSpan.some((b) => y > b.y - GAP / 2 && y < b.y + b.height + GAP / 2);
  const candidates = [
    (source.y + target.y) / 2,
    ...inSpan.flatMap((b) => [b.y - GAP, b.y + b.height + GAP]),
  ].filter((y) => !blocked(y));
  const cost = (y: number) => Math.abs(y - source.y) + Math.abs(y - target.y);
  const lane = candidates.reduce((best, y) => (cost(y) < cost(best) ? y : best), candidates[0] ?? source.y);
  return [
    source,
    { x: right, y: source.y },
    { x: right, y: lane },
    { x: left, y: lane },
    { x: left, y: target.y },
    target,
  ];
}

/** An SVG path through the corners, each corner rounded a little. */
export function svgPath(points: readonly Point[], radius = 6): string {
  if (points.length === 0) return "";
  let d = `M ${points[0]!.x} ${points[0]!.y}`;
  for (let i = 1; i < points.length - 1; i++) {
    const [a, b, c] = [points[i - 1]!, points[i]!, points[i + 1]!];
    const r = Math.min(radius, dist(a, b) / 2, dist(b, c) / 2);
    const p = toward(b, a, r);
    const q = toward(b, c, r);
    d += ` L ${p.x} ${p.y} Q ${b.x} ${b.y} ${q.x} ${q.y}`;
  }
  const last = points[points.length - 1]!;
  return `${d} L ${last.x} ${last.y}`;
}

/** Where to put the label: the middle of the lane. */
export function labelPoint(points: readonly Point[]): Point {
  const [a, b] = [points[2] ?? points[0]!, points[3] ?? points[0]!];
  return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
}

const dist = (a: Point, b: Point) => Math.hypot(a.x - b.x, a.y - b.y);
function toward(from: Point, to: Point, r: number): Point {
  const d = dist(from, to) || 1;
  return { x: from.x + ((to.x - from.x) / d) * r, y: from.y + ((to.y - from.y) / d) * r };
}
