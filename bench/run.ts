/**
 * `npm run bench [-- NAME …]`: runs the benchmarks (all, or those named), prints one table per
 * benchmark and writes every row to bench/results/<time>.json. Each benchmark measures its
 * baseline in the same run and reports ratios against it; every load is bounded in time.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PACKAGE_ROOT } from "../src/privlink.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

type Row = Record<string, unknown>;
type Bench = () => Promise<Row[]>;

const benches: Record<string, () => Promise<Bench>> = {
  api: async () => (await import("./api.js")).benchApi as unknown as Bench,
  iam: async () => (await import("./iam.js")).benchIam as unknown as Bench,
  dns: async () => (await import("./dns.js")).benchDns as unknown as Bench,
  front: async () => (await import("./front.js")).benchFront as unknown as Bench,
};

function format(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v >= 100 ? v.toFixed(0) : v.toFixed(3);
  if (v === undefined || v === null) return "";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

function table(rows: Row[]): string {
  if (rows.length === 0) return "(no rows)";
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cells = [cols, ...rows.map((r) => cols.map((c) => format(r[c])))];
  const widths = cols.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join("  ")).join("\n");
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const names = wanted.length ? wanted : Object.keys(benches);
  const results: Record<string, Row[] | { error: string }> = {};
  for (const name of names) {
    const load = benches[name];
    if (!load) {
      process.stderr.write(`unknown benchmark '${name}' (have: ${Object.keys(benches).join(", ")})\n`);
      process.exitCode = 2;
      continue;
    }
    process.stdout.write(`\n== ${name} ==\n`);
    try {
      const rows = await (await load())();
      results[name] = rows;
      process.stdout.write(`${table(rows)}\n`);
    } catch (err) {
      results[name] = { error: (err as Error).message };
      process.stdout.write(`failed: ${(err as Error).message}\n`);
    }
  }
  const dir = join(PACKAGE_ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, JSON.stringify({ node: process.version, cpus: (await import("node:os")).cpus().length, results }, null, 2));
  process.stdout.write(`\nwrote ${file}\n`);
}

await main();
