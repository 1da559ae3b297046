import {
  type ListenerKey,
  ListenerSet,
  type ListenerSetOptions,
  type ListenerSpec,
  type ReconcileResult,
} from "./listener.js";

/** An object the listeners of endpoints depend on, as `kind|id`. */
export type DependencyKey = string;

export const dependencyKey = (kind: string, id: string): DependencyKey => `${kind}|${id}`;

/**
 * Which endpoints depend on which objects: a commit's change list becomes the set of endpoints
 * to recompute, instead of every endpoint.
 */
export class DependencyIndex {
  private readonly byObject = new Map<DependencyKey, Set<string>>();
  private readonly byEndpoint = new Map<string, readonly DependencyKey[]>();

  /** Replaces what `endpointId` depends on. */
  set(endpointId: string, keys: readonly DependencyKey[]): void {
    this.remove(endpointId);
    if (keys.length === 0) return;
    this.byEndpoint.set(endpointId, keys);
    for (const k of keys) {
      let s = this.byObject.get(k);
      if (!s) {
        s = new Set();
        this.byObject.set(k, s);
      }
      s.add(endpointId);
    }
  }

  remove(endpointId: string): void {
    for (const k of this.byEndpoint.get(endpointId) ?? []) {
      const s = this.byObject.get(k);
      s?.delete(endpointId);
      if (s?.size === 0) this.byObject.delete(k);
    }
    this.byEndpoint.delete(endpointId);
  }

  dependents(key: DependencyKey): ReadonlySet<string> | undefined {
    return this.byObject.get(key);
  }

  clear(): void {
    this.byObject.clear();
    this.byEndpoint.clear();
  }

  get endpoints(): number {
    return this.byEndpoint.size;
  }
}

interface Shard<S extends ListenerSpec> {
  readonly set: ListenerSet;
  readonly desired: Map<ListenerKey, S>;
}

/**
 * Listeners in shards by key hash, each a ListenerSet converging to its own desired map: a change
 * to one endpoint diffs the few hundred listeners of its shards, not all twenty thousand.
 */
export class ShardedListeners<S extends ListenerSpec> {
  private readonly shards: Shard<S>[];
  private readonly touched = new Set<number>();
  /** Shards with a listener that failed to open: retried on the next apply. */
  private readonly failing = new Set<number>();

  constructor(opts: ListenerSetOptions, count = 64) {
    this.shards = Array.from({ length: count }, () => ({ set: new ListenerSet(opts), desired: new Map() }));
  }

  desired(key: ListenerKey): S | undefined {
    return this.shardOf(key).desired.get(key);
  }

  want(key: ListenerKey, spec: S): void {
    const i = this.indexOf(key);
    if (this.shards[i]!.desired.get(key) === spec) return;
    this.shards[i]!.desired.set(key, spec);
    this.touched.add(i);
  }

  /** Drops `key` when `spec` still holds it (another endpoint may have taken the key since). */
  unwant(key: ListenerKey, spec: S): void {
    const i = this.indexOf(key);
    if (this.shards[i]!.desired.get(key) !== spec) return;
    this.shards[i]!.desired.delete(key);
    this.touched.add(i);
  }

  /** Converges the shards changed since the last apply (all of them with `all`). */
  async apply(all = false): Promise<ReconcileResult["failed"]> {
    const which = all ? this.shards.map((_, i) => i) : [...new Set([...this.touched, ...this.failing])];
    this.touched.clear();
    const results = await Promise.all(
      which.map(async (i) => ({ i, r: await this.shards[i]!.set.reconcile(this.shards[i]!.desired) })),
    );
    const failed: ReconcileResult["failed"] = [];
    for (const { i, r } of results) {
      if (r.failed.length) this.failing.add(i);
      else this.failing.delete(i);
      failed.push(...r.failed);
    }
    return failed;
  }

  has(key: ListenerKey): boolean {
    return this.shardOf(key).set.has(key);
  }

  get size(): number {
    let n = 0;
    for (const s of this.shards) n += s.set.size;
    return n;
  }

  /** Every open listener's key (host:port), sorted. */
  keys(): ListenerKey[] {
    return this.shards.flatMap((s) => s.set.keys()).sort();
  }

  async close(): Promise<void> {
    for (const s of this.shards) s.desired.clear();
    this.touched.clear();
    this.failing.clear();
    await Promise.all(this.shards.map((s) => s.set.close()));
  }

  private shardOf(key: ListenerKey): Shard<S> {
    return this.shards[this.indexOf(key)]!;
  }

  /** FNV-1a: cheap and spreads 127.S.x.y:port keys evenly. */
  private indexOf(key: ListenerKey): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    return (h >>> 0) % this.shards.length;
  }
}
