import type { Command } from "commander";
import type { Counters, Stats } from "../net/meter.js";
import { admin } from "./client.js";
import { alignColumns } from "./columns.js";
import { watchStats } from "./stats-watch.js";

const COLUMNS: (keyof Counters)[] = [
  "bytesIn",
  "bytesOut",
  "newConnections",
  "activeConnections",
  "resets",
  "dropped",
];

function table(title: string, rows: (Counters & { id: string })[]): string {
  if (rows.length === 0) return `${title}: none\n`;
  const head = ["id", ...COLUMNS];
  const cells = rows.map((r) => [r.id, ...COLUMNS.map((c) => String(r[c]))]);
  return `${title}\n${alignColumns([head, ...cells], (i) => i > 0).join("\n")}\n`;
}

export function registerStatsCommand(program: Command): void {
  program
    .command("stats")
    .description(
      "data-plane counters per endpoint and per network interface (bytes, connections, resets, dropped flows)",
    )
    .option("--json", "print the JSON of GET /_privlink/stats")
    .option("--watch", "a live table of bytes/s per endpoint, redrawn until Ctrl-C")
    .option("--interval <seconds>", "seconds between samples with --watch", "2")
    .option("--count <n>", "stop --watch after n samples")
    .option(
      "--flush",
      "write the current minute's CloudWatch datapoints now (POST /_privlink/cloudwatch/flush), so get-metric-data shows them without waiting a minute",
    )
    .action(
      async (o: { json?: boolean; watch?: boolean; interval: string; count?: string; flush?: boolean }) => {
        if (o.flush) {
          const f = await admin<{ minute: string; datapoints: number }>(
            "POST",
            "/_privlink/cloudwatch/flush",
          );
          if (o.json) return void process.stdout.write(`${JSON.stringify(f)}\n`);
          return void process.stdout.write(`flushed ${f.datapoints} datapoints of the minute ${f.minute}\n`);
        }
        if (o.watch) {
          const seconds = Number(o.interval);
          const count = o.count === undefined ? undefined : Number(o.count);
          if (!(seconds >= 0.1 && seconds <= 3600)) throw new Error("--interval takes 0.1 to 3600 seconds");
          if (count !== undefined && !(Number.isInteger(count) && count > 0))
            throw new Error("--count takes a whole number > 0");
          return watchStats(() => admin<Stats>("GET", "/_privlink/stats"), {
            intervalMs: seconds * 1000,
            count,
            out: process.stdout,
          });
        }
        const s = await admin<Stats & { agents?: (Stats & { name: string; alive: boolean })[] }>(
          "GET",
          "/_privlink/stats",
        );
        if (o.json) return void process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
        process.stdout.write(
          table(
            "endpoints",
            s.endpoints.map(({ vpcEndpointId, ...c }) => ({ id: vpcEndpointId, ...c })),
          ),
        );
        process.stdout.write(
          table(
            "network interfaces",
            s.enis.map(({ networkInterfaceId, ...c }) => ({ id: networkInterfaceId, ...c })),
          ),
        );
        // On the shared store the tables above sum every agent; here is who carried what.
        if (s.agents?.length)
          process.stdout.write(
            table(
              "endpoints by agent",
              s.agents.flatMap((a) =>
                a.endpoints.map(({ vpcEndpointId, ...c }) => ({
                  id: `${a.name}${a.alive ? "" : " (not alive)"} ${vpcEndpointId}`,
                  ...c,
                })),
              ),
            ),
          );
      },
    );
}
