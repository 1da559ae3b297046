import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AttachVpnGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateCustomerGatewayCommand,
  CreateRouteCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  CreateVpnConnectionCommand,
  CreateVpnConnectionRouteCommand,
  CreateVpnGatewayCommand,
  DescribeRouteTablesCommand,
  DescribeVpcEndpointsCommand,
} from "@aws-sdk/client-ec2";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runCli } from "../helpers/spawn.js";

/**
 * The seed's on-premises S3 sync: a data centre (site `dc`, 192.168.0.0/16) connected by
 * Site-to-Site VPN syncs a folder to S3 through the VPC's S3 interface endpoint with the
 * unmodified `aws s3 sync`, and back, byte-identical. The VPC's S3 gateway endpoint is refused
 * from the site with AWS's reason: gateway endpoints serve only flows that start in their VPC.
 */
const FILES = 100;
const SIZE = 1000 * 1000;

let srv: TestServer;
let shell: NodeJS.ProcessEnv;
let work: string;
let bucketUrl: string;

function fromSite(args: string[]) {
  return runCli(["exec", "--from", "site:dc", "--", "aws", ...args], shell);
}

beforeAll(async () => {
  srv = await startTestServer();
  shell = { ...srv.cliEnv(), PRIVLINK_URL: srv.url };
  work = mkdtempSync(join(tmpdir(), "privlink-onprem-s3-"));
  const site = await runCli(["site", "create", "dc", "--cidr", "192.168.0.0/16", "--json"], shell);
  expect(site.code, site.stderr).toBe(0);
  const publicIp = JSON.parse(site.stdout).publicIp as string;

  const ec2 = srv.ec2();
  const VpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.70.0.0/16" }))).Vpc!.VpcId!;
  const SubnetId = (
    await ec2.send(
      new CreateSubnetCommand({ VpcId, CidrBlock: "10.70.1.0/24", AvailabilityZone: "us-east-1a" }),
    )
  ).Subnet!.SubnetId!;
  const GroupId = (
    await ec2.send(new CreateSecurityGroupCommand({ VpcId, GroupName: "s3-from-dc", Description: "dc" }))
  ).GroupId!;
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "192.168.0.0/16" }] },
      ],
    }),
  );
  const mainTable = (
    await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: "vpc-id", Values: [VpcId] }] }))
  ).RouteTables![0]!.RouteTableId!;

  // The VPN: customer gateway at the site's public IP, VGW attached, static route to the site,
  // and the route back in the endpoint's subnet.
  const cgw = (
    await ec2.send(new CreateCustomerGatewayCommand({ Type: "ipsec.1", PublicIp: publicIp, BgpAsn: 65000 }))
  ).CustomerGateway!.CustomerGatewayId!;
  const vgw = (await ec2.send(new CreateVpnGatewayCommand({ Type: "ipsec.1" }))).VpnGateway!.VpnGatewayId!;
  await ec2.send(new AttachVpnGatewayCommand({ VpnGatewayId: vgw, VpcId }));
  const vpn = (
    await ec2.send(
      new CreateVpnConnectionCommand({
        Type: "ipsec.1",
        CustomerGatewayId: cgw,
        VpnGatewayId: vgw,
        Options: { StaticRoutesOnly: true },
      }),
    )
  ).VpnConnection!.VpnConnectionId!;
  await ec2.send(
    new CreateVpnConnectionRouteCommand({ VpnConnectionId: vpn, DestinationCidrBlock: "192.168.0.0/16" }),
  );
  await ec2.send(
    new CreateRouteCommand({
      RouteTableId: mainTable,
      DestinationCidrBlock: "192.168.0.0/16",
      GatewayId: vgw,
    }),
  );

  const ep = (
    await ec2.send(
      new CreateVpcEndpointCommand({
        VpcId,
        VpcEndpointType: "Interface",
        ServiceName: "com.amazonaws.us-east-1.s3",
        SubnetIds: [SubnetId],
        SecurityGroupIds: [GroupId],
        PrivateDnsEnabled: false,
      }),
    )
  ).VpcEndpoint!;
  for (let i = 0; i < 100; i++) {
    const d = await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [ep.VpcEndpointId!] }));
    if (String(d.VpcEndpoints![0]!.State) === "available") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  bucketUrl = `https://bucket.${ep.DnsEntries![0]!.DnsName!.slice(2)}`;
  await ec2.send(
    new CreateVpcEndpointCommand({
      VpcId,
      ServiceName: "com.amazonaws.us-east-1.s3",
      RouteTableIds: [mainTable],
    }),
  );
  await new S3Client({
    endpoint: srv.url,
    region: "us-east-1",
    credentials: srv.credentials,
    forcePathStyle: true,
  }).send(new CreateBucketCommand({ Bucket: "dc-backup" }));
}, 120_000);

afterAll(async () => {
  await srv?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("on-premises S3 sync over VPN", { timeout: 240_000 }, () => {
  it("`aws s3 sync` of 100 MB from the site through the S3 interface endpoint, and back, byte-identical", async () => {
    const up = join(work, "up");
    const down = join(work, "down");
    mkdirSync(join(up, "nested"), { recursive: true });
    for (let i = 0; i < FILES; i++)
      writeFileSync(join(up, i % 2 ? "nested" : "", `f-${i}.bin`), randomBytes(SIZE));
    const put = await fromSite([
      "s3",
      "sync",
      up,
      "s3://dc-backup/data",
      "--only-show-errors",
      "--endpoint-url",
      bucketUrl,
    ]);
    expect(put.stderr).toBe("");
    expect(put.code).toBe(0);
    const get = await fromSite([
      "s3",
      "sync",
      "s3://dc-backup/data",
      down,
      "--only-show-errors",
      "--endpoint-url",
      bucketUrl,
    ]);
    expect(get.stderr).toBe("");
    expect(get.code).toBe(0);
    const files = (dir: string) =>
      readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    expect(files(down)).toHaveLength(FILES);
    for (const f of files(up)) {
      const rel = join(f.parentPath, f.name).slice(up.length);
      expect(readFileSync(join(down, rel)).equals(readFileSync(join(up, rel))), rel).toBe(true);
    }
  });

  it("the VPC's S3 gateway endpoint is refused from the site with AWS's reason", async () => {
    const r = await fromSite(["s3", "ls", "s3://dc-backup/"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("PrivlinkNoRoute");
    expect(r.stderr).toMatch(
      /gateway endpoint vpce-\w+ \(com\.amazonaws\.us-east-1\.s3\) in vpc-\w+ cannot be used from site dc/,
    );
    expect(r.stderr).toContain("endpoint connections cannot be extended out of a VPC");
  });
});
