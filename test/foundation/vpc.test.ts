import {
  AssociateVpcCidrBlockCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteSubnetCommand,
  DeleteTagsCommand,
  DeleteVpcCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeTagsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  type EC2Client,
  ModifyVpcAttributeCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
let ec2: EC2Client;

beforeAll(async () => {
  srv = await startTestServer();
  ec2 = srv.ec2();
});
afterAll(() => srv.stop());

describe("VPCs", () => {
  it("creates, describes and deletes a VPC with its main route table and default group", async () => {
    const { Vpc } = await ec2.send(
      new CreateVpcCommand({
        CidrBlock: "10.0.0.0/16",
        TagSpecifications: [{ ResourceType: "vpc", Tags: [{ Key: "Name", Value: "app" }] }],
      }),
    );
    expect(Vpc?.VpcId).toMatch(/^vpc-[0-9a-f]{17}$/);
    expect(Vpc).toMatchObject({
      CidrBlock: "10.0.0.0/16",
      State: "available",
      IsDefault: false,
      OwnerId: "000000000000",
      Tags: [{ Key: "Name", Value: "app" }],
    });
    const d = await ec2.send(new DescribeVpcsCommand({ VpcIds: [Vpc!.VpcId!] }));
    expect(d.Vpcs).toHaveLength(1);
    expect(d.Vpcs![0]!.CidrBlockAssociationSet![0]).toMatchObject({
      CidrBlock: "10.0.0.0/16",
      CidrBlockState: { State: "associated" },
    });
    const rts = await ec2.send(
      new DescribeRouteTablesCommand({ Filters: [{ Name: "vpc-id", Values: [Vpc!.VpcId!] }] }),
    );
    expect(rts.RouteTables).toHaveLength(1);
    expect(rts.RouteTables![0]!.Associations![0]!.Main).toBe(true);
    expect(rts.RouteTables![0]!.Routes).toEqual([
      expect.objectContaining({ DestinationCidrBlock: "10.0.0.0/16", GatewayId: "local", State: "active" }),
    ]);
    const sgs = await ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [Vpc!.VpcId!] }] }),
    );
    expect(sgs.SecurityGroups?.map((g) => g.GroupName)).toEqual(["default"]);
    await ec2.send(new DeleteVpcCommand({ VpcId: Vpc!.VpcId! }));
    expect((await fails(ec2.send(new DescribeVpcsCommand({ VpcIds: [Vpc!.VpcId!] })))).name).toBe(
      "InvalidVpcID.NotFound",
    );
  });

  it("gives every account a default VPC per region with a default subnet per AZ", async () => {
    const d = await ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }),
    );
    expect(d.Vpcs).toHaveLength(1);
    expect(d.Vpcs![0]!.CidrBlock).toBe("172.31.0.0/16");
    const subnets = await ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [d.Vpcs![0]!.VpcId!] }] }),
    );
    expect(subnets.Subnets!.length).toBeGreaterThanOrEqual(2);
    for (const s of subnets.Subnets!)
      expect(s).toMatchObject({
        DefaultForAz: true,
        MapPublicIpOnLaunch: true,
        AvailableIpAddressCount: 4091,
      });
    expect(new Set(subnets.Subnets!.map((s) => s.AvailabilityZone)).size).toBe(subnets.Subnets!.length);
    const west = srv.ec2("eu-west-1");
    const dw = await west.send(new DescribeVpcsCommand({}));
    expect(dw.Vpcs!.map((v) => v.CidrBlock)).toEqual(["172.31.0.0/16"]);
    expect(dw.Vpcs![0]!.VpcId).not.toBe(d.Vpcs![0]!.VpcId);
  });

  const badCidrs = [
    { cidr: "10.0.0.0/8", code: "InvalidVpc.Range" },
    { cidr: "10.0.0.0/29", code: "InvalidVpc.Range" },
    { cidr: "10.0.0.1/16", code: "InvalidParameterValue" },
    { cidr: "not-a-cidr", code: "InvalidParameterValue" },
    { cidr: "300.0.0.0/16", code: "InvalidParameterValue" },
  ];
  for (const c of badCidrs)
    it(`refuses CreateVpc ${c.cidr} with ${c.code}`, async () => {
      const before = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs!.length;
      expect((await fails(ec2.send(new CreateVpcCommand({ CidrBlock: c.cidr })))).name).toBe(c.code);
      expect((await ec2.send(new DescribeVpcsCommand({}))).Vpcs!.length).toBe(before);
    });

  it("toggles DNS attributes and refuses hostnames without support", async () => {
    const { Vpc } = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.1.0.0/16" }));
    const id = Vpc!.VpcId!;
    const hn = await ec2.send(
      new DescribeVpcAttributeCommand({ VpcId: id, Attribute: "enableDnsHostnames" }),
    );
    expect(hn.EnableDnsHostnames?.Value).toBe(false);
    await ec2.send(new ModifyVpcAttributeCommand({ VpcId: id, EnableDnsHostnames: { Value: true } }));
    expect(
      (await ec2.send(new DescribeVpcAttributeCommand({ VpcId: id, Attribute: "enableDnsHostnames" })))
        .EnableDnsHostnames?.Value,
    ).toBe(true);
    expect(
      (await ec2.send(new DescribeVpcAttributeCommand({ VpcId: id, Attribute: "enableDnsSupport" })))
        .EnableDnsSupport?.Value,
    ).toBe(true);
    const e = await fails(
      ec2.send(new ModifyVpcAttributeCommand({ VpcId: id, EnableDnsSupport: { Value: false } })),
    );
    expect(e.name).toBe("InvalidParameterValue");
    await ec2.send(new DeleteVpcCommand({ VpcId: id }));
  });

  it("associates secondary CIDR blocks and refuses overlapping ones", async () => {
    const { Vpc } = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.2.0.0/16" }));
    const r = await ec2.send(
      new AssociateVpcCidrBlockCommand({ VpcId: Vpc!.VpcId!, CidrBlock: "10.3.0.0/16" }),
    );
    expect(r.CidrBlockAssociation?.CidrBlock).toBe("10.3.0.0/16");
    const s = await ec2.send(new CreateSubnetCommand({ VpcId: Vpc!.VpcId!, CidrBlock: "10.3.1.0/24" }));
    expect(s.Subnet?.CidrBlock).toBe("10.3.1.0/24");
    expect(
      (
        await fails(
          ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: Vpc!.VpcId!, CidrBlock: "10.2.128.0/17" })),
        )
      ).name,
    ).toBe("InvalidVpc.Range");
    expect((await fails(ec2.send(new DeleteVpcCommand({ VpcId: Vpc!.VpcId! })))).name).toBe(
      "DependencyViolation",
    );
    await ec2.send(new DeleteSubnetCommand({ SubnetId: s.Subnet!.SubnetId! }));
    await ec2.send(new DeleteVpcCommand({ VpcId: Vpc!.VpcId! }));
  });

  it("filters (ORed values, ANDed filters, wildcards, tags) and paginates", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const { Vpc } = await ec2.send(
        new CreateVpcCommand({
          CidrBlock: `10.${50 + i}.0.0/16`,
          TagSpecifications: [
            { ResourceType: "vpc", Tags: [{ Key: "team", Value: i % 2 ? "blue" : "red" }] },
          ],
        }),
      );
      ids.push(Vpc!.VpcId!);
    }
    const blue = await ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: "tag:team", Values: ["blue"] }] }),
    );
    expect(blue.Vpcs!.map((v) => v.VpcId).sort()).toEqual([ids[1], ids[3], ids[5]].sort());
    const both = await ec2.send(
      new DescribeVpcsCommand({
        Filters: [
          { Name: "tag:team", Values: ["blue", "red"] },
          { Name: "cidr-block", Values: ["10.5?.0.0/16"] },
        ],
      }),
    );
    expect(both.Vpcs!.length).toBe(7);
    const tagKey = await ec2.send(
      new DescribeVpcsCommand({
        Filters: [
          { Name: "tag-key", Values: ["team"] },
          { Name: "vpc-id", Values: [ids[0]!] },
        ],
      }),
    );
    expect(tagKey.Vpcs!.map((v) => v.VpcId)).toEqual([ids[0]]);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const p = await ec2.send(
        new DescribeVpcsCommand({
          Filters: [{ Name: "tag-key", Values: ["team"] }],
          MaxResults: 5,
          NextToken: token,
        }),
      );
      seen.push(...p.Vpcs!.map((v) => v.VpcId!));
      token = p.NextToken;
      pages++;
    } while (token);
    expect(pages).toBe(2);
    expect(seen.sort()).toEqual([...ids].sort());
    expect(
      (await fails(ec2.send(new DescribeVpcsCommand({ MaxResults: 5, NextToken: "garbage" })))).name,
    ).toBe("InvalidNextToken");
    expect(
      (
        await fails(
          ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "no-such-filter", Values: ["x"] }] })),
        )
      ).name,
    ).toBe("InvalidParameterValue");
    for (const id of ids) await ec2.send(new DeleteVpcCommand({ VpcId: id }));
  });

  it("tags and untags resources and lists them with DescribeTags", async () => {
    const { Vpc } = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.9.0.0/16" }));
    const id = Vpc!.VpcId!;
    await ec2.send(
      new CreateTagsCommand({
        Resources: [id],
        Tags: [
          { Key: "env", Value: "prod" },
          { Key: "owner", Value: "me" },
        ],
      }),
    );
    const t = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: "resource-id", Values: [id] }] }));
    expect(t.Tags).toEqual([
      { Key: "env", ResourceId: id, ResourceType: "vpc", Value: "prod" },
      { Key: "owner", ResourceId: id, ResourceType: "vpc", Value: "me" },
    ]);
    await ec2.send(
      new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: "env", Value: "dev" }, { Key: "owner" }] }),
    );
    const after = await ec2.send(new DescribeVpcsCommand({ VpcIds: [id] }));
    expect(after.Vpcs![0]!.Tags).toEqual([{ Key: "env", Value: "prod" }]);
    expect(
      (
        await fails(
          ec2.send(
            new CreateTagsCommand({ Resources: ["vpc-00000000000000000"], Tags: [{ Key: "a", Value: "b" }] }),
          ),
        )
      ).name,
    ).toBe("InvalidVpcID.NotFound");
    await ec2.send(new DeleteVpcCommand({ VpcId: id }));
  });

  it("answers DryRun with DryRunOperation and changes nothing", async () => {
    const before = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs!.length;
    const e = await fails(ec2.send(new CreateVpcCommand({ CidrBlock: "10.10.0.0/16", DryRun: true })));
    expect(e).toMatchObject({ name: "DryRunOperation", status: 412 });
    expect((await ec2.send(new DescribeVpcsCommand({}))).Vpcs!.length).toBe(before);
    expect(
      (await fails(ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/8", DryRun: true })))).name,
    ).toBe("InvalidVpc.Range");
  });
});
