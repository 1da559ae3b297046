/**
 * References in scenario values: `${vpc.Vpc.VpcId}` is the output of the earlier step `vpc` at
 * that path; `${accounts.q}`, `${region}`, `${time.start}` and `${time.now}` are the run's. A
 * string that is one reference keeps the value's type (a list stays a list); otherwise each
 * reference is replaced by its text.
 */

const REF = /\$\{([^}]+)\}/g;
const WHOLE = /^\$\{([^}]+)\}$/;

export interface Found {
  readonly name: string;
  /** Where in the step the string holding it sits. */
  readonly path: (string | number)[];
}

export function referencesIn(value: unknown, path: (string | number)[] = []): Found[] {
  if (typeof value === "string") return [...value.matchAll(REF)].map((m) => ({ name: m[1]!.trim(), path }));
  if (Array.isArray(value)) return value.flatMap((v, i) => referencesIn(v, [...path, i]));
  if (value && typeof value === "object")
    return Object.entries(value).flatMap(([k, v]) => referencesIn(v, [...path, k]));
  return [];
}

/** `a.b[0].c` or `a.b.0.c` → ["a", "b", 0, "c"]. */
export function splitPath(path: string): (string | number)[] {
  return path
    .replace(/\[(\d+)\]/g, ".$1")
    .split(".")
    .filter(Boolean)
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

export function valueAt(root: unknown, path: string): unknown {
  let v: unknown = root;
  for (const p of splitPath(path)) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

export class RefError extends Error {}

/** Replaces every reference in `value` (deeply) from `scope`; a reference to nothing throws. */
export function resolve(value: unknown, scope: Record<string, unknown>): unknown {
  if (typeof value === "string") {
    const whole = WHOLE.exec(value);
    if (whole) return lookup(whole[1]!.trim(), scope);
    return value.replace(REF, (_m, name: string) => {
      const v = lookup(name.trim(), scope);
      return typeof v === "string" ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => resolve(v, scope));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, scope)]));
  return value;
}

function lookup(name: string, scope: Record<string, unknown>): unknown {
  const v = valueAt(scope, name);
  if (v === undefined) {
    const root = splitPath(name)[0];
    const has = scope[root as string];
    const keys = has && typeof has === "object" ? Object.keys(has).slice(0, 8).join(", ") : "";
    throw new RefError(`\${${name}} is undefined${keys ? ` (${root} has ${keys})` : ""}`);
  }
  return v;
}
