/**
 * A *view*: the set of zones one resolver answers from (a VPC's private hosted zones and
 * endpoint zones, or the public data), and the lookup rules over them.
 *
 * Zone selection. A name is answered by the zone whose origin is the longest suffix of the
 * name (closest enclosing zone). Zones are given in priority order; when several share that
 * origin the FIRST one listed is authoritative and the others are never consulted for names
 * under it (a private hosted zone shadows the public zone of the same name entirely, as Route 53
 * Resolver does: a name missing from the private zone is NXDOMAIN, not looked up publicly).
 * Nested origins are independent: `api.example.com` answers `x.api.example.com` even when
 * `example.com` is listed first.
 *
 * Names no zone covers go to the `fallback` (a forwarder) when one is given and it answers;
 * otherwise the `outside` policy applies: REFUSED (default) or NXDOMAIN.
 *
 * Within a zone: exact match, else RFC 4592 wildcard synthesis from `*.<closest encloser>`;
 * a name that exists only because names exist below it (empty non-terminal) is NODATA.
 * Negative answers (NXDOMAIN and NODATA) carry the zone's SOA in the authority section with
 * TTL min(SOA TTL, SOA minimum) (RFC 2308). CNAMEs are chased through the whole view (across
 * zones) and Route 53 alias records are resolved through it at query time, sharing one hop
 * budget; a loop or an over-long chain is SERVFAIL. NS records below the apex are plain data
 * (no delegation): every zone here is answered locally.
 */
import { createRequire } from "node:module";
import { isIPv4, isIPv6 } from "node:net";
import packet from "dns-packet";
import { assertValidName, canonicalName, childOf, isSubdomain, parentOf } from "./name.js";

export type RRType = "A" | "AAAA" | "CNAME" | "TXT" | "MX" | "NS" | "SOA" | "SRV" | "PTR" | "CAA";

/** One resource record; `data` has dns-packet's shape for its type (TXT may be a string, a Buffer or a list). */
export type RR = { name: string; type: RRType; ttl: number; data: any };

export type SoaFields = {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
  /** TTL of the SOA record itself. */
  ttl: number;
};

/** A Route 53 alias: answers `type` queries at `name` with `target`'s records, resolved through the view. */
export type Alias = { name: string; type: "A" | "AAAA"; target: string };

export interface Zone {
  origin: string;
  /** Missing fields take Route 53's defaults ({@link route53Soa}); an SOA in `records` at the apex wins. */
  soa?: Partial<SoaFields>;
  /** May include wildcard owners (`*.x`). */
  records: RR[];
  aliases?: Alias[];
}

export type Rcode = "NOERROR" | "NXDOMAIN" | "SERVFAIL" | "REFUSED";

export type Answer = {
  rcode: Rcode;
  answers: RR[];
  authority: RR[];
  authoritative: boolean;
  /** False: a prepared copy must never be kept (a failure, or a fallback answer with no {@link fresh}). */
  cacheable?: boolean;
  /**
   * For an answer that depends on more than the view's own zones (a fallback's answer): a prepared
   * copy may be served while this returns true. A fallback answer without one is never kept.
   */
  fresh?: Freshness;
};

/** True while a prepared answer is still what a fresh lookup would give. */
export type Freshness = () => boolean;

/** Freshness of an answer valid as long as the data it came from: for answers from fixed tables. */
export const ALWAYS_FRESH: Freshness = () => true;

/** Both guards must hold. */
export function bothFresh(a: Freshness | undefined, b: Freshness): Freshness {
  return a === undefined || a === ALWAYS_FRESH ? b : b === ALWAYS_FRESH ? a : () => a() && b();
}

/** The answer, kept only while `guard` (and its own freshness) holds; an uncacheable one stays so. */
export function guarded(a: Answer, guard: Freshness): Answer {
  if (a.cacheable === false) return a;
  return { ...a, fresh: bothFresh(a.fresh, guard) };
}

/** Forwarder for names outside every zone; undefined means "no answer" (the `outside` policy applies). */
export type Fallback = (name: string, type: string) => Promise<Answer | undefined>;

export type ViewOptions = {
  fallback?: Fallback;
  /** Answer for names outside every zone when there is no fallback answer. Default REFUSED. */
  outside?: "REFUSED" | "NXDOMAIN";
  /** CNAME + alias hops allowed while answering one query. Default 16. */
  maxChain?: number;
};

/** TTL of the records privlink creates for endpoint DNS names (AWS uses 60). */
export const ENDPOINT_RECORD_TTL = 60;

/** The SOA Route 53 gives a private hosted zone. */
export function route53Soa(overrides: Partial<SoaFields> = {}): SoaFields {
  return {
    mname: "ns-1536.awsdns-00.co.uk",
    rname: "awsdns-hostmaster.amazon.com",
    serial: 1,
    refresh: 7200,
    retry: 900,
    expire: 1209600,
    minimum: 86400,
    ttl: 900,
    ...overrides,
  };
}

const RR_WIRE = new WeakMap<RR, Buffer>();

/**
 * The record's wire form without its owner name: TYPE, CLASS IN, TTL, RDLENGTH, RDATA.
 * Encoded once by dns-packet and memoised on the record object.
 */
export function rrWire(rr: RR): Buffer {
  let w = RR_WIRE.get(rr);
  if (w) return w;
  w = aWire(rr);
  if (!w) {
    // Same content, same bytes: a forwarded answer re-made each second (its TTL counted down)
    // has new record objects but mostly known content.
    // (A map of its own: WIRE_BY_CONTENT also vouches that content passed the view's checks.)
    const key = contentKey(rr);
    w = ENCODED_BY_CONTENT.get(key);
    if (!w) {
      const full = packet.encode({
        type: "response",
        answers: [{ ...rr, name: ".", class: "IN" } as packet.Answer],
      });
      w = Buffer.from(full.subarray(12 + 1));
      if (ENCODED_BY_CONTENT.size >= MAX_WIRE_BY_CONTENT) ENCODED_BY_CONTENT.clear();
      ENCODED_BY_CONTENT.set(key, w);
    }
  }
  RR_WIRE.set(rr, w);
  return w;
}

/**
 * An A record's wire form written directly (every new endpoint ENI brings a new address, and
 * dns-packet encodes a whole response for it): TYPE 1, CLASS IN, TTL, RDLENGTH 4, the four
 * octets. Undefined for anything else, or an address or TTL dns-packet would judge itself.
 */
function aWire(rr: RR): Buffer | undefined {
  if (rr.type !== "A" || typeof rr.data !== "string" || !Number.isInteger(rr.ttl)) return undefined;
  if (rr.ttl < 0 || rr.ttl > 0x7fffffff) return undefined;
  const parts = rr.data.split(".");
  if (parts.length !== 4) return undefined;
  const w = Buffer.alloc(14);
  w.writeUInt16BE(1, 0);
  w.writeUInt16BE(1, 2);
  w.writeUInt32BE(rr.ttl, 4);
  w.writeUInt16BE(4, 8);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    const n = Number(p);
    if (!/^\d{1,3}$/.test(p) || n > 255) return undefined;
    w[10 + i] = n;
  }
  return w;
}

/** The same record under another owner name (wildcard synthesis, aliases), sharing its wire form. */
function reowned(rr: RR, owner: string): RR {
  if (rr.name === owner) return rr;
  const copy: RR = { ...rr, name: owner };
  const w = RR_WIRE.get(rr);
  if (w) RR_WIRE.set(copy, w);
  return copy;
}

const require = createRequire(import.meta.url);
// dns-packet keeps its type table in a module its typings do not describe.
const packetTypes: {
  toString(n: number): string;
  toType(s: string): number;
} = require("dns-packet/types.js");

/** Mnemonic of a numeric type, or TYPEn (RFC 3597) when dns-packet has none. */
export function typeName(n: number): string {
  const s = packetTypes.toString(n);
  return s.startsWith("UNKNOWN_") ? `TYPE${n}` : s;
}

/** Numeric value of a type mnemonic or TYPEn; undefined when unknown. */
export function typeNumber(type: string): number | undefined {
  const t = normalizeType(type);
  const m = /^TYPE(\d+)$/.exec(t);
  if (m) return Number(m[1]);
  const n = packetTypes.toType(t);
  return n === 0 ? undefined : n;
}

/** RFC 3597 and dns-packet spellings of a type, folded to one: "a" → "A", "TYPE1" → "A", "UNKNOWN_99" → "SPF". */
export function normalizeType(type: string): string {
  const t = type.toUpperCase();
  const m = /^(?:TYPE|UNKNOWN_)(\d+)$/.exec(t);
  if (!m) return t === "*" ? "ANY" : t;
  const n = Number(m[1]);
  return n <= 0xffff ? typeName(n) : t;
}

type Node = { rrsets: Map<string, RR[]>; aliases: Alias[] };

/**
 * Records already checked and owned, by the record object given: a view rebuilt after a commit
 * (ZoneData hands every view the same record objects for an endpoint until the endpoint
 * changes) re-adds mostly known records, and one record object is held by several zones (an
 * endpoint's public name by its shard, its VPC's view and the views that copy it). The checked
 * record does not depend on the zone; whether it belongs to the zone does, and is asked by
 * each zone. The memo vouches only while the given record still holds what was checked (name,
 * type, TTL, data by identity).
 */
const OWNED = new WeakMap<RR, { name: string; type: RRType; ttl: number; data: unknown; rr: RR }>();

function owned(r: RR): RR | undefined {
  const m = OWNED.get(r);
  if (m === undefined) return undefined;
  return m.name === r.name && m.type === r.type && m.ttl === r.ttl && m.data === r.data ? m.rr : undefined;
}

/**
 * The Route 53 default SOA's data, TTLs and wire forms, checked once: every zone without an SOA
 * of its own gets it (a VPC's view has a zone per copied endpoint name, and each create brings
 * new ones). The owner is not in the wire form; the data is frozen and shared. A constant:
 * nothing here can go stale.
 */
let defaultSoa:
  | { data: packet.SoaData; ttl: number; negativeTtl: number; wire: Buffer; negative: Buffer }
  | undefined;

/** The default SOA at `origin` and its negative-answer copy, their wire forms already known. */
function defaultSoaAt(origin: string): { soa: RR; negative: RR } {
  if (defaultSoa === undefined) {
    const fields = route53Soa();
    const data = Object.freeze(soaData(fields));
    const probe = checked({ name: "", type: "SOA", ttl: fields.ttl, data }, "the default SOA");
    const negativeTtl = Math.min(fields.ttl, fields.minimum);
    const negative = rrWire({ ...probe, ttl: negativeTtl });
    defaultSoa = { data, ttl: fields.ttl, negativeTtl, wire: rrWire(probe), negative };
  }
  const soa: RR = { name: origin, type: "SOA", ttl: defaultSoa.ttl, data: defaultSoa.data };
  const negative: RR = { ...soa, ttl: defaultSoa.negativeTtl };
  RR_WIRE.set(soa, defaultSoa.wire);
  RR_WIRE.set(negative, defaultSoa.negative);
  return { soa, negative };
}

class ZoneIndex {
  readonly origin: string;
  /** SOA for negative answers: TTL min(SOA TTL, minimum). */
  readonly negativeSoa: RR;
  readonly nodes = new Map<string, Node>();
  /** Every owner name and every empty non-terminal between an owner and the origin. */
  readonly exists = new Set<string>();
  /**
   * Owner names at or below each name of {@link exists} (the apex aside), made when
   * {@link setOwners} first removes a name: what tells an empty non-terminal to go when the
   * last name below it goes.
   */
  private below?: Map<string, number>;

  constructor(zone: Zone) {
    this.origin = canonicalName(zone.origin);
    assertValidName(this.origin, "zone origin");
    const apexSoa = zone.records.find((r) => r.type === "SOA" && canonicalName(r.name) === this.origin);
    let soaRR: RR;
    if (apexSoa === undefined && zone.soa === undefined) {
      const d = defaultSoaAt(this.origin);
      soaRR = d.soa;
      this.negativeSoa = d.negative;
    } else {
      const soa = apexSoa ? soaFromRecord(apexSoa) : route53Soa(zone.soa);
      soaRR = checked({ name: this.origin, type: "SOA", ttl: soa.ttl, data: soaData(soa) }, this.origin);
      this.negativeSoa = { ...soaRR, ttl: Math.min(soa.ttl, soa.minimum) };
    }
    this.exists.add(this.origin);
    this.node(this.origin).rrsets.set("SOA", [soaRR]);
    for (const r of zone.records) if (r !== apexSoa) this.addRecord(r);
    for (const a of zone.aliases ?? []) this.addAlias(a);
    for (const [name, node] of this.nodes) checkCname(name, node);
  }

  private node(name: string): Node {
    let n = this.nodes.get(name);
    if (!n) {
      n = { rrsets: new Map(), aliases: [] };
      this.nodes.set(name, n);
      for (let p: string | undefined = name; p !== undefined && !this.exists.has(p); p = parentOf(p))
        this.exists.add(p);
    }
    return n;
  }

  private owner(name: string, what: string): string {
    const n = canonicalName(name);
    assertValidName(n, what);
    return this.inZone(name, n, what);
  }

  /** `canonical` (of `name`, already found legal) when it is in this zone; else throws. */
  private inZone(name: string, canonical: string, what: string): string {
    if (!isSubdomain(canonical, this.origin))
      throw new Error(`${what}: "${name}" is not in zone "${this.origin}"`);
    return canonical;
  }

  /** The checked record this zone holds for `r`. */
  private ownRecord(r: RR): RR {
    const known = owned(r);
    // Checked before (its name legal, its data too): only whether it belongs here is left.
    const name = known
      ? this.inZone(r.name, known.name, `${r.type} record`)
      : this.owner(r.name, `${r.type} record`);
    if (r.type === "SOA") throw new Error(`SOA record "${r.name}" is not at the apex of "${this.origin}"`);
    if (known) return known;
    const rr = checked({ name, type: r.type, ttl: r.ttl, data: normalizeData(r.type, r.data) }, name);
    OWNED.set(r, { name: r.name, type: r.type, ttl: r.ttl, data: r.data, rr });
    return rr;
  }

  private addRecord(r: RR): void {
    const rr = this.ownRecord(r);
    const set = this.node(rr.name).rrsets;
    const list = set.get(rr.type);
    if (list) list.push(rr);
    else set.set(rr.type, [rr]);
  }

  private addAlias(a: Alias): void {
    const name = this.owner(a.name, `alias ${a.type}`);
    if (a.type !== "A" && a.type !== "AAAA") throw new Error(`alias "${a.name}": type must be A or AAAA`);
    const target = canonicalName(a.target);
    assertValidName(target, `alias "${a.name}" target`);
    this.node(name).aliases.push({ name, type: a.type, target });
  }

  /** True when the zone holds nothing but its apex SOA. */
  get empty(): boolean {
    return this.nodes.size === 1 && this.exists.size === 1;
  }

  /**
   * Replaces every record at each name of `changes` (never the apex) with the records given
   * (none: the name goes, and so do the empty non-terminals only it held up). Every record is
   * checked before anything changes, so a bad one throws with the zone as it was. The zone is
   * then exactly what a zone built from scratch with the same records would be, as long as each
   * name's records come in the order the full list would hold them.
   */
  setOwners(changes: ReadonlyMap<string, readonly RR[]>): void {
    const next: [string, Node | undefined][] = [];
    for (const [name, records] of changes) {
      const n = this.owner(name, "record");
      if (n === this.origin) throw new Error(`"${name}" is the apex of "${this.origin}": not patched`);
      if (records.length === 0) {
        next.push([n, undefined]);
        continue;
      }
      const node: Node = { rrsets: new Map(), aliases: [] };
      for (const r of records) {
        if (canonicalName(r.name) !== n) throw new Error(`record "${r.name}" is not at "${name}"`);
        const rr = this.ownRecord(r);
        const list = node.rrsets.get(rr.type);
        if (list) list.push(rr);
        else node.rrsets.set(rr.type, [rr]);
      }
      checkCname(n, node);
      next.push([n, node]);
    }
    for (const [n, node] of next) {
      const had = this.nodes.has(n);
      if (node) {
        this.nodes.set(n, node);
        // A name replaced keeps its place; a new one holds up the names above it.
        if (had) continue;
        for (let p: string | undefined = n; p !== undefined && p !== this.origin; p = parentOf(p)) {
          if (this.below) this.below.set(p, (this.below.get(p) ?? 0) + 1);
          this.exists.add(p);
        }
        continue;
      }
      if (!had) continue;
      // Counted (once, from the names held now, this one still among them) only when a name
      // goes: a shard that only ever gains names never pays for the count.
      const below = this.counts();
      this.nodes.delete(n);
      for (let p: string | undefined = n; p !== undefined && p !== this.origin; p = parentOf(p)) {
        const c = below.get(p)! - 1;
        if (c > 0) below.set(p, c);
        else {
          below.delete(p);
          this.exists.delete(p);
        }
      }
    }
  }

  private counts(): Map<string, number> {
    if (this.below) return this.below;
    const below = new Map<string, number>();
    for (const name of this.nodes.keys())
      for (let p: string | undefined = name; p !== undefined && p !== this.origin; p = parentOf(p))
        below.set(p, (below.get(p) ?? 0) + 1);
    this.below = below;
    return below;
  }

  /** Canonical text of the zone's data, for comparing two indexes (tests, the full rebuild's drift check). */
  signature(): string {
    const out = [`zone ${this.origin} ${rrText(this.negativeSoa)}`, [...this.exists].sort().join(" ")];
    for (const name of [...this.nodes.keys()].sort()) {
      const node = this.nodes.get(name)!;
      const sets = [...node.rrsets].map(([t, rrs]) => `${t}=${rrs.map(rrText).join(",")}`);
      const aliases = node.aliases.map((a) => `alias ${a.type} ${a.target}`);
      out.push(`${name}: ${[...sets, ...aliases].join(" ")}`);
    }
    return out.join("\n");
  }

  /** The node answering `name` (exact, else wildcard source); exists=false means NXDOMAIN. */
  match(name: string): { exists: boolean; node?: Node } {
    const exact = this.nodes.get(name);
    if (exact) return { exists: true, node: exact };
    if (this.exists.has(name)) return { exists: true };
    for (let p = parentOf(name); p !== undefined; p = parentOf(p)) {
      if (!this.exists.has(p)) continue;
      const wild = childOf(p, "*");
      if (!this.exists.has(wild)) return { exists: false };
      return { exists: true, node: this.nodes.get(wild) };
    }
    return { exists: false };
  }
}

function soaFromRecord(r: RR): SoaFields {
  return route53Soa({ ...(r.data as Partial<SoaFields>), ttl: r.ttl });
}

function soaData(s: SoaFields): packet.SoaData {
  const { ttl: _ttl, ...data } = s;
  return data;
}

/**
 * True when two zones hold the same data: the same records (the same objects, or the same
 * owner, type, TTL and data), SOA overrides and aliases. What lets a View reuse an index.
 */
export function sameZone(a: Zone, b: Zone): boolean {
  if (a === b) return true;
  if (a.origin !== b.origin || a.records.length !== b.records.length) return false;
  if (!sameJson(a.soa, b.soa) || !sameJson(a.aliases ?? [], b.aliases ?? [])) return false;
  for (let i = 0; i < a.records.length; i++) {
    const x = a.records[i]!;
    const y = b.records[i]!;
    if (x === y) continue;
    if (x.name !== y.name || x.type !== y.type || x.ttl !== y.ttl || !sameJson(x.data, y.data)) return false;
  }
  return true;
}

function sameJson(a: unknown, b: unknown): boolean {
  return (
    a === b || (typeof a === "object" && typeof b === "object" && JSON.stringify(a) === JSON.stringify(b))
  );
}

/** A record as text: its wire form (type, class, TTL, data) and its owner. */
function rrText(rr: RR): string {
  return `${rr.name}/${rrWire(rr).toString("base64")}`;
}

function checkCname(name: string, node: Node): void {
  const cname = node.rrsets.get("CNAME");
  if (!cname) return;
  if (cname.length > 1) throw new Error(`"${name}" has more than one CNAME`);
  if (node.rrsets.size > 1 || node.aliases.length > 0)
    throw new Error(`"${name}" has a CNAME and other data`);
}

/** TXT strings longer than 255 bytes are split into 255-byte character-strings, as zone files do. */
function normalizeData(type: string, data: any): any {
  if (type !== "TXT") return data;
  const parts = (Array.isArray(data) ? data : [data]).map((d) =>
    Buffer.isBuffer(d) ? d : Buffer.from(String(d)),
  );
  const out: Buffer[] = [];
  for (const p of parts) {
    if (p.length === 0) out.push(p);
    for (let i = 0; i < p.length; i += 255) out.push(p.subarray(i, i + 255));
  }
  return out;
}

/** Validates a record once, so that a bad record fails when the view is built rather than at query time. */
/**
 * Wire bytes by record content (type, TTL, data; the owner is not in them): a view rebuilt after
 * a commit re-adds mostly the same records as new objects, and a content hit skips both the
 * checks it already passed and the encoding. Same content, same bytes: nothing can go stale.
 */
const WIRE_BY_CONTENT = new Map<string, Buffer>();
const ENCODED_BY_CONTENT = new Map<string, Buffer>();
const MAX_WIRE_BY_CONTENT = 200_000;

function contentKey(rr: RR): string {
  return `${rr.type}\0${rr.ttl}\0${typeof rr.data === "string" ? rr.data : JSON.stringify(rr.data)}`;
}

function checked(rr: RR, where: string): RR {
  const key = contentKey(rr);
  const known = WIRE_BY_CONTENT.get(key);
  if (known) {
    RR_WIRE.set(rr, known);
    return rr;
  }
  if (WIRE_BY_CONTENT.size >= MAX_WIRE_BY_CONTENT) WIRE_BY_CONTENT.clear();
  WIRE_BY_CONTENT.set(key, validated(rr, where));
  return rr;
}

/** The record's wire bytes once every check holds; throws what is wrong with it. */
function validated(rr: RR, where: string): Buffer {
  const what = `${rr.type} record "${rr.name}" in "${where}"`;
  if (!Number.isInteger(rr.ttl) || rr.ttl < 0 || rr.ttl > 0x7fffffff)
    throw new Error(`${what}: bad TTL ${rr.ttl}`);
  if (rr.type === "A" && !isIPv4(String(rr.data))) throw new Error(`${what}: not an IPv4 address`);
  if (rr.type === "AAAA" && !isIPv6(String(rr.data))) throw new Error(`${what}: not an IPv6 address`);
  for (const n of rdataNames(rr)) assertValidName(canonicalName(n), what);
  try {
    return rrWire(rr);
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
}

function rdataNames(rr: RR): string[] {
  const d = rr.data;
  switch (rr.type) {
    case "CNAME":
    case "NS":
    case "PTR":
      return [String(d)];
    case "MX":
      return [String(d?.exchange)];
    case "SRV":
      return [String(d?.target)];
    case "SOA":
      return [String(d?.mname)];
    default:
      return [];
  }
}

type Ctx = {
  hops: number;
  /** Fallback answers fetched so far (async path). */
  fetched?: Map<string, Answer | undefined>;
  /** Outside names the walk needed but had no fetched answer for. */
  missing: Set<string>;
  fromFallback: boolean;
  /** What the fallback answers used so far depend on; undefined once one of them cannot be kept. */
  fresh: Freshness | undefined;
};

const key = (name: string, type: string) => `${type} ${name}`;

type Built = { zone: Zone; index: ZoneIndex };

export class View {
  private zones = new Map<string, ZoneIndex>();
  /**
   * Each zone given and the index made of it (shadowed ones too), by canonical origin, for a
   * later View of mostly the same zones to {@link View.constructor reuse}; emptied once an index
   * is patched.
   */
  private built = new Map<string, Built[]>();
  private readonly fallback?: Fallback;
  private readonly outside: "REFUSED" | "NXDOMAIN";
  private readonly maxChain: number;

  /**
   * `reuse`: an earlier View (of the same resolver) whose index of a zone equal to one of
   * `zones` ({@link sameZone}) is taken as it is rather than built again: a view rebuilt after
   * a commit that added one endpoint indexes that endpoint's zones only. Indexes are never
   * changed once built (except through {@link patched}, which stops their reuse), so sharing
   * them is safe.
   */
  constructor(zones: Zone[], options?: ViewOptions | Fallback, reuse?: View) {
    const opts: ViewOptions = typeof options === "function" ? { fallback: options } : (options ?? {});
    this.fallback = opts.fallback;
    this.outside = opts.outside ?? "REFUSED";
    this.maxChain = opts.maxChain ?? 16;
    // Taken indexes are marked used here: the earlier view's lists stay as they are.
    const taken = new Set<Built>();
    for (const z of zones) {
      const origin = canonicalName(z.origin);
      const b = reuse?.built.get(origin)?.find((e) => !taken.has(e) && sameZone(e.zone, z));
      if (b) taken.add(b);
      const idx = b ? b.index : new ZoneIndex(z);
      const list = this.built.get(idx.origin);
      if (list) list.push({ zone: z, index: idx });
      else this.built.set(idx.origin, [{ zone: z, index: idx }]);
      if (!this.zones.has(idx.origin)) this.zones.set(idx.origin, idx);
    }
  }

  /** An empty view with this one's options, for {@link patched} and {@link replaced} to fill. */
  private successor(): View {
    return new View([], { fallback: this.fallback, outside: this.outside, maxChain: this.maxChain });
  }

  /**
   * This view with the records at some names of zone `origin` replaced (see ZoneIndex
   * `setOwners`): a new View object — so prepared answers start afresh — sharing every index
   * with this one, the patched one changed in place. This view must not be served any more.
   * Throws, changing nothing, when the zone is not here or a record is bad.
   */
  patched(origin: string, changes: ReadonlyMap<string, readonly RR[]>): View {
    const zone = this.zones.get(canonicalName(origin));
    if (!zone) throw new Error(`no zone "${origin}" to patch`);
    zone.setOwners(changes);
    // The patched index no longer is what its zone says: nothing may reuse it by that zone.
    this.built.clear();
    const next = this.successor();
    for (const [o, z] of this.zones) next.zones.set(o, z);
    return next;
  }

  /**
   * This view with the zone at each origin of `zones` replaced (undefined: no zone there any
   * more): a new View object — so prepared answers start afresh — that takes over this one's
   * tables, so that the cost is the zones given, not the view's (a VPC's ~150). This view must
   * not be served any more. Each zone given must be the one the full zone list would hold first
   * at its origin (the others there are never consulted). Throws, changing nothing, when a zone
   * is bad.
   */
  replaced(zones: ReadonlyMap<string, Zone | undefined>): View {
    const fresh = new Map<string, Built | undefined>();
    for (const [origin, zone] of zones)
      fresh.set(canonicalName(origin), zone && { zone, index: new ZoneIndex(zone) });
    const next = this.successor();
    next.zones = this.zones;
    next.built = this.built;
    for (const [o, b] of fresh) {
      if (b) {
        next.zones.set(o, b.index);
        next.built.set(o, [b]);
      } else {
        next.zones.delete(o);
        next.built.delete(o);
      }
    }
    return next;
  }

  /** True when the zone `origin` holds nothing but its apex SOA (or is not in this view). */
  emptyZone(origin: string): boolean {
    return this.zones.get(canonicalName(origin))?.empty ?? true;
  }

  /**
   * Canonical text of the view's data (zones after shadowing, names, records in answer order,
   * empty non-terminals): two views with the same signature answer every question alike. For
   * the full rebuild's drift check and the tests that hold a patched view to one built afresh.
   */
  signature(): string {
    return [...this.zones.keys()]
      .sort()
      .map((o) => this.zones.get(o)!.signature())
      .join("\n");
  }

  /** Zone origins in this view (after shadowing), canonical. */
  origins(): string[] {
    return [...this.zones.keys()];
  }

  /** Answers from the zones alone; never consults the fallback (outside names get the `outside` policy). */
  resolve(name: string, type: string): Answer {
    return this.run(canonicalName(name), normalizeType(type)).answer;
  }

  /** Answers from the zones and, for names outside them, the fallback. */
  async query(name: string, type: string): Promise<Answer> {
    return this.lookup(name, type);
  }

  /** Like {@link query} but synchronous whenever the fallback is not needed (the server's fast path). */
  lookup(name: string, type: string): Answer | Promise<Answer> {
    const n = canonicalName(name);
    const t = normalizeType(type);
    if (!this.fallback) return this.resolve(n, t);
    const fetched = new Map<string, Answer | undefined>();
    const first = this.run(n, t, fetched);
    if (first.missing.size === 0) return first.answer;
    return this.withFallback(n, t, fetched, first.missing);
  }

  private async withFallback(
    name: string,
    type: string,
    fetched: Map<string, Answer | undefined>,
    missing: Set<string>,
  ): Promise<Answer> {
    // Each round fetches what the previous walk lacked; a chain can leave the view and come
    // back, so a few rounds may be needed, bounded by the hop budget.
    for (let round = 0; round <= this.maxChain; round++) {
      await Promise.all(
        [...missing].map(async (k) => {
          const [t, n] = [k.slice(0, k.indexOf(" ")), k.slice(k.indexOf(" ") + 1)];
          fetched.set(k, await this.fallback!(n, t));
        }),
      );
      const r = this.run(name, type, fetched);
      if (r.missing.size === 0) return r.answer;
      missing = r.missing;
    }
    return servfail(false);
  }

  private run(name: string, type: string, fetched?: Map<string, Answer | undefined>) {
    const ctx: Ctx = { hops: 0, fetched, missing: new Set(), fromFallback: false, fresh: ALWAYS_FRESH };
    const a = this.walk(name, type, ctx);
    const answer: Answer = ctx.fromFallback ? fromFallback(a, ctx.fresh) : a;
    return { answer, missing: ctx.missing };
  }

  private zoneFor(name: string): ZoneIndex | undefined {
    for (let p: string | undefined = name; p !== undefined; p = parentOf(p)) {
      const z = this.zones.get(p);
      if (z) return z;
    }
    return undefined;
  }

  private walk(name: string, type: string, ctx: Ctx): Answer {
    const chain: RR[] = [];
    const seen = new Set<string>();
    let cur = name;
    for (;;) {
      if (seen.has(cur) || ctx.hops > this.maxChain) return servfail(false);
      seen.add(cur);
      const zone = this.zoneFor(cur);
      if (!zone) return this.outsideAnswer(cur, type, chain, ctx);
      const m = zone.match(cur);
      if (!m.exists)
        return { rcode: "NXDOMAIN", answers: chain, authority: [zone.negativeSoa], authoritative: true };
      const cname = m.node?.rrsets.get("CNAME")?.[0];
      if (cname && type !== "CNAME" && type !== "ANY") {
        chain.push(reowned(cname, cur));
        cur = canonicalName(String(cname.data));
        ctx.hops++;
        continue;
      }
      const found = m.node ? this.collect(m.node, cur, type, ctx) : [];
      if (found.length > 0)
        return { rcode: "NOERROR", answers: chain.concat(found), authority: [], authoritative: true };
      return { rcode: "NOERROR", answers: chain, authority: [zone.negativeSoa], authoritative: true };
    }
  }

  private collect(node: Node, owner: string, type: string, ctx: Ctx): RR[] {
    const out: RR[] = [];
    for (const [t, rrs] of node.rrsets) {
      if (t === type || type === "ANY") for (const rr of rrs) out.push(reowned(rr, owner));
    }
    for (const a of node.aliases) {
      if (a.type !== type && type !== "ANY") continue;
      ctx.hops++;
      const r = this.walk(a.target, a.type, ctx);
      // Route 53 answers an alias with the target's records (and TTL) under the alias's name.
      for (const rr of r.answers) if (rr.type === a.type) out.push(reowned(rr, owner));
    }
    return out;
  }

  private outsideAnswer(name: string, type: string, chain: RR[], ctx: Ctx): Answer {
    if (this.fallback && ctx.fetched) {
      const k = key(name, type);
      if (!ctx.fetched.has(k)) {
        ctx.missing.add(k);
        return servfail(false);
      }
      const got = ctx.fetched.get(k);
      if (got) {
        ctx.fromFallback = true;
        ctx.fresh =
          got.cacheable === false || !got.fresh ? undefined : ctx.fresh && bothFresh(ctx.fresh, got.fresh);
        return { ...got, answers: chain.concat(got.answers), authoritative: false };
      }
    }
    // A chain leaving the view ends the way an authoritative server ends it: the CNAMEs so far,
    // NOERROR, for the client to follow (unless the policy says those names do not exist).
    if (chain.length > 0 && this.outside === "REFUSED")
      return { rcode: "NOERROR", answers: chain, authority: [], authoritative: true };
    return { rcode: this.outside, answers: chain, authority: [], authoritative: false };
  }
}

/** An answer that used the fallback: kept only while every fallback answer in it is fresh. */
function fromFallback(a: Answer, fresh: Freshness | undefined): Answer {
  const { fresh: _own, cacheable: _c, ...rest } = a;
  const keep = fresh !== undefined && a.cacheable !== false && a.rcode !== "SERVFAIL";
  return keep
    ? { ...rest, authoritative: false, fresh }
    : { ...rest, authoritative: false, cacheable: false };
}

function servfail(authoritative: boolean): Answer {
  return { rcode: "SERVFAIL", answers: [], authority: [], authoritative };
}
