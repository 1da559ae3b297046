import type { Runtime } from "./runtime.js";
import type { Tx } from "./state.js";

/**
 * Reconcile, don't orchestrate: state that moves on its own (an endpoint from pending to
 * available once the data plane serves it, deleting to deleted, deleted endpoints purged
 * after a while) moves in lifecycle steps. The server runs every step in one transaction
 * after each commit and once a second; a step must be idempotent and cheap when there is
 * nothing to do.
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
