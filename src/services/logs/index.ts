/**
 * The built-in CloudWatch Logs: the wire handlers, the event store, the retention sweep and the
 * in-process delivery API other parts of privlink (VPC flow logs) use to write log records
 * without going through HTTP.
 */
import { join } from "node:path";
import type { HandlerTable } from "../../api/handler.js";
import type { Runtime } from "../../cloud/runtime.js";
import type { State } from "../../cloud/state.js";
import { LogEventStore, type LogEvents } from "./event-store.js";
import { findGroup, logsHandlers, newStream, streamId } from "./handlers.js";
import {
  admitBatch,
  GROUP_NOT_FOUND,
  groupArn,
  notFound,
  type RejectedInfo,
  STREAM_NOT_FOUND,
} from "./rules.js";

export { LogEventStore, type LogEvents } from "./event-store.js";
export { compileFilterPattern } from "./filter-pattern.js";

export interface DeliveredEvents {
  readonly accountId: string;
  readonly region: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  /** Chronological; the PutLogEvents rules apply (size, span, too old / too new). */
  readonly events: readonly { timestamp: number; message: string }[];
}

export interface DeliveryResult {
  readonly accepted: number;
  readonly rejected?: RejectedInfo;
}

export class LogsService {
  readonly handlers: HandlerTable;
  private readonly sweep: NodeJS.Timeout;

  /** `store`: the home's SQLite file or the shared store's tables (openLogEvents). */
  constructor(
    private readonly state: State,
    private readonly rt: Runtime,
    readonly store: LogEvents,
  ) {
    this.handlers = logsHandlers(this.store);
    // Retention: events older than their group's retention are dropped hourly (on a shared
    // store by every node: deleting what another node already deleted deletes nothing).
    this.sweep = setInterval(() => {
      this.expire().catch((err: Error) => process.emitWarning(`privlink logs retention: ${err.message}`));
    }, 3600_000);
    this.sweep.unref();
  }

  /**
   * Writes records into a log group's stream as PutLogEvents would, for privlink's own producers
   * (flow logs). `createMissing` creates the group and the stream when absent, as AWS's log
   * delivery does; otherwise a missing one is ResourceNotFoundException. Throws AwsError on a
   * batch PutLogEvents would refuse; an empty batch only ensures the group and the stream.
   */
  async putEvents(
    delivery: DeliveredEvents,
    opts: { createMissing?: boolean } = {},
  ): Promise<DeliveryResult> {
    const now = this.rt.now().getTime();
    const { group, stream } = this.state.transact((tx) => {
      const ref = { accountId: delivery.accountId, region: delivery.region, name: delivery.logGroupName };
      let g = findGroup(tx, ref);
      if (!g) {
        if (!opts.createMissing) throw notFound(GROUP_NOT_FOUND);
        g = tx.put("logGroup", {
          id: groupArn(ref.region, ref.accountId, ref.name),
          accountId: ref.accountId,
          region: ref.region,
          tags: {},
          name: ref.name,
          logGroupClass: "STANDARD",
          key: this.rt.hex(16),
          createdAt: now,
        });
      }
      let s = tx.get("logStream", streamId(g, delivery.logStreamName));
      if (!s) {
        if (!opts.createMissing) throw notFound(STREAM_NOT_FOUND);
        s = tx.put("logStream", newStream({ rt: this.rt }, g, delivery.logStreamName));
      }
      return { group: g, stream: s };
    });
    // No records is no call at all for a producer (PutLogEvents itself refuses an empty batch).
    if (delivery.events.length === 0) return { accepted: 0 };
    const { accepted, rejected } = admitBatch(delivery.events, now, group.retentionInDays);
    // A group or stream made here is in the shared store before its events are (a sweep on
    // another node reads the store's groups: src/services/logs/pg-event-store.ts dropOrphans).
    await this.state.durable();
    await this.store.append(group.key, stream.key, accepted, now);
    return { accepted: accepted.length, ...(rejected ? { rejected } : {}) };
  }

  /** Drops events past each group's retention, and those of groups gone; returns how many went. */
  async expire(): Promise<number> {
    const now = this.rt.now().getTime();
    const groups = [...this.state.all("logGroup")];
    let dropped = await this.store.dropOrphans(groups.map((g) => g.key));
    for (const g of groups)
      if (g.retentionInDays !== undefined)
        dropped += await this.store.expire(g.key, now - g.retentionInDays * 86_400_000);
    return dropped;
  }

  async close(): Promise<void> {
    clearInterval(this.sweep);
    await this.store.close();
  }
}

/**
 * The event store of a node: the home's SQLite file (`logs.db`), or the shared PostgreSQL
 * store's tables when `--store postgres://…` names one, so every node and agent on it reads
 * the same events.
 */
export async function openLogEvents(home: string, storeUrl?: string): Promise<LogEvents> {
  if (storeUrl === undefined) return new LogEventStore(join(home, "logs.db"));
  // Loaded only here: the pg driver stays out of a SQLite server's start-up.
  const { PgLogEvents } = await import("./pg-event-store.js");
  return PgLogEvents.open(storeUrl);
}
