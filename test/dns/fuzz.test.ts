import dgram from "node:dgram";
import net from "node:net";
import packet from "dns-packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Responder, startDnsServer } from "../../src/dns/index.js";
import { decode, HOST, query, tcpExchange, udpExchange } from "./client.js";
import { sampleView } from "./fixtures.js";

/** Valid queries to mutate: plain, EDNS, DO, every section shape the server reads. */
const seeds: Buffer[] = [
  query("www.example.com", "A"),
  query("WWW.Example.com", "AAAA", { edns: 4096 }),
  query("big.example.com", "TXT", { edns: 512, do: true }),
  query("a.b.wild.example.com", "ANY"),
  query("chain1.example.com", "CNAME", { edns: 1232 }),
  query("nope.example.com", "MX"),
  query("example.com", "SOA", { edns: 1232 }),
  packet.encode({
    type: "query",
    id: 9,
    questions: [{ name: "x.example.com", type: "A" }],
    additionals: [
      {
        type: "OPT",
        name: ".",
        udpPayloadSize: 1232,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: 0,
        flag_do: false,
        options: [{ code: 12, length: 20 }],
      } as unknown as packet.Answer,
    ],
  }),
];

type Mutation = { op: "set" | "cut" | "insert" | "count"; pos: number; val: number };

const mutation = fc.record({
  op: fc.constantFrom<Mutation["op"]>("set", "cut", "insert", "count"),
  pos: fc.nat(),
  val: fc.nat({ max: 0xffff }),
});

function mutate(seed: Buffer, ms: Mutation[]): Buffer {
  let b = Buffer.from(seed);
  for (const m of ms) {
    const pos = b.length ? m.pos % b.length : 0;
    if (m.op === "set" && b.length) b[pos] = m.val & 0xff;
    else if (m.op === "cut") b = b.subarray(0, pos);
    else if (m.op === "insert")
      b = Buffer.concat([b.subarray(0, pos), Buffer.from([m.val & 0xff, m.val >> 8]), b.subarray(pos)]);
    else if (m.op === "count" && b.length >= 12)
      b.writeUInt16BE(m.val % 4 === 0 ? m.val : m.val % 4, 4 + 2 * (m.pos % 4));
  }
  return b;
}

const randomBytes = fc.tuple(fc.uint8Array({ maxLength: 700 }), fc.boolean()).map(([a, asQuery]) => {
  const b = Buffer.from(a);
  // Half of them claim to be queries, so that they get past the QR check into the parser.
  if (asQuery && b.length > 2) b[2]! &= 0x7f;
  return b;
});

const packets = fc.oneof(
  { arbitrary: randomBytes, weight: 1 },
  {
    arbitrary: fc
      .tuple(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 6 }))
      .map(([s, ms]) => mutate(s, ms)),
    weight: 2,
  },
);

/** What any response must satisfy, whatever the query was. */
function checkResponse(q: Buffer, r: Buffer | undefined, transport: "udp" | "tcp"): void {
  if (r === undefined) {
    // Dropped: only when there is no header or the message is itself a response.
    expect(q.length < 12 || (q[2]! & 0x80) !== 0).toBe(true);
    return;
  }
  expect(r.readUInt16BE(0)).toBe(q.readUInt16BE(0));
  expect(r[2]! & 0x80).toBe(0x80);
  expect(r.length).toBeLessThanOrEqual(transport === "udp" ? 1232 : 65535);
  const d = packet.decode(r);
  expect(packet.decode.bytes).toBe(r.length);
  expect(d.questions!.length).toBeLessThanOrEqual(1);
}

describe("fuzz: the responder", () => {
  it("answers or drops every random and mutated packet, never throwing, always well-formed", async () => {
    const view = sampleView();
    const responder = new Responder({ view: () => view });
    await fc.assert(
      fc.asyncProperty(packets, fc.constantFrom<"udp" | "tcp">("udp", "tcp"), async (q, transport) => {
        checkResponse(q, await responder.handle(q, transport), transport);
      }),
      { numRuns: 4000, seed: 20260101 },
    );
    const st = responder.stats();
    expect(st.errors).toBe(0);
    // The mix reached every stage: drops, parse errors, opcodes, answers and negative answers.
    expect(st.dropped).toBeGreaterThan(0);
    for (const rcode of ["FORMERR", "NOTIMP", "NOERROR", "NXDOMAIN", "REFUSED"])
      expect(st.rcodes[rcode]).toBeGreaterThan(0);
  });

  it("answers every query type number without an internal error", async () => {
    const view = sampleView();
    const responder = new Responder({ view: () => view });
    for (let t = 0; t <= 0xffff; t += t < 300 ? 1 : 257) {
      const q = query("www.example.com", "A", { edns: 1232 });
      q.writeUInt16BE(t, 12 + 17);
      const r = await responder.handle(q, "udp");
      checkResponse(q, r, "udp");
    }
    expect(responder.stats().errors).toBe(0);
  });
});

describe("fuzz: the server over sockets", () => {
  it("survives thousands of random UDP and TCP packets and still answers a normal query", async () => {
    const view = sampleView();
    const server = await startDnsServer({ host: HOST, port: 0, view: () => view });
    try {
      const samples = fc.sample(packets, { numRuns: 3000, seed: 7 });
      await blastUdp(server.port, samples);
      await blastTcp(server.port, samples.slice(0, 600));
      const r = decode(await udpExchange(server.port, query("www.example.com", "A")));
      expect(r.answers!.map((a) => a.data)).toEqual(["10.0.0.1", "10.0.0.2"]);
      const [t] = await tcpExchange(server.port, [query("www.example.com", "A")]);
      expect(decode(t!).rcode).toBe("NOERROR");
      expect(server.stats().errors).toBe(0);
      expect(server.stats().tcpOpen).toBeLessThanOrEqual(1);
    } finally {
      await server.close();
    }
  });
});

/** Sends in small batches, each after the previous batch's replies (or a short quiet spell). */
async function blastUdp(port: number, msgs: Buffer[]): Promise<void> {
  const sock = dgram.createSocket("udp4");
  await new Promise<void>((r) => sock.bind(0, HOST, r));
  let received = 0;
  sock.on("message", () => received++);
  try {
    for (let i = 0; i < msgs.length; i += 50) {
      await Promise.all(msgs.slice(i, i + 50).map((m) => new Promise((r) => sock.send(m, port, HOST, r))));
      // A marker query answered in order shows the server has read the batch before it.
      await new Promise<void>((resolve, reject) => {
        const marker = query("www.example.com", "A", { id: 0xfeed });
        const timer = setTimeout(() => reject(new Error("server stopped answering")), 5000);
        const onMsg = (m: Buffer) => {
          if (m.readUInt16BE(0) === 0xfeed) {
            clearTimeout(timer);
            sock.off("message", onMsg);
            resolve();
          }
        };
        sock.on("message", onMsg);
        sock.send(marker, port, HOST);
      });
    }
    expect(received).toBeGreaterThan(0);
  } finally {
    sock.close();
  }
}

/** Random framed messages, raw garbage and truncated frames over many short connections. */
async function blastTcp(port: number, msgs: Buffer[]): Promise<void> {
  for (let i = 0; i < msgs.length; i += 20) {
    const batch = msgs.slice(i, i + 20);
    await Promise.all([
      rawTcp(port, Buffer.concat(batch.map(framed))),
      rawTcp(port, Buffer.concat(batch)),
      rawTcp(port, Buffer.from([0xff, 0xff, ...batch[0]!.subarray(0, 30)])),
    ]);
  }
}

function framed(m: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(m.length);
  return Buffer.concat([len, m]);
}

function rawTcp(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port }, () => s.end(bytes));
    s.on("data", () => {});
    s.on("error", () => resolve());
    s.on("close", () => resolve());
  });
}
