import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  DeleteTagsCommand,
  DeleteVpcCommand,
  DeleteVpcEndpointsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
  type EC2Client,
  type Filter,
  ModifyVpcEndpointCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { makeVpc, type TestVpc } from "./consumer-fixtures.js";

/**
 * Describe answers are built once per state version (src/api/shape-memo.ts) and their XML kept
 * with them: every change must show in the very next Describe, including changes to objects an
 * answer only refers to (a group's name, a subnet's ENIs, an endpoint's zonal names).
 */
let srv: TestServer;
let ec2: EC2Client;
let vpc: TestVpc;

beforeAll(async () => {
  srv = await startTestServer();
  ec2 = srv.ec2();
  vpc = await makeVpc(ec2, { cidr: "10.30.0.0/16" });
});

afterAll(async () => {
  await srv?.stop();
});

const byVpc = () => [{ Name: "vpc-id", Values: [vpc.vpcId] }];

async function endpoints() {
  return (await ec2.send(new DescribeVpcEndpointsCommand({ Filters: byVpc() }))).VpcEndpoints ?? [];
}

/** An STS interface endpoint in the VPC's us-east-1a subnet: its ID. */
async function stsEndpoint(v: TestVpc): Promise<string> {
  const out = await ec2.send(
    new CreateVpcEndpointCommand({
      VpcId: v.vpcId,
      VpcEndpointType: "Interface",
      ServiceName: "com.amazonaws.us-east-1.sts",
      SubnetIds: [v.subnets["us-east-1a"]!],
    }),
  );
  return out.VpcEndpoint!.VpcEndpointId!;
}

describe("Describe answers after each change (per-version shapes)", () => {
  it("shows tags, subnets, groups and deletions of endpoints in the next answer", async () => {
    const id = await stsEndpoint(vpc);
    const first = await endpoints();
    expect(await endpoints()).toEqual(first);
    expect(first.map((e) => e.VpcEndpointId)).toEqual([id]);

    await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: "team", Value: "blue" }] }));
    expect((await endpoints())[0]!.Tags).toEqual([{ Key: "team", Value: "blue" }]);

    const zonal = (e: { DnsEntries?: { DnsName?: string }[] }) =>
      (e.DnsEntries ?? []).map((d) => d.DnsName!).filter((n) => /-us-east-1[a-z]\./.test(n));
    expect(zonal(first[0]!)).toHaveLength(1);
    const group = (
      await ec2.send(
        new CreateSecurityGroupCommand({ VpcId: vpc.vpcId, GroupName: "memo-g", Description: "memo" }),
      )
    ).GroupId!;
    await ec2.send(
      new ModifyVpcEndpointCommand({
        VpcEndpointId: id,
        AddSubnetIds: [vpc.subnets["us-east-1b"]!],
        AddSecurityGroupIds: [group],
      }),
    );
    const modified = (await endpoints())[0]!;
    expect(modified.SubnetIds?.sort()).toEqual([vpc.subnets["us-east-1a"], vpc.subnets["us-east-1b"]].sort());
    expect(zonal(modified)).toHaveLength(2);
    expect(modified.Groups).toContainEqual({ GroupId: group, GroupName: "memo-g" });

    await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [id] }));
    const gone = (await endpoints()).find((e) => e.VpcEndpointId === id);
    expect(gone === undefined || /^delet/i.test(String(gone.State))).toBe(true);
  });

  it("shows a subnet's address count, ENIs, VPC tags and group rules as they change", async () => {
    const subnetId = vpc.subnets["us-east-1c"]!;
    const count = async () =>
      (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }))).Subnets![0]!
        .AvailableIpAddressCount!;
    const enis = async () =>
      (
        await ec2.send(
          new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "subnet-id", Values: [subnetId] }] }),
        )
      ).NetworkInterfaces ?? [];
    const before = await count();
    expect(await enis()).toEqual([]);
    const id = (
      await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: vpc.vpcId,
          VpcEndpointType: "Interface",
          ServiceName: "com.amazonaws.us-east-1.ssm",
          SubnetIds: [subnetId],
        }),
      )
    ).VpcEndpoint!.VpcEndpointId!;
    expect(await count()).toBe(before - 1);
    expect((await enis()).map((e) => e.Description)).toEqual([`VPC Endpoint Interface ${id}`]);

    await ec2.send(new CreateTagsCommand({ Resources: [vpc.vpcId], Tags: [{ Key: "memo", Value: "1" }] }));
    const tagged = await ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: "tag:memo", Values: ["1"] }] }),
    );
    expect(tagged.Vpcs?.map((v) => v.VpcId)).toEqual([vpc.vpcId]);

    const groups = () =>
      ec2
        .send(new DescribeSecurityGroupsCommand({ GroupIds: [vpc.defaultSg] }))
        .then((r) => r.SecurityGroups![0]!);
    const ruleCount = (await groups()).IpPermissions!.length;
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: vpc.defaultSg,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 8443, ToPort: 8443, IpRanges: [{ CidrIp: "10.0.0.0/8" }] },
        ],
      }),
    );
    expect((await groups()).IpPermissions!.length).toBe(ruleCount + 1);
  });
});

/** The IDs each Describe answers for `filters`. */
async function ids(filters: Filter[]) {
  const [subnets, groups, endpoints, enis] = await Promise.all([
    ec2.send(new DescribeSubnetsCommand({ Filters: filters })),
    ec2.send(new DescribeSecurityGroupsCommand({ Filters: filters })),
    ec2.send(new DescribeVpcEndpointsCommand({ Filters: filters })),
    ec2.send(new DescribeNetworkInterfacesCommand({ Filters: filters })),
  ]);
  return {
    subnets: subnets.Subnets!.map((s) => s.VpcId),
    groups: groups.SecurityGroups!.map((g) => g.VpcId),
    endpoints: endpoints.VpcEndpoints!.map((e) => e.VpcId),
    enis: enis.NetworkInterfaces!.map((e) => e.VpcId),
  };
}

const vpcId = (...values: string[]): Filter => ({ Name: "vpc-id", Values: values });

describe("Describes pinned by one vpc-id (read from its index bucket, not tested again)", () => {
  it("answer what all their filters select, a second filter of the same name included", async () => {
    const a = await makeVpc(ec2, { cidr: "10.41.0.0/16" });
    const b = await makeVpc(ec2, { cidr: "10.42.0.0/16" });
    for (const v of [a, b]) await stsEndpoint(v);
    const one = await ids([vpcId(a.vpcId)]);
    expect(one.subnets).toEqual([a.vpcId, a.vpcId, a.vpcId]);
    expect(one.groups).toEqual([a.vpcId]);
    expect(one.endpoints).toEqual([a.vpcId]);
    expect(one.enis).toEqual([a.vpcId]);
    // A second vpc-id filter is ANDed: another VPC's leaves nothing, the same one changes nothing.
    expect(await ids([vpcId(a.vpcId), vpcId(b.vpcId)])).toEqual({
      subnets: [],
      groups: [],
      endpoints: [],
      enis: [],
    });
    expect(await ids([vpcId(a.vpcId), vpcId(a.vpcId)])).toEqual(one);
    // Two values pin nothing: the whole kind is read and filtered.
    const both = await ids([vpcId(a.vpcId, b.vpcId)]);
    expect(both.groups.sort()).toEqual([a.vpcId, b.vpcId].sort());
    expect(both.endpoints.sort()).toEqual([a.vpcId, b.vpcId].sort());
    // Another filter with the pinned one still runs.
    const az = await ec2.send(
      new DescribeSubnetsCommand({
        Filters: [vpcId(a.vpcId), { Name: "availability-zone", Values: ["us-east-1b"] }],
      }),
    );
    expect(az.Subnets!.map((x) => x.SubnetId)).toEqual([a.subnets["us-east-1b"]]);
    const enis = await ec2.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [{ Name: "subnet-id", Values: [a.subnets["us-east-1a"]!] }, vpcId(b.vpcId)],
      }),
    );
    expect(enis.NetworkInterfaces).toEqual([]);
  });
});

describe("DescribeVpcs after each change (the caller's VPCs read once per version)", () => {
  it("lists a VPC created or deleted, tagged or not, in the very next answer", async () => {
    const listed = async () =>
      ((await ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? []).map((v) => v.VpcId!).sort();
    const tagged = async () =>
      (
        (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "tag:memo", Values: ["v"] }] }))).Vpcs ??
        []
      ).map((v) => v.VpcId);
    const before = await listed();
    expect(await listed()).toEqual(before);
    const id = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.77.0.0/16" }))).Vpc!.VpcId!;
    expect(await listed()).toEqual([...before, id].sort());
    expect(await tagged()).toEqual([]);
    await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: "memo", Value: "v" }] }));
    expect(await tagged()).toEqual([id]);
    await ec2.send(new DeleteVpcCommand({ VpcId: id }));
    expect(await listed()).toEqual(before);
    expect(await tagged()).toEqual([]);
  });
});

type TagList = { Key?: string; Value?: string }[];
/** Network interfaces list their tags as `TagSet`, the others as `Tags`. */
type Tagged = { Tags?: TagList; TagSet?: TagList };

/** Each Describe's IDs for `filters`, in answer order: VPCs, subnets, groups, ENIs. */
async function listed(filters?: Filter[]) {
  const [vpcs, subnets, groups, enis] = await Promise.all([
    ec2.send(new DescribeVpcsCommand({ Filters: filters })),
    ec2.send(new DescribeSubnetsCommand({ Filters: filters })),
    ec2.send(new DescribeSecurityGroupsCommand({ Filters: filters })),
    ec2.send(new DescribeNetworkInterfacesCommand({ Filters: filters })),
  ]);
  return {
    vpcs: vpcs.Vpcs!,
    subnets: subnets.Subnets!,
    groups: groups.SecurityGroups!,
    enis: enis.NetworkInterfaces!,
  };
}

/** What a scan selects for tag `key` = `value`: the unfiltered answers, filtered here, in their order. */
async function scanned(key: string, value: string) {
  const all = await listed();
  const has = (x: Tagged) => (x.Tags ?? x.TagSet ?? []).some((t) => t.Key === key && t.Value === value);
  return {
    vpcs: all.vpcs.filter(has).map((x) => x.VpcId),
    subnets: all.subnets.filter(has).map((x) => x.SubnetId),
    groups: all.groups.filter(has).map((x) => x.GroupId),
    enis: all.enis.filter(has).map((x) => x.NetworkInterfaceId),
  };
}

async function byTag(key: string, value: string, ...more: Filter[]) {
  const got = await listed([{ Name: `tag:${key}`, Values: [value] }, ...more]);
  return {
    vpcs: got.vpcs.map((x) => x.VpcId),
    subnets: got.subnets.map((x) => x.SubnetId),
    groups: got.groups.map((x) => x.GroupId),
    enis: got.enis.map((x) => x.NetworkInterfaceId),
  };
}

describe("Describes pinned by one tag:KEY value (read from the tag index)", () => {
  it("answer what a scan selects, in its order, through tags, retags, untags and deletes", async () => {
    const c = await makeVpc(ec2, { cidr: "10.51.0.0/16" });
    const extra = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.52.0.0/16" }))).Vpc!.VpcId!;
    await stsEndpoint(c);
    const eni = (await listed([vpcId(c.vpcId)])).enis[0]!.NetworkInterfaceId!;
    const [s1, s2, s3] = ["us-east-1a", "us-east-1b", "us-east-1c"].map((az) => c.subnets[az]!);
    const tag = (ids: string[], Value: string) =>
      ec2.send(new CreateTagsCommand({ Resources: ids, Tags: [{ Key: "pin", Value }] }));
    const expectScan = async (value: string) =>
      expect(await byTag("pin", value)).toEqual(await scanned("pin", value));

    // Newest first: each object joins its bucket out of creation order; the answer is the scan's.
    await tag([extra, s3, eni], "x");
    expect(await byTag("pin", "x")).toEqual({ vpcs: [extra], subnets: [s3], groups: [], enis: [eni] });
    await tag([c.vpcId, s1, c.defaultSg], "x");
    await expectScan("x");
    expect((await byTag("pin", "x")).vpcs).toEqual([c.vpcId, extra]);
    expect((await byTag("pin", "x")).subnets).toEqual([s1, s3]);
    // A retag moves each to its new value's answer in the very next request.
    await tag([s1, c.vpcId], "y");
    expect((await byTag("pin", "x")).subnets).toEqual([s3]);
    expect((await byTag("pin", "y")).subnets).toEqual([s1]);
    expect((await byTag("pin", "y")).vpcs).toEqual([c.vpcId]);
    await expectScan("x");
    await expectScan("y");
    // Another tag beside it changes nothing; removing it (or the pinned tag) does.
    await ec2.send(new CreateTagsCommand({ Resources: [s2, s3], Tags: [{ Key: "other", Value: "x" }] }));
    expect((await byTag("pin", "x")).subnets).toEqual([s3]);
    await ec2.send(new DeleteTagsCommand({ Resources: [s3, eni], Tags: [{ Key: "pin" }] }));
    expect(await byTag("pin", "x")).toEqual({ vpcs: [extra], subnets: [], groups: [c.defaultSg], enis: [] });
    await expectScan("x");
    // The other filters still run, a second filter of the pinned name included.
    const inAz = (az: string) =>
      ec2.send(
        new DescribeSubnetsCommand({
          Filters: [
            { Name: "tag:pin", Values: ["y"] },
            { Name: "availability-zone", Values: [az] },
          ],
        }),
      );
    expect((await inAz("us-east-1b")).Subnets).toEqual([]);
    expect((await inAz("us-east-1a")).Subnets!.map((x) => x.SubnetId)).toEqual([s1]);
    expect((await byTag("pin", "y", { Name: "tag:pin", Values: ["y"] })).vpcs).toEqual([c.vpcId]);
    // A deleted VPC leaves the answer at once.
    await ec2.send(new DeleteVpcCommand({ VpcId: extra }));
    expect((await byTag("pin", "x")).vpcs).toEqual([]);
    await expectScan("x");
    // Wildcards and two values are not pinned: the same answers through the scan.
    const wild = await listed([{ Name: "tag:pin", Values: ["?"] }]);
    expect(wild.vpcs.map((v) => v.VpcId)).toEqual([c.vpcId]);
    expect(wild.groups.map((g) => g.GroupId)).toEqual([c.defaultSg]);
  });
});
