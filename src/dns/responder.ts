/**
 * From query bytes to response bytes, independent of sockets: parse, answer from the current
 * view, write, and keep a packet cache.
 *
 * Fast path: a finished response is cached per (view object, question bytes folded to lowercase
 * — that is qname, qtype and qclass —, transport size limit, EDNS present, DO, RD, CD). A hit
 * copies the bytes and patches the ID and the question (so the client's own case is echoed,
 * which 0x20-randomising resolvers check). The cache hangs off the View object in a WeakMap:
 * when the lead swaps the View, the old entries are simply unreachable.
 */
import { type Answer, typeName, type View } from "./view.js";
import { parseQuery, type Query, type Question, RCODE, writeResponse } from "./wire.js";

export type Transport = "udp" | "tcp";

export type ResponderOptions = {
  view: () => View | Promise<View>;
  /** Largest UDP response we send and advertise in our OPT (default 1232, the DNS flag day value). */
  maxUdpPayload?: number;
  /** Cached responses per view (default 50,000; the oldest goes first). */
  cacheSize?: number;
};

export type DnsStats = {
  queries: number;
  udpQueries: number;
  tcpQueries: number;
  responses: number;
  dropped: number;
  cacheHits: number;
  cacheMisses: number;
  truncated: number;
  errors: number;
  rcodes: Record<string, number>;
};

const NO_EDNS_UDP = 512;
const TCP_MAX = 65535;
const RCODE_NAMES: Record<number, string> = {
  0: "NOERROR",
  1: "FORMERR",
  2: "SERVFAIL",
  3: "NXDOMAIN",
  4: "NOTIMP",
  5: "REFUSED",
  16: "BADVERS",
};
const CLASS_IN = 1;
const CLASS_ANY = 255;

export class Responder {
  private readonly caches = new WeakMap<View, Map<string, Buffer>>();
  private readonly maxUdp: number;
  private readonly cacheSize: number;
  private readonly counters: DnsStats = {
    queries: 0,
    udpQueries: 0,
    tcpQueries: 0,
    responses: 0,
    dropped: 0,
    cacheHits: 0,
    cacheMisses: 0,
    truncated: 0,
    errors: 0,
    rcodes: {},
  };

  constructor(private readonly opts: ResponderOptions) {
    this.maxUdp = Math.max(NO_EDNS_UDP, Math.min(opts.maxUdpPayload ?? 1232, 65535));
    this.cacheSize = opts.cacheSize ?? 50_000;
  }

  stats(): DnsStats {
    return { ...this.counters, rcodes: { ...this.counters.rcodes } };
  }

  /** The response to send, or undefined to send nothing. Never throws. */
  handle(msg: Buffer, transport: Transport): Buffer | undefined | Promise<Buffer | undefined> {
    this.counters.queries++;
    if (transport === "udp") this.counters.udpQueries++;
    else this.counters.tcpQueries++;
    try {
      return this.dispatch(msg, transport);
    } catch {
      return this.internalError(msg, transport);
    }
  }

  private dispatch(msg: Buffer, transport: Transport): Buffer | undefined | Promise<Buffer | undefined> {
    const parsed = parseQuery(msg);
    if (parsed.kind === "drop") {
      this.counters.dropped++;
      return undefined;
    }
    if (parsed.kind === "error") return this.reply(parsed.query, transport, parsed.rcode);
    const q = parsed.query;
    const early = earlyRcode(q.question);
    if (early !== undefined) return this.reply(q, transport, early);
    const limit = this.limit(q, transport);
    const key = cacheKey(q, limit);
    const view = this.opts.view();
    if (isPromise(view))
      return view.then((v) => this.answer(v, q, key, limit, transport)).catch(() => this.fail(q, transport));
    return this.answer(view, q, key, limit, transport);
  }

  private answer(
    view: View,
    q: Query & { question: Question },
    key: string,
    limit: number,
    transport: Transport,
  ): Buffer | Promise<Buffer> {
    let cache = this.caches.get(view);
    if (!cache) {
      cache = new Map();
      this.caches.set(view, cache);
    }
    const hit = cache.get(key);
    if (hit) {
      this.counters.cacheHits++;
      return this.sent(patch(hit, q), transport, hit.readUInt16BE(2) & 0xf, (hit[2]! & 0x02) !== 0);
    }
    this.counters.cacheMisses++;
    const result = view.lookup(q.question.name, typeName(q.question.qtype));
    const finish = (a: Answer) => {
      const { buf, truncated } = writeResponse({
        query: q,
        rcode: RCODE[a.rcode],
        authoritative: a.authoritative,
        answers: a.answers,
        authority: a.authority,
        limit,
        advertise: this.maxUdp,
      });
      if (a.cacheable !== false) this.store(cache!, key, buf);
      return this.sent(buf, transport, RCODE[a.rcode], truncated);
    };
    if (isPromise(result)) return result.then(finish, () => this.fail(q, transport));
    return finish(result);
  }

  private store(cache: Map<string, Buffer>, key: string, buf: Buffer): void {
    if (cache.size >= this.cacheSize) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(key, buf);
  }

  private limit(q: Query, transport: Transport): number {
    if (transport === "tcp") return TCP_MAX;
    if (!q.edns) return NO_EDNS_UDP;
    // RFC 6891 §6.2.5: sizes below 512 are treated as 512.
    return Math.min(Math.max(q.edns.udpSize, NO_EDNS_UDP), this.maxUdp);
  }

  private reply(q: Query, transport: Transport, rcode: number): Buffer {
    const { buf } = writeResponse({
      query: q,
      rcode,
      limit: this.limit(q, transport),
      advertise: this.maxUdp,
    });
    return this.sent(buf, transport, rcode, false);
  }

  private fail(q: Query, transport: Transport): Buffer {
    this.counters.errors++;
    return this.reply(q, transport, RCODE.SERVFAIL);
  }

  /** Last resort after an unexpected exception: SERVFAIL with the bare header, if there is one. */
  private internalError(msg: Buffer, transport: Transport): Buffer | undefined {
    this.counters.errors++;
    if (msg.length < 12) return undefined;
    const flags = msg.readUInt16BE(2);
    const q: Query = {
      id: msg.readUInt16BE(0),
      opcode: (flags >> 11) & 0xf,
      rd: (flags & 0x100) !== 0,
      cd: false,
    };
    return this.reply(q, transport, RCODE.SERVFAIL);
  }

  private sent(buf: Buffer, _transport: Transport, rcode: number, truncated: boolean): Buffer {
    this.counters.responses++;
    if (truncated) this.counters.truncated++;
    const name = RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
    this.counters.rcodes[name] = (this.counters.rcodes[name] ?? 0) + 1;
    return buf;
  }
}

/** Questions answered without the view: classes we do not serve and meta-types. */
function earlyRcode(q: Question): number | undefined {
  if (q.qclass !== CLASS_IN && q.qclass !== CLASS_ANY) return RCODE.REFUSED;
  switch (q.qtype) {
    case 0: // reserved
    case 41: // OPT is a pseudo-record, never a question (RFC 6891)
    case 249: // TKEY
    case 250: // TSIG
      return RCODE.FORMERR;
    case 251: // IXFR
    case 252: // AXFR: zone transfers are not offered
      return RCODE.REFUSED;
    case 253: // MAILB
    case 254: // MAILA
      return RCODE.NOTIMP;
    default:
      return undefined;
  }
}

function cacheKey(q: Query & { question: Question }, limit: number): string {
  const raw = q.question.raw;
  const folded = Buffer.from(raw);
  // Fold the name only: the last four bytes are QTYPE and QCLASS, where 0x41 is not a letter.
  for (let i = 0; i < raw.length - 4; i++) {
    const b = raw[i]!;
    folded[i] = b >= 65 && b <= 90 ? b + 32 : b;
  }
  const e = q.edns;
  return `${folded.toString("latin1")}|${limit}|${e ? 1 : 0}${e?.do ? 1 : 0}${q.rd ? 1 : 0}${q.cd ? 1 : 0}`;
}

/** A cached response for this query: its ID and its question bytes (the client's case). */
function patch(cached: Buffer, q: Query & { question: Question }): Buffer {
  const out = Buffer.allocUnsafe(cached.length);
  cached.copy(out);
  out.writeUInt16BE(q.id, 0);
  q.question.raw.copy(out, 12);
  return out;
}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown })?.then === "function";
}
