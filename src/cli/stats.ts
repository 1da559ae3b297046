import type { Command } from "commander";
import type { Counters, Stats } from "../net/meter.js";
import { admin } from "./client.js";

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
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (cols: string[]) =>
    cols.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join("  ");
  return `${title}\n${line(head)}\n${cells.map(line).join("\n")}\n`;
}

export function registerStatsCommand(program: Command): void {
  program
    .command("stats")
    .description(
      "data-plane counters per endpoint and per network interface (bytes, connections, resets, dropped flows)",
    )
    .option("--json", "print the JSON of GET /_privlink/stats")
    .action(async (o: { json?: boolean }) => {
      const s = await admin<Stats>("GET", "/_privlink/stats");
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
    });
}
