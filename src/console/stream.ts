import type { IncomingMessage, ServerResponse } from "node:http";
import type { State } from "../cloud/state.js";
import type { FlowInfo, FlowTap, FlowTaps, RefusedFlow } from "../net/flow-tap.js";
import type { Stats } from "../net/meter.js";
import type { RelayMeter } from "../net/relay.js";
import type { FlowRow, StatsSample } from "./shapes.js";

export interface StreamDeps {
  state: State;
  stats: () => Stats;
  taps: FlowTaps | undefined;
  now: () => Date;
  /** Milliseconds between pushes; default 1000. */
  tickMs?: number;
}

/** Flow rows kept between two ticks; past this a burst is cut (the counters still count it). */
const MAX_PENDING = 500;

/**
 * GET /_privlink/console/stream: Server-Sent Events. Once a tick: `stats` (the meter's counters,
 * the browser turns deltas into rates), `flows` (rows opened, closed or refused since the last
 * tick) and `state` when the state version moved. The flow tap is on only while a browser listens.
 */
export class ConsoleStream {
  private readonly clients = new Set<ServerResponse>();
  private pending: FlowRow[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private untap: (() => void) | undefined;
  private lastVersion = -1;

  constructor(private readonly deps: StreamDeps) {}

  /** The SSE handler: headers, a first `hello`, then ticks until the browser goes away. */
  serve(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write(`retry: 1000\n\n`);
    res.write(event("hello", { stateVersion: this.deps.state.version, stats: this.deps.stats() }));
    this.clients.add(res);
    req.socket.setTimeout(0);
    const gone = () => this.drop(res);
    req.once("close", gone);
    res.once("error", gone);
    this.start();
  }

  close(): void {
    for (const c of this.clients) c.end();
    this.clients.clear();
    this.stop();
  }

  private drop(res: ServerResponse): void {
    this.clients.delete(res);
    if (this.clients.size === 0) this.stop();
  }

  private start(): void {
    if (this.timer) return;
    this.untap = this.deps.taps?.add(this.tap());
    this.timer = setInterval(() => this.tick(), this.deps.tickMs ?? 1000);
    this.timer.unref();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.untap?.();
    this.untap = undefined;
    this.pending = [];
  }

  private tick(): void {
    const version = this.deps.state.version;
    const stats: StatsSample = { time: this.deps.now().toISOString(), ...this.deps.stats() };
    // Each event is serialised once, whatever the number of browsers.
    let out = event("stats", stats);
    if (this.pending.length) out += event("flows", this.pending);
    if (version !== this.lastVersion) out += event("state", { stateVersion: version });
    this.lastVersion = version;
    this.pending = [];
    for (const c of this.clients) c.write(out);
  }

  private push(row: FlowRow): void {
    if (this.pending.length < MAX_PENDING) this.pending.push(row);
  }

  private tap(): FlowTap {
    const row = (f: FlowInfo, id: number, rest: Partial<FlowRow>): FlowRow => ({
      id,
      time: this.deps.now().toISOString(),
      srcEniId: f.srcEniId,
      dstEniId: f.dstEniId,
      srcIp: f.srcIp,
      dstIp: f.dstIp,
      dstPort: f.dstPort,
      verdict: "ACCEPT",
      phase: "open",
      bytesIn: 0,
      bytesOut: 0,
      ...rest,
    });
    return {
      opened: (f: FlowInfo): RelayMeter => {
        const id = ++this.seq;
        this.push(row(f, id, {}));
        let bytesIn = 0;
        let bytesOut = 0;
        return {
          bytesIn: (n) => {
            bytesIn += n;
          },
          bytesOut: (n) => {
            bytesOut += n;
          },
          closed: () => this.push(row(f, id, { phase: "closed", bytesIn, bytesOut })),
        };
      },
      refused: (f: RefusedFlow) =>
        this.push(row(f, ++this.seq, { verdict: "REJECT", phase: "refused", reason: f.reason, hop: f.hop })),
    };
  }
}

/** One Server-Sent Event. */
function event(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
