import { CreateVpcEndpointCommand } from "@aws-sdk/client-ec2";
import { ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tunnel } from "../../src/cli/connect.js";
import { eniHostAddress } from "../../src/cloud/eni.js";
import type { Route } from "../../src/cloud/types.js";
import { ConnectProxyAgent } from "../helpers/connect-proxy-agent.mjs";
import { startTestServer, type TestServer } from "../helpers/server.js";
import {
  setAclDenies,
  setDrawnRoutes,
  setEndpointIngress,
  setTransit,
  staticRoute,
  type TransitWorld,
  transitWorld,
} from "../helpers/transit-world.js";

/**
 * One decision, two readers, over drawn topologies: a hub VPC with an interface endpoint and an
 * S3 gateway endpoint, two spokes that may reach it over a peering or a transit gateway, and an
 * on-premises site on a VPN attachment of that TGW. Each run draws, from a seeded PRNG (fixed
 * seed, so a failure replays), which routes exist in every VPC table and the TGW's, whether the
 * site's tunnels are up, the hub subnet's network ACL (both directions) and the endpoint's
 * security-group rules. Then every source (hub, spokes, site) probes both destinations, and
 * `privlink why` (POST /_privlink/why) must say exactly what a real connection through the
 * workload's proxy (`privlink connect`'s path, the SDK's for S3) experiences: allowed, or refused
 * with the same reason.
 */

const RUNS = 30;
const SEED = 20261206;

/** mulberry32: a small seeded PRNG, so the runs are the same on every machine. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HUB = "10.1.0.0/16";
const SPOKE_A = "10.20.0.0/16";
const SPOKE_B = "10.30.0.0/16";
const SITE = "192.168.0.0/16";
const DRAWN = new Set([HUB, SPOKE_A, SPOKE_B, SITE]);

type Via = "none" | "peering" | "tgw";

interface Draw {
  spokeToHub: Record<"a" | "b", Via>;
  hubToSpoke: Record<"a" | "b", Via>;
  hubToSite: boolean;
  tgwBlackholeHub: boolean;
  tunnelsDown: boolean;
  aclInDeny?: string;
  aclOutDeny?: string;
  sg: string[];
}

function draw(r: () => number): Draw {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const vias: Via[] = ["none", "peering", "tgw", "tgw"];
  const maybe = (p: number, v: string) => (r() < p ? v : undefined);
  return {
    spokeToHub: { a: pick(vias), b: pick(vias) },
    hubToSpoke: { a: pick(vias), b: pick(vias) },
    hubToSite: r() < 0.7,
    tgwBlackholeHub: r() < 0.2,
    tunnelsDown: r() < 0.2,
    aclInDeny: maybe(0.3, pick([SPOKE_A, SPOKE_B, SITE])),
    aclOutDeny: maybe(0.2, pick([SPOKE_A, SPOKE_B, SITE])),
    sg: [SPOKE_A, SPOKE_B, SITE, HUB].filter(() => r() < 0.75),
  };
}

describe("privlink why agrees with real connections over drawn topologies", () => {
  let srv: TestServer;
  let w: TransitWorld;
  /** The endpoint interface's private IP: what every source dials (a name-free address). */
  let endpointIp: string;

  beforeAll(async () => {
    srv = await startTestServer();
    w = await transitWorld(srv, {
      accounts: { provider: "555800000001", consumer: "555800000002" },
      hubCidr: HUB,
      spokeCidrs: { a: SPOKE_A, b: SPOKE_B },
      peered: ["a", "b"],
      attached: ["a", "b"],
      site: { name: "draw", cidr: SITE },
    });
    endpointIp = [...srv.state.all("eni")].find(
      (e) => eniHostAddress(srv.state, e) === w.endpointHost,
    )!.privateIp;
    await w.ec2.send(
      new CreateVpcEndpointCommand({
        VpcId: w.hub.vpcId,
        ServiceName: "com.amazonaws.us-east-1.s3",
        VpcEndpointType: "Gateway",
        RouteTableIds: [w.hubRtb],
      }),
    );
  }, 180_000);

  afterAll(async () => {
    await srv?.stop();
    await w?.echoServer.close();
  });

  function target(via: Via, spoke: "a" | "b"): Route["target"] | undefined {
    if (via === "peering") return { kind: "peering", id: w.pcx[spoke]! };
    return via === "tgw" ? { kind: "transit", id: w.tgw } : undefined;
  }

  /** Puts the drawn topology in place, in one commit. */
  function apply(d: Draw): void {
    srv.state.transact((tx) => {
      const routes = (...rs: (Route | undefined)[]) => rs.filter((r) => r !== undefined);
      const maybeRoute = (cidr: string, t: Route["target"] | undefined) =>
        t ? staticRoute(cidr, t) : undefined;
      for (const s of ["a", "b"] as const)
        setDrawnRoutes(tx, w.spokes[s].rtb, DRAWN, routes(maybeRoute(HUB, target(d.spokeToHub[s], s))));
      setDrawnRoutes(
        tx,
        w.hubRtb,
        DRAWN,
        routes(
          maybeRoute(SPOKE_A, target(d.hubToSpoke.a, "a")),
          maybeRoute(SPOKE_B, target(d.hubToSpoke.b, "b")),
          d.hubToSite ? staticRoute(SITE, { kind: "transit", id: w.tgw }) : undefined,
        ),
      );
      setTransit(tx, w, "draw", d.tunnelsDown, d.tgwBlackholeHub ? "10.1.1.0/24" : undefined);
      setAclDenies(tx, w.hubAcl, d.aclInDeny, d.aclOutDeny);
      setEndpointIngress(tx, w.hub.endpointSg, w.provider.listenerPort, d.sg, "draw");
    });
  }

  const proxyOf = (workload: string) =>
    srv.admin<{ url: string; host: string; port: number }>("POST", "/_privlink/workloads/proxy", {
      workload,
    });

  /** A real TCP connection through the workload's proxy to the endpoint: bytes echoed, or the refusal. */
  async function connectEndpoint(workload: string): Promise<{ allowed: boolean; reason?: string }> {
    try {
      const socket = await tunnel(await proxyOf(workload), `${endpointIp}:${w.provider.listenerPort}`);
      const echoed = await new Promise<string>((resolve) => {
        let got = "";
        socket.on("data", (c: Buffer) => {
          got += c.toString();
        });
        socket.on("end", () => resolve(got));
        socket.on("error", () => resolve(got));
        socket.end("ping");
      });
      return echoed === "ping"
        ? { allowed: true }
        : { allowed: false, reason: `reset after connect (${echoed})` };
    } catch (err) {
      return { allowed: false, reason: (err as Error).message };
    }
  }

  /** S3 through the gateway endpoint, as the SDK v3 does it from the workload. */
  async function listBuckets(workload: string): Promise<{ allowed: boolean; reason?: string }> {
    const { url } = await proxyOf(workload);
    const s3 = new S3Client({
      region: "us-east-1",
      credentials: srv.credentials,
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ httpsAgent: new ConnectProxyAgent(url, { ca: srv.ca.certPem }) }),
    });
    try {
      await s3.send(new ListBucketsCommand({}));
      return { allowed: true };
    } catch (err) {
      return { allowed: false, reason: (err as Error).message };
    } finally {
      s3.destroy();
    }
  }

  const why = (source: string, destination: string) =>
    srv.admin<{ allowed: boolean; reason?: string }>("POST", "/_privlink/why", { source, destination });

  it(`admits exactly what privlink why admits, over ${RUNS} drawn topologies`, async () => {
    const r = prng(SEED);
    const seen = { allowed: 0, refused: 0 };
    const allowedFrom = new Set<string>();
    const sources = [
      ["hub", w.hub.instanceId],
      ["a", w.spokes.a.instanceId],
      ["b", w.spokes.b.instanceId],
      ["site", "site:draw"],
    ] as const;
    for (let run = 0; run < RUNS; run++) {
      const d = draw(r);
      apply(d);
      for (const [name, source] of sources) {
        for (const [dest, real] of [
          [`${endpointIp}:${w.provider.listenerPort}`, () => connectEndpoint(source)],
          ["s3.us-east-1.amazonaws.com:443", () => listBuckets(source)],
        ] as const) {
          const verdict = await why(source, dest);
          const outcome = await real();
          seen[verdict.allowed ? "allowed" : "refused"]++;
          if (verdict.allowed) allowedFrom.add(name);
          const context = { run, draw: d, name, dest };
          expect({ ...context, allowed: outcome.allowed }).toEqual({ ...context, allowed: verdict.allowed });
          if (!verdict.allowed) expect(outcome.reason, JSON.stringify(context)).toContain(verdict.reason);
        }
      }
    }
    // Both answers must be exercised, or the property says little.
    expect(seen.allowed).toBeGreaterThan(RUNS);
    expect(seen.refused).toBeGreaterThan(RUNS);
    // Every source got through in some topology: the site and the spokes too, not only the hub.
    expect([...allowedFrom].sort()).toEqual(["a", "b", "hub", "site"]);
  }, 600_000);

  it("a gateway endpoint reached from the site over the TGW is refused naming the TGW; the interface endpoint works", async () => {
    apply({
      spokeToHub: { a: "none", b: "none" },
      hubToSpoke: { a: "none", b: "none" },
      hubToSite: true,
      tgwBlackholeHub: false,
      tunnelsDown: false,
      sg: [SITE],
    });
    const s3 = await listBuckets("site:draw");
    expect(s3.allowed).toBe(false);
    expect(s3.reason).toContain(`over transit gateway ${w.tgw}`);
    expect(s3.reason).toContain("endpoint connections cannot be extended out of a VPC");
    expect(await connectEndpoint("site:draw")).toEqual({ allowed: true });
  }, 60_000);
});
