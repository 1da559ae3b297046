import { describe, expect, it } from "vitest";
import type { Bill, CostLine } from "../billing/cost.js";
import { monthlyCost } from "./money.js";

const line = (l: Partial<CostLine>): CostLine => ({
  resource: "vpce-1",
  account: "111111111111",
  payer: "111111111111",
  usageType: "VpcEndpoint-Hours",
  quantity: 4,
  unit: "Hrs",
  rate: 0.01,
  cost: 0.04,
  description: "2 AZ x 2 h",
  ...l,
});

describe("monthlyCost: the run's bill priced per month", () => {
  const since = new Date("2026-01-01T00:00:00Z");
  const processed = line({
    usageType: "VpcEndpoint-Bytes",
    quantity: 0.5,
    unit: "GB",
    description: "500000000 bytes processed",
  });
  const bill: Bill = {
    since: since.toISOString(),
    until: "2026-01-01T01:30:00Z",
    lines: [
      line({}),
      processed,
      line({ account: "999999999999", payer: "999999999999", resource: "vpce-other" }),
    ],
    total: 0,
    byPayer: {},
    whatIfNat: {
      lines: [line({ resource: "nat", usageType: "NatGateway-Hours", quantity: 2, rate: 0.045 })],
      total: 0,
      difference: 0,
    },
  };
  const c = monthlyCost(bill, new Set(["111111111111"]), since, true);

  it("hours scale from the billed run hours to 730, data stays as measured; other accounts' lines are left out", () => {
    const { payer: _a, ...hours } = line({});
    const { payer: _b, ...bytes } = processed;
    expect(c.lines).toEqual([
      { ...hours, quantity: 1460, cost: 14.6 },
      { ...bytes, cost: 0.005 },
    ]);
    expect(c.total).toBe(14.605);
    expect(c.bytes).toBe(500_000_000);
    expect(c.settled).toBe(true);
  });

  it("the NAT alternative the same way", () => {
    expect(c.nat.lines.map((l) => [l.resource, l.quantity, l.cost])).toEqual([["nat", 730, 32.85]]);
    expect(c.nat.total).toBe(32.85);
    // It replaces the endpoint's lines only, whatever else the design pays for.
    expect(c.nat.replaces).toBe(14.605);
  });
});
