import type Database from "better-sqlite3";

/**
 * The store's schema, versioned in `meta.schema`. Files written before versions existed are
 * schema 0. Every change to the tables or to the stored object shapes adds one migration here
 * (index i takes schema i to i + 1) and a fixture file written by the schema before it
 * (test/reliability/fixtures/state-vN.db) that the snapshot test opens.
 */
export const SCHEMA_VERSION = 1;

type Migration = (db: Database.Database) => void;

const MIGRATIONS: readonly Migration[] = [
  // 0 -> 1: the two tables of the first store, created where missing (a fresh file); the
  // schema row itself is written by migrate().
  (db) =>
    db.exec(`
      CREATE TABLE IF NOT EXISTS objects (kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, id));
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `),
];

/** Brings a database to {@link SCHEMA_VERSION} in one transaction; returns the schema it was at. */
export function migrate(db: Database.Database): number {
  const from = schemaOf(db);
  if (from > SCHEMA_VERSION)
    throw new Error(
      `this state was written by a newer privlink (schema ${from}; this one reads up to ${SCHEMA_VERSION})`,
    );
  if (from === SCHEMA_VERSION) return from;
  db.transaction(() => {
    for (let v = from; v < SCHEMA_VERSION; v++) MIGRATIONS[v]!(db);
    db.prepare(
      "INSERT INTO meta (key, value) VALUES ('schema', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ).run(String(SCHEMA_VERSION));
  })();
  return from;
}

function schemaOf(db: Database.Database): number {
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
  if (!hasMeta) return 0;
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as
    | { value: string }
    | undefined;
  return row ? Number(row.value) : 0;
}
