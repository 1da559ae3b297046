/**
 * The DNS wire for a server: a strict query parser and a response writer.
 *
 * Queries are parsed by hand rather than with dns-packet's decoder because a server must judge
 * every byte of untrusted input exactly (label types, pointers, RDLENGTH bounds, trailing bytes)
 * and must keep the question's raw bytes to echo them; dns-packet's decoder reads labels as UTF-8
 * and trusts lengths. Record data is written by dns-packet (see {@link rrWire}); names, header
 * and framing here, with owner names that equal the question compressed to a pointer at it.
 */
import packet from "dns-packet";
import { canonicalName, encodeName, labelToText } from "./name.js";
import { type RR, rrWire } from "./view.js";

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16,
} as const;

const QR = 0x8000;
const AA = 0x0400;
const TC = 0x0200;
const RD = 0x0100;
const RA = 0x0080;
const CD = 0x0010;
const OPT_TYPE = 41;
const HEADER = 12;

export type Question = {
  /** The question's bytes as received (name, type, class): echoed verbatim, original case included. */
  readonly raw: Buffer;
  /** Canonical (lowercased) presentation name. */
  readonly name: string;
  readonly qtype: number;
  readonly qclass: number;
};

export type Edns = { udpSize: number; version: number; do: boolean };

export type Query = {
  id: number;
  opcode: number;
  rd: boolean;
  cd: boolean;
  question?: Question;
  edns?: Edns;
};

export type Parsed =
  /** Not even a query header: real servers send nothing back. */
  | { kind: "drop" }
  | { kind: "error"; rcode: number; query: Query }
  | { kind: "ok"; query: Query & { question: Question } };

class FormErr extends Error {}

/** Parses a query as a strict server does (the checks follow unbound's worker_check_request). */
export function parseQuery(buf: Buffer): Parsed {
  if (buf.length < HEADER) return { kind: "drop" };
  const flags = buf.readUInt16BE(2);
  // A response sent to a server is never answered: that is how reflection loops start.
  if (flags & QR) return { kind: "drop" };
  const query: Query = {
    id: buf.readUInt16BE(0),
    opcode: (flags >> 11) & 0xf,
    rd: (flags & RD) !== 0,
    cd: (flags & CD) !== 0,
  };
  const [qd, an, ns, ar] = [
    buf.readUInt16BE(4),
    buf.readUInt16BE(6),
    buf.readUInt16BE(8),
    buf.readUInt16BE(10),
  ];
  if (query.opcode !== 0) {
    // Echo the question when it reads cleanly; NOTIMP either way.
    if (qd === 1) query.question = tryRead(() => readQuestion(buf));
    return { kind: "error", rcode: RCODE.NOTIMP, query };
  }
  try {
    if (qd === 1) query.question = readQuestion(buf);
    if (qd !== 1 || an !== 0 || ns !== 0) throw new FormErr();
    let off = HEADER + query.question!.raw.length;
    for (let i = 0; i < ar; i++) off = readAdditional(buf, off, query);
    if (off !== buf.length) throw new FormErr();
  } catch (e) {
    if (!(e instanceof FormErr)) throw e;
    return { kind: "error", rcode: RCODE.FORMERR, query };
  }
  if (query.edns && query.edns.version !== 0) return { kind: "error", rcode: RCODE.BADVERS, query };
  return { kind: "ok", query: query as Query & { question: Question } };
}

function tryRead<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof FormErr) return undefined;
    throw e;
  }
}

function readQuestion(buf: Buffer): Question {
  let off = HEADER;
  let wireLen = 1;
  for (;;) {
    if (off >= buf.length) throw new FormErr();
    const len = buf[off]!;
    off++;
    if (len === 0) break;
    // Pointers cannot appear in the first name of a message (there is nothing before it to
    // point at) and extended label types (0x40, 0x80) are obsolete: both are malformed here.
    if (len > 63 || off + len > buf.length) throw new FormErr();
    wireLen += len + 1;
    if (wireLen > 255) throw new FormErr();
    off += len;
  }
  if (off + 4 > buf.length) throw new FormErr();
  return new WireQuestion(buf.subarray(HEADER, off + 4), buf.readUInt16BE(off), buf.readUInt16BE(off + 2));
}

/** The presentation name is built only when asked: a packet-cache hit never needs it. */
class WireQuestion implements Question {
  private text?: string;

  constructor(
    readonly raw: Buffer,
    readonly qtype: number,
    readonly qclass: number,
  ) {}

  get name(): string {
    if (this.text === undefined) {
      const labels: string[] = [];
      for (let off = 0; this.raw[off]! !== 0; off += 1 + this.raw[off]!)
        labels.push(labelToText(this.raw, off + 1, off + 1 + this.raw[off]!));
      this.text = canonicalName(labels.join("."));
    }
    return this.text;
  }
}

/** Skips a (possibly compressed) name; returns the offset after it. */
function skipName(buf: Buffer, start: number): number {
  let off = start;
  let wireLen = 1;
  for (;;) {
    if (off >= buf.length) throw new FormErr();
    const len = buf[off]!;
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) {
      if (off + 2 > buf.length) throw new FormErr();
      const target = buf.readUInt16BE(off) & 0x3fff;
      // Only backward pointers, each strictly before the previous: this bounds the walk.
      if (target >= start) throw new FormErr();
      checkPointedName(buf, target, wireLen);
      return off + 2;
    }
    if (len > 63 || off + 1 + len > buf.length) throw new FormErr();
    wireLen += len + 1;
    if (wireLen > 255) throw new FormErr();
    off += 1 + len;
  }
}

function checkPointedName(buf: Buffer, target: number, wireLen: number): void {
  let off = target;
  let limit = target;
  for (let steps = 0; steps < 256; steps++) {
    if (off >= buf.length) throw new FormErr();
    const len = buf[off]!;
    if (len === 0) return;
    if ((len & 0xc0) === 0xc0) {
      if (off + 2 > buf.length) throw new FormErr();
      const next = buf.readUInt16BE(off) & 0x3fff;
      if (next >= limit) throw new FormErr();
      off = limit = next;
      continue;
    }
    if (len > 63 || off + 1 + len > buf.length) throw new FormErr();
    wireLen += len + 1;
    if (wireLen > 255) throw new FormErr();
    off += 1 + len;
  }
  throw new FormErr();
}

function readAdditional(buf: Buffer, start: number, query: Query): number {
  const afterName = skipName(buf, start);
  if (afterName + 10 > buf.length) throw new FormErr();
  const type = buf.readUInt16BE(afterName);
  const rdlen = buf.readUInt16BE(afterName + 8);
  const end = afterName + 10 + rdlen;
  if (end > buf.length) throw new FormErr();
  if (type === OPT_TYPE) {
    // RFC 6891: one OPT, owned by the root, with well-formed options.
    if (query.edns || afterName !== start + 1 || buf[start] !== 0) throw new FormErr();
    checkOptions(buf, afterName + 10, end);
    const ttl = buf.readUInt32BE(afterName + 4);
    query.edns = {
      udpSize: buf.readUInt16BE(afterName + 2),
      version: (ttl >>> 16) & 0xff,
      do: (ttl & 0x8000) !== 0,
    };
  }
  return end;
}

function checkOptions(buf: Buffer, start: number, end: number): void {
  let off = start;
  while (off < end) {
    if (off + 4 > end) throw new FormErr();
    off += 4 + buf.readUInt16BE(off + 2);
  }
  if (off !== end) throw new FormErr();
}

export type Reply = {
  query: Query;
  rcode: number;
  authoritative?: boolean;
  answers?: RR[];
  authority?: RR[];
  /** Largest message allowed (UDP: the negotiated payload size; TCP: 65535). */
  limit: number;
  /** UDP payload size we advertise in our OPT. */
  advertise: number;
};

/** Writes a response; returns it and whether it had to be truncated (TC). */
export function writeResponse(r: Reply): { buf: Buffer; truncated: boolean } {
  const q = r.query.question;
  const qname = r.answers?.length || r.authority?.length ? q?.name : undefined;
  const answers = (r.answers ?? []).map((rr) => encodeRR(rr, qname));
  let authority = (r.authority ?? []).map((rr) => encodeRR(rr, qname));
  const opt = r.query.edns ? encodeOpt(r.rcode, r.advertise, r.query.edns.do) : undefined;
  const fixed = HEADER + (q?.raw.length ?? 0) + (opt?.length ?? 0);
  const size = (parts: Buffer[]) => parts.reduce((n, b) => n + b.length, 0);
  let truncated = false;
  let ans = answers;
  if (fixed + size(ans) + size(authority) > r.limit) {
    // RFC 2181 §9: drop what is optional (authority) first; TC only when the answer does not fit.
    authority = [];
    if (fixed + size(ans) > r.limit) {
      truncated = true;
      ans = [];
    }
  }
  const header = Buffer.alloc(HEADER);
  header.writeUInt16BE(r.query.id, 0);
  let flags = QR | (r.query.opcode << 11) | RA | (r.rcode & 0xf);
  if (r.authoritative) flags |= AA;
  if (truncated) flags |= TC;
  if (r.query.rd) flags |= RD;
  if (r.query.cd) flags |= CD;
  header.writeUInt16BE(flags, 2);
  header.writeUInt16BE(q ? 1 : 0, 4);
  header.writeUInt16BE(ans.length, 6);
  header.writeUInt16BE(authority.length, 8);
  header.writeUInt16BE(opt ? 1 : 0, 10);
  const parts = [header, ...(q ? [q.raw] : []), ...ans, ...authority, ...(opt ? [opt] : [])];
  return { buf: Buffer.concat(parts), truncated };
}

const POINTER_TO_QUESTION = Buffer.from([0xc0, HEADER]);

function encodeRR(rr: RR, qname: string | undefined): Buffer {
  const owner = canonicalName(rr.name) === qname ? POINTER_TO_QUESTION : encodeName(rr.name);
  return Buffer.concat([owner, rrWire(rr)]);
}

function encodeOpt(rcode: number, udpSize: number, dnssecOk: boolean): Buffer {
  const opt: packet.OptAnswer = {
    type: "OPT",
    name: ".",
    udpPayloadSize: udpSize,
    extendedRcode: rcode >> 4,
    ednsVersion: 0,
    flags: dnssecOk ? packet.DNSSEC_OK : 0,
    flag_do: dnssecOk,
    options: [],
  };
  return Buffer.from(packet.encode({ type: "response", additionals: [opt] }).subarray(HEADER));
}
