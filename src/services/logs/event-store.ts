/**
 * Where CloudWatch Logs events live: their own SQLite file (PRIVLINK_HOME/logs.db), apart from
 * the in-memory State, so that millions of events cost disk, not heap, and survive restarts.
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

export class LogEventStore {
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
  append(group: string, stream: string, events: readonly NewEvent[], now: number): number {
    return events.length === 0 ? 0 : this.appendTx(group, stream, events, now);
  }

  stats(stream: string): StreamStats {
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

  /** Events of one stream after `after` (ascending) or before `before` (returned ascending). */
  page(
    stream: string,
    range: EventRange,
    opts: { after?: Position; before?: Position; fromHead: boolean; limit: number },
  ): StoredEvent[] {
    const where = ["stream = ?", "ts >= ?", "ts < ?"];
    const args: (string | number)[] = [
      stream,
      range.startTime ?? -1,
      range.endTime ?? Number.MAX_SAFE_INTEGER,
    ];
    if (opts.after) {
      where.push("(ts > ? OR (ts = ? AND seq > ?))");
      args.push(opts.after.timestamp, opts.after.timestamp, opts.after.seq);
    }
    if (opts.before) {
      where.push("(ts < ? OR (ts = ? AND seq < ?))");
      args.push(opts.before.timestamp, opts.before.timestamp, opts.before.seq);
    }
    const ascending = opts.after !== undefined || (opts.before === undefined && opts.fromHead);
    const rows = this.db
      .prepare(
        `SELECT stream, ts, seq, ingestion, message FROM events WHERE ${where.join(" AND ")}
         ORDER BY ts ${ascending ? "ASC" : "DESC"}, seq ${ascending ? "ASC" : "DESC"} LIMIT ?`,
      )
      .all(...args, opts.limit) as Row[];
    const events = rows.map(toEvent);
    return ascending ? events : events.reverse();
  }

  /** Events of a group's streams (undefined: all) after `after`, ascending, at most `limit`. */
  scan(
    group: string,
    streams: readonly string[] | undefined,
    range: EventRange,
    after: Position | undefined,
    limit: number,
  ): StoredEvent[] {
    const where = ["grp = ?", "ts >= ?", "ts < ?"];
    const args: (string | number)[] = [
      group,
      range.startTime ?? -1,
      range.endTime ?? Number.MAX_SAFE_INTEGER,
    ];
    if (after) {
      where.push("(ts > ? OR (ts = ? AND seq > ?))");
      args.push(after.timestamp, after.timestamp, after.seq);
    }
    if (streams) {
      if (streams.length === 0) return [];
      where.push(`stream IN (${streams.map(() => "?").join(",")})`);
      args.push(...streams);
    }
    const rows = this.db
      .prepare(
        `SELECT stream, ts, seq, ingestion, message FROM events WHERE ${where.join(" AND ")}
         ORDER BY ts, seq LIMIT ?`,
      )
      .all(...args, limit) as Row[];
    return rows.map(toEvent);
  }

  deleteStream(stream: string): void {
    this.db.prepare("DELETE FROM events WHERE stream = ?").run(stream);
    this.db.prepare("DELETE FROM streams WHERE stream = ?").run(stream);
  }

  deleteGroup(group: string, streams: readonly string[]): void {
    this.db.transaction(() => {
      this.db.prepare("DELETE FROM events WHERE grp = ?").run(group);
      for (const s of streams) this.db.prepare("DELETE FROM streams WHERE stream = ?").run(s);
    })();
  }

  /** Drops the events of a retention period's past (timestamps before `cutoff`). */
  expire(group: string, cutoff: number): number {
    return this.db.prepare("DELETE FROM events WHERE grp = ? AND ts < ?").run(group, cutoff).changes;
  }

  /** Drops the events of groups that no longer exist (deleted with the state, e.g. by a reset). */
  dropOrphans(liveGroups: readonly string[]): number {
    const keep = liveGroups.length === 0 ? "" : liveGroups.map(() => "?").join(",");
    return this.db.prepare(`DELETE FROM events WHERE grp NOT IN (${keep})`).run(...liveGroups).changes;
  }

  close(): void {
    this.db.close();
  }
}

export interface NewEvent {
  readonly timestamp: number;
  readonly message: string;
}

interface Row {
  stream: string;
  ts: number;
  seq: number;
  ingestion: number;
  message: string;
}

function toEvent(r: Row): StoredEvent {
  return { stream: r.stream, timestamp: r.ts, seq: r.seq, ingestionTime: r.ingestion, message: r.message };
}
