import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateFlowLogsCommand,
  CreateRouteCommand,
  CreateTransitGatewayCommand,
  CreateTransitGatewayRouteCommand,
  CreateTransitGatewayVpcAttachmentCommand,
  DeleteTransitGatewayRouteCommand,
  DescribeRouteTablesCommand,
  DescribeTransitGatewaysCommand,
  type EC2Client,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eniHostAddress } from "../../src/cloud/eni.js";
import { systemRuntime } from "../../src/cloud/runtime.js";
import { makeVpc } from "../control-plane/consumer-fixtures.js";
import { type Consumer, exchange, type Provider, until } from "../dataplane/world.js";
import { echoHub } from "../helpers/net-world-echo.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import type { Listening } from "../net/sockets.js";
import { shiftedRuntime } from "./world.js";

const HUB = "333300000012";
const SENT = 50_000;

/**
 * A real connection from a spoke VPC in us-east-1b through a transit gateway to an interface
 * endpoint in a hub VPC in us-east-1a: the TGW's flow log records it on both attachments in
 * AWS's TGW format (version 6), and the cost report charges the TGW's data per attachment.
 */
describe("a flow crossing a transit gateway and two AZs: TGW flow log and cost", () => {
  const rt = shiftedRuntime(systemRuntime);
  let server: TestServer;
  let echoServer: Listening;
  let provider: Provider;
  let hub: Consumer;
  let ec2: EC2Client;
  let endpointHost: string;
  const ids = { tgw: "", hubAttach: "", spokeAttach: "", spokeVpc: "", spokeSubnet: "" };
  let workloadHost: string;
  let records: string[][];
  let t0: Date;

  const mainTable = async (vpcId: string) =>
    (
      await ec2.send(
        new DescribeRouteTablesCommand({
          Filters: [
            { Name: "vpc-id", Values: [vpcId] },
            { Name: "association.main", Values: ["true"] },
          ],
        }),
      )
    ).RouteTables![0]!.RouteTableId!;

  /** Every record of the TGW's flow log file so far, split into fields. */
  const fileRecords = () =>
    readFileSync(join(server.home, "flow-logs", "tgw", "flows.log"), "utf8")
      .trim()
      .split("\n")
      .map((l) => l.split(" "));

  /** The TGW's default route table and the hub endpoint's private IP. */
  const routeAndEndpoint = async () => {
    const tgw = (await ec2.send(new DescribeTransitGatewaysCommand({ TransitGatewayIds: [ids.tgw] })))
      .TransitGateways![0]!;
    const ep = server.state.get("vpcEndpoint", hub.endpointId)!;
    return {
      routeTableId: tgw.Options!.AssociationDefaultRouteTableId!,
      epIp: server.state.get("eni", ep.enis[0]!.eniId)!.privateIp,
    };
  };

  /** A short connection from the spoke's workload that must be refused, then the next window. */
  const refusedExchange = async () => {
    const out = await exchange(
      { host: endpointHost, port: provider.listenerPort },
      workloadHost,
      Buffer.alloc(10),
    );
    expect(out.kind).toBe("refused");
    rt.advance(61_000);
    await server.flowLogs.tick();
  };

  const attach = async (vpcId: string, subnetId: string) => {
    const id = (
      await ec2.send(
        new CreateTransitGatewayVpcAttachmentCommand({
          TransitGatewayId: ids.tgw,
          VpcId: vpcId,
          SubnetIds: [subnetId],
        }),
      )
    ).TransitGatewayVpcAttachment!.TransitGatewayAttachmentId!;
    await until(
      () => (server.state.get("transitGatewayAttachment", id)?.state === "available" ? true : undefined),
      `${id} available`,
    );
    return id;
  };

  beforeAll(async () => {
    t0 = rt.now();
    server = await startTestServer({ runtime: rt });
    ({ echoServer, provider, hub, ec2, endpointHost } = await echoHub(
      server,
      { provider: "333300000011", consumer: HUB },
      "10.1.0.0/16",
    ));
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: hub.endpointSg,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: provider.listenerPort,
            ToPort: provider.listenerPort,
            IpRanges: [{ CidrIp: "10.30.0.0/16" }],
          },
        ],
      }),
    );
    const spoke = await makeVpc(ec2, { cidr: "10.30.0.0/16", azs: ["us-east-1b"] });
    ids.spokeVpc = spoke.vpcId;
    ids.spokeSubnet = spoke.subnets["us-east-1b"]!;
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12345678",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: ids.spokeSubnet,
      }),
    );
    const eniId = run.Instances![0]!.NetworkInterfaces![0]!.NetworkInterfaceId!;
    workloadHost = eniHostAddress(server.state, server.state.get("eni", eniId)!)!;

    ids.tgw = (await ec2.send(new CreateTransitGatewayCommand({}))).TransitGateway!.TransitGatewayId!;
    await until(
      () => (server.state.get("transitGateway", ids.tgw)?.state === "available" ? true : undefined),
      "tgw",
    );
    ids.hubAttach = await attach(hub.vpcId, hub.subnetId);
    ids.spokeAttach = await attach(ids.spokeVpc, ids.spokeSubnet);
    for (const [vpc, cidr] of [
      [ids.spokeVpc, "10.1.0.0/16"],
      [hub.vpcId, "10.30.0.0/16"],
    ] as const)
      await ec2.send(
        new CreateRouteCommand({
          RouteTableId: await mainTable(vpc),
          DestinationCidrBlock: cidr,
          TransitGatewayId: ids.tgw,
        }),
      );
    const fl = await ec2.send(
      new CreateFlowLogsCommand({
        ResourceType: "TransitGateway",
        ResourceIds: [ids.tgw],
        // privlink's own destination type, beside cloud-watch-logs and s3.
        LogDestinationType: "file" as never,
        LogDestination: "tgw/flows.log",
      }),
    );
    expect(fl.Unsuccessful ?? []).toEqual([]);
    await until(() => (server.dataplane.dataplane.listenerCount > 0 ? true : undefined), "listener");

    const out = await exchange(
      { host: endpointHost, port: provider.listenerPort },
      workloadHost,
      Buffer.alloc(SENT, 5),
    );
    expect(out.kind).toBe("data");
    await until(
      () =>
        server.dataplane.dataplane.meter.snapshot().endpoints.find((e) => e.vpcEndpointId === hub.endpointId)
          ?.activeConnections === 0
          ? true
          : undefined,
      "the flow closed",
    );
    await server.flowLogs.tick();
    await server.cloudwatch.flush();
    rt.advance(61_000);
    await server.flowLogs.tick();
    await server.cloudwatch.tick();
    records = fileRecords();
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await echoServer?.close();
  });

  it("records the flow on both attachments in the TGW default format, with both AZs", () => {
    const subnet = (id: string) => server.state.get("subnet", id)!;
    const spokeAz = subnet(ids.spokeSubnet).azId;
    const hubAz = subnet(hub.subnetId).azId;
    expect(spokeAz).not.toBe(hubAz);
    const ep = server.state.get("vpcEndpoint", hub.endpointId)!;
    const epIp = server.state.get("eni", ep.enis[0]!.eniId)!.privateIp;
    // The request (workload -> endpoint) entering the TGW from the spoke's attachment.
    const req = records.find((r) => r[4] === ids.spokeAttach && r[33] === "ingress")!;
    expect(req).toBeDefined();
    expect(req.length).toBe(36);
    const [version, type, account, tgw, attachment] = req;
    expect([version, type, account, tgw, attachment]).toEqual([
      "6",
      "TransitGateway",
      HUB,
      ids.tgw,
      ids.spokeAttach,
    ]);
    // src/dst VPC account, VPC, subnet, AZ ID, pair attachment.
    expect([req[5], req[6], req[7], req[8], req[9], req[10], req[13], req[14], req[15]]).toEqual([
      HUB,
      HUB,
      ids.spokeVpc,
      hub.vpcId,
      ids.spokeSubnet,
      hub.subnetId,
      spokeAz,
      hubAz,
      ids.hubAttach,
    ]);
    // Private addresses as AWS shows them, the bytes the client sent, TCP, no losses.
    expect(req[16]).toMatch(/^10\.30\./);
    expect(req[17]).toBe(epIp);
    expect(req[18 + 2]).toBe("6");
    expect(Number(req[22])).toBe(SENT);
    expect(req.slice(27, 31)).toEqual(["0", "0", "0", "0"]);
    expect(req[32]).toBe("us-east-1");
    // The echo's answer, leaving the TGW towards the spoke; and the same flow on the hub's attachment.
    const back = records.find((r) => r[4] === ids.spokeAttach && r[33] === "egress")!;
    expect([back[7], back[8], Number(back[22])]).toEqual([hub.vpcId, ids.spokeVpc, SENT]);
    const onHub = records.filter((r) => r[4] === ids.hubAttach);
    expect(onHub.map((r) => [r[33], Number(r[22])]).sort()).toEqual([
      ["egress", SENT],
      ["ingress", SENT],
    ]);
  });

  it("the cost report charges the TGW's data on each attachment, per the reference prices", async () => {
    const bill = await server.admin(
      "GET",
      `/_privlink/cost?since=${new Date(t0.getTime() - 60_000).toISOString()}`,
    );
    const tgwBytes = bill.lines.filter((l: { usageType: string }) => l.usageType === "TransitGateway-Bytes");
    const byAttachment = Object.fromEntries(
      tgwBytes.map((l: { resource: string; description: string; rate: number }) => [
        l.resource,
        [l.description, l.rate],
      ]),
    );
    // Each attachment pays for what it sent into the TGW: the request from the spoke, the answer from the hub.
    expect(byAttachment).toEqual({
      [ids.spokeAttach]: [`${SENT} bytes sent into ${ids.tgw} (BytesIn)`, 0.02],
      [ids.hubAttach]: [`${SENT} bytes sent into ${ids.tgw} (BytesIn)`, 0.02],
    });
    const hours = bill.lines.filter((l: { usageType: string }) => l.usageType === "TransitGateway-Hours");
    expect(hours.map((l: { quantity: number; rate: number }) => [l.quantity, l.rate])).toEqual([
      [1, 0.05],
      [1, 0.05],
    ]);
  });

  it("a flow the TGW drops on a blackhole route is one lost packet on the attachment it entered by", async () => {
    const { routeTableId, epIp } = await routeAndEndpoint();
    await ec2.send(
      new CreateTransitGatewayRouteCommand({
        TransitGatewayRouteTableId: routeTableId,
        DestinationCidrBlock: `${epIp}/32`,
        Blackhole: true,
      }),
    );
    await refusedExchange();
    const lost = fileRecords().filter((r) => r[17] === epIp && r[28] === "1");
    expect(lost).toHaveLength(1);
    const r = lost[0]!;
    // Entered from the spoke, never reached the hub: no destination VPC, no pair attachment.
    expect([r[4], r[7], r[8], r[15]]).toEqual([ids.spokeAttach, ids.spokeVpc, "-", "-"]);
    // One SYN: 1 packet, 60 bytes; lost to a blackhole, not to a missing route.
    expect([r[21], r[22], r[27], r[28], r[33]]).toEqual(["1", "60", "0", "1", "ingress"]);
  });

  it("a flow the TGW forwarded but the endpoint's group refused is the one SYN on both attachments", async () => {
    const { routeTableId, epIp } = await routeAndEndpoint();
    await ec2.send(
      new DeleteTransitGatewayRouteCommand({
        TransitGatewayRouteTableId: routeTableId,
        DestinationCidrBlock: `${epIp}/32`,
      }),
    );
    await ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: hub.endpointSg,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: provider.listenerPort,
            ToPort: provider.listenerPort,
            IpRanges: [{ CidrIp: "10.30.0.0/16" }],
          },
        ],
      }),
    );
    const before = fileRecords().length;
    await refusedExchange();
    const fresh = fileRecords().slice(before);
    expect(fresh.map((r) => [r[4], r[33], r[17], r[21], r[22], r[27], r[28], r[15]]).sort()).toEqual(
      [
        [ids.hubAttach, "egress", epIp, "1", "60", "0", "0", ids.spokeAttach],
        [ids.spokeAttach, "ingress", epIp, "1", "60", "0", "0", ids.hubAttach],
      ].sort(),
    );
  });

  it("refuses what AWS refuses for transit gateway resource types", async () => {
    const create = (extra: Record<string, unknown>) =>
      ec2
        .send(
          new CreateFlowLogsCommand({
            ResourceType: "TransitGateway",
            ResourceIds: [ids.tgw],
            LogDestinationType: "file" as never,
            LogDestination: "tgw/other.log",
            ...extra,
          }),
        )
        .then(
          () => "created",
          (e: Error) => e.name,
        );
    expect(await create({ TrafficType: "ALL" })).toBe("InvalidParameter");
    expect(await create({ MaxAggregationInterval: 600 })).toBe("InvalidParameterValue");
    expect(await create({ ResourceIds: Array.from({ length: 26 }, () => ids.tgw) })).toBe("InvalidParameter");
    expect(await create({ MaxAggregationInterval: 60 })).toBe("created");
  });
});
