import { AuthorizeSecurityGroupIngressCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eniHostAddress } from "../../src/cloud/eni.js";
import { decide } from "../../src/flow/index.js";
import { type Consumer, exchange, type Provider, until } from "../dataplane/world.js";
import { digA, resolverOf } from "../dns-private/helpers.js";
import { echoHub, spokeWorkload } from "../helpers/net-world-echo.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runAws, runCli } from "../helpers/spawn.js";
import type { Listening } from "../net/sockets.js";

type Json = Record<string, any>;

/**
 * The shared-services design driven with the AWS CLI: a hub VPC's interface endpoint reached
 * from spoke 1 over a peering and from spoke 2 over a transit gateway; removing spoke 2's TGW
 * route refuses spoke 2 only, naming the route table that lacks the route.
 */
describe("hub and spokes with the AWS CLI", () => {
  let server: TestServer;
  let echoServer: Listening;
  let provider: Provider;
  let hub: Consumer;
  let endpointHost: string;
  const spokes: Record<
    string,
    { vpcId: string; subnetId: string; rtb: string; eniId: string; host: string; instanceId: string }
  > = {};
  let hubRtb: string;
  let tgw: string;

  async function aws(...args: string[]): Promise<Json> {
    const r = await runAws(
      ["--endpoint-url", server.url, "--output", "json", ...args],
      server.cliEnv(hub.creds),
    );
    if (r.code !== 0) throw new Error(`aws ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
    return r.stdout.trim() ? (JSON.parse(r.stdout) as Json) : {};
  }

  const probe = (name: string) =>
    exchange({ host: endpointHost, port: provider.listenerPort }, spokes[name]!.host, Buffer.from(name));

  beforeAll(async () => {
    server = await startTestServer();
    let ec2: EC2Client;
    ({ echoServer, provider, hub, ec2, endpointHost } = await echoHub(
      server,
      { provider: "555500000001", consumer: "555500000002" },
      "10.1.0.0/16",
    ));
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: hub.endpointSg,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: provider.listenerPort,
            ToPort: provider.listenerPort,
            IpRanges: [{ CidrIp: "10.0.0.0/8" }],
          },
        ],
      }),
    );
    for (const [name, cidr] of [
      ["one", "10.20.0.0/16"],
      ["two", "10.30.0.0/16"],
      ["three", "10.40.0.0/16"],
    ] as const) {
      const w = await spokeWorkload(server, ec2, cidr);
      spokes[name] = {
        vpcId: w.vpc.vpcId,
        subnetId: w.subnetId,
        rtb: w.vpc.mainRouteTable,
        eniId: w.eniId,
        instanceId: w.instanceId,
        host: w.host,
      };
    }
    hubRtb = await mainRouteTable(hub.vpcId);
    await until(() => (server.dataplane.dataplane.listenerCount > 0 ? true : undefined), "listener");
  }, 60_000);

  async function mainRouteTable(vpcId: string): Promise<string> {
    const out = await aws(
      "ec2",
      "describe-route-tables",
      "--filters",
      `Name=vpc-id,Values=${vpcId}`,
      "Name=association.main,Values=true",
    );
    return out.RouteTables[0].RouteTableId;
  }

  afterAll(async () => {
    await server?.stop();
    await echoServer?.close();
  });

  it("spoke 1 over a peering, spoke 2 over a transit gateway; a missing TGW route breaks spoke 2 only", async () => {
    const pcx = (
      await aws(
        "ec2",
        "create-vpc-peering-connection",
        "--vpc-id",
        spokes.one!.vpcId,
        "--peer-vpc-id",
        hub.vpcId,
      )
    ).VpcPeeringConnection.VpcPeeringConnectionId as string;
    await until(
      () =>
        server.state.get("vpcPeeringConnection", pcx)?.status === "pending-acceptance" ? true : undefined,
      "pending",
    );
    await aws("ec2", "accept-vpc-peering-connection", "--vpc-peering-connection-id", pcx);
    await aws(
      "ec2",
      "create-route",
      "--route-table-id",
      spokes.one!.rtb,
      "--destination-cidr-block",
      "10.1.0.0/16",
      "--vpc-peering-connection-id",
      pcx,
    );
    await aws(
      "ec2",
      "create-route",
      "--route-table-id",
      hubRtb,
      "--destination-cidr-block",
      "10.20.0.0/16",
      "--vpc-peering-connection-id",
      pcx,
    );
    await until(
      () => (server.state.get("vpcPeeringConnection", pcx)?.status === "active" ? true : undefined),
      "active",
    );
    expect(await probe("one")).toEqual({ kind: "data", data: Buffer.from("one") });

    tgw = (await aws("ec2", "create-transit-gateway", "--description", "hub")).TransitGateway
      .TransitGatewayId as string;
    await until(
      () => (server.state.get("transitGateway", tgw)?.state === "available" ? true : undefined),
      "tgw",
    );
    const attachments: string[] = [];
    for (const [vpcId, subnetId] of [
      [hub.vpcId, hub.subnetId],
      [spokes.two!.vpcId, spokes.two!.subnetId],
    ])
      attachments.push(
        (
          await aws(
            "ec2",
            "create-transit-gateway-vpc-attachment",
            "--transit-gateway-id",
            tgw,
            "--vpc-id",
            vpcId!,
            "--subnet-ids",
            subnetId!,
          )
        ).TransitGatewayVpcAttachment.TransitGatewayAttachmentId,
      );
    for (const id of attachments)
      await until(
        () => (server.state.get("transitGatewayAttachment", id)?.state === "available" ? true : undefined),
        id,
      );
    await aws(
      "ec2",
      "create-route",
      "--route-table-id",
      spokes.two!.rtb,
      "--destination-cidr-block",
      "10.1.0.0/16",
      "--transit-gateway-id",
      tgw,
    );
    await aws(
      "ec2",
      "create-route",
      "--route-table-id",
      hubRtb,
      "--destination-cidr-block",
      "10.30.0.0/16",
      "--transit-gateway-id",
      tgw,
    );
    expect(await probe("two")).toEqual({ kind: "data", data: Buffer.from("two") });
    const routes = await aws(
      "ec2",
      "search-transit-gateway-routes",
      "--transit-gateway-route-table-id",
      server.state.get("transitGateway", tgw)!.options.associationDefaultRouteTableId!,
      "--filters",
      "Name=type,Values=propagated",
    );
    expect(routes.Routes.map((r: Json) => r.DestinationCidrBlock).sort()).toEqual([
      "10.1.0.0/16",
      "10.30.0.0/16",
    ]);

    await aws(
      "ec2",
      "delete-route",
      "--route-table-id",
      spokes.two!.rtb,
      "--destination-cidr-block",
      "10.1.0.0/16",
    );
    expect((await probe("two")).kind).toBe("refused");
    const why = decide(server.state, {
      source: { kind: "eni", eniId: spokes.two!.eniId },
      destination: endpointHost,
      port: provider.listenerPort,
    }).reason;
    expect(why).toContain(`${spokes.two!.rtb} has no route for it`);
    expect(await probe("one")).toEqual({ kind: "data", data: Buffer.from("one") });
  }, 90_000);

  /**
   * The DNS half: the hub's Secrets Manager endpoint (private DNS off) is named for the spokes by
   * a private hosted zone associated with spokes one and two; spoke three, without the
   * association, resolves the public name and is refused (it has no way to the internet).
   */
  it("a private hosted zone associated with both spokes names the hub's endpoint; a third spoke gets the public name and is refused", async () => {
    const SM = "secretsmanager.us-east-1.amazonaws.com";
    await aws(
      "ec2",
      "create-route",
      "--route-table-id",
      spokes.two!.rtb,
      "--destination-cidr-block",
      "10.1.0.0/16",
      "--transit-gateway-id",
      tgw,
    );
    await aws(
      "ec2",
      "authorize-security-group-ingress",
      "--group-id",
      hub.endpointSg,
      "--protocol",
      "tcp",
      "--port",
      "443",
      "--cidr",
      "10.0.0.0/8",
    );
    const ep = (
      await aws(
        "ec2",
        "create-vpc-endpoint",
        "--vpc-id",
        hub.vpcId,
        "--vpc-endpoint-type",
        "Interface",
        "--service-name",
        "com.amazonaws.us-east-1.secretsmanager",
        "--subnet-ids",
        hub.subnetId,
        "--security-group-ids",
        hub.endpointSg,
        "--no-private-dns-enabled",
      )
    ).VpcEndpoint;
    await until(
      () => (server.state.get("vpcEndpoint", ep.VpcEndpointId)?.state === "available" ? true : undefined),
      "secretsmanager endpoint",
    );
    const zone = (
      await aws(
        "route53",
        "create-hosted-zone",
        "--name",
        SM,
        "--caller-reference",
        "sm-hub",
        "--vpc",
        `VPCRegion=us-east-1,VPCId=${spokes.one!.vpcId}`,
      )
    ).HostedZone.Id as string;
    const alias = {
      HostedZoneId: ep.DnsEntries[0].HostedZoneId,
      DNSName: ep.DnsEntries[0].DnsName,
      EvaluateTargetHealth: false,
    };
    await aws(
      "route53",
      "change-resource-record-sets",
      "--hosted-zone-id",
      zone,
      "--change-batch",
      JSON.stringify({
        Changes: [{ Action: "CREATE", ResourceRecordSet: { Name: SM, Type: "A", AliasTarget: alias } }],
      }),
    );
    await aws(
      "route53",
      "associate-vpc-with-hosted-zone",
      "--hosted-zone-id",
      zone,
      "--vpc",
      `VPCRegion=us-east-1,VPCId=${spokes.two!.vpcId}`,
    );
    await server.dns.settled();

    const smHost = eniHostAddress(
      server.state,
      server.state.get("eni", server.state.get("vpcEndpoint", ep.VpcEndpointId)!.enis[0]!.eniId)!,
    )!;
    for (const name of ["one", "two"]) {
      const answer = await digA(await resolverOf(server, spokes[name]!.vpcId), server.dns.port, SM);
      expect(answer.addresses, name).toEqual([smHost]);
    }
    const three = await digA(await resolverOf(server, spokes.three!.vpcId), server.dns.port, SM);
    expect(three.status).toBe("NOERROR");
    expect(three.addresses).not.toContain(smHost);
    expect(three.addresses.length).toBeGreaterThan(0);

    const env = { ...server.cliEnv(hub.creds), AWS_ENDPOINT_URL: "" };
    const call = (name: string) =>
      runCli(
        [
          "exec",
          "--from",
          spokes[name]!.instanceId,
          "--",
          "aws",
          "secretsmanager",
          "list-secrets",
          "--output",
          "json",
        ],
        env,
      );
    for (const name of ["one", "two"]) {
      const r = await call(name);
      expect(r.stderr, name).toBe("");
      expect(JSON.parse(r.stdout).SecretList).toEqual([]);
    }
    const refused = await call("three");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("no route to");
  }, 120_000);
});
