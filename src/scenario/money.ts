import { type Bill, billedHours, type CostLine } from "../billing/cost.js";

/**
 * What the design costs per month at AWS list prices, from the run's bill
 * (`POST /_privlink/cost` with what-if nat): hourly charges run the whole month (730 h, AWS's
 * monthly hours), data charges are the bytes the run really processed, once. The same for the
 * NAT-gateway alternative. Only the scenario's own accounts' lines count.
 */

export const HOURS_PER_MONTH = 730;

/** A bill line per month (quantity: hours, or the measured GB); the payer is the scenario's. */
export type MonthlyLine = Omit<CostLine, "payer">;

export interface MonthlyCost {
  readonly lines: MonthlyLine[];
  readonly total: number;
  /**
   * The NAT-gateway alternative, and what it replaces: the endpoints' own lines (the rest of the
   * design — transit gateways, VPN, Direct Connect, Resolver — costs the same either way).
   */
  readonly nat: { lines: MonthlyLine[]; total: number; replaces: number };
  /** Bytes the endpoints processed in the run (BytesProcessed published so far). */
  readonly bytes: number;
  /** Whether the run waited for the last minute's metrics before asking. */
  readonly settled: boolean;
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

/** Whether a bill line is one of the scenario's accounts' (as owner or as payer). */
const ours = (accounts: ReadonlySet<string>) => (l: CostLine) =>
  accounts.has(l.account) || accounts.has(l.payer);

function perMonth(
  lines: readonly CostLine[],
  runHours: number,
  accounts: ReadonlySet<string>,
): MonthlyLine[] {
  return lines.filter(ours(accounts)).map(({ payer: _payer, ...l }) => {
    const quantity = l.unit === "Hrs" ? round((l.quantity / runHours) * HOURS_PER_MONTH) : l.quantity;
    return { ...l, quantity, cost: round(quantity * l.rate) };
  });
}

export function monthlyCost(
  bill: Bill,
  accounts: ReadonlySet<string>,
  since: Date,
  settled: boolean,
): MonthlyCost {
  const runHours = Math.max(1, billedHours(since.getTime(), Date.parse(bill.until)));
  const lines = perMonth(bill.lines, runHours, accounts);
  const nat = perMonth(bill.whatIfNat?.lines ?? [], runHours, accounts);
  const sum = (ls: MonthlyLine[]) => round(ls.reduce((a, l) => a + l.cost, 0));
  const bytes = bill.lines
    .filter((l) => l.usageType === "VpcEndpoint-Bytes" && ours(accounts)(l))
    .reduce((a, l) => a + Number(/^(\d+) bytes/.exec(l.description)?.[1] ?? 0), 0);
  const replaces = sum(lines.filter((l) => l.usageType.startsWith("VpcEndpoint")));
  return { lines, total: sum(lines), nat: { lines: nat, total: sum(nat), replaces }, bytes, settled };
}
