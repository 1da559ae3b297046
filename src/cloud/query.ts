import { AwsError, invalidParameterValue } from "./errors.js";
import type { Tags } from "./types.js";

/** A Describe* filter as AWS defines them: values ORed within a filter, filters ANDed. */
export interface Filter {
  readonly name: string;
  readonly values: readonly string[];
}

export type FieldValue = string | number | boolean | undefined | null | readonly (string | undefined)[];

/** How each filter name reads an item. `tag:<key>` and `tag-key` come for free from `tags`. */
export type FilterFields<T> = Record<string, (item: T) => FieldValue>;

const wildcardCache = new Map<string, RegExp>();

/** EC2 filter values accept `*` and `?` wildcards; `\` escapes them. */
function matcher(value: string): (s: string) => boolean {
  if (!/[*?]/.test(value)) return (s) => s === value;
  let re = wildcardCache.get(value);
  if (!re) {
    let src = "";
    for (let i = 0; i < value.length; i++) {
      const c = value[i]!;
      if (c === "\\" && i + 1 < value.length) src += escapeRe(value[++i]!);
      else if (c === "*") src += ".*";
      else if (c === "?") src += ".";
      else src += escapeRe(c);
    }
    re = new RegExp(`^${src}$`, "s");
    if (wildcardCache.size > 10_000) wildcardCache.clear();
    wildcardCache.set(value, re);
  }
  const r = re;
  return (s) => r.test(s);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The code AWS answers for a filter name an action does not know. The classic EC2 Describes
 * (DescribeVpcs, DescribeInstances, …) say `InvalidParameterValue`; the VPC endpoint family
 * validates names against its documented list and says `InvalidFilter` (docs/api.md, sources).
 */
export type InvalidFilterCode = "InvalidParameterValue" | "InvalidFilter";

/** Compiles filters once; throws `invalidCode` for a filter name the action does not know. */
export function compileFilters<T>(
  filters: readonly Filter[] | undefined,
  fields: FilterFields<T>,
  tagsOf?: (item: T) => Tags,
  invalidCode: InvalidFilterCode = "InvalidParameterValue",
): (item: T) => boolean {
  if (!filters || filters.length === 0) return () => true;
  const tests = filters.map((f) => {
    if (!f.name) throw new AwsError(invalidCode, "The filter 'null' is invalid");
    const values = (f.values ?? []).map(matcher);
    const read = readerFor(f.name, fields, tagsOf, invalidCode);
    // Any of the item's strings (a list's defined members, a scalar as text) matches any value;
    // read without an array per item: a filter runs over every candidate of a Describe, and most
    // fields are one string, most filters one value.
    const one = values.length === 1 ? values[0]! : undefined;
    const matches = (s: string) => {
      if (one !== undefined) return one(s);
      for (let i = 0; i < values.length; i++) if (values[i]!(s)) return true;
      return false;
    };
    return (item: T) => {
      const v = read(item);
      if (typeof v === "string") return matches(v);
      if (v === undefined || v === null) return false;
      if (!Array.isArray(v)) return matches(String(v));
      for (let i = 0; i < v.length; i++) {
        const s = v[i];
        if (s !== undefined && matches(s)) return true;
      }
      return false;
    };
  });
  if (tests.length === 1) return tests[0]!;
  return (item) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i]!(item)) return false;
    return true;
  };
}

function readerFor<T>(
  name: string,
  fields: FilterFields<T>,
  tagsOf: ((item: T) => Tags) | undefined,
  invalidCode: InvalidFilterCode,
): (item: T) => FieldValue {
  if (tagsOf && name.startsWith("tag:")) {
    const key = name.slice(4);
    // Own tags only: a key such as `constructor` must not read Object's prototype.
    return (item) => {
      const tags = tagsOf(item);
      return Object.hasOwn(tags, key) ? tags[key] : undefined;
    };
  }
  if (tagsOf && name === "tag-key") return (item) => Object.keys(tagsOf(item));
  if (tagsOf && name === "tag-value") return (item) => Object.values(tagsOf(item));
  const read = Object.hasOwn(fields, name) ? fields[name] : undefined;
  if (!read) throw new AwsError(invalidCode, `The filter '${name}' is invalid`);
  return read;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextToken?: string;
}

export interface PageLimits {
  readonly min: number;
  readonly max: number;
}

/**
 * MaxResults/NextToken over an already filtered, stably ordered list. The token is an opaque
 * offset; a token that does not decode gives `InvalidNextToken` as AWS does.
 */
export function paginate<T>(
  items: readonly T[],
  maxResults: number | undefined,
  nextToken: string | undefined,
  limits: PageLimits = { min: 5, max: 1000 },
): Page<T> {
  let start = 0;
  if (nextToken !== undefined && nextToken !== "") {
    const m = /^p1\.(\d+)$/.exec(Buffer.from(nextToken, "base64url").toString("latin1"));
    if (!m) throw new AwsError("InvalidNextToken", `The token '${nextToken}' is invalid.`);
    start = Number(m[1]);
  }
  if (maxResults === undefined) return { items: items.slice(start) };
  if (maxResults < limits.min || !Number.isInteger(maxResults))
    throw invalidParameterValue(
      `Value ( ${maxResults} ) for parameter maxResults is invalid. Expecting a value greater than ${limits.min - 1}.`,
    );
  const n = Math.min(maxResults, limits.max);
  const end = start + n;
  return {
    items: items.slice(start, end),
    nextToken: end < items.length ? Buffer.from(`p1.${end}`, "latin1").toString("base64url") : undefined,
  };
}
