import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseDocument } from "yaml";
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
        const head = parseDocument(readFileSync(file, "utf8")).toJS() as { name?: string; title?: string };
        name = typeof head?.name === "string" ? head.name : name;
        title = typeof head?.title === "string" ? head.title : "";
      } catch {}
      byName.set(name, { name, title, file, origin: d === SHIPPED ? "shipped" : "local" });
    }
  return [...byName.values()].sort(inSeedOrder);
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
