import type { State } from "../cloud/state.js";
import type {
  DestinationTable,
  FlowLogBatch,
  FlowLogDestination,
} from "../services/flowlogs/destinations.js";

/**
 * Flow logs on agents (docs/agents.md): an agent records flow-log windows where the bytes pass,
 * with the same recorder as `privlink up`, but delivers none itself — CloudWatch Logs, S3 and
 * the file destination live with an API node. Its recorder's destinations queue each batch in
 * memory here; the agent writes the queue to the store's `flow_log_outbox` table
 * (Leases.queueFlowLogs) and an API node delivers from there (src/agent/observer.ts).
 */

/** A batch as the outbox stores it: the flow log by ID (the API node delivers to its current self). */
interface StoredBatch {
  flowLogId: string;
  interfaceId: string;
  header: string;
  lines: readonly string[];
  start: number;
}

export function encodeBatch(b: FlowLogBatch): string {
  const stored: StoredBatch = {
    flowLogId: b.flowLog.id,
    interfaceId: b.interfaceId,
    header: b.header,
    lines: b.lines,
    start: b.start,
  };
  return JSON.stringify(stored);
}

/**
 * The batch again, with the flow log as `state` has it now; undefined when the flow log was
 * deleted meanwhile (the recorder drops a deleted flow log's windows too) or the row is unreadable.
 */
export function decodeBatch(state: State, json: string): FlowLogBatch | undefined {
  let b: StoredBatch;
  try {
    b = JSON.parse(json) as StoredBatch;
  } catch {
    return undefined;
  }
  const flowLog = state.get("flowLog", b.flowLogId);
  if (!flowLog || !Array.isArray(b.lines)) return undefined;
  return { flowLog, interfaceId: b.interfaceId, header: b.header, lines: b.lines, start: b.start };
}

/** Batches kept while the store is out of reach; past it the oldest go (and are counted). */
export const OUTBOX_MAX_BATCHES = 10_000;

export class FlowLogOutbox {
  private queue: string[] = [];
  /** Batches dropped because the store stayed out of reach past {@link OUTBOX_MAX_BATCHES}. */
  dropped = 0;

  constructor(private readonly state: State) {}

  /**
   * The recorder's destinations on an agent: every type queues here. The agent never writes
   * DeliverLogsStatus (it changes no domain object; the API node that delivers does): `problem`
   * answers the status the flow log already has, so the recorder's check changes nothing, and
   * `deliver` fails with the recorded error while the flow log is FAILED — the batch is queued
   * all the same, the API node retries the delivery and records its outcome.
   */
  destinations(): DestinationTable {
    const d: FlowLogDestination = {
      problem: (fl) => (fl.deliverLogsStatus === "FAILED" ? fl.deliverLogsErrorMessage : undefined),
      deliver: async (batch) => {
        this.queue.push(encodeBatch(batch));
        if (this.queue.length > OUTBOX_MAX_BATCHES) {
          this.dropped += this.queue.length - OUTBOX_MAX_BATCHES;
          this.queue.splice(0, this.queue.length - OUTBOX_MAX_BATCHES);
        }
        const fl = this.state.get("flowLog", batch.flowLog.id);
        if (fl?.deliverLogsStatus === "FAILED")
          throw new Error(fl.deliverLogsErrorMessage || "delivery failed");
      },
    };
    return { file: d, "cloud-watch-logs": d, s3: d };
  }

  get size(): number {
    return this.queue.length;
  }

  /** Writes the queue with `write` (one statement); on failure it stays queued for the next try. */
  async ship(write: (batches: readonly string[]) => Promise<void>): Promise<void> {
    if (this.queue.length === 0) return;
    const taken = this.queue;
    this.queue = [];
    try {
      await write(taken);
    } catch (err) {
      this.queue = [...taken, ...this.queue];
      throw err;
    }
  }
}
