/**
 * Issues 13 and 15: how long a `privlink` client process takes to start, per subcommand. Each
 * subcommand runs as a whole process against an address where no server answers (it starts,
 * parses, loads what it needs, fails to connect, exits), hyperfine-style: sequential runs,
 * bounded in count and time. Baselines in the same run: `node -e 0` (Node's own start-up) and
 * a process that only imports privlink.ts (what every client command paid before the CLI
 * loaded its modules per command).
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { PACKAGE_ROOT } from "../src/privlink.js";
import type { Row } from "./goals.js";
import { percentile } from "./measure.js";

/**
 * The client subcommands issues 13 and 15 name, and the rest that do not start a server. Those
 * that ask the server fail fast (nothing listens); `ca` and `scenario list` read local files.
 */
export const SUBCOMMANDS: readonly (readonly string[])[] = [
  ["why", "app", "secretsmanager"],
  ["exec", "--from", "app", "--", "true"],
  ["connect", "--from", "app", "example.com:443"],
  ["addr", "app"],
  ["env"],
  ["status"],
  ["access"],
  ["impact", "--revoke", "sgr-1"],
  ["events"],
  ["stats"],
  ["cost"],
  ["site", "list"],
  ["account", "list"],
  ["upstream", "list"],
  ["console"],
  ["reset"],
  ["ca"],
  ["scenario", "list"],
  ["--help"],
  ["help", "exec"],
];

function once(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const t = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [...args], { env, timeout: 30_000 }, () => resolve(performance.now() - t));
  });
}

/** Sequential runs of one command line: `runs` at most, and no more once `seconds` passed. */
async function sample(args: readonly string[], env: NodeJS.ProcessEnv, runs: number, seconds: number) {
  await once(args, env); // warm the file cache, as hyperfine's warm-up run does
  const ms: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  while (ms.length < runs && performance.now() < deadline) ms.push(await once(args, env));
  return ms.sort((a, b) => a - b);
}

export async function benchCliStartup(opts: { runs?: number; seconds?: number } = {}): Promise<Row[]> {
  const runs = opts.runs ?? 10;
  const seconds = opts.seconds ?? 8;
  // Port 9 on loopback: nothing listens, every client command fails at its first request.
  const env = { ...process.env, PRIVLINK_URL: "http://127.0.0.1:9", PRIVLINK_ADMIN_TOKEN: "x" };
  const bin = join(PACKAGE_ROOT, "bin/privlink.js");
  const node = await sample(["-e", "0"], env, runs, seconds);
  const whole = await sample(
    [
      "--input-type=module",
      "-e",
      `await import(${JSON.stringify(join(PACKAGE_ROOT, "dist/src/privlink.js"))})`,
    ],
    env,
    Math.min(runs, 5),
    seconds,
  );
  const row = (name: string, ms: number[]): Row => ({
    case: name,
    runs: ms.length,
    min: ms[0],
    p50: percentile(ms, 50),
    max: ms[ms.length - 1],
    vsNode: percentile(ms, 50) / percentile(node, 50),
  });
  const rows = [row("node -e 0 (baseline)", node), row("import privlink.ts (old client cost)", whole)];
  for (const args of SUBCOMMANDS)
    rows.push(row(`privlink ${args.join(" ")}`, await sample([bin, ...args], env, runs, seconds)));
  return rows;
}
