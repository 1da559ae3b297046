import { AwsError } from "../../cloud/errors.js";
import { STATISTICS, type Statistic } from "./statistics.js";

/** CloudWatch's input checks, with its error codes and message shapes (awsQuery codes). */

export const invalidValue = (message: string) => new AwsError("InvalidParameterValue", message);
export const invalidCombination = (message: string) => new AwsError("InvalidParameterCombination", message);

export function required<T>(value: T | undefined | null, name: string): T {
  if (value === undefined || value === null || value === "")
    throw new AwsError("MissingParameter", `The parameter ${name} is required.`);
  return value;
}

export function toSeconds(d: Date | undefined, name: string): number {
  const t = required(d, name);
  const ms = t instanceof Date ? t.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw invalidValue(`The parameter ${name} must be a valid timestamp.`);
  return Math.floor(ms / 1000);
}

/** StartTime before EndTime, as every CloudWatch read requires. */
export function window(start: Date | undefined, end: Date | undefined): { start: number; end: number } {
  const s = toSeconds(start, "StartTime");
  const e = toSeconds(end, "EndTime");
  if (s >= e) throw invalidValue("The parameter StartTime must be less than the parameter EndTime.");
  return { start: s, end: e };
}

/** Periods are 60 s multiples; 1, 5, 10, 20 and 30 are high-resolution periods privlink stores at 60 s. */
export function period(value: number | undefined, name: string): number {
  const p = required(value, name);
  if (!Number.isInteger(p) || p <= 0 || (p % 60 !== 0 && ![1, 5, 10, 20, 30].includes(p)))
    throw invalidValue(`The parameter ${name} must be a multiple of 60.`);
  return Math.max(p, 60);
}

export function statisticName(value: string | undefined, name: string): Statistic {
  const s = required(value, name);
  if (!(STATISTICS as readonly string[]).includes(s))
    throw invalidValue(
      `The value ${s} for parameter ${name} is not a valid statistic. Valid statistics are ${STATISTICS.join(", ")}.`,
    );
  return s as Statistic;
}

export function namespace(value: string | undefined, name = "Namespace"): string {
  const ns = required(value, name);
  if (ns.length > 255 || ns.startsWith(":"))
    throw invalidValue(`The parameter ${name} must be 1 to 255 characters and must not start with ':'.`);
  return ns;
}

export function dimensions(
  dims: { Name?: string; Value?: string }[] | undefined,
  at: string,
  valueRequired = true,
): { name: string; value: string }[] {
  const list = dims ?? [];
  if (list.length > 30) throw invalidValue(`The collection ${at} must not have a size greater than 30.`);
  const seen = new Set<string>();
  return list.map((d, i) => {
    const name = required(d.Name, `${at}.member.${i + 1}.Name`);
    if (name.length > 255)
      throw invalidValue(`The parameter ${at}.member.${i + 1}.Name must be at most 255 characters.`);
    if (seen.has(name)) throw invalidCombination(`No metric may have duplicate dimension names: ${name}`);
    seen.add(name);
    const value = valueRequired ? required(d.Value, `${at}.member.${i + 1}.Value`) : (d.Value ?? "");
    if (value.length > 1024)
      throw invalidValue(`The parameter ${at}.member.${i + 1}.Value must be at most 1024 characters.`);
    return { name, value };
  });
}

/** A value CloudWatch accepts: finite, within ±2^360. */
export function metricValue(v: number, at: string): number {
  if (!Number.isFinite(v) || Math.abs(v) > 2 ** 360)
    throw invalidValue(
      `The value ${v} for parameter ${at} is invalid: values must be finite numbers within ±2^360.`,
    );
  return v;
}
