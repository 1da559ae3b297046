import { describe, expect, it } from "vitest";
import { benchFront } from "../../bench/front.js";

describe("bench/front", () => {
  it("measures GetSecretValue through the front and the edge in one bounded run", async () => {
    const rows = await benchFront({ seconds: 0.3, concurrency: 4 });
    expect(rows.map((r) => r.name)).toEqual([
      "GetSecretValue via edge (HTTP)",
      "GetSecretValue via endpoint front (TLS + policies)",
    ]);
    for (const r of rows) {
      expect(r.count).toBeGreaterThan(0);
      expect(r.p99).toBeGreaterThanOrEqual(r.p50);
    }
    console.log(JSON.stringify(rows));
  }, 60_000);
});
