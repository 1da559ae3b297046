import { type Aggregate, merge, single } from "./statistics.js";
import type { Dimension, MetricStore, PointRow, SeriesKey } from "./store.js";

export type Scope = { accountId: string; region: string };

/** One series as pending minutes hold it; build it once where it is added to often (a flow's bytes). */
export interface PendingSeries {
  readonly id: string;
  readonly key: SeriesKey;
  readonly unit: string;
  /** Counters add up within the minute; gauges keep every sample. */
  readonly gauge: boolean;
}

export function pendingSeries(
  scope: Scope,
  namespace: string,
  metricName: string,
  dimensions: Dimension[],
  unit: string,
  gauge = false,
): PendingSeries {
  return {
    id: JSON.stringify([scope.accountId, scope.region, namespace, metricName, dimensions]),
    key: { ...scope, namespace, metricName, dimensions },
    unit,
    gauge,
  };
}

interface Pending {
  series: PendingSeries;
  agg: Aggregate;
}

/**
 * Datapoints being gathered for the minutes not yet written: publishers add values to a
 * minute of the injected clock and write the minutes that are over to the store in one batch.
 */
export class PendingMinutes {
  private readonly pending = new Map<number, Map<string, Pending>>();

  add(
    minute: number,
    scope: Scope,
    namespace: string,
    metricName: string,
    dimensions: Dimension[],
    unit: string,
    value: number,
    gauge = false,
  ): void {
    this.addTo(minute, pendingSeries(scope, namespace, metricName, dimensions, unit, gauge), value);
  }

  addTo(minute: number, series: PendingSeries, value: number): void {
    let bucket = this.pending.get(minute);
    if (!bucket) {
      bucket = new Map();
      this.pending.set(minute, bucket);
    }
    const old = bucket.get(series.id);
    if (!old) bucket.set(series.id, { series, agg: single(value) });
    else if (series.gauge) old.agg = merge(old.agg, single(value));
    else old.agg = single(old.agg.sum + value);
  }

  /**
   * Writes (and forgets) every minute `due` says is over, in one batch; answers how many
   * datapoints. The minutes are taken at once, so a tick that comes before the write settles
   * does not write them again.
   */
  async write(store: MetricStore, due: (minute: number) => boolean): Promise<number> {
    const rows: PointRow[] = [];
    for (const [minute, bucket] of this.pending) {
      if (!due(minute)) continue;
      for (const p of bucket.values())
        rows.push({
          key: p.series.key,
          ts: minute,
          agg: p.agg,
          unit: p.series.unit,
          counter: !p.series.gauge,
        });
      this.pending.delete(minute);
    }
    if (rows.length) await store.put(rows);
    return rows.length;
  }

  clear(): void {
    this.pending.clear();
  }
}

/** The minute (epoch seconds, aligned) of an instant. */
export function minuteOf(now: Date): number {
  const s = Math.floor(now.getTime() / 1000);
  return s - (s % 60);
}
