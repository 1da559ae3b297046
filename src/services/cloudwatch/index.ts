import { join } from "node:path";
import type { HandlerTable } from "../../api/handler.js";
import type { State } from "../../cloud/state.js";
import { CloudWatchAlarms } from "./alarms.js";
import { cloudWatchHandlers } from "./handlers.js";
import { CloudWatchMetrics } from "./metrics.js";
import { minuteOf } from "./pending.js";
import { type CounterSource, PrivateLinkPublisher } from "./publisher.js";
import { MetricStore } from "./store.js";

export { ENDPOINTS_NS, SERVICES_NS } from "./publisher.js";

/** How often the publisher reads the data plane's counters (real time; minutes follow the injected clock). */
export const METRICS_TICK_MS = 10_000;
const COMPACT_EVERY_TICKS = 60;

export interface CloudWatch {
  readonly handlers: HandlerTable;
  readonly metrics: CloudWatchMetrics;
  readonly alarms: CloudWatchAlarms;
  /** Samples the counters, writes finished minutes, evaluates alarms. Tests call it after advancing the clock. */
  tick(): void;
  /**
   * Writes every pending datapoint now, the current minute's included (the flush admin route);
   * alarms see them at once. Answers the minute written and how many datapoints it took.
   */
  flush(): { minute: string; datapoints: number };
  /** Another source of datapoints written on the same ticks (the cost report's transfer bytes). */
  addPublisher(p: ExtraPublisher): void;
  clear(): void;
  close(): void;
}

export interface ExtraPublisher {
  /** Writes the minutes that are over; `all` writes the current one too (flush, shutdown). Answers the datapoints written. */
  tick(all?: boolean): number;
  clear(): void;
}

/**
 * CloudWatch metrics for privlink: the store in PRIVLINK_HOME/metrics.db, the PrivateLink
 * publisher fed by the data plane's counters, alarms, and the `monitoring` handlers.
 */
export function startCloudWatch(opts: {
  home: string;
  state: State;
  counters: CounterSource;
  now: () => Date;
  tickMs?: number;
}): CloudWatch {
  const store = new MetricStore(join(opts.home, "metrics.db"));
  const metrics = new CloudWatchMetrics(store, opts.now);
  const alarms = new CloudWatchAlarms(metrics, opts.now);
  const publisher = new PrivateLinkPublisher(opts.state, opts.counters, store, opts.now);
  const extra: ExtraPublisher[] = [];
  let ticks = 0;
  const tick = () => {
    publisher.tick();
    for (const p of extra) p.tick();
    alarms.evaluateAll();
    if (++ticks % COMPACT_EVERY_TICKS === 0) store.compact(Math.floor(opts.now().getTime() / 1000));
  };
  const timer = setInterval(() => {
    try {
      tick();
    } catch (err) {
      process.emitWarning(`privlink metrics tick failed: ${(err as Error).message}`);
    }
  }, opts.tickMs ?? METRICS_TICK_MS);
  timer.unref();
  // POST /_privlink/reset drops every account: metrics and alarms go with them.
  const unsubscribe = opts.state.onCommit((changes) => {
    if (
      changes.some((c) => c.kind === "account" && c.value === undefined) &&
      opts.state.count("account") === 0
    ) {
      publisher.clear();
      for (const p of extra) p.clear();
      store.clear();
    }
  });
  let closed = false;
  return {
    handlers: cloudWatchHandlers(metrics, alarms),
    metrics,
    alarms,
    tick,
    flush() {
      let datapoints = publisher.flushAll();
      for (const p of extra) datapoints += p.tick(true);
      alarms.evaluateAll();
      return { minute: new Date(minuteOf(opts.now()) * 1000).toISOString(), datapoints };
    },
    addPublisher: (p) => void extra.push(p),
    clear() {
      publisher.clear();
      for (const p of extra) p.clear();
      store.clear();
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      unsubscribe();
      publisher.flushAll();
      for (const p of extra) p.tick(true);
      store.close();
    },
  };
}
