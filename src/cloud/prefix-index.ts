/**
 * Longest-prefix match in at most 33 hash lookups, whatever the number of routes: one map per
 * prefix length present, keyed by network address. The first value added for a CIDR is kept,
 * so callers add routes in their tie-break order.
 */
export class PrefixIndex<T> {
  private readonly byLength = new Map<number, Map<number, T>>();
  private lengths: number[] = [];

  add(base: number, prefix: number, value: T): void {
    let m = this.byLength.get(prefix);
    if (!m) {
      m = new Map();
      this.byLength.set(prefix, m);
      this.lengths = [...this.byLength.keys()].sort((a, b) => b - a);
    }
    if (!m.has(base)) m.set(base, value);
  }

  /** The value of the most specific CIDR containing `ip`, and that CIDR's prefix length. */
  match(ip: number): { value: T; prefix: number } | undefined {
    for (const prefix of this.lengths) {
      const size = 2 ** (32 - prefix);
      const value = this.byLength.get(prefix)!.get(Math.floor(ip / size) * size);
      if (value !== undefined) return { value, prefix };
    }
    return undefined;
  }
}
