import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcEndpointCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DeleteVpcEndpointsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeTagsCommand,
  type EC2Client,
  ModifyVpcEndpointCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_INTERFACE_POLICY } from "../../src/cloud/endpoint.js";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { signedFetch } from "../helpers/sign.js";
import { describeEndpoint, makeVpc, type TestVpc, until, waitForState } from "./consumer-fixtures.js";

let srv: TestServer;
let ec2: EC2Client;
let net: TestVpc;

beforeAll(async () => {
  srv = await startTestServer();
  ec2 = srv.ec2();
  net = await makeVpc(ec2);
});
afterAll(() => srv.stop());

const ZONE = "Z7HUB22UULQXV";

async function enis(ids: string[]) {
  return (await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ids })))
    .NetworkInterfaces!;
}

describe("interface endpoints to AWS services", () => {
  it("creates one requester-managed ENI per subnet, AWS's DNS names, and goes pending → available", async () => {
    const sg = (
      await ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: "endpoints",
          Description: "endpoints",
          VpcId: net.vpcId,
        }),
      )
    ).GroupId!;
    const out = await ec2.send(
      new CreateVpcEndpointCommand({
        VpcId: net.vpcId,
        VpcEndpointType: "Interface",
        ServiceName: "com.amazonaws.us-east-1.secretsmanager",
        SubnetIds: [net.subnets["us-east-1b"]!, net.subnets["us-east-1a"]!],
        SecurityGroupIds: [sg],
        TagSpecifications: [{ ResourceType: "vpc-endpoint", Tags: [{ Key: "Name", Value: "secrets" }] }],
      }),
    );
    const e = out.VpcEndpoint!;
    const id = e.VpcEndpointId!;
    expect(id).toMatch(/^vpce-[0-9a-f]{17}$/);
    expect(e).toMatchObject({
      VpcEndpointType: "Interface",
      VpcId: net.vpcId,
      ServiceName: "com.amazonaws.us-east-1.secretsmanager",
      State: "pending",
      PolicyDocument: DEFAULT_INTERFACE_POLICY,
      RouteTableIds: [],
      SubnetIds: [net.subnets["us-east-1b"], net.subnets["us-east-1a"]],
      Groups: [{ GroupId: sg, GroupName: "endpoints" }],
      IpAddressType: "ipv4",
      DnsOptions: { DnsRecordIpType: "ipv4" },
      PrivateDnsEnabled: true,
      RequesterManaged: false,
      OwnerId: "000000000000",
      ServiceRegion: "us-east-1",
      Tags: [{ Key: "Name", Value: "secrets" }],
    });
    expect(e.CreationTimestamp).toBeInstanceOf(Date);
    expect(e.NetworkInterfaceIds).toHaveLength(2);
    const names = e.DnsEntries!.map((d) => d.DnsName!);
    const sfx = /^vpce-[0-9a-f]{17}-([a-z0-9]{8})\./.exec(names[0]!)![1];
    expect(e.DnsEntries).toEqual([
      { DnsName: `${id}-${sfx}.secretsmanager.us-east-1.vpce.amazonaws.com`, HostedZoneId: ZONE },
      { DnsName: `${id}-${sfx}-us-east-1a.secretsmanager.us-east-1.vpce.amazonaws.com`, HostedZoneId: ZONE },
      { DnsName: `${id}-${sfx}-us-east-1b.secretsmanager.us-east-1.vpce.amazonaws.com`, HostedZoneId: ZONE },
      {
        DnsName: "secretsmanager.us-east-1.amazonaws.com",
        HostedZoneId: expect.stringMatching(/^Z[0-9A-Z]+$/),
      },
    ]);
    expect(e.DnsEntries![3]!.HostedZoneId).not.toBe(ZONE);

    const available = await waitForState(ec2, id, "available");
    expect(available.NetworkInterfaceIds).toEqual(e.NetworkInterfaceIds);

    const list = await enis(e.NetworkInterfaceIds!);
    for (const n of list) {
      expect(n).toMatchObject({
        InterfaceType: "vpc_endpoint",
        RequesterManaged: true,
        RequesterId: "727180483921",
        Description: `VPC Endpoint Interface ${id}`,
        Status: "in-use",
        VpcId: net.vpcId,
        Groups: [{ GroupId: sg, GroupName: "endpoints" }],
      });
    }
    const bySubnet = Object.fromEntries(list.map((n) => [n.SubnetId, n.PrivateIpAddress]));
    // The first four addresses of a subnet are AWS's; the ENI gets the next free one.
    expect(bySubnet[net.subnets["us-east-1a"]!]).toBe("10.0.1.4");
    expect(bySubnet[net.subnets["us-east-1b"]!]).toBe("10.0.2.4");

    const tags = await ec2.send(
      new DescribeTagsCommand({ Filters: [{ Name: "resource-id", Values: [id] }] }),
    );
    expect(tags.Tags).toEqual([
      { ResourceId: id, ResourceType: "vpc-endpoint", Key: "Name", Value: "secrets" },
    ]);
    await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: "team", Value: "a" }] }));
    expect((await describeEndpoint(ec2, id)).Tags).toContainEqual({ Key: "team", Value: "a" });
  });

  it("uses the VPC's default security group, a chosen address, and allows no subnets", async () => {
    const e = (
      await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: net.vpcId,
          VpcEndpointType: "Interface",
          ServiceName: "com.amazonaws.us-east-1.ssm",
          SubnetConfigurations: [{ SubnetId: net.subnets["us-east-1c"]!, Ipv4: "10.0.3.77" }],
          PrivateDnsEnabled: false,
        }),
      )
    ).VpcEndpoint!;
    expect(e.Groups).toEqual([{ GroupId: net.defaultSg, GroupName: "default" }]);
    expect(e.SubnetIds).toEqual([net.subnets["us-east-1c"]]);
    expect((await enis(e.NetworkInterfaceIds!))[0]!.PrivateIpAddress).toBe("10.0.3.77");
    expect(e.PrivateDnsEnabled).toBe(false);
    expect(e.DnsEntries!.map((d) => d.DnsName)).not.toContain("ssm.us-east-1.amazonaws.com");

    const bare = (
      await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: net.vpcId,
          VpcEndpointType: "Interface",
          ServiceName: "com.amazonaws.us-east-1.kms",
          PrivateDnsEnabled: false,
        }),
      )
    ).VpcEndpoint!;
    expect(bare.NetworkInterfaceIds).toEqual([]);
    expect(bare.DnsEntries).toHaveLength(1);
    expect(bare.DnsEntries![0]!.DnsName).toMatch(
      /^vpce-[0-9a-f]{17}-[a-z0-9]{8}\.kms\.us-east-1\.vpce\.amazonaws\.com$/,
    );
    await ec2.send(
      new DeleteVpcEndpointsCommand({ VpcEndpointIds: [e.VpcEndpointId!, bare.VpcEndpointId!] }),
    );
  });

  it("gives S3 interface endpoints wildcard names and private DNS only with a gateway endpoint", async () => {
    const v = await makeVpc(ec2, { cidr: "10.9.0.0/16" });
    const s3 = {
      VpcId: v.vpcId,
      VpcEndpointType: "Interface" as const,
      ServiceName: "com.amazonaws.us-east-1.s3",
      SubnetIds: [v.subnets["us-east-1a"]!],
    };
    const plain = (await ec2.send(new CreateVpcEndpointCommand(s3))).VpcEndpoint!;
    expect(plain.PrivateDnsEnabled).toBe(false);
    expect(plain.DnsEntries!.map((d) => d.DnsName)).toEqual([
      expect.stringMatching(/^\*\.vpce-[0-9a-f]{17}-[a-z0-9]{8}\.s3\.us-east-1\.vpce\.amazonaws\.com$/),
      expect.stringMatching(
        /^\*\.vpce-[0-9a-f]{17}-[a-z0-9]{8}-us-east-1a\.s3\.us-east-1\.vpce\.amazonaws\.com$/,
      ),
    ]);
    const err = await fails(
      ec2.send(
        new CreateVpcEndpointCommand({
          ...s3,
          SubnetIds: [v.subnets["us-east-1b"]!],
          PrivateDnsEnabled: true,
        }),
      ),
    );
    expect(err).toMatchObject({
      name: "InvalidParameter",
      message: `To set PrivateDnsOnlyForInboundResolverEndpoint to true, the VPC ${v.vpcId} must have a Gateway endpoint for the service.`,
    });
    await ec2.send(
      new CreateVpcEndpointCommand({
        VpcId: v.vpcId,
        ServiceName: "com.amazonaws.us-east-1.s3",
        RouteTableIds: [v.mainRouteTable],
      }),
    );
    const withDns = (
      await ec2.send(
        new CreateVpcEndpointCommand({
          ...s3,
          SubnetIds: [v.subnets["us-east-1b"]!],
          PrivateDnsEnabled: true,
        }),
      )
    ).VpcEndpoint!;
    expect(withDns.DnsOptions).toEqual({
      DnsRecordIpType: "ipv4",
      PrivateDnsOnlyForInboundResolverEndpoint: true,
    });
    expect(withDns.DnsEntries!.slice(2).map((d) => d.DnsName)).toEqual([
      "*.s3.us-east-1.amazonaws.com",
      "*.s3-accesspoint.us-east-1.amazonaws.com",
      "*.s3-control.us-east-1.amazonaws.com",
    ]);
  });
});

describe("ModifyVpcEndpoint", () => {
  it("adds, removes and re-addresses subnets, changes groups, policy and private DNS", async () => {
    const v = await makeVpc(ec2, { cidr: "10.1.0.0/16" });
    const e = (
      await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: v.vpcId,
          VpcEndpointType: "Interface",
          ServiceName: "com.amazonaws.us-east-1.logs",
          SubnetIds: [v.subnets["us-east-1a"]!, v.subnets["us-east-1b"]!],
        }),
      )
    ).VpcEndpoint!;
    const id = e.VpcEndpointId!;
    const [eniA, eniB] = e.NetworkInterfaceIds!;

    await ec2.send(
      new ModifyVpcEndpointCommand({
        VpcEndpointId: id,
        AddSubnetIds: [v.subnets["us-east-1c"]!],
        RemoveSubnetIds: [v.subnets["us-east-1a"]!],
        SubnetConfigurations: [{ SubnetId: v.subnets["us-east-1b"]!, Ipv4: "10.1.2.200" }],
      }),
    );
    let now = await describeEndpoint(ec2, id);
    expect(now.SubnetIds).toEqual([v.subnets["us-east-1b"], v.subnets["us-east-1c"]]);
    expect(now.NetworkInterfaceIds).toHaveLength(2);
    expect(now.NetworkInterfaceIds).not.toContain(eniA);
    expect(now.NetworkInterfaceIds).not.toContain(eniB);
    const ips = Object.fromEntries(
      (await enis(now.NetworkInterfaceIds!)).map((n) => [n.SubnetId, n.PrivateIpAddress]),
    );
    expect(ips).toEqual({ [v.subnets["us-east-1b"]!]: "10.1.2.200", [v.subnets["us-east-1c"]!]: "10.1.3.4" });
    expect(now.DnsEntries!.map((d) => d.DnsName).filter((n) => /-us-east-1[a-f]\./.test(n!))).toEqual([
      expect.stringContaining("-us-east-1b.logs."),
      expect.stringContaining("-us-east-1c.logs."),
    ]);
    expect(
      (await fails(ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniA!] })))).name,
    ).toBe("InvalidNetworkInterfaceID.NotFound");

    const sg = (
      await ec2.send(
        new CreateSecurityGroupCommand({ GroupName: "logs", Description: "logs", VpcId: v.vpcId }),
      )
    ).GroupId!;
    await ec2.send(
      new ModifyVpcEndpointCommand({
        VpcEndpointId: id,
        AddSecurityGroupIds: [sg],
        RemoveSecurityGroupIds: [v.defaultSg],
      }),
    );
    now = await describeEndpoint(ec2, id);
    expect(now.Groups).toEqual([{ GroupId: sg, GroupName: "logs" }]);
    for (const n of await enis(now.NetworkInterfaceIds!))
      expect(n.Groups).toEqual([{ GroupId: sg, GroupName: "logs" }]);
    const lastGroup = await fails(
      ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, RemoveSecurityGroupIds: [sg] })),
    );
    expect(lastGroup.name).toBe("InvalidParameter");

    const policy = JSON.stringify({
      Statement: [{ Effect: "Allow", Principal: "*", Action: "logs:PutLogEvents", Resource: "*" }],
    });
    await ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, PolicyDocument: policy }));
    expect((await describeEndpoint(ec2, id)).PolicyDocument).toBe(policy);
    await ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, ResetPolicy: true }));
    expect((await describeEndpoint(ec2, id)).PolicyDocument).toBe(DEFAULT_INTERFACE_POLICY);

    await ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, PrivateDnsEnabled: false }));
    now = await describeEndpoint(ec2, id);
    expect(now.PrivateDnsEnabled).toBe(false);
    expect(now.DnsEntries!.map((d) => d.DnsName)).not.toContain("logs.us-east-1.amazonaws.com");
    await ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, PrivateDnsEnabled: true }));
    expect((await describeEndpoint(ec2, id)).DnsEntries!.at(-1)!.DnsName).toBe(
      "logs.us-east-1.amazonaws.com",
    );

    const rtOnInterface = await fails(
      ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, AddRouteTableIds: [v.mainRouteTable] })),
    );
    expect(rtOnInterface).toMatchObject({
      name: "InvalidParameter",
      message: "Route table IDs are only supported for Gateway type VPC Endpoint.",
    });
    const dup = await fails(
      ec2.send(
        new ModifyVpcEndpointCommand({ VpcEndpointId: id, AddSubnetIds: [net.subnets["us-east-1a"]!] }),
      ),
    );
    expect(dup.name).toBe("InvalidParameter");
    expect(dup.message).toContain("does not belong");
    const otherB = (
      await ec2.send(
        new CreateSubnetCommand({
          VpcId: v.vpcId,
          CidrBlock: "10.1.10.0/24",
          AvailabilityZone: "us-east-1b",
        }),
      )
    ).Subnet!.SubnetId!;
    const sameZone = await fails(
      ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, AddSubnetIds: [otherB] })),
    );
    expect(sameZone).toMatchObject({
      name: "DuplicateSubnetsInSameZone",
      message: `Found another VPC endpoint subnet in the availability zone of ${otherB}. VPC endpoint subnets should be in different availability zones supported by the VPC endpoint service.`,
    });
  });
});

describe("deleting", () => {
  it("releases ENIs and addresses at once, keeps the endpoint visible as deleted, and unblocks the VPC", async () => {
    const v = await makeVpc(ec2, { cidr: "10.2.0.0/16", azs: ["us-east-1a"] });
    const subnet = v.subnets["us-east-1a"]!;
    const e = (
      await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: v.vpcId,
          VpcEndpointType: "Interface",
          ServiceName: "com.amazonaws.us-east-1.sts",
          SubnetIds: [subnet],
        }),
      )
    ).VpcEndpoint!;
    const id = e.VpcEndpointId!;
    expect((await fails(ec2.send(new DeleteSubnetCommand({ SubnetId: subnet })))).name).toBe(
      "DependencyViolation",
    );
    expect((await fails(ec2.send(new DeleteVpcCommand({ VpcId: v.vpcId })))).name).toBe(
      "DependencyViolation",
    );

    const del = await ec2.send(
      new DeleteVpcEndpointsCommand({ VpcEndpointIds: [id, "vpce-0123456789abcdef0", "vpce-nope"] }),
    );
    expect(del.Unsuccessful).toEqual([
      {
        Error: {
          Code: "InvalidVpcEndpointId.NotFound",
          Message: "The Vpc Endpoint Id 'vpce-0123456789abcdef0' does not exist",
        },
        ResourceId: "vpce-0123456789abcdef0",
      },
      {
        Error: { Code: "InvalidVpcEndpointId.Malformed", Message: expect.stringContaining("vpce-nope") },
        ResourceId: "vpce-nope",
      },
    ]);
    const deleted = await waitForState(ec2, id, "deleted");
    expect(deleted.NetworkInterfaceIds).toEqual([]);
    expect(
      (
        await fails(
          ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: e.NetworkInterfaceIds! })),
        )
      ).name,
    ).toBe("InvalidNetworkInterfaceID.NotFound");
    const again = await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [id] }));
    expect(again.Unsuccessful![0]!.Error!.Code).toBe("InvalidVpcEndpointId.NotFound");
    // The address is free again: a new endpoint in the subnet gets the same one.
    const next = (
      await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: v.vpcId,
          VpcEndpointType: "Interface",
          ServiceName: "com.amazonaws.us-east-1.sts",
          SubnetIds: [subnet],
        }),
      )
    ).VpcEndpoint!;
    expect((await enis(next.NetworkInterfaceIds!))[0]!.PrivateIpAddress).toBe("10.2.1.4");
    await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [next.VpcEndpointId!] }));
    await ec2.send(new DeleteSubnetCommand({ SubnetId: subnet }));
    await until(
      async () => {
        const r = await ec2.send(new DeleteVpcCommand({ VpcId: v.vpcId })).then(
          () => true,
          () => undefined,
        );
        return r;
      },
      5000,
      "the VPC to be deletable",
    );
  });
});

describe("the wire", () => {
  const VPC_ENDPOINT_ORDER =
    "vpcEndpointId vpcEndpointType vpcId serviceName state policyDocument routeTableIdSet subnetIdSet groupSet ipAddressType dnsOptions privateDnsEnabled requesterManaged networkInterfaceIdSet dnsEntrySet creationTimestamp tagSet ownerId lastError ipv4PrefixSet ipv6PrefixSet failureReason serviceNetworkArn resourceConfigurationArn serviceRegion payerResponsibilitySet".split(
      " ",
    );
  const SERVICE_DETAIL_ORDER =
    "serviceName serviceId serviceType serviceRegion availabilityZoneIdSet availabilityZoneSet owner baseEndpointDnsNameSet privateDnsName privateDnsNameSet vpcEndpointPolicySupported acceptanceRequired managesVpcEndpoints payerResponsibility tagSet privateDnsNameVerificationState supportedIpAddressTypeSet".split(
      " ",
    );

  /** The names of the elements directly inside the first element that `open` starts. */
  function children(xml: string, open: string): string[] {
    const body = xml.slice(xml.indexOf(open) + open.length);
    const out: string[] = [];
    const re = /<([A-Za-z]+)(\/?)>|<\/([A-Za-z]+)>/g;
    let depth = 0;
    for (let m = re.exec(body); m; m = re.exec(body)) {
      if (m[3] !== undefined) {
        if (depth-- === 0) break;
        continue;
      }
      if (depth === 0) out.push(m[1]!);
      if (!m[2]) depth++;
    }
    return out;
  }

  it("writes VpcEndpoint and ServiceDetail members in the schema's order, lowerCamel states and the token", async () => {
    const q = (p: Record<string, string>) =>
      signedFetch(srv.url, { body: new URLSearchParams({ Version: "2016-11-15", ...p }).toString() });
    const r = await q({
      Action: "CreateVpcEndpoint",
      VpcId: net.vpcId,
      VpcEndpointType: "Interface",
      ServiceName: "com.amazonaws.us-east-1.ecr.dkr",
      "SubnetId.1": net.subnets["us-east-1c"]!,
      ClientToken: "wire-1",
      "TagSpecification.1.ResourceType": "vpc-endpoint",
      "TagSpecification.1.Tag.1.Key": "k",
      "TagSpecification.1.Tag.1.Value": "v",
    });
    expect(r.status).toBe(200);
    const members = children(r.body, "<vpcEndpoint>");
    expect(members).toEqual(VPC_ENDPOINT_ORDER.filter((m) => members.includes(m)));
    expect(members).toEqual(
      expect.arrayContaining([
        "vpcEndpointId",
        "state",
        "policyDocument",
        "groupSet",
        "dnsEntrySet",
        "networkInterfaceIdSet",
        "creationTimestamp",
        "ownerId",
        "serviceRegion",
      ]),
    );
    expect(r.body).toContain("<state>pending</state>");
    expect(r.body).toMatch(/<\/vpcEndpoint><clientToken>wire-1<\/clientToken><\/CreateVpcEndpointResponse>$/);
    const s = await q({
      Action: "DescribeVpcEndpointServices",
      "ServiceName.1": "com.amazonaws.us-east-1.ecr.dkr",
    });
    const detail = children(s.body, "<serviceDetailSet><item>");
    expect(detail.length).toBeGreaterThan(12);
    expect(detail).toEqual(SERVICE_DETAIL_ORDER.filter((m) => detail.includes(m)));
    expect(s.body.indexOf("<serviceNameSet>")).toBeLessThan(s.body.indexOf("<serviceDetailSet>"));
  });
});
