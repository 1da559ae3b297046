import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { SERVER_NODE_FLAGS } from "../../src/package.js";
import { testPublicDns, workerSlots } from "./server.js";

export const BIN = join(import.meta.dirname, "../../bin/privlink.js");

/**
 * PATH with `privlink` first, as `npm link` leaves it (the docs' commands call the bin by name):
 * a folder in the build output holding a link to this checkout's bin.
 */
export function pathWithPrivlink(): string {
  const dir = join(import.meta.dirname, "../../dist/bin-link");
  mkdirSync(dir, { recursive: true });
  try {
    symlinkSync(BIN, join(dir, "privlink"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  return `${dir}${delimiter}${process.env.PATH ?? ""}`;
}

/** Runs `privlink up` as a real process (as users do) and waits until it answers. */
export async function spawnPrivlink(
  home: string,
  extra: string[] = [],
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const s = workerSlots();
  let out = "";
  const child = spawn(
    process.execPath,
    [
      // What the bin's shebang runs: node with the server's V8 flags.
      ...SERVER_NODE_FLAGS,
      BIN,
      "up",
      "--port",
      "0",
      "--home",
      home,
      "--slots",
      `${s.min}-${s.max}`,
      "--public-dns",
      testPublicDns(),
      ...extra,
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PRIVLINK_HOME: home },
    },
  );
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const file = join(home, "server.json");
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`privlink exited: ${out}`);
    // The console line ends the start-up banner: wait for all of it, not its first chunk.
    if (existsSync(file) && out.includes("  console ")) {
      const { url } = JSON.parse(readFileSync(file, "utf8"));
      return { child, url, output: () => out };
    }
    await sleep(50);
  }
  child.kill("SIGKILL");
  throw new Error(`privlink did not start: ${out}`);
}

export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}

export function runAws(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("aws", args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
