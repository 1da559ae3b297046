import type { Runtime } from "./runtime.js";
import type { Change, State, Tx } from "./state.js";
import type { Kind, Kinds } from "./types.js";

/**
 * Reconcile, don't orchestrate: state that moves on its own (an endpoint from pending to
 * available once the data plane serves it, deleting to deleted, deleted endpoints purged
 * after a while) moves in lifecycle steps. The server runs every step in one transaction
 * after each commit and once a second; a step must be idempotent and cheap when there is
 * nothing to do — it looks at the objects that can move ({@link Watched}), not at every object.
 */
export interface Readiness {
  /** True when the data plane serves every listener of the endpoint (or it needs none). */
  endpointServing(endpointId: string): boolean;
}

export type LifecycleStep = (tx: Tx, rt: Runtime, ready: Readiness) => void;

const steps: LifecycleStep[] = [];

export function registerLifecycleStep(step: LifecycleStep): void {
  steps.push(step);
}

export function runLifecycle(tx: Tx, rt: Runtime, ready: Readiness): void {
  for (const step of steps) step(tx, rt, ready);
}

/** Until a data plane says otherwise, everything counts as served. */
export const ALWAYS_READY: Readiness = { endpointServing: () => true };

interface Tracked {
  readonly ids: Set<string>;
  /** The State version these IDs reflect. */
  version: number;
}

const watchedSets: Watched<Kind>[] = [];

const NOTHING: readonly never[] = Object.freeze([]);

/**
 * The objects of one kind that a lifecycle step must look at (those `moving` holds for), kept
 * from the State's change feed so that a step costs what can move rather than what exists.
 * Built by one scan the first time a State is seen, and by another whenever the State's version
 * moved without this set seeing the commit (objects loaded at start-up, a listener that threw).
 */
export class Watched<K extends Kind> {
  private readonly byState = new WeakMap<State, Tracked>();
  /** Objects handed to steps so far: what tests count work with. */
  examined = 0;

  constructor(
    readonly kind: K,
    private readonly moving: (value: Kinds[K]) => boolean,
  ) {
    watchedSets.push(this as unknown as Watched<Kind>);
  }

  /**
   * The moving objects as `tx` sees them: the committed ones still moving, and those the
   * transaction itself wrote (an earlier step's writes). Read at once, so a step may write
   * while it goes through them. Every step asks after every commit, and mostly nothing moves:
   * no generator and no list of the transaction's changes are made for that.
   */
  in(tx: Tx): readonly Kinds[K][] {
    const tracked = this.tracked(tx.state);
    const written = tx.writtenIds(this.kind);
    if (tracked.ids.size === 0 && written === undefined) return NOTHING;
    const out: Kinds[K][] = [];
    for (const id of tracked.ids) {
      const v = tx.get(this.kind, id);
      this.examined++;
      if (v && this.moving(v)) out.push(v);
    }
    if (written)
      for (const id of written) {
        const v = tracked.ids.has(id) ? undefined : tx.get(this.kind, id);
        if (v === undefined) continue;
        this.examined++;
        if (this.moving(v)) out.push(v);
      }
    return out;
  }

  /** How many committed objects are watched now (tests). */
  size(state: State): number {
    return this.tracked(state).ids.size;
  }

  private tracked(state: State): Tracked {
    let t = this.byState.get(state);
    if (!t) {
      const fresh: Tracked = { ids: new Set(), version: -1 };
      state.onCommit((changes, version) => this.follow(fresh, changes, version));
      this.byState.set(state, fresh);
      t = fresh;
    }
    if (t.version !== state.version) this.scan(state, t);
    return t;
  }

  private follow(t: Tracked, changes: readonly Change[], version: number): void {
    // A commit this set missed (or the first scan not done yet) is caught by the version check.
    if (t.version !== version - 1) return;
    for (const c of changes) {
      if (c.kind !== this.kind) continue;
      if (c.value !== undefined && this.moving(c.value as Kinds[K])) t.ids.add(c.id);
      else t.ids.delete(c.id);
    }
    t.version = version;
  }

  private scan(state: State, t: Tracked): void {
    t.ids.clear();
    for (const v of state.all(this.kind)) if (this.moving(v)) t.ids.add((v as { id: string }).id);
    t.version = state.version;
  }
}

/** Objects of `kind` the lifecycle steps have looked at since the process started (tests). */
export function lifecycleExamined(kind: Kind): number {
  let n = 0;
  for (const w of watchedSets) if (w.kind === kind) n += w.examined;
  return n;
}
