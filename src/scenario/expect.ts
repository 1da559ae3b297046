import { isDeepStrictEqual } from "node:util";
import type { Expect } from "./format.js";
import { valueAt } from "./refs.js";

/**
 * What a step produced, in one shape for every kind: whether it failed (an AWS error, a
 * non-zero exit, a refused or reset connection), its text (for `contains`), its output (for
 * `equals` and `atLeast` paths) and the error's code and message when there was one.
 */
export interface Outcome {
  readonly failed: boolean;
  readonly text: string;
  readonly output: unknown;
  readonly exit?: number;
  readonly error?: { code: string; message: string };
  readonly refused?: string;
  /** The report's one-line detail when the text's first line would mislead (a process's latest line). */
  readonly summary?: string;
}

const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const short = (text: string, n = 300) => {
  const s = text.trim();
  return s.length > n ? `${s.slice(0, n)}…` : s;
};

/**
 * Why the outcome does not meet the expectation, or undefined when it does. With no
 * expectation a step must simply succeed; expecting `error` or `refused` expects a failure.
 */
export function unmet(o: Outcome, e: Expect | undefined): string | undefined {
  const wantsFailure = e?.error !== undefined || e?.refused !== undefined || (e?.exit ?? 0) !== 0;
  if (!wantsFailure && o.failed)
    return o.error
      ? `failed: ${o.error.code}: ${o.error.message}`
      : o.refused !== undefined
        ? `refused: ${o.refused}`
        : `exited ${o.exit}: ${short(o.text)}`;
  if (!e) return undefined;
  if (wantsFailure && !o.failed) return `expected a failure, but it succeeded: ${short(o.text)}`;
  if (e.exit !== undefined && o.exit !== undefined && o.exit !== e.exit)
    return `expected exit ${e.exit}, got ${o.exit}: ${short(o.text)}`;
  if (e.error !== undefined) {
    const code = o.error?.code;
    if (code !== undefined ? code !== e.error : !o.text.includes(`(${e.error})`))
      return `expected error ${e.error}, got ${code ?? short(o.text)}`;
  }
  if (e.message !== undefined && !(o.error?.message ?? o.text).includes(e.message))
    return `expected the message to contain "${e.message}", got: ${short(o.error?.message ?? o.text)}`;
  if (e.refused !== undefined) {
    const why = o.refused ?? o.error?.message ?? o.text;
    if (!why.includes(e.refused)) return `expected a refusal with "${e.refused}", got: ${short(why)}`;
  }
  for (const c of list(e.contains))
    if (!o.text.includes(c)) return `expected the output to contain "${c}", got: ${short(o.text)}`;
  for (const c of list(e.notContains))
    if (o.text.includes(c)) return `expected the output not to contain "${c}"`;
  for (const [path, want] of Object.entries(e.equals ?? {})) {
    const got = valueAt(o.output, path);
    if (!isDeepStrictEqual(got, want) && String(got) !== String(want))
      return `expected ${path} = ${JSON.stringify(want)}, got ${JSON.stringify(got)}`;
  }
  for (const [path, min] of Object.entries(e.atLeast ?? {})) {
    const got = Number(valueAt(o.output, path));
    if (!(got >= min)) return `expected ${path} >= ${min}, got ${valueAt(o.output, path) ?? "nothing"}`;
  }
  return undefined;
}
