import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { pathWithPrivlink } from "../helpers/spawn.js";

/**
 * The README's second walkthrough, "Expose a service privately to another account", run by bash
 * exactly as the README writes it: the code blocks of that section, in order, in one shell, with
 * the real AWS CLI, `privlink` (on the PATH, as `npm link` puts it), python3 and curl. The one change is the web server's port:
 * 8080 becomes a free port, so that parallel runs never collide.
 */
const ROOT = join(import.meta.dirname, "../..");
const SECTION = "## Expose a service privately to another account";

/** The ```bash blocks of one README section, in order. */
function sectionBlocks(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(`${heading}\n`);
  if (start < 0) throw new Error(`README has no section '${heading}'`);
  const rest = markdown.slice(start + heading.length);
  const end = rest.search(/\n## /);
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `script` in its own process group, so that whatever it leaves in the background (the web
 * server, should a step fail before `kill %1`) is killed with it. Bounded by `timeoutMs`.
 */
function runBash(script: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", script], { cwd: ROOT, env, detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const killGroup = () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // The group is already gone.
      }
    };
    const timer = setTimeout(killGroup, timeoutMs);
    let code: number | null = null;
    child.once("exit", (c) => {
      code = c;
      clearTimeout(timer);
      killGroup();
    });
    child.once("close", () => resolve({ code, stdout, stderr }));
  });
}

describe("README: expose a service privately to another account", () => {
  let srv: TestServer;
  let run: Run;
  let port: number;

  beforeAll(async () => {
    srv = await startTestServer();
    port = await freePort();
    const blocks = sectionBlocks(readFileSync(join(ROOT, "README.md"), "utf8"), SECTION);
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    const script = ["set -eo pipefail", ...blocks].join("\n").replaceAll("8080", String(port));
    const env = {
      ...srv.cliEnv(),
      PRIVLINK_URL: srv.url,
      PRIVLINK_HOME: srv.home,
      PATH: pathWithPrivlink(),
    };
    run = await runBash(script, env, 100_000);
  }, 120_000);

  afterAll(() => srv?.stop());

  it("runs to the end", () => {
    // One comparison, so that a failing step shows its stderr and the output up to it.
    expect({ code: run.code, stderr: run.stderr, stdout: run.stdout }).toEqual({
      code: 0,
      stderr: "",
      stdout: run.stdout,
    });
  });

  it("prints what the README says it prints", () => {
    // python's start-up line arrives whenever python flushes it: it is no step's output.
    const lines = run.stdout
      .split("\n")
      .map((l) => l.trimEnd())
      .filter((l) => !l.startsWith("Serving HTTP on "));
    const refused = lines.findIndex((l) => /^endpoint vpce-[0-9a-f]{17} is pendingAcceptance:/.test(l));
    const expected: [string, (l: string[]) => boolean][] = [
      ["the listener port", (l) => l[0] === "80"],
      ["the consumer allowed", (l) => l[1] === "arn:aws:iam::444455556666:root"],
      ["the provider's us-east-1a under the consumer's name", (l) => l[2] === "us-east-1b"],
      [
        "the refusal before acceptance, with its reason",
        () =>
          refused === 3 && /the owner of vpce-svc-[0-9a-f]{17} has not accepted it$/.test(lines[refused]!),
      ],
      ["the endpoint available after acceptance", (l) => l[refused + 1] === "available"],
      ["the answer of the provider's process", (l) => l[refused + 2] === "HTTP/1.1 200 OK"],
      ["python's web server", (l) => l.some((x) => /^server: SimpleHTTP\/[\d.]+ Python\//i.test(x))],
    ];
    for (const [what, holds] of expected) expect(holds(lines), what).toBe(true);
  });

  it("meters one admitted and one refused connection on the endpoint", () => {
    const ep = /endpoint (vpce-[0-9a-f]{17}) is pendingAcceptance/.exec(run.stdout)?.[1];
    expect(ep).toBeDefined();
    const row = run.stdout.split("\n").find((l) => l.startsWith(`${ep} `));
    const [, bytesIn, bytesOut, newConnections, active, resets, dropped] = row!.trim().split(/\s+/);
    expect(Number(bytesIn)).toBeGreaterThan(0);
    expect(Number(bytesOut)).toBeGreaterThan(0);
    expect([newConnections, active, resets, dropped]).toEqual(["1", "0", "0", "1"]);
  });
});
