import { AwsError } from "../../cloud/errors.js";

/**
 * GetMetricData's metric math, the simple part: numbers, query ids, + - * /, parentheses,
 * and SUM, AVG, MIN, MAX, ABS, RATE, FILL, METRICS(). Pure: series in, series out.
 * As in CloudWatch, SUM/AVG/MIN/MAX of an array of series is a series (point by point) and of
 * one series is a scalar; arithmetic between series keeps the timestamps both have.
 */

export interface Series {
  /** Epoch seconds, ascending. */
  readonly ts: readonly number[];
  readonly vs: readonly number[];
}

export type Value =
  | { readonly kind: "scalar"; readonly v: number }
  | { readonly kind: "series"; readonly s: Series }
  | { readonly kind: "array"; readonly items: readonly Series[] };

/** What an expression can see: other queries' results by id, and the time grid. */
export interface MathContext {
  resolve(id: string): Series;
  /** Ids of every MetricStat query, in request order (METRICS()). */
  metricIds(): readonly string[];
  /** Every period start in the window (FILL). */
  grid(): readonly number[];
}

type Node =
  | { t: "num"; v: number }
  | { t: "str"; v: string }
  | { t: "id"; v: string }
  | { t: "neg"; a: Node }
  | { t: "bin"; op: string; a: Node; b: Node }
  | { t: "call"; f: string; args: Node[] };

export function expressionError(id: string, why: string): AwsError {
  return new AwsError("ValidationError", `Error in expression '${id}': ${why}`);
}

/** Query ids the expression refers to (to order evaluation and detect cycles). */
export function references(text: string, id: string): string[] {
  const out: string[] = [];
  const walk = (n: Node) => {
    if (n.t === "id") out.push(n.v);
    else if (n.t === "neg") walk(n.a);
    else if (n.t === "bin") {
      walk(n.a);
      walk(n.b);
    } else if (n.t === "call") n.args.forEach(walk);
  };
  walk(parse(text, id));
  return out;
}

export function parse(text: string, id: string): Node {
  const tokens = tokenize(text, id);
  let i = 0;
  const peek = () => tokens[i];
  const take = (want?: string) => {
    const tok = tokens[i++];
    if (tok === undefined) throw expressionError(id, "Unexpected end of expression");
    if (want !== undefined && tok !== want)
      throw expressionError(id, `Expected '${want}' but found '${tok}'`);
    return tok;
  };
  const primary = (): Node => {
    const tok = take();
    if (tok === "(") {
      const e = expr();
      take(")");
      return e;
    }
    if (tok === "-") return { t: "neg", a: primary() };
    if (/^[0-9.]/.test(tok)) return { t: "num", v: Number(tok) };
    if (tok.startsWith('"')) return { t: "str", v: tok.slice(1, -1) };
    if (/^[A-Za-z_]/.test(tok)) {
      if (peek() !== "(") return { t: "id", v: tok };
      take("(");
      const args: Node[] = [];
      if (peek() !== ")") {
        args.push(expr());
        while (peek() === ",") {
          take(",");
          args.push(expr());
        }
      }
      take(")");
      return { t: "call", f: tok.toUpperCase(), args };
    }
    throw expressionError(id, `Unrecognized token '${tok}'`);
  };
  const term = (): Node => {
    let a = primary();
    while (peek() === "*" || peek() === "/") a = { t: "bin", op: take(), a, b: primary() };
    return a;
  };
  const expr = (): Node => {
    let a = term();
    while (peek() === "+" || peek() === "-") a = { t: "bin", op: take(), a, b: term() };
    return a;
  };
  const root = expr();
  if (i < tokens.length) throw expressionError(id, `Unrecognized token '${tokens[i]}'`);
  return root;
}

function tokenize(text: string, id: string): string[] {
  const out: string[] = [];
  const re =
    /\s*(?:([0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)|([A-Za-z_][A-Za-z0-9_]*)|("[^"]*")|([-+*/(),]))/y;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw expressionError(id, `Unrecognized token '${text.slice(pos).trim().slice(0, 20)}'`);
    out.push(m[1] ?? m[2] ?? m[3] ?? m[4]!);
    pos = re.lastIndex;
  }
  if (out.length === 0) throw expressionError(id, "Empty expression");
  return out;
}

export function evaluate(text: string, id: string, ctx: MathContext): Value {
  const ev = (n: Node): Value => {
    switch (n.t) {
      case "num":
        return { kind: "scalar", v: n.v };
      case "str":
        throw expressionError(id, `A string is only allowed as the argument of METRICS()`);
      case "id":
        return { kind: "series", s: ctx.resolve(n.v) };
      case "neg":
        return arith("*", { kind: "scalar", v: -1 }, ev(n.a), id);
      case "bin":
        return arith(n.op, ev(n.a), ev(n.b), id);
      case "call":
        return call(n, ev, ctx, id);
    }
  };
  return ev(parse(text, id));
}

function call(n: Extract<Node, { t: "call" }>, ev: (n: Node) => Value, ctx: MathContext, id: string): Value {
  if (n.f === "METRICS") {
    const prefix = n.args[0]?.t === "str" ? n.args[0].v : "";
    return {
      kind: "array",
      items: ctx
        .metricIds()
        .filter((m) => m.startsWith(prefix))
        .map((m) => ctx.resolve(m)),
    };
  }
  const args = n.args.map(ev);
  const arity = (k: number) => {
    if (args.length !== k) throw expressionError(id, `${n.f} takes ${k} argument(s), not ${args.length}`);
  };
  switch (n.f) {
    case "SUM":
    case "AVG":
    case "MIN":
    case "MAX": {
      arity(1);
      const reduce = REDUCERS[n.f];
      const a = args[0]!;
      if (a.kind === "scalar") return a;
      if (a.kind === "series") return { kind: "scalar", v: a.s.vs.length ? reduce(a.s.vs) : Number.NaN };
      return { kind: "series", s: pointwise(a.items, reduce) };
    }
    case "ABS":
      arity(1);
      return map(args[0]!, Math.abs);
    case "RATE": {
      arity(1);
      const a = args[0]!;
      if (a.kind !== "series") throw expressionError(id, "RATE takes a time series");
      const ts: number[] = [];
      const vs: number[] = [];
      for (let k = 1; k < a.s.ts.length; k++) {
        ts.push(a.s.ts[k]!);
        vs.push((a.s.vs[k]! - a.s.vs[k - 1]!) / (a.s.ts[k]! - a.s.ts[k - 1]!));
      }
      return { kind: "series", s: { ts, vs } };
    }
    case "FILL": {
      arity(2);
      const [a, b] = args as [Value, Value];
      if (a.kind !== "series" || b.kind !== "scalar")
        throw expressionError(id, "FILL takes a time series and a number");
      const have = new Map(a.s.ts.map((t, k) => [t, a.s.vs[k]!]));
      const grid = ctx.grid();
      return { kind: "series", s: { ts: [...grid], vs: grid.map((t) => have.get(t) ?? b.v) } };
    }
    default:
      throw expressionError(id, `Unknown function ${n.f}`);
  }
}

const REDUCERS: Record<string, (vs: readonly number[]) => number> = {
  SUM: (vs) => vs.reduce((a, b) => a + b, 0),
  AVG: (vs) => vs.reduce((a, b) => a + b, 0) / vs.length,
  MIN: (vs) => Math.min(...vs),
  MAX: (vs) => Math.max(...vs),
};

/** Reduces an array of series at every timestamp any of them has. */
function pointwise(items: readonly Series[], reduce: (vs: readonly number[]) => number): Series {
  const at = new Map<number, number[]>();
  for (const s of items)
    s.ts.forEach((t, k) => {
      const list = at.get(t) ?? [];
      list.push(s.vs[k]!);
      at.set(t, list);
    });
  const ts = [...at.keys()].sort((a, b) => a - b);
  return { ts, vs: ts.map((t) => reduce(at.get(t)!)) };
}

function map(v: Value, f: (x: number) => number): Value {
  if (v.kind === "scalar") return { kind: "scalar", v: f(v.v) };
  if (v.kind === "series") return { kind: "series", s: { ts: v.s.ts, vs: v.s.vs.map(f) } };
  return { kind: "array", items: v.items.map((s) => ({ ts: s.ts, vs: s.vs.map(f) })) };
}

const OPS: Record<string, (a: number, b: number) => number> = {
  "+": (a, b) => a + b,
  "-": (a, b) => a - b,
  "*": (a, b) => a * b,
  "/": (a, b) => a / b,
};

function arith(op: string, a: Value, b: Value, id: string): Value {
  const f = OPS[op]!;
  if (a.kind === "scalar" && b.kind === "scalar") return { kind: "scalar", v: f(a.v, b.v) };
  if (a.kind === "scalar") return map(b, (x) => f(a.v, x));
  if (b.kind === "scalar") return map(a, (x) => f(x, b.v));
  if (a.kind === "series" && b.kind === "series") return { kind: "series", s: join(a.s, b.s, f) };
  if (a.kind === "array" && b.kind === "series")
    return { kind: "array", items: a.items.map((s) => join(s, b.s, f)) };
  if (a.kind === "series" && b.kind === "array")
    return { kind: "array", items: b.items.map((s) => join(a.s, s, f)) };
  throw expressionError(id, "Arithmetic between two arrays of time series is not supported");
}

function join(a: Series, b: Series, f: (x: number, y: number) => number): Series {
  const other = new Map(b.ts.map((t, k) => [t, b.vs[k]!]));
  const ts: number[] = [];
  const vs: number[] = [];
  a.ts.forEach((t, k) => {
    const y = other.get(t);
    if (y === undefined) return;
    ts.push(t);
    vs.push(f(a.vs[k]!, y));
  });
  return { ts, vs };
}
