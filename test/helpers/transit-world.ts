/**
 * The world the property tests beyond one VPC draw on: a hub VPC with an interface endpoint to an
 * echo service, spokes A and B that may be peered with the hub or attached to a transit gateway
 * (the hub is always attached), and an on-premises site on a VPN attachment of that TGW. Built
 * with the SDK as a user would; the tests then redraw routes, ACLs and rules in one commit each.
 */
import {
  AcceptVpcPeeringConnectionCommand,
  CreateCustomerGatewayCommand,
  CreateTransitGatewayCommand,
  CreateTransitGatewayVpcAttachmentCommand,
  CreateVpcPeeringConnectionCommand,
  CreateVpnConnectionCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import fc from "fast-check";
import type { Route, SgRule } from "../../src/cloud/types.js";
import { until } from "../dataplane/world.js";
import { type EchoHub, echoHub, type SpokeWorkload, spokeWorkload } from "./net-world-echo.js";
import type { TestServer } from "./server.js";

export type Spoke = "a" | "b";
export type Tx = Parameters<Parameters<TestServer["state"]["transact"]>[0]>[0];

export interface TransitWorldOptions {
  accounts: { provider: string; consumer: string };
  hubCidr: string;
  spokeCidrs: Record<Spoke, string>;
  /** Spokes peered with the hub (active). */
  peered: readonly Spoke[];
  /** Spokes attached to the TGW beside the hub. */
  attached: readonly Spoke[];
  site: { name: string; cidr: string };
}

export interface TransitWorld extends EchoHub {
  hubRtb: string;
  hubAcl: string;
  spokes: Record<Spoke, SpokeWorkload & { rtb: string }>;
  pcx: Partial<Record<Spoke, string>>;
  tgw: string;
  tgwRtb: string;
  site: { publicIp: string; workloadHost: string };
}

export async function transitWorld(srv: TestServer, o: TransitWorldOptions): Promise<TransitWorld> {
  const base = await echoHub(srv, o.accounts, o.hubCidr);
  const { ec2, hub } = base;
  const spokes = {} as TransitWorld["spokes"];
  for (const name of ["a", "b"] as const) {
    const w = await spokeWorkload(srv, ec2, o.spokeCidrs[name]);
    spokes[name] = { ...w, rtb: w.vpc.mainRouteTable };
  }
  const pcx: TransitWorld["pcx"] = {};
  for (const name of o.peered) pcx[name] = await activePeering(srv, ec2, spokes[name].vpc.vpcId, hub.vpcId);
  const tgw = await availableTransitGateway(srv, ec2);
  const attachments = [
    { vpcId: hub.vpcId, subnetId: hub.subnetId },
    ...o.attached.map((s) => ({ vpcId: spokes[s].vpc.vpcId, subnetId: spokes[s].subnetId })),
  ];
  for (const a of attachments)
    await ec2.send(
      new CreateTransitGatewayVpcAttachmentCommand({
        TransitGatewayId: tgw,
        VpcId: a.vpcId,
        SubnetIds: [a.subnetId],
      }),
    );
  const site = await vpnSite(srv, ec2, o.site, tgw);
  const want = attachments.length + 1;
  await until(
    () =>
      [...srv.state.all("transitGatewayAttachment")].filter((a) => a.state === "available").length === want
        ? true
        : undefined,
    `${want} attachments`,
  );
  await until(() => (srv.dataplane.dataplane.listenerCount > 0 ? true : undefined), "listener");
  return {
    ...base,
    hubRtb: [...srv.state.all("routeTable")].find(
      (t) => t.vpcId === hub.vpcId && t.associations.some((a) => a.main),
    )!.id,
    hubAcl: [...srv.state.all("networkAcl")].find((n) => n.vpcId === hub.vpcId && n.isDefault)!.id,
    spokes,
    pcx,
    tgw,
    tgwRtb: srv.state.get("transitGateway", tgw)!.options.associationDefaultRouteTableId!,
    site,
  };
}

/** A peering from `vpcId` to `peerVpcId`, accepted and active. */
export async function activePeering(
  srv: TestServer,
  ec2: EC2Client,
  vpcId: string,
  peerVpcId: string,
): Promise<string> {
  const id = (await ec2.send(new CreateVpcPeeringConnectionCommand({ VpcId: vpcId, PeerVpcId: peerVpcId })))
    .VpcPeeringConnection!.VpcPeeringConnectionId!;
  const is = (status: string) => () =>
    srv.state.get("vpcPeeringConnection", id)?.status === status ? true : undefined;
  await until(is("pending-acceptance"), "pending");
  await ec2.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }));
  await until(is("active"), "active");
  return id;
}

export async function availableTransitGateway(srv: TestServer, ec2: EC2Client): Promise<string> {
  const tgw = (await ec2.send(new CreateTransitGatewayCommand({}))).TransitGateway!.TransitGatewayId!;
  await until(() => (srv.state.get("transitGateway", tgw)?.state === "available" ? true : undefined), "tgw");
  return tgw;
}

/** A privlink site with a customer gateway and a VPN connection attached to `tgw`. */
export async function vpnSite(
  srv: TestServer,
  ec2: EC2Client,
  site: { name: string; cidr: string },
  tgw: string,
): Promise<{ publicIp: string; workloadHost: string }> {
  const made = await srv.admin<{ publicIp: string; workloadHost: string }>("POST", "/_privlink/sites", site);
  const cgw = (
    await ec2.send(
      new CreateCustomerGatewayCommand({ Type: "ipsec.1", IpAddress: made.publicIp, BgpAsn: 65000 }),
    )
  ).CustomerGateway!.CustomerGatewayId!;
  await ec2.send(
    new CreateVpnConnectionCommand({ Type: "ipsec.1", CustomerGatewayId: cgw, TransitGatewayId: tgw }),
  );
  return made;
}

export const staticRoute = (cidr: string, target: Route["target"]): Route => ({
  destinationCidr: cidr,
  target,
  origin: "CreateRoute",
  state: "active",
});

/** Replaces a table's drawn routes (those to `drawn` CIDRs) with `routes`; local routes stay. */
export function setDrawnRoutes(tx: Tx, rtbId: string, drawn: ReadonlySet<string>, routes: Route[]): void {
  const t = tx.get("routeTable", rtbId)!;
  tx.put("routeTable", {
    ...t,
    routes: [
      ...t.routes.filter((r) => r.target.kind === "local" || !drawn.has(r.destinationCidr ?? "")),
      ...routes,
    ],
  });
}

/** The endpoint's security group admits its listener port from exactly `cidrs`. */
export function setEndpointIngress(
  tx: Tx,
  sgId: string,
  port: number,
  cidrs: readonly string[],
  tag: string,
): void {
  const rules: SgRule[] = cidrs.map((cidr, i) => ({
    ruleId: `sgr-${tag}${i}`,
    protocol: "tcp",
    fromPort: port,
    toPort: port,
    cidrIpv4: cidr,
  }));
  tx.put("securityGroup", { ...tx.get("securityGroup", sgId)!, ingress: rules });
}

/** The site's tunnels, up or down, and the TGW table's drawn blackhole for `cidr`. */
export function setTransit(
  tx: Tx,
  w: TransitWorld,
  siteName: string,
  tunnelsDown: boolean,
  blackhole?: string,
): void {
  tx.put("site", { ...tx.get("site", siteName)!, tunnelsDown });
  const table = tx.get("transitGatewayRouteTable", w.tgwRtb)!;
  tx.put("transitGatewayRouteTable", {
    ...table,
    staticRoutes: blackhole ? [{ destinationCidr: blackhole, blackhole: true }] : [],
  });
}

/** The ACL's drawn denies: rule 50 inbound from `inCidr`, rule 60 outbound to `outCidr`. */
export function setAclDenies(tx: Tx, aclId: string, inCidr?: string, outCidr?: string): void {
  const acl = tx.get("networkAcl", aclId)!;
  const deny = (egress: boolean, cidrBlock: string) => ({
    ruleNumber: egress ? 60 : 50,
    protocol: "-1",
    ruleAction: "deny" as const,
    egress,
    cidrBlock,
  });
  tx.put("networkAcl", {
    ...acl,
    entries: [
      ...acl.entries.filter((e) => e.ruleNumber !== 50 && e.ruleNumber !== 60),
      ...(inCidr ? [deny(false, inCidr)] : []),
      ...(outCidr ? [deny(true, outCidr)] : []),
    ],
  });
}

/**
 * The draw shared by the property tests on the standard world (spoke A peered, spoke B and the
 * site over the TGW): which routes exist on each side, a TGW blackhole, tunnels, an ACL deny and
 * the CIDRs the endpoint's group admits.
 */
export const hubDraw = {
  aToHub: fc.boolean(),
  hubToA: fc.boolean(),
  bToHub: fc.boolean(),
  hubToB: fc.boolean(),
  hubToSite: fc.boolean(),
  tgwBlackhole: fc.boolean(),
  tunnelsDown: fc.boolean(),
  aclDenies: fc.constantFrom("none", "10.20.0.0/16", "10.30.0.0/16", "192.168.0.0/16"),
  sg: fc.subarray(["10.20.0.0/16", "10.30.0.0/16", "192.168.0.0/16", "10.0.0.0/8"]),
};
export type HubDraw = {
  [K in keyof typeof hubDraw]: (typeof hubDraw)[K] extends fc.Arbitrary<infer T> ? T : never;
};

const STANDARD_DRAWN = new Set(["10.1.0.0/16", "10.20.0.0/16", "10.30.0.0/16", "192.168.0.0/16"]);

/** Puts a {@link hubDraw} in place on the standard world, in one commit; `alsoAdmit` joins the drawn CIDRs. */
export function applyHubDraw(
  srv: TestServer,
  w: TransitWorld,
  d: HubDraw,
  tag: string,
  alsoAdmit: string[] = [],
): void {
  srv.state.transact((tx) => {
    const p = { kind: "peering", id: w.pcx.a! } as const;
    const t = { kind: "transit", id: w.tgw } as const;
    setDrawnRoutes(tx, w.spokes.a.rtb, STANDARD_DRAWN, d.aToHub ? [staticRoute("10.1.0.0/16", p)] : []);
    setDrawnRoutes(tx, w.spokes.b.rtb, STANDARD_DRAWN, d.bToHub ? [staticRoute("10.1.0.0/16", t)] : []);
    setDrawnRoutes(tx, w.hubRtb, STANDARD_DRAWN, [
      ...(d.hubToA ? [staticRoute("10.20.0.0/16", p)] : []),
      ...(d.hubToB ? [staticRoute("10.30.0.0/16", t)] : []),
      ...(d.hubToSite ? [staticRoute("192.168.0.0/16", t)] : []),
    ]);
    setTransit(tx, w, "prop", d.tunnelsDown, d.tgwBlackhole ? "10.1.1.0/24" : undefined);
    setAclDenies(tx, w.hubAcl, d.aclDenies === "none" ? undefined : d.aclDenies);
    setEndpointIngress(tx, w.hub.endpointSg, w.provider.listenerPort, [...d.sg, ...alsoAdmit], tag);
  });
}

/** The standard world: hub 10.1/16, spoke A 10.20/16 peered, spoke B 10.30/16 and site "prop" over the TGW. */
export const standardWorld = (srv: TestServer, accounts: TransitWorldOptions["accounts"]) =>
  transitWorld(srv, {
    accounts,
    hubCidr: "10.1.0.0/16",
    spokeCidrs: { a: "10.20.0.0/16", b: "10.30.0.0/16" },
    peered: ["a"],
    attached: ["b"],
    site: { name: "prop", cidr: "192.168.0.0/16" },
  });
