import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decide } from "../../src/flow/index.js";
import { exchange } from "../dataplane/world.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { applyHubDraw, hubDraw, standardWorld, type TransitWorld } from "../helpers/transit-world.js";

/**
 * One decision, two readers, beyond one VPC: a hub VPC's interface endpoint, spoke A over a
 * peering, spoke B and an on-premises site (VPN attachment) over a transit gateway. Each run
 * draws which routes exist on both sides (VPC tables, a TGW blackhole), whether the site's
 * tunnels are up, the hub subnet's network ACL and the endpoint's security-group rules; for
 * every source, flow/'s verdict must be what a real connect() experiences. Bounded: 40 runs.
 */
describe("flow/ agrees with real sockets across peering, TGW, ACLs and sites", () => {
  let srv: TestServer;
  let w: TransitWorld;

  beforeAll(async () => {
    srv = await startTestServer();
    w = await standardWorld(srv, { provider: "555700000001", consumer: "555700000002" });
  }, 120_000);

  afterAll(async () => {
    await srv?.stop();
    await w?.echoServer.close();
  });

  const world = fc.record(hubDraw);

  it("admits exactly the flows decide() admits", async () => {
    const seen = { allowed: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(world, async (d) => {
        applyHubDraw(srv, w, d, "topo");
        for (const [name, from] of [
          ["a", w.spokes.a.host],
          ["b", w.spokes.b.host],
          ["site", w.site.workloadHost],
        ] as const) {
          const verdict = decide(
            srv.state,
            {
              source: { kind: "outside", address: from },
              destination: w.endpointHost,
              port: w.provider.listenerPort,
            },
            srv.dataplane.dataplane.healthView,
          );
          const outcome = await exchange(
            { host: w.endpointHost, port: w.provider.listenerPort },
            from,
            Buffer.from(name),
          );
          seen[verdict.allowed ? "allowed" : "refused"]++;
          expect({ name, allowed: outcome.kind === "data", reason: verdict.reason }).toEqual({
            name,
            allowed: verdict.allowed,
            reason: verdict.reason,
          });
        }
      }),
      { numRuns: 40 },
    );
    // Both answers must be exercised, or the property says little.
    expect(seen.allowed).toBeGreaterThan(3);
    expect(seen.refused).toBeGreaterThan(3);
  }, 120_000);
});
