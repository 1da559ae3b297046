import type { Pattern } from "./glob.js";

/**
 * Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'none'}`) and the escapes
 * `${*}`, `${?}`, `${$}`. Only policies with Version 2012-10-17 have variables; in older ones
 * the text is literal.
 */
type Part =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "char"; readonly char: string }
  | {
      readonly kind: "var";
      readonly key: string;
      readonly lowerKey: string;
      readonly fallback: string | undefined;
    };

export interface Template {
  readonly raw: string;
  /** Undefined when the value has no `${…}`: it then is its own pattern. */
  readonly parts?: readonly Part[];
}

/** Where variables get their values: the request context (keys are case-insensitive). */
export interface VariableSource {
  /** The value, or undefined when the key is absent or multivalued. */
  variable(key: string, lowerKey: string): string | undefined;
}

export function parseTemplate(raw: string, variables: boolean): Template {
  if (!variables || !raw.includes("${")) return { raw };
  const parts: Part[] = [];
  let text = "";
  let i = 0;
  while (i < raw.length) {
    const start = raw.indexOf("${", i);
    if (start < 0) break;
    const parsed = parseVariable(raw, start + 2);
    if (parsed === undefined) {
      // Not a well-formed variable: keep the characters as they are.
      text += raw.slice(i, start + 2);
      i = start + 2;
      continue;
    }
    text += raw.slice(i, start);
    if (text !== "") parts.push({ kind: "text", text });
    text = "";
    parts.push(parsed.part);
    i = parsed.end;
  }
  text += raw.slice(i);
  if (text !== "") parts.push({ kind: "text", text });
  return parts.some((p) => p.kind !== "text") ? { raw, parts } : { raw };
}

function parseVariable(raw: string, from: number): { part: Part; end: number } | undefined {
  const close = raw.indexOf("}", from);
  if (close < 0) return undefined;
  const comma = raw.indexOf(",", from);
  if (comma < 0 || comma > close) {
    const name = raw.slice(from, close).trim();
    if (name === "*" || name === "?" || name === "$")
      return { part: { kind: "char", char: name }, end: close + 1 };
    if (!isKeyName(name)) return undefined;
    return {
      part: { kind: "var", key: name, lowerKey: name.toLowerCase(), fallback: undefined },
      end: close + 1,
    };
  }
  const name = raw.slice(from, comma).trim();
  if (!isKeyName(name)) return undefined;
  const quoted = readQuoted(raw, skipSpaces(raw, comma + 1));
  if (quoted === undefined) return undefined;
  const end = skipSpaces(raw, quoted.end);
  if (raw[end] !== "}") return undefined;
  return {
    part: { kind: "var", key: name, lowerKey: name.toLowerCase(), fallback: quoted.value },
    end: end + 1,
  };
}

function isKeyName(name: string): boolean {
  return name !== "" && !/[\s{}$,']/.test(name);
}

function skipSpaces(s: string, i: number): number {
  while (s[i] === " ") i++;
  return i;
}

/** A single-quoted default value, where `''` stands for one quote. */
function readQuoted(s: string, i: number): { value: string; end: number } | undefined {
  if (s[i] !== "'") return undefined;
  let value = "";
  for (let j = i + 1; j < s.length; j++) {
    if (s[j] !== "'") {
      value += s[j];
      continue;
    }
    if (s[j + 1] === "'") {
      value += "'";
      j++;
      continue;
    }
    return { value, end: j + 1 };
  }
  return undefined;
}

/**
 * The pattern for this request, or undefined when a variable has no value and no default:
 * such a value matches nothing (AWS: "there is no equal or like value").
 */
export function resolveTemplate(t: Template, source: VariableSource): Pattern | undefined {
  if (t.parts === undefined) return { text: t.raw };
  let text = "";
  let literalRuns: [number, number][] | undefined;
  for (const part of t.parts) {
    if (part.kind === "text") {
      text += part.text;
      continue;
    }
    const value =
      part.kind === "char" ? part.char : (source.variable(part.key, part.lowerKey) ?? part.fallback);
    if (value === undefined) return undefined;
    // Only a substituted * or ? needs marking: other characters are never wildcards.
    if (value.includes("*") || value.includes("?")) {
      literalRuns ??= [];
      literalRuns.push([text.length, text.length + value.length]);
    }
    text += value;
  }
  if (literalRuns === undefined) return { text };
  const literal = new Uint8Array(text.length);
  for (const [from, to] of literalRuns) literal.fill(1, from, to);
  return { text, literal };
}

export function isStatic(t: Template): boolean {
  return t.parts === undefined;
}
