/**
 * The batched UDP path (native/dns_udp.c, src/dns/udp-batch.ts): when the addon is built the DNS
 * server answers through it — the counters say so — and a burst of queries gets the same answers
 * as one query at a time: IDs, the client's own address and port, truncation, admit() refusals,
 * answers that come later. With PRIVLINK_DNS_BATCH=0 (or no addon) the counters stay at zero
 * and the same answers come from dgram (every other DNS test runs on both paths in CI).
 */
import dgram from "node:dgram";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import packet from "dns-packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DnsServer, startDnsServer } from "../../src/dns/index.js";
import { batchAddon } from "../../src/dns/udp-batch.js";
import { decode, HOST, query } from "./client.js";
import { BIG_TXT, sampleView } from "./fixtures.js";

const batching = batchAddon() !== undefined;
const OTHER = "127.0.0.2";

/** Sends every query from one socket at once (bound to `from`), collects replies until `expect` came. */
function burst(port: number, msgs: Buffer[], expect: number, from = HOST): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket("udp4");
    const got: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`got ${got.length} of ${expect} replies`));
    }, 10_000);
    sock.on("message", (m) => {
      got.push(m);
      if (got.length < expect) return;
      clearTimeout(timer);
      sock.close();
      resolve(got);
    });
    sock.bind(0, from, () => {
      for (const m of msgs) sock.send(m, port, HOST);
    });
  });
}

const NAMES: [string, string][] = [
  ["www.example.com", "A"],
  ["WwW.ExAmPlE.cOm", "A"],
  ["www.example.com", "AAAA"],
  ["nope.example.com", "A"],
  ["txt.example.com", "TXT"],
  ["big.example.com", "TXT"],
];

function check(reply: Buffer, sent: Map<number, [string, string]>): void {
  const r = decode(reply);
  const asked = sent.get(r.id!);
  expect(asked, `a reply with an ID nobody asked: ${r.id}`).toBeDefined();
  sent.delete(r.id!);
  const [name, type] = asked!;
  expect(r.questions?.[0]?.name).toBe(name);
  expect(r.questions?.[0]?.type).toBe(type);
  const tc = (r.flags! & packet.TRUNCATED_RESPONSE) !== 0;
  if (name === "big.example.com") {
    expect(tc).toBe(true);
    expect(reply.length).toBeLessThanOrEqual(512);
  } else expect(tc).toBe(false);
  if (name.toLowerCase() === "www.example.com" && type === "A")
    expect(r.answers?.map((a) => a.data).sort()).toEqual(["10.0.0.1", "10.0.0.2"]);
  if (name === "nope.example.com") expect(r.rcode).toBe("NXDOMAIN");
}

function queries(count: number, firstId: number): { msgs: Buffer[]; sent: Map<number, [string, string]> } {
  const sent = new Map<number, [string, string]>();
  const msgs: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const q = NAMES[i % NAMES.length]!;
    sent.set(firstId + i, q);
    msgs.push(query(q[0], q[1], { id: firstId + i }));
  }
  return { msgs, sent };
}

describe("DNS over UDP in batches", () => {
  let server: DnsServer;
  beforeAll(async () => {
    const view = sampleView();
    server = await startDnsServer({
      host: HOST,
      port: 0,
      view: () => view,
      admit: (address) => address !== OTHER,
    });
  });
  afterAll(() => server.close());

  it("answers a burst of 600 queries, each with its own ID, question and truncation", async () => {
    expect(BIG_TXT.join("").length).toBeGreaterThan(512);
    const before = server.stats();
    // In waves of 150 (more than a batch's 64 slots): a socket's receive buffer holds ~250
    // small datagrams, and this process sends a wave before its server reads any.
    for (let wave = 0; wave < 4; wave++) {
      const { msgs, sent } = queries(150, 1000 + wave * 150);
      const replies = await burst(server.port, msgs, msgs.length);
      for (const r of replies) check(r, sent);
      expect(sent.size).toBe(0);
    }
    const after = server.stats();
    expect(after.udpQueries - before.udpQueries).toBe(600);
    expect(after.truncated - before.truncated).toBe(100);
    if (batching) {
      expect(after.udpBatched - before.udpBatched).toBe(600);
      expect(after.udpBatches).toBeGreaterThan(before.udpBatches);
    } else expect(after.udpBatched).toBe(0);
  });

  it("answers nobody admit() refuses, and keeps answering the others", async () => {
    const before = server.stats();
    const refused = dgram.createSocket("udp4");
    let refusedReplies = 0;
    refused.on("message", () => refusedReplies++);
    await new Promise<void>((resolve) => refused.bind(0, OTHER, resolve));
    try {
      const { msgs } = queries(50, 5000);
      await Promise.all(
        msgs.map((m) => new Promise((resolve) => refused.send(m, server.port, HOST, resolve))),
      );
      // Sent after the refused ones, to the same socket: by the time these are answered, the
      // refused queries were read (a socket's queue is in order) and dropped.
      const { msgs: ok, sent } = queries(20, 6000);
      const replies = await burst(server.port, ok, ok.length);
      for (const r of replies) check(r, sent);
      expect(refusedReplies).toBe(0);
      const after = server.stats();
      expect(after.udpQueries - before.udpQueries).toBe(20);
      if (batching) expect(after.udpBatched - before.udpBatched).toBe(70);
    } finally {
      refused.close();
    }
  });
});

describe("DNS over UDP in batches, answers that come later", () => {
  let server: DnsServer;
  beforeAll(async () => {
    const view = sampleView();
    // A view that comes from a Promise: every answer is sent on its own, after its batch.
    server = await startDnsServer({ host: HOST, port: 0, view: async () => view });
  });
  afterAll(() => server.close());

  it("sends each to the client that asked", async () => {
    const { msgs, sent } = queries(200, 100);
    const replies = await burst(server.port, msgs, msgs.length);
    for (const r of replies) check(r, sent);
    expect(sent.size).toBe(0);
    const s = server.stats();
    expect(s.udpQueries).toBe(200);
    if (batching) expect(s.udpBatched).toBe(200);
  });
});

describe("DNS over UDP in batches, closed and started again", () => {
  it("frees the port when close() resolves: a new server binds it at once and answers", async () => {
    const view = sampleView();
    const first = await startDnsServer({ host: HOST, port: 0, view: () => view });
    await first.close();
    const again = await startDnsServer({ host: HOST, port: first.port, view: () => view });
    try {
      const { msgs, sent } = queries(10, 9000);
      for (const r of await burst(again.port, msgs, msgs.length)) check(r, sent);
      expect(sent.size).toBe(0);
    } finally {
      await again.close();
    }
  });
});

describe("the addon", () => {
  it("is used whenever it is built, unless PRIVLINK_DNS_BATCH=0 turns it off", () => {
    const built = existsSync(fileURLToPath(new URL("../../build/Release/dns_udp.node", import.meta.url)));
    expect(batching).toBe(built && process.env.PRIVLINK_DNS_BATCH !== "0");
  });
});
