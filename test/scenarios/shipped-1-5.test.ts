import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScenario, startTestServer, type TestServer, why } from "./run-scenario.js";

/** The shipped scenarios 1 and 5, run as users run them: `privlink scenario run NAME`. */
let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv?.stop());

describe("privlink scenario run (shipped scenarios)", { timeout: 150_000 }, () => {
  it("secrets-private-app: every check passes, the report prices it, and it tears down", async () => {
    const r = await runScenario(srv, "secrets-private-app");
    expect(r.code, why(r)).toBe(0);
    expect(r.report.checks).toEqual({ passed: 6, failed: 0 });
    expect(r.report.cost.lines.map((l: { usageType: string }) => l.usageType)).toContain("VpcEndpoint-Hours");
    expect(r.report.cost.nat.total).toBeGreaterThan(r.report.cost.total);
    expect(r.report.teardown.left).toEqual([]);
  });

  it("own-service: Q accepted and metered, R rejected and refused", async () => {
    const r = await runScenario(srv, "own-service");
    expect(r.code, why(r)).toBe(0);
    expect(r.report.checks.failed).toBe(0);
    expect(r.report.checks.passed).toBeGreaterThanOrEqual(6);
    expect(r.report.cost.settled).toBe(true);
    expect(r.report.cost.bytes).toBeGreaterThan(0);
    expect(r.report.teardown.left).toEqual([]);
  });
});
