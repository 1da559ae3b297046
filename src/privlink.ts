import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { AgentObserver } from "./agent/observer.js";
import { adminRoutes } from "./api/admin.js";
import { agentRoutes } from "./api/admin-agents.js";
import { loadOrCreateAdminToken } from "./api/admin-auth.js";
import { dataPlaneRoutes } from "./api/admin-dataplane.js";
import { namespaceRoutes } from "./api/admin-namespace.js";
import { stateAdminRoutes } from "./api/admin-state.js";
import { analyzeRoutes } from "./api/analyze.js";
import type { ObservedRequest } from "./api/dispatch.js";
import type { HandlerTable } from "./api/handler.js";
import { checkListenAddress } from "./api/listen.js";
import { PrometheusMetrics } from "./api/prometheus.js";
import { type AdminRoute, createApiServer } from "./api/server.js";
import { siteRoutes } from "./api/sites.js";
import { STATE_SERVICES } from "./api/state-services.js";
import { costRoutes } from "./billing/routes.js";
import { TransferPublisher } from "./billing/transfer.js";
import { type AuthMode, ensureDefaultAccount } from "./cloud/account.js";
import type { HostConfig } from "./cloud/context.js";
import { AwsError } from "./cloud/errors.js";
import { ALWAYS_READY, type Readiness, runLifecycle } from "./cloud/lifecycle.js";
import { clockMs, type Runtime, systemRuntime } from "./cloud/runtime.js";
import { State } from "./cloud/state.js";
import { startConsole, type WebConsole } from "./console/index.js";
import { serveNamespaceDns } from "./dns/namespace.js";
import { type Resolvers, startResolvers } from "./dns/resolvers.js";
import {
  type FrontLimits,
  LocalCa,
  ServiceFront,
  upstreamAdminRoutes,
  workloadTlsEnv,
} from "./front/index.js";
import { defaultHome, type ServerFile, serverFilePath } from "./home.js";
import type { FlowTap } from "./net/flow-tap.js";
import { createDataPlaneHost, type DataPlaneHost } from "./net/host.js";
import type { Stats } from "./net/meter.js";
import { namespaceModeRefusal } from "./net/netns/ip.js";
import { NamespaceNetwork } from "./net/netns/mode.js";
import type { NamespaceDriver } from "./net/netns/namespaces.js";
import { dnsResolver, stateResolver } from "./net/resolver.js";
import { PACKAGE_ROOT, VERSION } from "./package.js";
import { cloudWatchAdminRoutes } from "./services/cloudwatch/admin.js";
import { type CloudWatch, openMetricStore, startCloudWatch } from "./services/cloudwatch/index.js";
import { type FlowLogs, logsDestination, startFlowLogs } from "./services/flowlogs/index.js";
import { logsSink } from "./services/flowlogs/logs-sink.js";
import { s3Destination } from "./services/flowlogs/s3-sink.js";
import { LogsService, openLogEvents } from "./services/logs/index.js";
import type { Blobs } from "./services/s3/blobs.js";
import { createS3, S3_ACTIONS } from "./services/s3/index.js";
import { SNS_EDGE_KEY, SnsService } from "./services/sns/index.js";
import { type HomeLock, lockHome } from "./store/home-lock.js";
import type { PostgresStore } from "./store/postgres.js";
import { SqliteStore } from "./store/sqlite.js";

/** The composition root: the store, the state and every server that serves it. */
export interface PrivlinkOptions {
  /** HTTP edge port; 0 picks a free one. Default 4599. */
  port?: number;
  /** Where the database, CA and logs live. Default ~/.privlink. */
  home?: string;
  /** A shared PostgreSQL store (`postgres://…`) instead of the home's SQLite file. */
  store?: string;
  auth?: AuthMode;
  slots?: { min: number; max: number };
  publicDns?: string;
  /** Port of every resolver; default PRIVLINK_DNS_PORT, else 53 when bindable, else 5353. */
  dnsPort?: number;
  /** Forward unknown public names: true = the machine's resolvers (/etc/resolv.conf), or IP[:port]s. */
  dnsForward?: boolean | string[];
  runtime?: Runtime;
  /** Every answered AWS request (`privlink up --log requests`). */
  onRequest?: (r: ObservedRequest) => void;
  /** Every admitted and refused flow (`privlink up --log flows`). */
  flowTap?: FlowTap;
  /** Address of the HTTP edge; default 127.0.0.1. Anything off loopback needs `listenAny`. */
  listen?: string;
  listenAny?: boolean;
  /** Admin API protection: "token" (default under verify) or "open" (default under --auth open). */
  adminAuth?: "token" | "open";
  /** The service front's limits (tests make them small). */
  frontLimits?: Partial<FrontLimits>;
  /** Idle flows through endpoints and workload proxies are reset after this (default AWS's 350 s). */
  idleTimeoutMs?: number;
  /** S3 answers RequestTimeout when a request body stalls this long (default 20 s). */
  s3RequestTimeoutMs?: number;
  /** A buffered API request body must arrive whole within this long (default 60 s; S3 streams excepted). */
  apiBodyDeadlineMs?: number;
  /** Open connections one endpoint takes before refusing new ones (default 4096; tests make it small). */
  maxConnectionsPerEndpoint?: number;
  /**
   * "loopback" (default): private IPs live on 127.S.x.y host addresses. "netns": every VPC and
   * instance is a Linux network namespace holding real private IPs (needs root).
   */
  network?: NetworkMode;
  /** Namespace mode's `ip netns add` (tests inject one that fails, to see nothing half-made). */
  namespaceDriver?: NamespaceDriver;
  /**
   * "all" (default): the API and the whole data plane and DNS on this host. "api": the API and
   * the central work only (lifecycle, flow logs, metrics), binding no endpoint listener and no
   * resolver, for a store whose data plane `privlink agent`s serve (docs/agents.md): it can share
   * a host, or a network namespace, with an agent.
   */
  role?: NodeRole;
}

export type NetworkMode = "loopback" | "netns";
export type NodeRole = "all" | "api";

export function parseNodeRole(text: string): NodeRole {
  if (text === "all" || text === "api") return text;
  throw new Error(`--role is all or api, not '${text}'`);
}

export function parseNetworkMode(text: string): NetworkMode {
  if (text === "loopback" || text === "netns") return text;
  throw new Error(`--network is loopback or netns, not '${text}'`);
}

export interface Privlink {
  readonly url: string;
  readonly port: number;
  readonly home: string;
  /** The PostgreSQL store's address (no password) when `store` was given. */
  readonly storeWhere?: string;
  readonly state: State;
  readonly dns: Resolvers;
  readonly dataplane: DataPlaneHost;
  readonly ca: LocalCa;
  readonly front: ServiceFront;
  /** The registered handler tables, by SigV4 service name (what the API port serves). */
  readonly services: Readonly<Record<string, HandlerTable>>;
  /** The actions of the streaming services (not in `services`), by SigV4 service name. */
  readonly streamingActions: Readonly<Record<string, readonly string[]>>;
  /** CloudWatch metrics (the `monitoring` service and the PrivateLink publisher). */
  readonly cloudwatch: CloudWatch;
  /** VPC Flow Logs: the recorder on the data plane's flows and its destinations. */
  readonly flowLogs: FlowLogs;
  /** CloudWatch Logs, with `putEvents` for privlink's own log producers (flow logs). */
  readonly logs: LogsService;
  readonly sns: SnsService;
  /** The admin bearer token, or undefined when the admin API is open. */
  readonly adminToken: string | undefined;
  /** The web console at `/` (its login links, its event stream). */
  readonly console: WebConsole;
  readonly network: NetworkMode;
  readonly role: NodeRole;
  /** Namespace mode's namespaces, resolvers and listeners (undefined in loopback mode). */
  readonly namespaces?: NamespaceNetwork;
  close(): Promise<void>;
}

export { PACKAGE_ROOT, VERSION };

export function parseSlots(text: string): { min: number; max: number } {
  const m = /^(\d{1,3})-(\d{1,3})$/.exec(text.trim());
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (!m || min < 1 || max > 254 || min > max)
    throw new Error(`--slots takes A-B with 1 <= A <= B <= 254, not '${text}'`);
  return { min, max };
}

export { defaultHome, type ServerFile, serverFilePath };

/** Starts privlink on its state directory, which it locks first: one server per home. */
export async function startPrivlink(opts: PrivlinkOptions = {}): Promise<Privlink> {
  // Before anything is made: a refused start leaves no trace.
  const refusal = opts.network === "netns" ? namespaceModeRefusal() : undefined;
  if (refusal) throw new Error(refusal);
  if (opts.role === "api") {
    // Without agents nobody would serve a single endpoint: say so rather than start a dead API.
    if (opts.store === undefined)
      throw new Error(
        "--role api serves no data plane: it needs the shared store (--store postgres://…) and 'privlink agent's on it",
      );
    if (opts.network === "netns")
      throw new Error("--role api and --network netns do not combine (agents run no namespaces)");
  }
  const home = opts.home ?? defaultHome();
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const lock = lockHome(home, serverFilePath(home));
  try {
    return await startLocked(opts, home, lock);
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function startLocked(opts: PrivlinkOptions, home: string, lock: HomeLock): Promise<Privlink> {
  const network = opts.network ?? "loopback";
  const role = opts.role ?? "all";
  const servesData = role === "all";
  const rt = opts.runtime ?? systemRuntime;
  const host: HostConfig = { slots: opts.slots ?? { min: 1, max: 254 } };
  const listen = checkListenAddress(opts.listen ?? "127.0.0.1", opts.listenAny === true);
  const auth = opts.auth ?? "verify";
  const adminToken =
    (opts.adminAuth ?? (auth === "open" ? "open" : "token")) === "token"
      ? loadOrCreateAdminToken(home)
      : undefined;
  const { store, where: storeWhere } = await openStore(opts.store, home);
  const state = new State(store);
  store.loadInto(state);
  await state.transactDurable((tx) => ensureDefaultAccount(tx, rt));
  const startedAt = new Date();
  // The local CA behind the service fronts' TLS: created on first start, reused after. On a
  // shared store the store's CA wins, so the agents' fronts chain to the one workloads trust.
  const ca = await storeCa(opts.store, await LocalCa.loadOrCreate(home, rt.now()), home);
  let dataplaneRef: DataPlaneHost | undefined;
  // On the shared store: what agents meter and record reaches CloudWatch and flow logs here.
  let agentObserver: AgentObserver | undefined;
  const cloudwatch = startCloudWatch({
    store: await openMetricStore(home, opts.store),
    state,
    now: () => rt.now(),
    counters: {
      snapshot: (lead) => {
        const local = dataplaneRef!.dataplane.meter.snapshot();
        return agentObserver ? agentObserver.withAgents(local, lead) : local;
      },
    },
  });
  const logs = new LogsService(state, rt, await openLogEvents(home, opts.store));
  // On the shared store, SNS signs with the store's key and S3 bodies live in the store: any node
  // serves them alike (docs/agents.md).
  const shared = storeWhere !== undefined ? opts.store : undefined;
  const sns = await SnsService.start(state, rt, home, shared);
  const services = {
    ...STATE_SERVICES,
    monitoring: cloudwatch.handlers,
    logs: logs.handlers,
    sns: sns.handlers,
  };
  const s3 = await createS3({
    state,
    rt,
    auth,
    home,
    requestTimeoutMs: opts.s3RequestTimeoutMs,
    ...(shared !== undefined ? { blobs: await openPgBlobs(shared) } : {}),
  });
  const streaming = { s3: s3.serve };
  const t = opts.idleTimeoutMs;
  const idle = t === undefined ? {} : { idleTimeoutMs: t, requestIdleTimeoutMs: t };
  const limits = { ...idle, ...opts.frontLimits };
  const front = new ServiceFront({ state, rt, host, auth, services, ca, streaming, limits });
  const dataplane = createDataPlaneHost({
    state,
    meta: store,
    now: () => rt.now(),
    front,
    ca,
    idleTimeoutMs: opts.idleTimeoutMs,
    maxConnectionsPerEndpoint: opts.maxConnectionsPerEndpoint,
  });
  dataplaneRef = dataplane;
  const flowLogs = startFlowLogs({ home, state, meter: dataplane.dataplane.meter, nowMs: clockMs(rt) });
  if (opts.flowTap) dataplane.dataplane.meter.taps?.add(opts.flowTap);
  flowLogs.useDestination("cloud-watch-logs", logsDestination(logsSink(state, logs)));
  flowLogs.useDestination("s3", s3Destination({ state, blobs: s3.blobs, now: () => rt.now() }));
  if (storeWhere !== undefined && opts.store)
    // Loaded only here: the pg driver stays out of a SQLite server's start-up.
    agentObserver = (await import("./agent/observer.js")).observeAgents({
      store: opts.store,
      state,
      deliver: (batch) => flowLogs.deliver(batch),
    });
  const transfer = new TransferPublisher(state, cloudwatch.metrics.store, () => rt.now());
  dataplane.dataplane.meter.taps?.add(transfer);
  cloudwatch.addPublisher(transfer);

  /**
   * The counters Prometheus, `privlink stats` and the console show: this node's data plane's
   * plus, on the shared store, every agent's as last read (docs/agents.md).
   */
  const totals = (): Stats => {
    const local = dataplane.dataplane.meter.snapshot();
    return agentObserver ? agentObserver.withAgentTotals(local) : local;
  };
  /** GET /_privlink/stats: the totals, and with agents each agent's own counters beside them. */
  const statsBody = () =>
    agentObserver
      ? {
          ...totals(),
          agents: agentObserver.agents().map((a) => ({ name: a.name, alive: a.alive, ...a.stats })),
        }
      : totals();
  const prometheus = new PrometheusMetrics(state, totals, () => agentObserver?.agents() ?? []);
  const observers: ((r: ObservedRequest) => void)[] = [(r) => prometheus.observe(r)];
  if (opts.onRequest) observers.push(opts.onRequest);
  let dns: Resolvers | undefined;
  let namespaces: NamespaceNetwork | undefined;
  const agents = agentRoutes(storeWhere !== undefined ? opts.store : undefined);
  let ready = false;
  const web = startConsole({
    state,
    rt,
    stats: totals,
    taps: dataplane.dataplane.meter.taps,
    metrics: cloudwatch.metrics,
    root: PACKAGE_ROOT,
    needsLogin: adminToken !== undefined,
  });
  const server = createApiServer({
    bodyDeadlineMs: opts.apiBodyDeadlineMs,
    observe: (r) => {
      for (const o of observers) o(r);
    },
    fallback: (req, res) => prometheus.serve(req, res) || web.serve(req, res),
    // Namespace mode makes a write's namespaces before it answers; a failure undoes the write.
    // (Loopback mode has no hook, so its writes keep no undo record.)
    afterWrite:
      network === "netns" ? (changes) => namespaces?.afterWrite(changes) ?? Promise.resolve() : undefined,
    adminSession: web.admits,
    adminStreams: web.streams,
    state,
    rt,
    host,
    auth,
    services,
    streaming,
    adminToken,
    openAdmin: sns.openRoutes,
    admin: {
      ...adminRoutes({
        state,
        rt,
        startedAt,
        version: VERSION,
        health: () => ({ dns: dns?.info() }),
        ready: () => ready,
      }),
      ...(servesData
        ? dataPlaneRoutes(dataplane.dataplane, dataplane.proxies, () => workloadTlsEnv(home), statsBody)
        : {
            ...apiOnly(
              dataPlaneRoutes(dataplane.dataplane, dataplane.proxies, () => workloadTlsEnv(home), statsBody),
            ),
            // `privlink exec`/`connect`: the proxy starts on the agent serving the workload's VPC.
            "POST /_privlink/workloads/proxy": agents.workloadProxy({
              state,
              proxies: dataplane.proxies,
              tlsEnv: () => workloadTlsEnv(home),
            }),
          }),
      ...upstreamAdminRoutes(state, rt),
      ...namespaceRoutes(
        state,
        () => namespaces,
        dataplane.proxies,
        () => workloadTlsEnv(home),
      ),
      ...siteRoutes(state, rt, host),
      ...agents.routes,
      ...costRoutes({
        state,
        metrics: cloudwatch.metrics,
        now: () => rt.now(),
      }),
      ...sns.adminRoutes(),
      ...cloudWatchAdminRoutes(cloudwatch, () => agentObserver?.refresh()),
      // The analyzer resolves names as the workload proxies do: the VPC's DNS view, then the state.
      ...analyzeRoutes({
        state,
        rt,
        resolver: {
          resolve: (vpcId, name) =>
            (dns ? dnsResolver(dns, stateResolver(state)) : stateResolver(state)).resolve(vpcId, name),
        },
        health: () => dataplane.dataplane.healthView,
        listeners: () => dataplane.dataplane.listenerView,
      }),
      ...stateAdminRoutes(state, store, rt),
      ...web.routes,
      "GET /_privlink/listeners": async () => {
        if (!servesData) throw apiOnlyRefusal("/_privlink/listeners");
        // Converged first: the answer is what the current state builds, not a pass in flight.
        await dataplane.dataplane.reconcile();
        await dns?.settled();
        return {
          status: 200,
          body: { listeners: dataplane.dataplane.listenerKeys(), dns: dns?.info().resolvers },
        };
      },
    },
  });
  // An API-only node binds nothing, so its readiness says nothing: the agents serve each endpoint
  // as soon as the change feed brings it, as the API node would have.
  const lifecycle = startLifecycle(state, rt, servesData ? dataplane.readiness : ALWAYS_READY);
  dataplane.onConverged(lifecycle.kick);
  // Workloads with an internet or NAT route reach AWS services by their public names through the front.
  dataplane.proxies.usePublicFront(front);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 4599, listen, () => resolve());
  });
  if (servesData) await dataplane.start();
  const resolvers = await startResolvers({
    state,
    publicAddress: opts.publicDns,
    port: opts.dnsPort,
    forward: opts.dnsForward,
    // An API-only node answers the analyzer's and the console's questions without a socket.
    ...(servesData ? {} : { serves: () => false, listenPublic: false }),
  });
  dns = resolvers;
  prometheus.dns = () => resolvers.rcodes();
  dataplane.useDns(resolvers);
  if (network === "netns") {
    namespaces = new NamespaceNetwork({
      state,
      dataplane: dataplane.dataplane,
      home,
      driver: opts.namespaceDriver,
      serveDns: (vpcId, address, sockets) => serveNamespaceDns(state, resolvers, vpcId, address, sockets),
    });
    try {
      await namespaces.start();
    } catch (err) {
      await namespaces.close().catch(() => undefined);
      throw err;
    }
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${listen === "0.0.0.0" || listen === "::" ? "127.0.0.1" : listen.includes(":") ? `[${listen}]` : listen}:${port}`;
  sns.setEdgeUrl(url);
  if (shared !== undefined)
    await (await import("./store/shared-ca.js")).writeMetaRow(shared, SNS_EDGE_KEY, url);
  const info: ServerFile = {
    pid: process.pid,
    url,
    port,
    startedAt: startedAt.toISOString(),
    token: lock.owner.token,
    network,
    idleTimeoutSeconds: dataplane.dataplane.idleTimeoutMs / 1000,
  };
  writeFileSync(serverFilePath(home), JSON.stringify(info, null, 2));
  ready = true;

  let closed = false;
  return {
    url,
    port,
    home,
    storeWhere,
    state,
    dns: resolvers,
    dataplane,
    ca,
    front,
    services,
    streamingActions: { s3: S3_ACTIONS },
    cloudwatch,
    flowLogs,
    logs,
    sns,
    adminToken,
    console: web,
    network,
    role,
    namespaces,
    async close() {
      if (closed) return;
      closed = true;
      lifecycle.stop();
      web.close();
      await agentObserver?.close();
      await namespaces?.close();
      await resolvers.close();
      await dataplane.close();
      await flowLogs.close();
      await cloudwatch.close();
      await front.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      sns.close();
      await s3.blobs.close();
      await logs.close();
      await agents.close();
      await store.close();
      // Only this server's own files: another server's server.json is never removed.
      if (lock.owns(serverFilePath(home))) rmSync(serverFilePath(home), { force: true });
      lock.release();
    },
  };
}

/** The shared store's S3 bodies; loaded only here, as the pg driver stays out of a SQLite server's start-up. */
async function openPgBlobs(url: string): Promise<Blobs> {
  const { PgBlobs } = await import("./services/s3/pg-blobs.js");
  return PgBlobs.open(url);
}

/** The shared store's CA (proposing the home's when it has none yet), written into the home. */
async function storeCa(url: string | undefined, own: LocalCa, home: string): Promise<LocalCa> {
  if (url === undefined) return own;
  const { sharedCa } = await import("./store/shared-ca.js");
  const pem = await sharedCa(url, async () => own.pem);
  return pem.certPem === own.certPem ? own : LocalCa.adopt(home, pem);
}

/** What a data-plane admin route answers on an API-only node: the agents hold the data plane. */
function apiOnlyRefusal(route: string): AwsError {
  return new AwsError(
    "DataPlaneNotHere",
    `${route}: this node serves the API only (--role api); the data plane and the workload proxies run on the agents (GET /_privlink/agents)`,
    409,
  );
}

/**
 * The data-plane routes of an API-only node: the counters and flow events read (empty: the
 * agents keep theirs), what would bind a socket on this host (workload proxies) is refused.
 */
function apiOnly(routes: Record<string, AdminRoute>): Record<string, AdminRoute> {
  const out: Record<string, AdminRoute> = {};
  for (const [key, route] of Object.entries(routes))
    out[key] = key.startsWith("GET ")
      ? route
      : () => {
          throw apiOnlyRefusal(key.slice(key.indexOf(" ") + 1));
        };
  return out;
}

/**
 * The home's SQLite file, or the shared PostgreSQL database `--store` names (and where it is,
 * without the password). pg loads only then: a server on its SQLite file starts without it.
 */
async function openStore(
  url: string | undefined,
  home: string,
): Promise<{ store: SqliteStore | PostgresStore; where?: string }> {
  if (url === undefined) return { store: new SqliteStore(join(home, "state.db")) };
  const { PostgresStore } = await import("./store/postgres.js");
  if (!PostgresStore.accepts(url))
    throw new Error(
      `--store takes a postgres://… URL (leave it out for the SQLite file in the home), not '${url}'`,
    );
  const store = await PostgresStore.open(url);
  return { store, where: store.where };
}

/**
 * Runs the lifecycle steps after every commit (coalesced to one run per tick) and once a
 * second for time-based transitions. A step's own commit schedules at most one more run.
 */
function startLifecycle(state: State, rt: Runtime, ready: Readiness): { stop(): void; kick(): void } {
  let scheduled = false;
  let stopped = false;
  const run = () => {
    scheduled = false;
    if (stopped) return;
    try {
      state.transact((tx) => runLifecycle(tx, rt, ready));
    } catch (err) {
      process.emitWarning(`privlink lifecycle step failed: ${(err as Error).message}`);
    }
  };
  const kick = () => {
    if (scheduled || stopped) return;
    scheduled = true;
    setImmediate(run);
  };
  const unsubscribe = state.onCommit(kick);
  const timer = setInterval(kick, 1000);
  timer.unref();
  kick();
  return {
    kick,
    stop() {
      stopped = true;
      unsubscribe();
      clearInterval(timer);
    },
  };
}
