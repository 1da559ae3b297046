/**
 * From query bytes to response bytes, independent of sockets: answer from prepared bytes when the
 * question was answered before (prepared.ts), else parse, answer from the current view, write,
 * and prepare. A new View object (its data changed) has no prepared answers.
 */
import {
  answerFrom,
  PreparedAnswers,
  questionHash,
  Scan,
  scanQuery,
  signature,
  sizeLimit,
  ttlClock,
} from "./prepared.js";
import { claimAgeing } from "./ttl-cache.js";
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
const HEADER = 12;
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
  private readonly prepared: PreparedAnswers;
  private readonly scan = new Scan();
  private readonly maxUdp: number;
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
    this.prepared = new PreparedAnswers(opts.cacheSize ?? 50_000);
  }

  stats(): DnsStats {
    return { ...this.counters, rcodes: { ...this.counters.rcodes } };
  }

  /**
   * The response to send, or undefined to send nothing. Never throws. `reuse`: the caller sends
   * the response before the next call and nothing it sent earlier still holds a buffer, so a
   * prepared answer may be patched in its own bytes rather than copied (the UDP side, when its
   * send queue is empty, or the batched one, which copies each answer out before the next).
   * `len`: the query is msg[0, len) (a batch's slot is longer than its query).
   */
  handle(
    msg: Buffer,
    transport: Transport,
    reuse = false,
    len = msg.length,
  ): Buffer | undefined | Promise<Buffer | undefined> {
    this.counters.queries++;
    if (transport === "udp") this.counters.udpQueries++;
    else this.counters.tcpQueries++;
    try {
      const view = this.opts.view();
      if (!isPromise(view) && scanQuery(msg, transport === "tcp", this.maxUdp, this.scan, len)) {
        const s = this.scan;
        const e = this.prepared.find(view, msg, HEADER, s.qEnd, s.hash, s.sig);
        if (e) {
          this.counters.cacheHits++;
          const id = (msg[0]! << 8) | msg[1]!;
          return this.sent(answerFrom(e, id, msg, HEADER, s.qEnd, reuse), e.rcode, e.truncated);
        }
      }
      // The parser's objects may outlive the call (an answer that comes later): its own bytes.
      if (len !== msg.length) msg = Buffer.from(msg.subarray(0, len));
      return this.dispatch(msg, transport, view);
    } catch {
      return this.internalError(len !== msg.length ? msg.subarray(0, len) : msg, transport);
    }
  }

  private dispatch(
    msg: Buffer,
    transport: Transport,
    view: View | Promise<View>,
  ): Buffer | undefined | Promise<Buffer | undefined> {
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
    if (isPromise(view))
      return view.then((v) => this.answer(v, q, limit, transport)).catch(() => this.fail(q, transport));
    return this.answer(view, q, limit, transport);
  }

  private answer(
    view: View,
    q: Query & { question: Question },
    limit: number,
    transport: Transport,
  ): Buffer | Promise<Buffer> {
    const raw = q.question.raw;
    const hash = questionHash(raw, 0, raw.length);
    const e = q.edns;
    const sig = signature(limit, e !== undefined, e?.do === true, q.rd, q.cd);
    const hit = this.prepared.find(view, raw, 0, raw.length, hash, sig);
    if (hit) {
      this.counters.cacheHits++;
      return this.sent(answerFrom(hit, q.id, raw, 0, raw.length), hit.rcode, hit.truncated);
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
      const rcode = RCODE[a.rcode];
      // The entry keeps its own copy: `buf` goes out now, and the entry's bytes may be patched in place.
      if (a.cacheable !== false) {
        const bytes = Buffer.from(buf);
        // A forwarded answer as the TTL cache kept it: its TTLs count down in the entry's bytes.
        const ttl = claimAgeing(a, (ageing) => ttlClock(bytes, ageing));
        this.prepared.store(view, raw, hash, { sig, bytes, rcode, truncated, fresh: a.fresh, ttl });
      }
      return this.sent(buf, rcode, truncated);
    };
    if (isPromise(result)) return result.then(finish, () => this.fail(q, transport));
    return finish(result);
  }

  private limit(q: Query, transport: Transport): number {
    return sizeLimit(transport === "tcp", q.edns !== undefined, q.edns?.udpSize ?? 0, this.maxUdp);
  }

  private reply(q: Query, transport: Transport, rcode: number): Buffer {
    const { buf } = writeResponse({
      query: q,
      rcode,
      limit: this.limit(q, transport),
      advertise: this.maxUdp,
    });
    return this.sent(buf, rcode, false);
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

  private sent(buf: Buffer, rcode: number, truncated: boolean): Buffer {
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

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown })?.then === "function";
}
