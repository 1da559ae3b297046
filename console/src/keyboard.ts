/**
 * The node an arrow key moves to from `from`: the nearest one whose centre lies that way
 * (within a 45° cone either side), distance along the key's axis counting double the distance
 * across it, so that → stays in the row and ↓ in the column. Undefined for any other key or
 * when nothing lies that way.
 */
export function nextNode(
  positions: ReadonlyMap<string, { x: number; y: number }>,
  from: string,
  key: string,
): string | undefined {
  const dir = DIRECTIONS[key];
  const p = positions.get(from);
  if (!dir || !p) return undefined;
  let best: string | undefined;
  let bestCost = Number.POSITIVE_INFINITY;
  for (const [id, q] of positions) {
    if (id === from) continue;
    const along = (q.x - p.x) * dir.x + (q.y - p.y) * dir.y;
    const across = Math.abs((q.x - p.x) * dir.y - (q.y - p.y) * dir.x);
    if (along <= 0 || across > along) continue;
    const cost = along + 2 * across;
    if (cost < bestCost) {
      bestCost = cost;
      best = id;
    }
  }
  return best;
}

const DIRECTIONS: Record<string, { x: number; y: number }> = {
  ArrowRight: { x: 1, y: 0 },
  ArrowLeft: { x: -1, y: 0 },
  ArrowDown: { x: 0, y: 1 },
  ArrowUp: { x: 0, y: -1 },
};
