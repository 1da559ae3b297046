/**
 * A forwarded answer kept for its TTL and prepared as bytes counts its TTLs down in those bytes
 * (prepared.ts's TtlClock), instead of going stale every second and being looked up again: the
 * clock is injected, so the seconds pass without waiting.
 */
import packet from "dns-packet";
import { describe, expect, it } from "vitest";
import { PreparedAnswers, questionHash, Scan, scanQuery, ttlClock } from "../../src/dns/prepared.js";
import { claimAgeing, TtlCache } from "../../src/dns/ttl-cache.js";
import { type Answer, View } from "../../src/dns/view.js";
import { parseQuery, RCODE, writeResponse } from "../../src/dns/wire.js";

const NAME = "h-1.fwd.test";
const FORWARDED: Answer = {
  rcode: "NOERROR",
  answers: [{ name: NAME, type: "A", ttl: 10, data: "192.0.2.53" }],
  authority: [],
  authoritative: false,
};

function world() {
  let now = 1_000_000;
  const clock = { advance: (ms: number) => (now += ms) };
  const cache = new TtlCache(100, () => now);
  const query = packet.encode({
    type: "query",
    id: 7,
    flags: packet.RECURSION_DESIRED,
    questions: [{ name: NAME, type: "A" }],
  });
  const parsed = parseQuery(query);
  if (parsed.kind !== "ok") throw new Error("the query did not parse");
  const respond = (a: Answer) =>
    Buffer.from(
      writeResponse({
        query: parsed.query,
        rcode: RCODE[a.rcode],
        authoritative: a.authoritative,
        answers: a.answers,
        authority: a.authority,
        limit: 512,
        advertise: 1232,
      }).buf,
    );
  const scan = new Scan();
  if (!scanQuery(query, false, 1232, scan)) throw new Error("not a plain query");
  return { clock, cache, query, scan, respond };
}

const ttlOf = (bytes: Buffer) => (packet.decode(bytes).answers![0] as { ttl: number }).ttl;

describe("forwarded answers prepared with a TTL clock", () => {
  it("count their TTLs down in the prepared bytes and go stale only when they expire", () => {
    const { clock, cache, query, scan, respond } = world();
    const a = cache.put(`A ${NAME}`, FORWARDED);
    const bytes = respond(a);
    const ttl = claimAgeing(a, (ageing) => ttlClock(bytes, ageing));
    expect(ttl?.offsets.length).toBe(1);
    const view = new View([]);
    const prepared = new PreparedAnswers(100);
    const question = query.subarray(12, scan.qEnd);
    prepared.store(view, question, questionHash(query, 12, scan.qEnd), {
      sig: scan.sig,
      bytes,
      rcode: 0,
      truncated: false,
      fresh: a.fresh,
      ttl,
    });
    const find = () => prepared.find(view, query, 12, scan.qEnd, scan.hash, scan.sig);
    expect(ttlOf(find()!.bytes)).toBe(10);
    clock.advance(3500);
    // Claimed: still fresh past the second, its TTL three seconds lower.
    expect(ttlOf(find()!.bytes)).toBe(7);
    clock.advance(6000);
    expect(ttlOf(find()!.bytes)).toBe(1);
    clock.advance(500);
    expect(find()).toBeUndefined();
  });

  it("leave an answer built from a kept one (a CNAME chain in front) stale every second", () => {
    const { clock, cache, respond } = world();
    const a = cache.put(`A ${NAME}`, FORWARDED);
    const chained: Answer = {
      ...a,
      answers: [{ name: "alias.corp.internal", type: "CNAME", ttl: 300, data: NAME }, ...a.answers],
    };
    expect(claimAgeing(chained, (ageing) => ttlClock(respond(chained), ageing))).toBeUndefined();
    clock.advance(1000);
    expect(a.fresh?.()).toBe(false);
  });

  it("are claimed once: a second claim of the same read gets nothing", () => {
    const { cache, respond } = world();
    const a = cache.put(`A ${NAME}`, FORWARDED);
    expect(claimAgeing(a, (ageing) => ttlClock(respond(a), ageing))).toBeDefined();
    expect(claimAgeing(a, (ageing) => ttlClock(respond(a), ageing))).toBeUndefined();
  });
});
