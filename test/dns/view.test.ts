import packet from "dns-packet";
import { describe, expect, it } from "vitest";
import { type Answer, type RR, View, type Zone } from "../../src/dns/index.js";
import { rrWire } from "../../src/dns/view.js";
import { ENDPOINT, sampleView, zones } from "./fixtures.js";

/** An answer RR as "name TYPE data" with the data flattened, to compare tables easily. */
function show(r: RR): string {
  const d = r.data;
  let data: string;
  if (r.type === "TXT") data = (d as Buffer[]).map((b) => b.toString()).join("|");
  else if (r.type === "MX") data = `${d.preference} ${d.exchange}`;
  else if (r.type === "SOA") data = `${d.mname}`;
  else if (typeof d === "object") data = JSON.stringify(d);
  else data = String(d);
  return `${r.name} ${r.type} ${data}`;
}

type Case = {
  q: [string, string];
  rcode: Answer["rcode"];
  answers?: string[];
  /** Origin of the SOA in the authority section, for negative answers. */
  soa?: string;
  aa?: boolean;
};

const cases: Case[] = [
  {
    q: ["www.example.com", "A"],
    rcode: "NOERROR",
    answers: ["www.example.com A 10.0.0.1", "www.example.com A 10.0.0.2"],
  },
  {
    q: ["WWW.EXAMPLE.COM.", "a"],
    rcode: "NOERROR",
    answers: ["www.example.com A 10.0.0.1", "www.example.com A 10.0.0.2"],
  },
  { q: ["www.example.com", "AAAA"], rcode: "NOERROR", answers: ["www.example.com AAAA fd00::1"] },
  { q: ["mixed.case.EXAMPLE.com", "A"], rcode: "NOERROR", answers: ["mixed.case.example.com A 10.0.0.9"] },
  { q: ["txt.example.com", "TXT"], rcode: "NOERROR", answers: ["txt.example.com TXT hello world|second"] },
  { q: ["mx.example.com", "MX"], rcode: "NOERROR", answers: ["mx.example.com MX 10 mail.example.com"] },
  { q: ["ptr.example.com", "TYPE12"], rcode: "NOERROR", answers: ["ptr.example.com PTR www.example.com"] },
  // CNAME chasing, chains, loops, dangling targets
  {
    q: ["cname.example.com", "A"],
    rcode: "NOERROR",
    answers: [
      "cname.example.com CNAME www.example.com",
      "www.example.com A 10.0.0.1",
      "www.example.com A 10.0.0.2",
    ],
  },
  {
    q: ["cname.example.com", "CNAME"],
    rcode: "NOERROR",
    answers: ["cname.example.com CNAME www.example.com"],
  },
  { q: ["cname.example.com", "ANY"], rcode: "NOERROR", answers: ["cname.example.com CNAME www.example.com"] },
  {
    q: ["chain1.example.com", "AAAA"],
    rcode: "NOERROR",
    answers: [
      "chain1.example.com CNAME chain2.example.com",
      "chain2.example.com CNAME CNAME.example.com",
      "cname.example.com CNAME www.example.com",
      "www.example.com AAAA fd00::1",
    ],
  },
  {
    q: ["chain1.example.com", "MX"],
    rcode: "NOERROR",
    answers: [
      "chain1.example.com CNAME chain2.example.com",
      "chain2.example.com CNAME CNAME.example.com",
      "cname.example.com CNAME www.example.com",
    ],
    soa: "example.com",
  },
  { q: ["loop1.example.com", "A"], rcode: "SERVFAIL", answers: [], aa: false },
  {
    q: ["dangling.example.com", "A"],
    rcode: "NXDOMAIN",
    answers: ["dangling.example.com CNAME nothing-here.example.com"],
    soa: "example.com",
  },
  // CNAME into another zone of the view
  {
    q: ["toep.example.com", "A"],
    rcode: "NOERROR",
    answers: [`toep.example.com CNAME ${ENDPOINT}`, `${ENDPOINT} A 10.1.0.5`, `${ENDPOINT} A 10.1.1.5`],
  },
  // A CNAME leaving the view: the chain so far, for the client to follow
  { q: ["ext.example.com", "A"], rcode: "NOERROR", answers: ["ext.example.com CNAME www.elsewhere.test"] },
  // Aliases resolve through the view, under the alias's own name, with the target's TTL
  {
    q: ["example.com", "A"],
    rcode: "NOERROR",
    answers: ["example.com A 10.1.0.5", "example.com A 10.1.1.5"],
  },
  { q: ["example.com", "AAAA"], rcode: "NOERROR", soa: "example.com" },
  {
    q: ["alias-cname.example.com", "A"],
    rcode: "NOERROR",
    answers: ["alias-cname.example.com A 10.0.0.1", "alias-cname.example.com A 10.0.0.2"],
  },
  { q: ["alias-loop.example.com", "A"], rcode: "NOERROR", soa: "example.com" },
  // Negative answers
  { q: ["nope.example.com", "A"], rcode: "NXDOMAIN", soa: "example.com" },
  { q: ["www.example.com", "MX"], rcode: "NOERROR", soa: "example.com" },
  { q: ["www.example.com", "TYPE65000"], rcode: "NOERROR", soa: "example.com" },
  // Empty non-terminals are NODATA, names below them that do not exist are NXDOMAIN
  { q: ["b.c.example.com", "A"], rcode: "NOERROR", soa: "example.com" },
  { q: ["c.example.com", "A"], rcode: "NOERROR", soa: "example.com" },
  { q: ["z.c.example.com", "A"], rcode: "NXDOMAIN", soa: "example.com" },
  // Wildcards (RFC 4592): synthesis below the closest encloser, exact names win, no synthesis past an existing node
  { q: ["foo.wild.example.com", "A"], rcode: "NOERROR", answers: ["foo.wild.example.com A 10.0.0.50"] },
  { q: ["a.b.wild.example.com", "TXT"], rcode: "NOERROR", answers: ["a.b.wild.example.com TXT wildcard"] },
  { q: ["foo.wild.example.com", "MX"], rcode: "NOERROR", soa: "example.com" },
  {
    q: ["exists.wild.example.com", "TXT"],
    rcode: "NOERROR",
    answers: ["exists.wild.example.com TXT exact wins"],
  },
  { q: ["exists.wild.example.com", "A"], rcode: "NOERROR", soa: "example.com" },
  { q: ["under.exists.wild.example.com", "A"], rcode: "NXDOMAIN", soa: "example.com" },
  { q: ["wild.example.com", "A"], rcode: "NOERROR", soa: "example.com" },
  { q: ["*.wild.example.com", "A"], rcode: "NOERROR", answers: ["*.wild.example.com A 10.0.0.50"] },
  {
    q: ["x.wc.example.com", "A"],
    rcode: "NOERROR",
    answers: [
      "x.wc.example.com CNAME www.example.com",
      "www.example.com A 10.0.0.1",
      "www.example.com A 10.0.0.2",
    ],
  },
  { q: [`bucket.${ENDPOINT}`, "A"], rcode: "NOERROR", answers: [`bucket.${ENDPOINT} A 10.1.0.5`] },
  // Apex data
  { q: ["example.com", "SOA"], rcode: "NOERROR", answers: ["example.com SOA ns-1536.awsdns-00.co.uk"] },
  { q: ["example.com", "NS"], rcode: "NOERROR", answers: ["example.com NS ns-1536.awsdns-00.co.uk"] },
  {
    q: ["example.com", "ANY"],
    rcode: "NOERROR",
    answers: [
      "example.com SOA ns-1536.awsdns-00.co.uk",
      'example.com CAA {"flags":0,"tag":"issue","value":"amazon.com"}',
      "example.com NS ns-1536.awsdns-00.co.uk",
      "example.com A 10.1.0.5",
      "example.com A 10.1.1.5",
    ],
  },
  // Zone selection: nested origin wins, same-origin later zones are shadowed
  { q: ["x.sub.example.com", "A"], rcode: "NOERROR", answers: ["x.sub.example.com A 10.9.9.9"] },
  { q: ["y.sub.example.com", "A"], rcode: "NXDOMAIN", soa: "sub.example.com" },
  { q: ["public-only.example.com", "A"], rcode: "NXDOMAIN", soa: "example.com" },
  // Outside every zone
  { q: ["www.elsewhere.test", "A"], rcode: "REFUSED", answers: [], aa: false },
  { q: ["", "A"], rcode: "REFUSED", answers: [], aa: false },
];

describe("View.resolve", () => {
  const view = sampleView();
  for (const c of cases) {
    it(`${c.q[1]} ${c.q[0] || "."} → ${c.rcode}`, () => {
      const a = view.resolve(...c.q);
      expect(a.rcode).toBe(c.rcode);
      expect(a.answers.map(show)).toEqual(c.answers ?? []);
      if (c.soa) {
        expect(a.authority.map((r) => `${r.name} ${r.type}`)).toEqual([`${c.soa} SOA`]);
      } else {
        expect(a.authority).toEqual([]);
      }
      expect(a.authoritative).toBe(c.aa ?? true);
    });
  }

  it("gives the endpoint records TTL 60 and an alias the target's TTL", () => {
    expect(view.resolve(ENDPOINT, "A").answers.map((r) => r.ttl)).toEqual([60, 60]);
    expect(view.resolve("example.com", "A").answers.map((r) => r.ttl)).toEqual([60, 60]);
  });

  it("puts min(SOA TTL, minimum) on the negative-answer SOA (RFC 2308)", () => {
    const v = new View([{ origin: "t.test", soa: { ttl: 3600, minimum: 30 }, records: [] }]);
    expect(v.resolve("x.t.test", "A").authority[0]!.ttl).toBe(30);
    expect(v.resolve("t.test", "SOA").answers[0]!.ttl).toBe(3600);
  });

  it("takes the zone SOA from an apex SOA record when one is listed", () => {
    const v = new View([
      {
        origin: "t.test",
        records: [
          {
            name: "t.test",
            type: "SOA",
            ttl: 120,
            data: { mname: "ns.t.test", rname: "h.t.test", minimum: 5 },
          },
        ],
      },
    ]);
    const soa = v.resolve("nx.t.test", "A").authority[0]!;
    expect([soa.ttl, soa.data.mname]).toEqual([5, "ns.t.test"]);
  });

  it("answers NXDOMAIN outside every zone when told to", () => {
    const v = new View(zones, { outside: "NXDOMAIN" });
    expect(v.resolve("a.elsewhere.test", "A")).toMatchObject({ rcode: "NXDOMAIN", authoritative: false });
    expect(v.resolve("ext.example.com", "A")).toMatchObject({
      rcode: "NXDOMAIN",
      answers: [expect.anything()],
    });
  });

  it("bounds chains by maxChain", () => {
    const records: RR[] = Array.from({ length: 5 }, (_, i) => ({
      name: `c${i}.t.test`,
      type: "CNAME",
      ttl: 1,
      data: `c${i + 1}.t.test`,
    }));
    records.push({ name: "c5.t.test", type: "A", ttl: 1, data: "10.0.0.1" });
    expect(
      new View([{ origin: "t.test", records }], { maxChain: 5 }).resolve("c0.t.test", "A").answers,
    ).toHaveLength(6);
    expect(new View([{ origin: "t.test", records }], { maxChain: 4 }).resolve("c0.t.test", "A").rcode).toBe(
      "SERVFAIL",
    );
  });
});

describe("View with a fallback", () => {
  const asked: string[] = [];
  const fallback = async (name: string, type: string): Promise<Answer | undefined> => {
    asked.push(`${type} ${name}`);
    if (name === "www.elsewhere.test" && type === "A")
      return {
        rcode: "NOERROR",
        answers: [{ name, type: "A", ttl: 30, data: "192.0.2.7" }],
        authority: [],
        authoritative: true,
      };
    return undefined;
  };
  const view = sampleView(fallback);

  const cases: { q: [string, string]; rcode: string; answers: string[]; aa: boolean; cacheable?: boolean }[] =
    [
      { q: ["www.example.com", "A"], rcode: "NOERROR", answers: ["10.0.0.1", "10.0.0.2"], aa: true },
      {
        q: ["www.elsewhere.test", "A"],
        rcode: "NOERROR",
        answers: ["192.0.2.7"],
        aa: false,
        cacheable: false,
      },
      {
        q: ["ext.example.com", "A"],
        rcode: "NOERROR",
        answers: ["www.elsewhere.test", "192.0.2.7"],
        aa: false,
        cacheable: false,
      },
      { q: ["unknown.elsewhere.test", "A"], rcode: "REFUSED", answers: [], aa: false },
    ];
  for (const c of cases) {
    it(`query ${c.q.join(" ")} → ${c.rcode}`, async () => {
      const a = await view.query(...c.q);
      expect(a.rcode).toBe(c.rcode);
      expect(a.answers.map((r) => String(r.data))).toEqual(c.answers);
      expect(a.authoritative).toBe(c.aa);
      if (c.cacheable === false) expect(a.cacheable).toBe(false);
    });
  }

  it("answers synchronously when the fallback is not needed", () => {
    expect(view.lookup("www.example.com", "A")).not.toBeInstanceOf(Promise);
    expect(view.lookup("www.elsewhere.test", "A")).toBeInstanceOf(Promise);
  });

  it("never consults the fallback from resolve()", () => {
    asked.length = 0;
    expect(view.resolve("www.elsewhere.test", "A").rcode).toBe("REFUSED");
    expect(asked).toEqual([]);
  });

  it("follows an alias whose target is outside the view through the fallback", async () => {
    const v = new View(
      [
        {
          origin: "t.test",
          records: [],
          aliases: [{ name: "t.test", type: "A", target: "www.elsewhere.test" }],
        },
      ],
      fallback,
    );
    const a = await v.query("t.test", "A");
    expect(a.answers.map((r) => `${r.name} ${r.data}`)).toEqual(["t.test 192.0.2.7"]);
  });

  it("turns a failing fallback into a rejected query", async () => {
    const v = new View([], async () => {
      throw new Error("upstream down");
    });
    await expect(v.query("x.test", "A")).rejects.toThrow("upstream down");
  });
});

describe("View construction rejects bad zones", () => {
  const bad: [string, Zone][] = [
    [
      "a record outside the origin",
      { origin: "t.test", records: [{ name: "x.other.test", type: "A", ttl: 1, data: "10.0.0.1" }] },
    ],
    ["a bad IPv4", { origin: "t.test", records: [{ name: "x.t.test", type: "A", ttl: 1, data: "10.0.0" }] }],
    [
      "a bad IPv6",
      { origin: "t.test", records: [{ name: "x.t.test", type: "AAAA", ttl: 1, data: "10.0.0.1" }] },
    ],
    [
      "a negative TTL",
      { origin: "t.test", records: [{ name: "x.t.test", type: "A", ttl: -1, data: "10.0.0.1" }] },
    ],
    [
      "a 64-byte label",
      {
        origin: "t.test",
        records: [{ name: `${"l".repeat(64)}.t.test`, type: "A", ttl: 1, data: "10.0.0.1" }],
      },
    ],
    [
      "a CNAME beside other data",
      {
        origin: "t.test",
        records: [
          { name: "x.t.test", type: "CNAME", ttl: 1, data: "y.t.test" },
          { name: "x.t.test", type: "TXT", ttl: 1, data: "t" },
        ],
      },
    ],
    [
      "a CNAME at the apex",
      { origin: "t.test", records: [{ name: "t.test", type: "CNAME", ttl: 1, data: "y.t.test" }] },
    ],
    [
      "an SOA below the apex",
      { origin: "t.test", records: [{ name: "x.t.test", type: "SOA", ttl: 1, data: {} }] },
    ],
    [
      "an alias of type MX",
      { origin: "t.test", records: [], aliases: [{ name: "t.test", type: "MX" as "A", target: "x.test" }] },
    ],
    [
      "a name that only looks like a subdomain",
      { origin: "t.test", records: [{ name: "x\\.t.test", type: "A", ttl: 1, data: "10.0.0.1" }] },
    ],
  ];
  for (const [what, zone] of bad) {
    it(what, () => {
      expect(() => new View([zone])).toThrow();
    });
  }

  it("splits TXT strings longer than 255 bytes", () => {
    const v = new View([
      { origin: "t.test", records: [{ name: "t.test", type: "TXT", ttl: 1, data: "x".repeat(600) }] },
    ]);
    expect((v.resolve("t.test", "TXT").answers[0]!.data as Buffer[]).map((b) => b.length)).toEqual([
      255, 255, 90,
    ]);
  });
});

describe("record wire forms", () => {
  it("writes an A record exactly as dns-packet does, whatever its address", () => {
    const cases: [string, number][] = [
      ["127.1.0.5", 60],
      ["0.0.0.0", 0],
      ["255.255.255.255", 0x7fffffff],
      ["10.20.30.40", 300],
      // Not addresses: the view's checks refuse them before any encoding; here both paths agree.
      ["1.2.3", 60],
      ["1.2.3.256", 60],
      ["01.2.3.4", 60],
      ["1.2.3.4.5", 60],
    ];
    for (const [data, ttl] of cases) {
      const rr: RR = { name: "a.example", type: "A", ttl, data };
      let expected: string;
      try {
        const full = packet.encode({
          type: "response",
          answers: [{ ...rr, name: ".", class: "IN" } as packet.Answer],
        });
        expected = Buffer.from(full.subarray(13)).toString("hex");
      } catch {
        expect(() => rrWire({ ...rr }), data).toThrow();
        continue;
      }
      expect(rrWire({ ...rr }).toString("hex"), data).toBe(expected);
    }
  });
});
