import { AwsError } from "../../cloud/errors.js";
import type { ScalarShape, TimestampFormat } from "./schema.js";
import { smithySerde } from "./sdk-serde.js";

/**
 * Scalars as text: the form they take in query strings, URI labels, headers and XML. Parsing is
 * lenient about *format* (a timestamp may come as ISO 8601, HTTP date or epoch seconds, whatever
 * the model says) but strict about *type*: a number must be a number.
 */

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;
const EPOCH = /^-?\d+(?:\.\d+)?$/;
const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;

export function invalidValue(raw: string, param: string, expected: string): AwsError {
  return new AwsError(
    "InvalidParameterValue",
    `Value (${raw}) for parameter ${param} is invalid. Expected ${expected}.`,
  );
}

export function parseNumber(raw: string, param: string): number {
  if (DECIMAL.test(raw)) return Number(raw);
  if (raw === "NaN" || raw === "Infinity" || raw === "-Infinity") return Number(raw);
  throw invalidValue(raw, param, "a number");
}

export function parseBoolean(raw: string, param: string): boolean {
  const lower = raw.toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  throw invalidValue(raw, param, "a boolean (true or false)");
}

export function parseTimestamp(raw: string, param: string): Date {
  const ms = EPOCH.test(raw) ? Math.round(Number(raw) * 1000) : Date.parse(raw);
  if (!Number.isFinite(ms)) throw invalidValue(raw, param, "a timestamp (ISO 8601 or epoch seconds)");
  return new Date(ms);
}

export function parseBlob(raw: string, param: string): Uint8Array {
  if (!BASE64.test(raw)) throw invalidValue(raw, param, "base64-encoded data");
  const buf = Buffer.from(raw, "base64");
  // A plain Uint8Array view: callers and deep-equality see bytes, not a Buffer.
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Text → the shape's JS value (what the SDK hands its users). */
export function parseScalar(shape: ScalarShape, raw: string, param: string): unknown {
  switch (shape.kind) {
    case "string":
    case "document":
      return raw;
    case "number":
      return parseNumber(raw, param);
    case "boolean":
      return parseBoolean(raw, param);
    case "timestamp":
      return parseTimestamp(raw, param);
    case "blob":
      return parseBlob(raw, param);
    case "bigInteger":
      if (!INTEGER.test(raw)) throw invalidValue(raw, param, "an integer");
      return BigInt(raw);
    case "bigDecimal":
      if (!DECIMAL.test(raw)) throw invalidValue(raw, param, "a number");
      return new (smithySerde().NumericValue)(raw, "bigDecimal");
  }
}

/** Handlers should hand Dates; an ISO string or a JS epoch-milliseconds number is accepted too. */
export function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === "number") return new Date(value);
  return new Date(String(value));
}

export function formatTimestamp(value: unknown, format: TimestampFormat, fallback: TimestampFormat): string {
  const date = toDate(value);
  const f = format === "default" ? fallback : format;
  if (f === "http-date") return smithySerde().dateToUtcString(date);
  if (f === "epoch-seconds") return String(date.getTime() / 1000);
  return date.toISOString();
}

export function toBase64(value: unknown): string {
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
  return Buffer.from(String(value), "utf8").toString("base64");
}

/**
 * JS value → text. Handlers are trusted to return the output shape, but a string where a Date
 * belongs (or a number where a string belongs) is rendered rather than crashing the response.
 */
export function formatScalar(shape: ScalarShape, value: unknown, timestampFallback: TimestampFormat): string {
  switch (shape.kind) {
    case "timestamp":
      return formatTimestamp(value, shape.timestampFormat, timestampFallback);
    case "blob":
      return toBase64(value);
    case "bigDecimal":
      return value instanceof smithySerde().NumericValue ? value.string : String(value);
    default:
      return String(value);
  }
}
