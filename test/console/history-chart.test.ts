import { describe, expect, it } from "vitest";
import { hourOfRates } from "../../console/src/history.js";
import type { EndpointHistory } from "../../src/console/shapes.js";

const T0 = Date.parse("2026-12-06T10:00:00Z");
const min = (n: number) => T0 + n * 60_000;
const iso = (t: number) => new Date(t).toISOString();

function history(points: [minute: number, bytes: number][], untilMinute: number): EndpointHistory {
  return {
    endpointId: "vpce-1",
    period: 60,
    since: iso(min(untilMinute - 61)),
    until: iso(min(untilMinute)),
    points: points.map(([m, bytes]) => ({
      time: iso(min(m)),
      bytes,
      newConnections: 1,
      activeConnections: 0,
      dropped: 0,
    })),
  };
}

describe("the endpoint chart's hour", () => {
  it("draws CloudWatch's minutes as steps of their average rate, quiet minutes as zero", () => {
    const h = hourOfRates(history([[57, 6_000]], 60), []);
    expect(h.to).toBe(min(60));
    expect(h.from).toBe(min(0));
    expect(h.live).toEqual([]);
    // 60 minutes, two corners each.
    expect(h.cloudwatch).toHaveLength(120);
    const busy = h.cloudwatch.filter((p) => p.rate > 0);
    expect(busy).toEqual([
      { t: min(57), rate: 100 },
      { t: min(58), rate: 100 },
    ]);
  });

  it("hands over to the live samples where they start, and slides the hour with them", () => {
    const live = [
      { t: min(59) + 30_000, rate: 5 },
      { t: min(61) + 1_000, rate: 7 },
    ];
    const h = hourOfRates(history([[58, 600]], 60), live);
    expect(h.to).toBe(min(61) + 1_000);
    expect(h.live).toEqual(live);
    // No CloudWatch minute reaches past the first live sample.
    expect(Math.max(...h.cloudwatch.map((p) => p.t))).toBeLessThanOrEqual(live[0]!.t);
    expect(h.cloudwatch.filter((p) => p.rate > 0).map((p) => p.rate)).toEqual([10, 10]);
    expect(Math.min(...h.cloudwatch.map((p) => p.t))).toBeGreaterThanOrEqual(h.from);
  });

  it("is only live before the history has loaded", () => {
    const h = hourOfRates(undefined, [{ t: min(5), rate: 1 }]);
    expect(h.cloudwatch).toEqual([]);
    expect(h.to).toBe(min(5));
  });
});
