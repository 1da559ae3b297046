import type { BotoModel } from "./botocore.js";

/**
 * Checks an SDK-decoded output against AWS's model member by member: every member present
 * (lists as lists, empty where there is nothing), every value of its model type, enums within
 * their value set, timestamps real dates. Absent members are problems unless `allowed` says
 * privlink deliberately leaves them out.
 */

export type Allowed = (shape: string, member: string) => boolean;

export interface Quirks {
  /** Extra values AWS sends for an enum shape. */
  enums: Record<string, readonly string[]>;
  /** A JS type the SDK decodes a shape to where botocore's model types it otherwise. */
  types: Record<string, string>;
}

const NO_QUIRKS: Quirks = { enums: {}, types: {} };

const NUMBER_TYPES = new Set(["integer", "long", "float", "double", "bigdecimal", "biginteger"]);

export function checkOutput(
  model: BotoModel,
  shapeName: string,
  value: unknown,
  allowed: Allowed,
  quirks: Quirks = NO_QUIRKS,
): string[] {
  const problems: string[] = [];
  walk(model, shapeName, value, "output", { allowed, quirks, problems }, 0);
  return problems;
}

interface Walk {
  allowed: Allowed;
  quirks: Quirks;
  problems: string[];
}

function walk(
  model: BotoModel,
  shapeName: string,
  value: unknown,
  path: string,
  w: Walk,
  depth: number,
): void {
  const shape = model.shapes[shapeName];
  if (!shape || depth > 12) return;
  const fail = (what: string) => w.problems.push(`${path}: ${what}`);
  if (w.quirks.types[shapeName] !== undefined && typeof value === w.quirks.types[shapeName]) return;
  switch (shape.type) {
    case "structure": {
      if (typeof value !== "object" || value === null || Array.isArray(value))
        return void fail(`expected a ${shapeName} structure, got ${JSON.stringify(value)}`);
      const v = value as Record<string, unknown>;
      for (const [name, ref] of Object.entries(shape.members ?? {})) {
        if (v[name] === undefined) {
          if (!w.allowed(shapeName, name)) fail(`${shapeName}.${name} is missing`);
          continue;
        }
        walk(model, ref.shape, v[name], `${path}.${name}`, w, depth + 1);
      }
      return;
    }
    case "list":
      if (!Array.isArray(value)) return void fail(`expected a list (${shapeName})`);
      for (const [i, item] of value.entries())
        walk(model, shape.member!.shape, item, `${path}[${i}]`, w, depth + 1);
      return;
    case "map":
      if (typeof value !== "object" || value === null) return void fail(`expected a map (${shapeName})`);
      for (const [k, item] of Object.entries(value))
        walk(model, shape.value!.shape, item, `${path}{${k}}`, w, depth + 1);
      return;
    case "string":
      if (typeof value !== "string")
        return void fail(`expected a string (${shapeName}), got ${typeof value}`);
      if (shape.enum && !shape.enum.includes(value) && !w.quirks.enums[shapeName]?.includes(value))
        fail(`'${value}' is not in ${shapeName}'s values (${shape.enum.join(", ")})`);
      return;
    case "boolean":
      if (typeof value !== "boolean") fail(`expected a boolean (${shapeName}), got ${JSON.stringify(value)}`);
      return;
    case "timestamp":
      if (!(value instanceof Date) || Number.isNaN(value.getTime()) || value.getUTCFullYear() < 2000)
        fail(`expected a timestamp (${shapeName}), got ${String(value)}`);
      return;
    case "blob":
      if (!(value instanceof Uint8Array)) fail(`expected bytes (${shapeName})`);
      return;
    default:
      if (NUMBER_TYPES.has(shape.type) && typeof value !== "number")
        fail(`expected a number (${shapeName}), got ${JSON.stringify(value)}`);
  }
}

/** ISO 8601 as AWS writes it in XML (second or millisecond precision, UTC). */
const AWS_XML_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
const XML_TIME_LIKE = />(\d{4}-\d{2}-\d{2}T[^<]*)</g;

/** Timestamps in an XML body that are not in AWS's text format. */
export function badXmlTimestamps(raw: string): string[] {
  return [...raw.matchAll(XML_TIME_LIKE)].map((m) => m[1]!).filter((t) => !AWS_XML_TIME.test(t));
}
