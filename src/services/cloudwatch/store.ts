import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { type Aggregate, merge, RESOLUTIONS, type Resolution, single } from "./statistics.js";

/** One metric: where it lives and what it is called. Dimensions are sorted by name. */
export interface SeriesKey {
  readonly accountId: string;
  readonly region: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly Dimension[];
}

export interface Dimension {
  readonly name: string;
  readonly value: string;
}

export interface StoredSeries extends SeriesKey {
  readonly id: number;
  readonly unit?: string;
  /** Epoch seconds of the newest datapoint (ListMetrics RecentlyActive). */
  readonly lastTs: number;
}

/** A column of the points table, as a statistic reads it. */
export type PointColumn = "n" | "sum" | "min" | "max";

/** A metric named by key, within an account and region. */
export interface MetricRef {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly Dimension[];
}

/** A datapoint to store: a 1-minute aggregate of one metric. */
export interface PointRow {
  readonly key: SeriesKey;
  /** Epoch seconds, aligned to the minute. */
  readonly ts: number;
  readonly agg: Aggregate;
  readonly unit?: string;
  /** A counter's minute total (bytes, connections) rather than samples (a gauge, PutMetricData). */
  readonly counter?: boolean;
}

export interface StoredPoint extends Aggregate {
  /** Epoch seconds, aligned to `period`. */
  readonly ts: number;
  readonly period: Resolution;
}

/** Sorted, so that {A,B} and {B,A} are one metric, as in CloudWatch. */
export function canonicalDimensions(dims: readonly Dimension[]): Dimension[] {
  return [...dims].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The dims column: canonical order, [name, value] pairs, so equal sets are equal strings. */
export function dimsKey(dims: readonly Dimension[]): string {
  return JSON.stringify(canonicalDimensions(dims).map((d) => [d.name, d.value]));
}

/** An alarm by its key. */
export interface AlarmRef {
  readonly accountId: string;
  readonly region: string;
  readonly name: string;
}

/** One metric's points at one resolution in [from, to), with the columns asked for. */
export interface ColumnRead {
  readonly seriesId: number;
  readonly period: Resolution;
  readonly from: number;
  readonly to: number;
  readonly cols: readonly PointColumn[];
}

/**
 * The CloudWatch metric store as the metric and alarm rules use it, apart from the in-memory
 * State so that datapoints never weigh on it. Every datapoint is written at 1-minute, 5-minute
 * and 1-hour resolution at once (write-time rollups), so a 15-day query at an hourly period
 * reads 360 rows per metric, not 21,600; `compact` drops each resolution when AWS would. Two
 * sides: {@link SqliteMetricStore} (the home's metrics.db, one node's) and PgMetricStore
 * (pg-store.ts: the shared store's tables, every node's). Asynchronous because PostgreSQL is;
 * the SQLite side does its work before returning, so a caller that does not wait for a write
 * still reads it next.
 */
export interface MetricStore {
  /** Adds datapoints to what their minutes hold (see SqliteMetricStore.put); one transaction. */
  put(rows: readonly PointRow[]): Promise<void>;
  series(accountId: string, region: string, namespace?: string, metricName?: string): Promise<StoredSeries[]>;
  points(seriesId: number, period: Resolution, from: number, to: number): Promise<StoredPoint[]>;
  seriesIds(accountId: string, region: string, keys: readonly MetricRef[]): Promise<(number | undefined)[]>;
  /** Each read's rows [ts, ...cols] in time order, element k answering read k. */
  columns(reads: readonly ColumnRead[]): Promise<number[][][]>;
  compact(nowSec: number): Promise<number>;
  alarms(accountId: string, region: string): Promise<unknown[]>;
  allAlarmScopes(): Promise<{ accountId: string; region: string }[]>;
  saveAlarm(accountId: string, region: string, name: string, body: unknown): Promise<void>;
  /**
   * A state transition: writes `body` only while the stored alarm is still in state `from`;
   * answers whether it did. Two evaluators that see the same change write it once.
   */
  transitionAlarm(alarm: AlarmRef, from: string, body: unknown): Promise<boolean>;
  deleteAlarm(accountId: string, region: string, name: string): Promise<boolean>;
  /**
   * Whether this node does the store-wide work (alarm evaluation on the tick, compaction, the
   * agents' and the State's metrics): on a home's file always; on the shared store one node.
   */
  leads(): Promise<boolean>;
  clear(): Promise<void>;
  close(): Promise<void>;
}

/** The SQLite side: its own file beside the state database. */
export class SqliteMetricStore implements MetricStore {
  private readonly db: Database.Database;
  private readonly upsertSeries: Database.Statement;
  private readonly seriesId: Database.Statement;
  private readonly touch: Database.Statement;
  private readonly getPoint: Database.Statement;
  private readonly setPoint: Database.Statement;
  private readonly range: Database.Statement;
  /** Range reads by the columns they return (see `columns`). */
  private readonly columnReads = new Map<string, Database.Statement>();
  private readonly rollup: Database.Statement;
  private readonly putBatch: (rows: readonly PointRow[]) => void;

  constructor(path: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS series (
        id INTEGER PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, ns TEXT NOT NULL,
        name TEXT NOT NULL, dims TEXT NOT NULL, unit TEXT, last INTEGER NOT NULL,
        UNIQUE (account, region, ns, name, dims));
      CREATE TABLE IF NOT EXISTS points (
        series INTEGER NOT NULL, period INTEGER NOT NULL, ts INTEGER NOT NULL,
        n REAL NOT NULL, sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL,
        PRIMARY KEY (series, period, ts)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS alarms (
        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (account, region, name));
    `);
    this.upsertSeries = this.db.prepare(
      `INSERT INTO series (account, region, ns, name, dims, unit, last) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (account, region, ns, name, dims) DO NOTHING`,
    );
    this.seriesId = this.db.prepare(
      "SELECT id FROM series WHERE account = ? AND region = ? AND ns = ? AND name = ? AND dims = ?",
    );
    this.touch = this.db.prepare(
      "UPDATE series SET last = max(last, ?), unit = coalesce(?, unit) WHERE id = ?",
    );
    this.getPoint = this.db.prepare(
      "SELECT n, sum, min, max FROM points WHERE series = ? AND period = ? AND ts = ?",
    );
    this.setPoint = this.db.prepare(
      `INSERT INTO points (series, period, ts, n, sum, min, max) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (series, period, ts) DO UPDATE SET n = excluded.n, sum = excluded.sum, min = excluded.min, max = excluded.max`,
    );
    this.range = this.db.prepare(
      "SELECT ts, n, sum, min, max FROM points WHERE series = ? AND period = ? AND ts >= ? AND ts < ? ORDER BY ts",
    );
    // A rollup recomputed from the 1-minute points of its span (after a counter minute grew).
    this.rollup = this.db.prepare(
      `INSERT INTO points (series, period, ts, n, sum, min, max)
       SELECT series, @period, @at, sum(n), sum(sum), min(min), max(max) FROM points
       WHERE series = @series AND period = 60 AND ts >= @at AND ts < @at + @period GROUP BY series
       ON CONFLICT (series, period, ts) DO UPDATE SET n = excluded.n, sum = excluded.sum, min = excluded.min, max = excluded.max`,
    );
    this.putBatch = this.db.transaction((rows: readonly PointRow[]) => {
      for (const r of rows) this.putOne(r);
    });
  }

  /**
   * Adds datapoints (epoch seconds) to what the same minute already holds: samples merge (one
   * more sample), a counter's minute grows (still one sample, the minute's total), so a minute
   * written early (POST /_privlink/cloudwatch/flush) and again when it is over reads as if it
   * had been written once.
   */
  async put(rows: readonly PointRow[]): Promise<void> {
    if (rows.length) this.putBatch(rows);
  }

  private putOne({ key, ts, agg, unit, counter }: PointRow): void {
    const dims = dimsKey(key.dimensions);
    const k = [key.accountId, key.region, key.namespace, key.metricName, dims] as const;
    this.upsertSeries.run(...k, unit ?? null, ts);
    const id = (this.seriesId.get(...k) as { id: number }).id;
    this.touch.run(ts, unit ?? null, id);
    const minute = counter && (this.getPoint.get(id, 60, ts) as Aggregate | undefined);
    if (minute) {
      const total = single(minute.sum + agg.sum);
      this.setPoint.run(id, 60, ts, total.n, total.sum, total.min, total.max);
      for (const period of RESOLUTIONS)
        if (period !== 60) this.rollup.run({ series: id, period, at: ts - (ts % period) });
      return;
    }
    for (const period of RESOLUTIONS) {
      const at = ts - (ts % period);
      const old = this.getPoint.get(id, period, at) as Aggregate | undefined;
      const v = old ? merge(old, agg) : agg;
      this.setPoint.run(id, period, at, v.n, v.sum, v.min, v.max);
    }
  }

  /** Every metric of an account and region, optionally one namespace's. */
  async series(accountId: string, region: string, ns?: string, name?: string): Promise<StoredSeries[]> {
    let sql = "SELECT id, ns, name, dims, unit, last FROM series WHERE account = ? AND region = ?";
    const args: string[] = [accountId, region];
    if (ns !== undefined) {
      sql += " AND ns = ?";
      args.push(ns);
    }
    if (name !== undefined) {
      sql += " AND name = ?";
      args.push(name);
    }
    sql += " ORDER BY ns, name, dims";
    return (this.db.prepare(sql).all(...args) as SeriesRow[]).map((r) => toSeries(accountId, region, r));
  }

  /** Datapoints of one metric at one resolution in [from, to) (epoch seconds). */
  async points(seriesId: number, period: Resolution, from: number, to: number): Promise<StoredPoint[]> {
    return (this.range.all(seriesId, period, from, to) as (Aggregate & { ts: number })[]).map((p) => ({
      ...p,
      period,
    }));
  }

  /**
   * The stored series of each key (undefined where there is none): a lookup on the series'
   * unique index each (joining the keys as one json_each table made SQLite scan it per series).
   */
  async seriesIds(
    accountId: string,
    region: string,
    keys: readonly MetricRef[],
  ): Promise<(number | undefined)[]> {
    return keys.map(
      (k) =>
        (
          this.seriesId.get(accountId, region, k.namespace, k.metricName, dimsKey(k.dimensions)) as
            | { id: number }
            | undefined
        )?.id,
    );
  }

  /**
   * One metric's points at one resolution in [from, to) as rows [ts, ...cols], in time order
   * (the primary key's, so SQLite does not sort). Only the columns asked for leave SQLite:
   * each column costs about as much as the row scan itself, and rows are arrays, not objects.
   */
  async columns(reads: readonly ColumnRead[]): Promise<number[][][]> {
    return reads.map((r) => this.columnsOf(r));
  }

  private columnsOf({ seriesId, period, from, to, cols }: ColumnRead): number[][] {
    const key = cols.join(",");
    let read = this.columnReads.get(key);
    if (!read) {
      read = this.db.prepare(
        `SELECT ts, ${key} FROM points WHERE series = ? AND period = ? AND ts >= ? AND ts < ? ORDER BY ts`,
      );
      read.raw(true);
      this.columnReads.set(key, read);
    }
    return read.all(seriesId, period, from, to) as number[][];
  }

  /**
   * AWS's retention: 1-minute datapoints for 15 days, 5-minute for 63 days, 1-hour for 455 days
   * (15 months). Each resolution already holds its rollup, so compaction only deletes.
   */
  async compact(nowSec: number): Promise<number> {
    const del = this.db.prepare("DELETE FROM points WHERE period = ? AND ts < ?");
    let removed = 0;
    for (const [period, keepSec] of RETENTION) removed += del.run(period, nowSec - keepSec).changes;
    this.db.prepare("DELETE FROM series WHERE id NOT IN (SELECT DISTINCT series FROM points)").run();
    return removed;
  }

  async alarms(accountId: string, region: string): Promise<unknown[]> {
    return (
      this.db
        .prepare("SELECT body FROM alarms WHERE account = ? AND region = ? ORDER BY name")
        .all(accountId, region) as {
        body: string;
      }[]
    ).map((r) => JSON.parse(r.body));
  }

  async allAlarmScopes(): Promise<{ accountId: string; region: string }[]> {
    return (
      this.db.prepare("SELECT DISTINCT account, region FROM alarms").all() as {
        account: string;
        region: string;
      }[]
    ).map((r) => ({ accountId: r.account, region: r.region }));
  }

  async saveAlarm(accountId: string, region: string, name: string, body: unknown): Promise<void> {
    this.db
      .prepare(
        "INSERT INTO alarms (account, region, name, body) VALUES (?, ?, ?, ?) ON CONFLICT (account, region, name) DO UPDATE SET body = excluded.body",
      )
      .run(accountId, region, name, JSON.stringify(body));
  }

  async transitionAlarm(
    { accountId, region, name }: AlarmRef,
    from: string,
    body: unknown,
  ): Promise<boolean> {
    return (
      this.db
        .prepare(
          "UPDATE alarms SET body = ? WHERE account = ? AND region = ? AND name = ? AND json_extract(body, '$.StateValue') = ?",
        )
        .run(JSON.stringify(body), accountId, region, name, from).changes > 0
    );
  }

  async deleteAlarm(accountId: string, region: string, name: string): Promise<boolean> {
    return (
      this.db
        .prepare("DELETE FROM alarms WHERE account = ? AND region = ? AND name = ?")
        .run(accountId, region, name).changes > 0
    );
  }

  /** One node has the file: it does everything. */
  async leads(): Promise<boolean> {
    return true;
  }

  /** POST /_privlink/reset: metrics go with the rest of the state. */
  async clear(): Promise<void> {
    this.db.exec("DELETE FROM points; DELETE FROM series; DELETE FROM alarms;");
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/** A series row as either store returns it (PostgreSQL's BIGINTs come as strings). */
export interface SeriesRow {
  id: number | string;
  ns: string;
  name: string;
  dims: string;
  unit: string | null;
  last: number | string;
}

export function toSeries(accountId: string, region: string, r: SeriesRow): StoredSeries {
  return {
    id: Number(r.id),
    accountId,
    region,
    namespace: r.ns,
    metricName: r.name,
    dimensions: (JSON.parse(r.dims) as [string, string][]).map(([name, value]) => ({ name, value })),
    unit: r.unit ?? undefined,
    lastTs: Number(r.last),
  };
}

const DAY = 86_400;

/** How long each resolution is kept, in seconds. */
export const RETENTION: readonly (readonly [Resolution, number])[] = [
  [60, 15 * DAY],
  [300, 63 * DAY],
  [3600, 455 * DAY],
];
