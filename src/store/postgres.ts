import { randomUUID } from "node:crypto";
import pg from "pg";
import { AwsError } from "../cloud/errors.js";
import type { Change, Persistence, State } from "../cloud/state.js";
import { checkReadable, MIGRATIONS, SCHEMA_VERSION } from "./schema.js";
import { SqliteStore } from "./sqlite.js";

/** The NOTIFY channel every node LISTENs on; the payload is the commit's sequence number. */
const CHANNEL = "privlink_commits";
/** Advisory lock held by every writing transaction: commits get their sequence in commit order. */
const COMMIT_LOCK = 0x70_72_69_76;
/** Commits kept in the feed for reconnecting nodes; one further behind reloads every object. */
const FEED_KEPT = 10_000;
const FEED_PRUNE_EVERY = 1_000;

export interface PostgresStoreOptions {
  /** Wait between reconnection attempts once PostgreSQL is lost (default 500 ms). */
  retryMs?: number;
  /** Give up connecting after this long (default 5 s). */
  connectTimeoutMs?: number;
}

type Batch = { changes: readonly Change[] } | { meta: readonly [string, string] };

const keyOf = (c: Change): string => `${c.kind}\0${c.id}`;

interface Waiter {
  target: number;
  resolve(): void;
  reject(err: Error): void;
}

/**
 * The shared store: one PostgreSQL database that several privlink nodes use at once. The
 * State keeps its in-memory model; every commit is queued here in order and written by one
 * PostgreSQL transaction (all-or-nothing) that also appends it to `privlink_commits`, whose
 * sequence column is the change feed: other nodes LISTEN for its NOTIFY and read every commit
 * past the last one they absorbed, so a node that reconnects misses nothing. An API call is
 * acknowledged only once its commit is written (State.transactDurable awaits `durable`).
 */
export class PostgresStore implements Persistence {
  /** This process, as the feed names the writer of each commit (its own are not absorbed twice). */
  readonly node = randomUUID();
  private writer: pg.Client | undefined;
  private reader: pg.Client | undefined;
  private readonly queue: Batch[] = [];
  private enqueued = 0;
  private written = 0;
  private waiters: Waiter[] = [];
  private writing = false;
  private lost: AwsError | undefined;
  private closed = false;
  private seen = 0;
  private catching = false;
  private again = false;
  private sincePrune = 0;
  private state: State | undefined;
  private readonly meta = new Map<string, string>();
  /**
   * This node's own writes the feed may not overtake: objects with a commit still queued
   * (count), and the sequence of each object's last written commit until the feed passes it.
   * A foreign commit older than either is already superseded here and in the database.
   */
  private readonly pendingKeys = new Map<string, number>();
  private readonly ownSeq = new Map<string, number>();
  private objects: { kind: string; id: string; value: unknown }[] = [];
  private readonly retryMs: number;
  private readonly connectTimeoutMs: number;

  private constructor(
    private readonly url: string,
    opts: PostgresStoreOptions,
  ) {
    this.retryMs = opts.retryMs ?? 500;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
  }

  /** Connects, migrates and reads every object; a clear error when PostgreSQL is out of reach. */
  static async open(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const store = new PostgresStore(url, opts);
    try {
      await store.connect();
      await store.migrate();
      await store.readAll();
    } catch (err) {
      await store.close();
      const e = err as NodeJS.ErrnoException;
      throw new Error(`cannot use the PostgreSQL store at ${redact(url)}: ${e.message || e.code}`);
    }
    return store;
  }

  /** Whether a URL names this store (`privlink up --store postgres://…`). */
  static accepts(url: string): boolean {
    return /^postgres(ql)?:\/\//.test(url);
  }

  /** Where the store is, without its password (for messages and banners). */
  get where(): string {
    return redact(this.url);
  }

  get schemaVersion(): number {
    return Number(this.meta.get("schema") ?? SCHEMA_VERSION);
  }

  /** Fills a fresh State with what was read at open, then follows the feed into it. */
  loadInto(state: State): void {
    for (const o of this.objects) state.load(o.kind, o.id, o.value, this.seen);
    this.objects = [];
    this.state = state;
    void this.catchUp();
  }

  commit(changes: readonly Change[], _version: number): void {
    for (const c of changes) this.pendingKeys.set(keyOf(c), (this.pendingKeys.get(keyOf(c)) ?? 0) + 1);
    this.push({ changes });
  }

  refusal(): Error | undefined {
    return this.lost;
  }

  durable(): Promise<void> {
    if (this.written >= this.enqueued) return Promise.resolve();
    if (this.lost) return Promise.reject(this.lost);
    const target = this.enqueued;
    return new Promise((resolve, reject) => this.waiters.push({ target, resolve, reject }));
  }

  getMeta(key: string): string | undefined {
    return this.meta.get(key);
  }

  setMeta(key: string, value: string): void {
    this.meta.set(key, value);
    this.push({ meta: [key, value] });
  }

  /** This node's whole view as a SQLite state file (what `privlink state save` writes). */
  async saveTo(file: string): Promise<void> {
    await this.durable();
    SqliteStore.writeFile(file, this.state ? [...this.state.entries()] : [], this.state?.version ?? 0);
  }

  /** Writes what is queued (for a while at most), then disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    const drained = this.lost ? Promise.resolve() : this.durable().catch(() => {});
    await Promise.race([drained, new Promise((r) => setTimeout(r, 5_000).unref())]);
    this.closed = true;
    await this.disconnect();
  }

  private push(batch: Batch): void {
    this.queue.push(batch);
    this.enqueued++;
    void this.pump();
  }

  private async connect(): Promise<void> {
    const opts = { connectionString: this.url, connectionTimeoutMillis: this.connectTimeoutMs };
    const writer = new pg.Client(opts);
    const reader = new pg.Client(opts);
    // A client without an error listener would take the process down with it.
    for (const c of [writer, reader]) c.on("error", (err) => this.lose(err));
    this.writer = writer;
    this.reader = reader;
    await writer.connect();
    await reader.connect();
    reader.on("notification", () => void this.catchUp());
    reader.on("end", () => this.lose(new Error("connection closed")));
    writer.on("end", () => this.lose(new Error("connection closed")));
    await reader.query(`LISTEN ${CHANNEL}`);
  }

  private async disconnect(): Promise<void> {
    const clients = [this.writer, this.reader];
    this.writer = undefined;
    this.reader = undefined;
    await Promise.all(clients.map((c) => c?.end().catch(() => {})));
  }

  /** Brings the database to this privlink's schema, one node at a time. */
  private async migrate(): Promise<void> {
    await inTransaction(this.writer!, async (db) => {
      await db.query("SELECT pg_advisory_xact_lock($1)", [COMMIT_LOCK]);
      const hasMeta = (await db.query("SELECT to_regclass('meta') IS NOT NULL AS t")).rows[0].t as boolean;
      const row = hasMeta
        ? (await db.query("SELECT value FROM meta WHERE key = 'schema'")).rows[0]
        : undefined;
      const from = row ? Number(row.value) : 0;
      checkReadable(from);
      for (let v = from; v < SCHEMA_VERSION; v++) await db.query(MIGRATIONS[v]!);
      await putMeta(db, "schema", String(SCHEMA_VERSION));
      // The change feed: PostgreSQL only (one SQLite file has one process, which needs none).
      await db.query(
        "CREATE TABLE IF NOT EXISTS privlink_commits (seq BIGSERIAL PRIMARY KEY, node TEXT NOT NULL, changes TEXT NOT NULL)",
      );
      // Flow-log records made on agents, until an API node delivers them (src/store/leases.ts):
      // PostgreSQL only too (agents need it), and not domain objects (no change feed).
      await db.query(
        "CREATE TABLE IF NOT EXISTS flow_log_outbox (seq BIGSERIAL PRIMARY KEY, agent TEXT NOT NULL, batch TEXT NOT NULL)",
      );
      // CloudWatch Logs events and CloudWatch metrics (pg-event-store.ts, cloudwatch/pg-store.ts):
      // PostgreSQL only as well (on SQLite they stay in the home's logs.db and metrics.db), and
      // not domain objects either: shared by every node and agent, never in the change feed.
      await db.query(OBSERVABILITY_TABLES);
    });
  }

  /** One consistent read of every object, the meta table and the feed's position. */
  private async readAll(): Promise<void> {
    const db = this.reader!;
    await db.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    try {
      const objects = await db.query("SELECT kind, id, body FROM objects");
      const meta = await db.query("SELECT key, value FROM meta");
      const seq = await db.query("SELECT coalesce(max(seq), 0) AS seq FROM privlink_commits");
      this.objects = objects.rows.map((r) => ({ kind: r.kind, id: r.id, value: JSON.parse(r.body) }));
      for (const r of meta.rows) this.meta.set(r.key, r.value);
      this.seen = Number(seq.rows[0].seq);
    } finally {
      await db.query("COMMIT");
    }
  }

  /** Writes the queue in order, one PostgreSQL transaction per round, until it is empty. */
  private async pump(): Promise<void> {
    if (this.writing || this.lost || !this.writer) return;
    this.writing = true;
    try {
      while (this.queue.length > 0 && this.writer && !this.lost) {
        const round = this.queue.slice(0, 64);
        await this.write(this.writer, round);
        this.queue.splice(0, round.length);
        this.written += round.length;
        this.settle();
      }
    } catch (err) {
      this.lose(err as Error);
    } finally {
      this.writing = false;
    }
  }

  private async write(client: pg.Client, round: readonly Batch[]): Promise<void> {
    const written: [readonly Change[], number][] = [];
    await inTransaction(client, async (db) => {
      await db.query("SELECT pg_advisory_xact_lock($1)", [COMMIT_LOCK]);
      let last = 0;
      for (const b of round) {
        if ("meta" in b) await putMeta(db, b.meta[0], b.meta[1]);
        else {
          last = await writeCommit(db, this.node, b.changes);
          written.push([b.changes, last]);
        }
      }
      if (last === 0) return;
      await putMeta(db, "version", String(last));
      await db.query("SELECT pg_notify($1, $2)", [CHANNEL, String(last)]);
      this.sincePrune += round.length;
      if (this.sincePrune >= FEED_PRUNE_EVERY) {
        this.sincePrune = 0;
        await db.query("DELETE FROM privlink_commits WHERE seq <= $1", [last - FEED_KEPT]);
        await putMeta(db, "feedPrunedTo", String(Math.max(0, last - FEED_KEPT)));
      }
    });
    for (const [changes, seq] of written)
      for (const c of changes) {
        const k = keyOf(c);
        const n = (this.pendingKeys.get(k) ?? 1) - 1;
        if (n > 0) this.pendingKeys.set(k, n);
        else this.pendingKeys.delete(k);
        this.ownSeq.set(k, seq);
      }
  }

  private settle(): void {
    const done = this.waiters.filter((w) => w.target <= this.written);
    this.waiters = this.waiters.filter((w) => w.target > this.written);
    for (const w of done) w.resolve();
  }

  /**
   * PostgreSQL is gone: writes are refused with ServiceUnavailable (callers waiting for
   * durability get it too), the State keeps serving what it has, and a reconnection loop starts.
   * What was queued stays queued and is written first once PostgreSQL is back.
   */
  private lose(err: Error): void {
    if (this.lost || this.closed) return;
    this.lost = new AwsError(
      "ServiceUnavailable",
      `privlink's store (PostgreSQL at ${this.where}) is out of reach (${err.message}); writes resume once it is back`,
      503,
    );
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w.reject(this.lost);
    void this.disconnect().then(() => this.reconnect());
  }

  private async reconnect(): Promise<void> {
    while (!this.closed) {
      await new Promise((r) => setTimeout(r, this.retryMs));
      if (this.closed) return;
      try {
        await this.connect();
      } catch {
        await this.disconnect();
        continue;
      }
      this.lost = undefined;
      void this.pump();
      void this.catchUp();
      return;
    }
  }

  /** Absorbs every commit past the last one seen; runs once more if notified meanwhile. */
  private async catchUp(): Promise<void> {
    if (this.catching) {
      this.again = true;
      return;
    }
    this.catching = true;
    try {
      do {
        this.again = false;
        await this.pull();
      } while (this.again && !this.lost);
    } catch (err) {
      this.lose(err as Error);
    } finally {
      this.catching = false;
    }
  }

  private async pull(): Promise<void> {
    const db = this.reader;
    const state = this.state;
    if (!db || !state || this.lost) return;
    const pruned = await db.query("SELECT value FROM meta WHERE key = 'feedPrunedTo'");
    if (Number(pruned.rows[0]?.value ?? 0) > this.seen) return this.resync(db, state);
    const { rows } = await db.query(
      "SELECT seq, node, changes FROM privlink_commits WHERE seq > $1 ORDER BY seq LIMIT 500",
      [this.seen],
    );
    for (const r of rows) {
      const seq = Number(r.seq);
      if (r.node !== this.node)
        state.absorb((JSON.parse(r.changes) as Change[]).filter((c) => !this.overtakes(c, seq)));
      this.seen = seq;
    }
    for (const [k, seq] of this.ownSeq) if (seq <= this.seen) this.ownSeq.delete(k);
    if (rows.length === 500) this.again = true;
  }

  /** Whether a foreign change at `seq` would overwrite a later write of this node's own. */
  private overtakes(c: Change, seq: number): boolean {
    const k = keyOf(c);
    return this.pendingKeys.has(k) || (this.ownSeq.get(k) ?? 0) > seq;
  }

  /** Too far behind for the feed: reads every object and absorbs the difference. */
  private async resync(db: pg.Client, state: State): Promise<void> {
    await db.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    try {
      const seq = await db.query("SELECT coalesce(max(seq), 0) AS seq FROM privlink_commits");
      const { rows } = await db.query("SELECT kind, id, body FROM objects");
      const next = new Map<string, Change>();
      for (const r of rows)
        next.set(`${r.kind}\0${r.id}`, { kind: r.kind, id: r.id, value: JSON.parse(r.body) });
      const changes: Change[] = [];
      for (const o of state.entries())
        if (!next.has(`${o.kind}\0${o.id}`)) changes.push({ kind: o.kind, id: o.id, value: undefined });
      changes.push(...next.values());
      state.absorb(changes);
      this.seen = Number(seq.rows[0].seq);
    } finally {
      await db.query("COMMIT");
    }
  }
}

/** The tables of log events and metric datapoints, as the SQLite files have them (times in ms / s). */
const OBSERVABILITY_TABLES = `
  CREATE TABLE IF NOT EXISTS log_events (
    seq BIGSERIAL PRIMARY KEY, grp TEXT NOT NULL, stream TEXT NOT NULL,
    ts BIGINT NOT NULL, ingestion BIGINT NOT NULL, message TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS log_events_stream ON log_events (stream, ts, seq);
  CREATE INDEX IF NOT EXISTS log_events_group ON log_events (grp, ts, seq);
  CREATE TABLE IF NOT EXISTS log_streams (
    stream TEXT PRIMARY KEY, first_ts BIGINT, last_ts BIGINT, last_ingestion BIGINT,
    stored_bytes BIGINT NOT NULL DEFAULT 0);
  CREATE TABLE IF NOT EXISTS metric_series (
    id BIGSERIAL PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, ns TEXT NOT NULL,
    name TEXT NOT NULL, dims TEXT NOT NULL, unit TEXT, last BIGINT NOT NULL,
    UNIQUE (account, region, ns, name, dims));
  CREATE TABLE IF NOT EXISTS metric_points (
    series BIGINT NOT NULL, period INTEGER NOT NULL, ts BIGINT NOT NULL,
    n DOUBLE PRECISION NOT NULL, sum DOUBLE PRECISION NOT NULL,
    min DOUBLE PRECISION NOT NULL, max DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (series, period, ts));
  CREATE TABLE IF NOT EXISTS metric_alarms (
    account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (account, region, name));
`;

/** One commit: its objects written, its changes appended to the feed; returns its sequence. */
async function writeCommit(db: pg.ClientBase, node: string, changes: readonly Change[]): Promise<number> {
  // The last change to an object wins, as it does in the State (one statement cannot touch a row twice).
  const last = new Map<string, Change>();
  for (const c of changes) last.set(`${c.kind}\0${c.id}`, c);
  const puts: { kind: string; id: string; body: string }[] = [];
  const dels: { kind: string; id: string }[] = [];
  for (const c of last.values())
    if (c.value === undefined) dels.push({ kind: c.kind, id: c.id });
    else puts.push({ kind: c.kind, id: c.id, body: JSON.stringify(c.value) });
  if (puts.length > 0)
    await db.query(
      `INSERT INTO objects (kind, id, body)
         SELECT kind, id, body FROM json_to_recordset($1::json) AS x(kind TEXT, id TEXT, body TEXT)
       ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body`,
      [JSON.stringify(puts)],
    );
  if (dels.length > 0)
    await db.query(
      `DELETE FROM objects o USING json_to_recordset($1::json) AS x(kind TEXT, id TEXT)
       WHERE o.kind = x.kind AND o.id = x.id`,
      [JSON.stringify(dels)],
    );
  const { rows } = await db.query(
    "INSERT INTO privlink_commits (node, changes) VALUES ($1, $2) RETURNING seq",
    [node, JSON.stringify(changes)],
  );
  return Number(rows[0].seq);
}

function putMeta(db: pg.ClientBase, key: string, value: string): Promise<unknown> {
  return db.query(
    "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [key, value],
  );
}

async function inTransaction(db: pg.ClientBase, fn: (db: pg.ClientBase) => Promise<void>): Promise<void> {
  await db.query("BEGIN");
  try {
    await fn(db);
    await db.query("COMMIT");
  } catch (err) {
    await db.query("ROLLBACK").catch(() => {});
    throw err;
  }
}

/** The URL without its password. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(an unparsable URL)";
  }
}

/**
 * A small pool on the shared store for data that is not domain objects (log events, metric
 * datapoints): concurrent API calls each take a connection, none waits behind the change feed's.
 * Errors of idle connections are swallowed (the next query reconnects or fails on its own).
 */
export function dataPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5_000 });
  pool.on("error", () => undefined);
  return pool;
}
