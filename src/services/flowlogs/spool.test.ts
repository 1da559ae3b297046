import { describe, expect, it } from "vitest";
import { Spool } from "./spool.js";

/**
 * A line written value by value must be byte for byte the line a template literal prints
 * (`${a} ${b} …`), whatever the values, and a line never spans two chunks.
 */
const VALUES: (string | number)[] = [
  0,
  7,
  10,
  443,
  1_765_000_000,
  Number.MAX_SAFE_INTEGER,
  2 ** 53,
  -1,
  1.5,
  1e21,
  Number.NaN,
  2 ** 31 - 1,
  2 ** 31,
  999_999_999,
  1_000_000_000,
  -0,
  "",
  "eni-0a000000000000001",
  "10.0.1.10",
  "2001:db8::1",
  "été",
  "名前",
  "\ud83d\ude00",
  "lone \ud800 surrogate",
];

const write = (spool: Spool, v: string | number) => (typeof v === "number" ? spool.num(v) : spool.str(v));

describe("a flow-log spool", () => {
  it("writes each value as a template literal prints it", () => {
    const spool = new Spool();
    for (const v of VALUES) {
      spool.open();
      write(spool, v);
      write(spool, v);
      spool.close();
    }
    const want = VALUES.map((v) => `${v} ${v}`);
    expect(spool.lines()).toEqual(want.map((l) => Buffer.from(l).toString()));
  });

  it("keeps lines whole across chunks, whether appended or written by values", () => {
    const spool = new Spool();
    const want: string[] = [];
    // Lines of varied lengths (some longer than a first chunk) overflow many chunks mid-line.
    for (let i = 0; i < 5000; i++) {
      const values = Array.from({ length: 1 + (i % 17) }, (_, j) => VALUES[(i * 7 + j) % VALUES.length]);
      if (i % 40 === 0) values.push("x".repeat(300 + i));
      const line = values.map((v) => `${v}`).join(" ");
      want.push(Buffer.from(line).toString());
      if (i % 3 === 0) spool.append(line);
      else {
        spool.open();
        for (const v of values) write(spool, v);
        spool.close();
      }
    }
    expect(spool.lines()).toEqual(want);
  });
});
