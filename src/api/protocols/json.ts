import { AwsError } from "../../cloud/errors.js";
import { parseBlob, toBase64, toDate } from "./scalars.js";
import type { OperationSchema, ScalarShape, Shape, StructShape } from "./schema.js";
import { smithySerde } from "./sdk-serde.js";

/**
 * awsJson1_1 (Secrets Manager, CloudWatch Logs): the body is the input shape as JSON with member
 * names as keys; timestamps are epoch seconds, blobs base64. Unknown members are ignored (AWS's
 * JSON services accept them); a value of the wrong JSON type is a SerializationException, the
 * error those services answer for a body they cannot read.
 */

function serializationError(path: string, expected: string, value: unknown): AwsError {
  const got = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
  const where = path || "the request body";
  return new AwsError(
    "SerializationException",
    `Cannot deserialize ${where}: expected ${expected}, got ${got}`,
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function readScalar(shape: ScalarShape, v: unknown, path: string): unknown {
  switch (shape.kind) {
    case "string":
      if (typeof v !== "string") throw serializationError(path, "a string", v);
      return v;
    case "number":
      if (typeof v === "number") return v;
      if (v === "NaN" || v === "Infinity" || v === "-Infinity") return Number(v);
      throw serializationError(path, "a number", v);
    case "boolean":
      if (typeof v !== "boolean") throw serializationError(path, "a boolean", v);
      return v;
    case "timestamp": {
      const ms =
        typeof v === "number" ? Math.round(v * 1000) : typeof v === "string" ? Date.parse(v) : Number.NaN;
      if (!Number.isFinite(ms)) throw serializationError(path, "a timestamp (epoch seconds)", v);
      return new Date(ms);
    }
    case "blob":
      if (typeof v !== "string") throw serializationError(path, "base64 text", v);
      try {
        return parseBlob(v, path);
      } catch {
        throw serializationError(path, "base64 text", v);
      }
    case "bigInteger":
      if (typeof v !== "number" || !Number.isInteger(v)) throw serializationError(path, "an integer", v);
      return BigInt(v);
    case "bigDecimal":
      if (typeof v !== "number") throw serializationError(path, "a number", v);
      return new (smithySerde().NumericValue)(String(v), "bigDecimal");
    case "document":
      return v;
  }
}

function readValue(shape: Shape, v: unknown, path: string): unknown {
  switch (shape.kind) {
    case "struct":
      return readStruct(shape, v, path);
    case "list": {
      if (!Array.isArray(v)) throw serializationError(path, "a list", v);
      const out: unknown[] = [];
      for (let i = 0; i < v.length; i++) {
        const item = v[i];
        if (item == null) {
          if (shape.sparse) out.push(null);
          continue;
        }
        out.push(readValue(shape.member.shape, item, `${path}[${i}]`));
      }
      return out;
    }
    case "map": {
      if (!isObject(v)) throw serializationError(path, "a map", v);
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(v)) {
        const item = v[key];
        if (item == null && !shape.sparse) continue;
        const value = item == null ? null : readValue(shape.value.shape, item, `${path}.${key}`);
        Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    default:
      return readScalar(shape, v, path);
  }
}

function readStruct(shape: StructShape, v: unknown, path: string): Record<string, unknown> {
  if (!isObject(v)) throw serializationError(path, "an object", v);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v)) {
    const m = shape.member(key);
    const item = v[key];
    if (!m || item == null) continue;
    out[m.name] = readValue(m.shape, item, path ? `${path}.${key}` : key);
  }
  return out;
}

/** JSON body → the SDK input shape of `op`. An empty body is an empty input. */
export function decodeJson(op: OperationSchema, body: string | Uint8Array): Record<string, unknown> {
  const text =
    typeof body === "string"
      ? body
      : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AwsError("SerializationException", "The request body is not valid JSON");
  }
  return readStruct(op.input, parsed, "");
}

// ---------------------------------------------------------------------------------------------

const quotedKeys = new WeakMap<StructShape, readonly string[]>();

function keysOf(shape: StructShape): readonly string[] {
  let keys = quotedKeys.get(shape);
  if (!keys) {
    keys = shape.members.map((m) => `${JSON.stringify(m.name)}:`);
    quotedKeys.set(shape, keys);
  }
  return keys;
}

function writeScalar(shape: ScalarShape, v: unknown): string {
  switch (shape.kind) {
    case "timestamp": {
      const d = toDate(v);
      if (shape.timestampFormat === "date-time") return JSON.stringify(d.toISOString());
      if (shape.timestampFormat === "http-date") return JSON.stringify(smithySerde().dateToUtcString(d));
      return String(d.getTime() / 1000);
    }
    case "blob":
      return JSON.stringify(toBase64(v));
    case "number": {
      const n = Number(v);
      return Number.isFinite(n) ? String(n) : JSON.stringify(String(n));
    }
    case "boolean":
      return v === true || v === "true" ? "true" : "false";
    case "bigInteger":
      return String(v);
    case "bigDecimal":
      return v instanceof smithySerde().NumericValue ? v.string : String(v);
    case "document":
      return JSON.stringify(v) ?? "null";
    default:
      return JSON.stringify(String(v));
  }
}

function writeValue(shape: Shape, v: unknown): string {
  switch (shape.kind) {
    case "struct":
      return writeStruct(shape, v as Record<string, unknown>);
    case "list": {
      if (!Array.isArray(v)) throw new Error(`privlink wire: expected a list, got ${typeof v}`);
      const parts: string[] = [];
      for (const item of v) {
        if (item == null) {
          if (shape.sparse) parts.push("null");
        } else parts.push(writeValue(shape.member.shape, item));
      }
      return `[${parts.join(",")}]`;
    }
    case "map": {
      const parts: string[] = [];
      for (const key of Object.keys(v as object)) {
        const item = (v as Record<string, unknown>)[key];
        if (item == null) {
          if (shape.sparse) parts.push(`${JSON.stringify(key)}:null`);
        } else parts.push(`${JSON.stringify(key)}:${writeValue(shape.value.shape, item)}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      return writeScalar(shape, v);
  }
}

function writeStruct(shape: StructShape, v: Record<string, unknown>): string {
  if (v === null || typeof v !== "object") throw new Error(`privlink wire: ${shape.name} must be an object`);
  const keys = keysOf(shape);
  const members = shape.members;
  let out = "";
  for (let i = 0; i < members.length; i++) {
    const item = v[members[i]!.name];
    if (item == null) continue;
    out += `${out ? "," : ""}${keys[i]}${writeValue(members[i]!.shape, item)}`;
  }
  return `{${out}}`;
}

/** Output shape → JSON body, members in schema order. */
export function encodeJson(op: OperationSchema, output: unknown): string {
  if (op.output.unit) return "{}";
  return writeStruct(op.output, (output ?? {}) as Record<string, unknown>);
}
