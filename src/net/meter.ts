import type { FlowInfo, FlowTaps, RefusedFlow } from "./flow-tap.js";
import { type Linked, Links } from "./links.js";
import type { CloseReason, RelayMeter } from "./relay.js";

export interface Counters {
  bytesIn: number;
  bytesOut: number;
  newConnections: number;
  activeConnections: number;
  resets: number;
  /** Connections reset because no byte moved for the idle timeout (also counted in resets). */
  idleTimeouts: number;
  dropped: number;
}

/** What a NAT gateway is billed on (per GB processed), for the cost report. */
export type NatCounters = Pick<Counters, "bytesIn" | "bytesOut" | "newConnections">;

export interface Stats {
  endpoints: ({ vpcEndpointId: string } & Counters)[];
  enis: ({ networkInterfaceId: string } & Counters)[];
  natGateways: ({ natGatewayId: string } & NatCounters)[];
}

/** Where counters survive a restart (the SQLite meta table in privlink). */
export interface MeterStore {
  load(): string | undefined;
  save(json: string): void;
}

const zero = (): Counters => ({
  bytesIn: 0,
  bytesOut: 0,
  newConnections: 0,
  activeConnections: 0,
  resets: 0,
  idleTimeouts: 0,
  dropped: 0,
});

/** One admitted connection's counting: the relay reports to it, the owner tracks the relay. */
export interface FlowCounter extends RelayMeter {
  /** Registers the live relay, polled for its bytes so far before a snapshot. */
  track(r: { report(): void }): void;
}

/**
 * Where admitted and refused flows are counted: the Meter, or NO_METER when metering is off.
 * The data plane calls through this interface and never asks whether metering is on.
 */
export interface FlowMeter {
  /** Whether anyone (flow logs, the console) wants the FlowInfo of opened flows: else pass none. */
  readonly watched: boolean;
  open(
    eniId: string | undefined,
    endpointId: string | undefined,
    natGatewayId?: string,
    flow?: FlowInfo,
  ): FlowCounter;
  dropped(eniId: string | undefined, endpointId: string | undefined, flow?: RefusedFlow): void;
}

const noop = (): void => undefined;
const UNCOUNTED: FlowCounter = { track: noop, bytesIn: noop, bytesOut: noop, closed: noop };

/**
 * Metering off (the metering benchmark's baseline, bench/metering.ts): no counter, no metric,
 * no flow log, no cost. One shared object; nothing is allocated per flow.
 */
export const NO_METER: FlowMeter = {
  watched: false,
  open: () => UNCOUNTED,
  dropped: noop,
};

/**
 * A connection's counter rows; its methods are shared, so a connection costs one object. While
 * its relay is tracked it is linked into the meter's live connections through its own fields:
 * no Set to hash into and rehash as thousands a second come and go (issue 12).
 */
class Counted implements FlowCounter, Linked<Counted> {
  tracked: { report(): void } | undefined = undefined;
  older: Counted | undefined = undefined;
  newer: Counted | undefined = undefined;
  listed = false;

  constructor(
    private readonly meter: Meter,
    private readonly eni: Counters | undefined,
    private readonly endpoint: Counters | undefined,
    private readonly nat: Counters | undefined,
    private readonly tap: RelayMeter | undefined,
  ) {
    countOpened(eni);
    countOpened(endpoint);
    countOpened(nat);
  }

  track(r: { report(): void }): void {
    if (!this.listed) this.meter.live.add(this);
    this.tracked = r;
  }

  bytesIn(n: number): void {
    if (this.eni) this.eni.bytesIn += n;
    if (this.endpoint) this.endpoint.bytesIn += n;
    if (this.nat) this.nat.bytesIn += n;
    this.meter.dirty = true;
    this.tap?.bytesIn(n);
  }

  bytesOut(n: number): void {
    if (this.eni) this.eni.bytesOut += n;
    if (this.endpoint) this.endpoint.bytesOut += n;
    if (this.nat) this.nat.bytesOut += n;
    this.meter.dirty = true;
    this.tap?.bytesOut(n);
  }

  closed(reason: CloseReason): void {
    this.tap?.closed(reason);
    this.meter.live.delete(this);
    this.tracked = undefined;
    countClosed(this.eni, reason);
    countClosed(this.endpoint, reason);
    countClosed(this.nat, reason);
    this.meter.dirty = true;
  }
}

function countOpened(c: Counters | undefined): void {
  if (!c) return;
  c.newConnections++;
  c.activeConnections++;
}

function countClosed(c: Counters | undefined, reason: CloseReason): void {
  if (!c) return;
  c.activeConnections--;
  if (reason !== "fin") c.resets++;
  if (reason === "idle") c.idleTimeouts++;
}

/**
 * Per-ENI, per-endpoint and per-NAT-gateway counters. The per-byte cost is the relay's (it reads the sockets'
 * own byte counters); the meter adds deltas. Active connections are not persisted: after a
 * restart none is open.
 */
export class Meter implements FlowMeter {
  private readonly endpoints = new Map<string, Counters>();
  private readonly enis = new Map<string, Counters>();
  private readonly nats = new Map<string, Counters>();
  /** Live connections, polled before a snapshot so that open transfers show. */
  readonly live = new Links<Counted>();
  dirty = false;
  /** Flow logs and the console listen here; the host sets it. */
  taps?: FlowTaps;

  constructor(private readonly store?: MeterStore) {
    const saved = store?.load();
    if (saved) this.restore(saved);
  }

  get watched(): boolean {
    return (this.taps?.size ?? 0) > 0;
  }

  /** The counter of one admitted connection, counted on its ENI, endpoint and NAT gateway. */
  open(
    eniId: string | undefined,
    endpointId: string | undefined,
    natGatewayId?: string,
    flow?: FlowInfo,
  ): FlowCounter {
    const tap = flow && this.taps?.size ? this.taps.opened(flow) : undefined;
    this.dirty = true;
    return new Counted(
      this,
      eniId ? row(this.enis, eniId) : undefined,
      endpointId ? row(this.endpoints, endpointId) : undefined,
      natGatewayId ? row(this.nats, natGatewayId) : undefined,
      tap,
    );
  }

  /** A refused flow (answered with a reset, or a 403 at the workload proxy). */
  dropped(eniId: string | undefined, endpointId: string | undefined, flow?: RefusedFlow): void {
    for (const c of this.rows(eniId, endpointId)) c.dropped++;
    this.dirty = true;
    if (flow) this.taps?.refused(flow);
  }

  /** Makes open connections report their bytes so far (flow-log windows close on time). */
  poll(): void {
    for (const c of this.live) c.tracked?.report();
  }

  snapshot(): Stats {
    this.poll();
    return {
      endpoints: [...this.endpoints].map(([vpcEndpointId, c]) => ({ vpcEndpointId, ...c })),
      enis: [...this.enis].map(([networkInterfaceId, c]) => ({ networkInterfaceId, ...c })),
      natGateways: [...this.nats].map(([natGatewayId, c]) => ({
        natGatewayId,
        bytesIn: c.bytesIn,
        bytesOut: c.bytesOut,
        newConnections: c.newConnections,
      })),
    };
  }

  /** Writes the counters when anything changed; cheap to call on a timer. */
  flush(): void {
    if (!this.store) return;
    const snap = this.snapshot();
    if (!this.dirty) return;
    this.dirty = false;
    this.store.save(JSON.stringify(snap));
  }

  clear(): void {
    this.endpoints.clear();
    this.enis.clear();
    this.nats.clear();
    this.dirty = true;
  }

  private rows(eniId: string | undefined, endpointId: string | undefined): Counters[] {
    const out: Counters[] = [];
    if (eniId) out.push(row(this.enis, eniId));
    if (endpointId) out.push(row(this.endpoints, endpointId));
    return out;
  }

  private restore(json: string): void {
    try {
      const s = JSON.parse(json) as Stats;
      for (const { vpcEndpointId, ...c } of s.endpoints ?? [])
        this.endpoints.set(vpcEndpointId, { ...zero(), ...c, activeConnections: 0 });
      for (const { networkInterfaceId, ...c } of s.enis ?? [])
        this.enis.set(networkInterfaceId, { ...zero(), ...c, activeConnections: 0 });
      for (const { natGatewayId, ...c } of s.natGateways ?? [])
        this.nats.set(natGatewayId, { ...zero(), ...c });
    } catch {
      // A damaged snapshot costs at most the counters, never the start-up.
    }
  }
}

function row(map: Map<string, Counters>, id: string): Counters {
  let c = map.get(id);
  if (!c) {
    c = zero();
    map.set(id, c);
  }
  return c;
}
