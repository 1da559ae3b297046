import type { Readiness } from "../cloud/lifecycle.js";
import type { State } from "../cloud/state.js";
import { DataPlane, type RemotePlacement, type ServiceFrontHandler } from "./dataplane.js";
import { FlowEvents } from "./flow-events.js";
import { Meter, type MeterStore } from "./meter.js";
import { type DnsLike, dnsResolver, type NameResolver, stateResolver } from "./resolver.js";
import { type LeafIssuer, WorkloadProxies } from "./workload-proxy.js";

/** The meta-table key the counters live under. */
export const METER_META_KEY = "meter";

/** How often counters reach the store: a restart loses at most this much. */
export const METER_FLUSH_MS = 5_000;

export interface DataPlaneHostOptions {
  state: State;
  /** The store's key-value side table (SqliteStore has it). */
  meta?: { getMeta(key: string): string | undefined; setMeta(key: string, value: string): void };
  resolver?: NameResolver;
  front?: ServiceFrontHandler;
  now?: () => Date;
  /** privlink's CA: workload proxies answer refused AWS calls in TLS with its leaves. */
  ca?: LeafIssuer;
  /** Idle connections through endpoints are reset after this long (default AWS's 350 s). */
  idleTimeoutMs?: number;
  /** Open connections one endpoint takes before refusing new ones (default 4096). */
  maxConnectionsPerEndpoint?: number;
  /** How often the data plane re-checks every endpoint besides its per-commit updates (default 60 s). */
  fullReconcileMs?: number;
  /** Several hosts: where connections to VPCs that another agent serves go (src/agent). */
  placement?: RemotePlacement;
}

/**
 * Everything of the data plane that privlink.ts composes: the reconciler, the meter with its
 * periodic flush and the workload proxies (their admin routes are api/admin-dataplane.ts).
 */
export interface DataPlaneHost {
  readonly dataplane: DataPlane;
  readonly proxies: WorkloadProxies;
  readonly readiness: Readiness;
  /** Called after each reconcile; privlink passes the lifecycle's kick. */
  onConverged(fn: () => void): void;
  /** Workloads resolve through the VPC resolvers once they run (names they miss fall back to the state). */
  useDns(dns: DnsLike): void;
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createDataPlaneHost(opts: DataPlaneHostOptions): DataPlaneHost {
  const store: MeterStore | undefined = opts.meta && {
    load: () => opts.meta!.getMeta(METER_META_KEY),
    save: (json) => opts.meta!.setMeta(METER_META_KEY, json),
  };
  const meter = new Meter(store);
  const events = new FlowEvents(1000, opts.now);
  let converged: () => void = () => undefined;
  const dataplane = new DataPlane({
    state: opts.state,
    meter,
    events,
    front: opts.front,
    idleTimeoutMs: opts.idleTimeoutMs,
    fullReconcileMs: opts.fullReconcileMs,
    maxConnectionsPerEndpoint: opts.maxConnectionsPerEndpoint,
    placement: opts.placement,
    onConverged: () => converged(),
  });
  const fallback = opts.resolver ?? stateResolver(opts.state);
  let resolver: NameResolver = fallback;
  const proxies = new WorkloadProxies(
    opts.state,
    dataplane,
    { resolve: (vpcId, name) => resolver.resolve(vpcId, name) },
    opts.ca && { ca: opts.ca, now: opts.now ?? (() => new Date()) },
  );
  let timer: NodeJS.Timeout | undefined;
  return {
    dataplane,
    proxies,
    readiness: dataplane.readiness,
    onConverged(fn) {
      converged = fn;
    },
    useDns(dns) {
      resolver = dnsResolver(dns, fallback);
    },
    async start() {
      timer = setInterval(() => meter.flush(), METER_FLUSH_MS);
      timer.unref();
      await dataplane.start();
    },
    async close() {
      clearInterval(timer);
      await proxies.close();
      await dataplane.close();
      meter.flush();
    },
  };
}
