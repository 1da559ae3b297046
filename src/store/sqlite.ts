import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Change, Persistence, State } from "../cloud/state.js";
import { migrate, SCHEMA_VERSION } from "./schema.js";

/** One persisted object, as a state file holds it. */
export interface StoredObject {
  kind: string;
  id: string;
  value: unknown;
}

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
    if (path !== ":memory:") createPrivate(path);
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    // NORMAL in WAL mode: a commit is in the OS before the call returns, so it survives kill -9
    // (not a power cut — docs/reliability.md says so).
    this.db.pragma("synchronous = NORMAL");
    migrate(this.db);
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

  /** The schema this store is at (always {@link SCHEMA_VERSION} once opened). */
  get schemaVersion(): number {
    return Number(this.getMeta("schema") ?? SCHEMA_VERSION);
  }

  /** A consistent copy of the whole store while it keeps serving (SQLite online backup), mode 0600. */
  async saveTo(file: string): Promise<void> {
    createPrivate(file);
    await this.db.backup(file);
    chmodSync(file, 0o600);
  }

  /** Writes objects as a new state file: the snapshot of a store that is not SQLite. */
  static writeFile(file: string, objects: readonly StoredObject[], version: number): void {
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    const out = new SqliteStore(file);
    try {
      out.commit(
        objects.map((o) => ({ kind: o.kind as Change["kind"], id: o.id, value: o.value })),
        version,
      );
    } finally {
      out.close();
    }
  }

  /** Every object of a state file, migrated to this schema (the file itself is not changed). */
  static async readFile(file: string): Promise<{ objects: StoredObject[]; version: number; schema: number }> {
    if (!existsSync(file)) throw new Error(`no state file at ${file}`);
    // Migrate a private in-memory copy: loading an old file never rewrites it. Bytes 18-19 say
    // "WAL"; an in-memory image must say "rollback journal" or SQLite refuses to read it.
    const image = readFileSync(file);
    if (image.length < 100 || image.subarray(0, 16).toString("latin1") !== "SQLite format 3\0")
      throw new Error(`${file} is not a privlink state file`);
    image[18] = 1;
    image[19] = 1;
    const copy = new Database(image);
    try {
      const from = migrate(copy);
      const meta = (key: string) =>
        (copy.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined)
          ?.value;
      const objects = (
        copy.prepare("SELECT kind, id, body FROM objects").all() as {
          kind: string;
          id: string;
          body: string;
        }[]
      ).map((r) => ({ kind: r.kind, id: r.id, value: JSON.parse(r.body) as unknown }));
      return { objects, version: Number(meta("version") ?? 0), schema: from };
    } finally {
      copy.close();
    }
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

/** Creates a file only its owner can read (the database holds every account's secrets). */
function createPrivate(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, "a", 0o600));
  chmodSync(path, 0o600);
}
