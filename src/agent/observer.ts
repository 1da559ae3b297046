import { liveAgents } from "../cloud/placement.js";
import type { State } from "../cloud/state.js";
import { METER_META_KEY } from "../net/host.js";
import type { Stats } from "../net/meter.js";
import type { FlowLogBatch } from "../services/flowlogs/destinations.js";
import { Leases, sumStats } from "../store/leases.js";
import { decodeBatch } from "./outbox.js";

/** How often an API node reads the agents' counters and delivers their flow logs (agents flush every 5 s). */
export const OBSERVE_MS = 5_000;
/** Outbox rows taken per transaction. */
const DRAIN_BATCH = 200;

/**
 * An API node's side of agents' metering and flow logs (docs/agents.md). Agents record where the
 * bytes pass: counters in their `meter@NAME` rows, flow-log batches in `flow_log_outbox`. This
 * reads both from the shared store every {@link OBSERVE_MS}: the counters' growth since this node
 * started observing is added to its own data plane's before the CloudWatch publisher turns them
 * into AWS/PrivateLinkEndpoints and AWS/PrivateLinkServices datapoints (so each agent's
 * traffic is published once, by the node that reads it, not replayed from the start of time
 * after a restart), and the batches are delivered to CloudWatch Logs, S3 or files as if this
 * node had recorded them.
 */
export interface AgentObserver {
  /**
   * `local` (this node's own counters) plus the agents' growth since observation began. On a
   * node that does not lead the metric store (`lead` false: another node publishes the agents'
   * traffic into the shared store) the growth is taken as published: it starts from here once
   * this node leads.
   */
  withAgents(local: Stats, lead?: boolean): Stats;
  /**
   * `local` plus every agent's counters as last read (whole, not growth): what Prometheus,
   * `privlink stats` and the console show, counters that only grow as each agent's row does.
   */
  withAgentTotals(local: Stats): Stats;
  /** Each agent's counters as last read, with whether its lease is live (by name). */
  agents(): AgentCounters[];
  /** Reads the counters and delivers the queued batches now (the CloudWatch flush route awaits it). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

/** One agent's row: a dead agent's ActiveConnections are 0 (they died with it). */
export interface AgentCounters {
  name: string;
  alive: boolean;
  stats: Stats;
}

export function observeAgents(opts: {
  store: string;
  state: State;
  deliver: (batch: FlowLogBatch) => Promise<void>;
  everyMs?: number;
  warn?: (message: string) => void;
}): AgentObserver {
  const warn = opts.warn ?? ((m: string) => process.emitWarning(`privlink agents: ${m}`));
  let leases: Leases | undefined;
  /** The agents' rows when observation began (or at the last reset); agents seen later start at zero. */
  let baseline: Map<string, Stats> | undefined;
  let latest = new Map<string, Stats>();
  let alive = new Set<string>();
  /** Every agent of the store, with a counter row or not yet. */
  let names: string[] = [];
  let grown: Stats = { endpoints: [], enis: [], natGateways: [] };
  let whole: AgentCounters[] = [];
  let wholeSum: Stats = grown;
  const recompute = () => {
    grown = sumStats([...latest].map(([name, row]) => since(row, baseline?.get(name), alive.has(name))));
    const none: Stats = { endpoints: [], enis: [], natGateways: [] };
    whole = [...new Set([...names, ...latest.keys()])].sort().map((name) => ({
      name,
      alive: alive.has(name),
      stats: since(latest.get(name) ?? none, undefined, alive.has(name)),
    }));
    wholeSum = sumStats(whole.map((a) => a.stats));
  };
  // POST /_privlink/reset: the publisher forgets what it published; what agents counted so far is history.
  const unsubscribe = opts.state.onCommit((changes) => {
    if (
      changes.some((c) => c.kind === "account" && c.value === undefined) &&
      opts.state.count("account") === 0
    ) {
      baseline = new Map(latest);
      recompute();
    }
  });

  const once = async () => {
    leases ??= await Leases.open(opts.store);
    try {
      const rows = await leases.meterRows(METER_META_KEY);
      const view = await leases.view();
      baseline ??= rows;
      latest = rows;
      alive = new Set(liveAgents(view.agents, view.now));
      names = view.agents.map((a) => a.name);
      recompute();
      const deliver = async (json: string) => {
        const batch = decodeBatch(opts.state, json);
        if (batch) await opts.deliver(batch);
      };
      while ((await leases.drainFlowLogs(deliver, DRAIN_BATCH)) === DRAIN_BATCH);
    } catch (err) {
      // A fresh connection next time: PostgreSQL may be back by then.
      const lost = leases;
      leases = undefined;
      await lost.close();
      throw err;
    }
  };
  let running: Promise<void> = Promise.resolve();
  let closed = false;
  let failing = false;
  const refresh = (): Promise<void> => {
    const next = running.then(() => (closed ? undefined : once()));
    running = next.catch(() => undefined);
    return next;
  };
  const timer = setInterval(() => {
    refresh().then(
      () => {
        failing = false;
      },
      (err: Error) => {
        // Once per outage, not every few seconds.
        if (!failing) warn(`cannot read the agents' counters and flow logs: ${err.message}`);
        failing = true;
      },
    );
  }, opts.everyMs ?? OBSERVE_MS);
  timer.unref();
  // The baseline is taken now: agents' traffic from here on is published, not what came before.
  refresh().catch(() => undefined);
  return {
    withAgents: (local, lead = true) => {
      if (!lead) {
        baseline = new Map(latest);
        recompute();
        return local;
      }
      return plus(local, grown);
    },
    withAgentTotals: (local) => plus(local, wholeSum),
    agents: () => whole,
    refresh,
    async close() {
      clearInterval(timer);
      unsubscribe();
      closed = true;
      await running;
      await leases?.close();
    },
  };
}

/** `local` with `agents` added, `local` itself when the agents have counted nothing. */
function plus(local: Stats, agents: Stats): Stats {
  return agents.endpoints.length + agents.enis.length + agents.natGateways.length === 0
    ? local
    : sumStats([local, agents]);
}

/**
 * An agent's counters minus what they were at `base`: counters grow from there (never below
 * zero), ActiveConnections is a gauge, taken as it is from a live agent and as 0 from a dead one
 * (its last row still counts the connections that died with it).
 */
function since(now: Stats, base: Stats | undefined, alive: boolean): Stats {
  const rows = <T extends object>(
    list: readonly T[] | undefined,
    was: readonly T[] | undefined,
    id: keyof T,
  ) => {
    const before = new Map((was ?? []).map((r) => [r[id], r as unknown as Record<string, unknown>]));
    return (list ?? []).map((r) => {
      const b = before.get(r[id]);
      const out = { ...r } as Record<string, unknown>;
      for (const [k, v] of Object.entries(r))
        if (typeof v === "number")
          out[k] = k === "activeConnections" ? (alive ? v : 0) : Math.max(0, v - ((b?.[k] as number) ?? 0));
      return out as unknown as T;
    });
  };
  return {
    endpoints: rows(now.endpoints, base?.endpoints, "vpcEndpointId"),
    enis: rows(now.enis, base?.enis, "networkInterfaceId"),
    natGateways: rows(now.natGateways, base?.natGateways, "natGatewayId"),
  };
}
