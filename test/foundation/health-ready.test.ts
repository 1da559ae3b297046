import { describe, expect, it } from "vitest";
import { adminRoutes } from "../../src/api/admin.js";
import { systemRuntime } from "../../src/cloud/runtime.js";
import { State } from "../../src/cloud/state.js";

const request = { method: "GET", url: new URL("http://127.0.0.1/_privlink/health"), body: Buffer.alloc(0) };

describe("GET /_privlink/health", () => {
  it("answers 503 starting until every listener and DNS view is up, then 200 ok", async () => {
    let ready = false;
    const routes = adminRoutes({
      state: new State(),
      rt: systemRuntime,
      startedAt: new Date("2026-12-06T00:00:00Z"),
      version: "0.0.0",
      ready: () => ready,
    });
    const health = routes["GET /_privlink/health"]!;
    const before = await health(request);
    expect(before.status).toBe(503);
    expect(before.body).toMatchObject({ status: "starting", startedAt: "2026-12-06T00:00:00.000Z" });
    ready = true;
    const after = await health(request);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ status: "ok" });
  });
});
