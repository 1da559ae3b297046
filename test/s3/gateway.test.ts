import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  DescribeRouteTablesCommand,
  type EC2Client,
  ModifyVpcEndpointCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decide } from "../../src/flow/index.js";
import { ConnectProxyAgent } from "../helpers/connect-proxy-agent.mjs";
import { fails } from "../helpers/errors.js";
import { edgeS3 } from "../helpers/s3.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runCli } from "../helpers/spawn.js";

/**
 * The S3 gateway endpoint carries traffic: a workload in a subnet whose route table has the
 * endpoint's prefix-list route reaches S3's public names through it (no internet, no NAT), the
 * endpoint policy is enforced with S3's AccessDenied, and bucket policies see aws:SourceVpce and
 * aws:SourceVpc. A subnet without the route goes the public path, or nowhere. Driven by the AWS
 * CLI through `privlink exec` and by the SDK v3 through the workload's proxy.
 */
const BUCKET = "gw-bucket";

let srv: TestServer;
let ec2: EC2Client;
let shell: NodeJS.ProcessEnv;
let work: string;
const net = { vpcId: "", gwTable: "", mainTable: "", endpointId: "", prefixList: "" };

type Run = { code: number | null; stdout: string; stderr: string };

function asWorkload(from: string, args: string[]): Promise<Run> {
  return runCli(["exec", "--from", from, "--", "aws", ...args], shell);
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

const edge = () => edgeS3(srv);

beforeAll(async () => {
  srv = await startTestServer();
  ec2 = srv.ec2();
  shell = { ...srv.cliEnv(), PRIVLINK_URL: srv.url };
  work = mkdtempSync(join(tmpdir(), "privlink-s3gw-"));
  net.vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.60.0.0/16" }))).Vpc!.VpcId!;
  const subnet = async (cidr: string) =>
    (
      await ec2.send(
        new CreateSubnetCommand({ VpcId: net.vpcId, CidrBlock: cidr, AvailabilityZone: "us-east-1a" }),
      )
    ).Subnet!.SubnetId!;
  const [withRoute, without] = [await subnet("10.60.1.0/24"), await subnet("10.60.2.0/24")];
  net.gwTable = (await ec2.send(new CreateRouteTableCommand({ VpcId: net.vpcId }))).RouteTable!.RouteTableId!;
  await ec2.send(new AssociateRouteTableCommand({ RouteTableId: net.gwTable, SubnetId: withRoute }));
  net.mainTable = (
    await ec2.send(
      new DescribeRouteTablesCommand({
        Filters: [
          { Name: "vpc-id", Values: [net.vpcId] },
          { Name: "association.main", Values: ["true"] },
        ],
      }),
    )
  ).RouteTables![0]!.RouteTableId!;
  for (const [name, s] of [
    ["in-gw", withRoute],
    ["in-main", without],
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
  const ep = (
    await ec2.send(
      new CreateVpcEndpointCommand({
        VpcId: net.vpcId,
        ServiceName: "com.amazonaws.us-east-1.s3",
        RouteTableIds: [net.gwTable],
      }),
    )
  ).VpcEndpoint!;
  net.endpointId = ep.VpcEndpointId!;
  const routes = (await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [net.gwTable] })))
    .RouteTables![0]!.Routes!;
  net.prefixList = routes.find((r) => r.GatewayId === net.endpointId)!.DestinationPrefixListId!;

  // Reads only through the gateway endpoint, writes only from the VPC.
  const s3 = edge();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "seed.txt", Body: "from the edge" }));
  const policy = {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ReadsThroughTheEndpoint",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:GetObject",
        Resource: `arn:aws:s3:::${BUCKET}/*`,
        Condition: { StringNotEquals: { "aws:SourceVpce": net.endpointId } },
      },
      {
        Sid: "WritesFromTheVpc",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:PutObject",
        Resource: `arn:aws:s3:::${BUCKET}/*`,
        Condition: { StringNotEquals: { "aws:SourceVpc": net.vpcId } },
      },
    ],
  };
  await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: JSON.stringify(policy) }));
}, 120_000);

afterAll(async () => {
  await srv?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the S3 gateway endpoint carries traffic", { timeout: 120_000 }, () => {
  it("the decision routes S3's public names through the endpoint's prefix-list route", () => {
    const eni = [...srv.state.all("instance")].find((i) => i.tags.Name === "in-gw")!.eniId;
    for (const name of ["s3.us-east-1.amazonaws.com", `${BUCKET}.s3.amazonaws.com`]) {
      const d = decide(srv.state, {
        source: { kind: "eni", eniId: eni },
        destination: "127.0.0.1",
        port: 443,
        name,
      });
      expect(d.allowed, d.reason).toBe(true);
      expect(d.hops.find((h) => h.kind === "route")?.detail).toBe(
        `${net.gwTable}: ${net.prefixList} via ${net.endpointId}`,
      );
      expect(d.target).toMatchObject({ kind: "gateway-endpoint", endpointId: net.endpointId });
    }
    // Another region's S3 is outside this region's prefix list: no gateway endpoint for it.
    const far = decide(srv.state, {
      source: { kind: "eni", eniId: eni },
      destination: "127.0.0.1",
      port: 443,
      name: "s3.eu-west-1.amazonaws.com",
    });
    expect(far.reason).toBe("no route to s3.eu-west-1.amazonaws.com: subnet has no internet or NAT route");
  });

  it("`aws s3` from a subnet with the route: writes and reads pass the bucket policy's aws:SourceVpc and aws:SourceVpce", async () => {
    const file = join(work, "report.txt");
    writeFileSync(file, "through the gateway endpoint");
    const put = await asWorkload("in-gw", ["s3", "cp", file, `s3://${BUCKET}/report.txt`]);
    expect(put.stderr).toBe("");
    expect(put.code).toBe(0);
    const out = join(work, "back.txt");
    const get = await asWorkload("in-gw", ["s3", "cp", `s3://${BUCKET}/report.txt`, out]);
    expect(get.stderr).toBe("");
    expect(readFileSync(out, "utf8")).toBe("through the gateway endpoint");
    const ls = await asWorkload("in-gw", ["s3", "ls", `s3://${BUCKET}/`]);
    expect(ls.stdout).toContain("report.txt");
    // The edge is not the endpoint: the bucket policy's explicit deny.
    const denied = await fails(edge().send(new GetObjectCommand({ Bucket: BUCKET, Key: "report.txt" })));
    expect(denied.message).toBe(
      `User: arn:aws:iam::000000000000:root is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::${BUCKET}/report.txt" with an explicit deny in a resource-based policy`,
    );
  });

  it("the SDK v3 with its default endpoint goes the same way (virtual-hosted name)", async () => {
    const s3 = await s3As("in-gw");
    try {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "sdk.txt", Body: "sdk via vpce" }));
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "sdk.txt" }));
      expect(await got.Body!.transformToString()).toBe("sdk via vpce");
    } finally {
      s3.destroy();
    }
  });

  it("the gateway endpoint's policy is enforced with S3's AccessDenied naming the VPC endpoint policy", async () => {
    const onlyReads = {
      Statement: [
        { Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: `arn:aws:s3:::${BUCKET}/*` },
      ],
    };
    await ec2.send(
      new ModifyVpcEndpointCommand({
        VpcEndpointId: net.endpointId,
        PolicyDocument: JSON.stringify(onlyReads),
      }),
    );
    try {
      const file = join(work, "blocked.txt");
      writeFileSync(file, "x");
      const put = await asWorkload("in-gw", ["s3", "cp", file, `s3://${BUCKET}/blocked.txt`]);
      expect(put.code).not.toBe(0);
      expect(put.stderr).toContain(
        `An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:iam::000000000000:root is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::${BUCKET}/blocked.txt" because no VPC endpoint policy allows the s3:PutObject action`,
      );
      const s3 = await s3As("in-gw");
      try {
        const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "seed.txt" }));
        expect(await got.Body!.transformToString()).toBe("from the edge");
        const e = await fails(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "b.txt", Body: "b" })));
        expect(e).toMatchObject({ name: "AccessDenied", status: 403 });
        expect(e.message).toContain("because no VPC endpoint policy allows the s3:PutObject action");
      } finally {
        s3.destroy();
      }
    } finally {
      await ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: net.endpointId, ResetPolicy: true }));
    }
  });

  it("a subnet without the route is refused with the reason, then goes the public path once it has an internet gateway", async () => {
    const refused = await asWorkload("in-main", ["s3", "ls", `s3://${BUCKET}/`]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("PrivlinkNoRoute");
    expect(refused.stderr).toContain("subnet has no internet or NAT route");

    const igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: net.vpcId }));
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: net.mainTable,
        DestinationCidrBlock: "0.0.0.0/0",
        GatewayId: igw,
      }),
    );
    // Listing is not in the bucket policy: it works over the internet.
    const ls = await asWorkload("in-main", ["s3", "ls", `s3://${BUCKET}/`]);
    expect(ls.stderr).toBe("");
    expect(ls.stdout).toContain("report.txt");
    // Over the internet S3 sees no endpoint and no VPC: both of the bucket's denies apply.
    const out = join(work, "public.txt");
    const get = await asWorkload("in-main", [
      "s3api",
      "get-object",
      "--bucket",
      BUCKET,
      "--key",
      "report.txt",
      out,
    ]);
    expect(get.code).not.toBe(0);
    expect(get.stderr).toContain("with an explicit deny in a resource-based policy");
    const put = await asWorkload("in-main", ["s3", "cp", join(work, "report.txt"), `s3://${BUCKET}/p.txt`]);
    expect(put.code).not.toBe(0);
    expect(put.stderr).toContain("s3:PutObject");
    expect(put.stderr).toContain("with an explicit deny in a resource-based policy");
  });
});
