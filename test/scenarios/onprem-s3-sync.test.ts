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
  ModifyVpcAttributeCommand,
} from "@aws-sdk/client-ec2";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runAws, runCli } from "../helpers/spawn.js";

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
/** What the resolver part builds on: the VPC, its endpoint subnet and security group, the site. */
const world = { vpcId: "", subnetId: "", groupId: "", siteHost: "", siteDnsHost: "" };

function fromSite(args: string[]) {
  return runCli(["exec", "--from", "site:dc", "--", "aws", ...args], shell);
}

beforeAll(async () => {
  srv = await startTestServer();
  shell = { ...srv.cliEnv(), PRIVLINK_URL: srv.url };
  work = mkdtempSync(join(tmpdir(), "privlink-onprem-s3-"));
  const site = await runCli(["site", "create", "dc", "--cidr", "192.168.0.0/16", "--json"], shell);
  expect(site.code, site.stderr).toBe(0);
  const siteInfo = JSON.parse(site.stdout);
  const publicIp = siteInfo.publicIp as string;
  world.siteHost = siteInfo.workloadHost;
  world.siteDnsHost = siteInfo.dnsServerHost;

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
  Object.assign(world, { vpcId: VpcId, subnetId: SubnetId, groupId: GroupId });
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

/**
 * The seed's on-premises S3 with private DNS: the S3 interface endpoint has private DNS with
 * PrivateDnsOnlyForInboundResolverEndpoint, a Route 53 Resolver inbound endpoint serves the site,
 * and the site's DNS server forwards amazonaws.com to it. The site then resolves S3's own names
 * (and the endpoint's bucket names) to the endpoint's ENIs, and `aws s3 cp` with no endpoint URL
 * goes through the interface endpoint.
 */
describe("on-premises S3 through a Route 53 Resolver inbound endpoint", { timeout: 240_000 }, () => {
  const dns = { inboundHosts: [] as string[], endpointHosts: [] as string[], bucketName: "" };

  async function aws(args: string[]): Promise<any> {
    const r = await runAws([...args, "--endpoint-url", srv.url, "--output", "json"], shell);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.trim() ? JSON.parse(r.stdout) : {};
  }

  beforeAll(async () => {
    const ec2 = srv.ec2();
    for (const attr of ["EnableDnsHostnames", "EnableDnsSupport"] as const)
      await ec2.send(new ModifyVpcAttributeCommand({ VpcId: world.vpcId, [attr]: { Value: true } }));
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: world.groupId,
        IpPermissions: ["udp", "tcp"].map((IpProtocol) => ({
          IpProtocol,
          FromPort: 53,
          ToPort: 53,
          IpRanges: [{ CidrIp: "192.168.0.0/16" }],
        })),
      }),
    );
    const second = (
      await ec2.send(
        new CreateSubnetCommand({
          VpcId: world.vpcId,
          CidrBlock: "10.70.2.0/24",
          AvailabilityZone: "us-east-1b",
        }),
      )
    ).Subnet!.SubnetId!;
    const ep = (
      await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: world.vpcId,
          VpcEndpointType: "Interface",
          ServiceName: "com.amazonaws.us-east-1.s3",
          SubnetIds: [world.subnetId],
          SecurityGroupIds: [world.groupId],
          PrivateDnsEnabled: true,
          DnsOptions: { PrivateDnsOnlyForInboundResolverEndpoint: true },
        }),
      )
    ).VpcEndpoint!;
    for (let i = 0; i < 100; i++) {
      const d = await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [ep.VpcEndpointId!] }));
      if (String(d.VpcEndpoints![0]!.State) === "available") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    dns.bucketName = `bucket.${ep.DnsEntries![0]!.DnsName!.slice(2)}`;
    const inbound = await aws([
      "route53resolver",
      "create-resolver-endpoint",
      "--creator-request-id",
      "dc-in",
      "--direction",
      "INBOUND",
      "--security-group-ids",
      world.groupId,
      "--ip-addresses",
      `SubnetId=${world.subnetId}`,
      `SubnetId=${second}`,
    ]);
    const ips = (
      await aws([
        "route53resolver",
        "list-resolver-endpoint-ip-addresses",
        "--resolver-endpoint-id",
        inbound.ResolverEndpoint.Id,
      ])
    ).IpAddresses.map((a: { Ip: string }) => a.Ip) as string[];
    const slot = srv.state.get("vpc", world.vpcId)!.cidrBlocks[0]!.slot!;
    const host = (ip: string) => `127.${slot}.${ip.split(".").slice(2).join(".")}`;
    dns.inboundHosts = ips.map(host);
    const enis = await aws([
      "ec2",
      "describe-network-interfaces",
      "--filters",
      `Name=vpc-id,Values=${world.vpcId}`,
    ]);
    dns.endpointHosts = enis.NetworkInterfaces.filter((e: { Description: string }) =>
      e.Description.includes(ep.VpcEndpointId!),
    )
      .map((e: { PrivateIpAddress: string }) => host(e.PrivateIpAddress))
      .sort();
    const fwd = await runCli(["site", "dns", "forward", "dc", "amazonaws.com", ...ips], shell);
    expect(fwd.code, fwd.stderr).toBe(0);
    await srv.dns.settled();
  }, 120_000);

  /** dig run as a site workload (`privlink exec --from site:dc`, its socket on the site's address). */
  async function digFromSite(server: string, name: string): Promise<{ status: string; addresses: string[] }> {
    const r = await runCli(
      [
        "exec",
        "--from",
        "site:dc",
        "--",
        "dig",
        "-b",
        world.siteHost,
        `@${server}`,
        "-p",
        String(srv.dns.port),
        "+tries=1",
        "+time=3",
        name,
        "A",
      ],
      shell,
    );
    const status = /status: (\w+)/.exec(r.stdout)?.[1] ?? `no answer: ${r.stdout} ${r.stderr}`;
    const addresses = [...r.stdout.matchAll(/^[^;\s]\S*\s+\d+\s+IN\s+A\s+(\S+)$/gm)].map((m) => m[1]!).sort();
    return { status, addresses };
  }

  it("dig at the inbound endpoint answers S3's names and the endpoint's bucket names with the ENIs", async () => {
    for (const server of dns.inboundHosts)
      for (const name of ["s3.us-east-1.amazonaws.com", dns.bucketName, `dc-backup.${dns.bucketName}`]) {
        const got = await digFromSite(server, name);
        expect(got, `${name} @${server}`).toEqual({ status: "NOERROR", addresses: dns.endpointHosts });
      }
  });

  it("the site's DNS server forwards to the inbound endpoint and gets the same answers", async () => {
    const got = await digFromSite(world.siteDnsHost, "dc-backup.s3.us-east-1.amazonaws.com");
    expect(got).toEqual({ status: "NOERROR", addresses: dns.endpointHosts });
  });

  it("`aws s3 cp` from the site with no endpoint URL goes through the interface endpoint, and back", async () => {
    const file = join(work, "via-resolver.bin");
    const back = join(work, "via-resolver.back");
    writeFileSync(file, randomBytes(3 * 1000 * 1000));
    // In us-east-1 the CLI calls the legacy global name (s3.amazonaws.com), which private DNS does
    // not cover; AWS's guide for S3 interface endpoints says to use the regional one.
    const regional = { ...shell, AWS_S3_US_EAST_1_REGIONAL_ENDPOINT: "regional" };
    const cp = (from: string, to: string) =>
      runCli(
        ["exec", "--from", "site:dc", "--", "aws", "s3", "cp", from, to, "--only-show-errors"],
        regional,
      );
    const put = await cp(file, "s3://dc-backup/via-resolver.bin");
    expect(put.stderr).toBe("");
    expect(put.code).toBe(0);
    const get = await cp("s3://dc-backup/via-resolver.bin", back);
    expect(get.code, get.stderr).toBe(0);
    expect(readFileSync(back).equals(readFileSync(file))).toBe(true);
  });
});
