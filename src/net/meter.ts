import type { FlowInfo, FlowTaps, RefusedFlow } from "./flow-tap.js";
import type { CloseReason, RelayMeter } from "./relay.js";

export interface Counters {
  bytesIn: number;
  bytesOut: number;
  newConnections: number;
  activeConnections: number;
  resets: number;
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
  dropped: 0,
});

/** What a connection reports to when metering is off (the benchmark's baseline). */
const UNMETERED: RelayMeter & { track(r: { report(): void }): void } = {
  track: () => undefined,
  bytesIn: () => undefined,
  bytesOut: () => undefined,
  closed: () => undefined,
};

/**
 * Per-ENI, per-endpoint and per-NAT-gateway counters. The per-byte cost is the relay's (it reads the sockets'
 * own byte counters); the meter adds deltas. Active connections are not persisted: after a
 * restart none is open.
 */
export class Meter {
  private readonly endpoints = new Map<string, Counters>();
  private readonly enis = new Map<string, Counters>();
  private readonly nats = new Map<string, Counters>();
  /** Live connections' reporters, polled before a snapshot so that open transfers show. */
  private readonly live = new Set<{ report(): void }>();
  private dirty = false;
  /** Flow logs and the console listen here; the host sets it. */
  taps?: FlowTaps;
  /**
   * For the metering benchmark ONLY (bench/metering.ts): off, connections are neither counted
   * nor shown to the taps (no metrics, no flow logs, no cost), so the same run can price metering.
   */
  enabled = true;

  constructor(private readonly store?: MeterStore) {
    const saved = store?.load();
    if (saved) this.restore(saved);
  }

  /** A relay meter for one admitted connection, counted on its ENI, endpoint and NAT gateway. */
  open(
    eniId: string | undefined,
    endpointId: string | undefined,
    natGatewayId?: string,
    flow?: FlowInfo,
  ): RelayMeter & { track(r: { report(): void }): void } {
    if (!this.enabled) return UNMETERED;
    const rows = this.rows(eniId, endpointId);
    const tap = flow && this.taps?.size ? this.taps.opened(flow) : undefined;
    if (natGatewayId) rows.push(row(this.nats, natGatewayId));
    for (const c of rows) {
      c.newConnections++;
      c.activeConnections++;
    }
    this.dirty = true;
    let tracked: { report(): void } | undefined;
    return {
      track: (r) => {
        tracked = r;
        this.live.add(r);
      },
      bytesIn: (n) => {
        for (const c of rows) c.bytesIn += n;
        this.dirty = true;
        tap?.bytesIn(n);
      },
      bytesOut: (n) => {
        for (const c of rows) c.bytesOut += n;
        this.dirty = true;
        tap?.bytesOut(n);
      },
      closed: (reason: CloseReason) => {
        tap?.closed(reason);
        if (tracked) this.live.delete(tracked);
        for (const c of rows) {
          c.activeConnections--;
          if (reason !== "fin") c.resets++;
        }
        this.dirty = true;
      },
    };
  }

  /** A refused flow (answered with a reset, or a 403 at the workload proxy). */
  dropped(eniId: string | undefined, endpointId: string | undefined, flow?: RefusedFlow): void {
    if (!this.enabled) return;
    for (const c of this.rows(eniId, endpointId)) c.dropped++;
    this.dirty = true;
    if (flow) this.taps?.refused(flow);
  }

  /** Makes open connections report their bytes so far (flow-log windows close on time). */
  poll(): void {
    for (const r of this.live) r.report();
  }

  snapshot(): Stats {
    for (const r of this.live) r.report();
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
        this.endpoints.set(vpcEndpointId, { ...c, activeConnections: 0 });
      for (const { networkInterfaceId, ...c } of s.enis ?? [])
        this.enis.set(networkInterfaceId, { ...c, activeConnections: 0 });
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
