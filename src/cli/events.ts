import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import type { EventRow } from "../api/events.js";
import { admin } from "./client.js";

interface EventsOptions {
  since?: string;
  follow?: boolean;
  interval: string;
  timeout?: string;
  json?: boolean;
}

function print(e: EventRow, json: boolean | undefined): void {
  if (json) process.stdout.write(`${JSON.stringify(e)}\n`);
  else
    process.stdout.write(
      `${e.id} ${e.time} ${e.event.padEnd(7)} ${e.vpcEndpointId} ${e.vpcEndpointState} owner=${e.vpcEndpointOwner} service=${e.serviceId} notification=${e.notificationId}\n`,
    );
}

function seconds(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`${flag} takes a positive number of seconds, not '${text}'`);
  return n;
}

/** Prints events after `since`; returns the id of the last one printed. */
async function printPage(since: string | undefined, json: boolean | undefined): Promise<string | undefined> {
  const q = since === undefined ? "" : `?${new URLSearchParams({ since })}`;
  const r = await admin<{ events: EventRow[] }>("GET", `/_privlink/events${q}`);
  for (const e of r.events) print(e, json);
  return r.events.at(-1)?.id ?? since;
}

export function registerEventsCommand(program: Command): void {
  program
    .command("events")
    .description("connection notification events (Connect, Accept, Reject, Delete), oldest first")
    .option("--since <id>", "only events after this event id")
    .option("--follow", "keep polling for new events until interrupted (or --timeout)")
    .option("--interval <seconds>", "poll interval with --follow", "1")
    .option("--timeout <seconds>", "with --follow, stop after this many seconds")
    .option("--json", "print one JSON object per line")
    .action(async (o: EventsOptions) => {
      const interval = seconds(o.interval, "--interval")!;
      const timeout = seconds(o.timeout, "--timeout");
      let last = await printPage(o.since, o.json);
      if (!o.follow) return;
      let stopped = false;
      const stop = () => {
        stopped = true;
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      // Bounded by --timeout when given; otherwise until a signal stops it.
      const deadline = timeout === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeout * 1000;
      while (!stopped && Date.now() < deadline) {
        await sleep(Math.min(interval * 1000, Math.max(0, deadline - Date.now())));
        if (!stopped) last = await printPage(last, o.json);
      }
    });
}
