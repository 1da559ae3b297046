import { copyFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Change } from "../../src/cloud/state.js";
import { Leases, sumStats } from "../../src/store/leases.js";
import { PostgresStore } from "../../src/store/postgres.js";
import { SCHEMA_VERSION } from "../../src/store/schema.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import { tempHomes } from "../helpers/homes.js";
import { postgresMissing, startPostgres, type TestPostgres } from "../helpers/postgres.js";

const FIXTURE_V1 = join(import.meta.dirname, "../reliability/fixtures/state-v1.db");
const homes = tempHomes("privlink-leases-");
afterAll(() => homes.removeAll());

describe("the lease tables in SQLite", () => {
  it("migrate a schema-1 file to schema 2, keeping its objects", () => {
    const file = join(homes.make(), "state.db");
    copyFileSync(FIXTURE_V1, file);
    const store = new SqliteStore(file);
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    store.close();
    const db = new Database(file, { readonly: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    expect(tables.map((t) => (t as { name: string }).name)).toEqual([
      "agents",
      "meta",
      "objects",
      "placements",
    ]);
    expect(db.prepare("SELECT id FROM objects WHERE kind = 'vpc'").all()).toEqual([{ id: "vpc-0fixture1" }]);
    db.close();
  });
});

const missing = postgresMissing();
if (missing) console.log(`skipping the PostgreSQL lease tests: ${missing}`);

describe.skipIf(missing)("the lease tables in PostgreSQL", () => {
  let pgs: TestPostgres;
  beforeAll(async () => {
    pgs = await startPostgres();
  });
  afterAll(async () => {
    await pgs?.stop();
  });

  /** A store with `vpcs` VPC objects and one site, durable. */
  async function storeWith(vpcs: string[]): Promise<{ url: string; store: PostgresStore }> {
    const url = await pgs.createDatabase();
    const store = await PostgresStore.open(url);
    const changes: Change[] = vpcs.map((id) => ({ kind: "vpc", id, value: { id } }));
    changes.push({ kind: "site", id: "s-1", value: { id: "s-1" } } as Change);
    store.commit(changes, 1);
    await store.durable();
    return { url, store };
  }

  it("places every VPC and site on live agents and moves a lapsed agent's units to the survivor", async () => {
    const { url, store } = await storeWith(["vpc-1", "vpc-2", "vpc-3"]);
    const leases = await Leases.open(url);
    try {
      await leases.renew({ name: "a", address: "10.0.0.1:7000", key: "ka" }, 600_000);
      await leases.renew({ name: "b", address: "10.0.0.2:7000", key: "kb" }, 300);
      const first = await leases.rebalance();
      expect(first.moved).toEqual(["site:s-1", "vpc-1", "vpc-2", "vpc-3"]);
      const onB = [...first.placements.values()].filter((p) => p.agent === "b").map((p) => p.unit);
      expect(onB).toEqual(["vpc-1", "vpc-3"]);
      // A second pass with both alive moves nothing.
      const view = await leases.view();
      if (view.now < view.agents.find((a) => a.name === "b")!.expiresAt)
        expect((await leases.rebalance()).moved).toEqual([]);
      // b stops renewing: once the store's clock passes its expiry, the next pass moves its units.
      for (;;) {
        const v = await leases.view();
        if (v.now >= v.agents.find((a) => a.name === "b")!.expiresAt) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const after = await leases.rebalance();
      expect(after.moved).toEqual(["vpc-1", "vpc-3"]);
      const stored = await leases.view();
      expect([...stored.placements.values()].every((p) => p.agent === "a")).toBe(true);
      expect(stored.agents.map((a) => [a.name, a.address, a.key])).toEqual([
        ["a", "10.0.0.1:7000", "ka"],
        ["b", "10.0.0.2:7000", "kb"],
      ]);
      // A released lease ends at once; with no live agent nothing moves.
      await leases.release("a");
      expect((await leases.rebalance()).moved).toEqual([]);
    } finally {
      await leases.close();
      await store.close();
    }
  });

  it("sums the agents' counters per endpoint", async () => {
    const { url, store } = await storeWith([]);
    const leases = await Leases.open(url);
    const row = {
      bytesIn: 1,
      bytesOut: 2,
      newConnections: 1,
      activeConnections: 0,
      resets: 0,
      idleTimeouts: 0,
      dropped: 0,
    };
    try {
      store.setMeta(
        "meter@a",
        JSON.stringify({ endpoints: [{ vpcEndpointId: "vpce-1", ...row }], enis: [], natGateways: [] }),
      );
      store.setMeta(
        "meter@b",
        JSON.stringify({
          endpoints: [{ vpcEndpointId: "vpce-1", ...row, bytesIn: 10 }],
          enis: [],
          natGateways: [],
        }),
      );
      store.setMeta(
        "meter",
        JSON.stringify({
          endpoints: [{ vpcEndpointId: "vpce-1", ...row, bytesIn: 100 }],
          enis: [],
          natGateways: [],
        }),
      );
      await store.durable();
      const totals = await leases.meterTotals("meter");
      expect(totals.endpoints).toEqual([
        { vpcEndpointId: "vpce-1", ...row, bytesIn: 11, bytesOut: 4, newConnections: 2 },
      ]);
      expect(sumStats([]).endpoints).toEqual([]);
    } finally {
      await leases.close();
      await store.close();
    }
  });
});
