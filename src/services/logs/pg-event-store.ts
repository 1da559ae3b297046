import type pg from "pg";
import { dataPool } from "../../store/postgres.js";
import {
  type Arg,
  EventReads,
  type LogEvents,
  type NewEvent,
  type Row,
  type StreamStats,
} from "./event-store.js";

const num = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));

/**
 * CloudWatch Logs events in the shared PostgreSQL store (tables `log_events`, `log_streams`,
 * created by PostgresStore's migration), so that every API node and agent on the store reads
 * the events any of them wrote: the same seq (a BIGSERIAL), so a GetLogEvents token from one
 * node goes on at another. A batch is one statement. Appends to one stream are serialized by an
 * advisory lock on its key, so within a stream seq order is commit order and a forward token
 * never passes an event committed after it was handed out.
 */
export class PgLogEvents extends EventReads implements LogEvents {
  private constructor(private readonly pool: pg.Pool) {
    super("log_events", (i) => `$${i}`);
  }

  /** The schema must already be there (PostgresStore.open migrates it). */
  static async open(url: string): Promise<PgLogEvents> {
    const pool = dataPool(url);
    // Fails now, with the store's error, rather than on the first call.
    await pool.query("SELECT 1 FROM log_events LIMIT 0");
    return new PgLogEvents(pool);
  }

  async append(group: string, stream: string, events: readonly NewEvent[], now: number): Promise<number> {
    if (events.length === 0) return 0;
    let bytes = 0;
    let first = Number.POSITIVE_INFINITY;
    let latest = Number.NEGATIVE_INFINITY;
    for (const e of events) {
      bytes += Buffer.byteLength(e.message);
      first = Math.min(first, e.timestamp);
      latest = Math.max(latest, e.timestamp);
    }
    const { rows } = await this.pool.query(
      `WITH lock AS (SELECT pg_advisory_xact_lock(hashtext($2))),
       ins AS (
         INSERT INTO log_events (grp, stream, ts, ingestion, message)
         SELECT $1, $2, x.ts, $3, x.message FROM lock,
           unnest($4::bigint[], $5::text[]) WITH ORDINALITY AS x(ts, message, o)
         ORDER BY x.o RETURNING seq),
       st AS (
         INSERT INTO log_streams (stream, first_ts, last_ts, last_ingestion, stored_bytes)
         SELECT $2, $6, $7, $3, $8 FROM lock
         ON CONFLICT (stream) DO UPDATE SET
           first_ts = LEAST(log_streams.first_ts, excluded.first_ts),
           last_ts = GREATEST(log_streams.last_ts, excluded.last_ts),
           last_ingestion = excluded.last_ingestion,
           stored_bytes = log_streams.stored_bytes + excluded.stored_bytes)
       SELECT max(seq) AS last FROM ins`,
      [
        group,
        stream,
        now,
        events.map((e) => e.timestamp),
        events.map((e) => e.message),
        first,
        latest,
        bytes,
      ],
    );
    return Number(rows[0].last);
  }

  async stats(streams: readonly string[]): Promise<StreamStats[]> {
    if (streams.length === 0) return [];
    const { rows } = await this.pool.query(
      "SELECT stream, first_ts, last_ts, last_ingestion, stored_bytes FROM log_streams WHERE stream = ANY($1)",
      [streams],
    );
    const by = new Map(rows.map((r) => [r.stream as string, r]));
    return streams.map((s) => {
      const r = by.get(s);
      return {
        firstEventTimestamp: num(r?.first_ts),
        lastEventTimestamp: num(r?.last_ts),
        lastIngestionTime: num(r?.last_ingestion),
        storedBytes: num(r?.stored_bytes) ?? 0,
      };
    });
  }

  protected async rows(sql: string, args: Arg[]): Promise<Row[]> {
    return (await this.pool.query<Row>(sql, args)).rows;
  }

  async deleteStream(stream: string): Promise<void> {
    await this.pool.query(
      "WITH e AS (DELETE FROM log_events WHERE stream = $1) DELETE FROM log_streams WHERE stream = $1",
      [stream],
    );
  }

  async deleteGroup(group: string, streams: readonly string[]): Promise<void> {
    await this.pool.query(
      "WITH e AS (DELETE FROM log_events WHERE grp = $1) DELETE FROM log_streams WHERE stream = ANY($2)",
      [group, streams],
    );
  }

  async expire(group: string, cutoff: number): Promise<number> {
    return (await this.pool.query("DELETE FROM log_events WHERE grp = $1 AND ts < $2", [group, cutoff]))
      .rowCount!;
  }

  /**
   * The live groups are the store's, not this node's copy of them: a node whose State has not
   * yet absorbed a group another node just created must not take its events for orphans.
   */
  async dropOrphans(_liveGroups: readonly string[]): Promise<number> {
    return (
      await this.pool.query(
        `DELETE FROM log_events WHERE grp NOT IN (
           SELECT body::json->>'key' FROM objects WHERE kind = 'logGroup')`,
      )
    ).rowCount!;
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
