/**
 * Forwarded answers kept for their TTL, as a recursive resolver keeps them: read back with every
 * TTL counted down by the whole seconds since the answer was received, and gone once the least
 * TTL has run out (for a negative answer: its SOA's TTL, capped by the SOA minimum, RFC 2308).
 *
 * An answer read from here carries a {@link Freshness} that ends at the next whole second (or the
 * expiry): a copy of it is then made again from here, so the TTL a client sees keeps counting
 * down without a query per second going upstream. A prepared copy that counts its TTLs down in
 * its own bytes instead (prepared.ts) {@link claimAgeing claims} the answer: its freshness then
 * ends at the expiry only, and the answer is no longer made again every second for every name.
 * Failures are never kept.
 */
import type { Answer, Freshness, RR } from "./view.js";

/** How the TTLs of an answer read from the cache go on counting down, for whoever claims it. */
export interface Ageing {
  /** The instant (ms, the cache's clock) at which the answer's TTLs are exactly as written. */
  readonly at: number;
  readonly now: () => number;
}

interface Claimable extends Ageing {
  readonly authority: RR[];
  claimed: boolean;
}

/** Answers read from a cache, by their own `answers` array (a copy that rebuilds it is not one). */
const reads = new WeakMap<RR[], Claimable>();

/**
 * For an answer exactly as a TtlCache gave it (its answer and authority records, no more, no
 * fewer): `take`'s result for its ageing, and when `take` gives one, the answer is claimed — it
 * stays fresh until it expires, and the caller counts its TTLs down itself. Undefined for any
 * other answer (its freshness still ends every second).
 */
export function claimAgeing<T>(a: Answer, take: (ageing: Ageing) => T | undefined): T | undefined {
  const r = reads.get(a.answers);
  if (!r || r.claimed || r.authority !== a.authority) return undefined;
  const taken = take({ at: r.at, now: r.now });
  if (taken !== undefined) r.claimed = true;
  return taken;
}

interface Kept {
  answer: Answer;
  /** When it was received and when it runs out (ms, the injected clock). */
  at: number;
  until: number;
}

/** How long an answer may be kept, in seconds: 0 when it may not. */
export function keepSeconds(a: Answer): number {
  if (a.cacheable === false || (a.rcode !== "NOERROR" && a.rcode !== "NXDOMAIN")) return 0;
  if (a.answers.length > 0) return Math.min(...a.answers.map((r) => r.ttl));
  const soa = a.authority.find((r) => r.type === "SOA");
  if (!soa) return 0;
  const minimum = Number((soa.data as { minimum?: number })?.minimum);
  return Math.min(soa.ttl, Number.isFinite(minimum) ? minimum : soa.ttl);
}

/** A new array on every read, even unchanged: it names this read for {@link claimAgeing}. */
function countDown(rrs: RR[], by: number): RR[] {
  return by === 0 ? rrs.slice() : rrs.map((r) => ({ ...r, ttl: Math.max(0, r.ttl - by) }));
}

export class TtlCache {
  private readonly kept = new Map<string, Kept>();

  constructor(
    private readonly max = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The kept answer, TTLs counted down; undefined when there is none or it ran out. */
  get(key: string): Answer | undefined {
    const k = this.kept.get(key);
    if (!k) return undefined;
    const t = this.now();
    if (t >= k.until) {
      this.kept.delete(key);
      return undefined;
    }
    const elapsed = Math.floor((t - k.at) / 1000);
    const nextSecond = Math.min(k.at + (elapsed + 1) * 1000, k.until);
    const answers = countDown(k.answer.answers, elapsed);
    const authority = countDown(k.answer.authority, elapsed);
    const read: Claimable = { at: k.at + elapsed * 1000, now: this.now, authority, claimed: false };
    reads.set(answers, read);
    const until = k.until;
    const fresh: Freshness = () => this.now() < (read.claimed ? until : nextSecond);
    return { ...k.answer, answers, authority, fresh };
  }

  /** Keeps the answer when its TTLs allow; returns it as {@link get} would (or as it is, uncacheable). */
  put(key: string, answer: Answer): Answer {
    const seconds = keepSeconds(answer);
    if (seconds <= 0) return { ...answer, cacheable: false };
    if (this.kept.size >= this.max) {
      const oldest = this.kept.keys().next().value;
      if (oldest !== undefined) this.kept.delete(oldest);
    }
    const at = this.now();
    this.kept.set(key, { answer, at, until: at + seconds * 1000 });
    return this.get(key) ?? { ...answer, cacheable: false };
  }

  /** The kept answer, or `fetch`'s (kept when it may be). */
  async through(key: string, fetch: () => Promise<Answer | undefined>): Promise<Answer | undefined> {
    const hit = this.get(key);
    if (hit) return hit;
    const got = await fetch();
    return got && this.put(key, got);
  }
}
