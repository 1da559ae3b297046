import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Ora } from "ora";
import { serverUrl } from "../cli/client.js";
import { defaultHome } from "../home.js";
import { findScenario, listScenarios } from "./catalog.js";
import type { Progress, Report } from "./run.js";
import type { Kept } from "./teardown.js";

/**
 * `privlink scenario list|run|down`: finds the server as every privlink command does
 * (PRIVLINK_URL, the home's server file, the default port), or starts one in this process for
 * the run when none answers. What a run needs (the file format, the SDKs, the server) loads
 * with the run: `scenario list` reads the folders only.
 */

const keptFile = (name: string) => join(defaultHome(), "scenarios", `${name}.json`);

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/_privlink/health`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

/** The running server, or one started here (stopped by `stop`). */
async function server(): Promise<{ url: string; stop?: () => Promise<void> }> {
  const url = serverUrl();
  if (await answers(url)) return { url };
  const { startPrivlink } = await import("../privlink.js");
  const p = await startPrivlink({ port: Number(process.env.PRIVLINK_PORT ?? 4599) });
  process.env.PRIVLINK_URL = p.url;
  return { url: p.url, stop: () => p.close() };
}

async function progress(json: boolean): Promise<Progress> {
  const [{ default: ora }, { stepLine }] = await Promise.all([import("ora"), import("./report.js")]);
  const tty = !json && process.stderr.isTTY === true;
  let spinner: Ora | undefined;
  return {
    begin(index, total, title) {
      if (tty) spinner = ora({ text: `[${index}/${total}] ${title}`, stream: process.stderr }).start();
    },
    end(r, total) {
      const line = stepLine(r, total);
      if (spinner) {
        if (r.ok) spinner.succeed(line.slice(2));
        else spinner.fail(line.slice(2));
        spinner = undefined;
      } else if (!json) process.stdout.write(`${line}\n`);
      if (!r.ok && !json) process.stdout.write(`    ${r.reason}\n`);
    },
    note(text) {
      if (!json) process.stdout.write(`… ${text}\n`);
    },
  };
}

export async function runCommand(
  what: string,
  o: { keep?: boolean; json?: boolean; dir?: string },
): Promise<number> {
  const [{ checkActions, loadScenario }, { summaryText }, { runScenario }] = await Promise.all([
    import("./format.js"),
    import("./report.js"),
    import("./run.js"),
  ]);
  const sc = loadScenario(findScenario(what, o.dir));
  await checkActions(sc);
  const srv = await server();
  const keep = o.keep === true && !srv.stop;
  const json = o.json === true;
  if (o.keep && srv.stop && !json)
    process.stdout.write(
      "--keep needs a running server ('privlink up'): this run's own server stops with it\n",
    );
  if (!json)
    process.stdout.write(
      `${sc.title} (${sc.name}, ${sc.file})\n${sc.description ? `${sc.description}\n` : ""}\n`,
    );
  let report: Report;
  try {
    report = await runScenario(sc, {
      url: srv.url,
      env: { ...process.env, PRIVLINK_URL: srv.url, PRIVLINK_HOME: defaultHome() },
      keep,
      progress: await progress(json),
      save: (kept) => {
        mkdirSync(join(defaultHome(), "scenarios"), { recursive: true });
        writeFileSync(keptFile(sc.name), JSON.stringify(kept, null, 2), { mode: 0o600 });
      },
    });
  } finally {
    await srv.stop?.();
  }
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : summaryText(report));
  return report.ok ? 0 : 1;
}

export function listCommand(o: { dir?: string; json?: boolean }): void {
  const all = listScenarios(o.dir);
  if (o.json) {
    process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
    return;
  }
  const width = Math.max(0, ...all.map((e) => e.name.length));
  for (const e of all)
    process.stdout.write(
      `${e.name.padEnd(width)}  ${e.title}${e.origin === "local" ? `  (${e.file})` : ""}\n`,
    );
}

export async function downCommand(name: string): Promise<number> {
  const file = keptFile(name);
  if (!existsSync(file)) {
    process.stderr.write(`privlink: nothing kept for scenario '${name}' (${file})\n`);
    return 1;
  }
  const kept = JSON.parse(readFileSync(file, "utf8")) as Kept;
  const { tearDownKept } = await import("./teardown.js");
  const r = await tearDownKept(kept, serverUrl());
  for (const l of r.left) process.stdout.write(`NOT removed: ${l.what}: ${l.error}\n`);
  process.stdout.write(`${name}: ${r.removed} resources removed\n`);
  if (!r.left.length) rmSync(file);
  return r.left.length ? 1 : 0;
}
