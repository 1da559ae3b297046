/**
 * The resolvers' views follow the change feed: a commit costs the views it touches (the
 * endpoint's VPC, its shard of the public names), never the whole state, and the sharded public
 * view answers exactly as one zone holding every endpoint name would. The state is built with
 * cloud/ functions in transactions (no HTTP), and work is counted, never timed.
 */

import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { makeNet, type Net } from "../../bench/dns-world.js";
import { ensureDefaultAccount } from "../../src/cloud/account.js";
import { awsServices } from "../../src/cloud/catalog.js";
import type { Ctx } from "../../src/cloud/context.js";
import { deleteVpcEndpoints } from "../../src/cloud/endpoint-connections.js";
import { createVpcEndpoint } from "../../src/cloud/endpoint-create.js";

import { modifyVpcEndpoint } from "../../src/cloud/endpoint-modify.js";
import { createService } from "../../src/cloud/endpoint-service.js";
import { createEni } from "../../src/cloud/eni.js";
import {
  associateVpc,
  changeRecordSets,
  createHostedZone,
  endpointServesDns,
  inZone,
  type RecordChange,
} from "../../src/cloud/hosted-zone.js";
import { runInstances } from "../../src/cloud/instance.js";
import { ALWAYS_READY, runLifecycle } from "../../src/cloud/lifecycle.js";
import { createLoadBalancer } from "../../src/cloud/load-balancer.js";
import { availabilityZones } from "../../src/cloud/regions.js";
import { fixedRuntime } from "../../src/cloud/runtime.js";
import { createSecurityGroup } from "../../src/cloud/security-group.js";
import { State } from "../../src/cloud/state.js";
import type { VpcEndpoint } from "../../src/cloud/types.js";
import { endpointAddresses, VPCE_ORIGIN, vpceShard, ZoneData } from "../../src/dns/records.js";
import { type Resolvers, type ResolverWork, startResolvers } from "../../src/dns/resolvers.js";
import { ENDPOINT_RECORD_TTL, type RR, View } from "../../src/dns/view.js";
import { testPublicDns, workerSlots } from "../helpers/server.js";

const ACCOUNT = "000000000000";
const AZS = ["us-east-1a", "us-east-1b"];

/** AWS interface services with a private DNS name, offered in both test AZs (s3 and dynamodb aside). */
function services(): string[] {
  const ids = availabilityZones(ACCOUNT, "us-east-1")
    .filter((z) => AZS.includes(z.name))
    .map((z) => z.id);
  return awsServices("us-east-1")
    .filter(
      (s) =>
        s.type === "Interface" &&
        s.privateDnsNames.length > 0 &&
        ids.every((id) => s.azIds.includes(id)) &&
        !["s3", "dynamodb"].includes(s.shortName),
    )
    .map((s) => s.serviceName);
}

interface World {
  state: State;
  ctx: Ctx;
  rt: ReturnType<typeof fixedRuntime>;
  nets: Net[];
  services: string[];
  /** The PHZ associated with nets[1]. */
  phzId: string;
  publicZoneId: string;
}

function endpoint(w: World, net: Net, serviceName: string, privateDns?: boolean): VpcEndpoint {
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

function records(w: World, zoneId: string, changes: RecordChange[]): void {
  w.state.transact((tx) => changeRecordSets(tx, w.ctx, zoneId, changes));
}

const settle = (w: World) => {
  for (let i = 0; i < 3; i++) w.state.transact((tx) => runLifecycle(tx, w.rt, ALWAYS_READY));
};

const regional = (w: World, e: VpcEndpoint) =>
  endpointAddresses(w.state, w.state.get("vpcEndpoint", e.id)!).find((n) => n.kind === "regional")!.name;

/**
 * `vpcs` VPCs with `perVpc` endpoints each (private DNS on), an S3 interface endpoint (wildcard
 * names), a customer service with a verified private DNS name, a private hosted zone and a
 * public one whose alias and CNAME lead to endpoint names.
 */
function buildWorld(vpcs: number, perVpc: number): World {
  const rt = fixedRuntime();
  const state = new State();
  state.transact((tx) => ensureDefaultAccount(tx, rt));
  const ctx: Ctx = {
    accountId: ACCOUNT,
    region: "us-east-1",
    principalArn: `arn:aws:iam::${ACCOUNT}:root`,
    rt,
    host: { slots: workerSlots() },
  };
  const nets = Array.from({ length: vpcs }, (_, i) => makeNet(state, ctx, i + 1));
  const w: World = { state, ctx, rt, nets, services: services(), phzId: "", publicZoneId: "" };
  for (const net of nets) for (let j = 0; j < perVpc; j++) endpoint(w, net, w.services[j]!);
  endpoint(w, nets[0]!, "com.amazonaws.us-east-1.s3");

  const provider = makeNet(state, ctx, 200);
  const svc = state.transact((tx) => {
    const lb = createLoadBalancer(tx, ctx, {
      name: "backend",
      type: "network",
      scheme: "internal",
      subnets: provider.subnetIds,
    });
    return createService(tx, ctx, {
      networkLoadBalancerArns: [lb.id],
      privateDnsName: "api.example.test",
      acceptanceRequired: false,
    });
  });
  w.publicZoneId = state.transact(
    (tx) => createHostedZone(tx, ctx, { name: "example.test", callerReference: "pub" }).zone.id,
  );
  const v = svc.privateDnsVerification!;
  records(w, w.publicZoneId, [
    { action: "CREATE", name: `${v.name}.example.test`, type: "TXT", ttl: 60, values: [`"${v.value}"`] },
  ]);
  settle(w);
  endpoint(w, nets[0]!, svc.serviceName, true);

  w.phzId = state.transact(
    (tx) =>
      createHostedZone(tx, ctx, {
        name: "corp.internal",
        callerReference: "phz",
        vpc: { vpcId: nets[1]!.vpcId, vpcRegion: "us-east-1" },
      }).zone.id,
  );
  records(w, w.phzId, [
    { action: "CREATE", name: "db.corp.internal", type: "A", ttl: 60, values: [`10.${vpcs}.1.77`] },
  ]);
  settle(w);
  const first = [...state.all("vpcEndpoint")].find((e) => e.vpcId === nets[0]!.vpcId)!;
  const other = [...state.all("vpcEndpoint")].find((e) => e.vpcId === nets[vpcs - 1]!.vpcId)!;
  records(w, w.publicZoneId, [
    {
      action: "CREATE",
      name: "ep.example.test",
      type: "A",
      alias: { hostedZoneId: "Z7HUB22UULQXV", dnsName: regional(w, first), evaluateTargetHealth: false },
    },
    { action: "CREATE", name: "c.example.test", type: "CNAME", ttl: 60, values: [regional(w, other)] },
  ]);
  settle(w);
  return w;
}

function start(w: World): Promise<Resolvers> {
  return startResolvers({ state: w.state, port: 0, publicAddress: testPublicDns(), fullRebuildMs: 0 });
}

function delta(after: ResolverWork, before: ResolverWork): Partial<ResolverWork> {
  const out: Partial<ResolverWork> = {};
  for (const k of Object.keys(after) as (keyof ResolverWork)[]) out[k] = after[k] - before[k];
  return out;
}

let dns: Resolvers | undefined;
afterEach(async () => {
  await dns?.close();
  dns = undefined;
});

describe("the sharded public view", () => {
  it("answers every name under vpce.amazonaws.com as one zone with every endpoint name would", async () => {
    const w = buildWorld(4, 5);
    dns = await start(w);
    const rrs: RR[] = [];
    const elsewhere: { name: string; addresses: string[] }[] = [];
    for (const e of w.state.all("vpcEndpoint")) {
      if (!endpointServesDns(e)) continue;
      for (const n of endpointAddresses(w.state, e)) {
        if (n.kind === "private") continue;
        if (!inZone(n.name.replace(/^\*\./, ""), VPCE_ORIGIN)) elsewhere.push(n);
        else
          for (const a of n.addresses)
            rrs.push({ name: n.name, type: "A", ttl: ENDPOINT_RECORD_TTL, data: a });
      }
    }
    expect(rrs.some((r) => r.name.startsWith("*."))).toBe(true);
    // Names of services based outside vpce.amazonaws.com (SageMaker notebooks) are the main view's.
    expect(elsewhere.length).toBeGreaterThan(0);
    for (const { name, addresses } of elsewhere)
      expect(
        dns
          .view()
          .resolve(name, "A")
          .answers.map((a) => a.data),
        name,
      ).toEqual(addresses);
    const reference = new View([{ origin: VPCE_ORIGIN, records: rrs }], { outside: "NXDOMAIN" });
    const names = new Set<string>([VPCE_ORIGIN, `nope.${VPCE_ORIGIN}`, `vpce-skeleton.${VPCE_ORIGIN}`]);
    for (const { name } of rrs) {
      const bare = name.replace(/^\*\./, "");
      const labels = bare.split(".");
      for (let i = 0; i < labels.length - 2; i++) names.add(labels.slice(i).join("."));
      const base = labels.slice(1).join(".");
      for (const n of [
        `bucket.${bare}`,
        `a.b.${bare}`,
        `vpce-0123456789abcdef0-zzzzzzzz.${base}`,
        `vpce-skeleton.${base}`,
        `x.vpce-0123456789abcdef0-zzzzzzzz.${base}`,
      ])
        names.add(n);
    }
    const pub = dns.view();
    let compared = 0;
    for (const name of names)
      for (const type of ["A", "AAAA", "TXT", "SOA", "ANY"]) {
        expect(pub.resolve(name, type), `${type} ${name}`).toEqual(reference.resolve(name, type));
        compared++;
      }
    expect(compared).toBeGreaterThan(500);
  });

  it("keeps public aliases and CNAMEs to endpoint names authoritative, and follows their changes", async () => {
    const w = buildWorld(3, 2);
    dns = await start(w);
    const first = [...w.state.all("vpcEndpoint")].find((e) => e.vpcId === w.nets[0]!.vpcId)!;
    const alias = dns.view().resolve("ep.example.test", "A");
    expect(alias).toMatchObject({ rcode: "NOERROR", authoritative: true });
    expect(alias.answers.map((a) => a.data)).toEqual(
      endpointAddresses(w.state, first).find((n) => n.kind === "regional")!.addresses,
    );
    const chain = dns.view().resolve("c.example.test", "A");
    expect(chain.answers.map((a) => a.type)).toEqual(["CNAME", "A", "A"]);

    w.state.transact((tx) => deleteVpcEndpoints(tx, w.ctx, [first.id]));
    expect(dns.view().resolve("ep.example.test", "A").answers).toEqual([]);
  });
});

describe("the cost of a commit", () => {
  it.each([
    { vpcs: 4, perVpc: 3 },
    { vpcs: 24, perVpc: 20 },
  ])(
    "one endpoint in a store of $vpcs VPCs × $perVpc endpoints: one VPC view, one shard patched",
    async ({ vpcs, perVpc }) => {
      const w = buildWorld(vpcs, perVpc);
      dns = await start(w);
      const views = w.nets.map((n) => dns!.view(n.vpcId));
      const pub = dns.view();
      const before = dns.work();
      // Private DNS off: the service's names already have a home in VPC 0.
      const e = endpoint(w, w.nets[0]!, w.services[0]!, false);
      // The first query after the commit sees it (the lazy path), without waiting for a tick.
      expect(dns.view(w.nets[0]!.vpcId).resolve(regional(w, e), "A").answers).toHaveLength(2);
      expect(dns.view().resolve(regional(w, e), "A").answers).toHaveLength(2);
      // The VPC's view gets the zones at the endpoint's names (regional, two zonal) and nothing
      // is assembled again; a shard that had names gets them in place. A shard the endpoint is
      // the first in is built from its data (its names alone).
      const home = vpceShard(regional(w, e));
      const shared = [...w.state.all("vpcEndpoint")].some(
        (o) => o.id !== e.id && endpointServesDns(o) && vpceShard(regional(w, o)) === home,
      );
      expect(delta(dns.work(), before)).toEqual({
        endpointsDerived: 1,
        zonesAssembled: shared ? 0 : 1,
        originsAssembled: 3,
        vpcViewsBuilt: 0,
        publicViewsBuilt: shared ? 0 : 1,
        viewsPatched: shared ? 2 : 1,
        fullRebuilds: 0,
        drift: 0,
      });
      expect(dns.view()).not.toBe(pub);
      for (const [i, n] of w.nets.entries()) if (i > 0) expect(dns.view(n.vpcId), `VPC ${i}`).toBe(views[i]);

      // pending → available changes no field a record reads: nothing is derived or built again.
      const mid = dns.work();
      const pubBefore = dns.view();
      settle(w);
      expect(w.state.get("vpcEndpoint", e.id)!.state).toBe("available");
      expect(dns.view()).toBe(pubBefore);
      expect(delta(dns.work(), mid)).toMatchObject({
        endpointsDerived: 0,
        zonesAssembled: 0,
        viewsPatched: 0,
      });
      expect(dns.rebuildAll()).toBe(0);
    },
  );
});

interface ChangeCase {
  name: string;
  change(w: World): void;
  /** Indexes of the VPCs whose View must change; every other VPC's must stay the same object. */
  vpcs: number[];
  public: boolean;
}

const CASES: ChangeCase[] = [
  {
    name: "a security group",
    change: (w) =>
      w.state.transact((tx) =>
        createSecurityGroup(tx, w.ctx, { name: "unrelated", description: "x", vpcId: w.nets[1]!.vpcId }),
      ),
    vpcs: [],
    public: false,
  },
  {
    name: "a record in VPC 1's private hosted zone",
    change: (w) =>
      records(w, w.phzId, [
        { action: "CREATE", name: "www.corp.internal", type: "A", ttl: 60, values: ["192.0.2.1"] },
      ]),
    vpcs: [1],
    public: false,
  },
  {
    name: "an ENI taking the address VPC 1's record names (it maps to a host address now)",
    change: (w) =>
      w.state.transact((tx) => {
        const subnet = tx.get("subnet", w.nets[w.nets.length - 1]!.subnetIds[0]!)!;
        createEni(tx, w.ctx, { subnet, privateIp: `10.${w.nets.length}.1.77` });
      }),
    vpcs: [1],
    public: false,
  },
  {
    name: "a public record",
    change: (w) =>
      records(w, w.publicZoneId, [
        { action: "CREATE", name: "www.example.test", type: "A", ttl: 60, values: ["192.0.2.2"] },
      ]),
    vpcs: [],
    public: true,
  },
  {
    name: "deleting an endpoint in VPC 2",
    change: (w) =>
      w.state.transact((tx) => {
        const e = [...tx.all("vpcEndpoint")].find((x) => x.vpcId === w.nets[2]!.vpcId)!;
        deleteVpcEndpoints(tx, w.ctx, [e.id]);
      }),
    vpcs: [2],
    public: true,
  },
  {
    name: "the provider's private DNS name going back to pending verification",
    change: (w) =>
      w.state.transact((tx) => {
        const svc = [...tx.all("endpointService")][0]!;
        tx.put("endpointService", {
          ...svc,
          privateDnsVerification: { ...svc.privateDnsVerification!, state: "pendingVerification" },
        });
      }),
    vpcs: [0],
    public: false,
  },
  {
    name: "associating VPC 3 with the private hosted zone",
    change: (w) =>
      w.state.transact((tx) =>
        associateVpc(tx, w.ctx, w.phzId, { vpcId: w.nets[3]!.vpcId, vpcRegion: "us-east-1" }),
      ),
    vpcs: [3],
    public: false,
  },
  {
    name: "turning DNS support off in VPC 3",
    change: (w) =>
      w.state.transact((tx) => {
        const vpc = tx.get("vpc", w.nets[3]!.vpcId)!;
        tx.put("vpc", { ...vpc, dnsSupport: false });
      }),
    vpcs: [3],
    public: false,
  },
];

describe("what a change rebuilds", () => {
  it("rebuilds the views a change touches, keeps every other View object, and matches a full rebuild", async () => {
    const w = buildWorld(5, 3);
    dns = await start(w);
    for (const c of CASES) {
      const vpcViews = w.nets.map((n) => dns!.view(n.vpcId));
      const pub = dns.view();
      const before = dns.work();
      c.change(w);
      const changed = w.nets.flatMap((n, i) => (dns!.view(n.vpcId) === vpcViews[i] ? [] : [i]));
      expect(changed, c.name).toEqual(c.vpcs);
      expect(dns.view() !== pub, c.name).toBe(c.public);
      expect(dns.work().endpointsDerived - before.endpointsDerived, c.name).toBeLessThanOrEqual(1);
      // Nothing the change feed carried was missed: a rebuild from scratch changes no view.
      expect(dns.rebuildAll(), c.name).toBe(0);
    }
  });
});

type Step = {
  op: "create" | "s3" | "modify" | "privateDns" | "delete" | "settle";
  net: number;
  pick: number;
  flag: boolean;
};

const S3 = "com.amazonaws.us-east-1.s3";

/** One step on the world; a step the API would refuse (quota, a name claimed) commits nothing. */
function apply(w: World, s: Step): void {
  const net = w.nets[s.net % w.nets.length]!;
  const mine = [...w.state.all("vpcEndpoint")].filter(
    (e) => e.vpcId === net.vpcId && e.type === "Interface" && e.state !== "deleted",
  );
  const e = mine.length > 0 ? mine[s.pick % mine.length] : undefined;
  const subnet = net.subnetIds[s.pick % net.subnetIds.length]!;
  try {
    w.state.transact((tx) => {
      if (s.op === "create") {
        const svc = w.services[s.pick % w.services.length]!;
        createVpcEndpoint(tx, w.ctx, {
          vpcId: net.vpcId,
          type: "Interface",
          serviceName: svc,
          subnetIds: s.flag ? net.subnetIds : [subnet],
          privateDnsEnabled: s.flag,
        });
      } else if (s.op === "s3")
        // Private DNS only for inbound endpoints keeps the private names out of the VPC's view.
        createVpcEndpoint(tx, w.ctx, {
          vpcId: net.vpcId,
          type: "Interface",
          serviceName: S3,
          subnetIds: [subnet],
          privateDnsEnabled: s.flag,
          dnsOptions: s.flag ? { privateDnsOnlyForInboundResolverEndpoint: s.pick % 2 === 0 } : undefined,
        });
      else if (s.op === "settle") runLifecycle(tx, w.rt, ALWAYS_READY);
      else if (!e) return;
      else if (s.op === "delete") deleteVpcEndpoints(tx, w.ctx, [e.id]);
      else if (s.op === "privateDns") modifyVpcEndpoint(tx, w.ctx, e.id, { privateDnsEnabled: s.flag });
      else if (e.subnetIds.includes(subnet) && e.subnetIds.length > 1)
        modifyVpcEndpoint(tx, w.ctx, e.id, { removeSubnetIds: [subnet] });
      else if (!e.subnetIds.includes(subnet)) modifyVpcEndpoint(tx, w.ctx, e.id, { addSubnetIds: [subnet] });
    });
  } catch (err) {
    if (!(err as { code?: string }).code) throw err;
  }
}

/**
 * The random world's extras: an S3 gateway endpoint and an instance with a public address in
 * VPC 0 (instance names sit beside endpoint names in its view and the public one), and in VPC 2
 * a private hosted zone above the AWS services' private names (it shadows them there).
 */
function addExtras(w: World): void {
  const [a, , c] = w.nets;
  w.state.transact((tx) => {
    createVpcEndpoint(tx, w.ctx, { vpcId: a!.vpcId, type: "Gateway", serviceName: S3 });
    runInstances(tx, w.ctx, { imageId: "ami-12345678", subnetId: a!.subnetIds[0], associatePublicIp: true });
    createHostedZone(tx, w.ctx, {
      name: "us-east-1.amazonaws.com",
      callerReference: "shadow",
      vpc: { vpcId: c!.vpcId, vpcRegion: "us-east-1" },
    });
  });
  settle(w);
}

describe("patched views against views built from scratch", () => {
  it("after any sequence of creates, modifies and deletes, every view is what a full rebuild makes", async () => {
    const w = buildWorld(3, 2);
    addExtras(w);
    dns = await start(w);
    const step = fc.record({
      op: fc.constantFrom("create", "s3", "modify", "privateDns", "delete", "settle"),
      net: fc.nat(2),
      pick: fc.nat(40),
      flag: fc.boolean(),
    }) as fc.Arbitrary<Step>;
    let patched = 0;
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const before = dns!.work().viewsPatched;
        for (const s of steps) {
          apply(w, s);
          // Queries see each commit at once (the lazy refresh), patched or built.
          dns!.view();
          for (const n of w.nets) dns!.view(n.vpcId);
        }
        patched += dns!.work().viewsPatched - before;
        const label = JSON.stringify(steps);
        // Each VPC's view holds what one built from the whole state afresh holds.
        const fresh = new ZoneData(w.state);
        fresh.take();
        for (const n of w.nets)
          expect(dns!.view(n.vpcId).signature(), `${n.vpcId} ${label}`).toBe(
            new View(fresh.zonesOf(n.vpcId)!).signature(),
          );
        // A rebuild from the whole state compares each view (VPCs, main public view, shards)
        // with the one the patches made.
        expect(dns!.rebuildAll(), label).toBe(0);
        // And the answers: every public endpoint name, and one just beside it, as one zone
        // would give them; names outside vpce.amazonaws.com from the main public view.
        const rrs: RR[] = [];
        for (const e of w.state.all("vpcEndpoint")) {
          if (!endpointServesDns(e)) continue;
          for (const n of endpointAddresses(w.state, e)) {
            if (n.kind === "private") continue;
            if (!inZone(n.name.replace(/^\*\./, ""), VPCE_ORIGIN)) {
              const got = dns!
                .view()
                .resolve(n.name, "A")
                .answers.map((a) => a.data);
              expect(got, n.name).toEqual(n.addresses);
              checked++;
              continue;
            }
            for (const a of n.addresses)
              rrs.push({ name: n.name, type: "A", ttl: ENDPOINT_RECORD_TTL, data: a });
          }
        }
        const reference = new View([{ origin: VPCE_ORIGIN, records: rrs }], { outside: "NXDOMAIN" });
        for (const { name } of rrs)
          for (const q of [name, `x.${name.replace(/^\*\./, "")}`]) {
            expect(dns!.view().resolve(q, "A"), q).toEqual(reference.resolve(q, "A"));
            checked++;
          }
      }),
      {
        numRuns: 25,
        // A create, a subnet removed, a subnet added back, private DNS toggled, a delete: the
        // patch path on names that come, change and go, whatever the seed draws. Then a name
        // outside vpce.amazonaws.com (SageMaker notebooks: the main public view) and S3 with
        // private DNS for inbound endpoints only, and not, each created, changed and deleted,
        // and private names created under VPC 2's shadowing private hosted zone.
        examples: [
          [
            [
              { op: "create", net: 0, pick: 5, flag: true },
              { op: "settle", net: 0, pick: 0, flag: false },
              { op: "modify", net: 0, pick: 2, flag: false },
              { op: "modify", net: 0, pick: 2, flag: false },
              { op: "privateDns", net: 0, pick: 2, flag: false },
              { op: "delete", net: 0, pick: 2, flag: false },
              { op: "delete", net: 1, pick: 0, flag: false },
            ],
          ],
          [
            [
              { op: "create", net: 1, pick: 1, flag: true },
              { op: "settle", net: 1, pick: 0, flag: false },
              { op: "modify", net: 1, pick: 2, flag: false },
              { op: "delete", net: 1, pick: 2, flag: false },
              { op: "s3", net: 0, pick: 0, flag: true },
              { op: "s3", net: 0, pick: 1, flag: true },
              { op: "settle", net: 0, pick: 0, flag: false },
              { op: "privateDns", net: 0, pick: 3, flag: false },
              { op: "delete", net: 0, pick: 3, flag: false },
              { op: "create", net: 2, pick: 7, flag: true },
              { op: "modify", net: 2, pick: 2, flag: false },
            ],
          ],
        ],
      },
    );
    expect(patched).toBeGreaterThan(0);
    expect(checked).toBeGreaterThan(100);
  });
});
