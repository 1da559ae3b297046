import { describe, expect, it } from "vitest";
import { type Linked, Links } from "./links.js";

interface Item extends Linked<Item> {
  name: string;
}

const item = (name: string): Item => ({ name, older: undefined, newer: undefined, listed: false });
const names = (list: Links<Item>): string[] => [...list].map((x) => x.name);

describe("Links", () => {
  it("keeps items oldest first and marks them listed", () => {
    const list = new Links<Item>();
    const [a, b, c] = ["a", "b", "c"].map(item);
    for (const x of [a, b, c]) list.add(x);
    expect(names(list)).toEqual(["a", "b", "c"]);
    expect([a, b, c].every((x) => x.listed)).toBe(true);
  });

  it("unlinks the head, the middle and the tail", () => {
    for (const [gone, left] of [
      ["a", ["b", "c"]],
      ["b", ["a", "c"]],
      ["c", ["a", "b"]],
    ] as const) {
      const list = new Links<Item>();
      const items = ["a", "b", "c"].map(item);
      for (const x of items) list.add(x);
      const x = items.find((i) => i.name === gone) as Item;
      list.delete(x);
      expect(names(list)).toEqual(left);
      expect(x).toMatchObject({ listed: false, older: undefined, newer: undefined });
    }
  });

  it("ignores a second delete of the same item", () => {
    const list = new Links<Item>();
    const [a, b] = ["a", "b"].map(item);
    list.add(a);
    list.add(b);
    list.delete(a);
    list.delete(a);
    expect(names(list)).toEqual(["b"]);
    list.delete(b);
    expect(names(list)).toEqual([]);
    list.add(a);
    expect(names(list)).toEqual(["a"]);
  });

  it("lets the item being visited delete itself", () => {
    const list = new Links<Item>();
    const items = ["a", "b", "c", "d"].map(item);
    for (const x of items) list.add(x);
    const seen: string[] = [];
    for (const x of list) {
      seen.push(x.name);
      if (x.name !== "c") list.delete(x);
    }
    expect(seen).toEqual(["a", "b", "c", "d"]);
    expect(names(list)).toEqual(["c"]);
  });

  it("re-adds a deleted item at the newest end", () => {
    const list = new Links<Item>();
    const [a, b, c] = ["a", "b", "c"].map(item);
    for (const x of [a, b, c]) list.add(x);
    list.delete(a);
    list.add(a);
    expect(names(list)).toEqual(["b", "c", "a"]);
  });

  it("clears every item, leaving each unlinked", () => {
    const list = new Links<Item>();
    const items = ["a", "b", "c"].map(item);
    for (const x of items) list.add(x);
    list.clear();
    expect(names(list)).toEqual([]);
    expect(items.every((x) => !x.listed && !x.older && !x.newer)).toBe(true);
    list.add(items[1] as Item);
    expect(names(list)).toEqual(["b"]);
  });
});
