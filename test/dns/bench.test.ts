import { describe, expect, it } from "vitest";
import { benchDns, parseDnsperf } from "../../bench/dns.js";

describe("benchDns", () => {
  it("reads dnsperf's statistics", () => {
    const out = [
      "  Queries completed:    5000 (100.00%)",
      "  Queries lost:         0 (0.00%)",
      "  Response codes:       NOERROR 5000 (100.00%)",
      "  Queries per second:   49975.123",
      "  Average Latency (s):  0.001992 (min 0.000042, max 0.012004)",
      "  Latency StdDev (s):   0.000500",
    ].join("\n");
    expect(parseDnsperf(out)).toEqual({
      qps: 49975.123,
      avgLatencyMs: 1.992,
      minLatencyMs: 0.042,
      maxLatencyMs: 12.004,
      stddevLatencyMs: 0.5,
      queriesCompleted: 5000,
      queriesLost: 0,
      responseCodes: "NOERROR 5000 (100.00%)",
    });
  });

  it("measures privlink and unbound (or says why not) with every answer NOERROR", async () => {
    const rows = await benchDns({ durationSec: 1, records: 2000 });
    expect(rows.map((r) => r.server)).toEqual(["privlink", "unbound"]);
    for (const r of rows) {
      if (r.note) {
        expect(r.note).toMatch(/skipped/);
        continue;
      }
      expect(r.queriesCompleted).toBeGreaterThan(0);
      expect(r.responseCodes).toMatch(/^NOERROR \d+ \(100\.00%\)$/);
    }
  });
});
