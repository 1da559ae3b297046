import { describe, expect, it } from "vitest";
import { median, medianInterval, percentile, spreadOf } from "../../bench/measure.js";

describe("the bench's order statistics", () => {
  it("reads percentiles between the two values around rank (n − 1)·p", () => {
    const xs = [1, 2, 3, 4];
    expect([percentile(xs, 0), percentile(xs, 25), percentile(xs, 50), percentile(xs, 100)]).toEqual([
      1, 1.75, 2.5, 4,
    ]);
    // p and 100 − p sit symmetrically; p99 of 100 values is not the maximum.
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 25) + percentile(hundred, 75)).toBeCloseTo(101);
    expect(percentile(hundred, 99)).toBeLessThan(100);
    expect(percentile([], 50)).toBeNaN();
  });

  it("makes the median the 50th percentile, the mean of the middle two for an even count", () => {
    expect([median([1, 2, 3]), median([1, 2, 3, 10])]).toEqual([2, 2.5]);
  });

  it("spreads values in any order: the median, its 95 % interval, the count of finite values", () => {
    const values = [5, 1, 4, 2, 3, Number.NaN, 9, 8, 7, 6];
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    const [low, high] = medianInterval(sorted);
    expect(spreadOf(values)).toEqual({ median: 5, low, high, n: 9 });
    expect(low).toBeLessThan(5);
    expect(high).toBeGreaterThan(5);
    expect(spreadOf([Number.NaN]).n).toBe(0);
  });
});
