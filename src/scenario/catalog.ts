import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { PACKAGE_ROOT } from "../package.js";

/**
 * Where scenarios are found: the ones privlink ships (`scenarios/` of the package), then
 * `./scenarios/` of the current directory, then `--dir`. A later folder's file of the same
 * name wins, so a copy in your own folder replaces a shipped one.
 */

export const SHIPPED = join(PACKAGE_ROOT, "scenarios");

export interface Entry {
  readonly name: string;
  readonly title: string;
  readonly file: string;
  readonly origin: "shipped" | "local";
}

export function scenarioDirs(dir?: string): string[] {
  const dirs = [SHIPPED, resolve("scenarios")];
  if (dir) dirs.push(resolve(dir));
  return [...new Set(dirs)].filter((d) => existsSync(d));
}

/** The scenarios in the folders, by name (the file's `name`, else its file name). */
export function listScenarios(dir?: string): Entry[] {
  const byName = new Map<string, Entry>();
  for (const d of scenarioDirs(dir))
    for (const f of readdirSync(d)
      .filter((x) => /\.ya?ml$/.test(x))
      .sort()) {
      const file = join(d, f);
      let name = f.replace(/\.ya?ml$/, "");
      let title = "";
      try {
        const head = scenarioHeader(readFileSync(file, "utf8"));
        name = typeof head?.name === "string" ? head.name : name;
        title = typeof head?.title === "string" ? head.title : "";
      } catch {}
      byName.set(name, { name, title, file, origin: d === SHIPPED ? "shipped" : "local" });
    }
  return [...byName.values()].sort(inSeedOrder);
}

type Header = { name?: unknown; title?: unknown } | undefined;

/** A scenario file's top-level `name` and `title`, as the YAML parser reads them. */
export function scenarioHeader(text: string): Header {
  return simpleHeader(text) ?? parsedHeader(text);
}

/** The YAML parser (some 70 modules), loaded only for a file simpleHeader cannot read. */
export function parsedHeader(text: string): Header {
  const { parseDocument } = createRequire(import.meta.url)("yaml") as typeof import("yaml");
  return parseDocument(text).toJS() as Header;
}

const KEY_LINE = /^([A-Za-z_][\w-]*):(?:[ \t]+(.*))?$/;

/**
 * `name` and `title` without a YAML parser, so that `scenario list` starts quickly, when both
 * are written the simple way: top-level `key: value` lines of the first document, the value on
 * one line, double-quoted without escapes, single-quoted, or plain text YAML reads as a string.
 * Anything else (no such line, a repeated key, a value on more lines, a tag, an anchor, a flow
 * collection, a number, true, null, a line that is not a plain key) answers undefined, and the
 * caller asks the parser. test/scenarios/catalog-header.test.ts holds it to the parser.
 */
export function simpleHeader(text: string): { name: string; title: string } | undefined {
  const found: { name?: string; title?: string } = {};
  const lines = text.split(/\r?\n/);
  for (let i = lines[0] === "---" ? 1 : 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^[ \t]*(#.*)?$/.test(line) || line.startsWith(" ") || /^-( |$)/.test(line)) continue;
    if (/^(---|\.\.\.)( |$)/.test(line)) break;
    const m = KEY_LINE.exec(line);
    if (!m) return undefined;
    const key = m[1];
    if (key !== "name" && key !== "title") continue;
    // A value continued on the next lines (indented) or a repeated key: the parser decides.
    const next = lines.slice(i + 1).find((l) => !/^[ \t]*$/.test(l));
    if (found[key] !== undefined || next?.startsWith(" ") || next?.startsWith("\t")) return undefined;
    const value = oneLineString(m[2] ?? "");
    if (value === undefined) return undefined;
    found[key] = value;
  }
  return found.name !== undefined && found.title !== undefined
    ? { name: found.name, title: found.title }
    : undefined;
}

/** A one-line scalar YAML reads as a string, or undefined when it might read otherwise. */
function oneLineString(v: string): string | undefined {
  const double = /^"([^"\\]*)"[ \t]*(#.*)?$/.exec(v);
  if (double) return double[1];
  const single = /^'((?:[^']|'')*)'[ \t]*(#.*)?$/.exec(v);
  if (single) return single[1]!.replace(/''/g, "'");
  const plain = v.replace(/[ \t]+#.*$/, "").trimEnd();
  // Indicators, and what the core schema reads as a number, a boolean or null.
  if (plain === "" || /^[-?:,[\]{}#&*!|>'"%@`+.0-9~]/.test(plain) || /: |:$|\t/.test(plain)) return undefined;
  if (/^(null|true|false)$/i.test(plain)) return undefined;
  return plain;
}

/** Shipped ones first, in the seed's order (their titles start "1.", "2.", …), then by name. */
function inSeedOrder(a: Entry, b: Entry): number {
  const rank = (e: Entry) => Number(/^(\d+)\./.exec(e.title)?.[1] ?? Number.POSITIVE_INFINITY);
  if (a.origin !== b.origin) return a.origin === "shipped" ? -1 : 1;
  return rank(a) - rank(b) || a.name.localeCompare(b.name);
}

/** A file path as given, or a scenario's name. */
export function findScenario(what: string, dir?: string): string {
  if (/\.ya?ml$/.test(what) || what.includes("/")) return resolve(what);
  const hit = listScenarios(dir).find((e) => e.name === what);
  if (!hit)
    throw new Error(
      `no scenario '${what}' (known: ${
        listScenarios(dir)
          .map((e) => e.name)
          .join(", ") || "none"
      })`,
    );
  return hit.file;
}
