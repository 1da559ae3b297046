import {
  AcceptVpcPeeringConnectionCommand,
  CreateRouteCommand,
  CreateVpcPeeringConnectionCommand,
  DeleteVpcPeeringConnectionCommand,
  DescribeRouteTablesCommand,
  DescribeVpcPeeringConnectionsCommand,
  type EC2Client,
  ModifyVpcPeeringConnectionOptionsCommand,
  RejectVpcPeeringConnectionCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixedRuntime } from "../../src/cloud/runtime.js";
import { makeVpc } from "../control-plane/consumer-fixtures.js";
import { clients, newAccount, until } from "../dataplane/world.js";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const status = async (ec2: EC2Client, id: string) =>
  (await ec2.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [id] })))
    .VpcPeeringConnections![0]!.Status!.Code;

const waitStatus = (ec2: EC2Client, id: string, code: string) =>
  until(async () => ((await status(ec2, id)) === code ? true : undefined), `${id} ${code}`);

describe("VPC peering API (SDK): state machine, accounts, regions and errors", () => {
  const rt = fixedRuntime(new Date(), 11);
  let server: TestServer;
  let ec2: EC2Client;
  let other: EC2Client;
  let otherWest: EC2Client;

  beforeAll(async () => {
    server = await startTestServer({ runtime: rt });
    ec2 = server.ec2();
    const creds = await newAccount(server, "444400000002");
    other = clients(server, creds).ec2;
    otherWest = server.ec2("us-west-2", creds);
  });
  afterAll(async () => server?.stop());

  it("an overlapping CIDR gives a created connection that is failed, and cannot be accepted", async () => {
    const a = await makeVpc(ec2, { cidr: "10.60.0.0/16", azs: [] });
    const b = await makeVpc(ec2, { cidr: "10.60.0.0/20", azs: [] });
    const p = await ec2.send(new CreateVpcPeeringConnectionCommand({ VpcId: a.vpcId, PeerVpcId: b.vpcId }));
    expect(p.VpcPeeringConnection!.Status!.Code).toBe("failed");
    const id = p.VpcPeeringConnection!.VpcPeeringConnectionId!;
    expect(
      (await fails(ec2.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id })))).name,
    ).toBe("InvalidStateTransition");
  });

  it("cross-account: only the accepter's owner accepts; one connection per pair; options per side", async () => {
    const a = await makeVpc(ec2, { cidr: "10.61.0.0/16", azs: [] });
    const b = await makeVpc(other, { cidr: "10.62.0.0/16", azs: [] });
    const p = await ec2.send(
      new CreateVpcPeeringConnectionCommand({
        VpcId: a.vpcId,
        PeerVpcId: b.vpcId,
        PeerOwnerId: "444400000002",
      }),
    );
    const id = p.VpcPeeringConnection!.VpcPeeringConnectionId!;
    expect(p.VpcPeeringConnection!.Status!.Code).toBe("initiating-request");
    await waitStatus(other, id, "pending-acceptance");
    const described = await other.send(
      new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [id] }),
    );
    expect(described.VpcPeeringConnections![0]!.ExpirationTime).toBeInstanceOf(Date);
    expect(
      (await fails(ec2.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id })))).name,
    ).toBe("OperationNotPermitted");
    expect(
      (
        await fails(
          ec2.send(
            new CreateVpcPeeringConnectionCommand({
              VpcId: a.vpcId,
              PeerVpcId: b.vpcId,
              PeerOwnerId: "444400000002",
            }),
          ),
        )
      ).name,
    ).toBe("VpcPeeringConnectionAlreadyExists");
    // A route through a connection that is not active is a blackhole.
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: a.mainRouteTable,
        DestinationCidrBlock: "10.62.0.0/16",
        VpcPeeringConnectionId: id,
      }),
    );
    const routeState = async () =>
      (
        await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [a.mainRouteTable] }))
      ).RouteTables![0]!.Routes!.find((r) => r.VpcPeeringConnectionId === id)!.State;
    expect(await routeState()).toBe("blackhole");
    expect(
      (
        await fails(
          ec2.send(
            new ModifyVpcPeeringConnectionOptionsCommand({
              VpcPeeringConnectionId: id,
              RequesterPeeringConnectionOptions: { AllowDnsResolutionFromRemoteVpc: true },
            }),
          ),
        )
      ).name,
    ).toBe("InvalidStateTransition");
    await other.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }));
    await waitStatus(ec2, id, "active");
    expect(await routeState()).toBe("active");
    expect(
      (
        await fails(
          ec2.send(
            new ModifyVpcPeeringConnectionOptionsCommand({
              VpcPeeringConnectionId: id,
              AccepterPeeringConnectionOptions: { AllowDnsResolutionFromRemoteVpc: true },
            }),
          ),
        )
      ).name,
    ).toBe("OperationNotPermitted");
    const mod = await ec2.send(
      new ModifyVpcPeeringConnectionOptionsCommand({
        VpcPeeringConnectionId: id,
        RequesterPeeringConnectionOptions: { AllowDnsResolutionFromRemoteVpc: true },
      }),
    );
    expect(mod.RequesterPeeringConnectionOptions!.AllowDnsResolutionFromRemoteVpc).toBe(true);
    await other.send(new DeleteVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }));
    expect(await status(ec2, id)).toBe("deleted");
    expect(await routeState()).toBe("blackhole");
  });

  it("cross-region: accepted only in the accepter's region", async () => {
    const a = await makeVpc(ec2, { cidr: "10.63.0.0/16", azs: [] });
    const b = await makeVpc(otherWest, { cidr: "10.64.0.0/16", azs: [], region: "us-west-2" });
    const id = (
      await ec2.send(
        new CreateVpcPeeringConnectionCommand({
          VpcId: a.vpcId,
          PeerVpcId: b.vpcId,
          PeerOwnerId: "444400000002",
          PeerRegion: "us-west-2",
        }),
      )
    ).VpcPeeringConnection!.VpcPeeringConnectionId!;
    await waitStatus(otherWest, id, "pending-acceptance");
    const wrong = await fails(
      other.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id })),
    );
    expect(wrong.name).toBe("OperationNotPermitted");
    expect(wrong.message).toMatch(/Incorrect region \(us-east-1\)/);
    await otherWest.send(new RejectVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }));
    expect(await status(ec2, id)).toBe("rejected");
  });

  it("unknown and malformed IDs, and the same VPC twice", async () => {
    expect(
      (
        await fails(
          ec2.send(
            new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: ["pcx-0123456789abcdef0"] }),
          ),
        )
      ).name,
    ).toBe("InvalidVpcPeeringConnectionID.NotFound");
    expect(
      (
        await fails(
          ec2.send(
            new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: "pcx-0123456789abcdef0" }),
          ),
        )
      ).name,
    ).toBe("InvalidVpcPeeringConnectionID.NotFound");
    expect(
      (await fails(ec2.send(new DeleteVpcPeeringConnectionCommand({ VpcPeeringConnectionId: "nope" })))).name,
    ).toBe("InvalidVpcPeeringConnectionId.Malformed");
    const a = await makeVpc(ec2, { cidr: "10.67.0.0/16", azs: [] });
    expect(
      (await fails(ec2.send(new CreateVpcPeeringConnectionCommand({ VpcId: a.vpcId, PeerVpcId: a.vpcId }))))
        .name,
    ).toBe("InvalidParameterValue");
    expect(
      (
        await fails(
          ec2.send(
            new CreateVpcPeeringConnectionCommand({ VpcId: "vpc-0123456789abcdef0", PeerVpcId: a.vpcId }),
          ),
        )
      ).name,
    ).toBe("InvalidVpcID.NotFound");
  });
  it("a pending request expires after 7 days of the injected clock", async () => {
    const a = await makeVpc(ec2, { cidr: "10.65.0.0/16", azs: [] });
    const b = await makeVpc(ec2, { cidr: "10.66.0.0/16", azs: [] });
    const id = (await ec2.send(new CreateVpcPeeringConnectionCommand({ VpcId: a.vpcId, PeerVpcId: b.vpcId })))
      .VpcPeeringConnection!.VpcPeeringConnectionId!;
    await waitStatus(ec2, id, "pending-acceptance");
    rt.advance(7 * 86_400_000 + 1000);
    // The API would now refuse the test's signatures as expired: read the state the lifecycle moved.
    await until(
      () => (server.state.get("vpcPeeringConnection", id)?.status === "expired" ? true : undefined),
      "expired",
    );
  });
});
