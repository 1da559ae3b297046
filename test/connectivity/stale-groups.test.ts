import {
  AcceptVpcPeeringConnectionCommand,
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  CreateVpcPeeringConnectionCommand,
  DeleteVpcPeeringConnectionCommand,
  DescribeStaleSecurityGroupsCommand,
  DescribeVpcPeeringConnectionsCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../dataplane/world.js";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/** DescribeStaleSecurityGroups (SDK): rules referencing a peer VPC's group go stale with the peering. */
describe("stale security group rules after a peering goes", () => {
  let srv: TestServer;
  let ec2: EC2Client;
  const vpcs: string[] = [];
  const groups: string[] = [];

  const status = async (id: string) =>
    (await ec2.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [id] })))
      .VpcPeeringConnections![0]!.Status!.Code;
  const stale = async (vpcId: string) =>
    (await ec2.send(new DescribeStaleSecurityGroupsCommand({ VpcId: vpcId }))).StaleSecurityGroupSet ?? [];

  beforeAll(async () => {
    srv = await startTestServer();
    ec2 = srv.ec2();
    for (const cidr of ["10.71.0.0/16", "10.72.0.0/16"]) {
      const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc!.VpcId!;
      vpcs.push(vpc);
      groups.push(
        (await ec2.send(new CreateSecurityGroupCommand({ GroupName: "app", Description: "app", VpcId: vpc })))
          .GroupId!,
      );
    }
  }, 60_000);
  afterAll(() => srv?.stop());

  it("lists nothing while the peering is active, then the peer-referencing rules once it is deleted", async () => {
    const pcx = (
      await ec2.send(new CreateVpcPeeringConnectionCommand({ VpcId: vpcs[0], PeerVpcId: vpcs[1] }))
    ).VpcPeeringConnection!.VpcPeeringConnectionId!;
    await until(async () => ((await status(pcx)) === "pending-acceptance" ? true : undefined), "pending");
    await ec2.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
    await until(async () => ((await status(pcx)) === "active" ? true : undefined), "active");
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groups[0],
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: 443,
            ToPort: 443,
            UserIdGroupPairs: [{ GroupId: groups[1], VpcPeeringConnectionId: pcx }],
          },
        ],
      }),
    );
    await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: groups[0],
        IpPermissions: [{ IpProtocol: "-1", UserIdGroupPairs: [{ GroupId: groups[1] }] }],
      }),
    );
    expect(await stale(vpcs[0]!)).toEqual([]);

    await ec2.send(new DeleteVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
    await until(async () => ((await status(pcx)) === "deleted" ? true : undefined), "deleted");
    const set = await stale(vpcs[0]!);
    expect(set).toHaveLength(1);
    expect(set[0]).toMatchObject({ GroupId: groups[0], GroupName: "app", VpcId: vpcs[0] });
    expect(set[0]!.StaleIpPermissions).toEqual([
      expect.objectContaining({
        IpProtocol: "tcp",
        FromPort: 443,
        ToPort: 443,
        UserIdGroupPairs: [
          expect.objectContaining({
            GroupId: groups[1],
            VpcId: vpcs[1],
            VpcPeeringConnectionId: pcx,
            PeeringStatus: "deleted",
          }),
        ],
      }),
    ]);
    expect(set[0]!.StaleIpPermissionsEgress).toEqual([
      expect.objectContaining({
        IpProtocol: "-1",
        UserIdGroupPairs: [expect.objectContaining({ GroupId: groups[1] })],
      }),
    ]);
    // The peer's own group references nothing: it is not stale.
    expect(await stale(vpcs[1]!)).toEqual([]);
  });

  it("validates like AWS", async () => {
    expect(
      (await fails(ec2.send(new DescribeStaleSecurityGroupsCommand({ VpcId: "vpc-0000000000000000f" }))))
        .name,
    ).toBe("InvalidVpcID.NotFound");
    expect(
      (await fails(ec2.send(new DescribeStaleSecurityGroupsCommand({ VpcId: vpcs[0], MaxResults: 1000 }))))
        .name,
    ).toBe("InvalidParameterValue");
  });
});
