/**
 * Prepared answers: the response bytes for a question, so that a question asked again is answered
 * by copying bytes and patching the ID and the question (the client's own case is echoed, which
 * 0x20-randomising resolvers check) — no parse into objects, no zone lookup, no string per query.
 *
 * Key: the question's bytes with the name folded to lowercase (qname, qtype, qclass), and a
 * signature of everything else that shapes the bytes: the size limit (transport, EDNS size), EDNS
 * present, DO, RD, CD. A table hangs off each View object (WeakMap): a new View (its data changed)
 * starts empty. An entry may carry a {@link Freshness} (answers that used a fallback: another
 * view, a forwarder): it is asked on every hit, and a stale entry is answered afresh. A forwarded
 * answer kept for its TTL carries a {@link TtlClock} instead of going stale every second: its
 * TTL fields are counted down in the entry's bytes as the seconds pass (one copy per second,
 * not a lookup and a new entry), and it goes stale when it expires or its other guards fail.
 *
 * {@link scanQuery} reads a query straight from its bytes and accepts only the plain shape (one
 * question, no answer or authority records, at most an OPT record of version 0, nothing after
 * it); anything else takes the full parser (wire.ts), whose answers land in the same table.
 */
import type { Ageing } from "./ttl-cache.js";
import type { Freshness, View } from "./view.js";

const HEADER = 12;
const NO_EDNS_UDP = 512;
const TCP_MAX = 65535;
const OPT_TYPE = 41;

/** What {@link scanQuery} found; one object per responder, reused for every query. */
export class Scan {
  /** End of the question (after QTYPE and QCLASS). */
  qEnd = 0;
  hash = 0;
  sig = 0;
}

/** Where an entry's TTLs are and what they were written as, for counting them down in place. */
export interface TtlClock extends Ageing {
  /** Offsets of the TTL fields of the answer and authority records. */
  readonly offsets: readonly number[];
  readonly written: readonly number[];
  /** Whole seconds since `at` the bytes show now. */
  shown: number;
}

export interface Entry {
  /** The question as a key: name folded to lowercase. */
  readonly question: Buffer;
  readonly sig: number;
  /** Replaced (never patched while it may be in flight) when a {@link TtlClock} ticks. */
  bytes: Buffer;
  readonly ttl?: TtlClock;
  readonly rcode: number;
  readonly truncated: boolean;
  readonly fresh?: Freshness;
  next?: Entry;
}

/** The largest response allowed: TCP 65535; UDP 512 without EDNS, else the client's size capped by ours. */
export function sizeLimit(tcp: boolean, edns: boolean, udpSize: number, maxUdp: number): number {
  if (tcp) return TCP_MAX;
  if (!edns) return NO_EDNS_UDP;
  // RFC 6891 §6.2.5: sizes below 512 are treated as 512.
  return Math.min(Math.max(udpSize, NO_EDNS_UDP), maxUdp);
}

export function signature(limit: number, edns: boolean, dnssecOk: boolean, rd: boolean, cd: boolean): number {
  return limit * 16 + (edns ? 8 : 0) + (dnssecOk ? 4 : 0) + (rd ? 2 : 0) + (cd ? 1 : 0);
}

const fold = (b: number) => (b >= 65 && b <= 90 ? b + 32 : b);

/** FNV-1a over the question bytes, the name folded (the last four bytes are QTYPE and QCLASS), to 30 bits. */
export function questionHash(buf: Buffer, start: number, end: number): number {
  let h = 0x811c9dc5;
  const nameEnd = end - 4;
  for (let i = start; i < nameEnd; i++) h = Math.imul(h ^ fold(buf[i]!), 0x01000193);
  for (let i = nameEnd; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  // 30 bits: a V8 small integer. `h >>> 0` is one above 2^30 three times in four, a heap number
  // allocated per query and hashed as a double by the table's Map.
  return h & 0x3fffffff;
}

/**
 * Reads a query of the plain shape, msg[0, len), into `out`; false when it is not one (then the
 * full parser decides: it may be malformed, or merely unusual).
 */
export function scanQuery(msg: Buffer, tcp: boolean, maxUdp: number, out: Scan, len = msg.length): boolean {
  if (len < HEADER + 5) return false;
  const b2 = msg[2]!;
  // QR set or an opcode other than QUERY: not for this path.
  if (b2 & 0xf8) return false;
  // QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, ARCOUNT 0 or 1.
  if (msg[4] !== 0 || msg[5] !== 1 || msg[6] !== 0 || msg[7] !== 0 || msg[8] !== 0 || msg[9] !== 0)
    return false;
  if (msg[10] !== 0 || msg[11]! > 1) return false;
  let off = HEADER;
  let wire = 1;
  for (;;) {
    if (off >= len) return false;
    const l = msg[off]!;
    if (l === 0) break;
    if (l > 63) return false;
    wire += l + 1;
    if (wire > 255) return false;
    off += l + 1;
  }
  const qEnd = off + 5;
  if (qEnd > len) return false;
  const rd = (b2 & 0x01) !== 0;
  const cd = (msg[3]! & 0x10) !== 0;
  let edns = false;
  let dnssecOk = false;
  let udpSize = 0;
  if (msg[11] === 0) {
    if (qEnd !== len) return false;
  } else {
    // OPT: root owner, TYPE 41, CLASS = UDP size, TTL = ext-rcode, version, flags; RDLEN; options.
    const o = qEnd;
    if (o + 11 > len || msg[o] !== 0 || msg.readUInt16BE(o + 1) !== OPT_TYPE || msg[o + 6] !== 0)
      return false;
    udpSize = msg.readUInt16BE(o + 3);
    dnssecOk = (msg[o + 7]! & 0x80) !== 0;
    const end = o + 11 + msg.readUInt16BE(o + 9);
    if (end !== len) return false;
    let p = o + 11;
    while (p < end) {
      if (p + 4 > end) return false;
      p += 4 + msg.readUInt16BE(p + 2);
    }
    if (p !== end) return false;
    edns = true;
  }
  out.qEnd = qEnd;
  out.hash = questionHash(msg, HEADER, qEnd);
  out.sig = signature(sizeLimit(tcp, edns, udpSize, maxUdp), edns, dnssecOk, rd, cd);
  return true;
}

function sameQuestion(key: Buffer, msg: Buffer, start: number): boolean {
  const n = key.length;
  const nameEnd = n - 4;
  for (let i = 0; i < nameEnd; i++) if (key[i] !== fold(msg[start + i]!)) return false;
  for (let i = nameEnd; i < n; i++) if (key[i] !== msg[start + i]) return false;
  return true;
}

interface Table {
  map: Map<number, Entry>;
  size: number;
}

/** The prepared answers of every view, bounded per view (the oldest chain goes first). */
export class PreparedAnswers {
  private readonly tables = new WeakMap<View, Table>();
  /** The table of the view asked last: a server asks one view query after query (no WeakMap lookup). */
  private last?: { view: View; table: Table };

  constructor(private readonly maxPerView: number) {}

  private tableOf(view: View): Table | undefined {
    const last = this.last;
    if (last !== undefined && last.view === view) return last.table;
    const table = this.tables.get(view);
    if (table) this.last = { view, table };
    return table;
  }

  /** The entry for the question at msg[start, end) with this signature, when one is fresh. */
  find(view: View, msg: Buffer, start: number, end: number, hash: number, sig: number): Entry | undefined {
    const t = this.tableOf(view);
    if (!t) return undefined;
    const qlen = end - start;
    for (let e = t.map.get(hash); e; e = e.next)
      if (e.sig === sig && e.question.length === qlen && sameQuestion(e.question, msg, start)) {
        if (e.fresh !== undefined && !e.fresh()) return undefined;
        if (e.ttl) tick(e, e.ttl);
        return e;
      }
    return undefined;
  }

  store(view: View, question: Buffer, hash: number, entry: Omit<Entry, "question" | "next">): void {
    let t = this.tableOf(view);
    if (!t) {
      t = { map: new Map(), size: 0 };
      this.tables.set(view, t);
    }
    const key = Buffer.allocUnsafe(question.length);
    for (let i = 0; i < question.length; i++)
      key[i] = i < question.length - 4 ? fold(question[i]!) : question[i]!;
    if (t.size >= this.maxPerView) {
      const oldest = t.map.keys().next().value;
      if (oldest !== undefined) {
        for (let e = t.map.get(oldest); e; e = e.next) t.size--;
        t.map.delete(oldest);
      }
    }
    // Replace a stale entry for the same question rather than chain a second one.
    let kept: Entry | undefined;
    for (let e = t.map.get(hash); e; e = e.next)
      if (!(e.sig === entry.sig && e.question.equals(key))) kept = { ...e, next: kept };
      else t.size--;
    t.map.set(hash, { ...entry, question: key, next: kept });
    t.size++;
  }
}

/** Counts the entry's TTLs down to this second, in a new copy of its bytes (once a second). */
function tick(e: Entry, c: TtlClock): void {
  const s = Math.floor((c.now() - c.at) / 1000);
  if (s <= c.shown) return;
  const bytes = Buffer.from(e.bytes);
  for (let i = 0; i < c.offsets.length; i++)
    bytes.writeUInt32BE(Math.max(0, c.written[i]! - s), c.offsets[i]!);
  e.bytes = bytes;
  c.shown = s;
}

/**
 * The clock of a response's TTLs (its answer and authority records), read from its bytes: names
 * are skipped label by label or by their compression pointer. Undefined for bytes it cannot walk.
 */
export function ttlClock(bytes: Buffer, ageing: Ageing): TtlClock | undefined {
  if (bytes.length < HEADER) return undefined;
  const skipName = (off: number): number => {
    while (off < bytes.length) {
      const l = bytes[off]!;
      if (l === 0) return off + 1;
      if ((l & 0xc0) === 0xc0) return off + 2;
      off += l + 1;
    }
    return -1;
  };
  let off = HEADER;
  for (let q = bytes.readUInt16BE(4); q > 0; q--) {
    off = skipName(off);
    if (off < 0) return undefined;
    off += 4;
  }
  const offsets: number[] = [];
  const written: number[] = [];
  for (let n = bytes.readUInt16BE(6) + bytes.readUInt16BE(8); n > 0; n--) {
    off = skipName(off);
    if (off < 0 || off + 10 > bytes.length) return undefined;
    offsets.push(off + 4);
    written.push(bytes.readUInt32BE(off + 4));
    off += 10 + bytes.readUInt16BE(off + 8);
  }
  if (off > bytes.length) return undefined;
  return { at: ageing.at, now: ageing.now, offsets, written, shown: 0 };
}

/**
 * The prepared bytes for a query: its ID and its question bytes src[start, end) (the client's
 * case). `inPlace` patches the entry's own bytes and returns them, allocating nothing: only for
 * a caller that knows no earlier send still holds them (see server.ts), else a copy is patched.
 */
export function answerFrom(
  e: Entry,
  id: number,
  src: Buffer,
  start: number,
  end: number,
  inPlace = false,
): Buffer {
  let out = e.bytes;
  if (!inPlace) {
    out = Buffer.allocUnsafe(e.bytes.length);
    e.bytes.copy(out);
  }
  out[0] = id >> 8;
  out[1] = id & 0xff;
  // A question is at most 259 bytes: a loop, where Buffer#copy makes a Uint8Array view of the
  // source range per call (Node 20's _copyActual) — an allocation per query.
  for (let i = start, o = HEADER; i < end; i++, o++) out[o] = src[i]!;
  return out;
}
