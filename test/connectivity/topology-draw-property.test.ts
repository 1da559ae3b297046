import {
  AcceptVpcPeeringConnectionCommand,
  CreateCustomerGatewayCommand,
  CreateTransitGatewayCommand,
  CreateTransitGatewayVpcAttachmentCommand,
  CreateVpcEndpointCommand,
  CreateVpcPeeringConnectionCommand,
  CreateVpnConnectionCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import { ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tunnel } from "../../src/cli/connect.js";
import { eniHostAddress } from "../../src/cloud/eni.js";
import type { NetworkAcl, Route, SgRule } from "../../src/cloud/types.js";
import { type Consumer, type Provider, until } from "../dataplane/world.js";
import { ConnectProxyAgent } from "../helpers/connect-proxy-agent.mjs";
import { echoHub, spokeWorkload } from "../helpers/net-world-echo.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import type { Listening } from "../net/sockets.js";

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
  let echoServer: Listening;
  let provider: Provider;
  let hub: Consumer;
  let ec2: EC2Client;
  /** The endpoint interface's private IP: what every source dials (a name-free address). */
  let endpointIp: string;
  const pcx: Record<"a" | "b", string> = { a: "", b: "" };
  let tgw: string;
  let tgwRtb: string;
  let hubRtb: string;
  let hubAcl: string;
  const spokes: Record<"a" | "b", { rtb: string; instanceId: string }> = {
    a: { rtb: "", instanceId: "" },
    b: { rtb: "", instanceId: "" },
  };

  async function peer(vpcId: string): Promise<string> {
    const id = (await ec2.send(new CreateVpcPeeringConnectionCommand({ VpcId: vpcId, PeerVpcId: hub.vpcId })))
      .VpcPeeringConnection!.VpcPeeringConnectionId!;
    const is = (s: string) => () =>
      srv.state.get("vpcPeeringConnection", id)?.status === s ? true : undefined;
    await until(is("pending-acceptance"), "pending");
    await ec2.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }));
    await until(is("active"), "active");
    return id;
  }

  beforeAll(async () => {
    srv = await startTestServer();
    let endpointHost: string;
    ({ echoServer, provider, hub, ec2, endpointHost } = await echoHub(
      srv,
      { provider: "555800000001", consumer: "555800000002" },
      HUB,
    ));
    endpointIp = [...srv.state.all("eni")].find(
      (e) => eniHostAddress(srv.state, e) === endpointHost,
    )!.privateIp;
    const ids: Record<string, { vpcId: string; subnetId: string }> = {};
    for (const [name, cidr] of [
      ["a", SPOKE_A],
      ["b", SPOKE_B],
    ] as const) {
      const w = await spokeWorkload(srv, ec2, cidr);
      spokes[name] = { rtb: w.vpc.mainRouteTable, instanceId: w.instanceId };
      ids[name] = { vpcId: w.vpc.vpcId, subnetId: w.subnetId };
      pcx[name] = await peer(w.vpc.vpcId);
    }
    hubRtb = [...srv.state.all("routeTable")].find(
      (t) => t.vpcId === hub.vpcId && t.associations.some((a) => a.main),
    )!.id;
    hubAcl = [...srv.state.all("networkAcl")].find((n) => n.vpcId === hub.vpcId && n.isDefault)!.id;
    await ec2.send(
      new CreateVpcEndpointCommand({
        VpcId: hub.vpcId,
        ServiceName: "com.amazonaws.us-east-1.s3",
        VpcEndpointType: "Gateway",
        RouteTableIds: [hubRtb],
      }),
    );
    tgw = (await ec2.send(new CreateTransitGatewayCommand({}))).TransitGateway!.TransitGatewayId!;
    await until(
      () => (srv.state.get("transitGateway", tgw)?.state === "available" ? true : undefined),
      "tgw",
    );
    tgwRtb = srv.state.get("transitGateway", tgw)!.options.associationDefaultRouteTableId!;
    for (const { vpcId, subnetId } of [{ vpcId: hub.vpcId, subnetId: hub.subnetId }, ids.a!, ids.b!])
      await ec2.send(
        new CreateTransitGatewayVpcAttachmentCommand({
          TransitGatewayId: tgw,
          VpcId: vpcId,
          SubnetIds: [subnetId],
        }),
      );
    const site = await srv.admin<{ publicIp: string }>("POST", "/_privlink/sites", {
      name: "draw",
      cidr: SITE,
    });
    const cgw = (
      await ec2.send(
        new CreateCustomerGatewayCommand({ Type: "ipsec.1", IpAddress: site.publicIp, BgpAsn: 65000 }),
      )
    ).CustomerGateway!.CustomerGatewayId!;
    await ec2.send(
      new CreateVpnConnectionCommand({ Type: "ipsec.1", CustomerGatewayId: cgw, TransitGatewayId: tgw }),
    );
    await until(
      () =>
        [...srv.state.all("transitGatewayAttachment")].filter((a) => a.state === "available").length === 4
          ? true
          : undefined,
      "four attachments",
    );
    await until(() => (srv.dataplane.dataplane.listenerCount > 0 ? true : undefined), "listener");
  }, 180_000);

  afterAll(async () => {
    await srv?.stop();
    await echoServer?.close();
  });

  const route = (cidr: string, target: Route["target"]): Route => ({
    destinationCidr: cidr,
    target,
    origin: "CreateRoute",
    state: "active",
  });

  function target(via: Via, spoke: "a" | "b"): Route["target"] | undefined {
    if (via === "peering") return { kind: "peering", id: pcx[spoke] };
    return via === "tgw" ? { kind: "transit", id: tgw } : undefined;
  }

  function aclEntries(acl: NetworkAcl, d: Draw): NetworkAcl["entries"] {
    const deny = (egress: boolean, cidr: string) => ({
      ruleNumber: egress ? 60 : 50,
      protocol: "-1",
      ruleAction: "deny" as const,
      egress,
      cidrBlock: cidr,
    });
    const kept = acl.entries.filter((e) => e.ruleNumber !== 50 && e.ruleNumber !== 60);
    return [
      ...kept,
      ...(d.aclInDeny ? [deny(false, d.aclInDeny)] : []),
      ...(d.aclOutDeny ? [deny(true, d.aclOutDeny)] : []),
    ];
  }

  /** Puts the drawn topology in place, in one commit. */
  function apply(d: Draw): void {
    srv.state.transact((tx) => {
      const setRoutes = (rtbId: string, routes: (Route | undefined)[]) => {
        const t = tx.get("routeTable", rtbId)!;
        const drawn = routes.filter((r) => r !== undefined);
        tx.put("routeTable", {
          ...t,
          routes: [
            ...t.routes.filter((r) => r.target.kind === "local" || !DRAWN.has(r.destinationCidr ?? "")),
            ...drawn,
          ],
        });
      };
      const maybeRoute = (cidr: string, t: Route["target"] | undefined) => (t ? route(cidr, t) : undefined);
      for (const s of ["a", "b"] as const)
        setRoutes(spokes[s].rtb, [maybeRoute(HUB, target(d.spokeToHub[s], s))]);
      setRoutes(hubRtb, [
        maybeRoute(SPOKE_A, target(d.hubToSpoke.a, "a")),
        maybeRoute(SPOKE_B, target(d.hubToSpoke.b, "b")),
        d.hubToSite ? route(SITE, { kind: "transit", id: tgw }) : undefined,
      ]);
      const table = tx.get("transitGatewayRouteTable", tgwRtb)!;
      tx.put("transitGatewayRouteTable", {
        ...table,
        staticRoutes: d.tgwBlackholeHub ? [{ destinationCidr: "10.1.1.0/24", blackhole: true }] : [],
      });
      tx.put("site", { ...tx.get("site", "draw")!, tunnelsDown: d.tunnelsDown });
      const acl = tx.get("networkAcl", hubAcl)!;
      tx.put("networkAcl", { ...acl, entries: aclEntries(acl, d) });
      const rules: SgRule[] = d.sg.map((cidr, i) => ({
        ruleId: `sgr-draw${i}`,
        protocol: "tcp",
        fromPort: provider.listenerPort,
        toPort: provider.listenerPort,
        cidrIpv4: cidr,
      }));
      tx.put("securityGroup", { ...tx.get("securityGroup", hub.endpointSg)!, ingress: rules });
    });
  }

  const proxyOf = (workload: string) =>
    srv.admin<{ url: string; host: string; port: number }>("POST", "/_privlink/workloads/proxy", {
      workload,
    });

  /** A real TCP connection through the workload's proxy to the endpoint: bytes echoed, or the refusal. */
  async function connectEndpoint(workload: string): Promise<{ allowed: boolean; reason?: string }> {
    try {
      const socket = await tunnel(await proxyOf(workload), `${endpointIp}:${provider.listenerPort}`);
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
      ["hub", hub.instanceId],
      ["a", spokes.a.instanceId],
      ["b", spokes.b.instanceId],
      ["site", "site:draw"],
    ] as const;
    for (let run = 0; run < RUNS; run++) {
      const d = draw(r);
      apply(d);
      for (const [name, source] of sources) {
        for (const [dest, real] of [
          [`${endpointIp}:${provider.listenerPort}`, () => connectEndpoint(source)],
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
    expect(s3.reason).toContain(`over transit gateway ${tgw}`);
    expect(s3.reason).toContain("endpoint connections cannot be extended out of a VPC");
    expect(await connectEndpoint("site:draw")).toEqual({ allowed: true });
  }, 60_000);
});
