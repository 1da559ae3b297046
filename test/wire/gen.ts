import type { Member, Shape, StructShape, WireProtocol } from "../../src/api/protocols/index.js";

/**
 * Random but valid values for a compiled shape: the input a user would hand a command, or the
 * output a handler would return. Values stay inside what each wire can carry without loss
 * (documented per rule), so a round trip through the SDK must give them back unchanged.
 */

export type Rng = () => number;

export function rngOf(seed: number): Rng {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GenOptions {
  readonly protocol: WireProtocol;
  readonly direction: "input" | "output";
  readonly maxDepth: number;
}

const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
// Characters that stress URL, form and XML escaping. Whitespace-only values are never generated:
// XML parsers (the SDK's included) fold them to "".
const SPICE = [
  " ",
  "-",
  "_",
  ".",
  ":",
  "/",
  "+",
  "=",
  "&",
  "<",
  ">",
  '"',
  "'",
  "%",
  "?",
  "#",
  "é",
  "☃",
  "😀",
  "\n",
  "\t",
  "]]>",
];

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[Math.floor(rng() * xs.length)]!;
}

function int(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

function genString(rng: Rng, asciiOnly: boolean): string {
  let s = pick(rng, [...ALNUM]);
  const n = int(rng, 0, 10);
  for (let i = 0; i < n; i++) s += rng() < 0.7 || asciiOnly ? pick(rng, [...ALNUM]) : pick(rng, SPICE);
  return s;
}

function genDate(rng: Rng, wholeSeconds: boolean): Date {
  const ms = int(rng, 0, 2_000_000_000) * 1000 + (wholeSeconds ? 0 : int(rng, 0, 999));
  return new Date(ms);
}

function genBytes(rng: Rng): Uint8Array {
  return Uint8Array.from({ length: int(rng, 0, 9) }, () => int(rng, 0, 255));
}

/** Query inputs drop empty lists, maps and structures (the SDK writes nothing for them). */
function mustBeNonEmpty(opts: GenOptions): boolean {
  return opts.direction === "input" && (opts.protocol === "ec2" || opts.protocol === "awsQuery");
}

/** A value the wire would silently drop: undefined, or an empty collection on a query input. */
function lost(v: unknown, opts: GenOptions): boolean {
  if (v === undefined) return true;
  if (!mustBeNonEmpty(opts) || v === null || typeof v !== "object") return false;
  if (v instanceof Date || v instanceof Uint8Array) return false;
  return Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0;
}

function dropEmpty<T extends object>(v: T, opts: GenOptions): T | undefined {
  return lost(v, opts) ? undefined : v;
}

function isHeader(m: Member): boolean {
  return m.traits.httpHeader !== undefined || m.traits.httpPrefixHeaders !== undefined;
}

function isStreaming(m: Member): boolean {
  return !!m.traits.streaming || ("streaming" in m.shape && m.shape.streaming);
}

interface Ctx {
  readonly rng: Rng;
  readonly opts: GenOptions;
  /** Set while generating a header-bound value: ASCII strings, whole-second timestamps. */
  readonly header: boolean;
  /** Set for a query-string list: an empty one is not sent at all. */
  readonly query: boolean;
}

function genValue(shape: Shape, ctx: Ctx, depth: number): unknown {
  const { rng, opts } = ctx;
  switch (shape.kind) {
    case "struct":
      return genStruct(shape, ctx, depth);
    case "list": {
      const min = mustBeNonEmpty(opts) || ctx.header || ctx.query ? 1 : 0;
      const items = Array.from({ length: int(rng, min, 3) }, () =>
        genValue(shape.member.shape, ctx, depth + 1),
      );
      return dropEmpty(
        items.filter((x) => !lost(x, opts)),
        opts,
      );
    }
    case "map": {
      const min = mustBeNonEmpty(opts) ? 1 : 0;
      const out: Record<string, unknown> = {};
      for (let i = int(rng, min, 3); i > 0; i--) {
        const v = genValue(shape.value.shape, ctx, depth + 1);
        if (!lost(v, opts)) out[genString(rng, false)] = v;
      }
      return dropEmpty(out, opts);
    }
    case "string":
      return genString(rng, ctx.header);
    case "number":
      return rng() < 0.85 ? int(rng, -1000, 100_000) : int(rng, -1000, 1000) + 0.25;
    case "boolean":
      return rng() < 0.5;
    case "timestamp":
      return genDate(rng, ctx.header);
    case "blob":
      return genBytes(rng);
    case "bigInteger":
      return BigInt(int(rng, -1000, 1000));
    default:
      return genString(rng, true);
  }
}

function generatable(m: Member, depth: number, opts: GenOptions): boolean {
  if (isStreaming(m)) return false;
  const nested = m.shape.kind === "struct" || m.shape.kind === "list" || m.shape.kind === "map";
  if (nested && depth >= opts.maxDepth) return false;
  // A structure with no members cannot be non-empty, so query inputs cannot carry it.
  if (m.shape.kind === "struct" && m.shape.members.length === 0 && mustBeNonEmpty(opts)) return false;
  return true;
}

export function genStruct(shape: StructShape, ctx: Ctx, depth: number): Record<string, unknown> {
  const { rng, opts } = ctx;
  const candidates = shape.members.filter((m) => generatable(m, depth, opts));
  const out: Record<string, unknown> = {};
  if (shape.union) {
    if (candidates.length === 0) return out;
    const m = pick(rng, candidates);
    out[m.name] = genMember(m, ctx, depth);
    return out;
  }
  for (const m of candidates) {
    const always = depth === 0 && (m.traits.idempotencyToken || m.traits.httpLabel);
    if (!always && rng() >= 0.6) continue;
    const v = genMember(m, ctx, depth);
    if (!lost(v, opts)) out[m.name] = v;
  }
  // A nested query structure must carry something; take the first member that can.
  for (
    let i = 0;
    depth > 0 && Object.keys(out).length === 0 && i < candidates.length && mustBeNonEmpty(opts);
    i++
  ) {
    const v = genMember(candidates[i]!, ctx, depth);
    if (!lost(v, opts)) out[candidates[i]!.name] = v;
  }
  return out;
}

function genMember(m: Member, ctx: Ctx, depth: number): unknown {
  const header = ctx.header || isHeader(m);
  const query = ctx.query || m.traits.httpQuery !== undefined;
  return genValue(m.shape, { ...ctx, header, query }, depth + 1);
}

/** A random value for an operation's input or output structure. */
export function generate(shape: StructShape, seed: number, opts: GenOptions): Record<string, unknown> {
  return genStruct(shape, { rng: rngOf(seed), opts, header: false, query: false }, 0);
}
