/**
 * A set of objects that come and go often (open connections), kept where V8's young-generation
 * GC can drop the ones that left. A long-lived `Set` churned by add/delete of short-lived objects
 * makes V8 keep deleted entries alive through scavenges: measured in a bare relay, every
 * connection's sockets and stream state then survived a scavenge and were promoted (survivors
 * 27 % of what was allocated between scavenges against 12 % without the idle sweep's Set; a
 * micro-benchmark of a Set holding 8 of a stream of objects: 135 % against 0.6 % for this), so
 * each scavenge copied megabytes and paused the event loop longer (docs/performance.md).
 *
 * An array with swap-remove instead: each member keeps its index under `slot`, a symbol shared by
 * every set of one kind (an object is in at most one set of a kind at a time, so relays of all
 * endpoints get the same property and keep one shape). Order is not kept.
 */
export class DenseSet<T extends object> implements Iterable<T> {
  private readonly items: T[] = [];

  constructor(private readonly slot: symbol) {}

  get size(): number {
    return this.items.length;
  }

  add(item: T): void {
    const at = this.indexOf(item);
    if (at !== undefined && this.items[at] === item) return;
    this.setIndex(item, this.items.length);
    this.items.push(item);
  }

  delete(item: T): boolean {
    const at = this.indexOf(item);
    if (at === undefined || this.items[at] !== item) return false;
    // pop() leaves no reference behind in the array; the last member takes the freed place.
    const last = this.items.pop()!;
    if (last !== item) {
      this.items[at] = last;
      this.setIndex(last, at);
    }
    this.setIndex(item, undefined);
    return true;
  }

  has(item: T): boolean {
    const at = this.indexOf(item);
    return at !== undefined && this.items[at] === item;
  }

  clear(): void {
    for (const item of this.items) this.setIndex(item, undefined);
    this.items.length = 0;
  }

  /** A snapshot: members may be deleted (or added) while the caller walks it. */
  [Symbol.iterator](): Iterator<T> {
    return this.items.slice()[Symbol.iterator]();
  }

  private indexOf(item: T): number | undefined {
    return (item as Record<symbol, number | undefined>)[this.slot];
  }

  private setIndex(item: T, at: number | undefined): void {
    (item as Record<symbol, number | undefined>)[this.slot] = at;
  }
}
