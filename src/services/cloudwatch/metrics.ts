import { AwsError } from "../../cloud/errors.js";
import { readStatSeries, type StatQuery } from "./batch.js";
import { evaluate, expressionError, references, type Series } from "./expression.js";
import { type Aggregate, bucket, merge, resolutionFor, roundStart, single, statistic } from "./statistics.js";
import {
  canonicalDimensions,
  type Dimension,
  type MetricStore,
  type SeriesKey,
  type StoredSeries,
} from "./store.js";
import * as v from "./validate.js";

/**
 * CloudWatch metrics: PutMetricData, GetMetricStatistics, GetMetricData and ListMetrics over
 * the metric store, with CloudWatch's limits and errors. Inputs are the SDK's shapes; the
 * clock is injected.
 */

export interface Scope {
  accountId: string;
  region: string;
}

type Dims = { Name?: string; Value?: string }[] | undefined;

export interface MetricStatInput {
  Metric?: { Namespace?: string; MetricName?: string; Dimensions?: Dims };
  Period?: number;
  Stat?: string;
  Unit?: string;
}

export interface MetricDataQuery {
  Id?: string;
  MetricStat?: MetricStatInput;
  Expression?: string;
  Label?: string;
  ReturnData?: boolean;
  Period?: number;
}

export interface MetricDataResult {
  Id: string;
  Label: string;
  Timestamps: Date[];
  Values: number[];
  StatusCode: "Complete";
}

const MAX_QUERIES = 500;
const MAX_DATAPOINTS = 1440;
const MAX_TOTAL_DATAPOINTS = 100_800;
const PAGE = 500;

export class CloudWatchMetrics {
  constructor(
    readonly store: MetricStore,
    private readonly now: () => Date,
  ) {}

  private nowSec(): number {
    return Math.floor(this.now().getTime() / 1000);
  }

  async putMetricData(
    scope: Scope,
    input: {
      Namespace?: string;
      MetricData?: {
        MetricName?: string;
        Dimensions?: Dims;
        Timestamp?: Date;
        Value?: number;
        StatisticValues?: { SampleCount?: number; Sum?: number; Minimum?: number; Maximum?: number };
        Values?: number[];
        Counts?: number[];
        Unit?: string;
      }[];
    },
  ): Promise<void> {
    const ns = v.namespace(input.Namespace);
    if (ns.startsWith("AWS/"))
      throw v.invalidValue(
        `The value ${ns} for parameter Namespace is invalid: the AWS/ prefix is reserved.`,
      );
    const data = v.required(input.MetricData?.length ? input.MetricData : undefined, "MetricData");
    if (data.length > 1000)
      throw v.invalidValue("The collection MetricData must not have a size greater than 1000.");
    const now = this.nowSec();
    const rows = data.map((d, i) => {
      const at = `MetricData.member.${i + 1}`;
      const key: SeriesKey = {
        ...scope,
        namespace: ns,
        metricName: v.required(d.MetricName, `${at}.MetricName`),
        dimensions: v.dimensions(d.Dimensions, `${at}.Dimensions`),
      };
      const ts = d.Timestamp ? Math.floor(d.Timestamp.getTime() / 1000) : now;
      if (!Number.isFinite(ts) || ts < now - 14 * 86_400 || ts > now + 2 * 3600)
        throw v.invalidValue(
          `The parameter ${at}.Timestamp must specify a time no more than two weeks in the past or two hours in the future.`,
        );
      return { key, ts: ts - (ts % 60), agg: aggregateOf(d, at), unit: d.Unit };
    });
    await this.store.put(rows);
  }

  async getMetricStatistics(
    scope: Scope,
    input: {
      Namespace?: string;
      MetricName?: string;
      Dimensions?: Dims;
      StartTime?: Date;
      EndTime?: Date;
      Period?: number;
      Statistics?: string[];
      ExtendedStatistics?: string[];
      Unit?: string;
    },
  ): Promise<{ Label: string; Datapoints: Record<string, unknown>[] }> {
    const ns = v.namespace(input.Namespace);
    const name = v.required(input.MetricName, "MetricName");
    const period = v.period(input.Period, "Period");
    const win = v.window(input.StartTime, input.EndTime);
    const stats = input.Statistics ?? [];
    const ext = input.ExtendedStatistics ?? [];
    if (stats.length === 0 && ext.length === 0)
      throw v.invalidCombination("Must specify either Statistics or ExtendedStatistics, but not both.");
    if (ext.length)
      throw v.invalidValue(
        "privlink stores aggregates, not samples: ExtendedStatistics (percentiles) are not available.",
      );
    if (stats.length > 5)
      throw v.invalidValue("The collection Statistics must not have a size greater than 5.");
    const wanted = stats.map((s, i) => v.statisticName(s, `Statistics.member.${i + 1}`));
    const now = this.nowSec();
    const start = roundStart(win.start, now, period);
    const count = Math.ceil((win.end - start) / period);
    if (count > MAX_DATAPOINTS)
      throw v.invalidCombination(
        `You have requested up to ${count.toLocaleString("en-US")} datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.`,
      );
    const dims = v.dimensions(input.Dimensions, "Dimensions");
    const series = await this.exact(scope, ns, name, dims);
    const buckets = series
      ? await this.read(series, start, win.end, period, now)
      : new Map<number, Aggregate>();
    const unit = input.Unit ?? series?.unit ?? "None";
    return {
      Label: name,
      Datapoints: [...buckets].map(([ts, a]) => {
        const dp: Record<string, unknown> = { Timestamp: new Date(ts * 1000), Unit: unit };
        for (const s of wanted) dp[s] = statistic(a, s);
        return dp;
      }),
    };
  }

  async getMetricData(
    scope: Scope,
    input: {
      MetricDataQueries?: MetricDataQuery[];
      StartTime?: Date;
      EndTime?: Date;
      ScanBy?: string;
      MaxDatapoints?: number;
      NextToken?: string;
    },
  ): Promise<{ MetricDataResults: MetricDataResult[]; Messages: [] }> {
    const queries = v.required(
      input.MetricDataQueries?.length ? input.MetricDataQueries : undefined,
      "MetricDataQueries",
    );
    if (queries.length > MAX_QUERIES)
      throw v.invalidValue(
        `The collection MetricDataQueries must not have a size greater than ${MAX_QUERIES}.`,
      );
    const win = v.window(input.StartTime, input.EndTime);
    const scanBy = input.ScanBy ?? "TimestampDescending";
    if (scanBy !== "TimestampDescending" && scanBy !== "TimestampAscending")
      throw v.invalidValue(`The value ${scanBy} for parameter ScanBy is not valid.`);
    const checked = checkQueries(queries);
    const now = this.nowSec();
    const computed = await this.fetchStats(scope, checked, win, now);
    let total = 0;
    const stack = new Set<string>();
    const resolve = (id: string): Series => {
      const hit = computed.get(id);
      if (hit) return hit;
      const q = checked.get(id);
      if (!q) throw v.invalidValue(`The expression refers to the unknown query id '${id}'.`);
      if (stack.has(id)) throw expressionError(id, "Circular dependency between expressions");
      stack.add(id);
      const s = this.mathSeries(q, resolve, checked, win);
      stack.delete(id);
      computed.set(id, s);
      return s;
    };
    const results: MetricDataResult[] = [];
    for (const q of checked.values()) {
      const s = resolve(q.id);
      if (!q.returnData) continue;
      const n = s.ts.length;
      total += n;
      const Timestamps = new Array<Date>(n);
      const Values = new Array<number>(n);
      for (let j = 0; j < n; j++) {
        const k = scanBy === "TimestampDescending" ? n - 1 - j : j;
        Timestamps[j] = new Date(s.ts[k]! * 1000);
        Values[j] = s.vs[k]!;
      }
      results.push({
        Id: q.id,
        Label: q.label ?? q.stat?.name ?? q.id,
        Timestamps,
        Values,
        StatusCode: "Complete",
      });
    }
    if (total > (input.MaxDatapoints ?? MAX_TOTAL_DATAPOINTS))
      throw v.invalidCombination(
        `You have requested up to ${total.toLocaleString("en-US")} datapoints, which exceeds the limit of ${(input.MaxDatapoints ?? MAX_TOTAL_DATAPOINTS).toLocaleString("en-US")}.`,
      );
    return { MetricDataResults: results, Messages: [] };
  }

  async listMetrics(
    scope: Scope,
    input: {
      Namespace?: string;
      MetricName?: string;
      Dimensions?: Dims;
      NextToken?: string;
      RecentlyActive?: string;
    },
  ): Promise<{
    Metrics: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] }[];
    NextToken?: string;
  }> {
    const filter = v.dimensions(input.Dimensions, "Dimensions", false);
    if (input.RecentlyActive !== undefined && input.RecentlyActive !== "PT3H")
      throw v.invalidValue(
        `The value ${input.RecentlyActive} for parameter RecentlyActive is not valid. Valid value: PT3H`,
      );
    const since = input.RecentlyActive ? this.nowSec() - 3 * 3600 : Number.NEGATIVE_INFINITY;
    const all = (
      await this.store.series(scope.accountId, scope.region, input.Namespace, input.MetricName)
    ).filter(
      (s) =>
        s.lastTs >= since &&
        filter.every((f) => s.dimensions.some((d) => d.name === f.name && (!f.value || d.value === f.value))),
    );
    const offset = input.NextToken ? decodeToken(input.NextToken) : 0;
    const page = all.slice(offset, offset + PAGE);
    return {
      Metrics: page.map((s) => ({
        Namespace: s.namespace,
        MetricName: s.metricName,
        Dimensions: s.dimensions.map((d) => ({ Name: d.name, Value: d.value })),
      })),
      NextToken: offset + PAGE < all.length ? encodeToken(offset + PAGE) : undefined,
    };
  }

  /** The one stored metric with exactly these dimensions (CloudWatch matches the whole set). */
  async exact(
    scope: Scope,
    ns: string,
    name: string,
    dims: readonly Dimension[],
  ): Promise<StoredSeries | undefined> {
    const want = JSON.stringify(canonicalDimensions(dims));
    return (await this.store.series(scope.accountId, scope.region, ns, name)).find(
      (s) => JSON.stringify(s.dimensions) === want,
    );
  }

  /** Stored aggregates of one metric grouped into periods starting at `start`. */
  async read(
    series: StoredSeries,
    start: number,
    end: number,
    period: number,
    now: number,
  ): Promise<Map<number, Aggregate>> {
    const res = resolutionFor(period, start, now);
    return bucket(await this.store.points(series.id, res, start - (start % res), end), start, period);
  }

  /** Every metric query's series, read in one batch before expressions refer to them. */
  private async fetchStats(
    scope: Scope,
    checked: Map<string, CheckedQuery>,
    win: { start: number; end: number },
    now: number,
  ): Promise<Map<string, Series>> {
    const stats = [...checked.values()].filter((q) => q.stat);
    const series = await readStatSeries(
      this.store,
      scope,
      stats.map((q) => q.stat!),
      win,
      now,
    );
    return new Map(stats.map((q, k) => [q.id, series[k]!]));
  }

  private mathSeries(
    q: CheckedQuery,
    resolve: (id: string) => Series,
    all: Map<string, CheckedQuery>,
    win: { start: number; end: number },
  ): Series {
    const period = q.period ?? [...all.values()].find((o) => o.stat)?.stat?.period ?? 60;
    const grid: number[] = [];
    for (let t = win.start - (win.start % period); t < win.end; t += period) grid.push(t);
    const value = evaluate(q.expression!, q.id, {
      resolve,
      metricIds: () => [...all.values()].filter((o) => o.stat).map((o) => o.id),
      grid: () => grid,
    });
    if (value.kind === "series") return value.s;
    if (value.kind === "scalar") return { ts: grid, vs: grid.map(() => value.v) };
    throw expressionError(
      q.id,
      "The expression must return a single time series; wrap an array in SUM, AVG, MIN or MAX",
    );
  }
}

interface CheckedQuery {
  id: string;
  label?: string;
  returnData: boolean;
  period?: number;
  expression?: string;
  stat?: StatQuery;
}

/** Every query well-formed: a valid unique id, exactly one of MetricStat and Expression. */
function checkQueries(queries: MetricDataQuery[]): Map<string, CheckedQuery> {
  const out = new Map<string, CheckedQuery>();
  queries.forEach((q, i) => {
    const at = `MetricDataQueries.member.${i + 1}`;
    const id = v.required(q.Id, `${at}.Id`);
    if (!/^[a-z][a-zA-Z0-9_]*$/.test(id) || id.length > 255)
      throw v.invalidValue(
        `The value ${id} for parameter ${at}.Id is not matching the expected pattern ^[a-z][a-zA-Z0-9_]*$.`,
      );
    if (out.has(id)) throw v.invalidValue(`The value ${id} for parameter ${at}.Id is not unique.`);
    if (!!q.MetricStat === !!q.Expression)
      throw v.invalidCombination(
        `Exactly one of the parameters ${at}.MetricStat and ${at}.Expression must be specified.`,
      );
    const base = { id, label: q.Label, returnData: q.ReturnData ?? true };
    if (q.Expression) {
      references(q.Expression, id);
      out.set(id, {
        ...base,
        expression: q.Expression,
        period: q.Period ? v.period(q.Period, `${at}.Period`) : undefined,
      });
      return;
    }
    const ms = q.MetricStat!;
    const metric = v.required(ms.Metric, `${at}.MetricStat.Metric`);
    out.set(id, {
      ...base,
      stat: {
        ns: v.namespace(metric.Namespace, `${at}.MetricStat.Metric.Namespace`),
        name: v.required(metric.MetricName, `${at}.MetricStat.Metric.MetricName`),
        dims: v.dimensions(metric.Dimensions, `${at}.MetricStat.Metric.Dimensions`),
        period: v.period(ms.Period, `${at}.MetricStat.Period`),
        stat: v.statisticName(ms.Stat, `${at}.MetricStat.Stat`),
      },
    });
  });
  if (![...out.values()].some((q) => q.returnData))
    throw v.invalidValue("At least one MetricDataQuery must have ReturnData set to true.");
  return out;
}

function aggregateOf(
  d: {
    Value?: number;
    StatisticValues?: { SampleCount?: number; Sum?: number; Minimum?: number; Maximum?: number };
    Values?: number[];
    Counts?: number[];
  },
  at: string,
): Aggregate {
  const given = [d.Value !== undefined, !!d.StatisticValues, !!d.Values?.length].filter(Boolean).length;
  if (given !== 1)
    throw v.invalidCombination(
      `The parameters ${at}.Value, ${at}.StatisticValues and ${at}.Values are mutually exclusive and one is required.`,
    );
  if (d.Value !== undefined) return single(v.metricValue(d.Value, `${at}.Value`));
  if (d.StatisticValues) {
    const s = d.StatisticValues;
    return {
      n: v.metricValue(
        v.required(s.SampleCount, `${at}.StatisticValues.SampleCount`),
        `${at}.StatisticValues.SampleCount`,
      ),
      sum: v.metricValue(v.required(s.Sum, `${at}.StatisticValues.Sum`), `${at}.StatisticValues.Sum`),
      min: v.metricValue(
        v.required(s.Minimum, `${at}.StatisticValues.Minimum`),
        `${at}.StatisticValues.Minimum`,
      ),
      max: v.metricValue(
        v.required(s.Maximum, `${at}.StatisticValues.Maximum`),
        `${at}.StatisticValues.Maximum`,
      ),
    };
  }
  const values = d.Values!;
  const counts = d.Counts ?? values.map(() => 1);
  if (values.length > 150)
    throw v.invalidValue(`The collection ${at}.Values must not have a size greater than 150.`);
  if (counts.length !== values.length)
    throw v.invalidCombination(`The parameters ${at}.Values and ${at}.Counts must be of the same size.`);
  return values
    .map((x, k) => ({ n: counts[k]!, sum: v.metricValue(x, `${at}.Values`) * counts[k]!, min: x, max: x }))
    .reduce(merge);
}

function encodeToken(offset: number): string {
  return Buffer.from(`privlink:${offset}`).toString("base64");
}

function decodeToken(token: string): number {
  const m = /^privlink:(\d+)$/.exec(Buffer.from(token, "base64").toString("utf8"));
  if (!m)
    throw new AwsError(
      "InvalidNextToken",
      "The service couldn't process your request because the NextToken is invalid.",
    );
  return Number(m[1]);
}
