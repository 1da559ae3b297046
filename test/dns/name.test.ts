import { describe, expect, it } from "vitest";
import { assertValidName, labelBytes } from "../../src/dns/name.js";

/** The rule as written over label buffers: what assertValidName's text fast path must agree with. */
function legalByLabels(name: string): boolean {
  let len = 1;
  for (const l of labelBytes(name)) {
    if (l.length === 0 || l.length > 63) return false;
    len += l.length + 1;
  }
  return len <= 255;
}

function legal(name: string): boolean {
  try {
    assertValidName(name, "test");
    return true;
  } catch {
    return false;
  }
}

describe("assertValidName", () => {
  it("agrees with the label-buffer rule on edge cases and random names", () => {
    const cases = ["", ".", "..", "a", "a.", "a..", ".a", "a..b", "x".repeat(63), "x".repeat(64), "é.com"];
    cases.push(`${"x".repeat(63)}.`, `${"a.".repeat(127)}`, `${"a.".repeat(128)}`, `${"abc.".repeat(63)}ab`);
    cases.push("a\\.b", "a\\065b.", "\\", "a.\\");
    const alphabet = ["a", "b", ".", ".", "\\", "0", "é", "-"];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 5000; i++) {
      const len = rand(12);
      let s = "";
      for (let j = 0; j < len; j++) s += alphabet[rand(alphabet.length)];
      cases.push(s);
    }
    for (let i = 0; i < 300; i++)
      cases.push(Array.from({ length: 1 + rand(8) }, () => "z".repeat(rand(70))).join("."));
    for (const name of cases) expect([name, legal(name)]).toEqual([name, legalByLabels(name)]);
  });
});
