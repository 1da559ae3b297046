import { join } from "node:path";
import type { HandlerTable } from "../../api/handler.js";
import type { State } from "../../cloud/state.js";
import { CloudWatchAlarms } from "./alarms.js";
import { cloudWatchHandlers } from "./handlers.js";
import { CloudWatchMetrics } from "./metrics.js";
import { minuteOf } from "./pending.js";
import { type CounterSource, PrivateLinkPublisher } from "./publisher.js";
import { type MetricStore, SqliteMetricStore } from "./store.js";

export { ENDPOINTS_NS, SERVICES_NS } from "./publisher.js";

/** How often the publisher reads the data plane's counters (real time; minutes follow the injected clock). */
export const METRICS_TICK_MS = 10_000;
const COMPACT_EVERY_TICKS = 60;

export interface CloudWatch {
  readonly handlers: HandlerTable;
  readonly metrics: CloudWatchMetrics;
  readonly alarms: CloudWatchAlarms;
  /**
   * Samples the counters, writes finished minutes, evaluates alarms. Tests call it after
   * advancing the clock. On a home's SQLite file the writes are done when it returns; on the
   * shared store when it settles.
   */
  tick(): Promise<void>;
  /**
   * Writes every pending datapoint now, the current minute's included (the flush admin route);
   * alarms see them at once. Answers the minute written and how many datapoints it took.
   */
  flush(): Promise<{ minute: string; datapoints: number }>;
  /** Another source of datapoints written on the same ticks (the cost report's transfer bytes). */
  addPublisher(p: ExtraPublisher): void;
  clear(): Promise<void>;
  close(): Promise<void>;
}

export interface ExtraPublisher {
  /** Writes the minutes that are over; `all` writes the current one too (flush, shutdown). Answers the datapoints written. */
  tick(all?: boolean): Promise<number>;
  clear(): void;
}

/**
 * The metric store of a node: the home's SQLite file (`metrics.db`), or the shared PostgreSQL
 * store's tables when `--store postgres://…` names one (every node and agent reads the same).
 */
export async function openMetricStore(home: string, storeUrl?: string): Promise<MetricStore> {
  if (storeUrl === undefined) return new SqliteMetricStore(join(home, "metrics.db"));
  // Loaded only here: the pg driver stays out of a SQLite server's start-up.
  const { PgMetricStore } = await import("./pg-store.js");
  return PgMetricStore.open(storeUrl);
}

/**
 * CloudWatch metrics for privlink: the store (openMetricStore), the PrivateLink publisher fed
 * by the data plane's counters, alarms, and the `monitoring` handlers. On a shared store the
 * store-wide work (alarm evaluation, compaction, what every node sees alike) is done by the
 * node that leads it (MetricStore.leads); each node publishes its own data plane's counters.
 */
export function startCloudWatch(opts: {
  store: MetricStore;
  state: State;
  counters: CounterSource;
  now: () => Date;
  tickMs?: number;
}): CloudWatch {
  const store = opts.store;
  const metrics = new CloudWatchMetrics(store, opts.now);
  const alarms = new CloudWatchAlarms(metrics, opts.now);
  const publisher = new PrivateLinkPublisher(opts.state, opts.counters, store, opts.now);
  const extra: ExtraPublisher[] = [];
  let ticks = 0;
  const tickOnce = async () => {
    const lead = await store.leads();
    await publisher.tick(lead);
    for (const p of extra) await p.tick();
    if (!lead) return;
    await alarms.evaluateAll();
    if (++ticks % COMPACT_EVERY_TICKS === 0) await store.compact(Math.floor(opts.now().getTime() / 1000));
  };
  // One tick at a time: a slow store makes the next one wait rather than overlap.
  let running: Promise<void> = Promise.resolve();
  const tick = (): Promise<void> => {
    const next = running.then(tickOnce);
    running = next.catch(() => undefined);
    return next;
  };
  const timer = setInterval(() => {
    tick().catch((err: Error) => process.emitWarning(`privlink metrics tick failed: ${err.message}`));
  }, opts.tickMs ?? METRICS_TICK_MS);
  timer.unref();
  const clear = async () => {
    publisher.clear();
    for (const p of extra) p.clear();
    await store.clear();
  };
  // POST /_privlink/reset drops every account: metrics and alarms go with them.
  const unsubscribe = opts.state.onCommit((changes) => {
    if (
      changes.some((c) => c.kind === "account" && c.value === undefined) &&
      opts.state.count("account") === 0
    )
      clear().catch((err: Error) => process.emitWarning(`privlink metrics reset failed: ${err.message}`));
  });
  let closed = false;
  return {
    handlers: cloudWatchHandlers(metrics, alarms),
    metrics,
    alarms,
    tick,
    async flush() {
      const lead = await store.leads();
      let datapoints = await publisher.flushAll(lead);
      for (const p of extra) datapoints += await p.tick(true);
      await alarms.evaluateAll();
      return { minute: new Date(minuteOf(opts.now()) * 1000).toISOString(), datapoints };
    },
    addPublisher: (p) => void extra.push(p),
    clear,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      unsubscribe();
      await running;
      const lead = await store.leads().catch(() => false);
      await publisher.flushAll(lead).catch(() => 0);
      for (const p of extra) await p.tick(true).catch(() => 0);
      await store.close();
    },
  };
}
