import {
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteInternetGatewayCommand,
  DeleteRouteCommand,
  DeleteRouteTableCommand,
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DetachInternetGatewayCommand,
  DisassociateRouteTableCommand,
  type EC2Client,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
let ec2: EC2Client;
let vpcId: string;

beforeAll(async () => {
  srv = await startTestServer();
  ec2 = srv.ec2();
  vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }))).Vpc!.VpcId!;
});
afterAll(() => srv.stop());

describe("subnets", () => {
  it("creates subnets inside the VPC with AWS's five reserved addresses", async () => {
    const { Subnet } = await ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.0.1.0/24", AvailabilityZone: "us-east-1b" }),
    );
    expect(Subnet).toMatchObject({
      CidrBlock: "10.0.1.0/24",
      AvailabilityZone: "us-east-1b",
      AvailabilityZoneId: "use1-az2",
      AvailableIpAddressCount: 251,
      DefaultForAz: false,
      State: "available",
    });
    const errors = [
      { input: { VpcId: vpcId, CidrBlock: "10.0.1.128/25" }, code: "InvalidSubnet.Conflict" },
      { input: { VpcId: vpcId, CidrBlock: "10.1.0.0/24" }, code: "InvalidSubnet.Range" },
      { input: { VpcId: vpcId, CidrBlock: "10.0.2.0/29" }, code: "InvalidSubnet.Range" },
      {
        input: { VpcId: vpcId, CidrBlock: "10.0.3.0/24", AvailabilityZone: "us-east-1z" },
        code: "InvalidParameterValue",
      },
      { input: { VpcId: "vpc-12345678901234567", CidrBlock: "10.0.3.0/24" }, code: "InvalidVpcID.NotFound" },
      { input: { VpcId: vpcId, CidrBlock: "10.0.3.0/33" }, code: "InvalidParameterValue" },
    ];
    for (const e of errors)
      expect((await fails(ec2.send(new CreateSubnetCommand(e.input)))).name, JSON.stringify(e.input)).toBe(
        e.code,
      );
    const d = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }));
    expect(d.Subnets).toHaveLength(1);
    expect((await fails(ec2.send(new DescribeSubnetsCommand({ SubnetIds: ["subnet-bad"] })))).name).toMatch(
      /InvalidSubnetID/,
    );
  });
});

describe("security groups", () => {
  it("authorizes CIDR, group-reference and duplicate rules; revokes; lists rules", async () => {
    const a = (
      await ec2.send(new CreateSecurityGroupCommand({ GroupName: "app", Description: "app", VpcId: vpcId }))
    ).GroupId!;
    const b = (
      await ec2.send(
        new CreateSecurityGroupCommand({ GroupName: "endpoint", Description: "endpoint", VpcId: vpcId }),
      )
    ).GroupId!;
    expect(
      (
        await fails(
          ec2.send(new CreateSecurityGroupCommand({ GroupName: "app", Description: "again", VpcId: vpcId })),
        )
      ).name,
    ).toBe("InvalidGroup.Duplicate");
    const r = await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: b,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: 443,
            ToPort: 443,
            IpRanges: [{ CidrIp: "10.0.0.0/16", Description: "vpc" }],
            UserIdGroupPairs: [{ GroupId: a }],
          },
        ],
      }),
    );
    expect(r.Return).toBe(true);
    expect(r.SecurityGroupRules).toHaveLength(2);
    const dup = await fails(
      ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: b,
          IpPermissions: [
            { IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "10.0.0.0/16" }] },
          ],
        }),
      ),
    );
    expect(dup.name).toBe("InvalidPermission.Duplicate");
    const bad = await fails(
      ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: b,
          IpPermissions: [
            { IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "10.0.0.0/99" }] },
          ],
        }),
      ),
    );
    expect(bad.name).toBe("InvalidParameterValue");
    const g = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [b] }))).SecurityGroups![0]!;
    expect(g.IpPermissions).toEqual([
      expect.objectContaining({
        IpProtocol: "tcp",
        FromPort: 443,
        ToPort: 443,
        IpRanges: [{ CidrIp: "10.0.0.0/16", Description: "vpc" }],
        UserIdGroupPairs: [expect.objectContaining({ GroupId: a, UserId: "000000000000" })],
      }),
    ]);
    expect(g.IpPermissionsEgress).toEqual([
      expect.objectContaining({ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }),
    ]);
    const rules = await ec2.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [b] }] }),
    );
    expect(
      rules.SecurityGroupRules!.map((x) => [x.IsEgress, x.CidrIpv4 ?? x.ReferencedGroupInfo?.GroupId]),
    ).toEqual([
      [false, "10.0.0.0/16"],
      [false, a],
      [true, "0.0.0.0/0"],
    ]);
    expect((await fails(ec2.send(new DeleteSecurityGroupCommand({ GroupId: a })))).name).toBe(
      "DependencyViolation",
    );
    await ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: b,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 443, ToPort: 443, UserIdGroupPairs: [{ GroupId: a }] },
        ],
      }),
    );
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: a }));
    await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: b,
        IpPermissions: [
          { IpProtocol: "udp", FromPort: 53, ToPort: 53, IpRanges: [{ CidrIp: "10.0.0.2/32" }] },
        ],
      }),
    );
    const def = (
      await ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [
            { Name: "vpc-id", Values: [vpcId] },
            { Name: "group-name", Values: ["default"] },
          ],
        }),
      )
    ).SecurityGroups![0]!;
    expect((await fails(ec2.send(new DeleteSecurityGroupCommand({ GroupId: def.GroupId! })))).name).toBe(
      "CannotDelete",
    );
    expect(
      (
        await fails(
          ec2.send(
            new AuthorizeSecurityGroupIngressCommand({
              GroupId: "sg-00000000000000000",
              IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
            }),
          ),
        )
      ).name,
    ).toBe("InvalidGroup.NotFound");
  });
});

describe("route tables and internet gateways", () => {
  it("associates tables, routes to an attached gateway, and protects the local route", async () => {
    const s = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.0.9.0/24" }))).Subnet!
      .SubnetId!;
    const rt = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
    const assoc = (await ec2.send(new AssociateRouteTableCommand({ RouteTableId: rt, SubnetId: s })))
      .AssociationId!;
    const igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    expect(
      (
        await fails(
          ec2.send(
            new CreateRouteCommand({ RouteTableId: rt, DestinationCidrBlock: "0.0.0.0/0", GatewayId: igw }),
          ),
        )
      ).name,
    ).toBe("InvalidParameterValue");
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
    await ec2.send(
      new CreateRouteCommand({ RouteTableId: rt, DestinationCidrBlock: "0.0.0.0/0", GatewayId: igw }),
    );
    expect(
      (
        await fails(
          ec2.send(
            new CreateRouteCommand({ RouteTableId: rt, DestinationCidrBlock: "0.0.0.0/0", GatewayId: igw }),
          ),
        )
      ).name,
    ).toBe("RouteAlreadyExists");
    expect(
      (
        await fails(
          ec2.send(
            new CreateRouteCommand({
              RouteTableId: rt,
              DestinationCidrBlock: "1.0.0.0/8",
              GatewayId: "igw-00000000000000000",
            }),
          ),
        )
      ).name,
    ).toBe("InvalidGatewayID.NotFound");
    const d = (
      await ec2.send(
        new DescribeRouteTablesCommand({ Filters: [{ Name: "association.subnet-id", Values: [s] }] }),
      )
    ).RouteTables!;
    expect(d.map((x) => x.RouteTableId)).toEqual([rt]);
    expect(d[0]!.Routes!.map((x) => [x.DestinationCidrBlock, x.GatewayId])).toEqual([
      ["10.0.0.0/16", "local"],
      ["0.0.0.0/0", igw],
    ]);
    expect(
      (
        await fails(
          ec2.send(new DeleteRouteCommand({ RouteTableId: rt, DestinationCidrBlock: "10.0.0.0/16" })),
        )
      ).name,
    ).toBe("InvalidParameterValue");
    expect((await fails(ec2.send(new DeleteRouteTableCommand({ RouteTableId: rt })))).name).toBe(
      "DependencyViolation",
    );
    await ec2.send(new DeleteRouteCommand({ RouteTableId: rt, DestinationCidrBlock: "0.0.0.0/0" }));
    await ec2.send(new DisassociateRouteTableCommand({ AssociationId: assoc }));
    await ec2.send(new DeleteRouteTableCommand({ RouteTableId: rt }));
    await ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
    await ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: igw }));
    await ec2.send(new DeleteSubnetCommand({ SubnetId: s }));
  });
});

describe("instances and network interfaces", () => {
  it("gives an instance a primary ENI with the subnet's first free address and frees it on terminate", async () => {
    const s = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.0.20.0/24" }))).Subnet!
      .SubnetId!;
    const r = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12345678",
        MinCount: 2,
        MaxCount: 2,
        SubnetId: s,
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "Name", Value: "app" }] }],
      }),
    );
    expect(r.Instances!.map((i) => i.PrivateIpAddress)).toEqual(["10.0.20.4", "10.0.20.5"]);
    expect(r.Instances![0]).toMatchObject({
      State: { Code: 16, Name: "running" },
      SubnetId: s,
      VpcId: vpcId,
      PrivateDnsName: "ip-10-0-20-4.ec2.internal",
      Tags: [{ Key: "Name", Value: "app" }],
    });
    const enis = await ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "subnet-id", Values: [s] }] }),
    );
    expect(
      enis.NetworkInterfaces!.map((e) => [
        e.PrivateIpAddress,
        e.Attachment?.InstanceId,
        e.InterfaceType,
        e.Status,
      ]),
    ).toEqual([
      ["10.0.20.4", r.Instances![0]!.InstanceId, "interface", "in-use"],
      ["10.0.20.5", r.Instances![1]!.InstanceId, "interface", "in-use"],
    ]);
    expect(
      (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [s] }))).Subnets![0]!.AvailableIpAddressCount,
    ).toBe(249);
    expect((await fails(ec2.send(new DeleteSubnetCommand({ SubnetId: s })))).name).toBe(
      "DependencyViolation",
    );
    const t = await ec2.send(
      new TerminateInstancesCommand({ InstanceIds: r.Instances!.map((i) => i.InstanceId!) }),
    );
    expect(t.TerminatingInstances!.map((x) => [x.PreviousState?.Name, x.CurrentState?.Name])).toEqual([
      ["running", "terminated"],
      ["running", "terminated"],
    ]);
    const d = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: "tag:Name", Values: ["app"] }] }),
    );
    expect(d.Reservations![0]!.Instances!.map((i) => i.State?.Name)).toEqual(["terminated", "terminated"]);
    await ec2.send(new DeleteSubnetCommand({ SubnetId: s }));
    expect(
      (
        await fails(
          ec2.send(
            new RunInstancesCommand({
              ImageId: "ami-1",
              MinCount: 1,
              MaxCount: 1,
              SubnetId: "subnet-00000000000000000",
            }),
          ),
        )
      ).name,
    ).toBe("InvalidSubnetID.NotFound");
  });
});
