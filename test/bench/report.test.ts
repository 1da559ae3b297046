import { describe, expect, it } from "vitest";
import { renderRun, withSection } from "../../bench/report.js";

const run = {
  node: "v20.20.2",
  cpus: 2,
  cpuModel: "Test CPU",
  kernel: "6.1.0",
  commit: "0123456789abcdef",
  full: false,
  startedAt: "2026-12-06T23:50:00.000Z",
  loadAtStart: [0.1, 0.2, 0.3],
  loadAtEnd: [1.5, 1.0, 0.5],
  results: {
    s3: {
      seconds: 14.6,
      rows: [{ case: "PUT 64 MiB", via: "endpoint", MBps: 104.42, ratioToEdge: 0.8 }],
      goals: [
        "goal: PUT ≥ 0.8× the edge; measured: 0.80×: met",
        "goal: GET ≥ 0.8× the edge; measured: 0.60×: NOT met",
      ],
    },
    dns: { seconds: 3, error: "dnsperf | missing" },
  },
};

describe("bench report", () => {
  it("renders the machine, its load, every goal line and every table of one run", () => {
    const text = renderRun(run, "bench/results/x.json");
    expect(text).toContain("## Last full run (2026-12-06 23:50 UTC");
    expect(text).toContain("2 cores (Test CPU), Node v20.20.2, Linux 6.1.0, commit 0123456");
    expect(text).toContain("at the start: 0.10 / 0.20 / 0.30; at the end: 1.50 / 1.00 / 0.50");
    expect(text).toContain("Goal lines: 2, of which NOT met: 1.");
    expect(text).toContain("| s3 | goal: GET ≥ 0.8× the edge; measured: 0.60×: NOT met |");
    expect(text).toContain("| PUT 64 MiB | endpoint | 104 | 0.80 |");
    // A pipe inside a cell must not split the table.
    expect(text).toContain("not measured: dnsperf \\| missing");
  });

  it("replaces the section between its markers and keeps the rest of the page", () => {
    const doc = "# Performance\n\nintro\n\n## What differs from AWS\n\nnothing\n";
    const once = withSection(doc, "FIRST");
    expect(once.indexOf("FIRST")).toBeLessThan(once.indexOf("## What differs"));
    const twice = withSection(once, "SECOND");
    expect(twice).not.toContain("FIRST");
    expect(twice).toContain("SECOND");
    expect(twice.replace(/\n<!--[^>]*-->\nSECOND\n<!--[^>]*-->\n/, "")).toBe(doc);
  });
});
