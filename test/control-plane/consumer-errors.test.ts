import {
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcEndpointCommand,
  type CreateVpcEndpointCommandInput,
  DeleteVpcEndpointsCommand,
  DescribeVpcEndpointAssociationsCommand,
  DescribeVpcEndpointsCommand,
  type EC2Client,
  ModifyVpcEndpointCommand,
  ModifyVpcEndpointPayerResponsibilityCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerPrivateDomainClaims } from "../../src/cloud/endpoint-checks.js";

import { adminFetch } from "../helpers/admin.js";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { makeVpc, snapshot, type TestVpc, until } from "./consumer-fixtures.js";

let srv: TestServer;
let ec2: EC2Client;
let net: TestVpc;
let other: TestVpc;

beforeAll(async () => {
  srv = await startTestServer();
  ec2 = srv.ec2();
  net = await makeVpc(ec2);
  other = await makeVpc(ec2, { cidr: "10.50.0.0/16", azs: ["us-east-1a"] });
});
afterAll(() => srv.stop());

/** Waits until no endpoint is in a state the lifecycle will move, so snapshots are stable. */
async function settled(): Promise<void> {
  await until(
    async () =>
      [...srv.state.all("vpcEndpoint")].some((e) => e.state === "pending" || e.state === "deleting")
        ? undefined
        : true,
    10_000,
    "endpoints to settle",
  );
}

async function createAccount(id: string) {
  const res = await adminFetch(srv, `/_privlink/accounts`, { method: "POST", body: JSON.stringify({ id }) });
  return (await res.json()) as { accessKeyId: string; secretAccessKey: string };
}

const iface = (extra: Partial<CreateVpcEndpointCommandInput>): CreateVpcEndpointCommandInput => ({
  VpcId: net.vpcId,
  VpcEndpointType: "Interface",
  ServiceName: "com.amazonaws.us-east-1.ec2",
  ...extra,
});

describe("CreateVpcEndpoint errors (spec §2.5)", () => {
  it("answers each with AWS's code and text and leaves nothing behind", async () => {
    const a = net.subnets["us-east-1a"]!;
    const b = net.subnets["us-east-1b"]!;
    const c = net.subnets["us-east-1c"]!;
    const a2 = (
      await ec2.send(
        new CreateSubnetCommand({
          VpcId: net.vpcId,
          CidrBlock: "10.0.9.0/24",
          AvailabilityZone: "us-east-1a",
        }),
      )
    ).Subnet!.SubnetId!;
    const otherSg = (
      await ec2.send(new CreateSecurityGroupCommand({ GroupName: "x", Description: "x", VpcId: other.vpcId }))
    ).GroupId!;
    const noDns = await makeVpc(ec2, { cidr: "10.60.0.0/16", dns: false, azs: ["us-east-1a"] });
    const fresh = await makeVpc(ec2, { cidr: "10.70.0.0/16", azs: ["us-east-1a", "us-east-1b"] });
    const rtFree = (await ec2.send(new CreateRouteTableCommand({ VpcId: net.vpcId }))).RouteTable!
      .RouteTableId!;
    // An endpoint that holds 10.0.2.4 and the s3 route of the main table, for late failures.
    await ec2.send(
      new CreateVpcEndpointCommand(
        iface({ ServiceName: "com.amazonaws.us-east-1.sts", SubnetIds: [b], PrivateDnsEnabled: false }),
      ),
    );
    await ec2.send(
      new CreateVpcEndpointCommand({
        VpcId: net.vpcId,
        ServiceName: "com.amazonaws.us-east-1.s3",
        RouteTableIds: [net.mainRouteTable],
      }),
    );
    await settled();

    const longPolicy = JSON.stringify({
      Statement: [{ Effect: "Allow", Principal: "*", Action: "*", Resource: "*", Sid: "x".repeat(20_480) }],
    });
    const cases: [string, CreateVpcEndpointCommandInput, string, string | RegExp][] = [
      ["no VPC", iface({ VpcId: undefined as unknown as string }), "MissingParameter", /VpcId/],
      ["no service", iface({ ServiceName: undefined }), "MissingParameter", /ServiceName/],
      [
        "unknown VPC",
        iface({ VpcId: "vpc-0123456789abcdef0" }),
        "InvalidVpcID.NotFound",
        "The vpc ID 'vpc-0123456789abcdef0' does not exist",
      ],
      [
        "unknown service",
        iface({ ServiceName: "com.amazonaws.eu-central-1.organizations" }),
        "InvalidServiceName",
        "The Vpc Endpoint Service 'com.amazonaws.eu-central-1.organizations' does not exist",
      ],
      [
        "a customer-looking name",
        iface({ ServiceName: "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0" }),
        "InvalidServiceName",
        "The Vpc Endpoint Service 'com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0' does not exist",
      ],
      ["bad type", iface({ VpcEndpointType: "Bogus" as "Interface" }), "InvalidVpcEndpointType", /Bogus/],
      [
        "Resource type",
        iface({ VpcEndpointType: "Resource" }),
        "InvalidParameter",
        /privlink does not support VpcEndpointType Resource/,
      ],
      [
        "ServiceNetwork type",
        iface({ VpcEndpointType: "ServiceNetwork" }),
        "InvalidParameter",
        /privlink does not support VpcEndpointType ServiceNetwork/,
      ],
      [
        "GWLB type for an AWS service",
        iface({ VpcEndpointType: "GatewayLoadBalancer", SubnetIds: [a] }),
        "InvalidParameter",
        "Endpoint type (GatewayLoadBalancer) does not match available service types ([Interface]).",
      ],
      [
        "malformed subnet",
        iface({ SubnetIds: ["subnet-XYZ"] }),
        "InvalidSubnetID.Malformed",
        "Invalid Subnet Id: 'subnet-XYZ' (expecting 'subnet-...; the Id may only contain lowercase alphanumeric characters and a single dash')",
      ],
      [
        "unknown subnet",
        iface({ SubnetIds: ["subnet-0123456789abcdef0"] }),
        "InvalidSubnetID.NotFound",
        /subnet-0123456789abcdef0/,
      ],
      [
        "subnet of another VPC",
        iface({ SubnetIds: [other.subnets["us-east-1a"]!] }),
        "InvalidParameter",
        /does not belong/,
      ],
      [
        "two subnets in one AZ",
        iface({ SubnetIds: [a, a2] }),
        "DuplicateSubnetsInSameZone",
        `Found another VPC endpoint subnet in the availability zone of ${a2}. VPC endpoint subnets should be in different availability zones supported by the VPC endpoint service.`,
      ],
      [
        "AZ not offered",
        iface({ ServiceName: "com.amazonaws.us-east-1.appmesh", SubnetIds: [c] }),
        "InvalidParameter",
        `The VPC endpoint service com.amazonaws.us-east-1.appmesh does not support the availability zone of the subnet: ${c}.`,
      ],
      [
        "unknown group",
        iface({ SubnetIds: [a], SecurityGroupIds: ["sg-0123456789abcdef0"] }),
        "InvalidSecurityGroupID.NotFound",
        /sg-0123456789abcdef0/,
      ],
      [
        "group of another VPC",
        iface({ SubnetIds: [a], SecurityGroupIds: [otherSg] }),
        "InvalidParameter",
        /different networks/,
      ],
      [
        "unknown route table",
        {
          VpcId: net.vpcId,
          ServiceName: "com.amazonaws.us-east-1.dynamodb",
          RouteTableIds: ["rtb-0123456789abcdef0"],
        },
        "InvalidRouteTableID.NotFound",
        /rtb-0123456789abcdef0/,
      ],
      [
        "route table of another VPC",
        {
          VpcId: net.vpcId,
          ServiceName: "com.amazonaws.us-east-1.dynamodb",
          RouteTableIds: [other.mainRouteTable],
        },
        "InvalidParameter",
        /does not belong/,
      ],
      ["policy not JSON", iface({ PolicyDocument: "{not json" }), "InvalidPolicyDocument", /JSON/],
      [
        "policy without Principal",
        iface({
          PolicyDocument: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }),
        }),
        "InvalidPolicyDocument",
        /Principal/,
      ],
      ["policy too long", iface({ PolicyDocument: longPolicy }), "InvalidPolicyDocument", /20480/],
      [
        "DNS attributes off",
        iface({ VpcId: noDns.vpcId }),
        "InvalidParameter",
        `Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC attributes set to true for ${noDns.vpcId}`,
      ],
      [
        "private DNS without a name",
        iface({ ServiceName: "com.amazonaws.us-east-1.apprunner.requests", PrivateDnsEnabled: true }),
        "InvalidParameter",
        "Private DNS can't be enabled because the service com.amazonaws.us-east-1.apprunner.requests does not provide a private DNS name.",
      ],
      [
        "inbound-only off-service",
        iface({ DnsOptions: { PrivateDnsOnlyForInboundResolverEndpoint: true } }),
        "InvalidParameter",
        /PrivateDnsOnlyForInboundResolverEndpoint/,
      ],
      [
        "lattice DNS options",
        iface({ DnsOptions: { PrivateDnsPreference: "ALL_DOMAINS" } }),
        "InvalidParameter",
        /PrivateDnsPreference/,
      ],
      [
        "IPv6 for an IPv4 service",
        iface({ IpAddressType: "dualstack" }),
        "InvalidParameter",
        /does not support the IP address type dualstack/,
      ],
      [
        "IPv6 subnets missing",
        iface({ ServiceName: "com.amazonaws.us-east-1.athena", IpAddressType: "dualstack", SubnetIds: [a] }),
        "InvalidParameter",
        /IPv6 CIDR block/,
      ],
      ["bad IP type", iface({ IpAddressType: "ipv7" as "ipv4" }), "InvalidParameterValue", /ipv7/],
      [
        "DNS records without the IP type",
        iface({ DnsOptions: { DnsRecordIpType: "ipv6" } }),
        "InvalidParameter",
        /DnsRecordIpType ipv6/,
      ],
      [
        "address in use (second ENI)",
        iface({
          SubnetConfigurations: [
            { SubnetId: a, Ipv4: "10.0.1.50" },
            { SubnetId: b, Ipv4: "10.0.2.4" },
          ],
        }),
        "InvalidIPAddress.InUse",
        /10\.0\.2\.4/,
      ],
      [
        "address outside the subnet",
        iface({ SubnetConfigurations: [{ SubnetId: a, Ipv4: "10.0.2.50" }] }),
        "InvalidParameterValue",
        /10\.0\.2\.50/,
      ],
      [
        "reserved address in a fresh VPC",
        iface({
          VpcId: fresh.vpcId,
          SubnetConfigurations: [
            { SubnetId: fresh.subnets["us-east-1a"]!, Ipv4: "10.70.1.9" },
            { SubnetId: fresh.subnets["us-east-1b"]!, Ipv4: "10.70.2.1" },
          ],
        }),
        "InvalidParameterValue",
        /reserved/,
      ],
      [
        "second route fails",
        {
          VpcId: net.vpcId,
          ServiceName: "com.amazonaws.us-east-1.s3",
          RouteTableIds: [rtFree, net.mainRouteTable],
        },
        "RouteAlreadyExists",
        /already has a route/,
      ],
      [
        "tags for another resource type",
        iface({ TagSpecifications: [{ ResourceType: "vpc", Tags: [{ Key: "a", Value: "b" }] }] }),
        "InvalidParameterValue",
        /vpc/,
      ],
    ];
    for (const [what, input, code, message] of cases) {
      const before = snapshot(srv.state);
      const err = await fails(ec2.send(new CreateVpcEndpointCommand(input)));
      expect(err.name, what).toBe(code);
      expect(err.status, what).toBe(400);
      if (typeof message === "string") expect(err.message, what).toBe(message);
      else expect(err.message, what).toMatch(message);
      expect(snapshot(srv.state), `${what} left something behind`).toBe(before);
    }
  });

  it("runs out of addresses with InsufficientFreeAddressesInSubnet", async () => {
    const v = await makeVpc(ec2, { cidr: "10.80.0.0/16", azs: [] });
    const tiny = (
      await ec2.send(
        new CreateSubnetCommand({
          VpcId: v.vpcId,
          CidrBlock: "10.80.0.0/28",
          AvailabilityZone: "us-east-1a",
        }),
      )
    ).Subnet!.SubnetId!;
    for (let i = 0; i < 11; i++)
      await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: v.vpcId,
          VpcEndpointType: "Interface",
          ServiceName: "com.amazonaws.us-east-1.ec2",
          SubnetIds: [tiny],
          PrivateDnsEnabled: false,
        }),
      );
    await settled();
    const before = snapshot(srv.state);
    const err = await fails(
      ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: v.vpcId,
          VpcEndpointType: "Interface",
          ServiceName: "com.amazonaws.us-east-1.ec2",
          SubnetIds: [tiny],
          PrivateDnsEnabled: false,
        }),
      ),
    );
    expect(err.name).toBe("InsufficientFreeAddressesInSubnet");
    expect(snapshot(srv.state)).toBe(before);
  });
});

describe("private DNS: one domain per VPC", () => {
  it("refuses a second endpoint for the same domain until the first lets go", async () => {
    const v = await makeVpc(ec2, { cidr: "10.90.0.0/16", azs: ["us-east-1a"] });
    const first = (
      await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: v.vpcId,
          VpcEndpointType: "Interface",
          ServiceName: "com.amazonaws.us-east-1.ssm",
        }),
      )
    ).VpcEndpoint!;
    const conflict = `private-dns-enabled cannot be set because there is already a conflicting DNS domain for ssm.us-east-1.amazonaws.com in the VPC ${v.vpcId}`;
    const ssm = {
      VpcId: v.vpcId,
      VpcEndpointType: "Interface" as const,
      ServiceName: "com.amazonaws.us-east-1.ssm",
    };
    expect(await fails(ec2.send(new CreateVpcEndpointCommand(ssm)))).toMatchObject({
      name: "InvalidParameter",
      message: conflict,
    });
    const second = (await ec2.send(new CreateVpcEndpointCommand({ ...ssm, PrivateDnsEnabled: false })))
      .VpcEndpoint!;
    const enable = () =>
      ec2.send(
        new ModifyVpcEndpointCommand({ VpcEndpointId: second.VpcEndpointId!, PrivateDnsEnabled: true }),
      );
    expect(await fails(enable())).toMatchObject({ name: "InvalidParameter", message: conflict });
    // Another VPC is another namespace.
    await ec2.send(new CreateVpcEndpointCommand({ ...ssm, VpcId: net.vpcId }));
    await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [first.VpcEndpointId!] }));
    await enable();
  });

  it("lets other owners of private domains (hosted zones) claim them through the hook", async () => {
    const v = await makeVpc(ec2, { cidr: "10.91.0.0/16", azs: ["us-east-1a"] });
    registerPrivateDomainClaims((_tx, vpcId) =>
      vpcId === v.vpcId ? [{ domain: "kms.us-east-1.amazonaws.com", by: "Z0PHZEXAMPLE" }] : [],
    );
    const err = await fails(
      ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: v.vpcId,
          VpcEndpointType: "Interface",
          ServiceName: "com.amazonaws.us-east-1.kms",
        }),
      ),
    );
    expect(err).toMatchObject({
      name: "InvalidParameter",
      message: `private-dns-enabled cannot be set because there is already a conflicting DNS domain for kms.us-east-1.amazonaws.com in the VPC ${v.vpcId}`,
    });
    await ec2.send(
      new CreateVpcEndpointCommand({
        VpcId: v.vpcId,
        VpcEndpointType: "Interface",
        ServiceName: "com.amazonaws.us-east-1.kms",
        PrivateDnsEnabled: false,
      }),
    );
  });
});

describe("quotas", () => {
  it("allows 50 interface endpoints per VPC and 20 gateway endpoints per region", async () => {
    const creds = await createAccount("222233334444");
    const mine = srv.ec2("us-east-1", creds);
    const v = await makeVpc(mine, { cidr: "10.0.0.0/16", azs: [] });
    const one = {
      VpcId: v.vpcId,
      VpcEndpointType: "Interface" as const,
      ServiceName: "com.amazonaws.us-east-1.ec2",
      PrivateDnsEnabled: false,
    };
    const created: string[] = [];
    for (let i = 0; i < 50; i++)
      created.push((await mine.send(new CreateVpcEndpointCommand(one))).VpcEndpoint!.VpcEndpointId!);
    const over = await fails(mine.send(new CreateVpcEndpointCommand(one)));
    expect(over.name).toBe("VpcEndpointLimitExceeded");
    await mine.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [created[0]!] }));
    await mine.send(new CreateVpcEndpointCommand(one));

    const gw = { VpcId: v.vpcId, ServiceName: "com.amazonaws.us-east-1.s3" };
    for (let i = 0; i < 20; i++) await mine.send(new CreateVpcEndpointCommand(gw));
    expect((await fails(mine.send(new CreateVpcEndpointCommand(gw)))).name).toBe("VpcEndpointLimitExceeded");
    // The gateway quota is per region.
    const west = srv.ec2("us-west-2", creds);
    const wv = await makeVpc(west, { cidr: "10.1.0.0/16", azs: [], region: "us-west-2" });
    await west.send(
      new CreateVpcEndpointCommand({ VpcId: wv.vpcId, ServiceName: "com.amazonaws.us-west-2.s3" }),
    );
  });
});

describe("ClientToken and DryRun", () => {
  it("returns the first result for a retry and refuses the token with other parameters", async () => {
    const input = iface({
      ServiceName: "com.amazonaws.us-east-1.monitoring",
      SubnetIds: [net.subnets["us-east-1c"]!],
      PrivateDnsEnabled: false,
      ClientToken: "token-1",
    });
    const first = await ec2.send(new CreateVpcEndpointCommand(input));
    const again = await ec2.send(new CreateVpcEndpointCommand(input));
    expect(first.ClientToken).toBe("token-1");
    expect(again.ClientToken).toBe("token-1");
    expect(again.VpcEndpoint!.VpcEndpointId).toBe(first.VpcEndpoint!.VpcEndpointId);
    expect(again.VpcEndpoint!.NetworkInterfaceIds).toEqual(first.VpcEndpoint!.NetworkInterfaceIds);
    const same = await ec2.send(
      new DescribeVpcEndpointsCommand({
        Filters: [{ Name: "service-name", Values: ["com.amazonaws.us-east-1.monitoring"] }],
      }),
    );
    expect(same.VpcEndpoints).toHaveLength(1);
    const before = snapshot(srv.state);
    const mismatch = await fails(
      ec2.send(new CreateVpcEndpointCommand({ ...input, SubnetIds: [net.subnets["us-east-1a"]!] })),
    );
    expect(mismatch.name).toBe("IdempotentParameterMismatch");
    expect(
      (await fails(ec2.send(new CreateVpcEndpointCommand({ ...input, ClientToken: "x".repeat(65) })))).name,
    ).toBe("InvalidParameterValue");
    expect(snapshot(srv.state)).toBe(before);
    const other = await ec2.send(
      new CreateVpcEndpointCommand({
        ...input,
        SubnetIds: [net.subnets["us-east-1a"]!],
        ClientToken: "token-2",
      }),
    );
    expect(other.VpcEndpoint!.VpcEndpointId).not.toBe(first.VpcEndpoint!.VpcEndpointId);
  });

  it("checks without acting", async () => {
    await settled();
    const before = snapshot(srv.state);
    const dry = await fails(
      ec2.send(
        new CreateVpcEndpointCommand(
          iface({ SubnetIds: [net.subnets["us-east-1a"]!], PrivateDnsEnabled: false, DryRun: true }),
        ),
      ),
    );
    expect(dry).toMatchObject({ name: "DryRunOperation", status: 412 });
    const invalid = await fails(
      ec2.send(
        new CreateVpcEndpointCommand(iface({ ServiceName: "com.amazonaws.us-east-1.nope", DryRun: true })),
      ),
    );
    expect(invalid.name).toBe("InvalidServiceName");
    const some = (await ec2.send(new DescribeVpcEndpointsCommand({}))).VpcEndpoints![0]!.VpcEndpointId!;
    expect(
      (await fails(ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [some], DryRun: true })))).name,
    ).toBe("DryRunOperation");
    expect(
      (
        await fails(
          ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: some, ResetPolicy: true, DryRun: true })),
        )
      ).name,
    ).toBe("DryRunOperation");
    expect((await fails(ec2.send(new DescribeVpcEndpointsCommand({ DryRun: true })))).name).toBe(
      "DryRunOperation",
    );
    expect(snapshot(srv.state)).toBe(before);
  });
});

describe("ModifyVpcEndpoint, payer responsibility and associations", () => {
  it("answers bad requests with AWS's codes", async () => {
    const id = (
      await ec2.send(
        new CreateVpcEndpointCommand(
          iface({ ServiceName: "com.amazonaws.us-east-1.ecr.api", PrivateDnsEnabled: false }),
        ),
      )
    ).VpcEndpoint!.VpcEndpointId!;
    const cases: [string, Promise<unknown>, string][] = [
      [
        "unknown",
        ec2.send(
          new ModifyVpcEndpointCommand({ VpcEndpointId: "vpce-0123456789abcdef0", ResetPolicy: true }),
        ),
        "InvalidVpcEndpointId.NotFound",
      ],
      [
        "malformed",
        ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: "vpce-1", ResetPolicy: true })),
        "InvalidVpcEndpointId.Malformed",
      ],
      [
        "bad policy",
        ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, PolicyDocument: "[]" })),
        "InvalidPolicyDocument",
      ],
      [
        "reset and set",
        ec2.send(
          new ModifyVpcEndpointCommand({
            VpcEndpointId: id,
            ResetPolicy: true,
            PolicyDocument: '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}',
          }),
        ),
        "InvalidParameterCombination",
      ],
      [
        "foreign group",
        ec2.send(
          new ModifyVpcEndpointCommand({ VpcEndpointId: id, AddSecurityGroupIds: ["sg-0123456789abcdef0"] }),
        ),
        "InvalidSecurityGroupID.NotFound",
      ],
      [
        "bad ip type",
        ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, IpAddressType: "ipv6" })),
        "InvalidParameter",
      ],
      [
        "payer: AWS service",
        ec2.send(
          new ModifyVpcEndpointPayerResponsibilityCommand({
            VpcEndpointId: id,
            PayerResponsibility: "vpc-endpoint-service-account",
            Scope: "vpc-endpoint-charges",
          }),
        ),
        "InvalidParameter",
      ],
      [
        "payer: bad value",
        ec2.send(
          new ModifyVpcEndpointPayerResponsibilityCommand({
            VpcEndpointId: id,
            PayerResponsibility: "me" as "vpc-endpoint-account",
            Scope: "vpc-endpoint-charges",
          }),
        ),
        "InvalidParameterValue",
      ],
      [
        "payer: resource scope",
        ec2.send(
          new ModifyVpcEndpointPayerResponsibilityCommand({
            VpcEndpointId: id,
            PayerResponsibility: "resource-gateway-account",
            Scope: "resource-gateway-charges",
          }),
        ),
        "InvalidParameter",
      ],
      [
        "associations: unknown",
        ec2.send(new DescribeVpcEndpointAssociationsCommand({ VpcEndpointIds: ["vpce-0123456789abcdef0"] })),
        "InvalidVpcEndpointId.NotFound",
      ],
      [
        "associations: filter",
        ec2.send(new DescribeVpcEndpointAssociationsCommand({ Filters: [{ Name: "nope", Values: ["x"] }] })),
        "InvalidFilter",
      ],
    ];
    for (const [what, p, code] of cases) expect((await fails(p)).name, what).toBe(code);
    const payer = await ec2.send(
      new ModifyVpcEndpointPayerResponsibilityCommand({
        VpcEndpointId: id,
        PayerResponsibility: "vpc-endpoint-account",
        Scope: "vpc-endpoint-charges",
      }),
    );
    expect(payer).toMatchObject({
      VpcEndpointId: id,
      PayerResponsibilities: [
        { Scope: "vpc-endpoint-charges", PayerResponsibilityType: "vpc-endpoint-account" },
      ],
    });
    const assoc = await ec2.send(
      new DescribeVpcEndpointAssociationsCommand({
        VpcEndpointIds: [id],
        Filters: [{ Name: "vpc-endpoint-id", Values: [id] }],
      }),
    );
    expect(assoc.VpcEndpointAssociations ?? []).toEqual([]);
  });
});
