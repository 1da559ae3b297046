import { randomBytes } from "node:crypto";

/** The clock and the source of randomness, injected so that tests are exact. */
export interface Runtime {
  now(): Date;
  /** `n` random lowercase hex digits. */
  hex(n: number): string;
  /** `n` random lowercase alphanumerics (DNS suffixes, verification names). */
  alnum(n: number): string;
}

const ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";

/**
 * Random bytes drawn from a pool refilled 4 KiB at a time: one randomBytes call per ID cost more
 * CPU than the rest of making the ID (every Create makes several). Each byte is handed out once.
 */
let pool = Buffer.alloc(0);
let taken = 0;

function random(n: number): Buffer {
  if (taken + n > pool.length) {
    pool = randomBytes(Math.max(4096, n));
    taken = 0;
  }
  const out = pool.subarray(taken, taken + n);
  taken += n;
  return out;
}

export const systemRuntime: Runtime = {
  now: () => new Date(),
  hex: (n) =>
    random(Math.ceil(n / 2))
      .toString("hex")
      .slice(0, n),
  alnum: (n) => Array.from(random(n), (b) => ALNUM[b % ALNUM.length]).join(""),
};

/**
 * A runtime's clock in milliseconds, for work done per connection (flow logs): the system clock
 * read with no `Date` made (four reads a connection were ~400 B of garbage, issue 12), any other
 * clock through its own `now`, so the two never disagree (a runtime spread from another with
 * `now` replaced is read through the new `now`).
 */
export function clockMs(rt: Runtime): () => number {
  if (rt.now === systemRuntime.now) return Date.now;
  return () => rt.now().getTime();
}

/** A deterministic runtime for tests: a fixed clock that can be advanced and a seeded PRNG. */
export function fixedRuntime(
  start = new Date("2026-01-01T00:00:00Z"),
  seed = 1,
): Runtime & { advance(ms: number): void } {
  let t = start.getTime();
  let s = seed >>> 0;
  const next = () => {
    // mulberry32: small, good enough for IDs in tests
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return {
    now: () => new Date(t),
    advance: (ms) => {
      t += ms;
    },
    hex: (n) => Array.from({ length: n }, () => Math.floor(next() * 16).toString(16)).join(""),
    alnum: (n) => Array.from({ length: n }, () => ALNUM[Math.floor(next() * ALNUM.length)]).join(""),
  };
}
