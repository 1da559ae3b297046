/**
 * S3 bodies in the shared PostgreSQL store (`privlink up --store postgres://…`), so every API
 * node and agent reads what any of them wrote. A body is a row of `s3_blobs` and its bytes
 * rows of `s3_blob_chunks`, 1 MiB each (the last one shorter), written one chunk per statement
 * as the request streams in and read one chunk per statement as the response streams out: no
 * node ever holds a whole object, and no upload pins a connection or a long transaction.
 *
 * The crash guarantee is BlobStore's (blobs.ts): a body's row says `committed` only once every
 * chunk is written, and the metadata naming it commits after that. What a crash leaves (a body
 * never committed, or committed but never named, or no longer named) is swept by any node once
 * it has been untouched for the grace period: the grace covers the moment between a body's commit
 * and the metadata's on a live node, and another node's uploads in progress (their `touched_at`
 * moves with every chunk).
 */
import { randomUUID } from "node:crypto";
import { Readable, Writable } from "node:stream";
import pg from "pg";
import type { Blobs, BlobWriter } from "./blobs.js";

/** Bytes per chunk row: large enough that a statement's round trip is small beside its bytes. */
export const PG_CHUNK = 1 << 20;
/** Uncommitted or unnamed bodies untouched this long are swept (an upload touches its body every chunk). */
const DEFAULT_GRACE_MS = 3_600_000;
const SWEEP_EVERY_MS = 3_600_000;
/** Serialises the tables' creation among nodes starting together (CREATE … IF NOT EXISTS races). */
const SCHEMA_LOCK = 0x73_33_62_6c;

export interface PgBlobsOptions {
  /** How long an uncommitted or unnamed body is left alone before a sweep removes it (default 1 h). */
  readonly graceMs?: number;
  /** Connections kept at most (default 6): each statement holds one for one chunk. */
  readonly connections?: number;
}

export class PgBlobs implements Blobs {
  private sweeper: NodeJS.Timeout | undefined;
  private readonly graceMs: number;

  private constructor(
    private readonly pool: pg.Pool,
    opts: PgBlobsOptions,
  ) {
    this.graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
  }

  /** Connects and creates the tables where missing. */
  static async open(url: string, opts: PgBlobsOptions = {}): Promise<PgBlobs> {
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.connections ?? 6,
      connectionTimeoutMillis: 5_000,
    });
    // An idle client's error (PostgreSQL restarted) would otherwise take the process down.
    pool.on("error", () => undefined);
    const db = await pool.connect().catch(async (err: Error) => {
      await pool.end().catch(() => undefined);
      throw err;
    });
    try {
      await db.query("BEGIN");
      await db.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK]);
      await db.query(
        `CREATE TABLE IF NOT EXISTS s3_blobs (name TEXT PRIMARY KEY, committed BOOLEAN NOT NULL DEFAULT false,
           size BIGINT NOT NULL DEFAULT 0, chunk INTEGER NOT NULL, touched_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
      );
      await db.query(
        `CREATE TABLE IF NOT EXISTS s3_blob_chunks (name TEXT NOT NULL REFERENCES s3_blobs ON DELETE CASCADE,
           seq INTEGER NOT NULL, data BYTEA NOT NULL, PRIMARY KEY (name, seq))`,
      );
      // Out of line and uncompressed: bodies are often compressed already, and a range read then
      // fetches only the slices it needs.
      await db.query("ALTER TABLE s3_blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL");
      await db.query("COMMIT");
    } catch (err) {
      await db.query("ROLLBACK").catch(() => undefined);
      db.release();
      await pool.end().catch(() => undefined);
      throw err;
    }
    db.release();
    return new PgBlobs(pool, opts);
  }

  create(): BlobWriter {
    const name = randomUUID();
    const pool = this.pool;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let seq = 0;
    let size = 0;
    /** Whatever statement the stream still runs: discard waits for it, so nothing lands after the delete. */
    let busy: Promise<unknown> = Promise.resolve();
    const track = <T>(p: Promise<T>): Promise<T> => {
      busy = p.catch(() => undefined);
      return p;
    };
    const insert = (data: Buffer) =>
      track(
        pool.query(
          `WITH c AS (INSERT INTO s3_blob_chunks (name, seq, data) VALUES ($1, $2, $3))
           UPDATE s3_blobs SET touched_at = now() WHERE name = $1`,
          [name, seq++, data],
        ),
      );
    /** Writes every whole chunk buffered (and the rest too when `last`). */
    const flush = async (last: boolean) => {
      if (pendingBytes < PG_CHUNK && !(last && pendingBytes > 0)) return;
      const joined = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      let at = 0;
      for (; joined.length - at >= PG_CHUNK; at += PG_CHUNK) await insert(joined.subarray(at, at + PG_CHUNK));
      if (last && at < joined.length) {
        await insert(joined.subarray(at));
        at = joined.length;
      }
      pending = at < joined.length ? [joined.subarray(at)] : [];
      pendingBytes = joined.length - at;
    };
    const stream = new Writable({
      highWaterMark: PG_CHUNK,
      construct(done) {
        track(pool.query("INSERT INTO s3_blobs (name, chunk) VALUES ($1, $2)", [name, PG_CHUNK])).then(
          () => done(),
          done,
        );
      },
      write(data: Buffer, _enc, done) {
        pending.push(data);
        pendingBytes += data.length;
        size += data.length;
        flush(false).then(() => done(), done);
      },
      final(done) {
        flush(true).then(() => done(), done);
      },
    });
    return {
      stream,
      commit: async () => {
        await track(
          pool.query("UPDATE s3_blobs SET committed = true, size = $2, touched_at = now() WHERE name = $1", [
            name,
            size,
          ]),
        );
        return name;
      },
      discard: async () => {
        await busy;
        await pool.query("DELETE FROM s3_blobs WHERE name = $1", [name]);
      },
    };
  }

  read(name: string, range?: { start: number; end: number }): Readable {
    const pool = this.pool;
    let chunk = 0;
    let next = range?.start ?? 0;
    let end = range?.end ?? -1;
    return new Readable({
      highWaterMark: 2 * PG_CHUNK,
      async construct(done) {
        try {
          const { rows } = await pool.query(
            "SELECT chunk, size FROM s3_blobs WHERE name = $1 AND committed",
            [name],
          );
          if (!rows[0]) throw new Error(`S3 body ${name} is not in the store`);
          chunk = rows[0].chunk as number;
          const size = Number(rows[0].size);
          end = Math.min(range ? range.end : size - 1, size - 1);
          done();
        } catch (err) {
          done(err as Error);
        }
      },
      async read() {
        if (next > end) {
          this.push(null);
          return;
        }
        const seq = Math.floor(next / chunk);
        const from = next - seq * chunk;
        const length = Math.min(chunk - from, end - next + 1);
        try {
          // Only the bytes asked for: a range's first and last chunks are cut in PostgreSQL.
          // Hex text on the wire (node-postgres reads no binary results), decoded natively into a Buffer.
          const { rows } = await pool.query(
            "SELECT substring(data FROM $3::int FOR $4::int) AS data FROM s3_blob_chunks WHERE name = $1 AND seq = $2",
            [name, seq, from + 1, length],
          );
          const data = rows[0]?.data as Buffer | undefined;
          if (!data || data.length !== length) throw new Error(`S3 body ${name} is missing bytes at ${next}`);
          next += length;
          this.push(data);
        } catch (err) {
          this.destroy(err as Error);
        }
      },
    });
  }

  async remove(names: Iterable<string>): Promise<void> {
    const list = [...names];
    if (list.length > 0) await this.pool.query("DELETE FROM s3_blobs WHERE name = ANY($1)", [list]);
  }

  /**
   * Removes bodies untouched for the grace period that are uncommitted or not `referenced()`,
   * then again every hour while open. Any node may sweep: the grace, not the node, protects
   * uploads in progress elsewhere.
   */
  async sweep(referenced: () => ReadonlySet<string>): Promise<void> {
    await this.sweepOnce(referenced);
    this.sweeper ??= setInterval(
      () => void this.sweepOnce(referenced).catch(() => undefined),
      SWEEP_EVERY_MS,
    );
    this.sweeper.unref();
  }

  /** One sweep; returns how many bodies it removed. */
  async sweepOnce(referenced: () => ReadonlySet<string>): Promise<number> {
    const { rows } = await this.pool.query(
      "SELECT name, committed FROM s3_blobs WHERE touched_at < now() - make_interval(secs => $1)",
      [this.graceMs / 1000],
    );
    // Read after the candidates: a body named meanwhile is in this view.
    const named = referenced();
    const gone = rows
      .filter((r) => !r.committed || !named.has(r.name as string))
      .map((r) => r.name as string);
    await this.remove(gone);
    return gone.length;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.pool.end().catch(() => undefined);
  }
}
