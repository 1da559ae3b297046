import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateRouteCommand,
  CreateTransitGatewayVpcAttachmentCommand,
  DeleteRouteCommand,
  type EC2Client,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eniHostAddress } from "../../src/cloud/eni.js";
import { listNamespaces } from "../../src/net/netns/ip.js";
import { homeTag } from "../../src/net/netns/topology.js";
import { makeVpc, type TestVpc } from "../control-plane/consumer-fixtures.js";
import { until } from "../dataplane/world.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { activePeering, availableTransitGateway, vpnSite } from "../helpers/transit-world.js";
import { namespaceSkipReason } from "./namespace-skip.js";

/**
 * Issue 19: instance-to-instance traffic in namespace mode. Unmodified `nc` (netcat-openbsd)
 * in one instance's namespace dials another instance's private IP, in the same VPC, across a
 * peering or through a transit gateway; the VPC namespaces forward nothing themselves, so every connection is the one flow
 * decision's: routes and security groups admit or refuse it, and a change refuses the next one.
 */
const reason = namespaceSkipReason(["nft", "nc", "python3"]);
if (reason) console.log(`namespace routing tests skipped: ${reason}`);

const PORT = 7000;

/**
 * `nc -l` in a namespace that answers "pong": one connection, what it received and who it came
 * from (nc -v names the peer). `{ host }`: on that address in the host's own namespace instead.
 */
function listen(at: string | { host: string }): {
  child: ChildProcess;
  done: Promise<{ out: string; err: string }>;
} {
  const nc = ["nc", "-l", "-N", "-v", "-w", "10"];
  const [cmd, ...args] =
    typeof at === "string"
      ? ["ip", "netns", "exec", at, ...nc, String(PORT)]
      : [...nc, at.host, String(PORT)];
  const child = spawn(cmd!, args, { stdio: ["pipe", "pipe", "pipe"] });
  child.stdin!.end("pong\n");
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const done = new Promise<{ out: string; err: string }>((resolve) =>
    child.on("close", () => resolve({ out, err })),
  );
  return { child, done };
}

async function listening(ns: string): Promise<void> {
  await until(
    () =>
      execFileSync("ip", ["netns", "exec", ns, "ss", "-ltnH"], { encoding: "utf8" }).includes(`:${PORT} `)
        ? true
        : undefined,
    `nc listening in ${ns}`,
  );
}

/**
 * `echo hello | nc -N` from a namespace: its exit code and what it received. A refused flow is
 * reset right after the handshake (privlink decides once the connection is accepted), so nc may
 * exit 0 having sent into a reset: what tells is that no byte came back.
 */
function send(ns: string, to: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) =>
    execFile(
      "sh",
      ["-c", `echo hello | ip netns exec ${ns} nc -N -w 5 ${to} ${PORT}`],
      { encoding: "utf8", timeout: 20_000 },
      (err, stdout) => resolve({ code: (err as { code?: number } | null)?.code ?? 0, stdout }),
    ),
  );
}

describe.skipIf(reason !== undefined)("namespace mode: instance to instance (same VPC, peered VPCs)", () => {
  const home = mkdtempSync(join(tmpdir(), "privlink-netns-routing-"));
  const tag = homeTag(home);
  let srv: TestServer;
  let ec2: EC2Client;
  let a: TestVpc;
  let b: TestVpc;
  const ns: Record<"a" | "a2" | "b", string> = { a: "", a2: "", b: "" };
  const ip: Record<"a" | "a2" | "b", string> = { a: "", a2: "", b: "" };
  const ingress = (sg: string) => ({
    GroupId: sg,
    IpPermissions: [
      { IpProtocol: "tcp", FromPort: PORT, ToPort: PORT, IpRanges: [{ CidrIp: "10.80.0.0/16" }] },
    ],
  });
  const lastFlow = async () =>
    (await srv.admin<{ flows: { at: string; reason: string }[] }>("GET", "/_privlink/flows")).flows.at(-1);

  /** One instance in the VPC's first subnet. */
  const run = async (vpc: TestVpc, name: string) =>
    (
      await ec2.send(
        new RunInstancesCommand({
          ImageId: "ami-12345678",
          MinCount: 1,
          MaxCount: 1,
          SubnetId: vpc.subnets["us-east-1a"],
          TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "Name", Value: name }] }],
        }),
      )
    ).Instances![0]!;

  beforeAll(async () => {
    srv = await startTestServer({ home, network: "netns" });
    ec2 = srv.ec2();
    a = await makeVpc(ec2, { cidr: "10.80.0.0/16", azs: ["us-east-1a"] });
    b = await makeVpc(ec2, { cidr: "10.81.0.0/16", azs: ["us-east-1a"] });
    for (const [key, vpc] of [
      ["a", a],
      ["a2", a],
      ["b", b],
    ] as const) {
      const i = await run(vpc, `rt-${key}`);
      ip[key] = i.PrivateIpAddress!;
      const reply = await srv.admin<{ namespace: string }>("POST", "/_privlink/workloads/namespace", {
        workload: i.InstanceId!,
      });
      ns[key] = reply.namespace;
    }
    await activePeering(srv, ec2, a.vpcId, b.vpcId);
    await ec2.send(new AuthorizeSecurityGroupIngressCommand(ingress(b.defaultSg)));
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: b.mainRouteTable,
        DestinationCidrBlock: "10.80.0.0/16",
        VpcPeeringConnectionId: srv.state.all("vpcPeeringConnection").next().value!.id,
      }),
    );
  });

  afterAll(async () => {
    await srv?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it("carries nc between two instances of one VPC, the server seeing the client's private IP", async () => {
    const server = listen(ns.a2);
    await listening(ns.a2);
    const client = await send(ns.a, ip.a2);
    const got = await server.done;
    expect(client).toEqual({ code: 0, stdout: "pong\n" });
    expect(got.out).toBe("hello\n");
    expect(got.err).toContain(ip.a);
  });

  it("refuses across the peering while A's route table has no route to B, with the reason", async () => {
    const server = listen(ns.b);
    await listening(ns.b);
    const client = await send(ns.a, ip.b);
    server.child.kill();
    expect((await server.done).out).toBe("");
    expect(client.stdout).toBe("");
    const flow = await lastFlow();
    expect(flow?.at).toBe("namespace");
    expect(flow?.reason).toMatch(/route/);
  });

  it("carries nc across the peering once both sides route, then refuses after a group or route change", async () => {
    const pcx = srv.state.all("vpcPeeringConnection").next().value!.id;
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: a.mainRouteTable,
        DestinationCidrBlock: "10.81.0.0/16",
        VpcPeeringConnectionId: pcx,
      }),
    );
    let server = listen(ns.b);
    await listening(ns.b);
    const ok = await send(ns.a, ip.b);
    const got = await server.done;
    expect(ok).toEqual({ code: 0, stdout: "pong\n" });
    expect(got.out).toBe("hello\n");
    expect(got.err).toContain(ip.a);

    await ec2.send(new RevokeSecurityGroupIngressCommand(ingress(b.defaultSg)));
    server = listen(ns.b);
    await listening(ns.b);
    const denied = await send(ns.a, ip.b);
    expect(denied.stdout).toBe("");
    expect((await lastFlow())?.reason).toMatch(
      new RegExp(`no inbound rule allowing tcp/${PORT} from ${ip.a}`),
    );

    await ec2.send(new AuthorizeSecurityGroupIngressCommand(ingress(b.defaultSg)));
    await ec2.send(
      new DeleteRouteCommand({ RouteTableId: a.mainRouteTable, DestinationCidrBlock: "10.81.0.0/16" }),
    );
    const unrouted = await send(ns.a, ip.b);
    expect(unrouted.stdout).toBe("");
    expect((await lastFlow())?.reason).toMatch(/route/);
    server.child.kill();
    expect((await server.done).out).toBe("");
  });

  it("carries nc through a transit gateway once both VPCs route to it", async () => {
    const tgw = await availableTransitGateway(srv, ec2);
    const c = await makeVpc(ec2, { cidr: "10.82.0.0/16", azs: ["us-east-1a"] });
    const i = await run(c, "rt-c");
    const cNs = (
      await srv.admin<{ namespace: string }>("POST", "/_privlink/workloads/namespace", {
        workload: i.InstanceId!,
      })
    ).namespace;
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: c.defaultSg,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: PORT, ToPort: PORT, IpRanges: [{ CidrIp: "10.80.0.0/16" }] },
        ],
      }),
    );
    for (const vpc of [a, c])
      await ec2.send(
        new CreateTransitGatewayVpcAttachmentCommand({
          TransitGatewayId: tgw,
          VpcId: vpc.vpcId,
          SubnetIds: [vpc.subnets["us-east-1a"]!],
        }),
      );
    await until(
      () =>
        [...srv.state.all("transitGatewayAttachment")].filter((x) => x.state === "available").length === 2
          ? true
          : undefined,
      "2 attachments",
    );
    const server = listen(cNs);
    await listening(cNs);
    const unrouted = await send(ns.a, i.PrivateIpAddress!);
    expect(unrouted.stdout).toBe("");
    expect((await lastFlow())?.reason).toMatch(/route/);

    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: a.mainRouteTable,
        DestinationCidrBlock: "10.82.0.0/16",
        TransitGatewayId: tgw,
      }),
    );
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: c.mainRouteTable,
        DestinationCidrBlock: "10.80.0.0/16",
        TransitGatewayId: tgw,
      }),
    );
    const ok = await send(ns.a, i.PrivateIpAddress!);
    const got = await server.done;
    expect(ok).toEqual({ code: 0, stdout: "pong\n" });
    expect(got.out).toBe("hello\n");
    expect(got.err).toContain(ip.a);
  });

  it("dials an on-premises site behind the transit gateway on its host address, from the instance's host address", async () => {
    // Sites have no namespace: a site's servers listen on its host addresses, in the host's own
    // namespace, as in loopback mode (docs/namespace-mode.md). The flow decision is the same.
    const tgw = await availableTransitGateway(srv, ec2);
    await ec2.send(
      new CreateTransitGatewayVpcAttachmentCommand({
        TransitGatewayId: tgw,
        VpcId: a.vpcId,
        SubnetIds: [a.subnets["us-east-1a"]!],
      }),
    );
    await vpnSite(srv, ec2, { name: "onprem", cidr: "192.168.0.0/16" }, tgw);
    const { sites } = await srv.admin<{ sites: { name: string; workload: string; workloadHost: string }[] }>(
      "GET",
      "/_privlink/sites",
    );
    const site = sites.find((x) => x.name === "onprem")!;
    await until(
      () =>
        [...srv.state.all("transitGatewayAttachment")].filter(
          (x) => x.transitGatewayId === tgw && x.state === "available",
        ).length === 2
          ? true
          : undefined,
      "the VPC and VPN attachments",
    );
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: a.mainRouteTable,
        DestinationCidrBlock: "192.168.0.0/16",
        TransitGatewayId: tgw,
      }),
    );
    const server = listen({ host: site.workloadHost });
    await until(
      () =>
        execFileSync("ss", ["-ltnH"], { encoding: "utf8" }).includes(`${site.workloadHost}:${PORT} `)
          ? true
          : undefined,
      "nc listening on the site's host address",
    );
    const ok = await send(ns.a, site.workload);
    const { out, err } = await server.done;
    expect(ok).toEqual({ code: 0, stdout: "pong\n" });
    expect(out).toBe("hello\n");
    // The site sees the instance's host address (127.S.x.y), not its private IP.
    const eni = [...srv.state.all("eni")].find((e) => e.privateIp === ip.a && e.vpcId === a.vpcId)!;
    const host = eniHostAddress(srv.state, eni)!;
    expect(err).toContain(host);
    expect(err).not.toContain(ip.a);
  });

  it("removes its namespaces when it stops", async () => {
    await srv.stop();
    expect((await listNamespaces()).filter((n) => n.startsWith(`privlink-${tag}-`))).toEqual([]);
  });
});
