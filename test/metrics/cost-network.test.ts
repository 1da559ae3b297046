import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bill, GB } from "../../src/billing/cost.js";
import { PRICES, withOverrides } from "../../src/billing/prices.js";
import { systemRuntime } from "../../src/cloud/runtime.js";
import { until } from "../dataplane/world.js";
import { jsonWire } from "../helpers/json-wire.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { shiftedRuntime } from "./world.js";

describe("cost lines for transit gateways, VPN and inter-AZ data (the model)", () => {
  it("prices attachment hours and bytes, VPN hours and inter-AZ bytes as computed by hand", () => {
    const b = bill(
      {
        since: "2026-12-05T00:00:00Z",
        until: "2026-12-05T03:00:00Z",
        endpoints: [],
        natGateways: [],
        tgwAttachments: [
          {
            id: "tgw-attach-1",
            transitGatewayId: "tgw-1",
            accountId: "111111111111",
            region: "us-east-1",
            resource: "vpc vpc-1",
            hours: 3,
            bytes: 5 * GB,
          },
        ],
        vpnConnections: [{ id: "vpn-1", accountId: "222222222222", region: "us-east-1", hours: 2 }],
        interAz: [{ resource: "eni-1", accountId: "111111111111", region: "us-east-1", bytes: 2 * GB }],
      },
      PRICES,
    );
    // 3 h x $0.05 + 5 GB x $0.02 = $0.25; 2 h x $0.05 = $0.10; 2 GB x $0.01 = $0.02.
    expect(b.lines.map((l) => [l.resource, l.usageType, l.quantity, l.cost, l.payer])).toEqual([
      ["tgw-attach-1", "TransitGateway-Hours", 3, 0.15, "111111111111"],
      ["tgw-attach-1", "TransitGateway-Bytes", 5, 0.1, "111111111111"],
      ["vpn-1", "VPN-Usage-Hours", 2, 0.1, "222222222222"],
      ["eni-1", "DataTransfer-Regional-Bytes", 2, 0.02, "111111111111"],
    ]);
    expect(b.byPayer).toEqual({ "111111111111": 0.27, "222222222222": 0.1 });
  });

  it("prices Resolver endpoint ENI-hours and Direct Connect port-hours by bandwidth; --prices overrides them", () => {
    const usage = {
      since: "2026-12-05T00:00:00Z",
      until: "2026-12-05T03:00:00Z",
      endpoints: [],
      natGateways: [],
      resolverEndpoints: [
        { id: "rslvr-out-1", accountId: "111111111111", region: "us-east-1", enis: 2, hours: 3 },
      ],
      dxConnections: [
        { id: "dxcon-1", accountId: "111111111111", region: "us-east-1", bandwidth: "1Gbps", hours: 3 },
        { id: "dxcon-2", accountId: "111111111111", region: "us-east-1", bandwidth: "100Gbps", hours: 1 },
        // No price for hosted-connection speeds: no line rather than a made-up one.
        { id: "dxcon-3", accountId: "111111111111", region: "us-east-1", bandwidth: "50Mbps", hours: 3 },
      ],
    };
    // 2 ENI x 3 h x $0.125 = $0.75; 3 h x $0.30 = $0.90; 1 h x $22.50 = $22.50.
    const b = bill(usage, PRICES);
    expect(b.lines.map((l) => [l.resource, l.usageType, l.quantity, l.rate, l.cost])).toEqual([
      ["rslvr-out-1", "Route53-Resolver-ENI-Hours", 6, 0.125, 0.75],
      ["dxcon-1", "DirectConnect-Port-Hours", 3, 0.3, 0.9],
      ["dxcon-2", "DirectConnect-Port-Hours", 1, 22.5, 22.5],
    ]);
    expect(b.total).toBe(24.15);
    const custom = bill(usage, withOverrides({ resolverEndpointEniHour: 0.1, dxPortHour1Gbps: 0.5 }));
    expect(custom.lines.map((l) => l.cost)).toEqual([0.6, 1.5, 22.5]);
    expect(() => withOverrides({ dxPortHour1Gbps: -1 })).toThrow("must be a number >= 0");
  });
});

/**
 * Resolver endpoint and Direct Connect lines from what the APIs created: a Resolver endpoint of
 * two IP addresses (two ENIs) and a 1Gbps connection, each for three started hours, and a 10Gbps
 * connection deleted after ten minutes (one started hour).
 */
describe("privlink cost bills Resolver endpoints and Direct Connect connections", () => {
  const rt = shiftedRuntime(systemRuntime);
  let server: TestServer;
  const R = jsonWire("route53resolver", "Route53Resolver");
  const DX = jsonWire("directconnect", "OvertureService");

  beforeAll(async () => {
    server = await startTestServer({ runtime: rt });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("2 ENIs x 3 h, a 1Gbps port for 3 h and a 10Gbps port for 1 h, as computed by hand", async () => {
    const since = new Date(rt.now().getTime() - 60_000);
    const ec2 = server.ec2();
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.9.0.0/16" }))).Vpc!.VpcId!;
    const subnetId = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.9.0.0/24" })))
      .Subnet!.SubnetId!;
    const sgId = (
      await ec2.send(
        new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: "rslvr", Description: "resolver" }),
      )
    ).GroupId!;
    const rr = R.client(server.url, server.credentials);
    const ep = await rr.send(
      new R.sdk.CreateResolverEndpointCommand({
        CreatorRequestId: "cost-ep",
        Direction: "OUTBOUND",
        SecurityGroupIds: [sgId],
        IpAddresses: [{ SubnetId: subnetId }, { SubnetId: subnetId }],
      }),
    );
    await server.admin("POST", "/_privlink/sites", { name: "dc1", cidr: "192.168.0.0/16" });
    const dx = DX.client(server.url, server.credentials);
    const connect = async (bandwidth: string) =>
      (
        await dx.send(
          new DX.sdk.CreateConnectionCommand({
            location: "dc1",
            bandwidth,
            connectionName: `dc1-${bandwidth}`,
          }),
        )
      ).connectionId as string;
    const oneG = await connect("1Gbps");
    const tenG = await connect("10Gbps");
    // Signed requests must stay within AWS's 15-minute clock skew: delete 10 minutes in.
    rt.advance(600_000);
    await dx.send(new DX.sdk.DeleteConnectionCommand({ connectionId: tenG }));
    // 2 h 58 min after creation: every object started its third hour, none a fourth.
    rt.advance(3 * 3_600_000 - 600_000 - 120_000);
    const b = await server.admin(
      "GET",
      `/_privlink/cost?since=${since.toISOString()}&until=${rt.now().toISOString()}`,
    );
    const mine = b.lines.filter((l: { usageType: string }) =>
      ["Route53-Resolver-ENI-Hours", "DirectConnect-Port-Hours"].includes(l.usageType),
    );
    expect(
      mine.map((l: { resource: string; quantity: number; cost: number }) => [l.resource, l.quantity, l.cost]),
    ).toEqual([
      [ep.ResolverEndpoint.Id, 6, 0.75],
      [oneG, 3, 0.9],
      [tenG, 1, 2.25],
    ]);
    // Nothing else runs in this account: the total is those three lines.
    expect(b.total).toBe(3.9);
  });
});

/**
 * Bytes beyond endpoints go through the data plane's flow taps into the CloudWatch store a
 * minute at a time, so the report windows them: NAT gateway bytes between --since and --until,
 * not since the start; flows between interfaces in two AZs become inter-AZ lines on both sides.
 */
describe("privlink cost windows NAT bytes and prices inter-AZ flows", () => {
  const rt = shiftedRuntime(systemRuntime);
  let server: TestServer;
  let natId: string;
  const enis: string[] = [];

  beforeAll(async () => {
    server = await startTestServer({ runtime: rt });
    const ec2 = server.ec2();
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.8.0.0/16" }))).Vpc!.VpcId!;
    const igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
    const subnets: string[] = [];
    for (const [i, az] of ["us-east-1a", "us-east-1b"].entries())
      subnets.push(
        (
          await ec2.send(
            new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.8.${i}.0/24`, AvailabilityZone: az }),
          )
        ).Subnet!.SubnetId!,
      );
    natId = (await ec2.send(new CreateNatGatewayCommand({ SubnetId: subnets[0] }))).NatGateway!.NatGatewayId!;
    await until(
      () => (server.state.get("natGateway", natId)?.state === "available" ? true : undefined),
      "NAT available",
    );
    for (const s of subnets) {
      const run = await ec2.send(
        new RunInstancesCommand({ ImageId: "ami-12345678", MinCount: 1, MaxCount: 1, SubnetId: s }),
      );
      enis.push(run.Instances![0]!.NetworkInterfaces![0]!.NetworkInterfaceId!);
    }
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
  });

  /** One flow as the data plane reports it to its taps: `req` bytes out, `resp` back. */
  const flow = (o: { src: string; dst?: string; nat?: string }, req: number, resp: number) => {
    const h = server.dataplane.dataplane.meter.taps!.opened({
      srcEniId: o.src,
      dstEniId: o.dst,
      srcIp: "10.8.0.10",
      dstIp: "10.8.1.10",
      srcPort: 40000,
      dstPort: 443,
      natGatewayId: o.nat,
    });
    h?.bytesIn(req);
    h?.bytesOut(resp);
    h?.closed("fin");
  };

  const cost = (q: string) => server.admin("GET", `/_privlink/cost?${q}`);

  it("NAT bytes in the window only; inter-AZ bytes on both interfaces", async () => {
    const t0 = rt.now();
    flow({ src: enis[1]!, nat: natId }, 1000, 3000);
    rt.advance(120_000);
    // Datapoints are minutes: the window's edge is a minute's start.
    const t1 = new Date(Math.floor(rt.now().getTime() / 60_000) * 60_000);
    flow({ src: enis[0]!, nat: natId }, 500, 700);
    flow({ src: enis[0]!, dst: enis[1]! }, 4000, 6000);
    rt.advance(120_000);
    await server.cloudwatch.tick();
    const natBytes = async (since: Date, untilT: Date) =>
      (await cost(`since=${since.toISOString()}&until=${untilT.toISOString()}`)).lines.find(
        (l: { resource: string; usageType: string }) =>
          l.resource === natId && l.usageType === "NatGateway-Bytes",
      ).description;
    expect(await natBytes(new Date(t0.getTime() - 60_000), t1)).toBe("4000 bytes processed");
    expect(await natBytes(t1, rt.now())).toBe("1200 bytes processed");
    expect(await natBytes(new Date(t0.getTime() - 60_000), rt.now())).toBe("5200 bytes processed");
    const all = await cost(`since=${new Date(t0.getTime() - 60_000).toISOString()}`);
    const interAz = all.lines
      .filter((l: { usageType: string }) => l.usageType === "DataTransfer-Regional-Bytes")
      .map((l: { resource: string; description: string }) => [l.resource, l.description]);
    // The NAT in AZ a: the flow from AZ b crossed (4000 bytes, both sides); the AZ a one did not.
    expect(interAz).toEqual(
      expect.arrayContaining([
        [enis[1], "14000 bytes exchanged with another Availability Zone"],
        [enis[0], "10000 bytes exchanged with another Availability Zone"],
        [natId, "4000 bytes exchanged with another Availability Zone"],
      ]),
    );
    expect(interAz).toHaveLength(3);
    const ns = await server.cloudwatch.metrics.store.series("000000000000", "us-east-1", "AWS/NATGateway");
    expect(ns.map((s) => s.metricName).sort()).toEqual([
      "BytesInFromDestination",
      "BytesInFromSource",
      "BytesOutToDestination",
      "BytesOutToSource",
    ]);
  });
});
