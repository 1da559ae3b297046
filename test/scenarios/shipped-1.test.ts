import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScenario, startTestServer, type TestServer, why } from "./run-scenario.js";

/** The shipped scenario 1, run as users run them: `privlink scenario run NAME`. */
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
});
