import { askAgent } from "../agent/tunnel.js";
import { AwsError } from "../cloud/errors.js";
import { liveAgents, workloadUnit } from "../cloud/placement.js";
import type { State } from "../cloud/state.js";
import { METER_META_KEY } from "../net/host.js";
import type { WorkloadProxies } from "../net/workload-proxy.js";
import type { Leases } from "../store/leases.js";
import { asAws, tlsEnvOrNone, workloadParam } from "./admin-dataplane.js";
import type { AdminRoute } from "./server.js";

/** What an API-only node needs to send `privlink exec` to the agent that serves the workload. */
export interface WorkloadsOnAgents {
  state: State;
  /** Only its `identify` (no proxy starts on this node). */
  proxies: Pick<WorkloadProxies, "identify">;
  /** The TLS environment of workloads: the store's CA, which is this node's too. */
  tlsEnv: () => Record<string, string>;
}

/**
 * GET /_privlink/agents: the agents of a shared store (docs/agents.md) — their leases (never
 * their keys), where each VPC and site is placed, and the agents' data-plane counters summed.
 * `storeUrl` is the PostgreSQL store this node uses; with the SQLite store there are no agents.
 */
export function agentRoutes(storeUrl: string | undefined): {
  routes: Record<string, AdminRoute>;
  /**
   * POST /_privlink/workloads/proxy on an API-only node: the agent that serves the workload's
   * VPC (or site) starts its proxy there, asked through the tunnel (docs/agents.md).
   */
  workloadProxy(w: WorkloadsOnAgents): AdminRoute;
  close(): Promise<void>;
} {
  let leases: Promise<Leases> | undefined;
  const open = () => {
    // Loaded on first use: the pg driver stays out of a SQLite server's start-up.
    leases ??= import("../store/leases.js")
      .then(({ Leases }) => Leases.open(storeUrl!))
      .catch((err: Error) => {
        leases = undefined;
        throw new AwsError("ServiceUnavailable", `the store is out of reach: ${err.message}`, 503);
      });
    return leases;
  };
  /** `fn` on the store's lease tables; a failure is ServiceUnavailable and the next call reconnects. */
  const query = async <T>(fn: (l: Leases) => Promise<T>): Promise<T> => {
    if (storeUrl === undefined)
      throw new AwsError(
        "InvalidRequest",
        "agents need the shared PostgreSQL store: start privlink with --store postgres://…",
        409,
      );
    const l = await open();
    try {
      return await fn(l);
    } catch (err) {
      // The connection died with PostgreSQL: the next call opens a fresh one.
      leases = undefined;
      await l.close();
      throw new AwsError("ServiceUnavailable", `the store is out of reach: ${(err as Error).message}`, 503);
    }
  };
  return {
    workloadProxy:
      (w) =>
      async ({ body }) => {
        const id = workloadParam(body);
        const { eniId } = await asAws(() => w.proxies.identify(id));
        const unit = workloadUnit(eniId, (eni) => w.state.get("eni", eni)?.vpcId);
        if (!unit) throw new AwsError("NotFound", `no network interface ${eniId}`, 404);
        const view = await query((l) => l.view());
        const placed = view.placements.get(unit)?.agent;
        const agent = view.agents.find((a) => a.name === placed);
        if (!agent || !liveAgents([agent], view.now).length)
          throw new AwsError(
            "NoLiveAgent",
            `no live agent serves ${unit} (where ${id} is): ${
              placed ? `its agent ${placed} has not renewed its lease` : "it is placed on no agent yet"
            }; its proxy can start only on the agent that serves it (GET /_privlink/agents)`,
            503,
          );
        const answer = await askAgent(agent, { from: "api", op: "workload-proxy", workload: id }).catch(
          (err: Error) => {
            throw new AwsError("ServiceUnavailable", err.message, 503);
          },
        );
        if (!("body" in answer)) throw new AwsError(answer.error, answer.message, answer.status);
        return {
          status: 200,
          body: {
            ...(answer.body as object),
            agent: agent.name,
            agentAddress: agent.address,
            env: tlsEnvOrNone(w.tlsEnv),
          },
        };
      },
    routes: {
      "GET /_privlink/agents": async () => {
        const [view, stats] = await query(
          async (l) => [await l.view(), await l.meterTotals(METER_META_KEY)] as const,
        );
        const live = new Set(liveAgents(view.agents, view.now));
        return {
          status: 200,
          body: {
            now: new Date(view.now).toISOString(),
            agents: view.agents.map((a) => ({
              name: a.name,
              address: a.address,
              leaseExpires: new Date(a.expiresAt).toISOString(),
              alive: live.has(a.name),
            })),
            placements: [...view.placements.values()]
              .sort((x, y) => x.unit.localeCompare(y.unit))
              .map((p) => ({ unit: p.unit, agent: p.agent, since: new Date(p.since).toISOString() })),
            stats,
          },
        };
      },
    },
    async close() {
      await (await leases?.catch(() => undefined))?.close();
    },
  };
}
