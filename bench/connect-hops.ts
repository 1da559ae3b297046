/**
 * Issue 10: connection set-up through a VPC peering and through a transit gateway, beside a
 * same-VPC connection in the same run. One privlink process; a consumer VPC holds the interface
 * endpoint and a workload (the baseline); spoke A reaches it over a peering, spoke B through a
 * TGW. Each sample is connect() from the workload's host address until the first echoed byte
 * (flow admission, NLB target choice, upstream dial). Cases interleave so that noise hits them
 * alike; bounded in count and time.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import {
  AcceptVpcPeeringConnectionCommand,
  CreateRouteCommand,
  CreateSubnetCommand,
  CreateTransitGatewayCommand,
  CreateTransitGatewayVpcAttachmentCommand,
  CreateVpcCommand,
  CreateVpcPeeringConnectionCommand,
  EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { eniHostAddress } from "../src/cloud/eni.js";
import { startPrivlink } from "../src/privlink.js";
import { buildWorld } from "./endpoint.js";
import { percentile } from "./measure.js";

const CONSUMER = "100000000012";
const PORT = 9003;

function echoServer(): Promise<Server> {
  const s = createServer({ allowHalfOpen: true }, (c) => {
    c.on("error", () => {}); // the client resets once it has its byte
    c.pipe(c);
  });
  return new Promise((r) => s.listen(0, "127.0.0.1", () => r(s)));
}

async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out building the bench world");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** One connection: connect, send a byte, wait for it back, close. Microseconds. */
function once(host: string, from: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const s = connect({ host, port: PORT, localAddress: from, allowHalfOpen: true });
    s.once("data", () => {
      const us = (performance.now() - t0) * 1000;
      s.destroy();
      resolve(us);
    });
    s.on("error", reject);
    s.on("connect", () => s.write("x"));
  });
}

export async function benchConnectHops(opts: { samples?: number; seconds?: number } = {}) {
  const samples = opts.samples ?? 400;
  const deadline = performance.now() + (opts.seconds ?? 20) * 1000;
  const home = mkdtempSync(join(tmpdir(), "privlink-bench-hops-"));
  const echo = await echoServer();
  const p = await startPrivlink({
    port: 0,
    home,
    auth: "open",
    slots: { min: 236, max: 240 },
    publicDns: "127.0.253.23",
  });
  try {
    const port = (echo.address() as { port: number }).port;
    const world = await buildWorld(p, {
      targets: [{ name: "echo", port: PORT, targetPort: port }],
      consumerSubnets: 1,
    });
    await until(() => p.state.get("vpcEndpoint", world.endpointId)?.state === "available");
    const ec2 = new EC2Client({
      endpoint: p.url,
      region: "us-east-1",
      credentials: { accessKeyId: CONSUMER, secretAccessKey: "x" },
      maxAttempts: 1,
    });
    const hostOf = (eniId: string) => eniHostAddress(p.state, p.state.get("eni", eniId)!)!;
    const mainRtb = (vpcId: string) =>
      [...p.state.all("routeTable")].find((t) => t.vpcId === vpcId && t.associations.some((a) => a.main))!.id;
    const spoke = async (cidr: string) => {
      const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc!.VpcId!;
      const subnetId = (
        await ec2.send(
          new CreateSubnetCommand({
            VpcId: vpcId,
            CidrBlock: cidr.replace(".0.0/16", ".1.0/24"),
            AvailabilityZone: "us-east-1a",
          }),
        )
      ).Subnet!.SubnetId!;
      const i = (
        await ec2.send(
          new RunInstancesCommand({ ImageId: "ami-12345678", MinCount: 1, MaxCount: 1, SubnetId: subnetId }),
        )
      ).Instances![0]!;
      return { vpcId, subnetId, host: hostOf(i.NetworkInterfaces![0]!.NetworkInterfaceId!) };
    };
    const a = await spoke("10.20.0.0/16");
    const b = await spoke("10.30.0.0/16");
    const hubRtb = mainRtb(world.consumerVpc);
    const pcx = (
      await ec2.send(new CreateVpcPeeringConnectionCommand({ VpcId: a.vpcId, PeerVpcId: world.consumerVpc }))
    ).VpcPeeringConnection!.VpcPeeringConnectionId!;
    await until(() => p.state.get("vpcPeeringConnection", pcx)?.status === "pending-acceptance");
    await ec2.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: mainRtb(a.vpcId),
        DestinationCidrBlock: "10.1.0.0/16",
        VpcPeeringConnectionId: pcx,
      }),
    );
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: hubRtb,
        DestinationCidrBlock: "10.20.0.0/16",
        VpcPeeringConnectionId: pcx,
      }),
    );
    const tgw = (await ec2.send(new CreateTransitGatewayCommand({}))).TransitGateway!.TransitGatewayId!;
    await until(() => p.state.get("transitGateway", tgw)?.state === "available");
    for (const [vpcId, subnetId] of [
      [world.consumerVpc, world.consumerSubnets[0]!],
      [b.vpcId, b.subnetId],
    ])
      await ec2.send(
        new CreateTransitGatewayVpcAttachmentCommand({
          TransitGatewayId: tgw,
          VpcId: vpcId,
          SubnetIds: [subnetId],
        }),
      );
    await until(
      () => [...p.state.all("transitGatewayAttachment")].filter((x) => x.state === "available").length === 2,
    );
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: mainRtb(b.vpcId),
        DestinationCidrBlock: "10.1.0.0/16",
        TransitGatewayId: tgw,
      }),
    );
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: hubRtb,
        DestinationCidrBlock: "10.30.0.0/16",
        TransitGatewayId: tgw,
      }),
    );
    await until(() => p.state.get("vpcPeeringConnection", pcx)?.status === "active");

    const cases = [
      { case: "same VPC", from: world.workloadHost },
      { case: "spoke over a peering", from: a.host },
      { case: "spoke through a TGW", from: b.host },
    ];
    const host = world.endpointHosts[0]!;
    for (const c of cases) await once(host, c.from); // warm: first decisions, first dials
    const times: number[][] = cases.map(() => []);
    for (let n = 0; n < samples && performance.now() < deadline; n++)
      for (const [i, c] of cases.entries()) times[i]!.push(await once(host, c.from));
    const rows = cases.map((c, i) => {
      const t = times[i]!.sort((x, y) => x - y);
      return { case: c.case, samples: t.length, medianUs: percentile(t, 50), p99Us: percentile(t, 99) };
    });
    const base = rows[0]!.medianUs;
    return rows.map((r) => ({ ...r, vsSameVpc: r.medianUs / base }));
  } finally {
    await p.close();
    echo.close();
    rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.table(await benchConnectHops());
