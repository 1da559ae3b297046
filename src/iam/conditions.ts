import { Address4, Address6 } from "ip-address";
import { invalidPolicy } from "./errors.js";
import { arnColons, arnMatch, compileGlob, globMatch } from "./glob.js";
import { isStatic, parseTemplate, resolveTemplate, type Template, type VariableSource } from "./template.js";
import {
  type ContextScalar,
  type ContextValue,
  canonicalBase64,
  parseBool,
  parseDate,
  parseNumber,
  scalarToBool,
  scalarToDate,
  scalarToNumber,
  scalarToString,
} from "./values.js";

/** `Condition` as parsed: operator → context key → values (JSON scalars become strings). */
export type ConditionBlock = Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;

export type OperatorFamily = "String" | "Numeric" | "Date" | "Bool" | "Binary" | "IpAddress" | "Arn" | "Null";

export interface Operator {
  readonly name: string;
  readonly family: OperatorFamily;
  /** The positive test, e.g. `StringEquals` for `StringNotEquals`. */
  readonly base: string;
  readonly negated: boolean;
  readonly ifExists: boolean;
  readonly set: "none" | "ForAllValues" | "ForAnyValue";
}

/** Lower-case operator name → [family, positive base, negated]. */
const OPERATORS = new Map<string, [OperatorFamily, string, boolean]>([
  ["stringequals", ["String", "StringEquals", false]],
  ["stringnotequals", ["String", "StringEquals", true]],
  ["stringequalsignorecase", ["String", "StringEqualsIgnoreCase", false]],
  ["stringnotequalsignorecase", ["String", "StringEqualsIgnoreCase", true]],
  ["stringlike", ["String", "StringLike", false]],
  ["stringnotlike", ["String", "StringLike", true]],
  ["numericequals", ["Numeric", "NumericEquals", false]],
  ["numericnotequals", ["Numeric", "NumericEquals", true]],
  ["numericlessthan", ["Numeric", "NumericLessThan", false]],
  ["numericlessthanequals", ["Numeric", "NumericLessThanEquals", false]],
  ["numericgreaterthan", ["Numeric", "NumericGreaterThan", false]],
  ["numericgreaterthanequals", ["Numeric", "NumericGreaterThanEquals", false]],
  ["dateequals", ["Date", "DateEquals", false]],
  ["datenotequals", ["Date", "DateEquals", true]],
  ["datelessthan", ["Date", "DateLessThan", false]],
  ["datelessthanequals", ["Date", "DateLessThanEquals", false]],
  ["dategreaterthan", ["Date", "DateGreaterThan", false]],
  ["dategreaterthanequals", ["Date", "DateGreaterThanEquals", false]],
  ["bool", ["Bool", "Bool", false]],
  ["binaryequals", ["Binary", "BinaryEquals", false]],
  ["ipaddress", ["IpAddress", "IpAddress", false]],
  ["notipaddress", ["IpAddress", "IpAddress", true]],
  ["arnequals", ["Arn", "ArnLike", false]],
  ["arnlike", ["Arn", "ArnLike", false]],
  ["arnnotequals", ["Arn", "ArnLike", true]],
  ["arnnotlike", ["Arn", "ArnLike", true]],
  ["null", ["Null", "Null", false]],
]);

export function parseOperator(name: string): Operator {
  let rest = name;
  let set: Operator["set"] = "none";
  const colon = rest.indexOf(":");
  if (colon >= 0) {
    const qualifier = rest.slice(0, colon).toLowerCase();
    if (qualifier === "forallvalues") set = "ForAllValues";
    else if (qualifier === "foranyvalue") set = "ForAnyValue";
    else throw invalidPolicy(`Invalid condition set operator "${rest.slice(0, colon)}" in "${name}"`);
    rest = rest.slice(colon + 1);
  }
  const ifExists = rest.toLowerCase().endsWith("ifexists");
  if (ifExists) rest = rest.slice(0, -"IfExists".length);
  const known = OPERATORS.get(rest.toLowerCase());
  if (known === undefined) throw invalidPolicy(`Invalid condition operator "${name}"`);
  const [family, base, negated] = known;
  if (family === "Null" && (ifExists || set !== "none")) {
    throw invalidPolicy(`Invalid condition operator "${name}": Null takes no IfExists or set operator`);
  }
  return { name, family, base, negated, ifExists, set };
}

/** What a condition reads at evaluation time. */
export interface ConditionEnv extends VariableSource {
  /** A context value by key as written in the policy and lower-cased (keys are case-insensitive). */
  value(key: string, lowerKey: string): ContextValue;
}

export type CompiledCondition = (env: ConditionEnv) => boolean;

/** True when a context value matches at least one policy value (values are ORed). */
type ValueTest = (v: ContextScalar, env: ConditionEnv) => boolean;

/** One compiled test per (operator, key); a statement applies when all of them hold. */
export function compileConditions(block: ConditionBlock, variables: boolean): CompiledCondition[] {
  const out: CompiledCondition[] = [];
  for (const [name, keys] of Object.entries(block)) {
    const op = parseOperator(name);
    for (const [key, values] of Object.entries(keys)) {
      const lowerKey = key.toLowerCase();
      out.push(
        op.family === "Null"
          ? nullCondition(lowerKey, values)
          : keyCondition(lowerKey, op, valueTest(op, values, variables)),
      );
    }
  }
  return out;
}

/**
 * The documented semantics for a missing key and for sets:
 * - a missing key fails a positive operator and satisfies a negated one; `…IfExists` turns a
 *   missing key into a match;
 * - negated operators are NOR over the policy values;
 * - `ForAllValues` holds when every request value matches (vacuously when there are none),
 *   `ForAnyValue` when at least one does (never when there are none);
 * - a multivalued key without a set operator is read as "any value matches" (AWS says such
 *   keys require a set operator, and does not document this case).
 */
function keyCondition(key: string, op: Operator, test: ValueTest): CompiledCondition {
  const { negated, ifExists, set } = op;
  const lowerKey = key.toLowerCase();
  return (env) => {
    const raw = env.value(key, lowerKey);
    if (set === "none") {
      if (raw === undefined || (Array.isArray(raw) && raw.length === 0)) return ifExists || negated;
      return (Array.isArray(raw) ? anyValue(raw, test, env) : test(raw, env)) !== negated;
    }
    const values: readonly ContextScalar[] = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    // "If the key values in the request resolve to an empty data set (for example, an empty string)…"
    if (values.length === 0 || (values.length === 1 && values[0] === ""))
      return set === "ForAllValues" || ifExists;
    const each = (v: ContextScalar) => test(v, env) !== negated;
    return set === "ForAllValues" ? values.every(each) : values.some(each);
  };
}

function anyValue(values: readonly ContextScalar[], test: ValueTest, env: ConditionEnv): boolean {
  for (const v of values) if (test(v, env)) return true;
  return false;
}

function nullCondition(key: string, values: readonly string[]): CompiledCondition {
  const wanted = values.map((v) => {
    const b = parseBool(v);
    if (b === undefined)
      throw invalidPolicy(`Null condition on "${key}" takes "true" or "false", not "${v}"`);
    return b;
  });
  const lowerKey = key.toLowerCase();
  return (env) => {
    const raw = env.value(key, lowerKey);
    const absent = raw === undefined || (Array.isArray(raw) && raw.length === 0);
    return wanted.includes(absent);
  };
}

function valueTest(op: Operator, values: readonly string[], variables: boolean): ValueTest {
  switch (op.base) {
    case "StringEquals":
      return stringEquals(values, variables, false);
    case "StringEqualsIgnoreCase":
      return stringEquals(values, variables, true);
    case "StringLike":
      return stringLike(values, variables);
    case "ArnLike":
      return arnLike(values, variables);
    case "Bool":
      return boolTest(op, values);
    case "BinaryEquals":
      return binaryTest(op, values);
    case "IpAddress":
      return ipTest(op, values);
    default:
      return op.family === "Numeric"
        ? orderedTest(op, values, parseNumber, scalarToNumber)
        : orderedTest(op, values, parseDate, scalarToDate);
  }
}

function templates(values: readonly string[], variables: boolean): Template[] {
  return values.map((v) => parseTemplate(v, variables));
}

function stringEquals(values: readonly string[], variables: boolean, ignoreCase: boolean): ValueTest {
  const fold = ignoreCase ? (s: string) => s.toLowerCase() : (s: string) => s;
  const ts = templates(values, variables);
  if (ts.every(isStatic)) {
    const set = new Set(values.map(fold));
    return (v) => set.has(fold(scalarToString(v)));
  }
  return (v, env) => {
    const s = fold(scalarToString(v));
    return ts.some((t) => {
      const p = resolveTemplate(t, env);
      return p !== undefined && fold(p.text) === s;
    });
  };
}

function stringLike(values: readonly string[], variables: boolean): ValueTest {
  const ts = templates(values, variables);
  if (ts.every(isStatic)) {
    const globs = values.map(compileGlob);
    return (v) => {
      const s = scalarToString(v);
      for (const g of globs) if (g(s)) return true;
      return false;
    };
  }
  return (v, env) => {
    const s = scalarToString(v);
    return ts.some((t) => {
      const p = resolveTemplate(t, env);
      return p !== undefined && globMatch(p, s);
    });
  };
}

function arnLike(values: readonly string[], variables: boolean): ValueTest {
  const ts = templates(values, variables);
  const statics = ts.map((t) =>
    isStatic(t) ? { pattern: { text: t.raw }, colons: arnColons(t.raw) } : undefined,
  );
  return (v, env) => {
    const s = scalarToString(v);
    const sColons = arnColons(s);
    return ts.some((t, i) => {
      const compiled = statics[i];
      if (compiled !== undefined) return arnMatch(compiled.pattern, compiled.colons, s, sColons);
      const p = resolveTemplate(t, env);
      return p !== undefined && arnMatch(p, arnColons(p.text), s, sColons);
    });
  };
}

function boolTest(op: Operator, values: readonly string[]): ValueTest {
  const wanted = values.map((v) => {
    const b = parseBool(v);
    if (b === undefined) throw invalidPolicy(`${op.name} takes "true" or "false", not "${v}"`);
    return b;
  });
  return (v) => {
    const b = scalarToBool(v);
    return b !== undefined && wanted.includes(b);
  };
}

function binaryTest(op: Operator, values: readonly string[]): ValueTest {
  const wanted = new Set(
    values.map((v) => {
      const b = canonicalBase64(v);
      if (b === undefined) throw invalidPolicy(`${op.name} takes base64 values, not "${v}"`);
      return b;
    }),
  );
  return (v) => {
    const b = typeof v === "string" ? canonicalBase64(v) : undefined;
    return b !== undefined && wanted.has(b);
  };
}

type Compare = (a: number, b: number) => boolean;
const COMPARE: Record<string, Compare> = {
  Equals: (a, b) => a === b,
  LessThan: (a, b) => a < b,
  LessThanEquals: (a, b) => a <= b,
  GreaterThan: (a, b) => a > b,
  GreaterThanEquals: (a, b) => a >= b,
};

/** Numeric and Date operators: the context value on the left, the policy value on the right. */
function orderedTest(
  op: Operator,
  values: readonly string[],
  parse: (s: string) => number | undefined,
  fromContext: (v: ContextScalar) => number | undefined,
): ValueTest {
  const compare = COMPARE[op.base.slice(op.family.length)]!;
  const wanted = values.map((v) => {
    const n = parse(v);
    if (n === undefined) throw invalidPolicy(`${op.name} cannot compare with "${v}"`);
    return n;
  });
  return (v) => {
    const n = fromContext(v);
    if (n === undefined) return false;
    for (const w of wanted) if (compare(n, w)) return true;
    return false;
  };
}

interface IpRange {
  readonly v6: boolean;
  readonly start: bigint;
  readonly end: bigint;
}

function ipTest(op: Operator, values: readonly string[]): ValueTest {
  const ranges = values.map((v) => {
    const r = parseCidr(v);
    if (r === undefined) throw invalidPolicy(`${op.name} takes an IP address or CIDR block, not "${v}"`);
    return r;
  });
  return (v) => {
    const ip = typeof v === "string" ? parseIp(v) : undefined;
    if (ip === undefined) return false;
    for (const r of ranges) if (r.v6 === ip.v6 && ip.n >= r.start && ip.n <= r.end) return true;
    return false;
  };
}

/** A range from CIDR notation; a bare address is a /32 (or /128). */
export function parseCidr(s: string): IpRange | undefined {
  const t = s.trim();
  try {
    if (Address4.isValid(t)) {
      const a = new Address4(t);
      return { v6: false, start: a._startAddress(), end: a._endAddress() };
    }
    if (Address6.isValid(t)) {
      const a = new Address6(t);
      return { v6: true, start: a._startAddress(), end: a._endAddress() };
    }
  } catch {
    return undefined;
  }
  return undefined;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** A request address; IPv4-mapped IPv6 addresses count as IPv4. */
export function parseIp(s: string): { v6: boolean; n: bigint } | undefined {
  const m = IPV4.exec(s);
  if (m !== null) {
    const octets = m.slice(1).map(Number);
    if (octets.some((o) => o > 255)) return undefined;
    return {
      v6: false,
      n: BigInt(((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!),
    };
  }
  if (!s.includes(":") || s.includes("/") || !Address6.isValid(s)) return undefined;
  const a = new Address6(s);
  if (a.is4()) return parseIp(a.to4().correctForm());
  return { v6: true, n: a.bigInt() };
}
