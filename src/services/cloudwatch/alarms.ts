import { AwsError } from "../../cloud/errors.js";
import type { CloudWatchMetrics, MetricDataQuery, Scope } from "./metrics.js";
import { statistic } from "./statistics.js";
import * as v from "./validate.js";

/**
 * Metric alarms: PutMetricAlarm, DescribeAlarms, DeleteAlarms and the state evaluation
 * CloudWatch runs every period (M of N datapoints breaching, TreatMissingData). Alarms live in
 * the metric store; states are re-evaluated on each publisher tick (on a shared store by the
 * one node that leads it: MetricStore.leads) and on DescribeAlarms (on whichever node answers).
 * A state change is written as a transition from the state it was computed from
 * (MetricStore.transitionAlarm), so two nodes that see the same change write it once, with one
 * StateTransitionedTimestamp.
 */

export type AlarmState = "OK" | "ALARM" | "INSUFFICIENT_DATA";

const OPERATORS: Record<string, { test: (x: number, t: number) => boolean; text: string }> = {
  GreaterThanOrEqualToThreshold: { test: (x, t) => x >= t, text: "greater than or equal to" },
  GreaterThanThreshold: { test: (x, t) => x > t, text: "greater than" },
  LessThanThreshold: { test: (x, t) => x < t, text: "less than" },
  LessThanOrEqualToThreshold: { test: (x, t) => x <= t, text: "less than or equal to" },
};
const MISSING = ["breaching", "notBreaching", "ignore", "missing"];

export interface Alarm {
  AlarmName: string;
  AlarmArn: string;
  AlarmDescription?: string;
  ActionsEnabled: boolean;
  OKActions: string[];
  AlarmActions: string[];
  InsufficientDataActions: string[];
  MetricName?: string;
  Namespace?: string;
  Statistic?: string;
  Dimensions: { Name: string; Value: string }[];
  Period?: number;
  Unit?: string;
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  Threshold: number;
  ComparisonOperator: string;
  TreatMissingData: string;
  Metrics?: MetricDataQuery[];
  StateValue: AlarmState;
  StateReason: string;
  StateReasonData?: string;
  StateUpdatedTimestamp: string;
  StateTransitionedTimestamp: string;
  AlarmConfigurationUpdatedTimestamp: string;
}

export class CloudWatchAlarms {
  constructor(
    private readonly metrics: CloudWatchMetrics,
    private readonly now: () => Date,
  ) {}

  async put(scope: Scope, input: Record<string, any>): Promise<void> {
    const name = v.required<string>(input.AlarmName, "AlarmName");
    if (name.length > 255) throw v.invalidValue("The parameter AlarmName must be at most 255 characters.");
    const evaluationPeriods = v.required<number>(input.EvaluationPeriods, "EvaluationPeriods");
    if (!Number.isInteger(evaluationPeriods) || evaluationPeriods < 1)
      throw v.invalidValue("The parameter EvaluationPeriods must be an integer of at least 1.");
    const op = v.required<string>(input.ComparisonOperator, "ComparisonOperator");
    if (!OPERATORS[op])
      throw v.invalidValue(
        `The value ${op} for parameter ComparisonOperator is not a valid comparison operator.`,
      );
    const treat = input.TreatMissingData ?? "missing";
    if (!MISSING.includes(treat))
      throw v.invalidValue(
        `The value ${treat} for parameter TreatMissingData is not valid. Valid values: ${MISSING.join(", ")}.`,
      );
    if (
      input.DatapointsToAlarm !== undefined &&
      (input.DatapointsToAlarm < 1 || input.DatapointsToAlarm > evaluationPeriods)
    )
      throw v.invalidValue("The parameter DatapointsToAlarm must be between 1 and EvaluationPeriods.");
    const threshold = v.required<number>(input.Threshold, "Threshold");
    if (input.Metrics?.length) {
      if (input.MetricName || input.Namespace || input.Statistic)
        throw v.invalidCombination(
          "The parameters MetricName, Namespace and Statistic cannot be used with Metrics.",
        );
      if ((input.Metrics as MetricDataQuery[]).filter((q) => q.ReturnData ?? true).length !== 1)
        throw v.invalidValue("Exactly one element of the Metrics list must have ReturnData set to true.");
    } else {
      v.namespace(input.Namespace);
      v.required(input.MetricName, "MetricName");
      v.statisticName(input.Statistic, "Statistic");
      v.period(input.Period, "Period");
      v.dimensions(input.Dimensions, "Dimensions");
    }
    const at = this.now().toISOString();
    const old = await this.find(scope, name);
    const alarm: Alarm = {
      AlarmName: name,
      AlarmArn: `arn:aws:cloudwatch:${scope.region}:${scope.accountId}:alarm:${name}`,
      AlarmDescription: input.AlarmDescription,
      ActionsEnabled: input.ActionsEnabled ?? true,
      OKActions: input.OKActions ?? [],
      AlarmActions: input.AlarmActions ?? [],
      InsufficientDataActions: input.InsufficientDataActions ?? [],
      MetricName: input.MetricName,
      Namespace: input.Namespace,
      Statistic: input.Statistic,
      Dimensions: input.Dimensions ?? [],
      Period: input.Period,
      Unit: input.Unit,
      EvaluationPeriods: evaluationPeriods,
      DatapointsToAlarm: input.DatapointsToAlarm,
      Threshold: threshold,
      ComparisonOperator: op,
      TreatMissingData: treat,
      Metrics: input.Metrics,
      StateValue: old?.StateValue ?? "INSUFFICIENT_DATA",
      StateReason: old?.StateReason ?? "Unchecked: Initial alarm creation",
      StateUpdatedTimestamp: old?.StateUpdatedTimestamp ?? at,
      StateTransitionedTimestamp: old?.StateTransitionedTimestamp ?? at,
      AlarmConfigurationUpdatedTimestamp: at,
    };
    await this.metrics.store.saveAlarm(scope.accountId, scope.region, name, alarm);
  }

  async describe(
    scope: Scope,
    input: {
      AlarmNames?: string[];
      AlarmNamePrefix?: string;
      StateValue?: string;
      MaxRecords?: number;
      NextToken?: string;
    },
  ): Promise<{ MetricAlarms: Record<string, unknown>[]; CompositeAlarms: []; NextToken?: string }> {
    if (input.AlarmNames?.length && input.AlarmNamePrefix)
      throw v.invalidCombination("The parameters AlarmNames and AlarmNamePrefix are mutually exclusive.");
    const max = input.MaxRecords ?? 50;
    if (max < 1 || max > 100) throw v.invalidValue("The parameter MaxRecords must be between 1 and 100.");
    await this.evaluateScope(scope);
    const list = (await this.list(scope)).filter(
      (a) =>
        (!input.AlarmNames?.length || input.AlarmNames.includes(a.AlarmName)) &&
        (!input.AlarmNamePrefix || a.AlarmName.startsWith(input.AlarmNamePrefix)) &&
        (!input.StateValue || a.StateValue === input.StateValue),
    );
    const offset = input.NextToken ? Number(input.NextToken) : 0;
    if (!Number.isInteger(offset) || offset < 0)
      throw new AwsError(
        "InvalidNextToken",
        "The service couldn't process your request because the NextToken is invalid.",
      );
    return {
      MetricAlarms: list.slice(offset, offset + max).map(wireAlarm),
      CompositeAlarms: [],
      NextToken: offset + max < list.length ? String(offset + max) : undefined,
    };
  }

  async delete(scope: Scope, names: string[] | undefined): Promise<void> {
    const list = v.required(names?.length ? names : undefined, "AlarmNames");
    const existing = new Set((await this.list(scope)).map((a) => a.AlarmName));
    const missing = list.filter((n) => !existing.has(n));
    if (missing.length) throw new AwsError("ResourceNotFound", `${missing.join(", ")} does not exist.`, 404);
    for (const n of list) await this.metrics.store.deleteAlarm(scope.accountId, scope.region, n);
  }

  /** Every alarm of every account: what the publisher's tick calls. */
  async evaluateAll(): Promise<void> {
    for (const scope of await this.metrics.store.allAlarmScopes()) await this.evaluateScope(scope);
  }

  private async evaluateScope(scope: Scope): Promise<void> {
    for (const a of await this.list(scope)) {
      const next = await this.evaluate(scope, a);
      if (next.StateValue !== a.StateValue)
        await this.metrics.store.transitionAlarm({ ...scope, name: a.AlarmName }, a.StateValue, next);
    }
  }

  private async list(scope: Scope): Promise<Alarm[]> {
    return (await this.metrics.store.alarms(scope.accountId, scope.region)) as Alarm[];
  }

  private async find(scope: Scope, name: string): Promise<Alarm | undefined> {
    return (await this.list(scope)).find((a) => a.AlarmName === name);
  }

  /** The alarm's state from the last EvaluationPeriods complete periods. */
  async evaluate(scope: Scope, a: Alarm): Promise<Alarm> {
    const nowSec = Math.floor(this.now().getTime() / 1000);
    const period = a.Period ?? a.Metrics?.find((q) => q.MetricStat)?.MetricStat?.Period ?? 60;
    const end = nowSec - (nowSec % period);
    const start = end - a.EvaluationPeriods * period;
    const values = await this.values(scope, a, start, end, period, nowSec);
    const op = OPERATORS[a.ComparisonOperator]!;
    const m = a.DatapointsToAlarm ?? a.EvaluationPeriods;
    const present = [...values.values()];
    const missing = a.EvaluationPeriods - present.length;
    let breaching = present.filter((x) => op.test(x, a.Threshold)).length;
    if (a.TreatMissingData === "breaching") breaching += missing;
    let state: AlarmState;
    if (present.length === 0 && (a.TreatMissingData === "missing" || a.TreatMissingData === "ignore"))
      state = a.TreatMissingData === "ignore" ? a.StateValue : "INSUFFICIENT_DATA";
    else state = breaching >= m ? "ALARM" : "OK";
    if (state === a.StateValue) return a;
    const at = this.now().toISOString();
    const shown = [...values].map(([t, x]) => `${x} (${new Date(t * 1000).toISOString()})`).join(", ");
    const reason =
      state === "INSUFFICIENT_DATA"
        ? `Insufficient Data: ${a.EvaluationPeriods} datapoints were unknown.`
        : `Threshold Crossed: ${present.length} datapoint${present.length === 1 ? "" : "s"} [${shown}] ${state === "ALARM" ? "was" : "was not"} ${op.text} the threshold (${a.Threshold}).`;
    return {
      ...a,
      StateValue: state,
      StateReason: reason,
      StateUpdatedTimestamp: at,
      StateTransitionedTimestamp: at,
    };
  }

  private async values(
    scope: Scope,
    a: Alarm,
    start: number,
    end: number,
    period: number,
    now: number,
  ): Promise<Map<number, number>> {
    if (a.Metrics?.length) {
      const out = await this.metrics.getMetricData(scope, {
        MetricDataQueries: a.Metrics,
        StartTime: new Date(start * 1000),
        EndTime: new Date(end * 1000),
        ScanBy: "TimestampAscending",
      });
      const r = out.MetricDataResults[0];
      return new Map((r?.Timestamps ?? []).map((t, k) => [t.getTime() / 1000, r!.Values[k]!]));
    }
    const series = await this.metrics.exact(
      scope,
      a.Namespace!,
      a.MetricName!,
      a.Dimensions.map((d) => ({ name: d.Name, value: d.Value })),
    );
    if (!series) return new Map();
    const buckets = await this.metrics.read(series, start, end, period, now);
    return new Map([...buckets].map(([t, agg]) => [t, statistic(agg, a.Statistic as never)]));
  }
}

/** Stored timestamps are ISO text; the wire wants dates. */
function wireAlarm(a: Alarm): Record<string, unknown> {
  return {
    ...a,
    StateUpdatedTimestamp: new Date(a.StateUpdatedTimestamp),
    StateTransitionedTimestamp: new Date(a.StateTransitionedTimestamp),
    AlarmConfigurationUpdatedTimestamp: new Date(a.AlarmConfigurationUpdatedTimestamp),
  };
}
