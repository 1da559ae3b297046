import type Database from "better-sqlite3";

/**
 * The store's schema, versioned in `meta.schema`. Files written before versions existed are
 * schema 0. Every change to the tables or to the stored object shapes adds one migration here
 * (index i takes schema i to i + 1) and a fixture file written by the schema before it
 * (test/reliability/fixtures/state-vN.db) that the snapshot test opens.
 */
export const SCHEMA_VERSION = 2;

/**
 * SQL that both stores run as it is (SQLite and PostgreSQL), so the two never drift: index i
 * takes schema i to i + 1. The schema row itself is written by each store's migrate().
 */
export const MIGRATIONS: readonly string[] = [
  // 0 -> 1: the two tables of the first store, created where missing (a fresh file).
  `
    CREATE TABLE IF NOT EXISTS objects (kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, id));
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `,
  // 1 -> 2: several hosts (docs/agents.md). Agents hold leases; each VPC or site is placed on one
  // agent. Not domain objects: they change every few seconds and must not flood the change feed.
  // Times are ms since the epoch on the store's clock (PostgreSQL's), so hosts' clocks never disagree.
  `
    CREATE TABLE IF NOT EXISTS agents (name TEXT PRIMARY KEY, address TEXT NOT NULL, key TEXT NOT NULL, expires_at BIGINT NOT NULL);
    CREATE TABLE IF NOT EXISTS placements (unit TEXT PRIMARY KEY, agent TEXT NOT NULL, since BIGINT NOT NULL);
  `,
];

/** Brings a database to {@link SCHEMA_VERSION} in one transaction; returns the schema it was at. */
export function migrate(db: Database.Database): number {
  const from = schemaOf(db);
  checkReadable(from);
  if (from === SCHEMA_VERSION) return from;
  db.transaction(() => {
    for (let v = from; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.prepare(
      "INSERT INTO meta (key, value) VALUES ('schema', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ).run(String(SCHEMA_VERSION));
  })();
  return from;
}

/** Refuses a store written by a newer privlink: reading it could lose what this one does not know. */
export function checkReadable(schema: number): void {
  if (schema > SCHEMA_VERSION)
    throw new Error(
      `this state was written by a newer privlink (schema ${schema}; this one reads up to ${SCHEMA_VERSION})`,
    );
}

function schemaOf(db: Database.Database): number {
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
  if (!hasMeta) return 0;
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as
    | { value: string }
    | undefined;
  return row ? Number(row.value) : 0;
}
