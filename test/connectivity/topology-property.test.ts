import {
  AcceptVpcPeeringConnectionCommand,
  CreateCustomerGatewayCommand,
  CreateTransitGatewayCommand,
  CreateTransitGatewayVpcAttachmentCommand,
  CreateVpcPeeringConnectionCommand,
  CreateVpnConnectionCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Route, SgRule } from "../../src/cloud/types.js";
import { decide } from "../../src/flow/index.js";
import { type Consumer, exchange, type Provider, until } from "../dataplane/world.js";
import { echoHub, spokeWorkload } from "../helpers/net-world-echo.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import type { Listening } from "../net/sockets.js";

/**
 * One decision, two readers, beyond one VPC: a hub VPC's interface endpoint, spoke A over a
 * peering, spoke B and an on-premises site (VPN attachment) over a transit gateway. Each run
 * draws which routes exist on both sides (VPC tables, a TGW blackhole), whether the site's
 * tunnels are up, the hub subnet's network ACL and the endpoint's security-group rules; for
 * every source, flow/'s verdict must be what a real connect() experiences. Bounded: 40 runs.
 */
describe("flow/ agrees with real sockets across peering, TGW, ACLs and sites", () => {
  let srv: TestServer;
  let echoServer: Listening;
  let provider: Provider;
  let hub: Consumer;
  let ec2: EC2Client;
  let endpointHost: string;
  let pcx: string;
  let tgw: string;
  let tgwRtb: string;
  let hubRtb: string;
  let hubAcl: string;
  const spokes: Record<string, { rtb: string; host: string }> = {};
  let siteHost: string;

  beforeAll(async () => {
    srv = await startTestServer();
    ({ echoServer, provider, hub, ec2, endpointHost } = await echoHub(
      srv,
      { provider: "555700000001", consumer: "555700000002" },
      "10.1.0.0/16",
    ));
    const ids: Record<string, { vpcId: string; subnetId: string }> = {};
    for (const [name, cidr] of [
      ["a", "10.20.0.0/16"],
      ["b", "10.30.0.0/16"],
    ] as const) {
      const w = await spokeWorkload(srv, ec2, cidr);
      spokes[name] = { rtb: w.vpc.mainRouteTable, host: w.host };
      ids[name] = { vpcId: w.vpc.vpcId, subnetId: w.subnetId };
    }
    hubRtb = [...srv.state.all("routeTable")].find(
      (t) => t.vpcId === hub.vpcId && t.associations.some((a) => a.main),
    )!.id;
    hubAcl = [...srv.state.all("networkAcl")].find((n) => n.vpcId === hub.vpcId && n.isDefault)!.id;
    pcx = (
      await ec2.send(new CreateVpcPeeringConnectionCommand({ VpcId: ids.a!.vpcId, PeerVpcId: hub.vpcId }))
    ).VpcPeeringConnection!.VpcPeeringConnectionId!;
    await until(
      () => (srv.state.get("vpcPeeringConnection", pcx)?.status === "pending-acceptance" ? true : undefined),
      "pending",
    );
    await ec2.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
    await until(
      () => (srv.state.get("vpcPeeringConnection", pcx)?.status === "active" ? true : undefined),
      "active",
    );
    tgw = (await ec2.send(new CreateTransitGatewayCommand({}))).TransitGateway!.TransitGatewayId!;
    await until(
      () => (srv.state.get("transitGateway", tgw)?.state === "available" ? true : undefined),
      "tgw",
    );
    tgwRtb = srv.state.get("transitGateway", tgw)!.options.associationDefaultRouteTableId!;
    for (const [vpcId, subnetId] of [
      [hub.vpcId, hub.subnetId],
      [ids.b!.vpcId, ids.b!.subnetId],
    ])
      await ec2.send(
        new CreateTransitGatewayVpcAttachmentCommand({
          TransitGatewayId: tgw,
          VpcId: vpcId,
          SubnetIds: [subnetId!],
        }),
      );
    const site = await srv.admin<{ publicIp: string; workloadHost: string }>("POST", "/_privlink/sites", {
      name: "prop",
      cidr: "192.168.0.0/16",
    });
    siteHost = site.workloadHost;
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
        [...srv.state.all("transitGatewayAttachment")].filter((a) => a.state === "available").length === 3
          ? true
          : undefined,
      "three attachments",
    );
    await until(() => (srv.dataplane.dataplane.listenerCount > 0 ? true : undefined), "listener");
  }, 120_000);

  afterAll(async () => {
    await srv?.stop();
    await echoServer?.close();
  });

  const DRAWN = new Set(["10.1.0.0/16", "10.20.0.0/16", "10.30.0.0/16", "192.168.0.0/16"]);
  const route = (cidr: string, target: Route["target"]): Route => ({
    destinationCidr: cidr,
    target,
    origin: "CreateRoute",
    state: "active",
  });

  function setRoutes(
    rtbId: string,
    routes: Route[],
  ): (tx: Parameters<Parameters<TestServer["state"]["transact"]>[0]>[0]) => void {
    return (tx) => {
      const t = tx.get("routeTable", rtbId)!;
      tx.put("routeTable", {
        ...t,
        routes: [...t.routes.filter((r) => !DRAWN.has(r.destinationCidr ?? "")), ...routes],
      });
    };
  }

  const world = fc.record({
    aToHub: fc.boolean(),
    hubToA: fc.boolean(),
    bToHub: fc.boolean(),
    hubToB: fc.boolean(),
    hubToSite: fc.boolean(),
    tgwBlackhole: fc.boolean(),
    tunnelsDown: fc.boolean(),
    aclDenies: fc.constantFrom("none", "10.20.0.0/16", "10.30.0.0/16", "192.168.0.0/16"),
    sg: fc.subarray(["10.20.0.0/16", "10.30.0.0/16", "192.168.0.0/16", "10.0.0.0/8"]),
  });

  it("admits exactly the flows decide() admits", async () => {
    const seen = { allowed: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(world, async (w) => {
        srv.state.transact((tx) => {
          const p = { kind: "peering", id: pcx } as const;
          const t = { kind: "transit", id: tgw } as const;
          setRoutes(spokes.a!.rtb, w.aToHub ? [route("10.1.0.0/16", p)] : [])(tx);
          setRoutes(spokes.b!.rtb, w.bToHub ? [route("10.1.0.0/16", t)] : [])(tx);
          setRoutes(hubRtb, [
            ...(w.hubToA ? [route("10.20.0.0/16", p)] : []),
            ...(w.hubToB ? [route("10.30.0.0/16", t)] : []),
            ...(w.hubToSite ? [route("192.168.0.0/16", t)] : []),
          ])(tx);
          const table = tx.get("transitGatewayRouteTable", tgwRtb)!;
          tx.put("transitGatewayRouteTable", {
            ...table,
            staticRoutes: w.tgwBlackhole ? [{ destinationCidr: "10.1.1.0/24", blackhole: true }] : [],
          });
          const site = tx.get("site", "prop")!;
          tx.put("site", { ...site, tunnelsDown: w.tunnelsDown });
          const acl = tx.get("networkAcl", hubAcl)!;
          const deny =
            w.aclDenies === "none"
              ? []
              : [
                  {
                    ruleNumber: 50,
                    protocol: "-1",
                    ruleAction: "deny" as const,
                    egress: false,
                    cidrBlock: w.aclDenies,
                  },
                ];
          tx.put("networkAcl", {
            ...acl,
            entries: [...acl.entries.filter((e) => e.ruleNumber !== 50), ...deny],
          });
          const sg = tx.get("securityGroup", hub.endpointSg)!;
          const rules: SgRule[] = w.sg.map((cidr, i) => ({
            ruleId: `sgr-topo${i}`,
            protocol: "tcp",
            fromPort: provider.listenerPort,
            toPort: provider.listenerPort,
            cidrIpv4: cidr,
          }));
          tx.put("securityGroup", { ...sg, ingress: rules });
        });
        for (const [name, from] of [
          ["a", spokes.a!.host],
          ["b", spokes.b!.host],
          ["site", siteHost],
        ] as const) {
          const verdict = decide(
            srv.state,
            {
              source: { kind: "outside", address: from },
              destination: endpointHost,
              port: provider.listenerPort,
            },
            srv.dataplane.dataplane.healthView,
          );
          const outcome = await exchange(
            { host: endpointHost, port: provider.listenerPort },
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
