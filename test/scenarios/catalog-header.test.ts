import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parsedHeader, SHIPPED, scenarioHeader, simpleHeader } from "../../src/scenario/catalog.js";

/** What the YAML parser makes of a file's name and title (the reference simpleHeader must match). */
function parsed(text: string) {
  const h = parsedHeader(text);
  return { name: h?.name, title: h?.title };
}

const AGREE = [
  "name: a\ntitle: b\n",
  '---\n# a comment\nname: plain-name # trailing comment\ntitle: "1. Quoted: with a colon"\nsteps:\n- id: x\n',
  "title: 'it''s single'\nname: x\ndescription: |\n  name: not this one\n  title: nor this\n",
  "name: a\ntitle: b\n---\nname: second document\n",
  "name: a\ntitle: b\nsteps: [\n", // broken later: the parser still reads the header
  "name: a#b\ntitle: x\n",
];

const REFUSED = [
  "name: a\ntitle: A long\n  title continued\n", // folded over two lines
  "name: a\nname: b\ntitle: x\n", // repeated key
  "name: 0x1f\ntitle: x\n", // a number
  "name: a\ntitle: true\n", // a boolean
  "name: a\ntitle: ~\n", // null
  'name: a\ntitle: "with \\"escapes\\""\n',
  "name: &anchor a\ntitle: x\n",
  "name: !!str 123\ntitle: x\n",
  "name: a\ntitle: >\n  folded\n",
  "{name: a, title: b}\n",
  '"name": a\ntitle: b\n',
  "name : a\ntitle: b\n",
  "name: a\n", // no title line
];

describe("scenario headers without the YAML parser", () => {
  it("reads every shipped scenario's name and title exactly as the parser does", () => {
    const files = readdirSync(SHIPPED).filter((f) => /\.ya?ml$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const text = readFileSync(join(SHIPPED, f), "utf8");
      expect(simpleHeader(text), f).toEqual(parsed(text));
    }
  });

  it("agrees with the parser on the simple forms it reads", () => {
    for (const text of AGREE) expect(simpleHeader(text), text).toEqual(parsed(text));
  });

  it("leaves every other form to the parser, which scenarioHeader then asks", () => {
    for (const text of REFUSED) {
      expect(simpleHeader(text), text).toBeUndefined();
      const h = scenarioHeader(text);
      expect({ name: h?.name, title: h?.title }, text).toEqual(parsed(text));
    }
  });
});
