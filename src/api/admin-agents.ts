import { AwsError } from "../cloud/errors.js";
import { liveAgents } from "../cloud/placement.js";
import { METER_META_KEY } from "../net/host.js";
import type { Leases } from "../store/leases.js";
import type { AdminRoute } from "./server.js";

/**
 * GET /_privlink/agents: the agents of a shared store (docs/agents.md) — their leases (never
 * their keys), where each VPC and site is placed, and the agents' data-plane counters summed.
 * `storeUrl` is the PostgreSQL store this node uses; with the SQLite store there are no agents.
 */
export function agentRoutes(storeUrl: string | undefined): {
  routes: Record<string, AdminRoute>;
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
  return {
    routes: {
      "GET /_privlink/agents": async () => {
        if (storeUrl === undefined)
          throw new AwsError(
            "InvalidRequest",
            "agents need the shared PostgreSQL store: start privlink with --store postgres://…",
            409,
          );
        const l = await open();
        let view: Awaited<ReturnType<Leases["view"]>>;
        let stats: Awaited<ReturnType<Leases["meterTotals"]>>;
        try {
          view = await l.view();
          stats = await l.meterTotals(METER_META_KEY);
        } catch (err) {
          // The connection died with PostgreSQL: the next call opens a fresh one.
          leases = undefined;
          await l.close();
          throw new AwsError(
            "ServiceUnavailable",
            `the store is out of reach: ${(err as Error).message}`,
            503,
          );
        }
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
