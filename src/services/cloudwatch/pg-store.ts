import pg from "pg";
import { dataPool } from "../../store/postgres.js";
import { type Aggregate, merge, RESOLUTIONS, type Resolution } from "./statistics.js";
import {
  type AlarmRef,
  type ColumnRead,
  dimsKey,
  type MetricRef,
  type MetricStore,
  type PointRow,
  RETENTION,
  type SeriesRow,
  type StoredPoint,
  type StoredSeries,
  toSeries,
} from "./store.js";

/** The session advisory lock of the node that leads the metric store (alarms, compaction). */
const LEAD_LOCK = 0x6d_65_74_72;
const DAY = 86_400;
/** Series and points in one (byte-wise) order: concurrent writers lock rows in the same order. */
const C = 'COLLATE "C"';

/**
 * CloudWatch metrics in the shared PostgreSQL store (tables `metric_series`, `metric_points`,
 * `metric_alarms`, created by PostgresStore's migration): every API node and agent on the
 * store reads and writes the same datapoints, with the same write-time rollups and retention as
 * the SQLite side (store.ts). A batch of datapoints is one transaction of at most four
 * statements whatever its size: series, gauge samples (merged at every resolution), counter
 * minutes (grown), then the counters' rollups recomputed from their minutes. Additions are done
 * by the database (`n = n + excluded.n` …), so two nodes writing the same minute both count.
 * The store-wide work (alarm evaluation on the tick, compaction, what every node sees alike) is
 * done by the node holding a session advisory lock on a connection of its own: when that node
 * stops or loses PostgreSQL the lock goes with its session and the next tick of another node
 * takes it.
 */
export class PgMetricStore implements MetricStore {
  private leader: pg.Client | undefined;
  private leading = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
  ) {}

  /** The schema must already be there (PostgresStore.open migrates it). */
  static async open(url: string): Promise<PgMetricStore> {
    const pool = dataPool(url);
    await pool.query("SELECT 1 FROM metric_points LIMIT 0");
    return new PgMetricStore(pool, url);
  }

  async put(rows: readonly PointRow[]): Promise<void> {
    if (rows.length === 0) return;
    const series = new Map<string, { k: string[]; unit: string | null; last: number }>();
    for (const r of rows) {
      const k = [r.key.accountId, r.key.region, r.key.namespace, r.key.metricName, dimsKey(r.key.dimensions)];
      const id = k.join("\0");
      const s = series.get(id);
      if (!s) series.set(id, { k, unit: r.unit ?? null, last: r.ts });
      else {
        s.last = Math.max(s.last, r.ts);
        s.unit = r.unit ?? s.unit;
      }
    }
    const keys = [...series.keys()].sort();
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const col = (i: number) => keys.map((id) => series.get(id)!.k[i]);
      const { rows: ids } = await client.query(
        `INSERT INTO metric_series (account, region, ns, name, dims, unit, last)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
         ON CONFLICT (account, region, ns, name, dims) DO UPDATE SET
           last = GREATEST(metric_series.last, excluded.last), unit = COALESCE(excluded.unit, metric_series.unit)
         RETURNING id, account, region, ns, name, dims`,
        [
          col(0),
          col(1),
          col(2),
          col(3),
          col(4),
          keys.map((id) => series.get(id)!.unit),
          keys.map((id) => series.get(id)!.last),
        ],
      );
      const idOf = new Map<string, number>(
        ids.map((r) => [[r.account, r.region, r.ns, r.name, r.dims].join("\0"), Number(r.id)]),
      );
      // Gauge samples merged per point, counter totals per minute: one row each per statement.
      const gauges = new Map<string, [number, Resolution, number, Aggregate]>();
      const counters = new Map<string, [number, number, number]>();
      for (const r of rows) {
        const id = idOf.get(
          [r.key.accountId, r.key.region, r.key.namespace, r.key.metricName, dimsKey(r.key.dimensions)].join(
            "\0",
          ),
        )!;
        if (r.counter) {
          const k = `${id}/${r.ts}`;
          const c = counters.get(k);
          if (c) c[2] += r.agg.sum;
          else counters.set(k, [id, r.ts, r.agg.sum]);
          continue;
        }
        for (const period of RESOLUTIONS) {
          const at = r.ts - (r.ts % period);
          const k = `${id}/${period}/${at}`;
          const g = gauges.get(k);
          if (g) g[3] = merge(g[3], r.agg);
          else gauges.set(k, [id, period, at, r.agg]);
        }
      }
      if (gauges.size > 0) {
        const g = [...gauges.values()].sort(byPoint);
        await client.query(
          `INSERT INTO metric_points (series, period, ts, n, sum, min, max)
           SELECT * FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::float8[], $5::float8[], $6::float8[], $7::float8[])
           ON CONFLICT (series, period, ts) DO UPDATE SET
             n = metric_points.n + excluded.n, sum = metric_points.sum + excluded.sum,
             min = LEAST(metric_points.min, excluded.min), max = GREATEST(metric_points.max, excluded.max)`,
          [
            g.map((x) => x[0]),
            g.map((x) => x[1]),
            g.map((x) => x[2]),
            g.map((x) => x[3].n),
            g.map((x) => x[3].sum),
            g.map((x) => x[3].min),
            g.map((x) => x[3].max),
          ],
        );
      }
      if (counters.size > 0) {
        const c = [...counters.values()].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        // A counter's minute is one sample, its total so far (store.ts `put`).
        await client.query(
          `INSERT INTO metric_points (series, period, ts, n, sum, min, max)
           SELECT s, 60, t, 1, v, v, v FROM unnest($1::bigint[], $2::bigint[], $3::float8[]) AS x(s, t, v)
           ON CONFLICT (series, period, ts) DO UPDATE SET
             n = 1, sum = metric_points.sum + excluded.sum,
             min = metric_points.sum + excluded.sum, max = metric_points.sum + excluded.sum`,
          [c.map((x) => x[0]), c.map((x) => x[1]), c.map((x) => x[2])],
        );
        const spans = new Map<string, [number, number, number]>();
        for (const [id, ts] of c)
          for (const period of RESOLUTIONS)
            if (period !== 60)
              spans.set(`${id}/${period}/${ts - (ts % period)}`, [id, period, ts - (ts % period)]);
        const r = [...spans.values()].sort(byPoint);
        await client.query(
          `INSERT INTO metric_points (series, period, ts, n, sum, min, max)
           SELECT p.series, r.period, r.at, sum(p.n), sum(p.sum), min(p.min), max(p.max)
           FROM unnest($1::bigint[], $2::int[], $3::bigint[]) AS r(series, period, at)
           JOIN metric_points p ON p.series = r.series AND p.period = 60 AND p.ts >= r.at AND p.ts < r.at + r.period
           GROUP BY p.series, r.period, r.at
           ON CONFLICT (series, period, ts) DO UPDATE SET
             n = excluded.n, sum = excluded.sum, min = excluded.min, max = excluded.max`,
          [r.map((x) => x[0]), r.map((x) => x[1]), r.map((x) => x[2])],
        );
      }
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async series(accountId: string, region: string, ns?: string, name?: string): Promise<StoredSeries[]> {
    const { rows } = await this.pool.query<SeriesRow>(
      `SELECT id, ns, name, dims, unit, last FROM metric_series
       WHERE account = $1 AND region = $2 AND ($3::text IS NULL OR ns = $3) AND ($4::text IS NULL OR name = $4)
       ORDER BY ns ${C}, name ${C}, dims ${C}`,
      [accountId, region, ns ?? null, name ?? null],
    );
    return rows.map((r) => toSeries(accountId, region, r));
  }

  async points(seriesId: number, period: Resolution, from: number, to: number): Promise<StoredPoint[]> {
    const { rows } = await this.pool.query(
      `SELECT ts::float8 AS ts, n, sum, min, max FROM metric_points
       WHERE series = $1 AND period = $2 AND ts >= $3 AND ts < $4 ORDER BY ts`,
      [seriesId, period, from, to],
    );
    return rows.map((p) => ({ ts: p.ts, n: p.n, sum: p.sum, min: p.min, max: p.max, period }));
  }

  async seriesIds(
    accountId: string,
    region: string,
    keys: readonly MetricRef[],
  ): Promise<(number | undefined)[]> {
    if (keys.length === 0) return [];
    const { rows } = await this.pool.query(
      `SELECT k.i::int AS i, s.id FROM unnest($3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS k(ns, name, dims, i)
       JOIN metric_series s ON s.account = $1 AND s.region = $2 AND s.ns = k.ns AND s.name = k.name AND s.dims = k.dims`,
      [
        accountId,
        region,
        keys.map((k) => k.namespace),
        keys.map((k) => k.metricName),
        keys.map((k) => dimsKey(k.dimensions)),
      ],
    );
    const out: (number | undefined)[] = keys.map(() => undefined);
    for (const r of rows) out[r.i - 1] = Number(r.id);
    return out;
  }

  /** Every read in one statement; rows come back as arrays, split by read and cut to their columns. */
  async columns(reads: readonly ColumnRead[]): Promise<number[][][]> {
    const out: number[][][] = reads.map(() => []);
    if (reads.length === 0) return out;
    const { rows } = await this.pool.query<number[]>({
      text: `SELECT r.i::int, p.ts::float8, p.n, p.sum, p.min, p.max
             FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::bigint[]) WITH ORDINALITY AS r(series, period, f, t, i)
             JOIN metric_points p ON p.series = r.series AND p.period = r.period AND p.ts >= r.f AND p.ts < r.t
             ORDER BY r.i, p.ts`,
      values: [
        reads.map((r) => r.seriesId),
        reads.map((r) => r.period),
        reads.map((r) => r.from),
        reads.map((r) => r.to),
      ],
      rowMode: "array",
    });
    const at = { n: 2, sum: 3, min: 4, max: 5 } as const;
    const picks = reads.map((r) => r.cols.map((c) => at[c]));
    for (const row of rows) {
      const k = row[0]! - 1;
      const pick = picks[k]!;
      const kept = [row[1]!];
      for (const j of pick) kept.push(row[j]!);
      out[k]!.push(kept);
    }
    return out;
  }

  /**
   * AWS's retention, as on SQLite. A series goes once it has no point left and its last
   * datapoint is older than the longest retention: a series another node is writing right now
   * (its points not yet committed) has a recent `last`, so it stays.
   */
  async compact(nowSec: number): Promise<number> {
    let removed = 0;
    for (const [period, keepSec] of RETENTION)
      removed += (
        await this.pool.query("DELETE FROM metric_points WHERE period = $1 AND ts < $2", [
          period,
          nowSec - keepSec,
        ])
      ).rowCount!;
    await this.pool.query(
      `DELETE FROM metric_series s WHERE last < $1
       AND NOT EXISTS (SELECT 1 FROM metric_points p WHERE p.series = s.id)`,
      [nowSec - 455 * DAY],
    );
    return removed;
  }

  async alarms(accountId: string, region: string): Promise<unknown[]> {
    const { rows } = await this.pool.query(
      `SELECT body FROM metric_alarms WHERE account = $1 AND region = $2 ORDER BY name ${C}`,
      [accountId, region],
    );
    return rows.map((r) => JSON.parse(r.body));
  }

  async allAlarmScopes(): Promise<{ accountId: string; region: string }[]> {
    const { rows } = await this.pool.query("SELECT DISTINCT account, region FROM metric_alarms");
    return rows.map((r) => ({ accountId: r.account, region: r.region }));
  }

  async saveAlarm(accountId: string, region: string, name: string, body: unknown): Promise<void> {
    await this.pool.query(
      `INSERT INTO metric_alarms (account, region, name, body) VALUES ($1, $2, $3, $4)
       ON CONFLICT (account, region, name) DO UPDATE SET body = excluded.body`,
      [accountId, region, name, JSON.stringify(body)],
    );
  }

  async transitionAlarm(
    { accountId, region, name }: AlarmRef,
    from: string,
    body: unknown,
  ): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE metric_alarms SET body = $5
       WHERE account = $1 AND region = $2 AND name = $3 AND body::json->>'StateValue' = $4`,
      [accountId, region, name, from, JSON.stringify(body)],
    );
    return r.rowCount! > 0;
  }

  async deleteAlarm(accountId: string, region: string, name: string): Promise<boolean> {
    const r = await this.pool.query(
      "DELETE FROM metric_alarms WHERE account = $1 AND region = $2 AND name = $3",
      [accountId, region, name],
    );
    return r.rowCount! > 0;
  }

  /** Takes the lead when no live session holds it; keeps it while this connection lives. */
  async leads(): Promise<boolean> {
    if (this.leading && this.leader) return true;
    try {
      if (!this.leader) {
        const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5_000 });
        // A lost connection loses the lock with it: the next call starts over.
        const lost = () => {
          if (this.leader === client) {
            this.leader = undefined;
            this.leading = false;
          }
        };
        client.on("error", lost);
        client.on("end", lost);
        await client.connect();
        this.leader = client;
      }
      const { rows } = await this.leader.query("SELECT pg_try_advisory_lock($1) AS got", [LEAD_LOCK]);
      this.leading = rows[0].got === true;
    } catch {
      const c = this.leader;
      this.leader = undefined;
      this.leading = false;
      await c?.end().catch(() => undefined);
    }
    return this.leading;
  }

  async clear(): Promise<void> {
    await this.pool.query("TRUNCATE metric_points, metric_series, metric_alarms");
  }

  async close(): Promise<void> {
    const c = this.leader;
    this.leader = undefined;
    this.leading = false;
    await c?.end().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}

function byPoint(
  a: readonly [number, number, number, ...unknown[]],
  b: readonly [number, number, number, ...unknown[]],
) {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}
