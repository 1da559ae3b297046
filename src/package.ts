import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
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

/**
 * V8 flags of every process that runs the server (`privlink up`, `privlink agent`): bin/privlink.js
 * passes them in its shebang, `npm start` on its command line, and the benchmarks run privlink
 * with them (test/foundation/node-flags.test.ts keeps the three in step). Why: each connection
 * through an endpoint allocates ~23 KB, nearly all Node's own and dead by its close; with V8's
 * default 16 MB young-generation semi-space a scavenge paused the event loop once per 600–730
 * connections, and more often after a quiet spell shrank the semi-space: more than 1 in 1,000,
 * so scavenges set the added connect latency's p99.9. Up to 64 MB makes them ~4× rarer (below
 * 1 in 1,000) at ~2 MB more RSS idle; the space grows only under allocation. It must be on the
 * command line: V8 sizes the heap at start-up, and `v8.setFlagsFromString` afterwards changes
 * nothing (measured, docs/performance.md).
 */
export const SERVER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=64"];

/**
 * A native addon that `npm ci` built from binding.gyp (build/Release/NAME.node), or the error
 * that says why it cannot be used. Every addon is optional: its caller says once what privlink
 * does without it.
 */
export function loadAddon<T>(name: string): T | Error {
  const file = join(PACKAGE_ROOT, "build", "Release", `${name}.node`);
  if (!existsSync(file))
    return new Error(`${file} is not built (npm ci builds it: needs make, g++, python3)`);
  try {
    return createRequire(import.meta.url)(file) as T;
  } catch (e) {
    return new Error(`${file}: ${(e as Error).message}`);
  }
}
