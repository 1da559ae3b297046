/**
 * A world with one of every DNS name path, built with cloud/ functions in transactions (as the
 * API would make it), for the per-path DNS benchmark and the prepared-answer tests:
 *
 * - VPC `a` (the asking VPC): `perVpc` interface endpoints (private DNS off) and a Secrets Manager
 *   endpoint with private DNS on; a private hosted zone `corp.internal`; an instance-like ENI
 *   that stands for a DNS server on an EC2 instance; an OUTBOUND Resolver endpoint and a FORWARD
 *   rule for `fwd.test` to that server, associated with `a`;
 * - VPC `b`: `perVpc` interface endpoints, whose names `a` answers through the public view;
 * - a public hosted zone `example.test`.
 *
 * {@link startForwardTarget} runs the DNS server the rule forwards to, on its ENI's host address.
 */

import { ensureDefaultAccount } from "../src/cloud/account.js";
import { hostAddressOf } from "../src/cloud/addressing.js";
import type { Ctx } from "../src/cloud/context.js";
import { createVpcEndpoint } from "../src/cloud/endpoint-create.js";

import { createEni } from "../src/cloud/eni.js";
import { changeRecordSets, createHostedZone, type RecordChange } from "../src/cloud/hosted-zone.js";
import { ALWAYS_READY, runLifecycle } from "../src/cloud/lifecycle.js";
import {
  associateResolverRule,
  createResolverEndpoint,
  createResolverRule,
} from "../src/cloud/resolver-endpoint.js";
import { fixedRuntime } from "../src/cloud/runtime.js";
import { defaultGroupOf } from "../src/cloud/security-group.js";
import { State } from "../src/cloud/state.js";
import { createSubnet } from "../src/cloud/subnet.js";
import type { VpcEndpoint } from "../src/cloud/types.js";
import { createVpc, ensureRegion } from "../src/cloud/vpc.js";
import { endpointAddresses } from "../src/dns/records.js";
import { type DnsServer, startDnsServer } from "../src/dns/server.js";
import { type RR, View } from "../src/dns/view.js";

const ACCOUNT = "000000000000";
const AZS = ["us-east-1a", "us-east-1b"];
export const PHZ = "corp.internal";
export const PUBLIC_ZONE = "example.test";
export const FORWARDED = "fwd.test";
/** What the forward target answers for every name under {@link FORWARDED}. */
export const FORWARDED_ADDRESS = "192.0.2.53";

export interface Net {
  vpcId: string;
  subnetIds: string[];
}

export interface DnsWorld {
  state: State;
  ctx: Ctx;
  rt: ReturnType<typeof fixedRuntime>;
  a: Net;
  b: Net;
  phzId: string;
  publicZoneId: string;
  ruleId: string;
  outboundId: string;
  /** Host address of the DNS server the FORWARD rule targets. */
  forwardTarget: string;
  /** Question names per path, each asked of `a`'s resolver except `public` (the public resolver). */
  names: {
    own: string[];
    private: string;
    other: string[];
    phz: string[];
    public: string[];
    forwarded: string[];
  };
}

/** A VPC 10.n.0.0/16 with DNS hostnames and one /24 subnet per AZ, made in one commit. */
export function makeNet(state: State, ctx: Ctx, n: number): Net {
  return state.transact((tx) => {
    ensureRegion(tx, ctx);
    const vpc = createVpc(tx, ctx, { cidr: `10.${n}.0.0/16` });
    tx.put("vpc", { ...vpc, dnsHostnames: true });
    const subnetIds = AZS.map(
      (az, i) => createSubnet(tx, ctx, { vpcId: vpc.id, cidr: `10.${n}.${i + 1}.0/24`, az }).id,
    );
    return { vpcId: vpc.id, subnetIds };
  });
}

export function endpointIn(w: DnsWorld, net: Net, serviceName: string, privateDns = false): VpcEndpoint {
  return w.state.transact(
    (tx) =>
      createVpcEndpoint(tx, w.ctx, {
        vpcId: net.vpcId,
        type: "Interface",
        serviceName,
        subnetIds: net.subnetIds,
        privateDnsEnabled: privateDns,
      }).endpoint,
  );
}

export function changeRecords(w: DnsWorld, zoneId: string, changes: RecordChange[]): void {
  w.state.transact((tx) => changeRecordSets(tx, w.ctx, zoneId, changes));
}

/** Runs the lifecycle until endpoints are available. */
export function settle(w: DnsWorld): void {
  for (let i = 0; i < 3; i++) w.state.transact((tx) => runLifecycle(tx, w.rt, ALWAYS_READY));
}

/** The endpoint's regional and zonal names. */
function publicNames(w: DnsWorld, id: string): string[] {
  const e = w.state.get("vpcEndpoint", id)!;
  return endpointAddresses(w.state, e)
    .filter((n) => n.kind !== "private")
    .map((n) => n.name);
}

export function regionalName(w: DnsWorld, id: string): string {
  const e = w.state.get("vpcEndpoint", id)!;
  return endpointAddresses(w.state, e).find((n) => n.kind === "regional")!.name;
}

/**
 * `perVpc` endpoints per VPC (at most 40) and names per zone; `slots` bounds the host-address
 * slots (tests run in parallel: give each its own band).
 */
export function buildDnsWorld(perVpc: number, slots: { min: number; max: number }): DnsWorld {
  const rt = fixedRuntime();
  const state = new State();
  state.transact((tx) => ensureDefaultAccount(tx, rt));
  const ctx: Ctx = {
    accountId: ACCOUNT,
    region: "us-east-1",
    principalArn: `arn:aws:iam::${ACCOUNT}:root`,
    rt,
    host: { slots },
  };
  const a = makeNet(state, ctx, 1);
  const b = makeNet(state, ctx, 2);
  const w: DnsWorld = {
    state,
    ctx,
    rt,
    a,
    b,
    phzId: "",
    publicZoneId: "",
    ruleId: "",
    outboundId: "",
    forwardTarget: "",
    names: {
      own: [],
      private: "secretsmanager.us-east-1.amazonaws.com",
      other: [],
      phz: [],
      public: [],
      forwarded: [],
    },
  };
  // Within the quota of 50 interface endpoints per VPC, leaving room for the tests' own.
  const endpoints = Math.min(perVpc, 40);
  const own = Array.from({ length: endpoints }, () => endpointIn(w, a, "com.amazonaws.us-east-1.sqs"));
  const other = Array.from({ length: endpoints }, () => endpointIn(w, b, "com.amazonaws.us-east-1.sqs"));
  endpointIn(w, a, "com.amazonaws.us-east-1.secretsmanager", true);
  settle(w);
  w.names.own = own.flatMap((e) => publicNames(w, e.id));
  w.names.other = other.flatMap((e) => publicNames(w, e.id));

  w.phzId = state.transact(
    (tx) =>
      createHostedZone(tx, ctx, {
        name: PHZ,
        callerReference: "phz",
        vpc: { vpcId: a.vpcId, vpcRegion: "us-east-1" },
      }).zone.id,
  );
  w.publicZoneId = state.transact(
    (tx) => createHostedZone(tx, ctx, { name: PUBLIC_ZONE, callerReference: "pub" }).zone.id,
  );
  const hosts = Array.from({ length: perVpc }, (_, i) => i);
  w.names.phz = hosts.map((i) => `host-${i}.${PHZ}`);
  w.names.public = hosts.map((i) => `www-${i}.${PUBLIC_ZONE}`);
  w.names.forwarded = hosts.map((i) => `h-${i}.${FORWARDED}`);
  const a4 = (name: string, ip: string): RecordChange => ({
    action: "CREATE",
    name,
    type: "A",
    ttl: 300,
    values: [ip],
  });
  changeRecords(
    w,
    w.phzId,
    hosts.map((i) => a4(w.names.phz[i]!, `172.16.1.${10 + (i % 200)}`)),
  );
  changeRecords(
    w,
    w.publicZoneId,
    hosts.map((i) => a4(w.names.public[i]!, `192.0.2.${1 + (i % 250)}`)),
  );

  const { server, outbound } = state.transact((tx) => {
    const sg = defaultGroupOf(tx, a.vpcId).id;
    const subnet = tx.get("subnet", a.subnetIds[0]!)!;
    const server = createEni(tx, ctx, { subnet, description: "DNS server on an instance" });
    const outbound = createResolverEndpoint(tx, ctx, {
      creatorRequestId: "out",
      direction: "OUTBOUND",
      securityGroupIds: [sg],
      ipAddresses: a.subnetIds.map((subnetId) => ({ subnetId })),
    });
    return { server, outbound };
  });
  w.outboundId = outbound.id;
  w.ruleId = state.transact((tx) => {
    const rule = createResolverRule(tx, ctx, {
      creatorRequestId: "fwd",
      ruleType: "FORWARD",
      domainName: FORWARDED,
      targetIps: [{ Ip: server.privateIp, Port: 53 }],
      resolverEndpointId: outbound.id,
    });
    associateResolverRule(tx, ctx, { ruleId: rule.id, vpcId: a.vpcId });
    return rule.id;
  });
  w.forwardTarget = hostAddressOf(state.get("vpc", a.vpcId)!, server.privateIp)!;
  return w;
}

/**
 * The DNS server on the instance the FORWARD rule targets: every name under {@link FORWARDED}
 * (and under {@link PUBLIC_ZONE}) is {@link FORWARDED_ADDRESS} with `ttl`. Counts the queries it gets.
 */
export async function startForwardTarget(
  w: DnsWorld,
  port: number,
  ttl = 300,
): Promise<DnsServer & { asked(): number }> {
  const zone = (origin: string) => ({
    origin,
    records: [{ name: `*.${origin}`, type: "A", ttl, data: FORWARDED_ADDRESS } as RR],
  });
  // It also holds its own copy of the public zone: a rule forwarding that name changes its answer.
  const view = new View([zone(FORWARDED), zone(PUBLIC_ZONE)], { outside: "REFUSED" });
  let asked = 0;
  const server = await startDnsServer({
    host: w.forwardTarget,
    port,
    view: () => {
      asked++;
      return view;
    },
  });
  return { ...server, stats: server.stats, close: server.close, asked: () => asked };
}
