import { performance } from "node:perf_hooks";

/**
 * A flow the sweep can close for idleness: it only reads a byte total the sockets keep anyway,
 * and carries the sweep's two fields itself (no object per flow besides the flow).
 */
export interface IdleFlow {
  /** Bytes moved so far in either direction; any change counts as activity. */
  activity(): number;
  /** Called once the flow has been idle for the timeout; it must close itself. */
  expire(): void;
  /** The sweep's: the byte total seen last, and since when (ms on the sweep's clock). */
  idleBytes: number;
  idleSince: number;
}

export interface IdleSweepOptions {
  /** Milliseconds on a monotonic clock (default performance.now); tests inject one. */
  now?: () => number;
  /**
   * How often the sweep runs; default a 35th of the timeout, between 10 ms and 10 s (10 s for
   * AWS's 350 s). 0: never on its own, the owner calls sweep() (tests driving a clock).
   */
  intervalMs?: number;
}

/**
 * Every relayed flow's idle timeout, enforced by one timer for all of them (not one per
 * connection, refreshed on every read and write). A sweep compares each flow's byte total with
 * the one it saw last: a flow whose total has not moved for `timeoutMs` is expired. A flow is
 * never closed early (activity is noticed at most one interval late, so idleness is counted from
 * then) and at most two intervals late. The timer runs only while flows are open (and until the
 * first sweep after the last one closed).
 */
export class IdleSweep {
  private readonly flows = new Set<IdleFlow>();
  private readonly now: () => number;
  readonly intervalMs: number;
  private timer?: NodeJS.Timeout;
  /** Flows expired since start: the data plane counts them in its metrics too, per endpoint. */
  expired = 0;

  constructor(
    readonly timeoutMs: number,
    opts: IdleSweepOptions = {},
  ) {
    if (!(timeoutMs > 0)) throw new RangeError(`idle timeout must be > 0: ${timeoutMs}`);
    this.now = opts.now ?? (() => performance.now());
    this.intervalMs = opts.intervalMs ?? Math.min(10_000, Math.max(10, Math.floor(timeoutMs / 35)));
  }

  get size(): number {
    return this.flows.size;
  }

  /** Whether the timer is set (it is only while flows are open). */
  get running(): boolean {
    return this.timer !== undefined;
  }

  add(flow: IdleFlow): void {
    flow.idleBytes = flow.activity();
    flow.idleSince = this.now();
    this.flows.add(flow);
    if (this.timer === undefined && this.intervalMs > 0) {
      this.timer = setInterval(() => this.sweep(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** The timer stops at the next sweep that finds no flow, not here: sequential flows would restart it each time. */
  delete(flow: IdleFlow): void {
    this.flows.delete(flow);
  }

  /** Expires the flows idle for the timeout; returns how many. */
  sweep(): number {
    const now = this.now();
    const idle: IdleFlow[] = [];
    for (const flow of this.flows) {
      const bytes = flow.activity();
      if (bytes !== flow.idleBytes) {
        flow.idleBytes = bytes;
        flow.idleSince = now;
      } else if (now - flow.idleSince >= this.timeoutMs) idle.push(flow);
    }
    // Expired after the walk: expire() deletes from the map it would be walking.
    for (const flow of idle) {
      this.flows.delete(flow);
      this.expired++;
      flow.expire();
    }
    this.stopWhenEmpty();
    return idle.length;
  }

  private stopWhenEmpty(): void {
    if (this.flows.size > 0 || this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops the timer; the flows stay open (their owner closes them). */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.flows.clear();
  }
}

const shared = new Map<number, IdleSweep>();

/** The process-wide sweep for a timeout, for relays that were given a timeout and no sweep. */
export function sharedIdleSweep(timeoutMs: number): IdleSweep {
  let sweep = shared.get(timeoutMs);
  if (!sweep) {
    sweep = new IdleSweep(timeoutMs);
    shared.set(timeoutMs, sweep);
  }
  return sweep;
}
