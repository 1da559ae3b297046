import {
  AcceptVpcPeeringConnectionCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  CreateRouteCommand,
  CreateTransitGatewayCommand,
  CreateTransitGatewayVpcAttachmentCommand,
  CreateVpcEndpointCommand,
  CreateVpcPeeringConnectionCommand,
  DeleteRouteCommand,
  DeleteVpcPeeringConnectionCommand,
  DescribeNetworkAclsCommand,
  DescribeRouteTablesCommand,
  DescribeTransitGatewayAttachmentsCommand,
  DescribeVpcPeeringConnectionsCommand,
  type EC2Client,
  ReplaceNetworkAclAssociationCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decide } from "../../src/flow/index.js";
import type { TestVpc } from "../control-plane/consumer-fixtures.js";
import { type Consumer, exchange, type Provider, until } from "../dataplane/world.js";
import { echoHub, spokeWorkload } from "../helpers/net-world-echo.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import type { Listening } from "../net/sockets.js";

/**
 * The shared-services design with real sockets: a hub VPC holds an interface endpoint; spoke 1
 * reaches it over a VPC peering connection, spoke 2 over a transit gateway; flow/ explains
 * every refusal with the hop that refused.
 */
describe("hub and spokes: peering and transit gateway to a hub's interface endpoint", () => {
  let server: TestServer;
  let echoServer: Listening;
  let provider: Provider;
  let hub: Consumer;
  let ec2: EC2Client;
  let endpointHost: string;
  const spokes: Record<string, TestVpc & { workload: string; eniId: string }> = {};
  let pcxId: string;
  let tgwId: string;

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

  async function spoke(name: string, cidr: string) {
    const w = await spokeWorkload(server, ec2, cidr);
    spokes[name] = { ...w.vpc, eniId: w.eniId, workload: w.host };
  }

  const probe = (name: string) =>
    exchange({ host: endpointHost, port: provider.listenerPort }, spokes[name]!.workload, Buffer.from(name));
  const why = (name: string) =>
    decide(server.state, {
      source: { kind: "eni", eniId: spokes[name]!.eniId },
      destination: endpointHost,
      port: provider.listenerPort,
    }).reason;

  beforeAll(async () => {
    server = await startTestServer();
    ({ echoServer, provider, hub, ec2, endpointHost } = await echoHub(
      server,
      { provider: "333300000001", consumer: "333300000002" },
      "10.1.0.0/16",
    ));
    // The endpoint admits the spokes' address ranges.
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: hub.endpointSg,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: provider.listenerPort,
            ToPort: provider.listenerPort,
            IpRanges: [{ CidrIp: "10.20.0.0/16" }, { CidrIp: "10.30.0.0/16" }],
          },
        ],
      }),
    );
    await spoke("peered", "10.20.0.0/16");
    await spoke("transit", "10.30.0.0/16");
    await until(() => (server.dataplane.dataplane.listenerCount > 0 ? true : undefined), "listener");
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await echoServer?.close();
  });

  it("without any path, both spokes are refused with the missing route named", async () => {
    expect((await probe("peered")).kind).toBe("refused");
    expect(why("peered")).toMatch(/no route to .* in vpc-.* from vpc-.*has no route for it/);
  });

  it("spoke 1 connects over an active peering once both sides route to it", async () => {
    const p = await ec2.send(
      new CreateVpcPeeringConnectionCommand({ VpcId: spokes.peered!.vpcId, PeerVpcId: hub.vpcId }),
    );
    pcxId = p.VpcPeeringConnection!.VpcPeeringConnectionId!;
    await until(async () => {
      const d = await ec2.send(
        new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [pcxId] }),
      );
      return d.VpcPeeringConnections![0]!.Status!.Code === "pending-acceptance" ? true : undefined;
    }, "pending-acceptance");
    const spokeRtb = await mainTable(spokes.peered!.vpcId);
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: spokeRtb,
        DestinationCidrBlock: "10.1.0.0/16",
        VpcPeeringConnectionId: pcxId,
      }),
    );
    // Routes through a connection that is not active yet are blackholes.
    expect(why("peered")).toMatch(/blackhole/);
    await ec2.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcxId }));
    await until(async () => {
      const d = await ec2.send(
        new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [pcxId] }),
      );
      return d.VpcPeeringConnections![0]!.Status!.Code === "active" ? true : undefined;
    }, "active");
    expect(why("peered")).toMatch(/return path: .* has no route back to 10\.20\./);
    expect((await probe("peered")).kind).toBe("refused");
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: await mainTable(hub.vpcId),
        DestinationCidrBlock: "10.20.0.0/16",
        VpcPeeringConnectionId: pcxId,
      }),
    );
    expect(await probe("peered")).toEqual({ kind: "data", data: Buffer.from("peered") });
  });

  it("spoke 2 connects through a transit gateway; removing its TGW route breaks spoke 2 only", async () => {
    tgwId = (await ec2.send(new CreateTransitGatewayCommand({}))).TransitGateway!.TransitGatewayId!;
    await until(
      () => (server.state.get("transitGateway", tgwId)?.state === "available" ? true : undefined),
      "tgw",
    );
    const attach = async (vpcId: string, subnetId: string) => {
      const id = (
        await ec2.send(
          new CreateTransitGatewayVpcAttachmentCommand({
            TransitGatewayId: tgwId,
            VpcId: vpcId,
            SubnetIds: [subnetId],
          }),
        )
      ).TransitGatewayVpcAttachment!.TransitGatewayAttachmentId!;
      await until(async () => {
        const d = await ec2.send(
          new DescribeTransitGatewayAttachmentsCommand({ TransitGatewayAttachmentIds: [id] }),
        );
        return d.TransitGatewayAttachments![0]!.State === "available" ? true : undefined;
      }, `${id} available`);
      return id;
    };
    await attach(hub.vpcId, hub.subnetId);
    await attach(spokes.transit!.vpcId, spokes.transit!.subnets["us-east-1a"]!);
    const spokeRtb = await mainTable(spokes.transit!.vpcId);
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: spokeRtb,
        DestinationCidrBlock: "10.1.0.0/16",
        TransitGatewayId: tgwId,
      }),
    );
    expect(why("transit")).toMatch(/return path/);
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: await mainTable(hub.vpcId),
        DestinationCidrBlock: "10.30.0.0/16",
        TransitGatewayId: tgwId,
      }),
    );
    expect(await probe("transit")).toEqual({ kind: "data", data: Buffer.from("transit") });
    expect(await probe("peered")).toEqual({ kind: "data", data: Buffer.from("peered") });

    await ec2.send(new DeleteRouteCommand({ RouteTableId: spokeRtb, DestinationCidrBlock: "10.1.0.0/16" }));
    expect((await probe("transit")).kind).toBe("refused");
    expect(why("transit")).toMatch(/no route to .*: rtb-\w+ has no route for it/);
    expect(await probe("peered")).toEqual({ kind: "data", data: Buffer.from("peered") });
  });

  it("network ACLs are stateless: the hub subnet must admit the request and let the reply out", async () => {
    const acl = (await ec2.send(new CreateNetworkAclCommand({ VpcId: hub.vpcId }))).NetworkAcl!.NetworkAclId!;
    const current = await ec2.send(
      new DescribeNetworkAclsCommand({
        Filters: [{ Name: "association.subnet-id", Values: [hub.subnetId] }],
      }),
    );
    const assoc = current.NetworkAcls![0]!.Associations!.find((a) => a.SubnetId === hub.subnetId)!;
    expect(current.NetworkAcls![0]!.IsDefault).toBe(true);
    const moved = await ec2.send(
      new ReplaceNetworkAclAssociationCommand({
        AssociationId: assoc.NetworkAclAssociationId,
        NetworkAclId: acl,
      }),
    );
    // A new ACL denies everything (only the * rule).
    expect((await probe("peered")).kind).toBe("refused");
    expect(why("peered")).toMatch(
      new RegExp(
        `network ACL ${acl} of ${hub.subnetId}: inbound tcp/${provider.listenerPort} from 10\\.20\\.`,
      ),
    );
    const entry = (n: number, egress: boolean, from: number, to: number, cidr: string, action = "allow") =>
      ec2.send(
        new CreateNetworkAclEntryCommand({
          NetworkAclId: acl,
          RuleNumber: n,
          Egress: egress,
          Protocol: "6",
          RuleAction: action as "allow",
          CidrBlock: cidr,
          PortRange: { From: from, To: to },
        }),
      );
    await entry(100, false, provider.listenerPort, provider.listenerPort, "10.20.0.0/16");
    expect(why("peered")).toMatch(/outbound tcp\/32768-60999 \(replies\) to 10\.20\.[\d.]+ is denied/);
    await entry(100, true, 1024, 65535, "10.20.0.0/16");
    expect(await probe("peered")).toEqual({ kind: "data", data: Buffer.from("peered") });
    // A lower-numbered deny wins over the allow behind it.
    await entry(50, false, 0, 65535, "10.20.0.0/16", "deny");
    expect(why("peered")).toMatch(/rule 50 denies/);
    expect((await probe("peered")).kind).toBe("refused");
    // Spoke 2 was never allowed by this ACL.
    expect((await probe("transit")).kind).toBe("refused");
    const defaultAcl = current.NetworkAcls![0]!.NetworkAclId!;
    await ec2.send(
      new ReplaceNetworkAclAssociationCommand({
        AssociationId: moved.NewAssociationId,
        NetworkAclId: defaultAcl,
      }),
    );
    expect(await probe("peered")).toEqual({ kind: "data", data: Buffer.from("peered") });
  });

  it("no transitive routing: spoke 1 cannot reach spoke 2 through its peering with the hub", async () => {
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: await mainTable(spokes.peered!.vpcId),
        DestinationCidrBlock: "10.30.0.0/16",
        VpcPeeringConnectionId: pcxId,
      }),
    );
    const d = decide(server.state, {
      source: { kind: "eni", eniId: spokes.peered!.eniId },
      destination: spokes.transit!.workload,
      port: 80,
    });
    expect(d.allowed).toBe(false);
    expect(d.reason).toMatch(
      new RegExp(`${pcxId} reaches only ${hub.vpcId}, .* \\(VPC peering is not transitive\\)`),
    );
  });

  it("the hub's gateway endpoint is not reachable from a peer: no edge-to-edge routing", async () => {
    const hubRtb = await mainTable(hub.vpcId);
    await ec2.send(
      new CreateVpcEndpointCommand({
        VpcEndpointType: "Gateway",
        VpcId: hub.vpcId,
        ServiceName: "com.amazonaws.us-east-1.s3",
        RouteTableIds: [hubRtb],
      }),
    );
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: await mainTable(spokes.peered!.vpcId),
        DestinationCidrBlock: "0.0.0.0/0",
        VpcPeeringConnectionId: pcxId,
      }),
    );
    const d = decide(server.state, {
      source: { kind: "eni", eniId: spokes.peered!.eniId },
      destination: "52.216.1.1",
      port: 443,
    });
    expect(d.allowed).toBe(false);
    expect(d.reason).toMatch(
      new RegExp(
        `gateway endpoint vpce-\\w+ in ${hub.vpcId} serves only flows that start in ${hub.vpcId}, not flows arriving over ${pcxId}`,
      ),
    );
  });

  it("deleting the peering turns spoke 1's route into a blackhole and refuses it", async () => {
    await ec2.send(new DeleteVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcxId }));
    expect((await probe("peered")).kind).toBe("refused");
    expect(why("peered")).toMatch(new RegExp(`via ${pcxId} is a blackhole`));
  });
});
