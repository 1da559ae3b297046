import {
  AttachVpnGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateCustomerGatewayCommand,
  CreateRouteCommand,
  CreateVpnConnectionCommand,
  CreateVpnConnectionRouteCommand,
  CreateVpnGatewayCommand,
  DescribeRouteTablesCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AccessReport } from "../../src/analyze/access.js";
import type { WhyResult } from "../../src/analyze/why.js";
import { tunnel } from "../../src/cli/connect.js";
import type { Consumer } from "../dataplane/world.js";
import { echoHub } from "../helpers/net-world-echo.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runCli } from "../helpers/spawn.js";
import type { Listening } from "../net/sockets.js";

/**
 * `why site:NAME` and the site rows of `access`: an on-premises site reaching a consumer's
 * interface endpoint over Site-to-Site VPN. At each step the verdict and the refusing hop's
 * reason are the ones a real connection from the site's workload proxy meets.
 */
let srv: TestServer;
let env: NodeJS.ProcessEnv;
let echoServer: Listening;
let c: Consumer;
let target: string;

beforeAll(async () => {
  srv = await startTestServer();
  env = { ...srv.cliEnv(), PRIVLINK_URL: srv.url };
  let endpointHost: string;
  ({
    echoServer,
    hub: c,
    endpointHost,
  } = await echoHub(srv, { provider: "430000000001", consumer: "430000000002" }, "10.3.0.0/16"));
  await srv.admin("POST", "/_privlink/sites", { name: "hq", cidr: "192.168.0.0/16" });
  target = `${endpointHost}:7070`;
});
afterAll(async () => {
  await srv?.stop();
  await echoServer?.close();
});

const why = (source: string, destination: string) =>
  srv.admin<WhyResult>("POST", "/_privlink/why", { source, destination });

/** What a connection from the site's workload meets: open (an echo) or the proxy's refusal. */
async function attempt(): Promise<{ open: true } | { open: false; reason: string }> {
  const proxy = await srv.admin<{ host: string; port: number }>("POST", "/_privlink/workloads/proxy", {
    workload: "site:hq",
  });
  try {
    const socket = await tunnel(proxy, target);
    socket.destroy();
    return { open: true };
  } catch (err) {
    return { open: false, reason: (err as Error).message };
  }
}

/** Waits until the endpoint carries traffic at all (available) as seen by why. */
async function settle(expectKind: string | undefined): Promise<WhyResult> {
  let r = await why("site:hq", target);
  for (let i = 0; i < 100; i++) {
    const kind = r.refusedAt === undefined ? undefined : r.hops[r.refusedAt]!.kind;
    if (kind === expectKind) return r;
    await new Promise((res) => setTimeout(res, 50));
    r = await why("site:hq", target);
  }
  return r;
}

async function agrees(r: WhyResult): Promise<void> {
  const seen = await attempt();
  expect(seen.open).toBe(r.allowed);
  // The proxy labels the flow with the address as dialled (the host address); why with the
  // private IP it stands for: the reason after the label is the same text.
  if (!seen.open) expect(seen.reason).toContain(r.reason.slice(r.reason.indexOf(": ") + 2));
}

describe("why site:NAME", () => {
  it("names the missing VPN first, as the connection does", async () => {
    const r = await settle("vpn");
    expect(r.source).toMatchObject({ label: "site:hq", site: "hq", privateIp: "192.168.0.10" });
    expect(r.hops[0]).toMatchObject({ kind: "source", resource: "site:hq" });
    expect(r.hops[r.refusedAt!]!.kind).toBe("vpn");
    expect(r.explanationCode).toBe("BAD_STATE_VPN");
    await agrees(r);
  });

  it("with the VPN and the route back, the endpoint's security group refuses; then admits", async () => {
    const ec2 = c.ec2;
    const vgw = (await ec2.send(new CreateVpnGatewayCommand({ Type: "ipsec.1" }))).VpnGateway!.VpnGatewayId!;
    await ec2.send(new AttachVpnGatewayCommand({ VpcId: c.vpcId, VpnGatewayId: vgw }));
    const site = srv.state.get("site", "hq")!;
    const cgw = (
      await ec2.send(
        new CreateCustomerGatewayCommand({ Type: "ipsec.1", IpAddress: site.publicIp, BgpAsn: 65000 }),
      )
    ).CustomerGateway!.CustomerGatewayId!;
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
    const rtb = (
      await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: "vpc-id", Values: [c.vpcId] }] }))
    ).RouteTables![0]!.RouteTableId!;
    await ec2.send(
      new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: "192.168.0.0/16", GatewayId: vgw }),
    );
    const refused = await settle("destination-sg-ingress");
    expect(refused.hops.map((h) => h.kind)).toContain("vpn");
    expect(refused.hops[refused.refusedAt!]!.kind).toBe("destination-sg-ingress");
    expect(refused.fix).toContain(`--group-id ${c.endpointSg}`);
    await agrees(refused);

    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: c.endpointSg,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 7070, ToPort: 7070, IpRanges: [{ CidrIp: "192.168.0.0/16" }] },
        ],
      }),
    );
    const allowed = await settle(undefined);
    expect(allowed.allowed).toBe(true);
    await agrees(allowed);

    // The CLI says the same: exit 0, the site named as the source.
    const cli = await runCli(["why", "site:hq", target], env);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/^site:hq 192\.168\.0\.10 \(on-premises site hq\) ->/);

    // access: the site is a workload row, reaching the endpoint over the VPN.
    const report = await srv.admin<AccessReport>("GET", "/_privlink/access");
    const row = report.rows.find((x) => x.workload === "site:hq" && x.endpointId === c.endpointId);
    expect(row).toMatchObject({ account: "", port: 7070 });
    expect(row!.path).toContain(vpn);
    // --account leaves sites out: they belong to no account.
    const mine = await srv.admin<AccessReport>("GET", "/_privlink/access?account=430000000002");
    expect(mine.rows.some((x) => x.workload === "site:hq")).toBe(false);
  });

  it("bad site input is a clear error", async () => {
    const cli = await runCli(["why", "site:nowhere", target], env);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain("no on-premises site is named 'nowhere'");
    const ip = await runCli(["why", "site:hq:10.9.9.9", target], env);
    expect(ip.code).toBe(2);
    expect(ip.stderr).toContain("is not an address of site 'hq'");
  });
});
