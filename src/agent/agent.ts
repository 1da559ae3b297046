import { randomBytes } from "node:crypto";
import type { AddressInfo, Server } from "node:net";
import { workloadAwsError } from "../api/admin-dataplane.js";
import type { AuthMode } from "../cloud/account.js";
import { type Placement, workloadUnit } from "../cloud/placement.js";
import { systemRuntime } from "../cloud/runtime.js";
import { State } from "../cloud/state.js";
import { type Resolvers, startResolvers } from "../dns/resolvers.js";
import { type DataPlane, type RemotePlacement, stripMapped } from "../net/dataplane.js";
import { createDataPlaneHost, type DataPlaneHost } from "../net/host.js";
import { WorkloadError } from "../net/workload-proxy.js";
import { startFlowLogs } from "../services/flowlogs/index.js";
import { type AgentRecord, type AgentsView, agentMeterKey, Leases } from "../store/leases.js";
import { PostgresStore } from "../store/postgres.js";
import { startAgentFront } from "./front.js";
import { FlowLogOutbox } from "./outbox.js";
import {
  carry,
  createTunnelServer,
  splitAddress,
  type TunnelAnswer,
  type TunnelCounters,
  TunnelDialer,
} from "./tunnel.js";

/** Default lease: an agent killed without a word loses its VPCs within this plus one renewal. */
export const DEFAULT_LEASE_MS = 15_000;

export interface AgentOptions {
  /** The shared store (postgres://…): agents need PostgreSQL, there is no SQLite agent. */
  store: string;
  /** Unique among the agents of one store; a restarted agent takes its row (and lease) back. */
  name: string;
  /** Where the tunnel listens (host:port; default 127.0.0.1:0). */
  listen?: string;
  /** What other agents dial (default: the listen address with its bound port). */
  advertise?: string;
  /** Lease length (default {@link DEFAULT_LEASE_MS}); renewed every third of it. */
  leaseMs?: number;
  /** Port of the VPC resolvers on this host (default as `privlink up`). */
  dnsPort?: number;
  publicDns?: string;
  /** How the service front checks SigV4 (default verify, as `privlink up`). */
  auth?: AuthMode;
  /** Clock of the tunnel headers and flow-log records (ms); leases use the store's clock. */
  now?: () => number;
  warn?: (message: string) => void;
}

export interface Agent {
  readonly name: string;
  /** The tunnel address other agents dial. */
  readonly address: string;
  readonly state: State;
  readonly dataplane: DataPlane;
  readonly dns: Resolvers;
  readonly tunnels: TunnelCounters;
  /** The VPCs and sites (`site:…`) placed on this agent, as of its last lease round. */
  units(): string[];
  /** One lease round now: renew, place, read the placements back. */
  tick(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `privlink agent`: one host's share of a privlink spread over several hosts. It follows the
 * shared store's change feed like any node, holds a lease, and serves the data plane and DNS of
 * the VPCs placed on it; connections from this host's workloads to endpoints of VPCs placed on
 * another agent are carried there through the tunnel. It serves no API and changes no domain
 * object: its only writes are its lease, placement passes and its counters.
 */
export async function startAgent(opts: AgentOptions): Promise<Agent> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(opts.name))
    throw new Error(`an agent name is 1-63 letters, digits, '.', '_' or '-', not '${opts.name}'`);
  if (!PostgresStore.accepts(opts.store))
    throw new Error(
      `privlink agent needs the shared PostgreSQL store (--store postgres://…), not '${opts.store}'`,
    );
  const name = opts.name;
  const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  if (!(leaseMs >= 300)) throw new Error(`the lease is at least 300 ms, not ${leaseMs}`);
  const now = opts.now ?? Date.now;
  const warn = opts.warn ?? ((m: string) => process.emitWarning(`privlink agent ${name}: ${m}`));
  const key = randomBytes(32).toString("hex");
  const store = await PostgresStore.open(opts.store);
  const closers: (() => Promise<void>)[] = [() => store.close()];
  const closeAll = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    const state = new State(store);
    store.loadInto(state);
    // Its own connection: reopened by the next round once PostgreSQL is back after a loss.
    let leases: Leases | undefined = await Leases.open(opts.store);
    closers.push(async () => leases?.close());
    const tunnels: TunnelCounters = { sent: 0, received: 0, refused: 0, bytesSent: 0, bytesReceived: 0 };

    let view: AgentsView = { now: 0, agents: [], placements: new Map() };
    let byName = new Map<string, AgentRecord>();
    let mine = new Set<string>();
    /** The agent serving `vpcId` when it is another one (unplaced VPCs are served here). */
    const elsewhere = (vpcId: string): AgentRecord | undefined => {
      const p: Placement | undefined = view.placements.get(vpcId);
      return p && p.agent !== name ? byName.get(p.agent) : undefined;
    };
    const dialer = new TunnelDialer();
    closers.push(async () => dialer.close());
    const placement: RemotePlacement = {
      divert(vpcId, socket, host, servicePort) {
        const owner = elsewhere(vpcId);
        if (!owner) return false;
        const source = stripMapped(socket.remoteAddress ?? "");
        carry(
          socket,
          owner,
          { from: name, host, port: servicePort, source, sourcePort: socket.remotePort ?? 0 },
          tunnels,
          dialer,
          now,
        );
        return true;
      },
    };
    // AWS-service endpoints placed here are answered here, signed with the store's CA.
    const front = await startAgentFront({
      store: opts.store,
      state,
      rt: systemRuntime,
      auth: opts.auth ?? "verify",
    });
    closers.push(() => front.close());
    const host: DataPlaneHost = createDataPlaneHost({
      state,
      front: front.handler,
      ca: front.ca,
      // Each agent's counters in a row of its own: the store sums them (Leases.meterTotals).
      meta: {
        getMeta: (k) => store.getMeta(agentMeterKey(k, name)),
        setMeta: (k, v) => store.setMeta(agentMeterKey(k, name), v),
      },
      placement,
    });

    // Flow logs are recorded here, where the bytes pass, and delivered by an API node (outbox.ts).
    const outbox = new FlowLogOutbox(state);
    const flowLogs = startFlowLogs({
      destinations: outbox.destinations(),
      state,
      meter: host.dataplane.meter,
      nowMs: now,
    });
    /** Writes the recorded flow-log batches to the store; kept for the next round if it is out of reach. */
    const ship = async () => {
      if (leases) await outbox.ship((batches) => leases!.queueFlowLogs(name, batches));
    };

    /**
     * An API node's request for a workload's proxy (`privlink exec`): started on this host if the
     * workload's VPC (or site) is placed here, as `privlink up` would start it on its own.
     */
    const startWorkloadProxy = async (workload: string): Promise<TunnelAnswer> => {
      try {
        const { eniId } = host.proxies.identify(workload);
        const unit = workloadUnit(eniId, (eni) => state.get("eni", eni)?.vpcId);
        if (!unit || !mine.has(unit))
          return {
            status: 409,
            error: "DataPlaneNotHere",
            message: `agent ${name} does not serve ${unit ?? eniId} (its placement moved): try again`,
          };
        return { status: 200, body: await host.proxies.ensure(workload) };
      } catch (err) {
        if (!(err instanceof WorkloadError)) throw err;
        const aws = workloadAwsError(err);
        return { status: aws.status, error: aws.code, message: aws.message };
      }
    };
    const server: Server = createTunnelServer({
      me: () => ({ name, key }),
      now,
      counters: tunnels,
      onFlow: (flow, socket) =>
        host.dataplane.admitCarried(flow.host, flow.port, socket, flow.source, flow.sourcePort),
      onRequest: (request) => startWorkloadProxy(request.workload),
      onRefused: (reason, remote) => warn(`refused a tunnel connection from ${remote}: ${reason}`),
    });
    const [listenHost, listenPort] = splitAddress(opts.listen ?? "127.0.0.1:0");
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(listenPort, listenHost, () => resolve());
    });
    closers.push(() => new Promise<void>((r) => server.close(() => r())));
    const bound = server.address() as AddressInfo;
    const address =
      opts.advertise ??
      (bound.family === "IPv6" ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`);

    let dns: Resolvers | undefined;
    /** Store times of this agent's last renewal and of the start of its unbroken run of renewals. */
    let renewedAt: number | undefined;
    let heldSince = 0;
    const round = async () => {
      leases ??= await Leases.open(opts.store);
      try {
        const at = await leases.renew({ name, address, key }, leaseMs);
        if (renewedAt === undefined || at >= renewedAt + leaseMs) heldSince = at;
        renewedAt = at;
        // Back after losing the store (or just started): others cut off by the same outage get one
        // lease to renew before their VPCs are taken (src/cloud/placement.ts).
        await leases.rebalance(at - heldSince >= leaseMs);
        view = await leases.view();
      } catch (err) {
        // Until it renews again this agent keeps serving its last placements (docs/agents.md).
        const lost = leases;
        leases = undefined;
        await lost.close();
        throw err;
      }
      // Outside the lease's try: records that cannot be written now wait, the round stands.
      await ship().catch((err: Error) => warn(`flow-log records kept for the next round: ${err.message}`));
      byName = new Map(view.agents.map((a) => [a.name, a]));
      const next = new Set([...view.placements.values()].filter((p) => p.agent === name).map((p) => p.unit));
      const changed = next.size !== mine.size || [...next].some((u) => !mine.has(u));
      mine = next;
      if (changed) await dns?.relisten();
    };
    let running: Promise<void> = Promise.resolve();
    let closed = false;
    const tick = (): Promise<void> => {
      running = running
        .then(() => (closed ? undefined : round()))
        .catch((err) => warn(`lease round failed: ${(err as Error).message}`));
      return running;
    };
    // The first round places this agent's units before any listener opens.
    await round();
    await host.start();
    closers.push(() => host.close());
    dns = await startResolvers({
      state,
      port: opts.dnsPort,
      publicAddress: opts.publicDns,
      serves: (vpcId) => mine.has(vpcId),
    });
    closers.push(() => dns!.close());
    host.useDns(dns);
    const timer = setInterval(() => void tick(), Math.floor(leaseMs / 3));
    // A new (or deleted) VPC or site gets placed at once rather than at the next renewal.
    let soon: NodeJS.Timeout | undefined;
    const unsubscribe = state.onCommit((changes) => {
      if (soon || !changes.some((c) => c.kind === "vpc" || c.kind === "site")) return;
      soon = setTimeout(() => {
        soon = undefined;
        void tick();
      }, 50);
    });
    closers.push(async () => {
      closed = true;
      clearInterval(timer);
      clearTimeout(soon);
      unsubscribe();
      await running;
      await flowLogs.close();
      await ship().catch((err: Error) => warn(`flow-log records not handed to the store: ${err.message}`));
      // A clean stop hands the units over now instead of after the lease.
      await leases?.release(name);
      await leases?.rebalance();
    });
    let closing: Promise<void> | undefined;
    return {
      name,
      address,
      state,
      dataplane: host.dataplane,
      dns,
      tunnels,
      units: () => [...mine].sort(),
      tick,
      close: () => {
        closing ??= closeAll();
        return closing;
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
