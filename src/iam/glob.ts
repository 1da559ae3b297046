/**
 * Wildcard matching for the IAM policy language: `*` matches any run of characters (also
 * none), `?` exactly one. A pattern may carry a `literal` mask: positions set to 1 came from
 * `${*}`, `${?}` or a policy variable's value and are plain characters, never wildcards.
 */
export interface Pattern {
  readonly text: string;
  readonly literal?: Uint8Array;
}

const STAR = 42;
const QUESTION = 63;
const COLON = 58;

/** Matches `p[pFrom, pTo)` against `s[sFrom, sTo)`; one backtrack point suffices for `*`/`?` globs. */
export function globRange(
  p: string,
  literal: Uint8Array | undefined,
  pFrom: number,
  pTo: number,
  s: string,
  sFrom: number,
  sTo: number,
): boolean {
  let pi = pFrom;
  let si = sFrom;
  let star = -1;
  let mark = sFrom;
  while (si < sTo) {
    if (pi < pTo) {
      const c = p.charCodeAt(pi);
      const wild = literal === undefined || literal[pi] === 0;
      if (c === STAR && wild) {
        star = pi++;
        mark = si;
        continue;
      }
      if ((c === QUESTION && wild) || c === s.charCodeAt(si)) {
        pi++;
        si++;
        continue;
      }
    }
    if (star < 0) return false;
    pi = star + 1;
    si = ++mark;
  }
  while (pi < pTo && p.charCodeAt(pi) === STAR && (literal === undefined || literal[pi] === 0)) pi++;
  return pi === pTo;
}

export function globMatch(pattern: Pattern, s: string): boolean {
  return globRange(pattern.text, pattern.literal, 0, pattern.text.length, s, 0, s.length);
}

export function hasWildcard(text: string): boolean {
  return text.includes("*") || text.includes("?");
}

/**
 * A matcher for a pattern known at compile time, with the common shapes (no wildcard, `*`,
 * `prefix*`) reduced to plain string operations because they dominate real policies.
 */
export function compileGlob(text: string): (s: string) => boolean {
  if (text === "*") return () => true;
  if (!hasWildcard(text)) return (s) => s === text;
  const firstWild = text.search(/[*?]/);
  if (firstWild === text.length - 1 && text.endsWith("*")) {
    const prefix = text.slice(0, -1);
    return (s) => s.startsWith(prefix);
  }
  return (s) => globRange(text, undefined, 0, text.length, s, 0, s.length);
}

/**
 * Offsets of the first five colons, which split an ARN into its six components
 * (`arn:partition:service:region:account:resource`); undefined when there are fewer.
 */
export function arnColons(s: string): number[] | undefined {
  const out: number[] = [];
  for (let i = 0; i < s.length && out.length < 5; i++) if (s.charCodeAt(i) === COLON) out.push(i);
  return out.length === 5 ? out : undefined;
}

/**
 * ARN matching as ArnLike and the Resource element do it: each of the six components is
 * matched separately, so a wildcard never spans a colon of the first five. A pattern that is
 * not ARN-shaped (such as `*`) is matched against the whole string.
 */
export function arnMatch(
  pattern: Pattern,
  patternColons: readonly number[] | undefined,
  s: string,
  sColons: readonly number[] | undefined,
): boolean {
  const { text, literal } = pattern;
  if (patternColons === undefined) return globRange(text, literal, 0, text.length, s, 0, s.length);
  if (sColons === undefined) return false;
  let pFrom = 0;
  let sFrom = 0;
  for (let i = 0; i < 6; i++) {
    const pTo = i < 5 ? patternColons[i]! : text.length;
    const sTo = i < 5 ? sColons[i]! : s.length;
    if (!globRange(text, literal, pFrom, pTo, s, sFrom, sTo)) return false;
    pFrom = pTo + 1;
    sFrom = sTo + 1;
  }
  return true;
}
