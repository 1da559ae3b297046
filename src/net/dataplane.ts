import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { eniHostAddress } from "../cloud/eni.js";
import type { Readiness } from "../cloud/lifecycle.js";
import { registerTargetHealthSource, type TargetHealth } from "../cloud/load-balancer.js";
import type { Change, State } from "../cloud/state.js";
import type { Eni, TargetGroup, VpcEndpoint } from "../cloud/types.js";
import {
  type Decision,
  FlowDecider,
  type FlowTarget,
  type HealthView,
  healthCheckPort,
  stateIndex,
  type TargetHealthState,
  targetHost,
} from "../flow/index.js";
import { FlowEvents } from "./flow-events.js";
import { HealthChecker, type HealthState, type HealthWatch } from "./health.js";
import { type ListenerKey, ListenerSet, type ListenerSpec, listenerKey, refuse } from "./listener.js";
import { Meter } from "./meter.js";
import { encodeProxyV2 } from "./proxy-v2.js";
import { AWS_IDLE_TIMEOUT_MS, connectUpstream, type RelayHandle, relay } from "./relay.js";

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
  idleTimeoutMs?: number;
  /** A flood on one endpoint must not take every descriptor: beyond this, new flows are dropped. */
  maxConnectionsPerEndpoint?: number;
  /** Called after each reconcile (privlink kicks the lifecycle, which may turn endpoints available). */
  onConverged?: () => void;
  /** Ports below 1024 bind at PRIVILEGED_PORT_BASE + port when this process may not bind them. */
  mapPrivilegedPorts?: boolean;
  backlog?: number;
}

/** Where a privileged listener port lands when it cannot be bound (`privlink exec` hides it). */
export const PRIVILEGED_PORT_BASE = 61000;

/** Endpoint states in which privlink listens on the endpoint's addresses (to admit or to refuse). */
const LISTENING_STATES: ReadonlySet<VpcEndpoint["state"]> = new Set([
  "pendingAcceptance",
  "pending",
  "available",
]);

interface EndpointListener extends ListenerSpec {
  readonly endpointId: string;
  readonly eniId: string;
  /** The port clients ask for; `port` is the one bound (they differ only when mapped). */
  readonly servicePort: number;
}

interface TargetWatch {
  readonly signature: string;
  readonly watch?: HealthWatch;
  state: TargetHealthState;
}

/**
 * The data plane: converges listeners, health checks and open connections to the store, and
 * admits every connection through flow/. Restart = reconcile from scratch.
 */
export class DataPlane {
  readonly meter: Meter;
  readonly events: FlowEvents;
  readonly decider: FlowDecider;
  private readonly listeners: ListenerSet;
  private readonly checker: HealthChecker;
  private readonly watches = new Map<string, TargetWatch>();
  private readonly conns = new Map<string, Set<RelayHandle>>();
  private readonly specs = new Map<ListenerKey, EndpointListener>();
  private readonly roundRobin = new Map<string, number>();
  private healthVersion = 0;
  private unsubscribe?: () => void;
  private running?: Promise<void>;
  private again = false;
  private closed = false;
  private readonly mapPrivileged: boolean;
  readonly healthView: HealthView;
  readonly readiness: Readiness;

  constructor(private readonly opts: DataPlaneOptions) {
    this.meter = opts.meter ?? new Meter();
    this.events = opts.events ?? new FlowEvents();
    this.checker = opts.health ?? new HealthChecker();
    this.listeners = new ListenerSet({ backlog: opts.backlog ?? 511 });
    this.mapPrivileged = opts.mapPrivilegedPorts ?? !canBindPrivilegedPorts();
    const self = this;
    this.healthView = {
      get version() {
        return self.healthVersion;
      },
      state: (tgArn, t) => this.watches.get(watchKey(tgArn, t.id, t.port))?.state,
    };
    this.decider = new FlowDecider(opts.state, this.healthView);
    this.readiness = { endpointServing: (id) => this.endpointServing(id) };
  }

  async start(): Promise<void> {
    const unsubscribe = this.opts.state.onCommit((changes) => this.onCommit(changes));
    const unregister = registerTargetHealthSource((tg, t) => this.reportHealth(tg.id, t));
    this.unsubscribe = () => {
      unsubscribe();
      unregister();
    };
    await this.reconcile();
  }

  /** Converges now; resolves when listeners and health checks match the current state. */
  reconcile(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.converge();
      } while (this.again && !this.closed);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
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

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    await this.running?.catch(() => undefined);
    for (const set of this.conns.values()) for (const h of set) h.close(true);
    this.conns.clear();
    this.checker.close();
    this.watches.clear();
    await this.listeners.close();
  }

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
    this.resetUnservedConnections();
    setImmediate(
      () =>
        void this.reconcile().catch((err) =>
          process.emitWarning(`privlink data plane: ${(err as Error).message}`),
        ),
    );
  }

  /** Deleting or rejecting an endpoint resets its open connections at once. */
  private resetUnservedConnections(): void {
    for (const [endpointId, set] of this.conns) {
      if (this.opts.state.get("vpcEndpoint", endpointId)?.state === "available") continue;
      for (const h of set) h.close(true);
      this.conns.delete(endpointId);
    }
  }

  private async converge(): Promise<void> {
    if (this.closed) return;
    const desired = this.desiredListeners();
    const result = await this.listeners.reconcile(desired);
    for (const f of result.failed)
      process.emitWarning(`privlink: cannot listen on ${f.key}: ${f.error.message}`);
    this.convergeHealth();
    this.opts.onConverged?.();
  }

  private desiredListeners(): Map<ListenerKey, EndpointListener> {
    const desired = new Map<ListenerKey, EndpointListener>();
    for (const ep of this.opts.state.all("vpcEndpoint")) {
      if (ep.type !== "Interface" || !LISTENING_STATES.has(ep.state)) continue;
      for (const spec of this.endpointSpecs(ep)) desired.set(listenerKey(spec.host, spec.port), spec);
    }
    this.specs.clear();
    for (const [k, v] of desired) this.specs.set(k, v);
    return desired;
  }

  /** One listener per ENI host address and service port; spec objects are reused when unchanged. */
  private endpointSpecs(ep: VpcEndpoint): EndpointListener[] {
    const ports = this.servicePorts(ep);
    const out: EndpointListener[] = [];
    for (const { eniId } of ep.enis) {
      const eni = this.opts.state.get("eni", eniId);
      const host = eni && hostOf(this.opts.state, eni);
      if (!host) continue;
      for (const servicePort of ports) {
        const port = this.mappedPort(servicePort);
        const existing = this.specs.get(listenerKey(host, port));
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
          onConnection: (socket) => this.admit(socket, spec),
        };
        out.push(spec);
      }
    }
    return out;
  }

  private portsCache = { version: -1, byService: new Map<string, number[]>() };

  /** Service ports, computed once per service and state version (thousands of endpoints share one). */
  private servicePorts(ep: VpcEndpoint): number[] {
    if (!ep.serviceId) return this.opts.front ? [443] : [];
    const version = this.opts.state.version;
    if (this.portsCache.version !== version) this.portsCache = { version, byService: new Map() };
    let ports = this.portsCache.byService.get(ep.serviceId);
    if (!ports) {
      ports = this.computeServicePorts(ep.serviceId);
      this.portsCache.byService.set(ep.serviceId, ports);
    }
    return ports;
  }

  private computeServicePorts(serviceId: string): number[] {
    const service = this.opts.state.get("endpointService", serviceId);
    const ports = new Set<number>();
    for (const arn of service?.networkLoadBalancerArns ?? [])
      for (const l of stateIndex(this.opts.state).listenersOf(arn))
        if (l.protocol === "TCP" || l.protocol === "TLS" || l.protocol === "TCP_UDP") ports.add(l.port);
    return [...ports];
  }

  private mappedPort(port: number): number {
    return this.mapPrivileged && port < 1024 ? PRIVILEGED_PORT_BASE + port : port;
  }

  private endpointServing(endpointId: string): boolean {
    const ep = this.opts.state.get("vpcEndpoint", endpointId);
    if (ep?.type !== "Interface" || !LISTENING_STATES.has(ep.state)) return true;
    for (const { eniId } of ep.enis) {
      const eni = this.opts.state.get("eni", eniId);
      const host = eni && hostOf(this.opts.state, eni);
      if (!host) return false;
      for (const p of this.servicePorts(ep))
        if (!this.listeners.has(listenerKey(host, this.mappedPort(p)))) return false;
    }
    return true;
  }

  // ---- admission and forwarding ----

  private admit(socket: Socket, spec: EndpointListener): void {
    const source = stripMapped(socket.remoteAddress ?? "");
    let decision: Decision;
    try {
      decision = this.decider.decide({
        source: { kind: "outside", address: source },
        destination: spec.host,
        port: spec.servicePort,
      });
    } catch (err) {
      this.drop(socket, spec, source, `internal error: ${(err as Error).message}`);
      return;
    }
    const target = decision.target;
    const refusal = this.refusal(spec, decision);
    if (refusal) this.drop(socket, spec, source, refusal, decision.source.eniId);
    else if (target?.kind === "aws-service") this.toFront(socket, spec, decision);
    else if (target?.kind === "nlb") this.forward(socket, spec, decision, target);
  }

  /** Why an endpoint listener must refuse this flow, if it must. */
  private refusal(spec: EndpointListener, decision: Decision): string | undefined {
    const target = decision.target;
    if (!decision.allowed || !target) return decision.reason;
    const live = this.conns.get(spec.endpointId)?.size ?? 0;
    if (live >= (this.opts.maxConnectionsPerEndpoint ?? 4096))
      return `endpoint ${spec.endpointId} has ${live} open connections (the limit)`;
    if (target.kind === "aws-service" && !this.opts.front)
      return `no service front for ${target.serviceName}`;
    if (target.kind !== "aws-service" && target.kind !== "nlb")
      return `no forwarding for ${target.kind} on an endpoint listener`;
    return undefined;
  }

  private drop(
    socket: Socket,
    spec: EndpointListener,
    source: string,
    reason: string,
    sourceEniId?: string,
  ): void {
    refuse(socket);
    this.meter.dropped(spec.eniId, spec.endpointId);
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
  ): void {
    const n = this.roundRobin.get(target.targetGroupArn) ?? 0;
    this.roundRobin.set(target.targetGroupArn, n + 1);
    const pick = target.targets[n % target.targets.length]!;
    const preamble = target.proxyProtocolV2
      ? encodeProxyV2({
          source: {
            address: decision.source.privateIp ?? stripMapped(socket.remoteAddress ?? "0.0.0.0"),
            port: socket.remotePort ?? 0,
          },
          destination: { address: decision.destination.privateIp ?? spec.host, port: spec.servicePort },
          vpceId: spec.endpointId,
        })
      : undefined;
    const meter = this.meter.open(spec.eniId, spec.endpointId);
    let set = this.conns.get(spec.endpointId);
    if (!set) {
      set = new Set();
      this.conns.set(spec.endpointId, set);
    }
    const conns = set;
    const handle: RelayHandle = relay(
      socket,
      () => connectUpstream({ host: pick.host, port: pick.dialPort }),
      {
        preamble,
        idleTimeoutMs: this.opts.idleTimeoutMs ?? AWS_IDLE_TIMEOUT_MS,
        meter: {
          bytesIn: meter.bytesIn,
          bytesOut: meter.bytesOut,
          closed: (reason) => {
            conns.delete(handle);
            meter.closed(reason);
          },
        },
      },
    );
    if (handle.closedReason === undefined) {
      conns.add(handle);
      meter.track(handle);
    }
  }

  private toFront(socket: Socket, spec: EndpointListener, decision: Decision): void {
    const meter = this.meter.open(spec.eniId, spec.endpointId);
    socket.once("close", (hadError) => {
      meter.bytesIn(socket.bytesRead);
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

const hostCache = new WeakMap<object, string | null>();

/** Host addresses per ENI object: objects are immutable, so identity keys the cache safely. */
function hostOf(state: State, eni: Eni): string | undefined {
  let h = hostCache.get(eni);
  if (h === undefined) {
    h = eniHostAddress(state, eni) ?? null;
    hostCache.set(eni, h);
  }
  return h ?? undefined;
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
