import {
  AssociateRouteTableCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  type EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { CreateBucketCommand, ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WhyResult } from "../../src/analyze/why.js";
import { AWS_PUBLIC_ADDRESS } from "../../src/cloud/addressing.js";
import { digA, resolverOf } from "../dns-private/helpers.js";
import { ConnectProxyAgent } from "../helpers/connect-proxy-agent.mjs";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runCli } from "../helpers/spawn.js";

/**
 * Public names of the gateway services (S3's apex, bucket virtual-host, dual-stack and
 * dash-region names, DynamoDB's regional name) resolve in the VPC resolver, so that `aws s3 ls`
 * from a workload goes through a gateway endpoint, and `privlink why` answers such a name with
 * the gateway-endpoint hop (or the route's refusal) instead of "does not resolve". Each verdict
 * is checked against what the AWS CLI run as the workload gets.
 */
const BUCKET = "why-names-bucket";
const S3 = "s3.us-east-1.amazonaws.com";

let srv: TestServer;
let ec2: EC2Client;
let shell: NodeJS.ProcessEnv;
const net = { vpcId: "", gwTable: "", s3Endpoint: "", ddbEndpoint: "" };

type Run = { code: number | null; stdout: string; stderr: string };

const asWorkload = (from: string, args: string[]): Promise<Run> =>
  runCli(["exec", "--from", from, "--", "aws", ...args], shell);

async function why(source: string, destination: string): Promise<{ code: number | null; r: WhyResult }> {
  const run = await runCli(["why", source, destination, "--json"], shell);
  expect(run.stderr).toBe("");
  return { code: run.code, r: JSON.parse(run.stdout) as WhyResult };
}

/** An S3 client run as the workload: the SDK v3's default endpoint, tunnelled through its proxy. */
async function s3As(workload: string): Promise<S3Client> {
  const { url } = await srv.admin<{ url: string }>("POST", "/_privlink/workloads/proxy", { workload });
  return new S3Client({
    region: "us-east-1",
    credentials: srv.credentials,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpsAgent: new ConnectProxyAgent(url, { ca: srv.ca.certPem }) }),
  });
}

const refusingHop = (r: WhyResult) => (r.refusedAt === undefined ? undefined : r.hops[r.refusedAt]);

beforeAll(async () => {
  srv = await startTestServer();
  ec2 = srv.ec2();
  shell = { ...srv.cliEnv(), PRIVLINK_URL: srv.url };
  net.vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.61.0.0/16" }))).Vpc!.VpcId!;
  const subnet = async (cidr: string) =>
    (
      await ec2.send(
        new CreateSubnetCommand({ VpcId: net.vpcId, CidrBlock: cidr, AvailabilityZone: "us-east-1a" }),
      )
    ).Subnet!.SubnetId!;
  const [withRoute, without] = [await subnet("10.61.1.0/24"), await subnet("10.61.2.0/24")];
  net.gwTable = (await ec2.send(new CreateRouteTableCommand({ VpcId: net.vpcId }))).RouteTable!.RouteTableId!;
  await ec2.send(new AssociateRouteTableCommand({ RouteTableId: net.gwTable, SubnetId: withRoute }));
  for (const [name, s] of [
    ["names-gw", withRoute],
    ["names-private", without],
  ] as const)
    await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12345678",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: s,
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "Name", Value: name }] }],
      }),
    );
  const gateway = async (service: string) =>
    (
      await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: net.vpcId,
          ServiceName: `com.amazonaws.us-east-1.${service}`,
          RouteTableIds: [net.gwTable],
        }),
      )
    ).VpcEndpoint!.VpcEndpointId!;
  net.s3Endpoint = await gateway("s3");
  net.ddbEndpoint = await gateway("dynamodb");
  const edge = new S3Client({
    endpoint: srv.url,
    region: "us-east-1",
    credentials: srv.credentials,
    forcePathStyle: true,
    maxAttempts: 1,
  });
  await edge.send(new CreateBucketCommand({ Bucket: BUCKET }));
}, 120_000);

afterAll(async () => {
  await srv?.stop();
});

describe("public names of gateway services", { timeout: 120_000 }, () => {
  it("the VPC resolver answers them (dig), as AWS's public DNS does", async () => {
    const resolver = await resolverOf(srv, net.vpcId);
    for (const name of [
      S3,
      `${BUCKET}.${S3}`,
      "s3.dualstack.us-east-1.amazonaws.com",
      "s3-us-west-2.amazonaws.com",
      "s3.eu-west-1.amazonaws.com",
      "dynamodb.us-east-1.amazonaws.com",
    ])
      expect(await digA(resolver, srv.dns.port, name), name).toEqual({
        status: "NOERROR",
        addresses: [AWS_PUBLIC_ADDRESS],
      });
  });

  it("`aws s3 ls` from a subnet with the gateway route lists the buckets through the endpoint", async () => {
    const ls = await asWorkload("names-gw", ["s3", "ls"]);
    expect(ls.stderr).toBe("");
    expect(ls.code).toBe(0);
    expect(ls.stdout).toContain(BUCKET);
  });

  it("the SDK v3 (regional name s3.us-east-1.amazonaws.com) lists them through the workload's proxy", async () => {
    const out = await (await s3As("names-gw")).send(new ListBucketsCommand({}));
    expect(out.Buckets?.map((b) => b.Name)).toContain(BUCKET);
    const refused = await fails((await s3As("names-private")).send(new ListBucketsCommand({})));
    expect(refused.name).toBe("PrivlinkNoRoute");
    expect(refused.message).toBe(`no route to ${S3}: subnet has no internet or NAT route`);
  });

  it("`why` answers S3's and DynamoDB's names with the gateway-endpoint hop", async () => {
    for (const [name, endpoint] of [
      [`${S3}:443`, net.s3Endpoint],
      [S3, net.s3Endpoint],
      [`${BUCKET}.${S3}`, net.s3Endpoint],
      ["s3.amazonaws.com", net.s3Endpoint],
      ["dynamodb.us-east-1.amazonaws.com:443", net.ddbEndpoint],
    ] as const) {
      const { code, r } = await why("names-gw", name);
      expect(code, name).toBe(0);
      expect(r.allowed).toBe(true);
      const hop = r.hops.find((h) => h.kind === "gateway-endpoint");
      expect(hop, name).toMatchObject({ allowed: true, resource: endpoint });
      expect(r.hops.find((h) => h.kind === "route")?.detail).toContain(`via ${endpoint}`);
    }
  });

  it("another region's S3 and a subnet without the route are refused at the route, as the CLI is", async () => {
    const far = await why("names-gw", "s3.eu-west-1.amazonaws.com");
    expect(far.code).toBe(1);
    expect(refusingHop(far.r)).toMatchObject({ kind: "route", code: "NO_ROUTE_TO_DESTINATION" });

    for (const name of [S3, "s3.amazonaws.com"]) {
      const { code, r } = await why("names-private", name);
      expect(code).toBe(1);
      expect(refusingHop(r)).toMatchObject({ kind: "route", code: "NO_ROUTE_TO_DESTINATION" });
      expect(r.reason).toBe(`no route to ${name}: subnet has no internet or NAT route`);
    }
    // The AWS CLI lists buckets at us-east-1's global name; the SDK v3 at the regional one.
    const { r } = await why("names-private", "s3.amazonaws.com");
    const ls = await asWorkload("names-private", ["s3", "ls"]);
    expect(ls.code).not.toBe(0);
    expect(ls.stderr).toContain("PrivlinkNoRoute");
    expect(ls.stderr).toContain(r.reason);
  });
});
