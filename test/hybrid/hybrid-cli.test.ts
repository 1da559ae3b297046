import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  DescribeVpcEndpointsCommand,
  ModifyVpcAttributeCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digA } from "../dns-private/helpers.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runAws, runCli } from "../helpers/spawn.js";

/**
 * The hybrid design with the AWS CLI: site dc1 (192.168.0.0/16) over Site-to-Site VPN to a VPC
 * with a Secrets Manager interface endpoint (private DNS on) and a Resolver inbound endpoint;
 * the site's DNS server forwards amazonaws.com to the inbound endpoint. A variant: site dc2 over
 * Direct Connect (private VIF, Direct Connect gateway, association with the same VGW).
 */

const SM = "secretsmanager.us-east-1.amazonaws.com";

let srv: TestServer;
let env: NodeJS.ProcessEnv;
let shell: NodeJS.ProcessEnv;

async function aws(...args: string[]): Promise<any> {
  const r = await runAws([...args, "--output", "json"], env);
  if (r.code !== 0) throw new Error(`aws ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : {};
}

async function privlink(...args: string[]) {
  return runCli(args, shell);
}

const world = {
  vpcId: "",
  subnets: [] as string[],
  resolverSubnets: [] as string[],
  mainRtb: "",
  vgw: "",
  vpn: "",
  endpointHosts: [] as string[],
  inboundIps: [] as string[],
  siteDns: "",
  siteDnsHost: "",
  workloadHost: "",
};

beforeAll(async () => {
  srv = await startTestServer();
  env = srv.cliEnv();
  shell = { ...srv.cliEnv(), PRIVLINK_URL: srv.url, AWS_ACCESS_KEY_ID: "", AWS_ENDPOINT_URL: "" };
  const site = JSON.parse(
    (await privlink("site", "create", "dc1", "--cidr", "192.168.0.0/16", "--json")).stdout,
  );
  world.siteDns = site.dnsServer;
  world.siteDnsHost = site.dnsServerHost;
  world.workloadHost = site.workloadHost;

  // The VPC scaffolding through the SDK (faster); the hybrid objects below through the AWS CLI.
  const ec2 = srv.ec2();
  world.vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.40.0.0/16" }))).Vpc!.VpcId!;
  await ec2.send(new ModifyVpcAttributeCommand({ VpcId: world.vpcId, EnableDnsHostnames: { Value: true } }));
  for (const [i, az] of ["us-east-1a", "us-east-1b", "us-east-1a", "us-east-1b"].entries()) {
    const s = await ec2.send(
      new CreateSubnetCommand({ VpcId: world.vpcId, CidrBlock: `10.40.${i + 1}.0/24`, AvailabilityZone: az }),
    );
    (i < 2 ? world.subnets : world.resolverSubnets).push(s.Subnet!.SubnetId!);
  }
  const sg = (
    await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "onprem", Description: "from dc", VpcId: world.vpcId }),
    )
  ).GroupId!;
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: sg,
      IpPermissions: (["tcp:443", "tcp:53", "udp:53"] as const).map((pp) => ({
        IpProtocol: pp.split(":")[0],
        FromPort: Number(pp.split(":")[1]),
        ToPort: Number(pp.split(":")[1]),
        IpRanges: [{ CidrIp: "192.168.0.0/16" }, { CidrIp: "172.20.0.0/16" }],
      })),
    }),
  );
  const epId = (
    await ec2.send(
      new CreateVpcEndpointCommand({
        VpcId: world.vpcId,
        VpcEndpointType: "Interface",
        ServiceName: "com.amazonaws.us-east-1.secretsmanager",
        SubnetIds: world.subnets,
        SecurityGroupIds: [sg],
        PrivateDnsEnabled: true,
      }),
    )
  ).VpcEndpoint!.VpcEndpointId!;
  for (let i = 0; i < 100; i++) {
    const d = await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [epId] }));
    if (String(d.VpcEndpoints![0]!.State) === "available") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const enis = await aws(
    "ec2",
    "describe-network-interfaces",
    "--filters",
    `Name=vpc-id,Values=${world.vpcId}`,
  );
  const slot = srv.state.get("vpc", world.vpcId)!.cidrBlocks[0]!.slot!;
  world.endpointHosts = enis.NetworkInterfaces.filter((e: any) => e.Description.includes(epId))
    .map((e: any) => `127.${slot}.${e.PrivateIpAddress.split(".").slice(2).join(".")}`)
    .sort();

  // The VPN: customer gateway at the site's public IP, VGW attached, static route to the site.
  const cgw = (
    await aws(
      "ec2",
      "create-customer-gateway",
      "--type",
      "ipsec.1",
      "--public-ip",
      site.publicIp,
      "--bgp-asn",
      "65000",
    )
  ).CustomerGateway.CustomerGatewayId;
  world.vgw = (await aws("ec2", "create-vpn-gateway", "--type", "ipsec.1")).VpnGateway.VpnGatewayId;
  await aws("ec2", "attach-vpn-gateway", "--vpn-gateway-id", world.vgw, "--vpc-id", world.vpcId);
  world.vpn = (
    await aws(
      "ec2",
      "create-vpn-connection",
      "--type",
      "ipsec.1",
      "--customer-gateway-id",
      cgw,
      "--vpn-gateway-id",
      world.vgw,
      "--options",
      "StaticRoutesOnly=true",
    )
  ).VpnConnection.VpnConnectionId;
  await aws(
    "ec2",
    "create-vpn-connection-route",
    "--vpn-connection-id",
    world.vpn,
    "--destination-cidr-block",
    "192.168.0.0/16",
  );

  // The resolver subnets get their own route table, propagating the VGW's routes.
  const rtb = (await aws("ec2", "create-route-table", "--vpc-id", world.vpcId)).RouteTable.RouteTableId;
  for (const s of world.resolverSubnets)
    await aws("ec2", "associate-route-table", "--route-table-id", rtb, "--subnet-id", s);
  await aws("ec2", "enable-vgw-route-propagation", "--route-table-id", rtb, "--gateway-id", world.vgw);
  world.mainRtb = (
    await aws(
      "ec2",
      "describe-route-tables",
      "--filters",
      `Name=vpc-id,Values=${world.vpcId}`,
      "Name=association.main,Values=true",
    )
  ).RouteTables[0].RouteTableId;

  const inbound = await aws(
    "route53resolver",
    "create-resolver-endpoint",
    "--creator-request-id",
    "hybrid-1",
    "--name",
    "from-dc",
    "--direction",
    "INBOUND",
    "--security-group-ids",
    sg,
    "--ip-addresses",
    `SubnetId=${world.resolverSubnets[0]}`,
    `SubnetId=${world.resolverSubnets[1]}`,
  );
  const ips = await aws(
    "route53resolver",
    "list-resolver-endpoint-ip-addresses",
    "--resolver-endpoint-id",
    inbound.ResolverEndpoint.Id,
  );
  world.inboundIps = ips.IpAddresses.map((a: any) => a.Ip);
  const fwd = await privlink("site", "dns", "forward", "dc1", "amazonaws.com", ...world.inboundIps);
  expect(fwd.code, fwd.stderr).toBe(0);
  await srv.dns.settled();
}, 240_000);

afterAll(() => srv?.stop());

describe("hybrid: a site over Site-to-Site VPN with a Resolver inbound endpoint (AWS CLI)", {
  timeout: 180_000,
}, () => {
  it("shows the VPN objects as AWS does: tunnels UP, the static route, the propagated route with its origin", async () => {
    const v = (await aws("ec2", "describe-vpn-connections", "--vpn-connection-ids", world.vpn))
      .VpnConnections[0];
    expect(v.State).toBe("available");
    expect(v.Routes).toEqual([
      { DestinationCidrBlock: "192.168.0.0/16", Source: "Static", State: "available" },
    ]);
    expect(v.VgwTelemetry.map((t: any) => t.Status)).toEqual(["UP", "UP"]);
    const tables = (
      await aws("ec2", "describe-route-tables", "--filters", `Name=vpc-id,Values=${world.vpcId}`)
    ).RouteTables;
    const propagating = tables.find((t: any) => t.PropagatingVgws.length > 0);
    expect(propagating.PropagatingVgws).toEqual([{ GatewayId: world.vgw }]);
    expect(propagating.Routes).toContainEqual(
      expect.objectContaining({
        DestinationCidrBlock: "192.168.0.0/16",
        GatewayId: world.vgw,
        Origin: "EnableVgwRoutePropagation",
      }),
    );
  });

  it("the site's DNS server answers the service's private name through the inbound endpoint (dig)", async () => {
    const viaSite = await digA(world.siteDnsHost, srv.dns.port, SM);
    expect(viaSite.status).toBe("NOERROR");
    expect(viaSite.addresses).toEqual(world.endpointHosts);
    // The public resolver keeps the public answer.
    const pub = await digA(srv.dns.publicAddress, srv.dns.port, SM);
    expect(pub.addresses).not.toEqual(world.endpointHosts);
  });

  it("without a route back to the site in the endpoint's subnets, the connection is refused with that reason", async () => {
    // An AWS client reads the refusal as an AWS error (PrivlinkNoRoute) carrying the reason.
    const r = await privlink("exec", "--from", "site:dc1", "--", "aws", "secretsmanager", "list-secrets");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("PrivlinkNoRoute");
    expect(r.stderr).toContain(`no route back to 192.168.0.10 (site dc1) in ${world.mainRtb}`);
    expect(r.stderr).toContain(world.vgw);
  });

  it("with the route, the site's workload calls Secrets Manager through the interface endpoint over the VPN", async () => {
    await aws(
      "ec2",
      "create-route",
      "--route-table-id",
      world.mainRtb,
      "--destination-cidr-block",
      "192.168.0.0/16",
      "--gateway-id",
      world.vgw,
    );
    const r = await privlink(
      "exec",
      "--from",
      "site:dc1",
      "--",
      "aws",
      "secretsmanager",
      "list-secrets",
      "--output",
      "json",
    );
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout).SecretList).toEqual([]);
    expect(r.code).toBe(0);
  });

  it("a tunnel that is down refuses flows with that reason, and DescribeVpnConnections shows DOWN", async () => {
    expect((await privlink("site", "vpn", "down", "dc1")).code).toBe(0);
    const r = await privlink("connect", "--from", "site:dc1", `${world.endpointHosts[0]}:443`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`both tunnels of ${world.vpn}`);
    expect(r.stderr).toContain("DOWN");
    const v = (await aws("ec2", "describe-vpn-connections", "--vpn-connection-ids", world.vpn))
      .VpnConnections[0];
    expect(v.VgwTelemetry.map((t: any) => t.Status)).toEqual(["DOWN", "DOWN"]);
    expect((await privlink("site", "vpn", "up", "dc1")).code).toBe(0);
    const up = (await aws("ec2", "describe-vpn-connections", "--vpn-connection-ids", world.vpn))
      .VpnConnections[0];
    expect(up.VgwTelemetry.map((t: any) => t.Status)).toEqual(["UP", "UP"]);
  });

  it("a gateway endpoint is refused from the site with AWS's reason", async () => {
    await aws(
      "ec2",
      "create-vpc-endpoint",
      "--vpc-id",
      world.vpcId,
      "--service-name",
      "com.amazonaws.us-east-1.s3",
      "--route-table-ids",
      world.mainRtb,
    );
    const r = await privlink("exec", "--from", "site:dc1", "--", "aws", "s3api", "list-buckets");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("cannot be used from site dc1");
    expect(r.stderr).toContain("endpoint connections cannot be extended out of a VPC");
  });
});

describe("hybrid: a site over Direct Connect (AWS CLI)", { timeout: 180_000 }, () => {
  it("connects over a private VIF through a Direct Connect gateway associated with the VGW", async () => {
    expect((await privlink("site", "create", "dc2", "--cidr", "172.20.0.0/16")).code).toBe(0);
    const locations = (await aws("directconnect", "describe-locations")).locations.map(
      (l: any) => l.locationCode,
    );
    expect(locations).toContain("dc2");
    const con = await aws(
      "directconnect",
      "create-connection",
      "--location",
      "dc2",
      "--bandwidth",
      "1Gbps",
      "--connection-name",
      "dc2-link",
    );
    expect(con.connectionState).toBe("available");
    const gw = (
      await aws("directconnect", "create-direct-connect-gateway", "--direct-connect-gateway-name", "dxgw")
    ).directConnectGateway;
    await aws(
      "directconnect",
      "create-direct-connect-gateway-association",
      "--direct-connect-gateway-id",
      gw.directConnectGatewayId,
      "--virtual-gateway-id",
      world.vgw,
    );
    // Before the VIF: no path from the site.
    const before = await privlink("connect", "--from", "site:dc2", `${world.endpointHosts[0]}:443`);
    expect(before.code).toBe(1);
    expect(before.stderr).toContain("no Direct Connect virtual interface at location dc2");
    const vif = await aws(
      "directconnect",
      "create-private-virtual-interface",
      "--connection-id",
      con.connectionId,
      "--new-private-virtual-interface",
      `virtualInterfaceName=dc2-vif,vlan=101,asn=65010,directConnectGatewayId=${gw.directConnectGatewayId}`,
    );
    expect(vif.virtualInterfaceState).toBe("available");
    // The main table propagates the VGW: the site's CIDR arrives over BGP.
    await aws(
      "ec2",
      "enable-vgw-route-propagation",
      "--route-table-id",
      world.mainRtb,
      "--gateway-id",
      world.vgw,
    );
    const main = (await aws("ec2", "describe-route-tables", "--route-table-ids", world.mainRtb))
      .RouteTables[0];
    expect(main.Routes).toContainEqual(
      expect.objectContaining({
        DestinationCidrBlock: "172.20.0.0/16",
        GatewayId: world.vgw,
        Origin: "EnableVgwRoutePropagation",
      }),
    );
    expect((await privlink("site", "dns", "forward", "dc2", "amazonaws.com", ...world.inboundIps)).code).toBe(
      0,
    );
    const r = await privlink(
      "exec",
      "--from",
      "site:dc2",
      "--",
      "aws",
      "secretsmanager",
      "list-secrets",
      "--output",
      "json",
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});
