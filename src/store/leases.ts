import pg from "pg";
import { type AgentLease, type Placement, type PlacementPlan, place, siteUnit } from "../cloud/placement.js";
import type { Stats } from "../net/meter.js";

/** Advisory lock of a placement pass: one node at a time reads and rewrites the placements. */
const PLACEMENT_LOCK = 0x70_6c_61_63;

/** An agent as others reach it: its tunnel address and the key that authenticates flows to it. */
export interface AgentRecord extends AgentLease {
  readonly address: string;
  readonly key: string;
}

/** The agents and placements at one instant of the store's clock. */
export interface AgentsView {
  readonly now: number;
  readonly agents: readonly AgentRecord[];
  readonly placements: ReadonlyMap<string, Placement>;
}

/** The meta-table keys an agent's counters live under (`meter@NAME`): one row per agent. */
export const agentMeterKey = (key: string, agent: string): string => `${key}@${agent}`;

/** The store's clock in ms: every host reads the same one, so no two hosts' clocks disagree on a lease. */
const NOW_MS = "(floor(extract(epoch from clock_timestamp()) * 1000))::bigint";

/**
 * The lease and placement tables of the shared store (schema 2, src/store/schema.ts), on a
 * connection of its own beside the PostgresStore's (they change every few seconds and are not
 * domain objects: they never enter the change feed). The rules are src/cloud/placement.ts.
 */
export class Leases {
  private constructor(private readonly db: pg.Client) {}

  /** Connects; the schema must already be there (PostgresStore.open migrates it). */
  static async open(url: string): Promise<Leases> {
    const db = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    // Without a listener a lost connection would take the process down; calls then fail and retry.
    db.on("error", () => undefined);
    await db.connect();
    return new Leases(db);
  }

  /**
   * Writes this agent's row with a lease ending `ttlMs` from now on the store's clock; answers
   * that instant (ms on the store's clock), so the agent can tell whether its lease was unbroken.
   */
  async renew(agent: { name: string; address: string; key: string }, ttlMs: number): Promise<number> {
    const { rows } = await this.db.query(
      `INSERT INTO agents (name, address, key, expires_at) VALUES ($1, $2, $3, ${NOW_MS} + $4)
       ON CONFLICT (name) DO UPDATE SET address = excluded.address, key = excluded.key, expires_at = excluded.expires_at
       RETURNING expires_at`,
      [agent.name, agent.address, agent.key, ttlMs],
    );
    return Number(rows[0].expires_at) - ttlMs;
  }

  /** Ends a lease now (a clean stop): the next pass moves the agent's units at once. */
  async release(name: string): Promise<void> {
    await this.db.query(`UPDATE agents SET expires_at = ${NOW_MS} WHERE name = $1`, [name]);
  }

  /**
   * One placement pass over every VPC and site in the store, in one transaction under the
   * placement lock: what moved is written, placements of deleted units are removed.
   * `takeOver`: whether dead agents' units may move (src/cloud/placement.ts `place`).
   */
  async rebalance(takeOver = true): Promise<PlacementPlan> {
    const db = this.db;
    await db.query("BEGIN");
    try {
      await db.query("SELECT pg_advisory_xact_lock($1)", [PLACEMENT_LOCK]);
      const { now, agents, placements } = await this.read();
      const units = (
        await db.query("SELECT id, kind FROM objects WHERE kind = 'vpc' OR kind = 'site'")
      ).rows.map((r) => (r.kind === "site" ? siteUnit(r.id) : (r.id as string)));
      const plan = place(units, agents, placements, now, takeOver);
      for (const unit of plan.moved) {
        const p = plan.placements.get(unit)!;
        await db.query(
          `INSERT INTO placements (unit, agent, since) VALUES ($1, $2, $3)
           ON CONFLICT (unit) DO UPDATE SET agent = excluded.agent, since = excluded.since`,
          [p.unit, p.agent, p.since],
        );
      }
      if (plan.dropped.length > 0)
        await db.query("DELETE FROM placements WHERE unit = ANY($1)", [plan.dropped]);
      await db.query("COMMIT");
      return plan;
    } catch (err) {
      await db.query("ROLLBACK").catch(() => undefined);
      throw err;
    }
  }

  /** Every agent and placement, with the store's clock. */
  async view(): Promise<AgentsView> {
    return this.read();
  }

  /**
   * The data-plane counters of every agent summed per endpoint and interface: each agent meters
   * the flows it admits (the bytes pass through it) and flushes them to its own meta row.
   */
  async meterTotals(key: string): Promise<Stats> {
    const { rows } = await this.db.query("SELECT value FROM meta WHERE key LIKE $1", [`${key}@%`]);
    return sumStats(rows.map((r) => JSON.parse(r.value) as Stats));
  }

  /**
   * The per-agent rows of the data-plane counters (`meter@NAME`), by agent name: an API node
   * turns their growth into CloudWatch metrics (src/agent/observer.ts).
   */
  async meterRows(key: string): Promise<Map<string, Stats>> {
    const { rows } = await this.db.query("SELECT key, value FROM meta WHERE key LIKE $1", [`${key}@%`]);
    return new Map(rows.map((r) => [(r.key as string).slice(key.length + 1), JSON.parse(r.value) as Stats]));
  }

  /** Queues flow-log batches an agent recorded (JSON each), in one statement: all or none. */
  async queueFlowLogs(agent: string, batches: readonly string[]): Promise<void> {
    if (batches.length === 0) return;
    await this.db.query("INSERT INTO flow_log_outbox (agent, batch) SELECT $1, unnest($2::text[])", [
      agent,
      batches,
    ]);
  }

  /**
   * Hands up to `limit` queued flow-log batches, oldest first, to `deliver` and removes them in
   * the same transaction: rows locked by another API node draining at once are skipped, so each
   * batch is delivered by one node; a node that dies mid-way leaves its rows for the next.
   * `deliver` records its own failures (DeliverLogsStatus); answers how many were taken.
   */
  async drainFlowLogs(deliver: (batch: string) => Promise<void>, limit = 200): Promise<number> {
    const db = this.db;
    await db.query("BEGIN");
    try {
      const { rows } = await db.query(
        "SELECT seq, batch FROM flow_log_outbox ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED",
        [limit],
      );
      for (const r of rows) await deliver(r.batch);
      if (rows.length > 0)
        await db.query("DELETE FROM flow_log_outbox WHERE seq = ANY($1)", [rows.map((r) => r.seq)]);
      await db.query("COMMIT");
      return rows.length;
    } catch (err) {
      await db.query("ROLLBACK").catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.db.end().catch(() => undefined);
  }

  private async read(): Promise<AgentsView> {
    const db = this.db;
    const now = Number((await db.query(`SELECT ${NOW_MS} AS now`)).rows[0].now);
    const agents = (
      await db.query("SELECT name, address, key, expires_at FROM agents ORDER BY name")
    ).rows.map(
      (r): AgentRecord => ({ name: r.name, address: r.address, key: r.key, expiresAt: Number(r.expires_at) }),
    );
    const placements = new Map<string, Placement>();
    for (const r of (await db.query("SELECT unit, agent, since FROM placements")).rows)
      placements.set(r.unit, { unit: r.unit, agent: r.agent, since: Number(r.since) });
    return { now, agents, placements };
  }
}

/** Counter rows of several meters added up by their ID (numbers add; the ID stays). */
export function sumStats(all: readonly Stats[]): Stats {
  return {
    endpoints: sumRows(
      all.map((s) => s.endpoints ?? []),
      "vpcEndpointId",
    ),
    enis: sumRows(
      all.map((s) => s.enis ?? []),
      "networkInterfaceId",
    ),
    natGateways: sumRows(
      all.map((s) => s.natGateways ?? []),
      "natGatewayId",
    ),
  };
}

function sumRows<T extends object>(lists: readonly (readonly T[])[], id: keyof T): T[] {
  const by = new Map<unknown, T>();
  for (const list of lists)
    for (const row of list) {
      const prev = by.get(row[id]) as Record<string, unknown> | undefined;
      if (!prev) by.set(row[id], { ...row });
      else
        for (const [k, v] of Object.entries(row))
          if (typeof v === "number") prev[k] = (prev[k] as number) + v;
    }
  return [...by.values()];
}
