import {
  AuthorizeSecurityGroupIngressCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateVpcEndpointCommand,
  DeleteVpcEndpointsCommand,
  DescribeManagedPrefixListsCommand,
  DescribePrefixListsCommand,
  DescribeRouteTablesCommand,
  type EC2Client,
  GetManagedPrefixListEntriesCommand,
  ModifyVpcEndpointCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_GATEWAY_POLICY } from "../../src/cloud/endpoint.js";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { describeEndpoint, makeVpc, type TestVpc, waitForState } from "./consumer-fixtures.js";

let srv: TestServer;
let ec2: EC2Client;
let net: TestVpc;

beforeAll(async () => {
  srv = await startTestServer();
  ec2 = srv.ec2();
  net = await makeVpc(ec2, { azs: ["us-east-1a"] });
});
afterAll(() => srv.stop());

const S3_PL = "pl-63a5400a";
const DDB_PL = "pl-02cd2c6b";

async function endpointRoutes(rtb: string) {
  const t = (await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [rtb] }))).RouteTables![0]!;
  return t.Routes!.filter((r) => r.DestinationPrefixListId !== undefined);
}

describe("gateway endpoints", () => {
  it("are the default type, available at once, with the gateway policy and a prefix-list route", async () => {
    const e = (
      await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: net.vpcId,
          ServiceName: "com.amazonaws.us-east-1.s3",
          RouteTableIds: [net.mainRouteTable],
        }),
      )
    ).VpcEndpoint!;
    expect(e).toMatchObject({
      VpcEndpointType: "Gateway",
      State: "available",
      PolicyDocument: DEFAULT_GATEWAY_POLICY,
      RouteTableIds: [net.mainRouteTable],
      SubnetIds: [],
      Groups: [],
      NetworkInterfaceIds: [],
      DnsEntries: [],
      PrivateDnsEnabled: false,
      RequesterManaged: false,
    });
    expect(await endpointRoutes(net.mainRouteTable)).toEqual([
      expect.objectContaining({
        DestinationPrefixListId: S3_PL,
        GatewayId: e.VpcEndpointId,
        Origin: "CreateRoute",
        State: "active",
      }),
    ]);
    const twice = await fails(
      ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: net.vpcId,
          ServiceName: "com.amazonaws.us-east-1.s3",
          RouteTableIds: [net.mainRouteTable],
        }),
      ),
    );
    expect(twice).toMatchObject({
      name: "RouteAlreadyExists",
      message: `route table ${net.mainRouteTable} already has a route with destination-prefix-list-id ${S3_PL}`,
    });
    await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [e.VpcEndpointId!] }));
    expect(await endpointRoutes(net.mainRouteTable)).toEqual([]);
    expect((await waitForState(ec2, e.VpcEndpointId!, "deleted")).RouteTableIds).toEqual([]);
  });

  it("adds and removes routes as route tables are associated and dissociated", async () => {
    const rt2 = (await ec2.send(new CreateRouteTableCommand({ VpcId: net.vpcId }))).RouteTable!.RouteTableId!;
    const rt3 = (await ec2.send(new CreateRouteTableCommand({ VpcId: net.vpcId }))).RouteTable!.RouteTableId!;
    const id = (
      await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: net.vpcId,
          VpcEndpointType: "Gateway",
          ServiceName: "com.amazonaws.us-east-1.dynamodb",
          RouteTableIds: [rt2],
        }),
      )
    ).VpcEndpoint!.VpcEndpointId!;
    await ec2.send(
      new ModifyVpcEndpointCommand({
        VpcEndpointId: id,
        AddRouteTableIds: [rt3],
        RemoveRouteTableIds: [rt2],
      }),
    );
    expect((await describeEndpoint(ec2, id)).RouteTableIds).toEqual([rt3]);
    expect(await endpointRoutes(rt2)).toEqual([]);
    expect((await endpointRoutes(rt3)).map((r) => [r.DestinationPrefixListId, r.GatewayId])).toEqual([
      [DDB_PL, id],
    ]);

    const policy =
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"dynamodb:GetItem","Resource":"*"}]}';
    await ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, PolicyDocument: policy }));
    expect((await describeEndpoint(ec2, id)).PolicyDocument).toBe(policy);
    await ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, ResetPolicy: true }));
    expect((await describeEndpoint(ec2, id)).PolicyDocument).toBe(DEFAULT_GATEWAY_POLICY);

    const errors: [string, Promise<unknown>, string, string?][] = [
      [
        "subnets",
        ec2.send(
          new ModifyVpcEndpointCommand({ VpcEndpointId: id, AddSubnetIds: [net.subnets["us-east-1a"]!] }),
        ),
        "InvalidParameter",
        "Subnet IDs are only supported for Interface and GatewayLoadBalancer type VPC Endpoints.",
      ],
      [
        "groups",
        ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, AddSecurityGroupIds: [net.defaultSg] })),
        "InvalidParameter",
      ],
      [
        "not associated",
        ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, RemoveRouteTableIds: [rt2] })),
        "InvalidParameter",
      ],
      [
        "unknown table",
        ec2.send(
          new ModifyVpcEndpointCommand({ VpcEndpointId: id, AddRouteTableIds: ["rtb-0123456789abcdef0"] }),
        ),
        "InvalidRouteTableID.NotFound",
      ],
      [
        "private DNS",
        ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, PrivateDnsEnabled: true })),
        "InvalidParameter",
      ],
      [
        "route to it",
        ec2.send(
          new CreateRouteCommand({
            RouteTableId: rt2,
            DestinationCidrBlock: "10.9.0.0/16",
            VpcEndpointId: id,
          }),
        ),
        "InvalidParameterValue",
      ],
    ];
    for (const [what, p, code, message] of errors) {
      const err = await fails(p);
      expect(err.name, what).toBe(code);
      if (message) expect(err.message, what).toBe(message);
    }
    expect((await endpointRoutes(rt3)).map((r) => r.GatewayId)).toEqual([id]);
  });

  it("rejects interface-only parameters and interface services", async () => {
    const cases: [string, object, string, string][] = [
      [
        "subnets",
        { SubnetIds: [net.subnets["us-east-1a"]] },
        "InvalidParameter",
        "Subnet IDs are only supported for Interface and GatewayLoadBalancer type VPC Endpoints.",
      ],
      [
        "subnet configurations",
        { SubnetConfigurations: [{ SubnetId: net.subnets["us-east-1a"] }] },
        "InvalidParameter",
        "Subnet IDs are only supported for Interface and GatewayLoadBalancer type VPC Endpoints.",
      ],
      [
        "an interface service",
        { ServiceName: "com.amazonaws.us-east-1.ec2" },
        "InvalidParameter",
        "Endpoint type (Gateway) does not match available service types ([Interface]).",
      ],
    ];
    for (const [what, extra, code, message] of cases) {
      const err = await fails(
        ec2.send(
          new CreateVpcEndpointCommand({
            VpcId: net.vpcId,
            ServiceName: "com.amazonaws.us-east-1.s3",
            ...extra,
          }),
        ),
      );
      expect(err, what).toMatchObject({ name: code, message });
    }
    const routeOnInterface = await fails(
      ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: net.vpcId,
          VpcEndpointType: "Interface",
          ServiceName: "com.amazonaws.us-east-1.ec2",
          RouteTableIds: [net.mainRouteTable],
          PrivateDnsEnabled: false,
        }),
      ),
    );
    expect(routeOnInterface).toMatchObject({
      name: "InvalidParameter",
      message: "Route table IDs are only supported for Gateway type VPC Endpoint.",
    });
  });
});

describe("prefix lists", () => {
  it("lists the AWS-managed lists of the region in both APIs, with their entries", async () => {
    const pls = (await ec2.send(new DescribePrefixListsCommand({}))).PrefixLists!;
    expect(pls.map((p) => [p.PrefixListId, p.PrefixListName])).toEqual([
      [DDB_PL, "com.amazonaws.us-east-1.dynamodb"],
      [S3_PL, "com.amazonaws.us-east-1.s3"],
    ]);
    expect(pls[1]!.Cidrs!.length).toBeGreaterThan(0);
    const filtered = await ec2.send(
      new DescribePrefixListsCommand({ Filters: [{ Name: "prefix-list-name", Values: ["*.s3"] }] }),
    );
    expect(filtered.PrefixLists!.map((p) => p.PrefixListId)).toEqual([S3_PL]);
    expect(
      (await fails(ec2.send(new DescribePrefixListsCommand({ PrefixListIds: ["pl-00000000"] })))).name,
    ).toBe("InvalidPrefixListID.NotFound");

    const managed = (await ec2.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [S3_PL] })))
      .PrefixLists!;
    expect(managed).toEqual([
      expect.objectContaining({
        PrefixListId: S3_PL,
        PrefixListName: "com.amazonaws.us-east-1.s3",
        OwnerId: "AWS",
        AddressFamily: "IPv4",
        State: "create-complete",
        PrefixListArn: `arn:aws:ec2:us-east-1:aws:prefix-list/${S3_PL}`,
      }),
    ]);
    const entries = (await ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: S3_PL })))
      .Entries!;
    expect(entries.map((x) => x.Cidr)).toEqual(pls[1]!.Cidrs);
    const west = srv.ec2("eu-west-1");
    expect(
      (await west.send(new DescribePrefixListsCommand({}))).PrefixLists!.map((p) => p.PrefixListName),
    ).toEqual(["com.amazonaws.eu-west-1.dynamodb", "com.amazonaws.eu-west-1.s3"]);
  });

  it("can be referenced by security group rules", async () => {
    const sg = (
      await ec2.send(
        new CreateSecurityGroupCommand({ GroupName: "to-s3", Description: "s3", VpcId: net.vpcId }),
      )
    ).GroupId!;
    const ok = await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: sg,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: S3_PL }] },
        ],
      }),
    );
    expect(ok.SecurityGroupRules![0]!.PrefixListId).toBe(S3_PL);
    const bad = await fails(
      ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: sg,
          IpPermissions: [
            {
              IpProtocol: "tcp",
              FromPort: 443,
              ToPort: 443,
              PrefixListIds: [{ PrefixListId: "pl-00000000" }],
            },
          ],
        }),
      ),
    );
    expect(bad.name).toBe("InvalidPrefixListId.NotFound");
  });
});
