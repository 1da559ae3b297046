import dgram from "node:dgram";
import { Resolver } from "node:dns/promises";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DnsServer, startDnsServer, View } from "../../src/dns/index.js";
import { decode, dig, HOST, hasDig, query, tcpExchange, udpExchange } from "./client.js";
import { BIG_TXT, ENDPOINT, MEDIUM_TXT, sampleView } from "./fixtures.js";

let server: DnsServer;
beforeAll(async () => {
  const view = sampleView();
  server = await startDnsServer({ host: HOST, port: 0, view: () => view });
});
afterAll(() => server.close());

const txtLen = (strings: string[]) => strings.join("").length;

type DigCase = {
  args: string[];
  status: string;
  /** Expected answer records as "name type rdata" (TTL and class left out). */
  answer?: string[];
  /** Type of the first authority record (SOA for negative answers). */
  authority?: string;
  flags?: string[];
  noFlags?: string[];
  check?: (r: Awaited<ReturnType<typeof dig>>) => void;
};

const rows = (recs: string[][]) => recs.map((f) => [f[0], f[3], ...f.slice(4)].join(" "));

const digCases: DigCase[] = [
  {
    args: ["www.example.com", "A"],
    status: "NOERROR",
    answer: ["www.example.com. A 10.0.0.1", "www.example.com. A 10.0.0.2"],
    flags: ["qr", "aa", "rd", "ra"],
  },
  { args: ["www.example.com", "AAAA"], status: "NOERROR", answer: ["www.example.com. AAAA fd00::1"] },
  {
    // Names are case-insensitive and the answer owner echoes the question's case (compressed to it).
    args: ["WwW.ExAmPlE.cOm", "A"],
    status: "NOERROR",
    answer: ["WwW.ExAmPlE.cOm. A 10.0.0.1", "WwW.ExAmPlE.cOm. A 10.0.0.2"],
    check: (r) => expect(r.question[0]![0]).toBe("WwW.ExAmPlE.cOm."),
  },
  {
    args: ["txt.example.com", "TXT"],
    status: "NOERROR",
    answer: ['txt.example.com. TXT "hello world" "second"'],
  },
  { args: ["mx.example.com", "MX"], status: "NOERROR", answer: ["mx.example.com. MX 10 mail.example.com."] },
  {
    args: ["chain1.example.com", "A"],
    status: "NOERROR",
    answer: [
      "chain1.example.com. CNAME chain2.example.com.",
      "chain2.example.com. CNAME CNAME.example.com.",
      "cname.example.com. CNAME www.example.com.",
      "www.example.com. A 10.0.0.1",
      "www.example.com. A 10.0.0.2",
    ],
  },
  {
    args: ["example.com", "A"],
    status: "NOERROR",
    answer: ["example.com. A 10.1.0.5", "example.com. A 10.1.1.5"],
  },
  {
    args: ["deep.er.wild.example.com", "A"],
    status: "NOERROR",
    answer: ["deep.er.wild.example.com. A 10.0.0.50"],
  },
  {
    args: [`MyBucket.${ENDPOINT}`, "A"],
    status: "NOERROR",
    answer: [`MyBucket.${ENDPOINT}. A 10.1.0.5`],
    check: (r) => expect(r.answer[0]![1]).toBe("60"),
  },
  { args: ["nope.example.com", "A"], status: "NXDOMAIN", answer: [], authority: "SOA", flags: ["aa"] },
  { args: ["www.example.com", "MX"], status: "NOERROR", answer: [], authority: "SOA" },
  { args: ["b.c.example.com", "A"], status: "NOERROR", answer: [], authority: "SOA" },
  { args: ["www.example.com", "TYPE65000"], status: "NOERROR", answer: [], authority: "SOA" },
  {
    args: ["_https._tcp.example.com", "SRV"],
    status: "NOERROR",
    answer: ["_https._tcp.example.com. SRV 1 5 443 www.example.com."],
  },
  { args: ["example.com", "CAA"], status: "NOERROR", answer: ['example.com. CAA 0 issue "amazon.com"'] },
  { args: ["ptr.example.com", "PTR"], status: "NOERROR", answer: ["ptr.example.com. PTR www.example.com."] },
  {
    args: ["example.com", "ANY"],
    status: "NOERROR",
    check: (r) => expect(rows(r.answer).map((x) => x.split(" ")[1])).toEqual(["SOA", "CAA", "NS", "A", "A"]),
  },
  {
    args: ["www.example.com", "A", "+tcp"],
    status: "NOERROR",
    answer: ["www.example.com. A 10.0.0.1", "www.example.com. A 10.0.0.2"],
  },
  {
    // dig sees TC over UDP and retries over TCP by itself.
    args: ["big.example.com", "TXT"],
    status: "NOERROR",
    check: (r) => {
      expect(r.retriedTcp).toBe(true);
      expect(r.answer).toHaveLength(1);
      expect(r.answer[0]!.slice(4).join("").replaceAll('"', "").length).toBe(txtLen(BIG_TXT));
    },
  },
  {
    args: ["big.example.com", "TXT", "+ignore"],
    status: "NOERROR",
    answer: [],
    flags: ["tc"],
    check: (r) => expect(r.ednsUdp).toBe(1232),
  },
  {
    // 1232 is enough for ~800 bytes of TXT: no TC, no TCP.
    args: ["medium.example.com", "TXT"],
    status: "NOERROR",
    noFlags: ["tc"],
    check: (r) => {
      expect(r.retriedTcp).toBe(false);
      expect(r.answer[0]!.slice(4).join("").replaceAll('"', "").length).toBe(txtLen(MEDIUM_TXT));
    },
  },
  {
    args: ["medium.example.com", "TXT", "+bufsize=512", "+ignore"],
    status: "NOERROR",
    answer: [],
    flags: ["tc"],
  },
  {
    args: ["medium.example.com", "TXT", "+noedns", "+ignore"],
    status: "NOERROR",
    answer: [],
    flags: ["tc"],
    check: (r) => expect(r.ednsUdp).toBeUndefined(),
  },
  {
    // A client buffer larger than ours is capped at ours (1232): the big answer still needs TCP.
    args: ["big.example.com", "TXT", "+bufsize=65000", "+ignore"],
    status: "NOERROR",
    flags: ["tc"],
  },
  { args: ["www.elsewhere.test", "A"], status: "REFUSED", answer: [], noFlags: ["aa"] },
  { args: ["version.bind", "TXT", "CH"], status: "REFUSED" },
  { args: ["www.example.com", "A", "+opcode=2"], status: "NOTIMP" },
  { args: ["www.example.com", "A", "+opcode=5"], status: "NOTIMP" },
  {
    args: ["www.example.com", "A", "+norecurse"],
    status: "NOERROR",
    flags: ["qr", "aa", "ra"],
    noFlags: ["rd"],
  },
  { args: ["loop1.example.com", "A"], status: "SERVFAIL" },
];

describe.skipIf(!hasDig)("dig against the server", () => {
  for (const c of digCases) {
    it(`dig ${c.args.join(" ")} → ${c.status}`, async () => {
      const r = await dig(server.port, c.args);
      expect(r.status, r.raw).toBe(c.status);
      if (c.answer) expect(rows(r.answer)).toEqual(c.answer);
      if (c.authority) expect(r.authority[0]?.[3]).toBe(c.authority);
      for (const f of c.flags ?? []) expect(r.flags, r.raw).toContain(f);
      for (const f of c.noFlags ?? []) expect(r.flags, r.raw).not.toContain(f);
      c.check?.(r);
    });
  }

  it("refuses a zone transfer", async () => {
    const r = await dig(server.port, ["example.com", "AXFR"]);
    expect(r.raw).toMatch(/Transfer failed/);
  });
});

describe("node:dns Resolver against the server", () => {
  const resolver = () => {
    const r = new Resolver({ timeout: 3000, tries: 1 });
    r.setServers([`${HOST}:${server.port}`]);
    return r;
  };

  const ok: [string, (r: Resolver) => Promise<unknown>, unknown][] = [
    ["resolve4", (r) => r.resolve4("www.example.com"), ["10.0.0.1", "10.0.0.2"]],
    ["resolve4 through a CNAME", (r) => r.resolve4("cname.example.com"), ["10.0.0.1", "10.0.0.2"]],
    ["resolve4 an alias", (r) => r.resolve4("example.com"), ["10.1.0.5", "10.1.1.5"]],
    ["resolve4 a wildcard", (r) => r.resolve4("any.wild.example.com"), ["10.0.0.50"]],
    ["resolve6", (r) => r.resolve6("www.example.com"), ["fd00::1"]],
    ["resolveTxt", (r) => r.resolveTxt("txt.example.com"), [["hello world", "second"]]],
    ["resolveTxt over TCP after TC", (r) => r.resolveTxt("big.example.com"), [BIG_TXT]],
    ["resolveMx", (r) => r.resolveMx("mx.example.com"), [{ priority: 10, exchange: "mail.example.com" }]],
    ["resolveCname", (r) => r.resolveCname("cname.example.com"), ["www.example.com"]],
    [
      "resolveSrv",
      (r) => r.resolveSrv("_https._tcp.example.com"),
      [{ priority: 1, weight: 5, port: 443, name: "www.example.com" }],
    ],
    ["resolveNs", (r) => r.resolveNs("example.com"), ["ns-1536.awsdns-00.co.uk"]],
    ["resolvePtr", (r) => r.resolvePtr("ptr.example.com"), ["www.example.com"]],
    ["resolveCaa", (r) => r.resolveCaa("example.com"), [{ critical: 0, issue: "amazon.com" }]],
    [
      "resolveSoa",
      (r) => r.resolveSoa("example.com"),
      {
        nsname: "ns-1536.awsdns-00.co.uk",
        hostmaster: "awsdns-hostmaster.amazon.com",
        serial: 1,
        refresh: 7200,
        retry: 900,
        expire: 1209600,
        minttl: 86400,
      },
    ],
  ];
  for (const [what, run, want] of ok) {
    it(what, async () => {
      expect(await run(resolver())).toEqual(want);
    });
  }

  const errors: [string, (r: Resolver) => Promise<unknown>, string][] = [
    ["NXDOMAIN", (r) => r.resolve4("nope.example.com"), "ENOTFOUND"],
    ["NODATA", (r) => r.resolveMx("www.example.com"), "ENODATA"],
    ["empty non-terminal", (r) => r.resolve4("c.example.com"), "ENODATA"],
    ["outside every zone", (r) => r.resolve4("www.elsewhere.test"), "EREFUSED"],
    ["CNAME loop", (r) => r.resolve4("loop1.example.com"), "ESERVFAIL"],
  ];
  for (const [what, run, code] of errors) {
    it(`${what} → ${code}`, async () => {
      await expect(run(resolver())).rejects.toMatchObject({ code });
    });
  }
});

describe("wire behaviour", () => {
  it("patches the ID and echoes the question's case on a cache hit", async () => {
    await udpExchange(server.port, query("cache.wild.example.com", "A", { id: 1 }));
    const hitsBefore = server.stats().cacheHits;
    const r = decode(await udpExchange(server.port, query("CaChE.wild.EXAMPLE.com", "A", { id: 777 })));
    expect(r.id).toBe(777);
    expect(r.questions![0]!.name).toBe("CaChE.wild.EXAMPLE.com");
    expect(r.answers!.map((a) => [a.name, a.data])).toEqual([["CaChE.wild.EXAMPLE.com", "10.0.0.50"]]);
    expect(server.stats().cacheHits).toBe(hitsBefore + 1);
  });

  it("echoes an OPT record with our buffer size and the DO bit only when the query had one", async () => {
    const withDo = decode(
      await udpExchange(server.port, query("www.example.com", "A", { edns: 4096, do: true })),
    );
    const opt = withDo.additionals.find((a) => a.type === "OPT")!;
    expect([opt.udpPayloadSize, opt.flag_do, opt.ednsVersion]).toEqual([1232, true, 0]);
    const plain = decode(await udpExchange(server.port, query("www.example.com", "A")));
    expect(plain.additionals).toEqual([]);
  });

  it("answers BADVERS to an EDNS version it does not speak", async () => {
    const q = query("www.example.com", "A", { edns: 1232 });
    q[q.length - 5] = 1; // OPT TTL byte 2: EDNS version
    const r = decode(await udpExchange(server.port, q));
    const opt = r.additionals.find((a) => a.type === "OPT")!;
    expect([r.rcode, opt.extendedRcode, opt.ednsVersion, r.answers!.length]).toEqual(["NOERROR", 1, 0, 0]);
  });

  const malformed: [string, () => Buffer, string][] = [
    [
      "garbage after a valid header",
      () => Buffer.concat([query("x.test", "A").subarray(0, 12), Buffer.from([0xff, 1, 2])]),
      "FORMERR",
    ],
    ["two questions", () => withCount(query("www.example.com", "A"), 4, 2), "FORMERR"],
    ["no question", () => withCount(query("www.example.com", "A").subarray(0, 12), 4, 0), "FORMERR"],
    ["an answer section in a query", () => withCount(query("www.example.com", "A"), 6, 1), "FORMERR"],
    ["trailing bytes", () => Buffer.concat([query("www.example.com", "A"), Buffer.from([0])]), "FORMERR"],
    [
      "a compression pointer in the question",
      () => Buffer.concat([query("x", "A").subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]),
      "FORMERR",
    ],
    ["a question cut short", () => query("www.example.com", "A").subarray(0, 20), "FORMERR"],
    ["two OPT records", () => twoOpts(), "FORMERR"],
    ["OPT as the question type", () => query("www.example.com", "OPT"), "FORMERR"],
    ["opcode IQUERY", () => withFlags(query("www.example.com", "A"), 1 << 11), "NOTIMP"],
    ["opcode NOTIFY", () => withFlags(query("www.example.com", "A"), 4 << 11), "NOTIMP"],
    ["class CHAOS", () => withClass(query("version.bind", "TXT"), 3), "REFUSED"],
    ["IXFR over UDP", () => query("example.com", "IXFR"), "REFUSED"],
  ];
  for (const [what, make, rcode] of malformed) {
    it(`${what} → ${rcode}`, async () => {
      const q = make();
      const r = decode(await udpExchange(server.port, q));
      expect(r.rcode).toBe(rcode);
      expect(r.id).toBe(q.readUInt16BE(0));
      expect(r.flag_qr).toBe(true);
    });
  }

  it("drops packets too short for a header and packets that are responses, and keeps serving", async () => {
    const before = server.stats().dropped;
    await udpExchange(server.port, Buffer.from([1, 2, 3])).catch(() => undefined);
    const resp = Buffer.from(query("www.example.com", "A"));
    resp[2]! |= 0x80;
    await udpExchange(server.port, resp, 200).catch(() => undefined);
    // The server handles datagrams in order: once this one is answered the two before were seen.
    expect(decode(await udpExchange(server.port, query("www.example.com", "A"))).rcode).toBe("NOERROR");
    expect(server.stats().dropped).toBe(before + 2);
  });

  it("serves several pipelined queries on one TCP connection, and answers after the client's FIN", async () => {
    const qs = ["www.example.com", "mx.example.com", "nope.example.com"].map((n, i) =>
      query(n, "A", { id: 100 + i }),
    );
    const replies = (await tcpExchange(server.port, qs, 3, { halfClose: true })).map(decode);
    expect(replies.map((r) => [r.id, r.rcode]).sort()).toEqual([
      [100, "NOERROR"],
      [101, "NOERROR"],
      [102, "NXDOMAIN"],
    ]);
  });

  it("closes a TCP connection whose message has no DNS header", async () => {
    const replies = await tcpExchange(
      server.port,
      [Buffer.from([1, 2, 3]), query("www.example.com", "A")],
      1,
    );
    expect(replies).toEqual([]);
  });

  it("answers from the new view as soon as the view object is swapped", async () => {
    let view = new View([
      { origin: "swap.test", records: [{ name: "swap.test", type: "A", ttl: 5, data: "10.0.0.1" }] },
    ]);
    const s = await startDnsServer({ host: HOST, port: 0, view: async () => view });
    try {
      const ask = async () =>
        decode(await udpExchange(s.port, query("swap.test", "A"))).answers!.map((a) => a.data);
      expect(await ask()).toEqual(["10.0.0.1"]);
      expect(await ask()).toEqual(["10.0.0.1"]);
      view = new View([
        { origin: "swap.test", records: [{ name: "swap.test", type: "A", ttl: 5, data: "10.0.0.2" }] },
      ]);
      expect(await ask()).toEqual(["10.0.0.2"]);
      expect(s.stats()).toMatchObject({ cacheHits: 1, cacheMisses: 2 });
    } finally {
      await s.close();
    }
  });

  it("answers SERVFAIL when the view provider fails", async () => {
    const s = await startDnsServer({
      host: HOST,
      port: 0,
      view: () => {
        throw new Error("no state");
      },
    });
    try {
      expect(decode(await udpExchange(s.port, query("www.example.com", "A"))).rcode).toBe("SERVFAIL");
    } finally {
      await s.close();
    }
  });

  it("does not cache answers that came from the fallback", async () => {
    let n = 0;
    const view = new View([], async (name) => ({
      rcode: "NOERROR",
      answers: [{ name, type: "A", ttl: 1, data: `192.0.2.${++n}` }],
      authority: [],
      authoritative: false,
    }));
    const s = await startDnsServer({ host: HOST, port: 0, view: () => view });
    try {
      const ask = async () => decode(await udpExchange(s.port, query("fwd.test", "A")));
      const [a, b] = [await ask(), await ask()];
      expect([a.answers![0]!.data, b.answers![0]!.data]).toEqual(["192.0.2.1", "192.0.2.2"]);
      expect(a.flag_aa).toBe(false);
    } finally {
      await s.close();
    }
  });

  it("binds UDP and TCP on the same port, and can run only one of them", async () => {
    const view = sampleView();
    const udpOnly = await startDnsServer({ host: HOST, port: 0, view: () => view, tcp: false });
    const tcpOnly = await startDnsServer({ host: HOST, port: 0, view: () => view, udp: false });
    try {
      expect(decode(await udpExchange(udpOnly.port, query("www.example.com", "A"))).rcode).toBe("NOERROR");
      const [r] = await tcpExchange(tcpOnly.port, [query("www.example.com", "A")]);
      expect(decode(r!).rcode).toBe("NOERROR");
      await expect(tcpExchange(udpOnly.port, [query("www.example.com", "A")])).rejects.toThrow();
    } finally {
      await Promise.all([udpOnly.close(), tcpOnly.close()]);
    }
  });
});

describe("connection handling", () => {
  const view = sampleView();

  it("closes an idle TCP connection", async () => {
    const s = await startDnsServer({ host: HOST, port: 0, view: () => view, tcpIdleMs: 50 });
    try {
      const sock = net.connect({ host: HOST, port: s.port });
      // The server hangs up on its own: this close is what the test waits for.
      await new Promise<void>((resolve) => sock.on("close", () => resolve()));
      expect(s.stats().tcpConnections).toBe(1);
    } finally {
      await s.close();
    }
  });

  it("turns away connections beyond the limit", async () => {
    const s = await startDnsServer({ host: HOST, port: 0, view: () => view, maxTcpConnections: 1 });
    const first = net.connect({ host: HOST, port: s.port });
    try {
      await new Promise<void>((resolve) => first.on("connect", () => resolve()));
      // The first connection is accepted once a query on it is answered.
      const q = query("www.example.com", "A");
      const len = Buffer.alloc(2);
      len.writeUInt16BE(q.length);
      await new Promise<void>((resolve) => {
        first.once("data", () => resolve());
        first.write(Buffer.concat([len, q]));
      });
      expect(await tcpExchange(s.port, [q], 1)).toEqual([]);
      expect(s.stats()).toMatchObject({ tcpConnections: 1, tcpRejected: 1 });
    } finally {
      first.destroy();
      await s.close();
    }
  });

  it("fails to start, holding nothing, when the port is taken for UDP", async () => {
    const taken = dgram.createSocket("udp4");
    const port = await new Promise<number>((resolve) =>
      taken.bind(0, HOST, () => resolve(taken.address().port)),
    );
    try {
      await expect(startDnsServer({ host: HOST, port, view: () => view })).rejects.toMatchObject({
        code: "EADDRINUSE",
      });
      await expect(tcpExchange(port, [query("www.example.com", "A")])).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      taken.close();
    }
  });
});

function withCount(q: Buffer, offset: number, n: number): Buffer {
  const b = Buffer.from(q);
  b.writeUInt16BE(n, offset);
  return b;
}

function withFlags(q: Buffer, bits: number): Buffer {
  const b = Buffer.from(q);
  b.writeUInt16BE(b.readUInt16BE(2) | bits, 2);
  return b;
}

function withClass(q: Buffer, klass: number): Buffer {
  const b = Buffer.from(q);
  b.writeUInt16BE(klass, b.length - 2);
  return b;
}

function twoOpts(): Buffer {
  const q = query("www.example.com", "A", { edns: 1232 });
  const opt = q.subarray(q.length - 11);
  return withCount(Buffer.concat([q, opt]), 10, 2);
}
