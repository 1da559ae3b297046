/**
 * Client subcommands start without the server: `privlink why` (and exec, connect, addr, env,
 * status…) load only the CLI's own modules, never privlink.ts, the AWS SDKs, the store or the
 * flow rules. Checked by watching what Node resolves while the real bin runs (a module hook).
 * From dist/bundle (after `npm run build`) the server is chunks of over a megabyte: a client
 * command's chunks must stay far below that.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN } from "../helpers/spawn.js";

let dir: string;
let hook: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "privlink-cli-lazy-"));
  writeFileSync(
    join(dir, "hooks.mjs"),
    // writeSync: the hooks run on their own thread, and a command that exits at once (help
    // calls process.exit) could lose an asynchronous write.
    `import { writeSync } from "node:fs";\nexport async function resolve(s, c, next) { const r = await next(s, c); if (!r.url.startsWith("node:")) writeSync(2, "LOADED " + r.url + "\\n"); return r; }\n`,
  );
  hook = join(dir, "register.mjs");
  writeFileSync(
    hook,
    `import { register } from "node:module"; register(${JSON.stringify(pathToFileURL(join(dir, "hooks.mjs")).href)});\n`,
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The modules one `privlink ARGS` process loads (nothing answers at the server URL). */
function loaded(args: string[]): Promise<{ modules: string[]; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", hook, BIN, ...args], {
      env: { ...process.env, PRIVLINK_URL: "http://127.0.0.1:9", PRIVLINK_ADMIN_TOKEN: "x" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.once("exit", () => {
      const modules = [...stderr.matchAll(/^LOADED (.*)$/gm)].map((m) => m[1]!);
      resolve({ modules, stderr: stderr.replace(/^LOADED .*\n/gm, "") });
    });
  });
}

const HEAVY =
  /@aws-sdk|@smithy|@peculiar|better-sqlite3|\/node_modules\/(zod|ora|yaml)\/|\/dist\/src\/(privlink|flow|net|dns|api\/(?!admin-auth)|store|front\/(?!trust)|services)/;

/** Commands that print no "no server" line on stderr: help, local ones, and `status` (stdout). */
const NO_SERVER_MESSAGE = new Set(["--help", "help", "nosuch", "ca", "scenario", "status"]);

/** Bytes of dist/bundle chunks a client command may load (the server's chunks: over 1 MB). */
const BUNDLE_BUDGET = 250_000;

const bundleBytes = (modules: string[]) =>
  modules.filter((m) => m.includes("/dist/bundle/")).reduce((n, m) => n + statSync(fileURLToPath(m)).size, 0);

describe("client subcommands load only what they need", () => {
  for (const args of [
    ["why", "app", "secretsmanager"],
    ["exec", "--from", "app", "--", "true"],
    ["connect", "--from", "app", "example.com:443"],
    ["addr", "app"],
    ["env"],
    ["status"],
    ["access"],
    ["impact", "--revoke", "sgr-1"],
    ["site", "list"],
    ["events"],
    // Help and commands that read local files only: no command module beyond their own.
    ["--help"],
    ["help"],
    ["help", "addr"],
    ["nosuch"],
    ["ca"],
    ["scenario", "list"],
  ])
    it(`privlink ${args.join(" ")}`, async () => {
      const { modules, stderr } = await loaded(args);
      // It really ran: the CLI module was loaded and a command that asks the server reported
      // that none answers (help, local commands and `status`, which answers on stdout, do not ask).
      expect(modules.some((m) => /\/dist\/(src\/cli|bundle)\/main\.js$/.test(m))).toBe(true);
      if (!NO_SERVER_MESSAGE.has(args[0]!)) expect(stderr).toMatch(/no privlink server answers|not running/);
      expect(modules.filter((m) => HEAVY.test(m))).toEqual([]);
      expect(bundleBytes(modules)).toBeLessThan(BUNDLE_BUDGET);
    });

  it("--help still lists every command", async () => {
    const out = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, [BIN, "--help"], { stdio: ["ignore", "pipe", "ignore"] });
      let s = "";
      child.stdout.on("data", (d) => (s += d));
      child.once("exit", () => resolve(s));
    });
    for (const name of [
      "up",
      "env",
      "status",
      "why",
      "access",
      "impact",
      "exec",
      "connect",
      "site",
      "state",
      "ca",
    ])
      expect(out).toMatch(new RegExp(`^  ${name}\\b`, "m"));
  });
});
