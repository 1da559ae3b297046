import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { hostAddressOf } from "../cloud/addressing.js";
import type { Readiness } from "../cloud/lifecycle.js";
import type { Change, State } from "../cloud/state.js";
import { registerTargetHealthSource, type TargetHealth } from "../cloud/target-group.js";
import type { Eni, Listener, TargetGroup, Vpc, VpcEndpoint } from "../cloud/types.js";
import {
  type Decision,
  FlowDecider,
  type FlowTarget,
  type HealthView,
  healthCheckPort,
  type ListenerView,
  MAX_CONNECTIONS_PER_ENDPOINT,
  type TargetHealthState,
  targetHost,
  throughEndpointListener,
} from "../flow/index.js";
import {
  DependencyIndex,
  type DependencyKey,
  dependencyKey,
  ShardedListeners,
} from "./endpoint-listeners.js";
import { FlowEvents } from "./flow-events.js";
import { admittedFlow, type FlowInfo, refusedFlow } from "./flow-tap.js";
import { HealthChecker, type HealthState, type HealthWatch, tcpProbe } from "./health.js";
import { IdleSweep } from "./idle-sweep.js";
import { type ListenerSpec, listenerKey, refuse } from "./listener.js";
import { type FlowCounter, type FlowMeter, Meter, NO_METER } from "./meter.js";
import { encodeProxyV2 } from "./proxy-v2.js";
import {
  AWS_IDLE_TIMEOUT_MS,
  adoptAccepted,
  type CloseReason,
  connectUpstream,
  type RelayHandle,
  type RelayMeter,
  relay,
} from "./relay.js";

/**
 * Where a target is dialled when it does not live on this host's loopback: namespace mode dials
 * a target inside the namespace that holds its private IP. Undefined: dial its host address here.
 */
export interface TargetDialer {
  dial(host: string, port: number, timeoutMs?: number): Promise<Socket> | undefined;
}

/** What the AWS service front (src/front) offers the data plane for endpoints to AWS services. */
export interface ServiceFrontHandler {
  handle(socket: Socket, info: { endpointId: string; eniId: string; clientIp: string }): void;
}

export interface DataPlaneOptions {
  state: State;
  meter?: Meter;
  events?: FlowEvents;
  health?: HealthChecker;
  /** Endpoints to AWS services get listeners on 443 only when a front takes their sockets. */
  front?: ServiceFrontHandler;
  /** A connection with no byte either way for this long is reset, as an NLB does (default 350 s). */
  idleTimeoutMs?: number;
  /** The idle sweep's monotonic clock in ms (default performance.now). */
  idleClock?: () => number;
  /**
   * The safety net behind the incremental reconciler: a full pass over every endpoint this often
   * (default 60 s; 0 turns it off). Start-up always does one.
   */
  fullReconcileMs?: number;
  /** A flood on one endpoint must not take every descriptor: beyond this, new flows are dropped. */
  maxConnectionsPerEndpoint?: number;
  /** Called after each reconcile (privlink kicks the lifecycle, which may turn endpoints available). */
  onConverged?: () => void;
  /** Ports below 1024 bind at PRIVILEGED_PORT_BASE + port when this process may not bind them. */
  mapPrivilegedPorts?: boolean;
  backlog?: number;
  /** Several hosts (src/agent): connections to VPCs another agent serves go there instead. */
  placement?: RemotePlacement;
}

/**
 * Which agent serves a VPC, asked per connection: a placement that moves takes effect on the
 * next connection without touching a listener (every agent listens on every endpoint address,
 * the entry point for the workloads on its host).
 */
export interface RemotePlacement {
  /**
   * Takes a connection to `host:servicePort` (an endpoint in `vpcId`) when another agent serves
   * that VPC, and carries it there; false when this one does, and the data plane admits it here.
   */
  divert(vpcId: string, socket: Socket, host: string, servicePort: number): boolean;
}

/** How much work the reconciler did: tests read it to see the incremental path taken. */
export interface ReconcileStats {
  /** Full passes: start-up, the periodic safety net, an index miss, or an explicit request. */
  fullPasses: number;
  incrementalPasses: number;
  /** Endpoints whose listeners were recomputed, summed over every pass. */
  endpointsReconciled: number;
  /**
   * Endpoints that full passes found out of date: each one a change the incremental path
   * missed (or that arrived while the full pass ran). Zero when the index is complete.
   */
  drift: number;
  /** The latest pass; `ms` is its time on the event loop (binding sockets not included). */
  last?: { kind: "full" | "incremental"; endpoints: number; changed: number; ms: number };
}

/** One reconcile pass, as `DataPlane.observe` reports it once its listeners are bound. */
export interface ReconcilePass {
  readonly kind: "full" | "incremental";
  /** The endpoints recomputed (every endpoint in a full pass). */
  readonly endpointIds: readonly string[];
  /** How many of them had their listeners change. */
  readonly changed: number;
  /** Time on the event loop computing the pass. */
  readonly ms: number;
  /** Time from the end of the computation until the changed listeners were bound or closed. */
  readonly bindMs: number;
}

/** Where a privileged listener port lands when it cannot be bound (`privlink exec` hides it). */
export const PRIVILEGED_PORT_BASE = 61000;

export const FULL_RECONCILE_MS = 60_000;

/** Endpoint states in which privlink listens on the endpoint's addresses (to admit or to refuse). */
const LISTENING_STATES: ReadonlySet<VpcEndpoint["state"]> = new Set([
  "pendingAcceptance",
  "pending",
  "available",
]);

/** Kinds whose changes can move a health check (listeners, target groups, target addresses). */
const HEALTH_KINDS: ReadonlySet<string> = new Set(["listener", "targetGroup", "vpc", "instance", "eni"]);

/** A pass yields to the event loop after this many endpoints, so that requests keep flowing. */
const PASS_SLICE = 1000;

interface EndpointListener extends ListenerSpec {
  readonly endpointId: string;
  readonly eniId: string;
  /** The VPC of the endpoint's interface: what placement decides on. */
  readonly vpcId: string;
  /** The port clients ask for; `port` is the one bound (they differ only when mapped). */
  readonly servicePort: number;
}

interface TargetWatch {
  readonly signature: string;
  readonly watch?: HealthWatch;
  state: TargetHealthState;
}

/** The inputs of one pass: service ports are computed once per service per pass. */
type PortsCache = Map<string, number[]>;

/** A connection's client: its host address and port (the socket's peer unless carried). */
interface Peer {
  host: string;
  port: number;
  /** Bytes the socket read that are not the flow's (a tunnel header): not metered. */
  consumed?: number;
}

/**
 * The data plane: converges listeners, health checks and open connections to the store, and
 * admits every connection through flow/. Restart = reconcile from scratch.
 *
 * Reconciling is incremental: each commit's changes name the objects that moved, an index maps
 * them to the endpoints whose listeners read them (the endpoint, its ENIs and their VPCs, its
 * service, the service's load balancers and their listeners), and only those endpoints are
 * recomputed. Security groups, routes and target groups decide flows, not listeners: the flow
 * decision reads them per connection, its cache keyed by state and health versions.
 */
export class DataPlane {
  readonly meter: Meter;
  /** What flows are counted on: the meter, or NO_METER while metering is off (see `metering`). */
  flows: FlowMeter;
  readonly events: FlowEvents;
  readonly decider: FlowDecider;
  readonly idleTimeoutMs: number;
  /** The one timer that resets idle flows through endpoints and workload proxies. */
  readonly idle: IdleSweep;
  private readonly listeners: ShardedListeners<EndpointListener>;
  private readonly checker: HealthChecker;
  private readonly watches = new Map<string, TargetWatch>();
  private readonly conns = new Map<string, Set<RelayHandle>>();
  private readonly roundRobin = new Map<string, number>();
  /** Each listening endpoint's current listener specs. */
  private readonly specsOf = new Map<string, readonly EndpointListener[]>();
  private readonly index = new DependencyIndex();
  /** Load balancer of each listener, to know which one a deleted listener belonged to. */
  private readonly listenerLb = new Map<string, string>();
  /** Objects whose every change would fan out widely: their listener-relevant part, as last used. */
  private readonly fingerprints = new Map<DependencyKey, string>();
  private readonly dirtyEndpoints = new Set<string>();
  /** Changed objects; `true` when the change arrived during a sliced pass (no fingerprint shortcut). */
  private readonly dirtyKeys = new Map<DependencyKey, boolean>();
  private fullPending = true;
  private healthPending = true;
  /** True while a pass yields between slices: changes then must not trust fingerprints. */
  private slicing = false;
  private lbListeners = { version: -1, byLb: new Map<string, Listener[]>() };
  private readonly observers = new Set<(pass: ReconcilePass) => void>();
  /** Passes computed in the current converge, reported once their listeners are applied. */
  private passes: Omit<ReconcilePass, "bindMs">[] = [];
  private readonly stats: ReconcileStats = {
    fullPasses: 0,
    incrementalPasses: 0,
    endpointsReconciled: 0,
    drift: 0,
  };
  private healthVersion = 0;
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private closed = false;
  private closing?: Promise<void>;
  private readonly mapPrivileged: boolean;
  /** Namespace mode: where targets whose address a namespace holds are dialled. */
  private targetDialer?: TargetDialer;
  readonly healthView: HealthView;
  /** What the endpoint listeners know beyond the state: `why` reads the same view. */
  readonly listenerView: ListenerView;
  readonly readiness: Readiness;

  constructor(private readonly opts: DataPlaneOptions) {
    this.meter = opts.meter ?? new Meter();
    this.events = opts.events ?? new FlowEvents();
    // Health checks dial where the traffic goes: inside a namespace when a target lives there.
    this.checker =
      opts.health ??
      new HealthChecker({
        probe: (t, ms) => {
          const up = this.targetDialer?.dial(t.host, t.port, ms);
          if (!up) return tcpProbe(t, ms);
          return up.then(
            (s) => {
              s.resetAndDestroy();
              return true;
            },
            () => false,
          );
        },
      });
    this.flows = this.meter;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? AWS_IDLE_TIMEOUT_MS;
    if (!(this.idleTimeoutMs > 0)) throw new RangeError(`idleTimeoutMs must be > 0: ${this.idleTimeoutMs}`);
    this.idle = new IdleSweep(this.idleTimeoutMs, { now: opts.idleClock });
    this.listeners = new ShardedListeners({ backlog: opts.backlog ?? 511 });
    this.mapPrivileged = opts.mapPrivilegedPorts ?? !canBindPrivilegedPorts();
    const self = this;
    this.healthView = {
      get version() {
        return self.healthVersion;
      },
      state: (tgArn, t) => this.watches.get(watchKey(tgArn, t.id, t.port))?.state,
    };
    this.decider = new FlowDecider(opts.state, this.healthView);
    this.listenerView = {
      openConnections: (id) => this.conns.get(id)?.size ?? 0,
      maxConnectionsPerEndpoint: opts.maxConnectionsPerEndpoint ?? MAX_CONNECTIONS_PER_ENDPOINT,
      serviceFront: opts.front !== undefined,
    };
    this.readiness = { endpointServing: (id) => this.endpointServing(id) };
  }

  async start(): Promise<void> {
    const unsubscribe = this.opts.state.onCommit((changes) => this.onCommit(changes));
    const unregister = registerTargetHealthSource((tg, t) => this.reportHealth(tg.id, t));
    this.unsubscribe = () => {
      unsubscribe();
      unregister();
    };
    const every = this.opts.fullReconcileMs ?? FULL_RECONCILE_MS;
    if (every > 0) {
      this.timer = setInterval(() => void this.reconcile({ full: true }).catch(warn), every);
      this.timer.unref();
    }
    await this.reconcile({ full: true });
  }

  /**
   * Converges now; resolves when listeners and health checks match the current state. Without
   * `full`, only what changed since the last pass is recomputed.
   */
  reconcile(opts: { full?: boolean } = {}): Promise<void> {
    if (opts.full) this.fullPending = true;
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.converge();
        } while (this.again && !this.closed);
      } finally {
        // In the same tick as the last pass: a call after it starts a new run, never joins a done one.
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /**
   * Namespace mode: targets whose private IP an instance namespace holds are dialled there (and
   * health-checked there), not on their host address.
   */
  useTargetDialer(dialer: TargetDialer): void {
    this.targetDialer = dialer;
  }

  /** Hears every pass once applied (tests and benchmarks watch the reconciler with it). */
  observe(fn: (pass: ReconcilePass) => void): () => void {
    this.observers.add(fn);
    return () => this.observers.delete(fn);
  }

  /** A copy of the reconciler's counters. */
  get reconcileStats(): ReconcileStats {
    return { ...this.stats, last: this.stats.last && { ...this.stats.last } };
  }

  /** The port actually bound for `host:port` (they differ when privileged ports are mapped). */
  boundPort(host: string, port: number): number {
    return this.listeners.has(listenerKey(host, port)) ? port : this.mappedPort(port);
  }

  healthOf(targetGroupArn: string, target: { id: string; port: number }): TargetHealthState | undefined {
    return this.healthView.state(targetGroupArn, target);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /**
   * Metering on (default) or off: off, flows are neither counted nor shown to the taps (no
   * metrics, no flow logs, no cost). For the metering benchmark's same-run baseline only.
   */
  set metering(on: boolean) {
    this.flows = on ? this.meter : NO_METER;
  }

  /** Flows relayed through endpoints and open now: leak checks compare it with its baseline. */
  get openFlows(): number {
    let n = 0;
    for (const set of this.conns.values()) n += set.size;
    return n;
  }

  /** The open endpoint listeners (host:port, sorted): what a restart must rebuild exactly. */
  listenerKeys(): string[] {
    return this.listeners.keys();
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.unsubscribe?.();
    await this.running?.catch(() => undefined);
    for (const set of this.conns.values()) for (const h of set) h.close(true);
    this.conns.clear();
    this.idle.close();
    this.checker.close();
    this.watches.clear();
    await this.listeners.close();
  }

  // ---- the change feed ----

  private onCommit(changes: readonly Change[]): void {
    if (this.closed) return;
    if (
      changes.some((c) => c.kind === "account" && c.value === undefined) &&
      this.opts.state.count("account") === 0
    ) {
      // POST /_privlink/reset wipes everything, counters and refusals included.
      this.meter.clear();
      this.events.clear();
    }
    for (const c of changes) this.noteChange(c);
    setImmediate(() => void this.reconcile().catch(warn));
  }

  /** Turns one change into the endpoints and objects the next pass looks at. */
  private noteChange(c: Change): void {
    if (HEALTH_KINDS.has(c.kind)) this.healthPending = true;
    switch (c.kind) {
      case "vpcEndpoint":
        this.dirtyEndpoints.add(c.id);
        // Deleting or rejecting an endpoint resets its open connections at once.
        if ((c.value as VpcEndpoint | undefined)?.state !== "available") this.resetConnections(c.id);
        return;
      case "listener": {
        const old = this.listenerLb.get(c.id);
        const lb = (c.value as Listener | undefined)?.loadBalancerArn;
        if (old !== undefined && old !== lb) this.markDirty(dependencyKey("loadBalancer", old));
        if (lb === undefined) this.listenerLb.delete(c.id);
        else {
          this.listenerLb.set(c.id, lb);
          this.markDirty(dependencyKey("loadBalancer", lb));
        }
        return;
      }
      case "eni":
      case "vpc":
      case "endpointService":
        this.markDirty(dependencyKey(c.kind, c.id));
        return;
    }
  }

  private markDirty(key: DependencyKey): void {
    if (this.slicing) this.dirtyKeys.set(key, true);
    else if (!this.dirtyKeys.has(key)) this.dirtyKeys.set(key, false);
  }

  private resetConnections(endpointId: string): void {
    const set = this.conns.get(endpointId);
    if (!set) return;
    for (const h of set) h.close(true);
    this.conns.delete(endpointId);
  }

  // ---- passes ----

  private async converge(): Promise<void> {
    if (this.closed) return;
    const full = this.fullPending;
    this.fullPending = false;
    if (full) await this.fullPass();
    else await this.incrementalPass();
    if (this.closed) return;
    const passes = this.passes;
    this.passes = [];
    const t0 = performance.now();
    const failed = await this.listeners.apply(full);
    for (const f of failed) process.emitWarning(`privlink: cannot listen on ${f.key}: ${f.error.message}`);
    const bindMs = performance.now() - t0;
    for (const p of passes) for (const o of this.observers) o({ ...p, bindMs });
    if (full || this.healthPending) {
      this.healthPending = false;
      this.convergeHealth();
    }
    this.opts.onConverged?.();
  }

  private async incrementalPass(): Promise<void> {
    if (this.dirtyEndpoints.size === 0 && this.dirtyKeys.size === 0) return;
    const t0 = performance.now();
    const affected = new Set(this.dirtyEndpoints);
    this.dirtyEndpoints.clear();
    for (const [key, forced] of this.dirtyKeys) {
      const dependents = this.index.dependents(key);
      if (!dependents) {
        this.fingerprints.delete(key);
        continue;
      }
      if (!this.fingerprintMoved(key) && !forced) continue;
      for (const id of dependents) affected.add(id);
    }
    this.dirtyKeys.clear();
    const ids = [...affected];
    const { changed, ms } = await this.recomputeAll(ids, t0, true);
    this.record("incremental", ids, changed, ms);
  }

  /** Every endpoint from scratch; commits that land between its slices are picked up after it. */
  private async fullPass(): Promise<void> {
    // What is already known to have changed goes the usual way, so that drift counts only misses.
    await this.incrementalPass();
    const t0 = performance.now();
    this.index.clear();
    this.fingerprints.clear();
    this.listenerLb.clear();
    for (const l of this.opts.state.all("listener")) this.listenerLb.set(l.id, l.loadBalancerArn);
    const ids = new Set(this.specsOf.keys());
    for (const ep of this.opts.state.all("vpcEndpoint")) ids.add(ep.id);
    const all = [...ids];
    const { changed, ms } = await this.recomputeAll(all, t0, false);
    if (this.stats.fullPasses > 0) this.stats.drift += changed;
    this.record("full", all, changed, ms);
  }

  /**
   * Recomputes `ids`, yielding to the event loop between slices when there are many (a bulk
   * import, a full pass), so that requests keep flowing. Returns the endpoints whose listeners
   * changed and the time spent on the event loop.
   */
  private async recomputeAll(
    ids: readonly string[],
    t0: number,
    detectMisses: boolean,
  ): Promise<{ changed: number; ms: number }> {
    if (ids.length <= PASS_SLICE)
      return { changed: this.recompute(ids, new Map(), detectMisses), ms: performance.now() - t0 };
    let changed = 0;
    let ms = 0;
    let t = t0;
    this.slicing = true;
    try {
      for (let i = 0; i < ids.length && !this.closed; i += PASS_SLICE) {
        if (i > 0) {
          ms += performance.now() - t;
          await yieldToLoop();
          t = performance.now();
        }
        // An address may move between endpoints in different slices: no miss detection here.
        changed += this.recompute(ids.slice(i, i + PASS_SLICE), new Map(), false);
      }
    } finally {
      this.slicing = false;
    }
    return { changed, ms: ms + performance.now() - t };
  }

  /** Something the index did not foresee: the next pass is a full one. */
  private indexMiss(): void {
    this.fullPending = true;
    this.again = true;
  }

  private record(kind: "full" | "incremental", endpointIds: string[], changed: number, ms: number): void {
    if (kind === "full") this.stats.fullPasses++;
    else this.stats.incrementalPasses++;
    this.stats.endpointsReconciled += endpointIds.length;
    this.stats.last = { kind, endpoints: endpointIds.length, changed, ms };
    if (this.observers.size) this.passes.push({ kind, endpointIds, changed, ms });
  }

  /**
   * Recomputes the listeners and dependencies of `ids`; returns how many endpoints' listeners
   * changed. Old listeners are released before new ones are claimed, so that an address freed by
   * one endpoint and reused by another in the same pass moves cleanly. Specs that did not change
   * are the same objects, so open listeners keep their handler.
   */
  private recompute(ids: readonly string[], ports: PortsCache, detectMisses: boolean): number {
    const plans: { id: string; prev: readonly EndpointListener[]; next: EndpointListener[] }[] = [];
    for (const id of ids) {
      const ep = this.opts.state.get("vpcEndpoint", id);
      const deps: DependencyKey[] = [];
      const next =
        ep?.type === "Interface" && LISTENING_STATES.has(ep.state) ? this.endpointSpecs(ep, ports, deps) : [];
      this.index.set(id, deps);
      const prev = this.specsOf.get(id) ?? [];
      if (!sameSpecs(prev, next)) plans.push({ id, prev, next });
    }
    for (const { prev, next } of plans) {
      const kept = new Set(next);
      for (const s of prev) if (!kept.has(s)) this.listeners.unwant(listenerKey(s.host, s.port), s);
    }
    for (const { id, next } of plans) {
      for (const s of next) {
        const key = listenerKey(s.host, s.port);
        const holder = this.listeners.desired(key);
        // Two endpoints on one address: the index is out of step with the state; start over.
        if (detectMisses && holder && holder !== s && holder.endpointId !== id) this.indexMiss();
        this.listeners.want(key, s);
      }
      if (next.length) this.specsOf.set(id, next);
      else this.specsOf.delete(id);
    }
    return plans.length;
  }

  /** One listener per ENI host address and service port; spec objects are reused when unchanged. */
  private endpointSpecs(ep: VpcEndpoint, cache: PortsCache, deps: DependencyKey[]): EndpointListener[] {
    const ports = this.servicePorts(ep, cache, deps);
    const out: EndpointListener[] = [];
    for (const { eniId } of ep.enis) {
      deps.push(dependencyKey("eni", eniId));
      const eni = this.opts.state.get("eni", eniId);
      if (!eni) continue;
      this.depend(deps, dependencyKey("vpc", eni.vpcId));
      const host = hostOf(this.opts.state, eni);
      if (!host) continue;
      for (const servicePort of ports) {
        const port = this.mappedPort(servicePort);
        const existing = this.listeners.desired(listenerKey(host, port));
        if (
          existing &&
          existing.endpointId === ep.id &&
          existing.eniId === eniId &&
          existing.servicePort === servicePort
        ) {
          out.push(existing);
          continue;
        }
        const spec: EndpointListener = {
          host,
          port,
          servicePort,
          endpointId: ep.id,
          eniId,
          vpcId: eni.vpcId,
          // Only endpoints to AWS services hand sockets to the front; the rest relay or refuse.
          relayOnly: ep.serviceId !== undefined,
          onConnection: (socket) => {
            if (!this.opts.placement?.divert(spec.vpcId, socket, spec.host, spec.servicePort))
              this.admit(socket, spec);
          },
        };
        out.push(spec);
      }
    }
    return out;
  }

  /** Service ports, computed once per service and pass (thousands of endpoints share one). */
  private servicePorts(ep: VpcEndpoint, cache: PortsCache, deps?: DependencyKey[]): number[] {
    // Without a front the listener still binds, so that its refusal is explicit and recorded.
    if (!ep.serviceId) return [443];
    if (deps) {
      this.depend(deps, dependencyKey("endpointService", ep.serviceId));
      const service = this.opts.state.get("endpointService", ep.serviceId);
      for (const arn of service?.networkLoadBalancerArns ?? [])
        this.depend(deps, dependencyKey("loadBalancer", arn));
    }
    let ports = cache.get(ep.serviceId);
    if (!ports) {
      ports = this.portsOfService(ep.serviceId);
      cache.set(ep.serviceId, ports);
    }
    return ports;
  }

  private portsOfService(serviceId: string): number[] {
    const service = this.opts.state.get("endpointService", serviceId);
    const ports = new Set<number>();
    for (const arn of service?.networkLoadBalancerArns ?? [])
      for (const p of this.portsOfLb(arn)) ports.add(p);
    return [...ports];
  }

  private portsOfLb(arn: string): number[] {
    const out: number[] = [];
    for (const l of this.listenersOf(arn))
      if (l.protocol === "TCP" || l.protocol === "TLS" || l.protocol === "TCP_UDP") out.push(l.port);
    return out;
  }

  /** NLB listeners by load balancer, rebuilt per state version (there are few listeners). */
  private listenersOf(lbArn: string): readonly Listener[] {
    const state = this.opts.state;
    if (this.lbListeners.version !== state.version) {
      const byLb = new Map<string, Listener[]>();
      for (const l of state.all("listener")) {
        const list = byLb.get(l.loadBalancerArn);
        if (list) list.push(l);
        else byLb.set(l.loadBalancerArn, [l]);
      }
      this.lbListeners = { version: state.version, byLb };
    }
    return this.lbListeners.byLb.get(lbArn) ?? [];
  }

  /** Adds a dependency on an object shared by many endpoints, noting what of it the specs used. */
  private depend(deps: DependencyKey[], key: DependencyKey): void {
    deps.push(key);
    if (!this.fingerprints.has(key)) this.fingerprints.set(key, this.fingerprintOf(key));
  }

  /**
   * A VPC's tags or a service's permissions change far more often than their addresses or
   * load balancers: only a change in what listeners read fans out to all their endpoints.
   */
  private fingerprintMoved(key: DependencyKey): boolean {
    if (!this.fingerprints.has(key)) return true;
    const now = this.fingerprintOf(key);
    if (this.fingerprints.get(key) === now) return false;
    this.fingerprints.set(key, now);
    return true;
  }

  private fingerprintOf(key: DependencyKey): string {
    const bar = key.indexOf("|");
    const kind = key.slice(0, bar);
    const id = key.slice(bar + 1);
    const state = this.opts.state;
    if (kind === "vpc") return JSON.stringify(state.get("vpc", id)?.cidrBlocks ?? null);
    if (kind === "endpointService")
      return JSON.stringify(state.get("endpointService", id)?.networkLoadBalancerArns ?? null);
    if (kind === "loadBalancer") return this.portsOfLb(id).join(",");
    return "";
  }

  private mappedPort(port: number): number {
    return this.mapPrivileged && port < 1024 ? PRIVILEGED_PORT_BASE + port : port;
  }

  private endpointServing(endpointId: string): boolean {
    const ep = this.opts.state.get("vpcEndpoint", endpointId);
    if (ep?.type !== "Interface" || !LISTENING_STATES.has(ep.state)) return true;
    const ports = this.servicePorts(ep, new Map());
    for (const { eniId } of ep.enis) {
      const eni = this.opts.state.get("eni", eniId);
      const host = eni && hostOf(this.opts.state, eni);
      if (!host) return false;
      for (const p of ports) if (!this.listeners.has(listenerKey(host, this.mappedPort(p)))) return false;
    }
    return true;
  }

  // ---- admission and forwarding ----

  /**
   * Admits a connection accepted elsewhere than on the listener of `key` (host:port): namespace
   * mode accepts on the endpoint's real private IP inside its VPC's namespace and names the
   * client by its host address, so that the one flow decision reads the same flow as on loopback.
   * Without such a listener (the endpoint went away meanwhile), the connection is reset.
   */
  admitAt(key: string, socket: Socket, sourceHost: string): void {
    const spec = this.listeners.desired(key);
    if (spec) this.admit(socket, spec, { host: sourceHost, port: socket.remotePort ?? 0 });
    else refuse(socket);
  }

  /**
   * Admits a connection another agent carried here (src/agent/tunnel.ts) for the endpoint
   * address `host:servicePort`, from the workload at `sourceHost:sourcePort` (as the sending
   * agent accepted it; the socket's own peer is the tunnel): this agent serves the VPC, so it
   * applies the one flow decision, and flow logs and PROXY protocol headers name the workload's
   * port. Never diverted again, so a placement in flux cannot loop.
   */
  admitCarried(
    host: string,
    servicePort: number,
    socket: Socket,
    sourceHost: string,
    sourcePort: number,
  ): void {
    const spec = this.listeners.desired(listenerKey(host, this.mappedPort(servicePort)));
    // The socket has read the tunnel's header (what follows it was put back): not the workload's bytes.
    const consumed = socket.bytesRead - socket.readableLength;
    if (spec) this.admit(socket, spec, { host: sourceHost, port: sourcePort, consumed });
    else refuse(socket);
  }

  /** `from`: the client's host address and port when the socket's peer is not the client. */
  private admit(socket: Socket, spec: EndpointListener, from?: Peer): void {
    const peer = from ?? { host: stripMapped(socket.remoteAddress ?? ""), port: socket.remotePort ?? 0 };
    const source = peer.host;
    let decision: Decision;
    try {
      decision = this.decider.decide({
        source: { kind: "outside", address: source },
        destination: spec.host,
        port: spec.servicePort,
      });
    } catch (err) {
      this.drop(socket, spec, peer, `internal error: ${(err as Error).message}`);
      return;
    }
    const admitted = throughEndpointListener(decision, this.listenerView, spec.endpointId);
    const target = admitted.target;
    if (!admitted.allowed) this.drop(socket, spec, peer, admitted.reason, admitted);
    else if (target?.kind === "aws-service") this.toFront(socket, spec, admitted, peer);
    else if (target?.kind === "nlb") this.forward(socket, spec, admitted, target, peer);
  }

  private drop(
    socket: Socket,
    spec: EndpointListener,
    peer: Peer,
    reason: string,
    decision?: Decision,
  ): void {
    const source = peer.host;
    const sourceEniId = decision?.source.eniId;
    const flow = decision ? refusedFlow(decision, peer.port, spec.servicePort, source, reason) : undefined;
    refuse(socket);
    this.flows.dropped(spec.eniId, spec.endpointId, flow);
    this.events.record({
      at: "endpoint",
      source,
      sourceEniId,
      destination: spec.host,
      port: spec.servicePort,
      vpcEndpointId: spec.endpointId,
      networkInterfaceId: spec.eniId,
      reason,
    });
  }

  private forward(
    socket: Socket,
    spec: EndpointListener,
    decision: Decision,
    target: Extract<FlowTarget, { kind: "nlb" }>,
    peer: Peer,
  ): void {
    const n = this.roundRobin.get(target.targetGroupArn) ?? 0;
    this.roundRobin.set(target.targetGroupArn, n + 1);
    const pick = target.targets[n % target.targets.length]!;
    const preamble = target.proxyProtocolV2
      ? encodeProxyV2({
          source: {
            address: decision.source.privateIp ?? (peer.host || "0.0.0.0"),
            port: peer.port,
          },
          destination: { address: decision.destination.privateIp ?? spec.host, port: spec.servicePort },
          vpceId: spec.endpointId,
        })
      : undefined;
    const counter = this.flows.open(
      spec.eniId,
      spec.endpointId,
      undefined,
      this.flowOf(peer, spec, decision),
    );
    let conns = this.conns.get(spec.endpointId);
    if (!conns) {
      conns = new Set();
      this.conns.set(spec.endpointId, conns);
    }
    const flow = new EndpointFlow(conns, counter);
    const dial = { host: pick.host, port: pick.dialPort };
    const elsewhere = this.targetDialer?.dial(dial.host, dial.port);
    if (elsewhere) {
      // Dialled inside a namespace: the relay starts once the connection is made (or failed).
      const client = adoptAccepted(socket);
      const start = (open: () => Socket) =>
        this.track(
          relay(client, open, { preamble, idle: this.idle, meter: flow, consumedIn: peer.consumed }),
          flow,
          conns,
          counter,
        );
      elsewhere.then(
        (up) => {
          if (client.destroyed) up.destroy();
          start(() => up);
        },
        (err: Error) =>
          start(() => {
            throw err;
          }),
      );
      return;
    }
    const handle = relay(adoptAccepted(socket), () => connectUpstream(dial), {
      preamble,
      idle: this.idle,
      meter: flow,
      consumedIn: peer.consumed,
    });
    this.track(handle, flow, conns, counter);
  }

  private track(
    handle: RelayHandle,
    flow: EndpointFlow,
    conns: Set<RelayHandle>,
    counter: FlowCounter,
  ): void {
    if (handle.closedReason === undefined) {
      flow.handle = handle;
      conns.add(handle);
      counter.track(handle);
    }
  }

  /** The admitted flow as flow logs record it: private addresses, the endpoint's interface. */
  private flowOf(peer: Peer, spec: EndpointListener, decision: Decision): FlowInfo | undefined {
    if (!this.flows.watched) return undefined;
    return admittedFlow(decision, peer.port, spec.servicePort, peer.host, spec.eniId);
  }

  private toFront(socket: Socket, spec: EndpointListener, decision: Decision, peer: Peer): void {
    const meter = this.flows.open(spec.eniId, spec.endpointId, undefined, this.flowOf(peer, spec, decision));
    socket.once("close", (hadError) => {
      meter.bytesIn(socket.bytesRead - (peer.consumed ?? 0));
      meter.bytesOut(socket.bytesWritten);
      meter.closed(hadError ? "reset" : "fin");
    });
    this.opts.front!.handle(socket, {
      endpointId: spec.endpointId,
      eniId: spec.eniId,
      clientIp: decision.source.privateIp ?? "",
    });
  }

  // ---- health checks ----

  /** What DescribeTargetHealth shows for the targets this data plane checks. */
  private reportHealth(tgArn: string, t: { id: string; port: number }): TargetHealth | undefined {
    const s = this.watches.get(watchKey(tgArn, t.id, t.port))?.state;
    switch (s) {
      case undefined:
        return undefined;
      case "initial":
        return {
          state: "initial",
          reason: "Elb.InitialHealthChecking",
          description: "Initial health checks in progress",
        };
      case "unhealthy":
        return {
          state: "unhealthy",
          reason: "Target.FailedHealthChecks",
          description: "Health checks failed",
        };
      case "unavailable":
        return {
          state: "unavailable",
          reason: "Target.InvalidState",
          description: "privlink has no host address for this target",
        };
      default:
        return { state: s };
    }
  }

  /** Every target of every target group a listener forwards to is checked, per its group's settings. */
  private convergeHealth(): void {
    const state = this.opts.state;
    const wanted = new Map<
      string,
      {
        tg: TargetGroup;
        id: string;
        port: number;
        signature: string;
        host?: string;
        hcPort: number;
        error?: string;
      }
    >();
    for (const l of state.all("listener")) {
      const tg = state.get("targetGroup", l.targetGroupArn);
      if (!tg) continue;
      for (const t of tg.targets) {
        const where = targetHost(state, tg, t);
        const hcPort = healthCheckPort(tg, t);
        const host = "host" in where ? where.host : undefined;
        const signature = JSON.stringify([host, hcPort, tg.healthCheck]);
        wanted.set(watchKey(tg.id, t.id, t.port), { tg, id: t.id, port: t.port, signature, host, hcPort });
      }
    }
    for (const [key, w] of this.watches) {
      const want = wanted.get(key);
      if (want && want.signature === w.signature) continue;
      w.watch?.unwatch();
      this.watches.delete(key);
      this.healthVersion++;
    }
    for (const [key, want] of wanted) {
      if (this.watches.has(key)) continue;
      if (!want.host) {
        this.watches.set(key, { signature: want.signature, state: "unavailable" });
        this.healthVersion++;
        continue;
      }
      const hc = want.tg.healthCheck;
      const entry: TargetWatch = { signature: want.signature, state: "initial" };
      this.watches.set(key, entry);
      const watch = this.checker.watch(
        { host: want.host, port: want.hcPort },
        {
          intervalMs: Math.max(1, hc.intervalSeconds) * 1000,
          timeoutMs: Math.max(1, hc.timeoutSeconds) * 1000,
          healthyThreshold: Math.max(1, hc.healthyThreshold),
          unhealthyThreshold: Math.max(1, hc.unhealthyThreshold),
        },
        (s: HealthState) => {
          entry.state = s;
          this.healthVersion++;
        },
      );
      (entry as { watch?: HealthWatch }).watch = watch;
    }
  }
}

/**
 * One relayed flow of an endpoint as its relay reports it: counted, and out of the endpoint's
 * open connections once closed. A class, so that a connection costs one object and no closures.
 */
class EndpointFlow implements RelayMeter {
  handle: RelayHandle | undefined;

  constructor(
    private readonly conns: Set<RelayHandle>,
    private readonly counter: FlowCounter,
  ) {}

  bytesIn(n: number): void {
    this.counter.bytesIn(n);
  }

  bytesOut(n: number): void {
    this.counter.bytesOut(n);
  }

  closed(reason: CloseReason): void {
    if (this.handle) this.conns.delete(this.handle);
    this.counter.closed(reason);
  }
}

const hostCache = new WeakMap<Eni, { vpc: Vpc | undefined; host: string | undefined }>();

/**
 * Host addresses per ENI object. Objects are immutable, so identity keys the cache safely; the
 * VPC is checked too, since its slot decides the address.
 */
function hostOf(state: State, eni: Eni): string | undefined {
  const vpc = state.get("vpc", eni.vpcId);
  const hit = hostCache.get(eni);
  if (hit && hit.vpc === vpc) return hit.host;
  const host = vpc ? hostAddressOf(vpc, eni.privateIp) : undefined;
  hostCache.set(eni, { vpc, host });
  return host;
}

function sameSpecs(a: readonly EndpointListener[], b: readonly EndpointListener[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

function warn(err: unknown): void {
  process.emitWarning(`privlink data plane: ${(err as Error).message}`);
}

function watchKey(tgArn: string, id: string, port: number): string {
  return `${tgArn}|${id}|${port}`;
}

/** Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d. */
export function stripMapped(address: string): string {
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

/** Root, or a kernel that lets anyone bind low ports (ip_unprivileged_port_start). */
export function canBindPrivilegedPorts(): boolean {
  if (process.getuid?.() === 0) return true;
  try {
    return Number(readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8").trim()) <= 1;
  } catch {
    return false;
  }
}
