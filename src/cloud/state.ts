import type { Kind, Kinds } from "./types.js";

export interface Change {
  readonly kind: Kind;
  readonly id: string;
  /** The new object, or undefined when it was deleted. */
  readonly value: unknown;
}

/**
 * Persists a batch of changes atomically; throws if it could not. A store that writes
 * asynchronously (PostgreSQL) queues the batch in commit order and says through `durable` when
 * everything queued so far is on disk, and through `refusal` that it cannot take writes now.
 */
export interface Persistence {
  commit(changes: readonly Change[], version: number): void;
  /** Settles once every batch committed so far is durable; rejects when one could not be written. */
  durable?(): Promise<void>;
  /** The error to answer a write with while the store is out of reach; undefined while it is fine. */
  refusal?(): Error | undefined;
}

/** `local`: this node made the commit (not another node's, absorbed from a shared store's feed). */
export type CommitListener = (changes: readonly Change[], version: number, local: boolean) => void;

/**
 * The fields each kind is indexed by (secondary indexes kept in step with every write): the
 * lookups the API repeats per request (a subnet's ENIs for its used addresses, a VPC's
 * endpoints for quotas and DNS claims, the vpc-id / subnet-id filters of the Describes) read a
 * bucket instead of scanning every object of the kind.
 */
const INDEXED: Partial<Record<Kind, readonly string[]>> = {
  eni: ["subnetId", "vpcId"],
  subnet: ["vpcId"],
  vpcEndpoint: ["vpcId"],
  securityGroup: ["vpcId"],
};

/**
 * The kinds whose tags are indexed too (tag key and value → objects): a Describe with a
 * `tag:KEY` filter of one value reads that bucket instead of every object of the kind.
 */
const TAGGED: ReadonlySet<Kind> = new Set<Kind>(["vpc", "subnet", "securityGroup", "eni"]);

/** The pseudo-field the tag index is kept under, beside the indexed fields of its kind. */
const TAGS = "\0tags";

/** A tag's key in the tag index: unambiguous whatever the key and value hold. */
const tagSlot = (key: string, value: string) => `${key.length}:${key}=${value}`;

/** An object's tags as an own-property record (objects without tags have none). */
const tagsOf = (obj: unknown): Record<string, string> | undefined =>
  (obj as { tags?: Record<string, string> }).tags;

/** Whether `obj` carries tag `key` with `value` (own tags only, never Object's prototype). */
export function hasTag(obj: unknown, key: string, value: string): boolean {
  const tags = tagsOf(obj);
  return tags !== undefined && Object.hasOwn(tags, key) && tags[key] === value;
}

/** kind → field → value → (id → object), in table order (see `unsorted`). */
type Buckets = Map<string, Map<unknown, Map<string, unknown>>>;

/**
 * The whole virtual AWS in memory: one table per kind. It changes only through `transact`,
 * which persists the changes before they become visible, so that an acknowledged change
 * survives a crash and a failed request leaves nothing behind.
 */
export class State {
  private readonly tables = new Map<Kind, Map<string, unknown>>();
  private readonly listeners = new Set<CommitListener>();
  private readonly indexes = new Map<Kind, Buckets>();
  /**
   * Buckets an object joined after it entered its table (a retag, a move): they may no longer
   * list in table order, which `where` must (a scan's order). Put back in order on their next
   * read, by one scan of the table; an object new to the table joins at the end, in order.
   */
  private readonly unsorted = new Set<Map<string, unknown>>();
  private _version = 0;

  constructor(private readonly persistence?: Persistence) {}

  get version(): number {
    return this._version;
  }

  /** Loads persisted objects at start-up (no listeners fire, nothing is persisted). */
  load(kind: string, id: string, value: unknown, version: number): void {
    this.set(kind as Kind, id, value);
    this._version = Math.max(this._version, version);
  }

  get<K extends Kind>(kind: K, id: string): Kinds[K] | undefined {
    return this.tables.get(kind)?.get(id) as Kinds[K] | undefined;
  }

  all<K extends Kind>(kind: K): IterableIterator<Kinds[K]> {
    return this.table(kind).values() as IterableIterator<Kinds[K]>;
  }

  count(kind: Kind): number {
    return this.table(kind).size;
  }

  /** Whether `kind` keeps an index on `field` (then `where` reads a bucket, not the table). */
  indexed(kind: Kind, field: string): boolean {
    return INDEXED[kind]?.includes(field) ?? false;
  }

  /** Whether `kind` keeps an index of its tags (then `tagged` reads a bucket, not the table). */
  tagIndexed(kind: Kind): boolean {
    return TAGGED.has(kind);
  }

  /** Every object of `kind` whose `field` is `value`: a bucket when indexed, else a scan. */
  where<K extends Kind>(kind: K, field: string, value: unknown): Iterable<Kinds[K]> {
    if (!this.indexed(kind, field))
      return [...this.all(kind)].filter((v) => (v as unknown as Record<string, unknown>)[field] === value);
    return this.bucket(kind, field, value, (v) => (v as Record<string, unknown>)[field] === value);
  }

  /** Every object of `kind` tagged `key` = `value`, in table order: a bucket when indexed, else a scan. */
  tagged<K extends Kind>(kind: K, key: string, value: string): Iterable<Kinds[K]> {
    if (!TAGGED.has(kind)) return [...this.all(kind)].filter((v) => hasTag(v, key, value));
    return this.bucket(kind, TAGS, tagSlot(key, value), (v) => hasTag(v, key, value));
  }

  private bucket<K extends Kind>(
    kind: K,
    field: string,
    value: unknown,
    holds: (v: unknown) => boolean,
  ): Iterable<Kinds[K]> {
    const bucket = this.indexes.get(kind)?.get(field)?.get(value);
    if (bucket === undefined) return [];
    if (this.unsorted.delete(bucket)) {
      bucket.clear();
      for (const [id, v] of this.table(kind)) if (holds(v)) bucket.set(id, v);
    }
    return bucket.values() as Iterable<Kinds[K]>;
  }

  /** Runs `fn` against a transaction; commits its writes if it returns, drops them if it throws. */
  transact<T>(fn: (tx: Tx) => T, opts: { dryRun?: boolean } = {}): T {
    const tx = new Tx(this);
    const result = fn(tx);
    if (!opts.dryRun) this.commit(tx.changes());
    return result;
  }

  /**
   * `transact` for writes that are acknowledged to someone (an API call): refused up front while
   * the store cannot take writes, and settled only once the commit is durable, so an
   * acknowledged write survives a crash of this process and of an asynchronous store's link.
   */
  async transactDurable<T>(fn: (tx: Tx) => T, opts: { dryRun?: boolean } = {}): Promise<T> {
    const tx = new Tx(this);
    const result = fn(tx);
    const changes = tx.changes();
    if (opts.dryRun || changes.length === 0) return result;
    const refused = this.persistence?.refusal?.();
    if (refused) throw refused;
    this.commit(changes);
    await this.durable();
    return result;
  }

  /** Settles once every commit so far is durable (at once for a synchronous store). */
  async durable(): Promise<void> {
    await this.persistence?.durable?.();
  }

  /**
   * Applies changes another node already made durable (a shared store's change feed): visible
   * and announced to listeners like a local commit, but never persisted again.
   */
  absorb(changes: readonly Change[]): void {
    this.apply(changes, false);
  }

  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private commit(changes: Change[]): void {
    this.apply(changes, true);
  }

  private apply(changes: readonly Change[], persist: boolean): void {
    if (changes.length === 0) return;
    const version = this._version + 1;
    if (persist) this.persistence?.commit(changes, version);
    for (const c of changes) {
      if (c.value === undefined) this.remove(c.kind, c.id);
      else this.set(c.kind, c.id, c.value);
    }
    this._version = version;
    for (const l of this.listeners) l(changes, version, persist);
  }

  /**
   * An unpersisted copy of every object at this version, for what-if questions (the analyzer's
   * `impact`): changes to the copy never reach the store or the listeners of this State.
   */
  copy(): State {
    const other = new State();
    for (const [kind, table] of this.tables)
      for (const [id, value] of table) other.load(kind, id, value, this._version);
    return other;
  }

  /** Every object of every kind (a node's whole view, for snapshots and resyncs). */
  *entries(): IterableIterator<{ kind: Kind; id: string; value: unknown }> {
    for (const [kind, table] of this.tables) for (const [id, value] of table) yield { kind, id, value };
  }

  /** Drops every object (admin reset); persisted by the caller. */
  clear(): Change[] {
    const changes: Change[] = [];
    for (const [kind, table] of this.tables)
      for (const id of table.keys()) changes.push({ kind, id, value: undefined });
    this.commit(changes);
    return changes;
  }

  /**
   * Makes the state exactly `objects` in one commit (a snapshot load): listeners see every
   * deletion and every put, so the data plane and DNS converge to the loaded state.
   */
  replaceAll(objects: readonly { kind: string; id: string; value: unknown }[]): void {
    const next = new Set(objects.map((o) => `${o.kind}\0${o.id}`));
    const changes: Change[] = [];
    for (const [kind, table] of this.tables)
      for (const id of table.keys())
        if (!next.has(`${kind}\0${id}`)) changes.push({ kind, id, value: undefined });
    for (const o of objects) changes.push({ kind: o.kind as Kind, id: o.id, value: o.value });
    this.commit(changes);
  }

  /** Writes one object and keeps its kind's indexes in step. */
  private set(kind: Kind, id: string, value: unknown): void {
    const table = this.table(kind);
    const fields = INDEXED[kind];
    const tagged = TAGGED.has(kind);
    const before =
      fields === undefined && !tagged ? undefined : (table.get(id) as Record<string, unknown> | undefined);
    table.set(id, value);
    if (fields === undefined && !tagged) return;
    const after = value as Record<string, unknown>;
    const buckets = this.buckets(kind);
    // An object already in the table keeps its place there: a bucket it joins now may list it
    // out of table order.
    const late = before !== undefined;
    if (fields)
      for (const f of fields) {
        if (late && before[f] !== after[f]) this.drop(buckets, f, before[f], id);
        this.join(buckets, f, after[f], id, value, late);
      }
    if (!tagged) return;
    const was = late ? tagsOf(before) : undefined;
    const now = tagsOf(after);
    if (was !== undefined && was !== now)
      for (const k of Object.keys(was))
        if (now === undefined || !Object.hasOwn(now, k) || now[k] !== was[k])
          this.drop(buckets, TAGS, tagSlot(k, was[k]!), id);
    if (now !== undefined)
      for (const k of Object.keys(now)) this.join(buckets, TAGS, tagSlot(k, now[k]!), id, value, late);
  }

  private remove(kind: Kind, id: string): void {
    const table = this.table(kind);
    const before = table.get(id) as Record<string, unknown> | undefined;
    table.delete(id);
    if (before === undefined || (INDEXED[kind] === undefined && !TAGGED.has(kind))) return;
    const buckets = this.buckets(kind);
    for (const f of INDEXED[kind] ?? []) this.drop(buckets, f, before[f], id);
    const tags = TAGGED.has(kind) ? tagsOf(before) : undefined;
    if (tags !== undefined)
      for (const k of Object.keys(tags)) this.drop(buckets, TAGS, tagSlot(k, tags[k]!), id);
  }

  /** Files `value` in its bucket: in place if there already, else at the end (`late`: maybe out of order). */
  private join(
    buckets: Buckets,
    field: string,
    key: unknown,
    id: string,
    value: unknown,
    late: boolean,
  ): void {
    let byKey = buckets.get(field);
    if (!byKey) {
      byKey = new Map();
      buckets.set(field, byKey);
    }
    let bucket = byKey.get(key);
    if (!bucket) {
      bucket = new Map();
      byKey.set(key, bucket);
    }
    if (late && bucket.size > 0 && !bucket.has(id)) this.unsorted.add(bucket);
    bucket.set(id, value);
  }

  private drop(buckets: Buckets, field: string, key: unknown, id: string): void {
    const bucket = buckets.get(field)?.get(key);
    if (bucket === undefined || !bucket.delete(id) || bucket.size > 0) return;
    buckets.get(field)!.delete(key);
    this.unsorted.delete(bucket);
  }

  private buckets(kind: Kind): Buckets {
    let b = this.indexes.get(kind);
    if (!b) {
      b = new Map();
      this.indexes.set(kind, b);
    }
    return b;
  }

  private table(kind: Kind): Map<string, unknown> {
    let t = this.tables.get(kind);
    if (!t) {
      t = new Map();
      this.tables.set(kind, t);
    }
    return t;
  }
}

const DELETED = Symbol("deleted");

/** A read-your-writes view of the state that buffers changes until the State commits them. */
export class Tx {
  private readonly writes = new Map<Kind, Map<string, unknown>>();

  constructor(readonly state: State) {}

  /** Whether this transaction has put or deleted anything (its reads may differ from the state's). */
  get written(): boolean {
    return this.writes.size > 0;
  }

  get<K extends Kind>(kind: K, id: string): Kinds[K] | undefined {
    const w = this.writes.get(kind)?.get(id);
    if (w === DELETED) return undefined;
    if (w !== undefined) return w as Kinds[K];
    return this.state.get(kind, id);
  }

  all<K extends Kind>(kind: K): IterableIterator<Kinds[K]> {
    // A transaction that has not written this kind reads the table itself: a read-only Describe
    // scans it with no generator step per object.
    const w = this.writes.get(kind);
    return w === undefined ? this.state.all(kind) : this.allWith(kind, w);
  }

  private *allWith<K extends Kind>(kind: K, w: Map<string, unknown>): IterableIterator<Kinds[K]> {
    for (const v of this.state.all(kind)) {
      const id = (v as { id: string }).id;
      if (!w.has(id)) yield v;
    }
    for (const v of w.values()) if (v !== DELETED) yield v as Kinds[K];
  }

  /**
   * Every object of `kind` whose `field` is `value`, this transaction's writes included: an
   * index bucket of the State (see INDEXED) when there is one, else a scan.
   */
  where<K extends Kind>(kind: K, field: string, value: unknown): IterableIterator<Kinds[K]> {
    const w = this.writes.get(kind);
    return w === undefined
      ? (this.state.where(kind, field, value)[Symbol.iterator]() as IterableIterator<Kinds[K]>)
      : this.withWrites(
          this.state.where(kind, field, value),
          w,
          (v) => (v as Record<string, unknown>)[field] === value,
        );
  }

  /** Every object of `kind` tagged `key` = `value`, this transaction's writes included (see TAGGED). */
  tagged<K extends Kind>(kind: K, key: string, value: string): IterableIterator<Kinds[K]> {
    const w = this.writes.get(kind);
    return w === undefined
      ? (this.state.tagged(kind, key, value)[Symbol.iterator]() as IterableIterator<Kinds[K]>)
      : this.withWrites(this.state.tagged(kind, key, value), w, (v) => hasTag(v, key, value));
  }

  /** What `all` then a filter by `holds` lists, from the State's answer for the same filter. */
  private *withWrites<T>(committed: Iterable<T>, w: Map<string, unknown>, holds: (v: unknown) => boolean) {
    for (const v of committed) if (!w.has((v as { id: string }).id)) yield v;
    for (const v of w.values()) if (v !== DELETED && holds(v)) yield v as T;
  }

  /** Inserts or replaces an object (by its `id`). */
  put<K extends Kind>(kind: K, value: Kinds[K]): Kinds[K] {
    this.buffer(kind).set((value as { id: string }).id, value);
    return value;
  }

  delete(kind: Kind, id: string): void {
    this.buffer(kind).set(id, DELETED);
  }

  /** The IDs of `kind` this transaction has put or deleted, or undefined when none. */
  writtenIds(kind: Kind): Iterable<string> | undefined {
    return this.writes.get(kind)?.keys();
  }

  changes(): Change[] {
    const out: Change[] = [];
    for (const [kind, m] of this.writes)
      for (const [id, v] of m) out.push({ kind, id, value: v === DELETED ? undefined : v });
    return out;
  }

  private buffer(kind: Kind): Map<string, unknown> {
    let m = this.writes.get(kind);
    if (!m) {
      m = new Map();
      this.writes.set(kind, m);
    }
    return m;
  }
}
