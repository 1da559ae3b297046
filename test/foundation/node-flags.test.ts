/**
 * The server's V8 flags (SERVER_NODE_FLAGS, src/package.ts) only work on node's command line, so
 * they are written out where the server starts: the bin's shebang (`privlink up` from the PATH,
 * `npx privlink up`) and `npm start`. They must say the same, and the shebang must run.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PACKAGE_ROOT, SERVER_NODE_FLAGS } from "../../src/package.js";

const BIN = join(PACKAGE_ROOT, "bin/privlink.js");

describe("the server's node flags", () => {
  it("are the bin's shebang: node run through env -S with exactly those flags", () => {
    const shebang = readFileSync(BIN, "utf8").split("\n")[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${SERVER_NODE_FLAGS.join(" ")}`);
  });

  it("are on npm start's command line before the bin", () => {
    const { scripts } = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8"));
    expect(scripts.start).toBe(`node ${SERVER_NODE_FLAGS.join(" ")} bin/privlink.js up`);
  });

  it("let the bin run as an executable, as the PATH runs it", () => {
    // `privlink --help` loads the CLI only; a shebang env could not split would fail here.
    const out = execFileSync(BIN, ["--help"], { encoding: "utf8" });
    expect(out).toMatch(/^Usage: privlink /);
  });
});
