import {
  AttachVpnGatewayCommand,
  CreateCustomerGatewayCommand,
  CreateRouteCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpnConnectionCommand,
  CreateVpnConnectionRouteCommand,
  CreateVpnGatewayCommand,
  DeleteCustomerGatewayCommand,
  DeleteVpnConnectionCommand,
  DeleteVpnGatewayCommand,
  DescribeRouteTablesCommand,
  DescribeVpnConnectionsCommand,
  DescribeVpnGatewaysCommand,
  DetachVpnGatewayCommand,
  DisableVgwRoutePropagationCommand,
  type EC2Client,
  EnableVgwRoutePropagationCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decide } from "../../src/flow/index.js";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { signedFetch } from "../helpers/sign.js";

/** VPN objects through the SDK, Direct Connect and Route 53 Resolver on their JSON wire: breadth and error codes. */

let srv: TestServer;
let ec2: EC2Client;
let vpcId: string;
let subnets: string[];
let rtb: string;

async function json(service: string, target: string, op: string, body: unknown) {
  const r = await signedFetch(srv.url, {
    service,
    body: JSON.stringify(body),
    headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `${target}.${op}` },
  });
  return { status: r.status, body: JSON.parse(r.body || "{}") };
}
const resolver = (op: string, body: unknown) => json("route53resolver", "Route53Resolver", op, body);
const dx = (op: string, body: unknown) => json("directconnect", "OvertureService", op, body);

/** Sites are an admin route: it needs the server's admin token, and a refusal fails the test here. */
const site = (name: string, cidr: string) =>
  srv.admin<{ publicIp: string; workloadHost: string }>("POST", "/_privlink/sites", { name, cidr });

beforeAll(async () => {
  srv = await startTestServer();
  ec2 = srv.ec2();
  vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.50.0.0/16" }))).Vpc!.VpcId!;
  subnets = [];
  for (const [i, az] of ["us-east-1a", "us-east-1b"].entries())
    subnets.push(
      (
        await ec2.send(
          new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.50.${i}.0/24`, AvailabilityZone: az }),
        )
      ).Subnet!.SubnetId!,
    );
  rtb = (await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] })))
    .RouteTables![0]!.RouteTableId!;
});
afterAll(() => srv?.stop());

describe("Site-to-Site VPN objects (SDK)", () => {
  it("validates like AWS and leaves nothing half-made", async () => {
    expect(
      (
        await fails(
          ec2.send(new CreateCustomerGatewayCommand({ Type: "ipsec.2" as "ipsec.1", IpAddress: "1.2.3.4" })),
        )
      ).name,
    ).toBe("InvalidParameterValue");
    expect(
      (await fails(ec2.send(new CreateVpnGatewayCommand({ Type: "ipsec.1", AmazonSideAsn: 100 })))).name,
    ).toBe("InvalidParameterValue");
    const cgw = (
      await ec2.send(
        new CreateCustomerGatewayCommand({ Type: "ipsec.1", IpAddress: "198.51.100.7", BgpAsn: 65000 }),
      )
    ).CustomerGateway!;
    // The deprecated PublicIp still names the address (AWS's own example uses it); same IP and ASN: same gateway.
    const again = (
      await ec2.send(
        new CreateCustomerGatewayCommand({ Type: "ipsec.1", PublicIp: "198.51.100.7", BgpAsn: 65000 }),
      )
    ).CustomerGateway!;
    expect(again.CustomerGatewayId).toBe(cgw.CustomerGatewayId);
    expect((await fails(ec2.send(new CreateCustomerGatewayCommand({ Type: "ipsec.1" })))).name).toBe(
      "MissingParameter",
    );
    const missing = await fails(
      ec2.send(
        new CreateVpnConnectionCommand({
          Type: "ipsec.1",
          CustomerGatewayId: cgw.CustomerGatewayId,
          VpnGatewayId: "vgw-0123456789abcdef0",
        }),
      ),
    );
    expect(missing.name).toBe("InvalidVpnGatewayID.NotFound");
    expect((await ec2.send(new DescribeVpnConnectionsCommand({}))).VpnConnections).toEqual([]);
    expect(
      (
        await fails(
          ec2.send(new DeleteCustomerGatewayCommand({ CustomerGatewayId: "cgw-0123456789abcdef0" })),
        )
      ).name,
    ).toBe("InvalidCustomerGatewayID.NotFound");
  });

  it("attaches one VGW per VPC, propagates routes with their origin, and guards deletes", async () => {
    const s = await site("hq", "192.168.0.0/16");
    const cgw = (await ec2.send(new CreateCustomerGatewayCommand({ Type: "ipsec.1", IpAddress: s.publicIp })))
      .CustomerGateway!.CustomerGatewayId!;
    const vgw = (await ec2.send(new CreateVpnGatewayCommand({ Type: "ipsec.1" }))).VpnGateway!.VpnGatewayId!;
    const other = (await ec2.send(new CreateVpnGatewayCommand({ Type: "ipsec.1" }))).VpnGateway!
      .VpnGatewayId!;
    expect(
      (await fails(ec2.send(new EnableVgwRoutePropagationCommand({ RouteTableId: rtb, GatewayId: vgw }))))
        .name,
    ).toBe("Gateway.NotAttached");
    await ec2.send(new AttachVpnGatewayCommand({ VpnGatewayId: vgw, VpcId: vpcId }));
    expect(
      (await fails(ec2.send(new AttachVpnGatewayCommand({ VpnGatewayId: other, VpcId: vpcId })))).name,
    ).toBe("InvalidParameterValue");
    const vpn = (
      await ec2.send(
        new CreateVpnConnectionCommand({ Type: "ipsec.1", CustomerGatewayId: cgw, VpnGatewayId: vgw }),
      )
    ).VpnConnection!;
    expect(vpn.Options?.StaticRoutesOnly).toBe(false);
    // BGP: a static route is refused; the site's CIDR is learned.
    expect(
      (
        await fails(
          ec2.send(
            new CreateVpnConnectionRouteCommand({
              VpnConnectionId: vpn.VpnConnectionId,
              DestinationCidrBlock: "10.9.0.0/16",
            }),
          ),
        )
      ).name,
    ).toBe("InvalidVpnConnection.InvalidState");
    await ec2.send(new EnableVgwRoutePropagationCommand({ RouteTableId: rtb, GatewayId: vgw }));
    const table = (await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [rtb] }))).RouteTables![0]!;
    expect(table.PropagatingVgws).toEqual([{ GatewayId: vgw }]);
    expect(table.Routes).toContainEqual(
      expect.objectContaining({
        DestinationCidrBlock: "192.168.0.0/16",
        GatewayId: vgw,
        Origin: "EnableVgwRoutePropagation",
      }),
    );
    // A static route of the same prefix may sit beside the propagated one.
    await ec2.send(
      new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: "192.168.0.0/16", GatewayId: vgw }),
    );
    expect((await fails(ec2.send(new DeleteVpnGatewayCommand({ VpnGatewayId: vgw })))).name).toBe(
      "IncorrectState",
    );
    expect(
      (await fails(ec2.send(new DetachVpnGatewayCommand({ VpnGatewayId: other, VpcId: vpcId })))).name,
    ).toBe("InvalidVpnGatewayAttachment.NotFound");
    await ec2.send(new DeleteVpnConnectionCommand({ VpnConnectionId: vpn.VpnConnectionId }));
    const gone = (
      await ec2.send(new DescribeVpnConnectionsCommand({ VpnConnectionIds: [vpn.VpnConnectionId!] }))
    ).VpnConnections![0]!;
    expect(gone.State).toBe("deleted");
    const after = (await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [rtb] }))).RouteTables![0]!;
    expect(after.Routes!.filter((r) => r.Origin === "EnableVgwRoutePropagation")).toEqual([]);
    await ec2.send(new DisableVgwRoutePropagationCommand({ RouteTableId: rtb, GatewayId: vgw }));
    expect(
      (await ec2.send(new DescribeVpnGatewaysCommand({ VpnGatewayIds: [vgw] }))).VpnGateways![0]!
        .VpcAttachments,
    ).toEqual([{ VpcId: vpcId, State: "attached" }]);
  });

  it("the flow decision names every hop of a site's flow with its verdict and resource", () => {
    const host = srv.state.get("site", "hq")!;
    const d = decide(srv.state, {
      source: { kind: "outside", address: `127.${host.slot}.0.10` },
      destination: "127.0.0.9",
      port: 80,
    });
    expect(d.hops[0]).toMatchObject({ kind: "source", allowed: true, resource: "site:hq" });
    expect(d.allowed).toBe(false);
  });
});

describe("Route 53 Resolver (JSON wire)", () => {
  it("creates an inbound endpoint with an ENI per IP, and refuses bad input with AWS's codes", async () => {
    const one = await resolver("CreateResolverEndpoint", {
      CreatorRequestId: "r-1",
      Direction: "INBOUND",
      SecurityGroupIds: ["sg-0123456789abcdef0"],
      IpAddresses: [{ SubnetId: subnets[0] }],
    });
    expect(one.status).toBe(400);
    expect(one.body.__type).toBe("InvalidRequestException");
    const badSg = await resolver("CreateResolverEndpoint", {
      CreatorRequestId: "r-2",
      Direction: "INBOUND",
      SecurityGroupIds: ["sg-0123456789abcdef0"],
      IpAddresses: [{ SubnetId: subnets[0] }, { SubnetId: subnets[1] }],
    });
    expect(badSg.body.__type).toBe("InvalidParameterException");
    expect([...srv.state.all("eni")].filter((e) => e.description.startsWith("Route 53 Resolver"))).toEqual(
      [],
    );
    const sg = [...srv.state.all("securityGroup")].find((g) => g.vpcId === vpcId)!.id;
    const ok = await resolver("CreateResolverEndpoint", {
      CreatorRequestId: "r-3",
      Direction: "OUTBOUND",
      SecurityGroupIds: [sg],
      IpAddresses: [{ SubnetId: subnets[0], Ip: "10.50.0.53" }, { SubnetId: subnets[1] }],
    });
    expect(ok.status).toBe(200);
    expect(ok.body.ResolverEndpoint).toMatchObject({
      Direction: "OUTBOUND",
      IpAddressCount: 2,
      HostVPCId: vpcId,
      Status: "OPERATIONAL",
    });
    const id = ok.body.ResolverEndpoint.Id;
    expect(id).toMatch(/^rslvr-out-/);
    const ips = await resolver("ListResolverEndpointIpAddresses", { ResolverEndpointId: id });
    expect(ips.body.IpAddresses.map((a: { Ip: string }) => a.Ip)).toContain("10.50.0.53");

    const noTargets = await resolver("CreateResolverRule", {
      CreatorRequestId: "rr-1",
      RuleType: "FORWARD",
      DomainName: "corp.example",
      ResolverEndpointId: id,
    });
    expect(noTargets.body.__type).toBe("InvalidRequestException");
    const rule = await resolver("CreateResolverRule", {
      CreatorRequestId: "rr-2",
      RuleType: "FORWARD",
      DomainName: "corp.example",
      ResolverEndpointId: id,
      TargetIps: [{ Ip: "192.168.0.2" }],
    });
    expect(rule.body.ResolverRule).toMatchObject({
      DomainName: "corp.example.",
      RuleType: "FORWARD",
      Status: "COMPLETE",
    });
    const ruleId = rule.body.ResolverRule.Id;
    const assoc = await resolver("AssociateResolverRule", { ResolverRuleId: ruleId, VPCId: vpcId });
    expect(assoc.body.ResolverRuleAssociation).toMatchObject({
      ResolverRuleId: ruleId,
      VPCId: vpcId,
      Status: "COMPLETE",
    });
    expect(
      (await resolver("AssociateResolverRule", { ResolverRuleId: ruleId, VPCId: vpcId })).body.__type,
    ).toBe("ResourceExistsException");
    expect((await resolver("DeleteResolverRule", { ResolverRuleId: ruleId })).body.__type).toBe(
      "ResourceInUseException",
    );
    expect((await resolver("DeleteResolverEndpoint", { ResolverEndpointId: id })).body.__type).toBe(
      "InvalidRequestException",
    );
    expect(
      (await resolver("GetResolverRule", { ResolverRuleId: "rslvr-rr-0123456789abcdef0" })).body.__type,
    ).toBe("ResourceNotFoundException");
    await resolver("DisassociateResolverRule", { ResolverRuleId: ruleId, VPCId: vpcId });
    await resolver("DeleteResolverRule", { ResolverRuleId: ruleId });
    expect((await resolver("DeleteResolverEndpoint", { ResolverEndpointId: id })).status).toBe(200);
    expect([...srv.state.all("eni")].filter((e) => e.description.includes(id))).toEqual([]);
  });
});

describe("Direct Connect (JSON wire)", () => {
  it("connections at site locations, VIFs and DX gateways, with DirectConnectClientException on bad input", async () => {
    await site("colo", "172.30.0.0/16");
    const bad = await dx("CreateConnection", {
      location: "nowhere",
      bandwidth: "1Gbps",
      connectionName: "x",
    });
    expect(bad.status).toBe(400);
    expect(bad.body.__type).toBe("DirectConnectClientException");
    const con = (
      await dx("CreateConnection", { location: "colo", bandwidth: "10Gbps", connectionName: "colo-1" })
    ).body;
    expect(con).toMatchObject({ connectionState: "available", location: "colo", bandwidth: "10Gbps" });
    const gw = (
      await dx("CreateDirectConnectGateway", { directConnectGatewayName: "g", amazonSideAsn: 64600 })
    ).body.directConnectGateway;
    expect(gw.directConnectGatewayState).toBe("available");
    const noGw = await dx("CreatePrivateVirtualInterface", {
      connectionId: con.connectionId,
      newPrivateVirtualInterface: { virtualInterfaceName: "v", vlan: 10, asn: 65001 },
    });
    expect(noGw.body.__type).toBe("DirectConnectClientException");
    const vif = (
      await dx("CreatePrivateVirtualInterface", {
        connectionId: con.connectionId,
        newPrivateVirtualInterface: {
          virtualInterfaceName: "v",
          vlan: 10,
          asn: 65001,
          directConnectGatewayId: gw.directConnectGatewayId,
        },
      })
    ).body;
    expect(vif).toMatchObject({
      virtualInterfaceType: "private",
      virtualInterfaceState: "available",
      vlan: 10,
    });
    const dup = await dx("CreatePrivateVirtualInterface", {
      connectionId: con.connectionId,
      newPrivateVirtualInterface: {
        virtualInterfaceName: "w",
        vlan: 10,
        asn: 65001,
        directConnectGatewayId: gw.directConnectGatewayId,
      },
    });
    expect(dup.body.message).toContain("VLAN 10 is already in use");
    expect((await dx("DeleteConnection", { connectionId: con.connectionId })).body.__type).toBe(
      "DirectConnectClientException",
    );
    expect(
      (await dx("DeleteDirectConnectGateway", { directConnectGatewayId: gw.directConnectGatewayId })).body
        .__type,
    ).toBe("DirectConnectClientException");
    const attachments = (
      await dx("DescribeDirectConnectGatewayAttachments", {
        directConnectGatewayId: gw.directConnectGatewayId,
      })
    ).body.directConnectGatewayAttachments;
    expect(attachments).toEqual([
      expect.objectContaining({ virtualInterfaceId: vif.virtualInterfaceId, attachmentState: "attached" }),
    ]);
    expect(
      (await dx("DeleteVirtualInterface", { virtualInterfaceId: vif.virtualInterfaceId })).body
        .virtualInterfaceState,
    ).toBe("deleted");
    expect((await dx("DeleteConnection", { connectionId: con.connectionId })).body.connectionState).toBe(
      "deleted",
    );
    expect((await dx("NoSuchThing", {})).body.__type).toBe("InvalidAction");
  });
});
