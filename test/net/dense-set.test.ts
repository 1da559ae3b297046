import { describe, expect, it } from "vitest";
import { DenseSet } from "../../src/net/dense-set.js";

const KIND = Symbol("test kind");
const OTHER = Symbol("other kind");
const item = (n: number) => ({ n });
const members = <T extends { n: number }>(s: DenseSet<T>) => [...s].map((x) => x.n).sort((a, b) => a - b);

describe("DenseSet", () => {
  it("holds each member once, whatever the order of deletes (swap-remove keeps indexes right)", () => {
    const s = new DenseSet<{ n: number }>(KIND);
    const xs = Array.from({ length: 6 }, (_, i) => item(i));
    for (const x of xs) s.add(x);
    s.add(xs[2]!);
    expect(s.size).toBe(6);
    // First, last, middle: each moves the last member into the freed place.
    expect(s.delete(xs[0]!)).toBe(true);
    expect(s.delete(xs[5]!)).toBe(true);
    expect(s.delete(xs[2]!)).toBe(true);
    expect(s.delete(xs[2]!)).toBe(false);
    expect(members(s)).toEqual([1, 3, 4]);
    expect(xs.map((x) => s.has(x))).toEqual([false, true, false, true, true, false]);
    for (const x of [xs[4]!, xs[1]!, xs[3]!]) s.delete(x);
    expect(s.size).toBe(0);
    s.add(xs[3]!);
    expect(members(s)).toEqual([3]);
  });

  it("does not take another set's member of the same kind for its own", () => {
    const a = new DenseSet<{ n: number }>(KIND);
    const b = new DenseSet<{ n: number }>(KIND);
    const [x, y] = [item(1), item(2)];
    a.add(x);
    b.add(y);
    // y's index (0) points at x in a: not a's member.
    expect(a.has(y)).toBe(false);
    expect(a.delete(y)).toBe(false);
    expect(members(a)).toEqual([1]);
  });

  it("keeps an object in sets of different kinds at once", () => {
    const a = new DenseSet<{ n: number }>(KIND);
    const b = new DenseSet<{ n: number }>(OTHER);
    const xs = [item(1), item(2), item(3)];
    for (const x of xs) {
      a.add(x);
      b.add(x);
    }
    a.delete(xs[0]!);
    expect(members(a)).toEqual([2, 3]);
    expect(members(b)).toEqual([1, 2, 3]);
  });

  it("walks a snapshot: members deleted during the walk are all visited once", () => {
    const s = new DenseSet<{ n: number }>(KIND);
    for (let i = 0; i < 5; i++) s.add(item(i));
    const seen: number[] = [];
    for (const x of s) {
      seen.push(x.n);
      s.delete(x);
    }
    expect(seen.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(s.size).toBe(0);
  });

  it("clear forgets every member", () => {
    const s = new DenseSet<{ n: number }>(KIND);
    const x = item(1);
    s.add(x);
    s.clear();
    expect(s.has(x)).toBe(false);
    expect(s.size).toBe(0);
    s.add(x);
    expect(members(s)).toEqual([1]);
  });
});
