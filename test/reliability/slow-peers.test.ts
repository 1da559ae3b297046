import { describe, expect, it } from "vitest";
import { measureSlowPeers } from "../../bench/slow-listeners.js";
import { testPublicDns, workerSlots } from "../helpers/server.js";

describe("slow clients and stalled targets do not block other flows (npm run bench -- slow-listeners, short)", () => {
  it("with 40 idle, 40 non-reading, 40 slow-TLS clients and 40 flows to a stalled target open, normal flows all complete; nothing is left once the idle limit has passed", async () => {
    const r = await measureSlowPeers({
      perKind: 40,
      seconds: 2,
      samples: 5,
      // Flows paused by back-pressure are reclaimed by the idle timer, not by the client's FIN.
      idleTimeoutMs: 25_000,
      slots: workerSlots(),
      publicDns: testPublicDns(),
    });
    console.log(JSON.stringify(r));
    // Every normal round trip completed while the slow peers were held open…
    expect(r.during.echo.failed).toBe(0);
    expect(r.during.https.failed).toBe(0);
    expect(r.before.echo.failed + r.before.https.failed).toBe(0);
    // …and the slow peers really were held, not dropped (a slow-TLS client may meet the front's
    // 20 s header timeout when the machine is loaded).
    for (const [kind, n] of Object.entries(r.stillOpen)) expect(n, kind).toBeGreaterThan(0);
    // privlink's side is back to baseline: flows, front sockets, metered connections, and every
    // descriptor but the test target's own paused sockets (a paused socket never sees the FIN).
    for (const k of ["flows", "frontSockets", "activeConnections"] as const)
      expect(r.after[k], `${k} after closing`).toBeLessThanOrEqual(r.baseline[k]);
    expect(r.after.fds - r.after.targetSockets).toBeLessThanOrEqual(r.baseline.fds);
  }, 300_000);
});
