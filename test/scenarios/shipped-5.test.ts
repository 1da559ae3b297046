import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScenario, startTestServer, type TestServer, why } from "./run-scenario.js";

/** The shipped scenario 5, run as users run them: `privlink scenario run NAME`. */
let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv?.stop());

describe("privlink scenario run (shipped scenarios)", { timeout: 150_000 }, () => {
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
