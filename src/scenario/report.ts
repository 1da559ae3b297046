import { alignColumns } from "../cli/columns.js";
import type { MonthlyCost, MonthlyLine } from "./money.js";
import type { Report, StepResult } from "./run.js";

/** The report a run prints: its steps, the checks, the monthly cost and the NAT alternative. */

const usd = (x: number) => `$${x.toFixed(2)}`;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function stepLine(r: StepResult, total: number): string {
  const mark = r.ok ? "✔" : "✘";
  const kind = r.check ? "check " : "";
  const detail = r.detail ? `  ${r.detail}` : "";
  return `${mark} [${r.index}/${total}] ${kind}${r.title}${detail} (${r.ms} ms)`;
}

function costTable(lines: readonly MonthlyLine[]): string[] {
  const rows = lines.map((l) => [
    l.resource,
    l.usageType,
    `${l.quantity} ${l.unit}`,
    `$${l.rate}`,
    usd(l.cost),
  ]);
  return alignColumns(rows, (i) => i >= 2).map((l) => `  ${l}`);
}

export function costText(c: MonthlyCost): string[] {
  const out = [
    `Monthly cost at AWS list prices (hourly charges x 730 h, plus the ${c.bytes} bytes measured):`,
    ...costTable(c.lines),
    `  total ${usd(c.total)} / month`,
  ];
  if (!c.settled)
    out.push("  (bytes of the last minute are not in CloudWatch yet: add a `cost` step to wait for them)");
  if (c.nat.lines.length)
    out.push(
      "The same traffic through NAT gateways instead:",
      ...costTable(c.nat.lines),
      `  total ${usd(c.nat.total)} / month in place of the endpoints' ${usd(c.nat.replaces)} (${c.nat.total >= c.nat.replaces ? "endpoints save" : "endpoints cost"} ${usd(Math.abs(c.nat.total - c.nat.replaces))})`,
    );
  return out;
}

export function summaryText(r: Report): string {
  const out: string[] = [""];
  if (r.failed)
    out.push(
      `FAILED at step ${r.failed.index} (${r.failed.where}): ${r.failed.title}`,
      `  ${r.failed.reason ?? "failed"}`,
    );
  out.push(
    `${r.ok ? "PASSED" : "FAILED"}: ${r.scenario} — ${r.checks.passed} checks passed, ${r.checks.failed} failed, ${r.steps.length} steps, ${secs(r.ms)}`,
  );
  if (r.cost) out.push("", ...costText(r.cost));
  if (r.kept) out.push("", `Kept: remove it with 'privlink scenario down ${r.scenario}'.`);
  else if (r.teardown) {
    out.push("", `Torn down: ${r.teardown.removed} resources removed.`);
    for (const l of r.teardown.left) out.push(`  NOT removed: ${l.what}: ${l.error}`);
  }
  return `${out.join("\n")}\n`;
}
