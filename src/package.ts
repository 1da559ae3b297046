import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The package root: two levels up when compiled to dist/src, one level up when run from src.
 * Apart from privlink.ts so that what only needs the package's files (the shipped scenarios,
 * the bin) finds them without loading the server.
 */
export const PACKAGE_ROOT: string = (() => {
  for (const up of ["..", "../.."]) {
    const dir = fileURLToPath(new URL(`${up}/`, import.meta.url));
    if (existsSync(join(dir, "package.json"))) return dir;
  }
  return process.cwd();
})();

export const VERSION: string = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")).version;
