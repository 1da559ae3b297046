import { AuthorizeSecurityGroupIngressCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eniHostAddress } from "../../src/cloud/eni.js";
import type { Consumer, Provider } from "../dataplane/world.js";
import { echoHub } from "../helpers/net-world-echo.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runAws, runCli } from "../helpers/spawn.js";
import type { Listening } from "../net/sockets.js";

/**
 * docs/on-premises-sites.md, "Sites behind a transit gateway", with the AWS CLI: a site's
 * customer gateway, a static-routes-only Site-to-Site VPN attached to a transit gateway, the TGW
 * static route to the site, the VPC's route to the TGW; then `privlink connect --from site:NAME`
 * reaches an interface endpoint at its private address, and is refused, naming the TGW route
 * table, once the static route is gone. The endpoint and its service come from the SDK helpers.
 */

let srv: TestServer;
let echoServer: Listening;
let provider: Provider;
let hub: Consumer;
let env: NodeJS.ProcessEnv;
let endpointIp: string;

async function aws(...args: string[]): Promise<any> {
  const r = await runAws([...args, "--output", "json"], env);
  if (r.code !== 0) throw new Error(`aws ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : {};
}

const privlink = (args: string[], input?: string) =>
  runCli(args, { ...env, PRIVLINK_URL: srv.url, AWS_ENDPOINT_URL: "" }, input);

/** Polls a CLI read until `ok` (the CLI has no waiter for these). */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await read();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("timed out");
}

beforeAll(async () => {
  srv = await startTestServer();
  let endpointHost: string;
  ({ echoServer, provider, hub, endpointHost } = await echoHub(
    srv,
    { provider: "555900000001", consumer: "555900000002" },
    "10.55.0.0/16",
  ));
  endpointIp = [...srv.state.all("eni")].find(
    (e) => eniHostAddress(srv.state, e) === endpointHost,
  )!.privateIp;
  await hub.ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: hub.endpointSg,
      IpPermissions: [
        {
          IpProtocol: "tcp",
          FromPort: provider.listenerPort,
          ToPort: provider.listenerPort,
          IpRanges: [{ CidrIp: "192.168.0.0/16" }],
        },
      ],
    }),
  );
  env = srv.cliEnv(hub.creds);
}, 120_000);

afterAll(async () => {
  await srv?.stop();
  await echoServer?.close();
});

describe("a site over a Site-to-Site VPN attached to a transit gateway (AWS CLI)", {
  timeout: 240_000,
}, () => {
  it("connects to the interface endpoint with the static route, and is refused without it", async () => {
    const site = JSON.parse(
      (await privlink(["site", "create", "dc3", "--cidr", "192.168.0.0/16", "--json"])).stdout,
    );

    const tgw = (await aws("ec2", "create-transit-gateway", "--description", "hub")).TransitGateway
      .TransitGatewayId as string;
    const tgwInfo = await until(
      () => aws("ec2", "describe-transit-gateways", "--transit-gateway-ids", tgw),
      (d) => d.TransitGateways[0].State === "available",
    );
    const tgwRtb = tgwInfo.TransitGateways[0].Options.AssociationDefaultRouteTableId as string;
    await aws(
      "ec2",
      "create-transit-gateway-vpc-attachment",
      "--transit-gateway-id",
      tgw,
      "--vpc-id",
      hub.vpcId,
      "--subnet-ids",
      hub.subnetId,
    );
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
    ).CustomerGateway.CustomerGatewayId as string;
    const vpn = (
      await aws(
        "ec2",
        "create-vpn-connection",
        "--type",
        "ipsec.1",
        "--customer-gateway-id",
        cgw,
        "--transit-gateway-id",
        tgw,
        "--options",
        "StaticRoutesOnly=true",
      )
    ).VpnConnection.VpnConnectionId as string;
    const attachments = await until(
      () =>
        aws(
          "ec2",
          "describe-transit-gateway-attachments",
          "--filters",
          `Name=transit-gateway-id,Values=${tgw}`,
        ),
      (d) =>
        d.TransitGatewayAttachments.length === 2 &&
        d.TransitGatewayAttachments.every((a: any) => a.State === "available"),
    );
    const vpnAttachment = attachments.TransitGatewayAttachments.find((a: any) => a.ResourceId === vpn);
    expect(vpnAttachment.ResourceType).toBe("vpn");

    // Static routes only: nothing propagates the site's CIDR until the TGW has a static route.
    await aws(
      "ec2",
      "create-transit-gateway-route",
      "--transit-gateway-route-table-id",
      tgwRtb,
      "--destination-cidr-block",
      "192.168.0.0/16",
      "--transit-gateway-attachment-id",
      vpnAttachment.TransitGatewayAttachmentId,
    );
    const mainRtb = (
      await aws(
        "ec2",
        "describe-route-tables",
        "--filters",
        `Name=vpc-id,Values=${hub.vpcId}`,
        "Name=association.main,Values=true",
      )
    ).RouteTables[0].RouteTableId as string;
    await aws(
      "ec2",
      "create-route",
      "--route-table-id",
      mainRtb,
      "--destination-cidr-block",
      "192.168.0.0/16",
      "--transit-gateway-id",
      tgw,
    );

    const ok = await privlink(
      ["connect", "--from", "site:dc3", `${endpointIp}:${provider.listenerPort}`],
      "hello",
    );
    expect({ code: ok.code, stdout: ok.stdout, stderr: ok.stderr }).toEqual({
      code: 0,
      stdout: "hello",
      stderr: "",
    });

    await aws(
      "ec2",
      "delete-transit-gateway-route",
      "--transit-gateway-route-table-id",
      tgwRtb,
      "--destination-cidr-block",
      "192.168.0.0/16",
    );
    const refused = await privlink(
      ["connect", "--from", "site:dc3", `${endpointIp}:${provider.listenerPort}`],
      "x",
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("privlink: refused:");
    expect(refused.stderr).toContain(tgwRtb);
    expect(refused.stderr).toContain("192.168.");
  });
});
