/**
 * Request-context values and their conversions per condition-operator family. The context is
 * what the caller knows about a request; the policy says how to compare it.
 */
export type ContextScalar = string | boolean | number | Date;
export type ContextValue = ContextScalar | string[] | undefined;
export type RequestContextValues = Readonly<Record<string, ContextValue>>;

/** Context keys are case-insensitive (`aws:CurrentTime` equals `AWS:currenttime`). */
export type ContextMap = ReadonlyMap<string, Exclude<ContextValue, undefined>>;

export function normalizeContext(context: RequestContextValues): ContextMap {
  const out = new Map<string, Exclude<ContextValue, undefined>>();
  for (const key in context) {
    const value = context[key];
    if (value !== undefined) out.set(key.toLowerCase(), value);
  }
  return out;
}

/** AWS renders times at second resolution in UTC (`2026-01-01T00:00:00Z`). */
export function isoSeconds(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

export function scalarToString(v: ContextScalar): string {
  if (typeof v === "string") return v;
  if (v instanceof Date) return isoSeconds(v);
  return String(v);
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function parseNumber(s: string): number | undefined {
  const t = s.trim();
  return NUMBER.test(t) ? Number(t) : undefined;
}

export function scalarToNumber(v: ContextScalar): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "string") return parseNumber(v);
  return undefined;
}

// W3C profile of ISO 8601: YYYY, YYYY-MM, YYYY-MM-DD, then hh:mm[:ss[.s]] with Z or ±hh:mm.
const W3C_DATE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?)?)?$/;
const EPOCH = /^\d{5,}(\.\d+)?$/;

/**
 * Milliseconds since the epoch for a policy or context date: a W3C ISO 8601 date (a time
 * without an offset is UTC) or epoch seconds. A bare four-digit value is read as a year.
 */
export function parseDate(s: string): number | undefined {
  const t = s.trim();
  if (EPOCH.test(t)) return Number(t) * 1000;
  const m = W3C_DATE.exec(t);
  if (m === null) return undefined;
  const [, y, mo = "01", d = "01", h = "00", mi = "00", sec = "00", frac, zone] = m;
  const ms = frac === undefined ? 0 : Math.round(Number(frac) * 1000);
  const base = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), ms);
  if (Number.isNaN(base) || Number(mo) > 12 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59) {
    return undefined;
  }
  return base - zoneOffsetMs(zone);
}

function zoneOffsetMs(zone: string | undefined): number {
  if (zone === undefined || zone === "Z" || zone === "z") return 0;
  const sign = zone.startsWith("-") ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
}

/** Numbers in the context are epoch seconds, as `aws:EpochTime` is. */
export function scalarToDate(v: ContextScalar): number | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v.getTime();
  if (typeof v === "number") return Number.isFinite(v) ? v * 1000 : undefined;
  if (typeof v === "string") return parseDate(v);
  return undefined;
}

export function parseBool(s: string): boolean | undefined {
  const t = s.toLowerCase();
  return t === "true" ? true : t === "false" ? false : undefined;
}

export function scalarToBool(v: ContextScalar): boolean | undefined {
  if (typeof v === "boolean") return v;
  if (typeof v === "string") return parseBool(v);
  return undefined;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Canonical base64 so that equal bytes compare equal whatever the padding was. */
export function canonicalBase64(s: string): string | undefined {
  const t = s.trim();
  if (!BASE64.test(t) || t.replace(/=+$/, "").length % 4 === 1) return undefined;
  return Buffer.from(t, "base64").toString("base64");
}
