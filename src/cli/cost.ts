import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { type Bill, billCsv, type CostLine } from "../billing/cost.js";
import { admin } from "./client.js";
import { alignColumns } from "./columns.js";

const usd = (x: number) => `$${x.toFixed(4)}`;

function table(lines: readonly CostLine[]): string {
  const head = ["resource", "payer", "usage", "quantity", "rate", "cost", "from"];
  const rows = lines.map((l) => [
    l.resource,
    l.payer,
    l.usageType,
    `${l.quantity} ${l.unit}`,
    usd(l.rate),
    usd(l.cost),
    l.description,
  ]);
  return alignColumns([head, ...rows], (i) => i === 3 || i === 4 || i === 5).join("\n");
}

function text(b: Bill): string {
  const out = [
    `privlink cost ${b.since} .. ${b.until} (USD, list prices)`,
    "",
    table(b.lines),
    "",
    `total ${usd(b.total)}`,
  ];
  for (const [payer, cost] of Object.entries(b.byPayer)) out.push(`  paid by ${payer}: ${usd(cost)}`);
  if (b.whatIfNat) {
    out.push(
      "",
      "what if the same bytes went through NAT gateways and the internet instead:",
      "",
      table(b.whatIfNat.lines),
    );
    out.push(
      "",
      `NAT total ${usd(b.whatIfNat.total)} (${b.whatIfNat.difference >= 0 ? "endpoints save" : "endpoints cost"} ${usd(Math.abs(b.whatIfNat.difference))})`,
    );
  }
  return `${out.join("\n")}\n`;
}

export function registerCostCommand(program: Command): void {
  program
    .command("cost")
    .description(
      "what the endpoints, NAT gateways and data processed cost at AWS list prices, and the NAT alternative",
    )
    .option(
      "--since <time>",
      "start of the window (ISO 8601 or epoch seconds; default 30 days before --until)",
    )
    .option("--until <time>", "end of the window (default now)")
    .option("--account <id>", "only charges of this account (as owner or payer)")
    .option("--json", "print JSON")
    .option("--csv", "print CSV")
    .option("--what-if <alternative>", "price the same bytes another way: nat")
    .option("--prices <file>", "a JSON file overriding prices (keys as in src/billing/prices.ts)")
    .action(
      async (o: {
        since?: string;
        until?: string;
        account?: string;
        json?: boolean;
        csv?: boolean;
        whatIf?: string;
        prices?: string;
      }) => {
        if (o.whatIf !== undefined && o.whatIf !== "nat")
          throw new Error(`--what-if takes nat, not '${o.whatIf}'`);
        const prices = o.prices ? JSON.parse(readFileSync(o.prices, "utf8")) : undefined;
        const b = await admin<Bill>("POST", "/_privlink/cost", {
          since: o.since,
          until: o.until,
          account: o.account,
          "what-if": o.whatIf,
          prices,
        });
        process.stdout.write(o.json ? `${JSON.stringify(b, null, 2)}\n` : o.csv ? billCsv(b) : text(b));
      },
    );
}
