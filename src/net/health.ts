import { connect } from "node:net";

export type HealthState = "healthy" | "unhealthy" | "initial";

export interface HealthTarget {
  host: string;
  port: number;
}

export interface HealthCheckOptions {
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive successes that turn an unhealthy target healthy. */
  healthyThreshold: number;
  /** Consecutive failures that turn a healthy (or initial) target unhealthy. */
  unhealthyThreshold: number;
}

/** One check: resolves true when the target accepted a TCP connection within the timeout. */
export type HealthProbe = (target: HealthTarget, timeoutMs: number) => Promise<boolean>;

/** The timer functions the checker schedules with; tests pass a manual clock. */
export interface HealthTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface HealthWatch {
  readonly target: HealthTarget;
  readonly state: HealthState;
  unwatch(): void;
}

export interface HealthCheckerOptions {
  probe?: HealthProbe;
  timers?: HealthTimers;
}

/** Real timers, unref'd so that health checks never keep the process alive. */
export const systemTimers: HealthTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * A TCP health check as an NLB does it: a completed handshake is success. The connection is then
 * reset, as load balancers do, so that checks leave no TIME_WAIT behind.
 */
export const tcpProbe: HealthProbe = (target, timeoutMs) =>
  new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    const timer = setTimeout(() => finish(false), timeoutMs).unref();
    let done = false;
    function finish(ok: boolean) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeAllListeners("connect");
      if (ok) socket.resetAndDestroy();
      else socket.destroy();
      resolve(ok);
    }
    socket.once("connect", () => finish(true));
    socket.on("error", () => finish(false));
  });

class Watch implements HealthWatch {
  state: HealthState = "initial";
  successes = 0;
  failures = 0;
  timer: unknown;
  active = true;

  constructor(
    readonly target: HealthTarget,
    readonly opts: HealthCheckOptions,
    readonly onChange: (state: HealthState) => void,
    readonly unwatch: () => void,
  ) {}

  /** Applies one check's outcome and reports a transition, if any. */
  record(ok: boolean): void {
    if (ok) {
      this.successes++;
      this.failures = 0;
    } else {
      this.failures++;
      this.successes = 0;
    }
    const next = this.nextState();
    if (next === this.state) return;
    this.state = next;
    this.onChange(next);
  }

  private nextState(): HealthState {
    // A new target serves after its first good check rather than after `healthyThreshold`
    // intervals: registration is when privlink users expect traffic to start.
    if (this.state !== "healthy" && this.successes > 0) {
      if (this.state === "initial" || this.successes >= this.opts.healthyThreshold) return "healthy";
    }
    if (this.state !== "unhealthy" && this.failures >= this.opts.unhealthyThreshold) return "unhealthy";
    return this.state;
  }
}

/** Periodic TCP health checks of many targets; the first check runs at registration. */
export class HealthChecker {
  private readonly watches = new Set<Watch>();
  private readonly probe: HealthProbe;
  private readonly timers: HealthTimers;

  constructor(opts: HealthCheckerOptions = {}) {
    this.probe = opts.probe ?? tcpProbe;
    this.timers = opts.timers ?? systemTimers;
  }

  /**
   * Starts checking `target`. `onChange` hears "initial" at once, then each transition. Watching
   * the same target twice gives two independent watches (target groups check independently).
   */
  watch(target: HealthTarget, opts: HealthCheckOptions, onChange: (state: HealthState) => void): HealthWatch {
    validate(opts);
    const watch: Watch = new Watch({ ...target }, { ...opts }, onChange, () => this.unwatch(watch));
    this.watches.add(watch);
    onChange("initial");
    void this.check(watch);
    return watch;
  }

  unwatch(watch: HealthWatch): void {
    const w = watch as Watch;
    if (!this.watches.delete(w)) return;
    w.active = false;
    this.timers.clearTimeout(w.timer);
  }

  /** Stops every watch. Checks in flight finish without reporting. */
  close(): void {
    for (const w of [...this.watches]) this.unwatch(w);
  }

  get size(): number {
    return this.watches.size;
  }

  private async check(w: Watch): Promise<void> {
    const ok = await this.probe(w.target, w.opts.timeoutMs).catch(() => false);
    if (!w.active) return;
    w.record(ok);
    if (!w.active) return; // onChange may have unwatched
    w.timer = this.timers.setTimeout(() => void this.check(w), w.opts.intervalMs);
  }
}

function validate(opts: HealthCheckOptions): void {
  for (const [name, value] of Object.entries(opts)) {
    if (!Number.isFinite(value) || value <= 0)
      throw new RangeError(`health check ${name} must be > 0: ${value}`);
  }
  if (!Number.isInteger(opts.healthyThreshold) || !Number.isInteger(opts.unhealthyThreshold)) {
    throw new RangeError("health check thresholds must be integers");
  }
}
