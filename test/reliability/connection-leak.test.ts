import { describe, expect, it } from "vitest";
import { EXACT, measureLeaks } from "../../bench/leak.js";
import { testPublicDns, workerSlots } from "../helpers/server.js";

describe("connections through endpoints leak nothing (npm run bench -- leak, short)", () => {
  it("500 connections through an endpoint and 500 through an AWS-service endpoint: every count back to its baseline", async () => {
    const r = await measureLeaks({
      total: 500,
      concurrent: 250,
      slots: workerSlots(),
      publicDns: testPublicDns(),
    });
    console.log(JSON.stringify(r));
    const [endpoint, service] = r.paths;
    // The connections really went through, and were really open together.
    expect(endpoint!.failed).toBe(0);
    expect(service!.failed).toBe(0);
    expect(endpoint!.peak.flows).toBeGreaterThanOrEqual(r.baseline.flows + 250);
    expect(endpoint!.peak.targetSockets).toBeGreaterThanOrEqual(250);
    expect(service!.peak.frontSockets).toBeGreaterThanOrEqual(250);
    for (const p of r.paths)
      for (const k of EXACT)
        expect(p.after[k], `${p.path}: ${k} after closing`).toBeLessThanOrEqual(r.baseline[k]);
  }, 300_000);
});
