import type { State } from "../../cloud/state.js";
import { FlowTaps } from "../../net/flow-tap.js";
import type { Meter } from "../../net/meter.js";
import {
  type DestinationTable,
  defaultDestinations,
  deliverBatch,
  type FlowLogBatch,
  type FlowLogDestination,
} from "./destinations.js";
import { FlowLogRecorder } from "./recorder.js";

export {
  type FlowLogBatch,
  type FlowLogDestination,
  type LogsSink,
  logsDestination,
} from "./destinations.js";

/** How often capture windows are checked (real time; windows follow the injected clock). */
export const FLOW_LOG_TICK_MS = 5_000;

export interface FlowLogs {
  readonly recorder: FlowLogRecorder;
  /** Delivers every window that is over; tests call it after advancing the clock. */
  tick(): Promise<void>;
  /** Plugs in a destination (CloudWatch Logs, S3) when its service exists. */
  useDestination(type: "cloud-watch-logs" | "s3", d: FlowLogDestination): void;
  /** Delivers a batch recorded elsewhere (an agent's, docs/agents.md) as if recorded here. */
  deliver(batch: FlowLogBatch): Promise<void>;
  close(): Promise<void>;
}

/**
 * VPC Flow Logs: a recorder on the meter's flow taps, destinations, and a timer. The
 * destinations are privlink's own under `home`, or `destinations` as given (an agent hands its
 * batches to the store instead, src/agent/outbox.ts).
 */
export function startFlowLogs(
  opts: ({ home: string } | { destinations: DestinationTable }) & {
    state: State;
    meter: Meter;
    /** The clock in Unix milliseconds (`clockMs` of the runtime). */
    nowMs: () => number;
    tickMs?: number;
  },
): FlowLogs {
  const destinations: DestinationTable =
    "destinations" in opts ? opts.destinations : defaultDestinations(opts.home);
  const recorder = new FlowLogRecorder(opts.state, destinations, opts.nowMs, () => opts.meter.poll());
  opts.meter.taps ??= new FlowTaps();
  const untap = opts.meter.taps.add(recorder);
  let pending = false;
  const unsubscribe = opts.state.onCommit((changes) => {
    if (
      changes.some((c) => c.kind === "account" && c.value === undefined) &&
      opts.state.count("account") === 0
    )
      recorder.clear();
    if (pending || !changes.some((c) => c.kind === "flowLog" && c.value !== undefined)) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      recorder.checkDestinations();
    });
  });
  const tick = () => recorder.tick();
  const timer = setInterval(() => {
    tick().catch((err) => process.emitWarning(`privlink flow logs: ${(err as Error).message}`));
  }, opts.tickMs ?? FLOW_LOG_TICK_MS);
  timer.unref();
  return {
    recorder,
    tick,
    useDestination(type, d) {
      destinations[type] = d;
    },
    deliver: (batch) => deliverBatch(opts.state, destinations, batch),
    async close() {
      clearInterval(timer);
      unsubscribe();
      untap();
      await tick().catch(() => undefined);
    },
  };
}
