import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Change, Persistence, State } from "../cloud/state.js";

/**
 * The embedded store: one SQLite file, one row per object. WAL mode keeps every committed
 * transaction across a process crash (kill -9); a transaction is all-or-nothing.
 */
export class SqliteStore implements Persistence {
  private readonly db: Database.Database;
  private readonly upsert: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly setVersion: Database.Statement;
  private readonly commitTx: (changes: readonly Change[], version: number) => void;

  constructor(readonly path: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS objects (kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, id));
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
    this.upsert = this.db.prepare(
      "INSERT INTO objects (kind, id, body) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body",
    );
    this.remove = this.db.prepare("DELETE FROM objects WHERE kind = ? AND id = ?");
    this.setVersion = this.db.prepare(
      "INSERT INTO meta (key, value) VALUES ('version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    );
    this.commitTx = this.db.transaction((changes: readonly Change[], version: number) => {
      for (const c of changes) {
        if (c.value === undefined) this.remove.run(c.kind, c.id);
        else this.upsert.run(c.kind, c.id, JSON.stringify(c.value));
      }
      this.setVersion.run(String(version));
    });
  }

  commit(changes: readonly Change[], version: number): void {
    this.commitTx(changes, version);
  }

  /** Fills a fresh State with everything persisted. */
  loadInto(state: State): void {
    const version = Number(
      (
        this.db.prepare("SELECT value FROM meta WHERE key = 'version'").get() as
          | { value?: string }
          | undefined
      )?.value ?? 0,
    );
    for (const row of this.db.prepare("SELECT kind, id, body FROM objects").iterate() as Iterable<{
      kind: string;
      id: string;
      body: string;
    }>) {
      state.load(row.kind, row.id, JSON.parse(row.body), version);
    }
  }

  /** A key-value side table for things that are not domain objects (meter counters, CA serials). */
  getMeta(key: string): string | undefined {
    return (this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined)
      ?.value;
  }

  setMeta(key: string, value: string): void {
    this.db
      .prepare(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      )
      .run(key, value);
  }

  close(): void {
    this.db.close();
  }
}
