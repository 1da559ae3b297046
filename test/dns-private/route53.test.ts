import type { EC2Client } from "@aws-sdk/client-ec2";
import {
  AssociateVPCWithHostedZoneCommand,
  ChangeResourceRecordSetsCommand,
  type ChangeResourceRecordSetsCommandInput,
  CreateHostedZoneCommand,
  CreateVPCAssociationAuthorizationCommand,
  DeleteHostedZoneCommand,
  DeleteVPCAssociationAuthorizationCommand,
  DisassociateVPCFromHostedZoneCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  GetHostedZoneCountCommand,
  ListHostedZonesByNameCommand,
  ListHostedZonesByVPCCommand,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  ListVPCAssociationAuthorizationsCommand,
  type Route53Client,
} from "@aws-sdk/client-route-53";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeAccount } from "../control-plane/provider-fixtures.js";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { digAt, eventually, makeVpc, type Net, resolverOf, route53, runInstance } from "./helpers.js";

let srv: TestServer;
let ec2: EC2Client;
let r53: Route53Client;
let vpcA: Net;
let vpcB: Net;
let seq = 0;
const ref = () => `ref-${++seq}-${Date.now()}`;

beforeAll(async () => {
  srv = await startTestServer();
  ec2 = srv.ec2();
  r53 = route53(srv);
  vpcA = await makeVpc(ec2, "10.30.0.0/16", ["us-east-1a"]);
  vpcB = await makeVpc(ec2, "10.40.0.0/16", ["us-east-1a"]);
  await runInstance(ec2, vpcA.subnetIds[0]!);
  await runInstance(ec2, vpcB.subnetIds[0]!);
});
afterAll(() => srv.stop());

async function publicZone(name: string) {
  const r = await r53.send(new CreateHostedZoneCommand({ Name: name, CallerReference: ref() }));
  return r.HostedZone!.Id!.replace("/hostedzone/", "");
}

async function privateZone(name: string, vpc: Net) {
  const r = await r53.send(
    new CreateHostedZoneCommand({
      Name: name,
      CallerReference: ref(),
      VPC: { VPCId: vpc.vpcId, VPCRegion: "us-east-1" },
      HostedZoneConfig: { PrivateZone: true, Comment: "private" },
    }),
  );
  return r.HostedZone!.Id!.replace("/hostedzone/", "");
}

type Rr = { name: string; type: string; ttl?: number; values?: string[] };
const change = (
  zoneId: string,
  action: "CREATE" | "DELETE" | "UPSERT",
  rrs: Rr[],
): ChangeResourceRecordSetsCommandInput => ({
  HostedZoneId: zoneId,
  ChangeBatch: {
    Changes: rrs.map((r) => ({
      Action: action,
      ResourceRecordSet: {
        Name: r.name,
        Type: r.type as "A",
        TTL: r.ttl ?? 300,
        ResourceRecords: (r.values ?? []).map((Value) => ({ Value })),
      },
    })),
  },
});

describe("hosted zones", () => {
  it("creates a public zone with its SOA and NS, and gets, lists and counts it", async () => {
    const r = await r53.send(new CreateHostedZoneCommand({ Name: "Example.COM", CallerReference: "pub-1" }));
    expect(r.HostedZone).toMatchObject({
      Name: "example.com.",
      CallerReference: "pub-1",
      Config: { PrivateZone: false },
      ResourceRecordSetCount: 2,
    });
    expect(r.HostedZone!.Id).toMatch(/^\/hostedzone\/Z[0-9A-Z]{20}$/);
    expect(r.ChangeInfo).toMatchObject({ Status: "PENDING" });
    expect(r.DelegationSet!.NameServers).toHaveLength(4);
    expect(r.Location).toContain("/2013-04-01/hostedzone/Z");
    const id = r.HostedZone!.Id!;
    const got = await r53.send(new GetHostedZoneCommand({ Id: id }));
    expect(got.HostedZone!.Name).toBe("example.com.");
    expect(got.DelegationSet!.NameServers).toEqual(r.DelegationSet!.NameServers);
    expect(got.VPCs).toBeUndefined();
    const change = await r53.send(new GetChangeCommand({ Id: r.ChangeInfo!.Id! }));
    expect(change.ChangeInfo).toMatchObject({ Id: r.ChangeInfo!.Id, Status: "INSYNC" });
    const list = await r53.send(new ListHostedZonesCommand({}));
    expect(list.HostedZones!.map((z) => z.Id)).toContain(id);
    const count = await r53.send(new GetHostedZoneCountCommand({}));
    expect(count.HostedZoneCount).toBe(list.HostedZones!.length);
    const recs = await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: id }));
    expect(recs.ResourceRecordSets!.map((x) => x.Type)).toEqual(["NS", "SOA"]);
  });

  it("creates a private zone associated with a VPC and lists it by VPC", async () => {
    const id = await privateZone("corp.internal", vpcA);
    const got = await r53.send(new GetHostedZoneCommand({ Id: id }));
    expect(got.HostedZone!.Config).toEqual({ Comment: "private", PrivateZone: true });
    expect(got.VPCs).toEqual([{ VPCId: vpcA.vpcId, VPCRegion: "us-east-1" }]);
    const byVpc = await r53.send(
      new ListHostedZonesByVPCCommand({ VPCId: vpcA.vpcId, VPCRegion: "us-east-1" }),
    );
    expect(byVpc.HostedZoneSummaries).toContainEqual({
      HostedZoneId: id,
      Name: "corp.internal.",
      Owner: { OwningAccount: "000000000000" },
    });
    const privOnly = await r53.send(new ListHostedZonesCommand({ HostedZoneType: "PrivateHostedZone" }));
    expect(privOnly.HostedZones!.every((z) => z.Config?.PrivateZone)).toBe(true);
  });

  it("lists zones by name in reversed-label order and pages", async () => {
    for (const n of ["b.zz-order.test", "a.zz-order.test", "zz-order.test"]) await publicZone(n);
    const all = await r53.send(new ListHostedZonesByNameCommand({ DNSName: "zz-order.test" }));
    expect(all.HostedZones!.slice(0, 3).map((z) => z.Name)).toEqual([
      "zz-order.test.",
      "a.zz-order.test.",
      "b.zz-order.test.",
    ]);
    const first = await r53.send(new ListHostedZonesByNameCommand({ DNSName: "zz-order.test", MaxItems: 1 }));
    expect(first.IsTruncated).toBe(true);
    expect(first.NextDNSName).toBe("a.zz-order.test.");
    const next = await r53.send(
      new ListHostedZonesByNameCommand({
        DNSName: first.NextDNSName,
        HostedZoneId: first.NextHostedZoneId,
        MaxItems: 1,
      }),
    );
    expect(next.HostedZones![0]!.Name).toBe("a.zz-order.test.");
    const paged = await r53.send(new ListHostedZonesCommand({ MaxItems: 1 }));
    expect(paged.IsTruncated).toBe(true);
    const page2 = await r53.send(new ListHostedZonesCommand({ MaxItems: 1, Marker: paged.NextMarker }));
    expect(page2.HostedZones![0]!.Id).not.toBe(paged.HostedZones![0]!.Id);
  });

  type ErrCase = {
    title: string;
    run: () => Promise<unknown>;
    name: string;
    message?: RegExp;
    status?: number;
  };
  const errors: ErrCase[] = [
    {
      title: "a reused caller reference",
      run: () => r53.send(new CreateHostedZoneCommand({ Name: "again.test", CallerReference: "pub-1" })),
      name: "HostedZoneAlreadyExists",
      message: /caller reference/,
      status: 409,
    },
    {
      title: "a public zone under amazonaws.com",
      run: () => r53.send(new CreateHostedZoneCommand({ Name: "amazonaws.com", CallerReference: ref() })),
      name: "InvalidDomainName",
      message: /reserved by AWS/,
    },
    {
      title: "an unknown zone",
      run: () => r53.send(new GetHostedZoneCommand({ Id: "Z0000000000000000000A" })),
      name: "NoSuchHostedZone",
      message: /No hosted zone found with ID: Z0000000000000000000A/,
      status: 404,
    },
    {
      title: "an unknown change",
      run: () => r53.send(new GetChangeCommand({ Id: "C0NOSUCHCHANGE" })),
      name: "NoSuchChange",
      status: 404,
    },
    {
      title: "a private zone in an unknown VPC",
      run: () =>
        r53.send(
          new CreateHostedZoneCommand({
            Name: "x.internal",
            CallerReference: ref(),
            VPC: { VPCId: "vpc-0123456789abcdef0", VPCRegion: "us-east-1" },
          }),
        ),
      name: "InvalidVPCId",
    },
    {
      title: "a second private zone of the same name in one VPC",
      run: async () => {
        await privateZone("dup.internal", vpcA);
        return privateZone("dup.internal", vpcA);
      },
      name: "ConflictingDomainExists",
      message: /already been associated with the hosted zone/,
    },
  ];
  it.each(errors)("refuses $title", async ({ run, name, message, status }) => {
    const e = await fails(run());
    expect(e.name).toBe(name);
    if (message) expect(e.message).toMatch(message);
    if (status) expect(e.status).toBe(status);
  });

  it("deletes only an empty zone", async () => {
    const id = await publicZone("delete-me.test");
    await r53.send(
      new ChangeResourceRecordSetsCommand(
        change(id, "CREATE", [{ name: "www.delete-me.test", type: "A", values: ["192.0.2.1"] }]),
      ),
    );
    const e = await fails(r53.send(new DeleteHostedZoneCommand({ Id: id })));
    expect(e.name).toBe("HostedZoneNotEmpty");
    await r53.send(
      new ChangeResourceRecordSetsCommand(
        change(id, "DELETE", [{ name: "www.delete-me.test", type: "A", values: ["192.0.2.1"] }]),
      ),
    );
    const d = await r53.send(new DeleteHostedZoneCommand({ Id: id }));
    expect(d.ChangeInfo!.Status).toBe("PENDING");
    expect((await fails(r53.send(new GetHostedZoneCommand({ Id: id })))).name).toBe("NoSuchHostedZone");
  });
});

describe("record sets", () => {
  let zoneId: string;
  beforeAll(async () => {
    zoneId = await privateZone("records.internal", vpcA);
  });

  const good: Rr[] = [
    { name: "a.records.internal", type: "A", values: ["10.30.0.50", "192.0.2.7"] },
    { name: "v6.records.internal", type: "AAAA", values: ["fd00::1"] },
    { name: "alias.records.internal", type: "CNAME", values: ["a.records.internal"] },
    { name: "txt.records.internal", type: "TXT", values: ['"hello world" "second"', '"v=spf1 -all"'] },
    { name: "records.internal", type: "MX", values: ["10 mail.records.internal"] },
    { name: "_sip._tcp.records.internal", type: "SRV", values: ["1 10 5060 sip.records.internal"] },
    { name: "records.internal", type: "CAA", values: ['0 issue "amazon.com"'] },
    { name: "7.0.30.10.records.internal", type: "PTR", values: ["a.records.internal"] },
    { name: "sub.records.internal", type: "NS", values: ["ns1.example.net"] },
    { name: "*.wild.records.internal", type: "A", values: ["10.30.9.9"] },
  ];

  it("creates every supported type, lists them, and the VPC resolver answers them", async () => {
    const r = await r53.send(new ChangeResourceRecordSetsCommand(change(zoneId, "CREATE", good)));
    expect(r.ChangeInfo!.Status).toBe("PENDING");
    const list = await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
    const listed = list.ResourceRecordSets!.map((x) => `${x.Name} ${x.Type}`);
    expect(listed).toContain("\\052.wild.records.internal. A");
    expect(listed).toContain("records.internal. CAA");
    expect(list.ResourceRecordSets!.find((x) => x.Type === "TXT")!.ResourceRecords).toEqual([
      { Value: '"hello world" "second"' },
      { Value: '"v=spf1 -all"' },
    ]);
    const addr = await resolverOf(srv, vpcA.vpcId);
    const slot = srv.state.get("vpc", vpcA.vpcId)!.cidrBlocks[0]!.slot!;
    const a = await eventually(
      () => digAt(addr, srv.dns.port, ["a.records.internal", "A"]),
      (d) => d.answer.length === 2,
    );
    // An address inside the querying VPC is its host address; one outside privlink stays as it is.
    expect(a.answer.map((f) => f[4]).sort()).toEqual([`127.${slot}.0.50`, "192.0.2.7"]);
    const cases: [string, string, string][] = [
      ["v6.records.internal", "AAAA", "fd00::1"],
      ["txt.records.internal", "TXT", '"v=spf1 -all"'],
      ["records.internal", "MX", "10 mail.records.internal."],
      ["_sip._tcp.records.internal", "SRV", "1 10 5060 sip.records.internal."],
      ["records.internal", "CAA", '0 issue "amazon.com"'],
      ["7.0.30.10.records.internal", "PTR", "a.records.internal."],
      ["deep.x.wild.records.internal", "A", "10.30.9.9"],
    ];
    for (const [name, type, rdata] of cases) {
      const d = await digAt(addr, srv.dns.port, [name, type]);
      expect(
        d.answer.map((f) => f.slice(4).join(" ")),
        `${name} ${type}`,
      ).toContain(type === "A" ? `127.${slot}.9.9` : rdata);
    }
    const chased = await digAt(addr, srv.dns.port, ["alias.records.internal", "A"]);
    expect(chased.answer.map((f) => f[3])).toEqual(["CNAME", "A", "A"]);
    const other = await digAt(await resolverOf(srv, vpcB.vpcId), srv.dns.port, ["a.records.internal", "A"]);
    expect(other.status).toBe("NXDOMAIN");
  });

  it("UPSERTs and pages through record sets", async () => {
    await r53.send(
      new ChangeResourceRecordSetsCommand(
        change(zoneId, "UPSERT", [
          { name: "a.records.internal", type: "A", ttl: 60, values: ["10.30.0.51"] },
        ]),
      ),
    );
    const page = await r53.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        StartRecordName: "a.records.internal",
        StartRecordType: "A",
        MaxItems: 1,
      }),
    );
    expect(page.ResourceRecordSets).toEqual([
      { Name: "a.records.internal.", Type: "A", TTL: 60, ResourceRecords: [{ Value: "10.30.0.51" }] },
    ]);
    expect(page.IsTruncated).toBe(true);
    expect(page.NextRecordName).toBeDefined();
  });

  type BatchCase = { title: string; action: "CREATE" | "DELETE" | "UPSERT"; rrs: Rr[]; message: string };
  const bad: BatchCase[] = [
    {
      title: "an existing record",
      action: "CREATE",
      rrs: [{ name: "v6.records.internal", type: "AAAA", values: ["fd00::2"] }],
      message:
        "[Tried to create resource record set [name='v6.records.internal.', type='AAAA'] but it already exists]",
    },
    {
      title: "a missing record",
      action: "DELETE",
      rrs: [{ name: "nothing.records.internal", type: "A", values: ["10.0.0.1"] }],
      message:
        "[Tried to delete resource record set [name='nothing.records.internal.', type='A'] but it was not found]",
    },
    {
      title: "values that do not match",
      action: "DELETE",
      rrs: [{ name: "v6.records.internal", type: "AAAA", values: ["fd00::9"] }],
      message:
        "[Tried to delete resource record set [name='v6.records.internal.', type='AAAA'] but the values provided do not match the current values]",
    },
    {
      title: "a name outside the zone",
      action: "CREATE",
      rrs: [{ name: "www.example.org", type: "A", values: ["10.0.0.1"] }],
      message: "[RRSet with DNS name www.example.org. is not permitted in zone records.internal.]",
    },
    {
      title: "a CNAME at the apex",
      action: "CREATE",
      rrs: [{ name: "records.internal", type: "CNAME", values: ["x.example.org"] }],
      message:
        "[RRSet of type CNAME with DNS name records.internal. is not permitted at apex in zone records.internal.]",
    },
    {
      title: "a CNAME beside other data",
      action: "CREATE",
      rrs: [{ name: "v6.records.internal", type: "CNAME", values: ["x.example.org"] }],
      message:
        "[RRSet of type CNAME with DNS name v6.records.internal. is not permitted as it conflicts with other records with the same DNS name in zone records.internal.]",
    },
    {
      title: "a bad IPv4 address",
      action: "CREATE",
      rrs: [{ name: "bad.records.internal", type: "A", values: ["999.1.1.1"] }],
      message:
        "[Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '999.1.1.1'']",
    },
    {
      title: "an unquoted TXT value",
      action: "CREATE",
      rrs: [{ name: "badtxt.records.internal", type: "TXT", values: ["no quotes"] }],
      message:
        "[Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with 'no quotes'']",
    },
    {
      title: "the zone's SOA",
      action: "DELETE",
      rrs: [],
      message: "[A HostedZone must contain exactly one SOA record.]",
    },
  ];
  it.each(bad)(
    "refuses $title with InvalidChangeBatch and applies nothing",
    async ({ action, rrs, message }) => {
      let input = change(zoneId, action, rrs);
      if (rrs.length === 0) {
        const soa = (
          await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }))
        ).ResourceRecordSets!.find((x) => x.Type === "SOA")!;
        input = {
          HostedZoneId: zoneId,
          ChangeBatch: { Changes: [{ Action: "DELETE", ResourceRecordSet: soa }] },
        };
      }
      // A valid change in the same batch must not survive the failure.
      input.ChangeBatch!.Changes!.unshift({
        Action: "CREATE",
        ResourceRecordSet: {
          Name: `atomic-${seq++}.records.internal`,
          Type: "A",
          TTL: 60,
          ResourceRecords: [{ Value: "10.0.0.1" }],
        },
      });
      const e = await fails(r53.send(new ChangeResourceRecordSetsCommand(input)));
      expect(e.name).toBe("InvalidChangeBatch");
      expect(e.message).toBe(message);
      const names = (
        await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }))
      ).ResourceRecordSets!.map((x) => x.Name);
      expect(names.some((n) => n!.startsWith("atomic-"))).toBe(false);
    },
  );

  it("refuses an alias to a name that is not there, and TTL beside an alias", async () => {
    const e = await fails(
      r53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          ChangeBatch: {
            Changes: [
              {
                Action: "CREATE",
                ResourceRecordSet: {
                  Name: "ep.records.internal",
                  Type: "A",
                  AliasTarget: {
                    HostedZoneId: "Z7HUB22UULQXV",
                    DNSName: "vpce-0000-nothing.sqs.us-east-1.vpce.amazonaws.com",
                    EvaluateTargetHealth: false,
                  },
                },
              },
            ],
          },
        }),
      ),
    );
    expect(e.name).toBe("InvalidChangeBatch");
    expect(e.message).toContain("but the alias target name does not lie within the target zone");
    const both = await fails(
      r53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          ChangeBatch: {
            Changes: [
              {
                Action: "CREATE",
                ResourceRecordSet: {
                  Name: "ep.records.internal",
                  Type: "A",
                  TTL: 60,
                  AliasTarget: {
                    HostedZoneId: zoneId,
                    DNSName: "a.records.internal",
                    EvaluateTargetHealth: false,
                  },
                },
              },
            ],
          },
        }),
      ),
    );
    expect(both.name).toBe("InvalidInput");
  });
});

describe("VPC associations", () => {
  it("associates, disassociates, and refuses the last disassociation", async () => {
    const id = await privateZone("assoc.internal", vpcA);
    await r53.send(
      new AssociateVPCWithHostedZoneCommand({
        HostedZoneId: id,
        VPC: { VPCId: vpcB.vpcId, VPCRegion: "us-east-1" },
      }),
    );
    const got = await r53.send(new GetHostedZoneCommand({ Id: id }));
    expect(got.VPCs!.map((v) => v.VPCId).sort()).toEqual([vpcA.vpcId, vpcB.vpcId].sort());
    await r53.send(
      new DisassociateVPCFromHostedZoneCommand({
        HostedZoneId: id,
        VPC: { VPCId: vpcB.vpcId, VPCRegion: "us-east-1" },
      }),
    );
    const again = await fails(
      r53.send(
        new DisassociateVPCFromHostedZoneCommand({
          HostedZoneId: id,
          VPC: { VPCId: vpcB.vpcId, VPCRegion: "us-east-1" },
        }),
      ),
    );
    expect([again.name, again.status]).toEqual(["VPCAssociationNotFound", 404]);
    const last = await fails(
      r53.send(
        new DisassociateVPCFromHostedZoneCommand({
          HostedZoneId: id,
          VPC: { VPCId: vpcA.vpcId, VPCRegion: "us-east-1" },
        }),
      ),
    );
    expect(last.name).toBe("LastVPCAssociation");
    const pub = await publicZone("public-assoc.test");
    const e = await fails(
      r53.send(
        new AssociateVPCWithHostedZoneCommand({
          HostedZoneId: pub,
          VPC: { VPCId: vpcB.vpcId, VPCRegion: "us-east-1" },
        }),
      ),
    );
    expect(e.name).toBe("PublicZoneVPCAssociation");
  });

  it("lets another account's VPC associate only with an authorization", async () => {
    const creds = await makeAccount(srv, "222233334444");
    const theirEc2 = srv.ec2("us-east-1", creds);
    const theirs = await makeVpc(theirEc2, "10.50.0.0/16", ["us-east-1a"]);
    const their53 = route53(srv, creds);
    const id = await privateZone("shared.internal", vpcA);
    const vpc = { VPCId: theirs.vpcId, VPCRegion: "us-east-1" as const };
    const denied = await fails(
      their53.send(new AssociateVPCWithHostedZoneCommand({ HostedZoneId: id, VPC: vpc })),
    );
    expect([denied.name, denied.status]).toEqual(["NotAuthorizedException", 401]);
    const auth = await r53.send(new CreateVPCAssociationAuthorizationCommand({ HostedZoneId: id, VPC: vpc }));
    expect(auth).toMatchObject({ HostedZoneId: id, VPC: vpc });
    const listed = await r53.send(new ListVPCAssociationAuthorizationsCommand({ HostedZoneId: id }));
    expect(listed.VPCs).toEqual([vpc]);
    expect(
      (await fails(their53.send(new ListVPCAssociationAuthorizationsCommand({ HostedZoneId: id })))).name,
    ).toBe("NoSuchHostedZone");
    await their53.send(new AssociateVPCWithHostedZoneCommand({ HostedZoneId: id, VPC: vpc }));
    const byVpc = await their53.send(
      new ListHostedZonesByVPCCommand({ VPCId: theirs.vpcId, VPCRegion: "us-east-1" }),
    );
    expect(byVpc.HostedZoneSummaries).toEqual([
      { HostedZoneId: id, Name: "shared.internal.", Owner: { OwningAccount: "000000000000" } },
    ]);
    await r53.send(new DeleteVPCAssociationAuthorizationCommand({ HostedZoneId: id, VPC: vpc }));
    const gone = await fails(
      r53.send(new DeleteVPCAssociationAuthorizationCommand({ HostedZoneId: id, VPC: vpc })),
    );
    expect([gone.name, gone.status]).toEqual(["VPCAssociationAuthorizationNotFound", 404]);
    // The association outlives its authorization, as on AWS.
    expect((await r53.send(new GetHostedZoneCommand({ Id: id }))).VPCs).toHaveLength(2);
  });
});
