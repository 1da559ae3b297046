import {
  DEFAULT_LOG_FORMAT,
  type FlowRecord,
  keeps,
  parseLogFormat,
  renderRecord,
  setDeliveryStatus,
  type TgwEnd,
  type TgwRecordFields,
  watches,
} from "../../cloud/flow-log.js";
import type { State } from "../../cloud/state.js";
import type { Eni, FlowLog } from "../../cloud/types.js";
import type { FlowInfo, FlowTap, RefusedFlow } from "../../net/flow-tap.js";
import { type Linked, Links } from "../../net/links.js";
import type { CloseReason, RelayMeter } from "../../net/relay.js";
import { type DestinationTable, deliverBatch, type FlowLogBatch } from "./destinations.js";
import { linesOf, Spool } from "./spool.js";

const TCP = 6;
const SYN = 2;
const FIN = 1;
const RST = 4;
const SYN_ACK = 18;
/** A refused connection is one SYN: 1 packet of 60 bytes (20 IP + 40 TCP with options). */
const SYN_BYTES = 60;
/** Segments are estimated at the loopback-safe Ethernet MSS. */
const MSS = 1448;

/** An interface a flow log writes a flow's window on, and which end of the flow it is. */
interface End {
  readonly eni: Eni;
  /** Is this interface the flow's source (its requests leave here) or its destination? */
  readonly side: "src" | "dst";
  /** Its default-format lines' first values ("2 account-id interface-id"), once asked for. */
  prefix?: Buffer;
}

/** The interfaces one flow log writes a flow on, for the flows between two interfaces. */
interface Plan {
  readonly flowLog: FlowLog;
  readonly ends: readonly End[];
}

/**
 * A flow as one flow log sees it, on every interface of the flow that flow log watches: one
 * window for them all, since both ends of a VPC flow count the same packets in the same window
 * (a record per interface is written from it). The relay reports to the first flow log's
 * watch, which passes each report along its `next` (another flow log watching the flow): one
 * object per connection and flow log, no list and no closures (issue 12: metering at most 5 %
 * of a connection's cost).
 */
class Watch implements RelayMeter, Linked<Watch> {
  /** Unix seconds; undefined while the window holds nothing. */
  first: number | undefined = undefined;
  last: number;
  opened: number;
  /** The request (req*) and response (resp*) directions in this window, as plain fields. */
  reqBytes = 0;
  reqFlags = 0;
  reqSegments = 0;
  respBytes = 0;
  respFlags = 0;
  respSegments = 0;
  /** The next flow log's watch of the same flow. */
  next: Watch | undefined = undefined;
  /** Its neighbours among open flows' watches, and whether it is there. */
  older: Watch | undefined = undefined;
  newer: Watch | undefined = undefined;
  listed = false;

  constructor(
    private readonly recorder: FlowLogRecorder,
    readonly flowLog: FlowLog,
    readonly ends: readonly End[],
    readonly flow: FlowInfo,
    readonly action: "ACCEPT" | "REJECT",
    t: number,
    /** A transit gateway flow log's watch: the attachment on this side and both ends. */
    readonly tgw?: TgwRecordFields,
  ) {
    this.last = t;
    this.opened = t;
  }

  bytesIn(n: number): void {
    countBytes(this, this.recorder.nowSec(), n, true);
  }

  bytesOut(n: number): void {
    countBytes(this, this.recorder.nowSec(), n, false);
  }

  closed(reason: CloseReason): void {
    const now = this.recorder.nowSec();
    const flag = reason === "fin" ? FIN : RST;
    for (let w: Watch | undefined = this; w; w = w.next) {
      w.first ??= now;
      w.last = now;
      w.reqFlags |= flag;
      w.respFlags |= flag;
      w.reqSegments++;
      w.respSegments++;
      this.recorder.settle(w);
    }
  }
}

/** Empties a watch's window (it stays for the flow's next one). */
function emptyWindow(w: Watch): void {
  w.reqBytes = w.reqFlags = w.reqSegments = 0;
  w.respBytes = w.respFlags = w.respSegments = 0;
}

/** The map under `key`, added empty when missing. */
function innerMap<K, K2, V>(outer: Map<K, Map<K2, V>>, key: K): Map<K2, V> {
  let inner = outer.get(key);
  if (!inner) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}

/** Bytes of one direction (the request's, or the response's) on each flow log's watch of a flow. */
function countBytes(head: Watch, now: number, n: number, request: boolean): void {
  const segments = Math.ceil(n / MSS);
  for (let w: Watch | undefined = head; w; w = w.next) {
    w.first ??= now;
    w.last = now;
    if (request) {
      w.reqBytes += n;
      w.reqSegments += segments;
    } else {
      w.respBytes += n;
      w.respSegments += segments;
    }
  }
}

/** A flow log's fields, and whether they are the default (version 2) format's. */
interface Format {
  readonly fields: string[];
  readonly v2: boolean;
}

const V2_FIELDS = parseLogFormat(DEFAULT_LOG_FORMAT).join(" ");

function formatOf(logFormat: string): Format {
  const fields = parseLogFormat(logFormat);
  return { fields, v2: fields.join(" ") === V2_FIELDS };
}

/** A record's bytes: what was counted, else a REJECT's SYN or 40 bytes of headers a packet. */
const bytesOf = (w: Watch, bytes: number, packets: number): number =>
  bytes || (w.action === "REJECT" ? SYN_BYTES : 40 * packets);

/** A window's end: its last activity, never before its start. */
const endOf = (w: Watch): number => Math.max(w.last, w.first!);

/** What a window's two default-format lines share; one is reused, so a line builds no object. */
interface V2Window {
  /** The version, account and interface, as bytes (v2Prefix). */
  prefix: Uint8Array;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  first: number;
  end: number;
  action: string;
}

/**
 * One direction's line in the default format (`forward`: the request's), written into the
 * spool value by value: the same bytes as `renderRecord` gives for the record (recorder.test.ts
 * compares the two), with no record and no string built. Most flow logs use this format, and a
 * connection's young garbage was mostly its lines (issue 12).
 */
function writeV2(spool: Spool, w: V2Window, forward: boolean, packets: number, bytes: number): void {
  spool.open();
  spool.bytes(w.prefix);
  spool.str(forward ? w.srcIp : w.dstIp);
  spool.str(forward ? w.dstIp : w.srcIp);
  spool.num(forward ? w.srcPort : w.dstPort);
  spool.num(forward ? w.dstPort : w.srcPort);
  spool.num(TCP);
  spool.num(packets);
  spool.num(bytes);
  spool.num(w.first);
  spool.num(w.end);
  spool.str(w.action);
  spool.str("OK");
  spool.close();
}

/**
 * A default-format line's first three values, the same on every line of an interface: copied
 * as bytes, where writing them character by character was a third of the rendering (issue 12).
 */
const v2Prefix = (accountId: string, eniId: string): Buffer => Buffer.from(`2 ${accountId} ${eniId}`);

/** An interface's default-format prefix: kept on the end, which lives as long as its plan. */
const prefixOf = (end: End): Buffer => {
  end.prefix ??= v2Prefix(end.eni.accountId, end.eni.id);
  return end.prefix;
};

/** Where a default-format window's numbers sit in its `Settled` entry, and how many there are. */
const AT = {
  due: 0,
  first: 1,
  end: 2,
  reqBytes: 3,
  reqPackets: 4,
  respBytes: 5,
  respPackets: 6,
  srcPort: 7,
  dstPort: 8,
  accepted: 9,
} as const;
const NUMS = 10;
/** Its references: all long-lived (the State's flow log, the interfaces' ends, their addresses). */
const REFS = 4;

/**
 * Default-format windows of closed flows (and refusals), kept as numbers in one typed array
 * until the next tick renders them: a connection's close only copies ten numbers and four
 * references, and the rendering runs in one loop at the tick instead of on each connection's
 * turn, where it ran with cold caches at about three times its loop cost (issue 12). Nothing
 * per connection is kept: the references are the State's objects, the ends a flow log writes
 * on (kept per pair of interfaces) and the interfaces' addresses. One entry serves all the
 * interfaces of a flow a flow log watches.
 */
class Settled {
  nums = new Float64Array(NUMS * 256);
  /**
   * Written by index and never shortened, so its capacity carries over from tick to tick (an
   * array emptied by `length = 0` grew again by copies every tick); cleared slots hold undefined.
   */
  readonly refs: (FlowLog | readonly End[] | string | undefined)[] = [];
  count = 0;

  add(w: Watch, due: number): void {
    if ((this.count + 1) * NUMS > this.nums.length) {
      const grown = new Float64Array(this.nums.length * 2);
      grown.set(this.nums);
      this.nums = grown;
    }
    const f = w.flow;
    const at = this.count++ * NUMS;
    const n = this.nums;
    n[at + AT.due] = due;
    n[at + AT.first] = w.first!;
    n[at + AT.end] = endOf(w);
    n[at + AT.reqPackets] = w.reqSegments;
    n[at + AT.reqBytes] = bytesOf(w, w.reqBytes, w.reqSegments);
    n[at + AT.respPackets] = w.action === "ACCEPT" ? w.respSegments : 0;
    n[at + AT.respBytes] = bytesOf(w, w.respBytes, w.respSegments);
    n[at + AT.srcPort] = f.srcPort;
    n[at + AT.dstPort] = f.dstPort;
    n[at + AT.accepted] = w.action === "ACCEPT" ? 1 : 0;
    const r = this.refs;
    const i = (this.count - 1) * REFS;
    r[i] = w.flowLog;
    r[i + 1] = w.ends;
    r[i + 2] = f.srcIp;
    r[i + 3] = f.dstIp;
  }

  clear(): void {
    // The slots let go of what they held (a deleted flow log), but the array keeps its size; a
    // plain loop, where `fill` added ~0.4 µs a connection to the tick.
    const r = this.refs;
    for (let i = this.count * REFS - 1; i >= 0; i--) r[i] = undefined;
    this.count = 0;
  }
}

/** The lines of one flow log's interface (or TGW attachment) whose windows end at one time. */
interface Pending {
  readonly flowLog: FlowLog;
  /** Unix seconds of the earliest record's start. */
  start: number;
  readonly spool: Spool;
}

/**
 * A delivery being put together: one per flow log and stream per tick. Its lines stay bytes
 * for the destinations that write bytes (file, S3); decoding every line into a string, then
 * joining and encoding them again cost the main thread per line for nothing.
 */
class Batch implements FlowLogBatch {
  readonly text: Buffer[] = [];
  private decoded?: string[];

  constructor(
    readonly flowLog: FlowLog,
    readonly interfaceId: string,
    readonly header: string,
    public start: number,
  ) {}

  get lines(): string[] {
    this.decoded ??= linesOf(this.text);
    return this.decoded;
  }
}

/**
 * VPC Flow Logs from the data plane's real flows and refusals: each open flow is counted per
 * watching flow log and interface, aggregated over the flow log's MaxAggregationInterval on the
 * injected clock, and delivered as lines in the flow log's format once the window is over. A
 * flow's last window is settled when it closes (a refusal's at once): kept as numbers until the
 * next tick renders it (default format) or rendered at once (others), then it waits as text,
 * so nothing per connection outlives the connection. Nothing is kept for flows no flow log
 * watches, so flow logs cost nothing until one exists.
 */
export class FlowLogRecorder implements FlowTap {
  /** Open flows' watches: their windows close on the timer while the flow goes on. */
  private readonly open = new Links<Watch>();
  /** Rendered lines by flow log ID, stream and due time (no key string built per close). */
  private readonly pending = new Map<string, Map<string, Map<number, Pending>>>();
  private readonly settled = new Settled();
  /** The window being written in the default format (one, reused). */
  private readonly v2: V2Window = {
    prefix: Buffer.alloc(0),
    srcIp: "",
    dstIp: "",
    srcPort: 0,
    dstPort: 0,
    first: 0,
    end: 0,
    action: "",
  };
  private cache?: {
    version: number;
    logs: FlowLog[];
    byId: Map<string, Format>;
    /** Plans by action, source then destination interface: flows between two interfaces repeat. */
    plans: Record<"ACCEPT" | "REJECT", Map<string | undefined, Map<string | undefined, readonly Plan[]>>>;
  };

  constructor(
    private readonly state: State,
    private readonly destinations: DestinationTable,
    /** The injected clock in Unix milliseconds. */
    private readonly nowMs: () => number,
    /** Makes open connections report their bytes (Meter.poll). */
    private readonly poll: () => void = () => undefined,
  ) {}

  opened(flow: FlowInfo): RelayMeter | undefined {
    const logs = this.logs();
    if (logs.length === 0) return undefined;
    const t = this.nowSec();
    const head = this.watchesFor(flow, "ACCEPT", logs, t);
    for (let w = head; w; w = w.next) {
      w.first = t;
      w.reqFlags |= SYN;
      w.respFlags |= SYN_ACK;
      w.reqSegments++;
      w.respSegments++;
      this.open.add(w);
    }
    return head;
  }

  refused(flow: RefusedFlow): void {
    const logs = this.logs();
    if (logs.length === 0) return;
    const t = this.nowSec();
    for (let w = this.watchesFor(flow, "REJECT", logs, t); w; w = w.next) {
      w.first = t;
      w.reqBytes = SYN_BYTES;
      w.reqFlags = SYN;
      w.reqSegments = 1;
      this.settle(w);
    }
  }

  /**
   * A flow's last window on one watch, due when the window is over (the watch's open time plus
   * the interval, when the timer would have delivered it): kept as numbers for the next tick to
   * render in the default format, rendered now in the others.
   */
  settle(w: Watch): void {
    this.open.delete(w);
    const format = this.formatOf(w.flowLog.id);
    // A flow log deleted meanwhile delivers nothing more.
    if (!format) return;
    const due = w.opened + w.flowLog.maxAggregationInterval;
    if (format.v2 && !w.tgw) this.settled.add(w, due);
    else this.spool(w, format, due);
  }

  /** The settled default-format windows rendered into their lines, in the order they closed. */
  private renderSettled(): void {
    const { nums: n, refs, count } = this.settled;
    for (let i = 0; i < count; i++) {
      const at = i * NUMS;
      const fl = refs[i * REFS] as FlowLog;
      // A flow log deleted meanwhile delivers nothing more.
      if (!this.formatOf(fl.id)) continue;
      const ends = refs[i * REFS + 1] as readonly End[];
      const v = this.v2;
      v.srcIp = refs[i * REFS + 2] as string;
      v.dstIp = refs[i * REFS + 3] as string;
      v.srcPort = n[at + AT.srcPort]!;
      v.dstPort = n[at + AT.dstPort]!;
      v.first = n[at + AT.first]!;
      v.end = n[at + AT.end]!;
      v.action = n[at + AT.accepted] ? "ACCEPT" : "REJECT";
      for (const end of ends) {
        v.prefix = prefixOf(end);
        const spool = this.pendingOf(fl, end.eni.id, n[at + AT.due]!, v.first).spool;
        if (n[at + AT.reqPackets]! > 0) writeV2(spool, v, true, n[at + AT.reqPackets]!, n[at + AT.reqBytes]!);
        if (n[at + AT.respPackets]! > 0)
          writeV2(spool, v, false, n[at + AT.respPackets]!, n[at + AT.respBytes]!);
      }
    }
    this.settled.clear();
  }

  /**
   * Closes every capture window that is over and delivers its records; `early` delivers closed
   * flows' lines before their window ends too (the metering bench charges delivery to the round
   * whose connections made the lines, rather than to whichever round runs when the window ends).
   */
  async tick(early = false): Promise<void> {
    this.poll();
    this.renderSettled();
    const now = this.nowSec();
    // Open flows whose window is over: their lines are due now, and a new window starts.
    for (const w of this.open) {
      if (w.first === undefined) continue;
      if (now - w.opened < w.flowLog.maxAggregationInterval && !this.gone(w)) continue;
      const f = this.formatOf(w.flowLog.id);
      if (!f) {
        this.open.delete(w);
        continue;
      }
      this.spool(w, f, now);
      w.first = undefined;
      w.opened = now;
      emptyWindow(w);
    }
    const batches: Batch[] = [];
    for (const [flowLogId, streams] of this.pending) {
      const f = this.formatOf(flowLogId);
      // A flow log deleted meanwhile delivers nothing more.
      if (!f) {
        this.pending.delete(flowLogId);
        continue;
      }
      for (const [stream, byDue] of streams) {
        let b: Batch | undefined;
        for (const [due, p] of byDue) {
          if (due > now && !early) continue;
          byDue.delete(due);
          if (!b) {
            // A TGW flow log's records go by attachment, a VPC one's by interface.
            b = new Batch(p.flowLog, stream, f.fields.join(" "), p.start);
            batches.push(b);
          } else if (p.start < b.start) b.start = p.start;
          for (const c of p.spool.chunks()) b.text.push(c);
        }
        if (byDue.size === 0) streams.delete(stream);
      }
      if (streams.size === 0) this.pending.delete(flowLogId);
    }
    await Promise.all(batches.map((b) => this.deliver(b)));
  }

  /** Checks a new or changed flow log's destination, so DescribeFlowLogs tells a failure at once. */
  checkDestinations(): void {
    for (const fl of this.state.all("flowLog")) {
      const problem = this.destinations[fl.logDestinationType].problem(fl);
      if (problem !== (fl.deliverLogsStatus === "FAILED" ? fl.deliverLogsErrorMessage : undefined))
        this.state.transact((tx) => setDeliveryStatus(tx, fl.id, problem));
    }
  }

  clear(): void {
    this.open.clear();
    this.pending.clear();
    this.settled.clear();
  }

  private gone(w: Watch): boolean {
    return !this.state.get("flowLog", w.flowLog.id);
  }

  private deliver(b: FlowLogBatch): Promise<void> {
    return deliverBatch(this.state, this.destinations, b);
  }

  /** A watch's window rendered into the lines due at `due` for its flow log and streams. */
  private spool(w: Watch, format: Format, due: number): void {
    for (const end of w.ends)
      this.render(
        w,
        end,
        format,
        this.pendingOf(w.flowLog, w.tgw?.attachmentId ?? end.eni.id, due, w.first!).spool,
      );
  }

  /** The lines due at `due` for a flow log's stream (a TGW attachment, or an interface). */
  private pendingOf(flowLog: FlowLog, stream: string, due: number, first: number): Pending {
    const byDue = innerMap(innerMap(this.pending, flowLog.id), stream);
    let p = byDue.get(due);
    if (!p) {
      p = { flowLog, start: first, spool: new Spool() };
      byDue.set(due, p);
    } else if (first < p.start) p.start = first;
    return p;
  }

  /**
   * The request-direction and response-direction records of a window, as AWS logs both, rendered
   * into `spool` as they are built (no list of them per close). Each record is one object
   * literal: spreading a shared base into it made V8 build every record the slow way (about 25
   * times the cost), which mattered once records are rendered per close.
   */
  private render(w: Watch, end: End, format: Format, spool: Spool): void {
    const t = w.tgw;
    const { eni } = end;
    const accountId = t
      ? (this.state.get("transitGateway", t.tgwId)?.accountId ?? eni.accountId)
      : eni.accountId;
    const req = w.reqSegments > 0;
    const resp = w.action === "ACCEPT" && w.respSegments > 0;
    if (format.v2) {
      const v = this.v2;
      const f = w.flow;
      // A TGW flow log's lines carry the TGW owner's account.
      v.prefix = t ? v2Prefix(accountId, eni.id) : prefixOf(end);
      v.srcIp = f.srcIp;
      v.dstIp = f.dstIp;
      v.srcPort = f.srcPort;
      v.dstPort = f.dstPort;
      v.first = w.first!;
      v.end = endOf(w);
      v.action = w.action;
      if (req) writeV2(spool, v, true, w.reqSegments, bytesOf(w, w.reqBytes, w.reqSegments));
      if (resp) writeV2(spool, v, false, w.respSegments, bytesOf(w, w.respBytes, w.respSegments));
      return;
    }
    const { fields } = format;
    const azId = this.state.get("subnet", eni.subnetId)?.azId;
    if (req)
      spool.append(
        renderRecord(
          fields,
          this.record(w, end, true, accountId, azId, w.reqBytes, w.reqFlags, w.reqSegments),
        ),
      );
    if (resp)
      spool.append(
        renderRecord(
          fields,
          this.record(w, end, false, accountId, azId, w.respBytes, w.respFlags, w.respSegments),
        ),
      );
  }

  /** One direction's record: `forward` is the request's (source to destination). */
  private record(
    w: Watch,
    { eni, side }: End,
    forward: boolean,
    accountId: string,
    azId: string | undefined,
    bytes: number,
    tcpFlags: number,
    packets: number,
  ): FlowRecord {
    const f = w.flow;
    const t = w.tgw;
    return {
      accountId,
      interfaceId: eni.id,
      protocol: TCP,
      start: w.first!,
      end: endOf(w),
      action: w.action,
      vpcId: eni.vpcId,
      subnetId: eni.subnetId,
      instanceId: eni.attachment?.instanceId,
      region: eni.region,
      azId,
      trafficPath: f.trafficPath,
      tgw: t && (forward ? t : { ...t, src: t.dst, dst: t.src }),
      srcaddr: forward ? f.srcIp : f.dstIp,
      dstaddr: forward ? f.dstIp : f.srcIp,
      srcport: forward ? f.srcPort : f.dstPort,
      dstport: forward ? f.dstPort : f.srcPort,
      packets,
      bytes: bytesOf(w, bytes, packets),
      tcpFlags,
      // An interface's egress is what leaves it; a TGW attachment's ingress is what enters the TGW.
      direction: (forward === (side === "src")) === !t ? "egress" : "ingress",
    };
  }

  /**
   * A flow's watches, chained: one per flow log watching an interface it crossed (a refusal's
   * only on the refusing interface), then one per TGW attachment and flow log there.
   */
  private watchesFor(
    flow: FlowInfo,
    action: "ACCEPT" | "REJECT",
    logs: readonly FlowLog[],
    t: number,
  ): Watch | undefined {
    let head: Watch | undefined;
    let tail: Watch | undefined;
    const rejectEniId = action === "REJECT" ? (flow as RefusedFlow).rejectEniId : undefined;
    for (const p of this.plansOf(flow.srcEniId, flow.dstEniId, action, logs)) {
      // A VPC flow log writes the REJECT on the refusing interface; a TGW one where the SYN passed.
      const ends = action === "REJECT" ? p.ends.filter((e) => e.eni.id === rejectEniId) : p.ends;
      if (ends.length === 0) continue;
      const w = new Watch(this, p.flowLog, ends, flow, action, t);
      if (tail) tail.next = w;
      else head = w;
      tail = w;
    }
    if (flow.tgwRouteTableId === undefined && (flow as RefusedFlow).tgwLoss === undefined) return head;
    for (const w of this.tgwWatches(flow, action, logs, t)) {
      if (tail) tail.next = w;
      else head = w;
      tail = w;
    }
    return head;
  }

  /** Which flow logs write the flows between two interfaces, and on which of them. */
  private plansOf(
    srcEniId: string | undefined,
    dstEniId: string | undefined,
    action: "ACCEPT" | "REJECT",
    logs: readonly FlowLog[],
  ): readonly Plan[] {
    const bySrc = innerMap(this.current().plans[action], srcEniId);
    let out = bySrc.get(dstEniId);
    if (!out) {
      out = this.planFor(srcEniId, dstEniId, action, logs);
      bySrc.set(dstEniId, out);
    }
    return out;
  }

  private planFor(
    srcEniId: string | undefined,
    dstEniId: string | undefined,
    action: "ACCEPT" | "REJECT",
    logs: readonly FlowLog[],
  ): Plan[] {
    const src = srcEniId ? this.state.get("eni", srcEniId) : undefined;
    const dst = dstEniId ? this.state.get("eni", dstEniId) : undefined;
    const out: Plan[] = [];
    for (const fl of logs) {
      if (!keeps(fl, action)) continue;
      const ends: End[] = [];
      if (src && watches(fl, src)) ends.push({ eni: src, side: "src" });
      if (dst && watches(fl, dst)) ends.push({ eni: dst, side: "dst" });
      if (ends.length > 0) out.push({ flowLog: fl, ends });
    }
    return out;
  }

  /**
   * A flow the transit gateway forwarded, on each attachment it used (the source VPC's and the
   * destination VPC's), for the flow logs of the TGW or of that attachment.
   */
  private tgwWatches(
    flow: FlowInfo & Pick<RefusedFlow, "tgwLoss">,
    action: "ACCEPT" | "REJECT",
    logs: readonly FlowLog[],
    t: number,
  ): Watch[] {
    const tgw = this.tgwOf(flow.tgwRouteTableId ?? flow.tgwLoss?.resource);
    if (!tgw) return [];
    const src = this.tgwEnd(tgw.id, flow.srcEniId);
    // A packet the TGW dropped never reached the far attachment.
    const dst = flow.tgwLoss ? undefined : this.tgwEnd(tgw.id, flow.dstEniId);
    const out: Watch[] = [];
    for (const [side, mine, other] of [
      ["src", src, dst],
      ["dst", dst, src],
    ] as const) {
      if (!mine) continue;
      for (const fl of logs) {
        const logged =
          (fl.resourceType === "TransitGateway" && fl.resourceId === tgw.id) ||
          (fl.resourceType === "TransitGatewayAttachment" && fl.resourceId === mine.attachmentId);
        if (!logged || !keeps(fl, action)) continue;
        out.push(
          new Watch(this, fl, [{ eni: mine.eni, side }], flow, action, t, {
            tgwId: tgw.id,
            attachmentId: mine.attachmentId,
            pairAttachmentId: other?.attachmentId,
            src: src?.end ?? {},
            dst: dst?.end ?? {},
            lost: flow.tgwLoss?.cause,
          }),
        );
      }
    }
    return out;
  }

  /** The TGW a route table or an attachment belongs to. */
  private tgwOf(resource: string | undefined) {
    if (!resource) return undefined;
    const owner =
      this.state.get("transitGatewayRouteTable", resource) ??
      this.state.get("transitGatewayAttachment", resource);
    return owner && this.state.get("transitGateway", owner.transitGatewayId);
  }

  /** One end of a flow through a TGW: its VPC's attachment and the attachment's interface in its AZ. */
  private tgwEnd(
    tgwId: string,
    eniId: string | undefined,
  ): { attachmentId: string; eni: Eni; end: TgwEnd } | undefined {
    const eni = eniId ? this.state.get("eni", eniId) : undefined;
    if (!eni) return undefined;
    const a = [...this.state.all("transitGatewayAttachment")].find(
      (x) => x.transitGatewayId === tgwId && x.vpc?.vpcId === eni.vpcId && x.state === "available",
    );
    if (!a?.vpc) return undefined;
    const at = a.vpc.subnets.find((s) => s.az === eni.az) ?? a.vpc.subnets[0];
    const attachmentEni = at && this.state.get("eni", at.eniId);
    return {
      attachmentId: a.id,
      eni: attachmentEni ?? eni,
      end: {
        accountId: a.accountId,
        vpcId: eni.vpcId,
        subnetId: at?.subnetId,
        eniId: at?.eniId,
        azId: at && this.state.get("subnet", at.subnetId)?.azId,
      },
    };
  }

  private logs(): FlowLog[] {
    return this.current().logs;
  }

  /** The format of a flow log that still exists. */
  private formatOf(flowLogId: string): Format | undefined {
    return this.current().byId.get(flowLogId);
  }

  private current() {
    if (this.cache?.version === this.state.version) return this.cache;
    const logs = [...this.state.all("flowLog")];
    const byId = new Map(logs.map((fl) => [fl.id, formatOf(fl.logFormat)]));
    this.cache = { version: this.state.version, logs, byId, plans: { ACCEPT: new Map(), REJECT: new Map() } };
    return this.cache;
  }

  /** The injected clock in Unix seconds. */
  nowSec(): number {
    return Math.floor(this.nowMs() / 1000);
  }
}
