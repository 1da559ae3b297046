/**
 * Where CloudWatch Logs events live, apart from the in-memory State so that millions of events
 * cost disk, not heap, and survive restarts: {@link LogEvents} is the interface, this file its
 * SQLite side (PRIVLINK_HOME/logs.db, a node's own), pg-event-store.ts its PostgreSQL side (the
 * shared store's tables, so every node and agent on it reads the same events).
 * Events are keyed by their stream's `key` (random per stream), so a stream re-created after a
 * delete or a reset never shows its predecessor's events. Ordering is (timestamp, seq): seq is
 * the insertion order, which breaks timestamp ties the way AWS does (arrival order).
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";

export interface StoredEvent {
  readonly stream: string;
  readonly timestamp: number;
  readonly seq: number;
  readonly ingestionTime: number;
  readonly message: string;
}

/** A position between events: (timestamp, seq) of the event just before it. */
export interface Position {
  readonly timestamp: number;
  readonly seq: number;
}

export interface StreamStats {
  readonly firstEventTimestamp?: number;
  readonly lastEventTimestamp?: number;
  readonly lastIngestionTime?: number;
  readonly storedBytes: number;
}

export interface EventRange {
  readonly startTime?: number;
  readonly endTime?: number;
}

const CHUNK = 200;

/**
 * The event store as the Logs handlers use it. Asynchronous because the shared store's side
 * is; the SQLite side does its work before returning (a settled promise), so a caller that does
 * not wait still sees its write in the next read.
 */
export interface LogEvents {
  /** Appends a chronological batch at once (one statement on PostgreSQL); answers the last event's seq. */
  append(group: string, stream: string, events: readonly NewEvent[], now: number): Promise<number>;
  /** Each stream's counters, in the order asked. */
  stats(streams: readonly string[]): Promise<StreamStats[]>;
  page(stream: string, range: EventRange, opts: PageOptions): Promise<StoredEvent[]>;
  scan(
    group: string,
    streams: readonly string[] | undefined,
    range: EventRange,
    after: Position | undefined,
    limit: number,
  ): Promise<StoredEvent[]>;
  deleteStream(stream: string): Promise<void>;
  deleteGroup(group: string, streams: readonly string[]): Promise<void>;
  expire(group: string, cutoff: number): Promise<number>;
  dropOrphans(liveGroups: readonly string[]): Promise<number>;
  close(): Promise<void>;
}

export interface PageOptions {
  readonly after?: Position;
  readonly before?: Position;
  readonly fromHead: boolean;
  readonly limit: number;
}

/** The reads both sides share: the same SQL over `table`, with the side's placeholders. */
export abstract class EventReads {
  constructor(
    private readonly table: string,
    private readonly ph: (i: number) => string,
  ) {}

  protected abstract rows(sql: string, args: Arg[]): Promise<Row[]>;

  /** Events of one stream after `after` (ascending) or before `before` (returned ascending). */
  async page(stream: string, range: EventRange, opts: PageOptions): Promise<StoredEvent[]> {
    const q = pageQuery(this.table, stream, range, opts, this.ph);
    const events = (await this.rows(q.sql, q.args)).map(toEvent);
    return q.ascending ? events : events.reverse();
  }

  /** Events of a group's streams (undefined: all) after `after`, ascending, at most `limit`. */
  async scan(
    group: string,
    streams: readonly string[] | undefined,
    range: EventRange,
    after: Position | undefined,
    limit: number,
  ): Promise<StoredEvent[]> {
    if (streams?.length === 0) return [];
    const q = scanQuery(this.table, group, streams, range, after, limit, this.ph);
    return (await this.rows(q.sql, q.args)).map(toEvent);
  }
}

/** The SQLite side: its own file in a node's home. */
export class LogEventStore extends EventReads implements LogEvents {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly insertChunk: Database.Statement;
  private readonly bumpStats: Database.Statement;
  private readonly appendTx: (
    group: string,
    stream: string,
    events: readonly NewEvent[],
    now: number,
  ) => number;

  constructor(path: string) {
    super("events", () => "?");
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    // Survives a killed process (the OS has the WAL pages); an OS crash may lose the last batches.
    this.db.pragma("synchronous = OFF");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, grp TEXT NOT NULL, stream TEXT NOT NULL,
        ts INTEGER NOT NULL, ingestion INTEGER NOT NULL, message TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS events_stream ON events (stream, ts, seq);
      CREATE INDEX IF NOT EXISTS events_group ON events (grp, ts, seq);
      CREATE TABLE IF NOT EXISTS streams (
        stream TEXT PRIMARY KEY, first_ts INTEGER, last_ts INTEGER, last_ingestion INTEGER,
        stored_bytes INTEGER NOT NULL DEFAULT 0);
    `);
    this.insert = this.db.prepare(
      "INSERT INTO events (grp, stream, ts, ingestion, message) VALUES (?, ?, ?, ?, ?)",
    );
    // Many rows per statement: a 1,000-event batch costs 5 statement runs instead of 1,000.
    this.insertChunk = this.db.prepare(
      `INSERT INTO events (grp, stream, ts, ingestion, message) VALUES ${Array(CHUNK).fill("(?, ?, ?, ?, ?)").join(", ")}`,
    );
    this.bumpStats = this.db.prepare(`
      INSERT INTO streams (stream, first_ts, last_ts, last_ingestion, stored_bytes) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (stream) DO UPDATE SET
        first_ts = MIN(COALESCE(first_ts, excluded.first_ts), excluded.first_ts),
        last_ts = MAX(COALESCE(last_ts, excluded.last_ts), excluded.last_ts),
        last_ingestion = excluded.last_ingestion,
        stored_bytes = stored_bytes + excluded.stored_bytes`);
    this.appendTx = this.db.transaction((group, stream, events, now) => {
      let bytes = 0;
      let last = 0;
      let i = 0;
      for (; i + CHUNK <= events.length; i += CHUNK) {
        const args: (string | number)[] = [];
        for (const e of events.slice(i, i + CHUNK)) {
          args.push(group, stream, e.timestamp, now, e.message);
          bytes += Buffer.byteLength(e.message);
        }
        last = Number(this.insertChunk.run(...args).lastInsertRowid);
      }
      for (const e of events.slice(i)) {
        last = Number(this.insert.run(group, stream, e.timestamp, now, e.message).lastInsertRowid);
        bytes += Buffer.byteLength(e.message);
      }
      const first = events[0]!.timestamp;
      const latest = events[events.length - 1]!.timestamp;
      this.bumpStats.run(stream, first, latest, now, bytes);
      return last;
    });
  }

  /** Appends a chronological batch in one transaction; returns the last event's seq. */
  async append(group: string, stream: string, events: readonly NewEvent[], now: number): Promise<number> {
    return events.length === 0 ? 0 : this.appendTx(group, stream, events, now);
  }

  async stats(streams: readonly string[]): Promise<StreamStats[]> {
    return streams.map((s) => this.statsOf(s));
  }

  private statsOf(stream: string): StreamStats {
    const row = this.db
      .prepare("SELECT first_ts, last_ts, last_ingestion, stored_bytes FROM streams WHERE stream = ?")
      .get(stream) as
      | {
          first_ts: number | null;
          last_ts: number | null;
          last_ingestion: number | null;
          stored_bytes: number;
        }
      | undefined;
    return {
      firstEventTimestamp: row?.first_ts ?? undefined,
      lastEventTimestamp: row?.last_ts ?? undefined,
      lastIngestionTime: row?.last_ingestion ?? undefined,
      storedBytes: row?.stored_bytes ?? 0,
    };
  }

  protected async rows(sql: string, args: Arg[]): Promise<Row[]> {
    return this.db.prepare(sql).all(...args) as Row[];
  }

  async deleteStream(stream: string): Promise<void> {
    this.db.prepare("DELETE FROM events WHERE stream = ?").run(stream);
    this.db.prepare("DELETE FROM streams WHERE stream = ?").run(stream);
  }

  async deleteGroup(group: string, streams: readonly string[]): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare("DELETE FROM events WHERE grp = ?").run(group);
      for (const s of streams) this.db.prepare("DELETE FROM streams WHERE stream = ?").run(s);
    })();
  }

  /** Drops the events of a retention period's past (timestamps before `cutoff`). */
  async expire(group: string, cutoff: number): Promise<number> {
    return this.db.prepare("DELETE FROM events WHERE grp = ? AND ts < ?").run(group, cutoff).changes;
  }

  /** Drops the events of groups that no longer exist (deleted with the state, e.g. by a reset). */
  async dropOrphans(liveGroups: readonly string[]): Promise<number> {
    const keep = liveGroups.length === 0 ? "" : liveGroups.map(() => "?").join(",");
    return this.db.prepare(`DELETE FROM events WHERE grp NOT IN (${keep})`).run(...liveGroups).changes;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

export interface NewEvent {
  readonly timestamp: number;
  readonly message: string;
}

export type Arg = string | number;

/** A query both stores run: `ph(i)` writes the i-th placeholder (`?` in SQLite, `$i` in PostgreSQL). */
interface Query {
  readonly sql: string;
  readonly args: Arg[];
}

/** The conditions every read shares: the key column and the time range; `add` appends more. */
function rangeWhere(column: string, key: string, range: EventRange, ph: (i: number) => string) {
  const args: Arg[] = [];
  const where: string[] = [];
  /** `sql` gets a function that writes the next placeholder each call, one per value. */
  const add = (sql: (p: () => string) => string, ...values: Arg[]) => {
    let n = args.length;
    where.push(sql(() => ph(++n)));
    args.push(...values);
  };
  add(
    (p) => `${column} = ${p()} AND ts >= ${p()} AND ts < ${p()}`,
    key,
    range.startTime ?? -1,
    range.endTime ?? Number.MAX_SAFE_INTEGER,
  );
  return { where, args, add };
}

export function pageQuery(
  table: string,
  stream: string,
  range: EventRange,
  opts: PageOptions,
  ph: (i: number) => string,
): Query & { ascending: boolean } {
  const w = rangeWhere("stream", stream, range, ph);
  const a = opts.after;
  const b = opts.before;
  if (a) w.add((p) => `(ts > ${p()} OR (ts = ${p()} AND seq > ${p()}))`, a.timestamp, a.timestamp, a.seq);
  if (b) w.add((p) => `(ts < ${p()} OR (ts = ${p()} AND seq < ${p()}))`, b.timestamp, b.timestamp, b.seq);
  const ascending = a !== undefined || (b === undefined && opts.fromHead);
  const dir = ascending ? "ASC" : "DESC";
  w.args.push(opts.limit);
  return {
    sql: `SELECT stream, ts, seq, ingestion, message FROM ${table} WHERE ${w.where.join(" AND ")}
          ORDER BY ts ${dir}, seq ${dir} LIMIT ${ph(w.args.length)}`,
    args: w.args,
    ascending,
  };
}

export function scanQuery(
  table: string,
  group: string,
  streams: readonly string[] | undefined,
  range: EventRange,
  after: Position | undefined,
  limit: number,
  ph: (i: number) => string,
): Query {
  const w = rangeWhere("grp", group, range, ph);
  if (after)
    w.add(
      (p) => `(ts > ${p()} OR (ts = ${p()} AND seq > ${p()}))`,
      after.timestamp,
      after.timestamp,
      after.seq,
    );
  if (streams) w.add((p) => `stream IN (${streams.map(() => p()).join(",")})`, ...streams);
  w.args.push(limit);
  return {
    sql: `SELECT stream, ts, seq, ingestion, message FROM ${table} WHERE ${w.where.join(" AND ")}
          ORDER BY ts, seq LIMIT ${ph(w.args.length)}`,
    args: w.args,
  };
}

/** An event row as either store returns it (PostgreSQL's BIGINTs come as strings). */
export interface Row {
  stream: string;
  ts: number | string;
  seq: number | string;
  ingestion: number | string;
  message: string;
}

export function toEvent(r: Row): StoredEvent {
  return {
    stream: r.stream,
    timestamp: Number(r.ts),
    seq: Number(r.seq),
    ingestionTime: Number(r.ingestion),
    message: r.message,
  };
}
