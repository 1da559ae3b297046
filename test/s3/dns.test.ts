import { setTimeout as sleep } from "node:timers/promises";
import {
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  DescribeRouteTablesCommand,
  type EC2Client,
  ModifyVpcAttributeCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AWS_PUBLIC_ADDRESS } from "../../src/cloud/addressing.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/** The names of S3 interface endpoints in the VPC resolver, and private DNS for inbound resolvers only. */
let srv: TestServer;
let ec2: EC2Client;

async function vpcWithSubnet(cidr: string): Promise<{ vpcId: string; subnetId: string }> {
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: `${cidr}.0.0/16` }))).Vpc!.VpcId!;
  await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } }));
  const subnetId = (
    await ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `${cidr}.1.0/24`, AvailabilityZone: "us-east-1a" }),
    )
  ).Subnet!.SubnetId!;
  return { vpcId, subnetId };
}

/** Answers of the VPC resolver, once the endpoint's records converged. */
async function addresses(vpcId: string, name: string, until: (a: string[]) => boolean): Promise<string[]> {
  let got: string[] = [];
  for (let i = 0; i < 100; i++) {
    got = (await srv.dns.resolve(vpcId, name, "A")).answers.map((a) => String(a.data));
    if (until(got)) break;
    await sleep(50);
  }
  return got;
}

beforeAll(async () => {
  srv = await startTestServer();
  ec2 = srv.ec2();
});
afterAll(() => srv.stop());

describe("S3 interface endpoint names", () => {
  it("bucket., accesspoint. and control. names under the endpoint resolve to its ENIs", async () => {
    const net = await vpcWithSubnet("10.20");
    const ep = (
      await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: net.vpcId,
          VpcEndpointType: "Interface",
          ServiceName: "com.amazonaws.us-east-1.s3",
          SubnetIds: [net.subnetId],
          PrivateDnsEnabled: false,
        }),
      )
    ).VpcEndpoint!;
    const base = ep.DnsEntries![0]!.DnsName!.slice(2);
    const eni = await addresses(net.vpcId, `bucket.${base}`, (a) => a.length > 0);
    expect(eni).toHaveLength(1);
    expect(eni[0]).not.toBe(AWS_PUBLIC_ADDRESS);
    for (const name of [`my-bucket.bucket.${base}`, `accesspoint.${base}`, `123456789012.control.${base}`])
      expect(await addresses(net.vpcId, name, (a) => a.length > 0), name).toEqual(eni);
  });

  it("with PrivateDnsOnlyForInboundResolverEndpoint the VPC's own resolver keeps S3's public answer", async () => {
    const net = await vpcWithSubnet("10.21");
    const tables = await ec2.send(
      new DescribeRouteTablesCommand({ Filters: [{ Name: "vpc-id", Values: [net.vpcId] }] }),
    );
    await ec2.send(
      new CreateVpcEndpointCommand({
        VpcId: net.vpcId,
        VpcEndpointType: "Gateway",
        ServiceName: "com.amazonaws.us-east-1.s3",
        RouteTableIds: [tables.RouteTables![0]!.RouteTableId!],
      }),
    );
    const inboundOnly = (
      await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: net.vpcId,
          VpcEndpointType: "Interface",
          ServiceName: "com.amazonaws.us-east-1.s3",
          SubnetIds: [net.subnetId],
          PrivateDnsEnabled: true,
        }),
      )
    ).VpcEndpoint!;
    expect(inboundOnly.DnsOptions?.PrivateDnsOnlyForInboundResolverEndpoint).toBe(true);
    const base = inboundOnly.DnsEntries![0]!.DnsName!.slice(2);
    const eni = await addresses(net.vpcId, `bucket.${base}`, (a) => a.length > 0);
    expect(eni[0]).not.toBe(AWS_PUBLIC_ADDRESS);
    expect(await addresses(net.vpcId, "my-bucket.s3.us-east-1.amazonaws.com", () => true)).toEqual([
      AWS_PUBLIC_ADDRESS,
    ]);
  });

  it("without it, private DNS answers S3's public names with the ENIs inside the VPC", async () => {
    const net = await vpcWithSubnet("10.22");
    const ep = (
      await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: net.vpcId,
          VpcEndpointType: "Interface",
          ServiceName: "com.amazonaws.us-east-1.s3",
          SubnetIds: [net.subnetId],
          PrivateDnsEnabled: true,
          DnsOptions: { PrivateDnsOnlyForInboundResolverEndpoint: false },
        }),
      )
    ).VpcEndpoint!;
    const base = ep.DnsEntries![0]!.DnsName!.slice(2);
    const eni = await addresses(net.vpcId, `bucket.${base}`, (a) => a.length > 0);
    expect(
      await addresses(net.vpcId, "my-bucket.s3.us-east-1.amazonaws.com", (a) => a[0] !== AWS_PUBLIC_ADDRESS),
    ).toEqual(eni);
  });
});
