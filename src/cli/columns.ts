/**
 * Rows of cells as aligned text lines, two spaces between columns, each column as wide as its
 * widest cell: left-aligned, or right-aligned (numbers) where `right(i)` says so.
 */
export function alignColumns(rows: readonly string[][], right: (column: number) => boolean): string[] {
  const width = (rows[0] ?? []).map((_, i) => Math.max(0, ...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r.map((c, i) => (right(i) ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join("  "),
  );
}
