import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScenario, startTestServer, type TestServer, why } from "./run-scenario.js";

/** The shipped scenario 6, run as users run it: `privlink scenario run central-logging`. */
let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv?.stop());

describe("privlink scenario run (shipped scenarios)", { timeout: 150_000 }, () => {
  it("central-logging: both applications write into L's group, DeleteLogGroup is denied", async () => {
    const r = await runScenario(srv, "central-logging");
    expect(r.code, why(r)).toBe(0);
    expect(r.report.checks).toEqual({ passed: 5, failed: 0 });
    expect(r.report.teardown.left).toEqual([]);
  });
});
