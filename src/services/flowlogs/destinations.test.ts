import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { FlowLog } from "../../cloud/types.js";
import { fileDestination } from "./destinations.js";

const homes: string[] = [];
afterEach(() => {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

describe("the file destination", () => {
  it("appends batches delivered at once to one file whole, one after the other", async () => {
    const home = mkdtempSync(join(tmpdir(), "privlink-flowlog-file-"));
    homes.push(home);
    const dest = fileDestination(home);
    const flowLog = { logDestination: "all.log" } as FlowLog;
    // Batches well over Node's write size (512 KiB), as a busy window's interfaces are.
    const batch = (eni: string) => ({
      flowLog,
      interfaceId: eni,
      header: "",
      lines: Array.from({ length: 20_000 }, (_, i) => `2 111111111111 ${eni} 10.0.1.10 ${i} OK`),
      start: 0,
    });
    const batches = ["eni-a", "eni-b", "eni-c"].map(batch);
    await Promise.all(batches.map((b) => dest.deliver(b)));
    const lines = readFileSync(dest.pathOf(flowLog), "utf8").split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toEqual(batches.flatMap((b) => b.lines));
  });
});
