import {
  AuthorizeSecurityGroupIngressCommand,
  CreateCustomerGatewayCommand,
  CreateRouteCommand,
  CreateTransitGatewayCommand,
  CreateTransitGatewayRouteCommand,
  CreateTransitGatewayVpcAttachmentCommand,
  CreateVpnConnectionCommand,
  CreateVpnConnectionRouteCommand,
  DeleteRouteCommand,
  DeleteTransitGatewayRouteCommand,
  DeleteVpnConnectionCommand,
  DescribeRouteTablesCommand,
  DescribeTransitGatewayAttachmentsCommand,
  DescribeVpnConnectionsCommand,
  type EC2Client,
  SearchTransitGatewayRoutesCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decide } from "../../src/flow/index.js";
import { addresses, type Consumer, exchange, type Provider, until } from "../dataplane/world.js";
import { fails } from "../helpers/errors.js";
import { echoHub } from "../helpers/net-world-echo.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { signedFetch } from "../helpers/sign.js";
import type { Listening } from "../net/sockets.js";

/**
 * Sites behind a transit gateway, with real sockets: site dc1 over a VPN connection created with
 * TransitGatewayId (a `vpn` attachment), site dc2 over a transit VIF on a Direct Connect gateway
 * associated with the TGW (a `direct-connect-gateway` attachment). Both propagate the site's
 * CIDR into the TGW route table and reach a spoke VPC's interface endpoint through the TGW.
 */
describe("on-premises sites through a transit gateway (SDK, real sockets)", () => {
  let srv: TestServer;
  let echoServer: Listening;
  let provider: Provider;
  let spoke: Consumer;
  let ec2: EC2Client;
  let endpointHost: string;
  let tgwId: string;
  let rtb: string;
  let defaultRtb: string;
  const sites: Record<string, { publicIp: string; workloadHost: string; workload: string }> = {};

  const probe = (site: string) =>
    exchange(
      { host: endpointHost, port: provider.listenerPort },
      sites[site]!.workloadHost,
      Buffer.from(site),
    );
  const why = (site: string) =>
    decide(srv.state, {
      source: { kind: "outside", address: sites[site]!.workloadHost },
      destination: endpointHost,
      port: provider.listenerPort,
    });
  const dx = async (op: string, body: unknown) => {
    const r = await signedFetch(srv.url, {
      service: "directconnect",
      creds: spoke.creds,
      body: JSON.stringify(body),
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `OvertureService.${op}` },
    });
    return { status: r.status, body: JSON.parse(r.body || "{}") };
  };
  const attachmentsOf = async (resourceId: string) =>
    (
      await ec2.send(
        new DescribeTransitGatewayAttachmentsCommand({
          Filters: [{ Name: "resource-id", Values: [resourceId] }],
        }),
      )
    ).TransitGatewayAttachments ?? [];
  const available = (resourceId: string) =>
    until(async () => {
      const a = (await attachmentsOf(resourceId))[0];
      return a?.State === "available" ? a : undefined;
    }, `${resourceId} attachment available`);

  beforeAll(async () => {
    srv = await startTestServer();
    ({
      echoServer,
      provider,
      hub: spoke,
      ec2,
      endpointHost,
    } = await echoHub(srv, { provider: "555600000001", consumer: "555600000002" }, "10.61.0.0/16"));
    for (const [name, cidr] of [
      ["tdc1", "192.168.0.0/16"],
      ["tdc2", "172.21.0.0/16"],
    ] as const) {
      const s = await srv.admin<{ publicIp: string; workloadHost: string; workload: string }>(
        "POST",
        "/_privlink/sites",
        { name, cidr },
      );
      sites[name] = s;
    }
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: spoke.endpointSg,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: provider.listenerPort,
            ToPort: provider.listenerPort,
            IpRanges: [{ CidrIp: "192.168.0.0/16" }, { CidrIp: "172.21.0.0/16" }],
          },
        ],
      }),
    );
    tgwId = (await ec2.send(new CreateTransitGatewayCommand({ Description: "hybrid hub" }))).TransitGateway!
      .TransitGatewayId!;
    const tgw = await until(
      () =>
        srv.state.get("transitGateway", tgwId)?.state === "available"
          ? srv.state.get("transitGateway", tgwId)
          : undefined,
      "tgw",
    );
    defaultRtb = tgw.options.associationDefaultRouteTableId!;
    await ec2.send(
      new CreateTransitGatewayVpcAttachmentCommand({
        TransitGatewayId: tgwId,
        VpcId: spoke.vpcId,
        SubnetIds: [spoke.subnetId],
      }),
    );
    await available(spoke.vpcId);
    rtb = (
      await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: "vpc-id", Values: [spoke.vpcId] }] }))
    ).RouteTables![0]!.RouteTableId!;
    await until(() => (srv.dataplane.dataplane.listenerCount > 0 ? true : undefined), "listener");
  }, 90_000);

  afterAll(async () => {
    await srv?.stop();
    await echoServer?.close();
  });

  let vpnId: string;

  it("a VPN connection with TransitGatewayId gets a vpn attachment that propagates the site's CIDR", async () => {
    const cgw = (
      await ec2.send(
        new CreateCustomerGatewayCommand({ Type: "ipsec.1", IpAddress: sites.tdc1!.publicIp, BgpAsn: 65000 }),
      )
    ).CustomerGateway!.CustomerGatewayId!;
    expect(
      (
        await fails(
          ec2.send(
            new CreateVpnConnectionCommand({
              Type: "ipsec.1",
              CustomerGatewayId: cgw,
              TransitGatewayId: "tgw-0000000000000000f",
            }),
          ),
        )
      ).name,
    ).toBe("InvalidTransitGatewayID.NotFound");
    const v = (
      await ec2.send(
        new CreateVpnConnectionCommand({ Type: "ipsec.1", CustomerGatewayId: cgw, TransitGatewayId: tgwId }),
      )
    ).VpnConnection!;
    vpnId = v.VpnConnectionId!;
    expect(v.TransitGatewayId).toBe(tgwId);
    expect(v.VpnGatewayId).toBeUndefined();
    const att = await available(vpnId);
    expect(att).toMatchObject({
      ResourceType: "vpn",
      ResourceId: vpnId,
      TransitGatewayId: tgwId,
      Association: { TransitGatewayRouteTableId: defaultRtb, State: "associated" },
    });
    // TGW VPNs take TGW static routes, not VPN connection routes.
    expect(
      (
        await fails(
          ec2.send(
            new CreateVpnConnectionRouteCommand({
              VpnConnectionId: vpnId,
              DestinationCidrBlock: "192.168.0.0/16",
            }),
          ),
        )
      ).name,
    ).toBe("InvalidVpnConnection.InvalidType");
    const routes = (
      await ec2.send(
        new SearchTransitGatewayRoutesCommand({
          TransitGatewayRouteTableId: defaultRtb,
          Filters: [{ Name: "attachment.resource-type", Values: ["vpn"] }],
        }),
      )
    ).Routes!;
    expect(routes).toEqual([
      expect.objectContaining({
        DestinationCidrBlock: "192.168.0.0/16",
        Type: "propagated",
        State: "active",
        TransitGatewayAttachments: [
          expect.objectContaining({
            ResourceId: vpnId,
            ResourceType: "vpn",
            TransitGatewayAttachmentId: att.TransitGatewayAttachmentId,
          }),
        ],
      }),
    ]);
  });

  it("the site reaches the spoke's endpoint through the TGW once the spoke routes the site to the TGW", async () => {
    expect((await probe("tdc1")).kind).toBe("refused");
    const before = why("tdc1");
    expect(before.allowed).toBe(false);
    expect(before.reason).toContain(`return path: ${rtb}`);
    expect(before.hops.map((h) => h.kind)).toContain("vpn");
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: rtb,
        DestinationCidrBlock: "192.168.0.0/16",
        TransitGatewayId: tgwId,
      }),
    );
    expect(await probe("tdc1")).toEqual({ kind: "data", data: Buffer.from("tdc1") });
    const d = why("tdc1");
    expect(d.allowed).toBe(true);
    expect(d.hops.filter((h) => h.allowed).map((h) => h.kind)).toEqual(
      expect.arrayContaining(["source", "vpn", "transit-gateway", "route", "destination-sg-ingress"]),
    );
  });

  it("the flow decision carries a spoke workload's flow to the site through the TGW", () => {
    const out = decide(srv.state, {
      source: { kind: "outside", address: addresses(srv, spoke).workload },
      destination: sites.tdc1!.workload,
      port: 22,
    });
    expect(out.reason).toBe("allowed");
    expect(out.target).toMatchObject({ kind: "site", site: "tdc1" });
    expect(out.hops.map((h) => h.kind)).toEqual(expect.arrayContaining(["transit-gateway", "vpn"]));
  });

  it("tunnels down refuse the flow with that reason; a removed TGW-side route names the route table", async () => {
    await srv.admin("POST", "/_privlink/sites/vpn", { name: "tdc1", up: false });
    expect((await probe("tdc1")).kind).toBe("refused");
    expect(why("tdc1").reason).toContain(`both tunnels of ${vpnId}`);
    const telemetry = (
      await ec2.send(new DescribeVpnConnectionsCommand({ VpnConnectionIds: [vpnId] }))
    ).VpnConnections![0]!.VgwTelemetry!.map((t) => t.Status);
    expect(telemetry).toEqual(["DOWN", "DOWN"]);
    await srv.admin("POST", "/_privlink/sites/vpn", { name: "tdc1", up: true });
    expect(await probe("tdc1")).toEqual({ kind: "data", data: Buffer.from("tdc1") });
  });

  it("a transit VIF on a DX gateway associated with the TGW gets a direct-connect-gateway attachment and carries site dc2", async () => {
    const con = (
      await dx("CreateConnection", { location: "tdc2", bandwidth: "1Gbps", connectionName: "tdc2-link" })
    ).body;
    const gw = (await dx("CreateDirectConnectGateway", { directConnectGatewayName: "dxgw-tgw" })).body
      .directConnectGateway;
    const bad = await dx("CreateDirectConnectGatewayAssociation", {
      directConnectGatewayId: gw.directConnectGatewayId,
      gatewayId: "tgw-0000000000000000f",
    });
    expect(bad.status).toBe(400);
    expect(bad.body.__type).toContain("DirectConnectClientException");
    // AWS requires the allowed prefixes (what dc2 learns) for a transit gateway association.
    const noPrefixes = await dx("CreateDirectConnectGatewayAssociation", {
      directConnectGatewayId: gw.directConnectGatewayId,
      gatewayId: tgwId,
    });
    expect(noPrefixes.body.message).toContain("addAllowedPrefixesToDirectConnectGateway is required");
    const assoc = await dx("CreateDirectConnectGatewayAssociation", {
      directConnectGatewayId: gw.directConnectGatewayId,
      gatewayId: tgwId,
      addAllowedPrefixesToDirectConnectGateway: [{ cidr: "10.61.0.0/16" }],
    });
    expect(assoc.status).toBe(200);
    const att = await available(gw.directConnectGatewayId);
    expect(att).toMatchObject({ ResourceType: "direct-connect-gateway", TransitGatewayId: tgwId });
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: rtb,
        DestinationCidrBlock: "172.21.0.0/16",
        TransitGatewayId: tgwId,
      }),
    );
    // No VIF yet: nothing links dc2 to the TGW.
    expect((await probe("tdc2")).kind).toBe("refused");
    const vif = await dx("CreateTransitVirtualInterface", {
      connectionId: con.connectionId,
      newTransitVirtualInterface: {
        virtualInterfaceName: "tdc2-transit",
        vlan: 202,
        asn: 65020,
        directConnectGatewayId: gw.directConnectGatewayId,
      },
    });
    expect(vif.status).toBe(200);
    const routes = (
      await ec2.send(
        new SearchTransitGatewayRoutesCommand({
          TransitGatewayRouteTableId: defaultRtb,
          Filters: [{ Name: "attachment.resource-type", Values: ["direct-connect-gateway"] }],
        }),
      )
    ).Routes!;
    expect(routes.map((r) => [r.DestinationCidrBlock, r.Type])).toEqual([["172.21.0.0/16", "propagated"]]);
    expect(await probe("tdc2")).toEqual({ kind: "data", data: Buffer.from("tdc2") });
    expect(why("tdc2").hops.find((h) => h.kind === "direct-connect")?.resource).toBe(
      vif.body.virtualInterface?.virtualInterfaceId ?? vif.body.virtualInterfaceId,
    );

    // Disassociating takes the attachment away, and with it dc2's path.
    await dx("DeleteDirectConnectGatewayAssociation", {
      associationId: assoc.body.directConnectGatewayAssociation.associationId,
    });
    await until(async () => {
      const a = (await attachmentsOf(gw.directConnectGatewayId))[0];
      return a && a.State !== "available" ? true : undefined;
    }, "dx attachment going");
    expect((await probe("tdc2")).kind).toBe("refused");
  });

  it("a blackhole TGW route refuses the site, naming the route table; deleting the VPN retires its attachment", async () => {
    await ec2.send(new DeleteRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: "172.21.0.0/16" }));
    await ec2.send(
      new CreateTransitGatewayRouteCommand({
        TransitGatewayRouteTableId: defaultRtb,
        DestinationCidrBlock: "10.61.1.0/24",
        Blackhole: true,
      }),
    );
    expect((await probe("tdc1")).kind).toBe("refused");
    expect(why("tdc1").reason).toContain(`${defaultRtb} route 10.61.1.0/24 (static) is a blackhole`);
    await ec2.send(
      new DeleteTransitGatewayRouteCommand({
        TransitGatewayRouteTableId: defaultRtb,
        DestinationCidrBlock: "10.61.1.0/24",
      }),
    );
    expect(await probe("tdc1")).toEqual({ kind: "data", data: Buffer.from("tdc1") });
    await ec2.send(new DeleteVpnConnectionCommand({ VpnConnectionId: vpnId }));
    await until(async () => {
      const a = (await attachmentsOf(vpnId))[0];
      return !a || ["deleting", "deleted"].includes(a.State!) ? true : undefined;
    }, "vpn attachment going");
    expect((await probe("tdc1")).kind).toBe("refused");
    expect(why("tdc1").allowed).toBe(false);
  });
});
