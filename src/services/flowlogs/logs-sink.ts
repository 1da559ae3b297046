import type { State } from "../../cloud/state.js";
import { findGroup } from "../logs/handlers.js";
import type { LogsService } from "../logs/index.js";
import type { LogsSink } from "./destinations.js";

/** The built-in CloudWatch Logs as a flow-log sink: its in-process putEvents, its group lookup. */
export function logsSink(state: State, logs: LogsService): LogsSink {
  return {
    hasGroup: (accountId, region, name) =>
      !!state.transact((tx) => findGroup(tx, { accountId, region, name })),
    putEvents: async (d) => {
      await logs.putEvents(d, { createMissing: true });
    },
  };
}
