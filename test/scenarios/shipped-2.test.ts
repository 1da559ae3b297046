import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScenario, startTestServer, type TestServer, why } from "./run-scenario.js";

/** The shipped scenario 2, run as users run it: `privlink scenario run shared-services`. */
let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv?.stop());

describe("privlink scenario run (shipped scenarios)", { timeout: 150_000 }, () => {
  it("shared-services: spokes over peering and TGW reach the hub endpoint; a removed TGW route breaks spoke 2 only", async () => {
    const r = await runScenario(srv, "shared-services");
    expect(r.code, why(r)).toBe(0);
    expect(r.report.checks).toEqual({ passed: 7, failed: 0 });
    expect(r.report.teardown.left).toEqual([]);
  });
});
