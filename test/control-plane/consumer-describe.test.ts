import {
  CreateVpcEndpointCommand,
  type CreateVpcEndpointCommandInput,
  DeleteVpcEndpointsCommand,
  DescribeVpcEndpointServicesCommand,
  type DescribeVpcEndpointServicesCommandInput,
  DescribeVpcEndpointsCommand,
  type EC2Client,
  type Filter,
  type ServiceDetail,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminFetch } from "../helpers/admin.js";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { makeVpc, type TestVpc, waitForState } from "./consumer-fixtures.js";

let srv: TestServer;
let ec2: EC2Client;
let a: TestVpc;
let b: TestVpc;
/** Endpoint IDs by a short name. */
const ids: Record<string, string> = {};

beforeAll(async () => {
  srv = await startTestServer();
  ec2 = srv.ec2();
  a = await makeVpc(ec2, { cidr: "10.10.0.0/16" });
  b = await makeVpc(ec2, { cidr: "10.20.0.0/16" });
  const make = async (name: string, input: CreateVpcEndpointCommandInput) => {
    ids[name] = (await ec2.send(new CreateVpcEndpointCommand(input))).VpcEndpoint!.VpcEndpointId!;
  };
  const tag = (env: string) => [
    { ResourceType: "vpc-endpoint" as const, Tags: [{ Key: "env", Value: env }] },
  ];
  await make("s3", {
    VpcId: a.vpcId,
    ServiceName: "com.amazonaws.us-east-1.s3",
    RouteTableIds: [a.mainRouteTable],
  });
  await make("ec2", {
    VpcId: a.vpcId,
    VpcEndpointType: "Interface",
    ServiceName: "com.amazonaws.us-east-1.ec2",
    SubnetIds: [a.subnets["us-east-1a"]!],
    TagSpecifications: tag("prod"),
  });
  await make("sts", {
    VpcId: b.vpcId,
    VpcEndpointType: "Interface",
    ServiceName: "com.amazonaws.us-east-1.sts",
    SubnetIds: [b.subnets["us-east-1a"]!],
    TagSpecifications: tag("dev"),
  });
  await make("ssm", {
    VpcId: b.vpcId,
    VpcEndpointType: "Interface",
    ServiceName: "com.amazonaws.us-east-1.ssm",
    TagSpecifications: [{ ResourceType: "vpc-endpoint", Tags: [{ Key: "owner", Value: "x" }] }],
  });
  await make("gone", {
    VpcId: b.vpcId,
    VpcEndpointType: "Interface",
    ServiceName: "com.amazonaws.us-east-1.kms",
  });
  await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [ids.gone!] }));
  await waitForState(ec2, ids.gone!, "deleted");
  for (const n of ["ec2", "sts", "ssm"]) await waitForState(ec2, ids[n]!, "available");
});
afterAll(() => srv.stop());

async function found(filters: Filter[], idList?: string[]): Promise<string[]> {
  const out = await ec2.send(new DescribeVpcEndpointsCommand({ Filters: filters, VpcEndpointIds: idList }));
  const byId = Object.fromEntries(Object.entries(ids).map(([k, v]) => [v, k]));
  return out.VpcEndpoints!.map((e) => byId[e.VpcEndpointId!]!).sort();
}

describe("DescribeVpcEndpoints", () => {
  it("answers every filter of the spec, with wildcards, ORed values and ANDed filters", async () => {
    const f = (Name: string, ...Values: string[]) => ({ Name, Values });
    const cases: [Filter[], string[]][] = [
      [[], ["ec2", "gone", "s3", "ssm", "sts"]],
      [[f("vpc-id", a.vpcId)], ["ec2", "s3"]],
      [
        [f("vpc-id", a.vpcId, b.vpcId), f("vpc-endpoint-type", "Interface")],
        ["ec2", "gone", "ssm", "sts"],
      ],
      [[f("vpc-endpoint-type", "Gateway")], ["s3"]],
      [[f("service-name", "com.amazonaws.us-east-1.s*")], ["s3", "ssm", "sts"]],
      [[f("service-name", "*.ec?")], ["ec2"]],
      [[f("vpc-endpoint-state", "deleted")], ["gone"]],
      [
        [f("vpc-endpoint-state", "available"), f("vpc-id", b.vpcId)],
        ["ssm", "sts"],
      ],
      [[f("vpc-endpoint-id", ids.sts!, ids.s3!)], ["s3", "sts"]],
      [[f("ip-address-type", "ipv4"), f("vpc-endpoint-type", "Gateway")], ["s3"]],
      [[f("ip-address-type", "dualstack")], []],
      [
        [f("service-region", "us-east-1"), f("vpc-id", a.vpcId)],
        ["ec2", "s3"],
      ],
      [[f("service-region", "us-west-2")], []],
      [[f("tag:env", "prod")], ["ec2"]],
      [[f("tag:env", "prod", "dev")], ["ec2", "sts"]],
      [[f("tag:env", "p*")], ["ec2"]],
      [[f("tag-key", "env")], ["ec2", "sts"]],
      [
        [f("tag-key", "owner", "env"), f("vpc-id", b.vpcId)],
        ["ssm", "sts"],
      ],
    ];
    for (const [filters, expected] of cases)
      expect(await found(filters), JSON.stringify(filters)).toEqual(expected);
  });

  it("ANDs IDs with filters and names unknown and malformed IDs", async () => {
    expect(await found([{ Name: "vpc-id", Values: [a.vpcId] }], [ids.ec2!, ids.sts!])).toEqual(["ec2"]);
    expect(
      await fails(
        ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [ids.ec2!, "vpce-0123456789abcdef0"] })),
      ),
    ).toMatchObject({
      name: "InvalidVpcEndpointId.NotFound",
      message: "The Vpc Endpoint Id 'vpce-0123456789abcdef0' does not exist",
    });
    expect(
      (await fails(ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: ["vpce-xyz"] })))).name,
    ).toBe("InvalidVpcEndpointId.Malformed");
    expect(
      (
        await fails(
          ec2.send(
            new DescribeVpcEndpointsCommand({ Filters: [{ Name: "vpc-endpoint-status", Values: ["x"] }] }),
          ),
        )
      ).name,
    ).toBe("InvalidFilter");
    // Another account sees none of them.
    const other = await createAccount("111122223333");
    const theirs = srv.ec2("us-east-1", other);
    expect((await theirs.send(new DescribeVpcEndpointsCommand({}))).VpcEndpoints).toEqual([]);
    expect(
      (await fails(theirs.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [ids.ec2!] })))).name,
    ).toBe("InvalidVpcEndpointId.NotFound");
  });

  it("pages with MaxResults and NextToken", async () => {
    const seen: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 5; i++) {
      const page = await ec2.send(new DescribeVpcEndpointsCommand({ MaxResults: 5, NextToken: token }));
      seen.push(...page.VpcEndpoints!.map((e) => e.VpcEndpointId!));
      token = page.NextToken;
      if (!token) break;
    }
    expect(seen.sort()).toEqual(Object.values(ids).sort());
    const first = await ec2.send(new DescribeVpcEndpointsCommand({ MaxResults: 5 }));
    expect(first.NextToken).toBeUndefined();
    expect((await ec2.send(new DescribeVpcEndpointsCommand({ MaxResults: 5000 }))).VpcEndpoints).toHaveLength(
      5,
    );
    expect((await fails(ec2.send(new DescribeVpcEndpointsCommand({ MaxResults: 4 })))).name).toBe(
      "InvalidParameterValue",
    );
    expect((await fails(ec2.send(new DescribeVpcEndpointsCommand({ NextToken: "garbage" })))).name).toBe(
      "InvalidNextToken",
    );
  });
});

async function createAccount(id: string): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const res = await adminFetch(srv, `/_privlink/accounts`, { method: "POST", body: JSON.stringify({ id }) });
  return (await res.json()) as { accessKeyId: string; secretAccessKey: string };
}

async function services(
  input: DescribeVpcEndpointServicesCommandInput,
  client = ec2,
): Promise<ServiceDetail[]> {
  return (await client.send(new DescribeVpcEndpointServicesCommand(input))).ServiceDetails!;
}

describe("DescribeVpcEndpointServices", () => {
  it("lists the AWS catalog of the caller's region with AWS's ServiceDetail", async () => {
    const out = await ec2.send(new DescribeVpcEndpointServicesCommand({}));
    expect(out.ServiceDetails!.length).toBeGreaterThan(100);
    expect(new Set(out.ServiceNames)).toEqual(new Set(out.ServiceDetails!.map((d) => d.ServiceName)));
    const ssm = out.ServiceDetails!.find((d) => d.ServiceName === "com.amazonaws.us-east-1.ssm")!;
    expect(ssm).toMatchObject({
      ServiceType: [{ ServiceType: "Interface" }],
      ServiceRegion: "us-east-1",
      AvailabilityZones: ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"],
      AvailabilityZoneIds: ["use1-az1", "use1-az2", "use1-az3", "use1-az4", "use1-az5", "use1-az6"],
      Owner: "amazon",
      BaseEndpointDnsNames: ["ssm.us-east-1.vpce.amazonaws.com"],
      PrivateDnsName: "ssm.us-east-1.amazonaws.com",
      PrivateDnsNames: [{ PrivateDnsName: "ssm.us-east-1.amazonaws.com" }],
      VpcEndpointPolicySupported: true,
      AcceptanceRequired: false,
      ManagesVpcEndpoints: false,
      Tags: [],
      PrivateDnsNameVerificationState: "verified",
      SupportedIpAddressTypes: ["ipv4"],
    });
    expect(ssm.ServiceId).toMatch(/^vpce-svc-[0-9a-f]{17}$/);
    const ddb = out.ServiceDetails!.find(
      (d) =>
        d.ServiceName === "com.amazonaws.us-east-1.dynamodb" && d.ServiceType![0]!.ServiceType === "Gateway",
    )!;
    expect(ddb.BaseEndpointDnsNames).toEqual(["dynamodb.us-east-1.amazonaws.com"]);
    expect(ddb.PrivateDnsName).toBeUndefined();
  });

  it("finds services by name and by every filter", async () => {
    const s3 = await ec2.send(
      new DescribeVpcEndpointServicesCommand({ ServiceNames: ["com.amazonaws.us-east-1.s3"] }),
    );
    expect(s3.ServiceNames).toEqual(["com.amazonaws.us-east-1.s3"]);
    expect(s3.ServiceDetails!.map((d) => d.ServiceType![0]!.ServiceType)).toEqual(["Gateway", "Interface"]);
    expect(
      await fails(
        ec2.send(
          new DescribeVpcEndpointServicesCommand({
            ServiceNames: ["com.amazonaws.eu-central-1.organizations"],
          }),
        ),
      ),
    ).toMatchObject({
      name: "InvalidServiceName",
      message: "The Vpc Endpoint Service 'com.amazonaws.eu-central-1.organizations' does not exist",
    });
    const names = async (filters: Filter[]) =>
      (await services({ Filters: filters })).map((d) => `${d.ServiceName}/${d.ServiceType![0]!.ServiceType}`);
    expect(await names([{ Name: "service-type", Values: ["Gateway"] }])).toEqual([
      "com.amazonaws.us-east-1.dynamodb/Gateway",
      "com.amazonaws.us-east-1.s3/Gateway",
    ]);
    expect(await names([{ Name: "service-name", Values: ["com.amazonaws.us-east-1.ecr.*"] }])).toEqual([
      "com.amazonaws.us-east-1.ecr.api/Interface",
      "com.amazonaws.us-east-1.ecr.dkr/Interface",
    ]);
    expect((await names([{ Name: "owner", Values: ["amazon"] }])).length).toBeGreaterThan(100);
    expect(await names([{ Name: "owner", Values: ["123456789012"] }])).toEqual([]);
    expect(await names([{ Name: "service-region", Values: ["us-west-2"] }])).toEqual([]);
    const v6 = await names([
      { Name: "supported-ip-address-types", Values: ["ipv6"] },
      { Name: "service-name", Values: ["*.athena"] },
    ]);
    expect(v6).toEqual(["com.amazonaws.us-east-1.athena/Interface"]);
    expect(await names([{ Name: "tag-key", Values: ["x"] }])).toEqual([]);
    expect(
      (
        await fails(
          ec2.send(
            new DescribeVpcEndpointServicesCommand({ Filters: [{ Name: "service-id", Values: ["x"] }] }),
          ),
        )
      ).name,
    ).toBe("InvalidFilter");
  });

  it("pages, serves other regions, and names AZs as the caller's account does", async () => {
    const all = await services({});
    const paged: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 200; i++) {
      const page = await ec2.send(
        new DescribeVpcEndpointServicesCommand({ MaxResults: 50, NextToken: token }),
      );
      expect(page.ServiceDetails!.length).toBeLessThanOrEqual(50);
      paged.push(...page.ServiceDetails!.map((d) => d.ServiceId!));
      token = page.NextToken;
      if (!token) break;
    }
    expect(paged).toEqual(all.map((d) => d.ServiceId));

    const west = await services({}, srv.ec2("eu-west-1"));
    expect(west.every((d) => d.ServiceRegion === "eu-west-1" || !d.ServiceName!.includes(".eu-"))).toBe(true);
    expect(west.some((d) => d.ServiceName === "com.amazonaws.eu-west-1.secretsmanager")).toBe(true);

    const cross = await services({ ServiceRegions: ["us-west-2"] });
    expect(cross.length).toBeGreaterThan(0);
    expect(cross.every((d) => d.ServiceRegion === "us-west-2")).toBe(true);
    expect(cross.map((d) => d.ServiceName)).toContain("com.amazonaws.us-west-2.lambda");
    expect(cross.map((d) => d.ServiceName)).not.toContain("com.amazonaws.us-west-2.ec2");

    // us-east-1 maps AZ names per account: the same zone IDs, other letters.
    const other = srv.ec2("us-east-1", await createAccount("444455556666"));
    const mine = (await services({ ServiceNames: ["com.amazonaws.us-east-1.appmesh"] }))[0]!;
    const theirs = (await services({ ServiceNames: ["com.amazonaws.us-east-1.appmesh"] }, other))[0]!;
    expect(theirs.AvailabilityZoneIds).toEqual(mine.AvailabilityZoneIds);
    expect(theirs.AvailabilityZones).not.toEqual(mine.AvailabilityZones);
    expect(theirs.AvailabilityZones).toHaveLength(mine.AvailabilityZones!.length);
  });
});

describe("cross-region endpoints", () => {
  it("reach services that accept consumers from other regions", async () => {
    const e = (
      await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: a.vpcId,
          VpcEndpointType: "Interface",
          ServiceName: "com.amazonaws.us-west-2.lambda",
          ServiceRegion: "us-west-2",
          SubnetIds: [a.subnets["us-east-1b"]!],
          PrivateDnsEnabled: false,
        }),
      )
    ).VpcEndpoint!;
    expect(e).toMatchObject({ ServiceRegion: "us-west-2", ServiceName: "com.amazonaws.us-west-2.lambda" });
    expect(e.DnsEntries![0]!.DnsName).toMatch(/\.lambda\.us-west-2\.vpce\.amazonaws\.com$/);
    const filtered = await ec2.send(
      new DescribeVpcEndpointsCommand({ Filters: [{ Name: "service-region", Values: ["us-west-2"] }] }),
    );
    expect(filtered.VpcEndpoints!.map((x) => x.VpcEndpointId)).toEqual([e.VpcEndpointId]);
    const cases: [object, string][] = [
      [{ ServiceName: "com.amazonaws.us-west-2.ec2", ServiceRegion: "us-west-2" }, "InvalidParameter"],
      [{ ServiceName: "com.amazonaws.us-west-2.lambda" }, "InvalidServiceName"],
      [
        { ServiceName: "com.amazonaws.us-west-2.lambda", ServiceRegion: "mars-north-1" },
        "InvalidParameterValue",
      ],
    ];
    for (const [input, code] of cases) {
      const err = await fails(
        ec2.send(
          new CreateVpcEndpointCommand({
            VpcId: a.vpcId,
            VpcEndpointType: "Interface",
            PrivateDnsEnabled: false,
            ...input,
          }),
        ),
      );
      expect(err.name, JSON.stringify(input)).toBe(code);
    }
    await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [e.VpcEndpointId!] }));
  });
});
