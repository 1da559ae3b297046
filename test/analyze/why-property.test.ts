import { connect, type Socket } from "node:net";
import {
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  DescribeNatGatewaysCommand,
  RejectVpcEndpointConnectionsCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WhyResult } from "../../src/analyze/why.js";
import { tunnel } from "../../src/cli/connect.js";
import type { Route, SgRule } from "../../src/cloud/types.js";
import {
  accept,
  addresses,
  type Creds,
  clients,
  exchange,
  makeProvider,
  newAccount,
  type Provider,
  until,
} from "../dataplane/world.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { applyHubDraw, hubDraw, standardWorld, type TransitWorld } from "../helpers/transit-world.js";
import { echo, type Listening, listen } from "../net/sockets.js";

/**
 * One decision, two readers, over random topologies and rule sets: for random security groups
 * on both sides, random default routes (none, an attached or detached internet gateway, a NAT
 * gateway, a blackhole), a route shadowing the endpoints' subnet, endpoints accepted, pending,
 * rejected or to an AWS service, and random ports, `why`'s verdict is what a real connection
 * through the workload's proxy experiences, and a refusal names the same hop with the same words.
 */
describe("why agrees with real connections", () => {
  let srv: TestServer;
  let echoServer: Listening;
  let outside: Listening;
  let provider: Provider;
  let creds: Creds;
  const w = {} as {
    vpcId: string;
    instanceId: string;
    workloadSg: string;
    endpointSg: string;
    table: string;
    igw: string;
    detachedIgw: string;
    nat: string;
    endpoints: Record<"accepted" | "pending" | "rejected" | "aws", string>;
  };

  beforeAll(async () => {
    srv = await startTestServer();
    echoServer = await listen(echo);
    outside = await listen(echo);
    provider = await makeProvider(srv, {
      accountId: "310000000001",
      targets: [{ host: "127.0.0.1", port: echoServer.port }],
      allow: ["310000000002"],
      listenerPort: 7070,
    });
    creds = await newAccount(srv, "310000000002");
    const { ec2 } = clients(srv, creds);
    w.vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.1.0.0/16" }))).Vpc!.VpcId!;
    const subnet = async (cidr: string) =>
      (
        await ec2.send(
          new CreateSubnetCommand({ VpcId: w.vpcId, CidrBlock: cidr, AvailabilityZone: "us-east-1a" }),
        )
      ).Subnet!.SubnetId!;
    const table = async (subnetId: string) => {
      const t = (await ec2.send(new CreateRouteTableCommand({ VpcId: w.vpcId }))).RouteTable!.RouteTableId!;
      await ec2.send(new AssociateRouteTableCommand({ RouteTableId: t, SubnetId: subnetId }));
      return t;
    };
    const work = await subnet("10.1.1.0/24");
    const eps = await subnet("10.1.2.0/24");
    const pub = await subnet("10.1.3.0/24");
    w.table = await table(work);
    const pubTable = await table(pub);
    w.igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    w.detachedIgw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!
      .InternetGatewayId!;
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: w.igw, VpcId: w.vpcId }));
    await ec2.send(
      new CreateRouteCommand({ RouteTableId: pubTable, DestinationCidrBlock: "0.0.0.0/0", GatewayId: w.igw }),
    );
    w.nat = (await ec2.send(new CreateNatGatewayCommand({ SubnetId: pub }))).NatGateway!.NatGatewayId!;
    await until(async () => {
      const n = await ec2.send(new DescribeNatGatewaysCommand({ NatGatewayIds: [w.nat] }));
      return n.NatGateways?.[0]?.State === "available" ? true : undefined;
    }, "NAT gateway");
    const sg = async (name: string) =>
      (await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name, VpcId: w.vpcId })))
        .GroupId!;
    w.workloadSg = await sg("workload");
    w.endpointSg = await sg("endpoint");
    w.instanceId = (
      await ec2.send(
        new RunInstancesCommand({
          ImageId: "ami-12345678",
          MinCount: 1,
          MaxCount: 1,
          SubnetId: work,
          SecurityGroupIds: [w.workloadSg],
        }),
      )
    ).Instances![0]!.InstanceId!;
    const endpoint = async (serviceName: string) =>
      (
        await ec2.send(
          new CreateVpcEndpointCommand({
            VpcEndpointType: "Interface",
            VpcId: w.vpcId,
            ServiceName: serviceName,
            SubnetIds: [eps],
            SecurityGroupIds: [w.endpointSg],
            PrivateDnsEnabled: false,
          }),
        )
      ).VpcEndpoint!.VpcEndpointId!;
    w.endpoints = {
      accepted: await endpoint(provider.serviceName),
      pending: await endpoint(provider.serviceName),
      rejected: await endpoint(provider.serviceName),
      aws: await endpoint("com.amazonaws.us-east-1.secretsmanager"),
    };
    await accept(srv, provider, w.endpoints.accepted);
    await clients(srv, provider.creds).ec2.send(
      new RejectVpcEndpointConnectionsCommand({
        ServiceId: provider.serviceId,
        VpcEndpointIds: [w.endpoints.rejected],
      }),
    );
    await until(
      () =>
        srv.state.get("vpcEndpoint", w.endpoints.accepted)?.state === "available" &&
        srv.state.get("vpcEndpoint", w.endpoints.aws)?.state === "available"
          ? true
          : undefined,
      "endpoints available",
    );
  }, 60_000);

  afterAll(async () => {
    await srv?.stop();
    await echoServer?.close();
    await outside?.close();
  });

  const PEERS = [
    "vpc",
    "work-subnet",
    "endpoint-subnet",
    "any",
    "outside",
    "workload-sg",
    "endpoint-sg",
    "prefix-list",
  ];
  const rule = () =>
    fc.record({
      protocol: fc.constantFrom("-1", "tcp", "udp"),
      from: fc.constantFrom(0, 443, 7000, 7070, 7071),
      span: fc.constantFrom(0, 1, 100, 65535),
      peer: fc.constantFrom(...PEERS),
    });

  function toRule(r: { protocol: string; from: number; span: number; peer: string }, i: number): SgRule {
    const ports =
      r.protocol === "-1"
        ? { fromPort: -1, toPort: -1 }
        : { fromPort: r.from, toPort: Math.min(65535, r.from + r.span) };
    const peers: Record<string, Partial<SgRule>> = {
      vpc: { cidrIpv4: "10.1.0.0/16" },
      "work-subnet": { cidrIpv4: "10.1.1.0/24" },
      "endpoint-subnet": { cidrIpv4: "10.1.2.0/24" },
      any: { cidrIpv4: "0.0.0.0/0" },
      outside: { cidrIpv4: "127.0.0.1/32" },
      "workload-sg": { groupId: w.workloadSg },
      "endpoint-sg": { groupId: w.endpointSg },
      "prefix-list": { prefixListId: "pl-63a5400a" },
    };
    return { ruleId: `sgr-prop${i}`, protocol: r.protocol, ...ports, ...peers[r.peer] };
  }

  function defaultRoute(kind: string): Route[] {
    const route = (target: Route["target"], state: Route["state"] = "active"): Route => ({
      destinationCidr: "0.0.0.0/0",
      target,
      origin: "CreateRoute",
      state,
    });
    if (kind === "igw") return [route({ kind: "gateway", id: w.igw })];
    if (kind === "detached-igw") return [route({ kind: "gateway", id: w.detachedIgw })];
    if (kind === "nat") return [route({ kind: "nat", id: w.nat })];
    if (kind === "blackhole") return [route({ kind: "gateway", id: w.detachedIgw }, "blackhole")];
    return [];
  }

  async function whyOf(dst: string): Promise<WhyResult> {
    return srv.admin<WhyResult>("POST", "/_privlink/why", { source: w.instanceId, destination: dst });
  }

  /** A real connection through the workload's proxy: the echoed payload, or the refusal's words. */
  async function connectAs(authority: string, echoes: boolean): Promise<{ ok: boolean; reason?: string }> {
    const proxy = await srv.admin<{ host: string; port: number }>("POST", "/_privlink/workloads/proxy", {
      workload: w.instanceId,
    });
    try {
      const socket = await tunnel(proxy, authority);
      if (!echoes) {
        socket.destroy();
        return { ok: true };
      }
      const reply = await new Promise<string>((resolve) => {
        let got = "";
        socket.on("data", (c: Buffer) => (got += c.toString()));
        socket.on("close", () => resolve(got));
        socket.on("error", () => resolve(got));
        socket.end("probe");
      });
      return { ok: reply === "probe", reason: reply === "probe" ? undefined : `no echo: '${reply}'` };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  }

  it("holds why's verdict and first refusing hop equal to the connection's", async () => {
    const seen = { allowed: 0, refusedAt: new Set<string>() };
    await fc.assert(
      fc.asyncProperty(
        fc.option(fc.array(rule(), { maxLength: 3 }), { nil: undefined, freq: 2 }),
        fc.option(fc.array(rule(), { maxLength: 3 }), { nil: undefined, freq: 2 }),
        fc.constantFrom("none", "igw", "detached-igw", "nat", "blackhole"),
        fc.boolean(),
        fc.constantFrom("accepted", "pending", "rejected", "aws", "outside"),
        fc.constantFrom(443, 7070, 7071),
        async (ingress, egress, route, shadow, target, port) => {
          srv.state.transact((tx) => {
            const e = tx.get("securityGroup", w.endpointSg)!;
            // Without generated rules (half the runs) the endpoints admit anything from the VPC.
            const fromVpc: SgRule = {
              ruleId: "sgr-propvpc",
              protocol: "-1",
              fromPort: -1,
              toPort: -1,
              cidrIpv4: "10.1.0.0/16",
            };
            tx.put("securityGroup", { ...e, ingress: ingress ? ingress.map(toRule) : [fromVpc] });
            const g = tx.get("securityGroup", w.workloadSg)!;
            const all: SgRule = {
              ruleId: "sgr-propall",
              protocol: "-1",
              fromPort: -1,
              toPort: -1,
              cidrIpv4: "0.0.0.0/0",
            };
            tx.put("securityGroup", {
              ...g,
              egress: egress ? egress.map((r, i) => toRule(r, 10 + i)) : [all],
            });
            const t = tx.get("routeTable", w.table)!;
            const local = t.routes.filter((r) => r.target.kind === "local");
            const shadowRoute: Route = {
              destinationCidr: "10.1.2.0/24",
              target: { kind: "nat", id: w.nat },
              origin: "CreateRoute",
              state: "active",
            };
            tx.put("routeTable", {
              ...t,
              routes: [...local, ...defaultRoute(route), ...(shadow ? [shadowRoute] : [])],
            });
          });
          const outsidePort = outside.port;
          const dst =
            target === "outside"
              ? `127.0.0.1:${outsidePort}`
              : `${w.endpoints[target as "accepted"]}:${port}`;
          const verdict = await whyOf(dst);
          const authority =
            target === "outside"
              ? dst
              : `${verdict.destination.privateIp ?? verdict.destination.address}:${port}`;
          const echoes = target === "outside" || target === "accepted";
          const outcome = await connectAs(authority, echoes);
          const refused = verdict.refusedAt === undefined ? undefined : verdict.hops[verdict.refusedAt]!;
          expect({ dst, allowed: outcome.ok, reason: outcome.reason }).toEqual({
            dst,
            allowed: verdict.allowed,
            reason: refused?.detail,
          });
          if (verdict.allowed) seen.allowed++;
          else {
            seen.refusedAt.add(refused!.kind);
            expect(refused!.code).toMatch(/^[A-Z0-9_]+$/);
          }
        },
      ),
      {
        numRuns: 150,
        // One run per refusing hop whatever the seed: (ingress, egress, route, shadow, target, port).
        examples: [
          [undefined, undefined, "none", false, "accepted", 7071], // no NLB listener on 7071
          [undefined, undefined, "none", false, "pending", 7070], // acceptance
          [[], undefined, "none", false, "accepted", 7070], // endpoint SG admits nothing
          [undefined, [], "none", false, "accepted", 7070], // workload SG lets nothing out
          [undefined, undefined, "none", false, "outside", 7070], // no route out of the VPC
        ],
      },
    );
    // The generator must reach both answers and refusals at many different hops.
    expect(seen.allowed).toBeGreaterThan(5);
    expect([...seen.refusedAt].sort()).toEqual(
      expect.arrayContaining([
        "acceptance",
        "destination-sg-ingress",
        "nlb-listener",
        "route",
        "source-sg-egress",
      ]),
    );
  }, 120_000);
});

/**
 * Beyond one VPC, against the data plane's own record: a hub VPC's interface endpoint, spoke A
 * over a peering, spoke B and an on-premises site (VPN attachment) over a transit gateway. Each
 * run draws the routes on every side (and a TGW blackhole), the site's tunnels, a deny in the hub
 * subnet's network ACL, the endpoint's security-group rules, how many connections are already
 * open through the endpoint (its listener's limit is 2), and the port. For every source, `why`'s
 * verdict is what a real connection from the source's host address gets, and a refusal's reason
 * is the one the endpoint listener records in its flow events. Seeded and bounded.
 */
describe("why agrees with the data plane across peering, TGW, ACLs, sites and the listener", () => {
  const LIMIT = 2;
  let srv: TestServer;
  let t: TransitWorld;
  let hubWorkload: string;

  beforeAll(async () => {
    srv = await startTestServer({ maxConnectionsPerEndpoint: LIMIT });
    t = await standardWorld(srv, { provider: "320000000001", consumer: "320000000002" });
    hubWorkload = addresses(srv, t.hub).workload;
  }, 120_000);

  afterAll(async () => {
    await srv?.stop();
    await t?.echoServer.close();
  });

  const world = fc.record({ ...hubDraw, held: fc.constantFrom(0, 0, 1, LIMIT) });

  type Draw = typeof world extends fc.Arbitrary<infer T> ? T : never;

  // The hub's own workload (it holds connections open) is always admitted.
  const apply = (w: Draw) => applyHubDraw(srv, t, w, "whytopo", ["10.1.0.0/16"]);

  /** Connections from the hub's workload that stay open: the endpoint listener counts them. */
  async function holdOpen(n: number): Promise<Socket[]> {
    const held: Socket[] = [];
    for (let i = 0; i < n; i++) {
      const socket = connect({
        host: t.endpointHost,
        port: t.provider.listenerPort,
        localAddress: hubWorkload,
        allowHalfOpen: true,
      });
      held.push(socket);
      await new Promise((resolve, reject) => {
        socket.once("error", (e) =>
          reject(new Error(`${e.message}: ${srv.dataplane.dataplane.events.list().at(-1)?.reason}`)),
        );
        socket.once("connect", () => socket.write("?"));
        socket.once("data", resolve);
      });
    }
    return held;
  }

  async function released(): Promise<void> {
    await until(
      () => (srv.dataplane.dataplane.listenerView.openConnections(t.hub.endpointId) === 0 ? true : undefined),
      "held connections closed",
    );
  }

  it("holds why's verdict and refusing hop's reason equal to the data plane's", async () => {
    const seen = { allowed: 0, refusedAt: new Set<string>() };
    let lastEvent = 0;
    await fc.assert(
      fc.asyncProperty(world, async (w) => {
        apply(w);
        // Admitted flows of the previous run may still be closing: start from an idle listener.
        await released();
        const held = await holdOpen(w.held);
        try {
          for (const [name, source, from] of [
            ["a", t.spokes.a.instanceId, t.spokes.a.host],
            ["b", t.spokes.b.instanceId, t.spokes.b.host],
            ["site", "site:prop", t.site.workloadHost],
          ] as const) {
            const verdict = await srv.admin<WhyResult>("POST", "/_privlink/why", {
              source,
              destination: `${t.endpointHost}:${t.provider.listenerPort}`,
            });
            const outcome = await exchange(
              { host: t.endpointHost, port: t.provider.listenerPort },
              from,
              Buffer.from(name),
            );
            const events = srv.dataplane.dataplane.events.list(lastEvent);
            lastEvent = events.at(-1)?.id ?? lastEvent;
            const refused = verdict.refusedAt === undefined ? undefined : verdict.hops[verdict.refusedAt]!;
            expect({ name, allowed: outcome.kind === "data", reason: events.at(-1)?.reason }).toEqual({
              name,
              allowed: verdict.allowed,
              reason: refused?.detail,
            });
            if (verdict.allowed) seen.allowed++;
            else seen.refusedAt.add(refused!.kind);
          }
        } finally {
          for (const s of held) s.destroy();
        }
      }),
      { numRuns: 40 },
    );
    expect(seen.allowed).toBeGreaterThan(3);
    expect([...seen.refusedAt].sort()).toEqual(
      expect.arrayContaining(["destination-sg-ingress", "endpoint-listener", "route"]),
    );
  }, 240_000);
});
