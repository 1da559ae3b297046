import { appendFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { setDeliveryStatus } from "../../cloud/flow-log.js";
import type { State } from "../../cloud/state.js";
import type { FlowLog } from "../../cloud/types.js";

/** The records of one capture window for one interface, as lines in the flow log's format. */
export interface FlowLogBatch {
  readonly flowLog: FlowLog;
  readonly interfaceId: string;
  /** The field names, in order (S3 objects start with them). */
  readonly header: string;
  readonly lines: readonly string[];
  /**
   * The same lines as UTF-8, each ending in a newline, when the recorder has them so: the
   * file and S3 destinations write these bytes as they are, and `lines` is then decoded only
   * for a destination that reads it.
   */
  readonly text?: readonly Buffer[];
  /** Unix seconds of the window's first record (S3 keys and Logs timestamps use it). */
  readonly start: number;
}

/** A batch's lines as bytes, each line ending in a newline (`lines` joined unless it has `text`). */
export function textOf(b: FlowLogBatch): Buffer {
  return b.text ? Buffer.concat(b.text) : Buffer.from(`${b.lines.join("\n")}\n`);
}

/**
 * Where flow-log records go. One per LogDestinationType; the CloudWatch Logs and S3 services
 * plug in here when they exist. `problem` says why delivery cannot happen (DescribeFlowLogs
 * shows it as DeliverLogsStatus FAILED with that message); `deliver` throws for the same.
 */
export interface FlowLogDestination {
  problem(fl: FlowLog): string | undefined;
  deliver(batch: FlowLogBatch): Promise<void>;
}

/**
 * privlink's own destination: lines appended to PRIVLINK_HOME/flow-logs/<LogDestination>.
 * Appends to one file go one after the other: a tick delivers a flow log's interfaces at once,
 * and Node writes a large buffer in several writes, so two appends at once interleaved there
 * and split lines (some 50 in 420,000 lines of 15,000-connection windows).
 */
export function fileDestination(home: string): FlowLogDestination & { pathOf(fl: FlowLog): string } {
  const pathOf = (fl: FlowLog) => join(home, "flow-logs", fl.logDestination);
  const tails = new Map<string, Promise<void>>();
  const append = async (path: string, data: Buffer) => {
    await mkdir(dirname(path), { recursive: true });
    await appendFile(path, data);
  };
  return {
    pathOf,
    problem: () => undefined,
    deliver(batch) {
      const path = pathOf(batch.flowLog);
      const data = textOf(batch);
      const done = (tails.get(path) ?? Promise.resolve()).then(() => append(path, data));
      // The next append waits for this one, failed or not; the map keeps only files being written.
      const tail = done.catch(() => undefined);
      tails.set(path, tail);
      void tail.then(() => {
        if (tails.get(path) === tail) tails.delete(path);
      });
      return done;
    },
  };
}

/** A destination type whose service privlink does not run: every delivery fails with `reason`. */
export function unavailableDestination(reason: string): FlowLogDestination {
  return {
    problem: () => reason,
    async deliver() {
      throw new Error(reason);
    },
  };
}

export type DestinationTable = Record<FlowLog["logDestinationType"], FlowLogDestination>;

/**
 * Delivers one batch to its flow log's destination and records the outcome as the flow log's
 * DeliverLogsStatus (written only when it changes). Never throws: a failure is the status.
 * The recorder delivers its windows through it, and an API node the batches agents recorded.
 */
export async function deliverBatch(
  state: State,
  destinations: DestinationTable,
  b: FlowLogBatch,
): Promise<void> {
  if ((b.text ?? b.lines).length === 0) return;
  let error: string | undefined;
  try {
    await destinations[b.flowLog.logDestinationType].deliver(b);
  } catch (err) {
    error = (err as Error).message;
  }
  const fl = state.get("flowLog", b.flowLog.id);
  if (fl && (fl.deliverLogsStatus === "FAILED") !== !!error)
    state.transact((tx) => setDeliveryStatus(tx, fl.id, error));
}

export function defaultDestinations(home: string): DestinationTable {
  return {
    file: fileDestination(home),
    "cloud-watch-logs": unavailableDestination(
      "Unknown error: privlink has no CloudWatch Logs service on this build; use LogDestinationType file",
    ),
    s3: unavailableDestination(
      "Unknown error: privlink has no S3 service on this build; use LogDestinationType file",
    ),
  };
}

/** What the CloudWatch Logs destination needs from the built-in Logs service. */
export interface LogsSink {
  hasGroup(accountId: string, region: string, name: string): boolean;
  putEvents(d: {
    accountId: string;
    region: string;
    logGroupName: string;
    logStreamName: string;
    events: { timestamp: number; message: string }[];
  }): Promise<void>;
}

/**
 * `cloud-watch-logs`: one stream per interface (named by its ID) in the flow log's group,
 * in the flow log owner's account. The group must exist (privlink does not create it on the
 * role's behalf); a missing group is DeliverLogsStatus FAILED with the reason.
 */
export function logsDestination(logs: LogsSink): FlowLogDestination {
  const problem = (fl: FlowLog) =>
    logs.hasGroup(fl.accountId, fl.region, fl.logGroupName ?? "")
      ? undefined
      : `Access error: the log group ${fl.logGroupName} does not exist`;
  return {
    problem,
    async deliver(b) {
      const why = problem(b.flowLog);
      if (why) throw new Error(why);
      await logs.putEvents({
        accountId: b.flowLog.accountId,
        region: b.flowLog.region,
        logGroupName: b.flowLog.logGroupName!,
        logStreamName: b.interfaceId,
        events: b.lines.map((message) => ({ timestamp: b.start * 1000, message })),
      });
    },
  };
}
