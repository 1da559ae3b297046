/**
 * CloudWatch Logs filter patterns, compiled to a predicate over an event's message.
 *
 * Supported: the empty pattern (everything); terms (substring, case-sensitive), `"quoted
 * phrases"`, terms ANDed by spaces, `?term` alternatives (ORed), `-term` exclusions, `%regex%`;
 * JSON patterns `{ $.a.b[0] = "x" && ($.n > 3 || $.s != x*) }` with = != < > <= >=, `*`
 * wildcards in string values, `IS NULL`, `IS TRUE`, `IS FALSE`, `NOT EXISTS`. Space-delimited
 * patterns (`[ip, user, …]`) are refused with InvalidParameterException.
 */
import { invalidParameter } from "./rules.js";

export type Matcher = (message: string) => boolean;

const MAX_PATTERN = 1024;

export function compileFilterPattern(pattern: string | undefined): Matcher {
  const text = (pattern ?? "").trim();
  if (text.length > MAX_PATTERN)
    throw invalidParameter(
      `1 validation error detected: Value at 'filterPattern' failed to satisfy constraint: Member must have length less than or equal to ${MAX_PATTERN}`,
    );
  if (text === "") return () => true;
  if (text.startsWith("{")) return compileJson(text);
  if (text.startsWith("["))
    throw invalidParameter("privlink does not implement space-delimited filter patterns ([...]).");
  return compileTerms(text);
}

// ---- terms --------------------------------------------------------------------------------

interface Term {
  readonly kind: "and" | "or" | "not";
  readonly test: Matcher;
}

function compileTerms(text: string): Matcher {
  const terms: Term[] = [];
  const re = /\s*([?-]?)(?:"((?:[^"\\]|\\.)*)"|%([^%]+)%|(\S+))/gy;
  let end = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    end = re.lastIndex;
    const kind = m[1] === "?" ? "or" : m[1] === "-" ? "not" : "and";
    terms.push({ kind, test: termTest(m[2], m[3], m[4]) });
  }
  if (text.slice(end).trim() !== "" || terms.length === 0) throw invalidFilter(text);
  const and = terms.filter((t) => t.kind === "and");
  const or = terms.filter((t) => t.kind === "or");
  const not = terms.filter((t) => t.kind === "not");
  return (msg) =>
    and.every((t) => t.test(msg)) &&
    (or.length === 0 || or.some((t) => t.test(msg))) &&
    !not.some((t) => t.test(msg));
}

function termTest(quoted: string | undefined, regex: string | undefined, bare: string | undefined): Matcher {
  if (regex !== undefined) {
    let r: RegExp;
    try {
      r = new RegExp(regex);
    } catch {
      throw invalidFilter(`%${regex}%`);
    }
    return (msg) => r.test(msg);
  }
  const needle = quoted !== undefined ? quoted.replace(/\\(.)/g, "$1") : bare!;
  return (msg) => msg.includes(needle);
}

function invalidFilter(text: string) {
  return invalidParameter(`Invalid filter pattern: ${text}`);
}

// ---- JSON ---------------------------------------------------------------------------------

type Node = (doc: unknown) => boolean;

const TOKEN =
  /\s*(?:(\|\||&&|!=|<=|>=|=|<|>|\(|\)|\{|\})|(\$(?:\.[A-Za-z0-9_@$-]+|\[\d+\])*)|"((?:[^"\\]|\\.)*)"|([^\s()&|=!<>{}"]+))/y;

interface Tok {
  readonly op?: string;
  readonly selector?: string;
  readonly str?: string;
  readonly word?: string;
}

function tokenize(text: string): Tok[] {
  const toks: Tok[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    if (!m) throw invalidFilter(text);
    pos = TOKEN.lastIndex;
    if (m[1] !== undefined) toks.push({ op: m[1] });
    else if (m[2] !== undefined) toks.push({ selector: m[2] });
    else if (m[3] !== undefined) toks.push({ str: m[3].replace(/\\(.)/g, "$1") });
    else toks.push({ word: m[4] });
  }
  return toks;
}

function compileJson(text: string): Matcher {
  const toks = tokenize(text);
  let i = 0;
  const peek = () => toks[i];
  const take = () => {
    const t = toks[i++];
    if (!t) throw invalidFilter(text);
    return t;
  };
  const expectOp = (op: string) => {
    if (take().op !== op) throw invalidFilter(text);
  };
  const parseOr = (): Node => {
    const parts = [parseAnd()];
    while (peek()?.op === "||") {
      i++;
      parts.push(parseAnd());
    }
    return parts.length === 1 ? parts[0]! : (d) => parts.some((p) => p(d));
  };
  const parseAnd = (): Node => {
    const parts = [parseUnary()];
    while (peek()?.op === "&&") {
      i++;
      parts.push(parseUnary());
    }
    return parts.length === 1 ? parts[0]! : (d) => parts.every((p) => p(d));
  };
  const parseUnary = (): Node => {
    if (peek()?.op === "(") {
      i++;
      const inner = parseOr();
      expectOp(")");
      return inner;
    }
    return parseComparison();
  };
  const parseComparison = (): Node => {
    const sel = take().selector;
    if (sel === undefined) throw invalidFilter(text);
    const path = selectorPath(sel);
    const next = take();
    if (next.word === "IS") {
      const what = take().word;
      if (what === "NULL") return (d) => lookup(d, path) === null;
      if (what === "TRUE") return (d) => lookup(d, path) === true;
      if (what === "FALSE") return (d) => lookup(d, path) === false;
      throw invalidFilter(text);
    }
    if (next.word === "NOT") {
      if (take().word !== "EXISTS") throw invalidFilter(text);
      return (d) => lookup(d, path) === undefined;
    }
    const op = next.op;
    if (!op || !["=", "!=", "<", ">", "<=", ">="].includes(op)) throw invalidFilter(text);
    const value = take();
    const literal = value.str ?? value.word;
    if (literal === undefined) throw invalidFilter(text);
    return comparison(path, op, literal, value.str !== undefined, text);
  };
  expectOp("{");
  const root = parseOr();
  expectOp("}");
  if (i !== toks.length) throw invalidFilter(text);
  return (msg) => {
    let doc: unknown;
    try {
      doc = JSON.parse(msg);
    } catch {
      return false;
    }
    return doc !== null && typeof doc === "object" && root(doc);
  };
}

function selectorPath(sel: string): (string | number)[] {
  const path: (string | number)[] = [];
  for (const m of sel.slice(1).matchAll(/\.([^.[]+)|\[(\d+)\]/g))
    path.push(m[1] !== undefined ? m[1] : Number(m[2]));
  return path;
}

function lookup(doc: unknown, path: readonly (string | number)[]): unknown {
  let cur: unknown = doc;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

function comparison(
  path: (string | number)[],
  op: string,
  literal: string,
  quoted: boolean,
  text: string,
): Node {
  const num = Number(literal);
  const numeric = !quoted && literal !== "" && Number.isFinite(num);
  if (["<", ">", "<=", ">="].includes(op)) {
    if (!numeric) throw invalidFilter(text);
    return (d) => {
      const v = lookup(d, path);
      if (typeof v !== "number") return false;
      return op === "<" ? v < num : op === ">" ? v > num : op === "<=" ? v <= num : v >= num;
    };
  }
  const wildcard = new RegExp(`^${literal.split("*").map(escapeRegex).join(".*")}$`);
  const equals = (v: unknown): boolean => {
    if (v === undefined || (v !== null && typeof v === "object")) return false;
    if (numeric && typeof v === "number") return v === num;
    return wildcard.test(String(v));
  };
  return op === "="
    ? (d) => equals(lookup(d, path))
    : (d) => lookup(d, path) !== undefined && !equals(lookup(d, path));
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
