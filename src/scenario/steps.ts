import { type ChildProcess, spawn } from "node:child_process";
import { isAbsolute, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { tunnel } from "../cli/connect.js";
import { workloadEnv, workloadProxy } from "../cli/exec.js";
import { PACKAGE_ROOT } from "../package.js";
import type { Outcome } from "./expect.js";
import type { ConnectStep, ExecStep, PrivlinkStep, ProcessStep } from "./format.js";

/**
 * The steps that are not AWS calls: commands run as workloads (`privlink exec`), connection
 * probes (`privlink connect`), privlink commands, and the scenario's own long-running processes.
 */

export const BIN = join(PACKAGE_ROOT, "bin/privlink.js");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node` is this Node; `privlink` is this privlink; scripts are found beside the scenario file. */
export function argv(cmd: string | string[], dir: string): string[] {
  if (typeof cmd === "string") return ["sh", "-c", cmd];
  const [head, ...rest] = cmd;
  const local = (a: string) => (/^\.\.?\//.test(a) ? join(dir, a) : a);
  if (head === "node") return [process.execPath, ...rest.map(local)];
  if (head === "privlink") return [process.execPath, BIN, ...rest];
  return [isAbsolute(head!) ? head! : local(head!), ...rest];
}

export function runProgram(
  args: string[],
  env: NodeJS.ProcessEnv,
  input = "",
  timeoutMs = 120_000,
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(args[0]!, args.slice(1), { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.once("error", (err) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: `cannot run ${args[0]}: ${err.message}` });
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === "SIGKILL" ? 137 : 1), stdout, stderr });
    });
    child.stdin.end(input);
  });
}

function runOutcome(r: Run): Outcome {
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {}
  return {
    failed: r.code !== 0,
    exit: r.code,
    text: `${r.stdout}${r.stderr}`,
    output: { exit: r.code, stdout: r.stdout, stderr: r.stderr, json },
  };
}

/** `privlink exec --from FROM -- CMD`, done here: the workload's proxy and environment, then CMD. */
export async function execStep(s: ExecStep, env: NodeJS.ProcessEnv, dir: string): Promise<Outcome> {
  const reply = await workloadProxy(s.from);
  return runOutcome(await runProgram(argv(s.exec, dir), workloadEnv(env, reply), s.input));
}

export async function privlinkStep(s: PrivlinkStep, env: NodeJS.ProcessEnv): Promise<Outcome> {
  const args = typeof s.privlink === "string" ? s.privlink.split(/\s+/).filter(Boolean) : s.privlink;
  return runOutcome(await runProgram([process.execPath, BIN, ...args], env));
}

/**
 * `privlink connect --from FROM HOST:PORT`: sends `send`, half-closes, and reads until the peer
 * closes. A refusal by the workload's proxy carries its reason; a reset is a failure too.
 */
export async function connectStep(s: ConnectStep): Promise<Outcome> {
  const reply = await workloadProxy(s.from);
  let socket: Awaited<ReturnType<typeof tunnel>>;
  try {
    socket = await tunnel(reply, s.connect);
  } catch (err) {
    const reason = (err as Error).message;
    return { failed: true, refused: reason, text: `refused: ${reason}`, output: { refused: reason } };
  }
  return new Promise((resolve) => {
    let received = "";
    let error: string | undefined;
    const timer = setTimeout(() => socket.destroy(new Error("no answer within 15 s")), 15_000);
    socket.on("data", (d: Buffer) => (received += d.toString("utf8")));
    socket.on("error", (err: NodeJS.ErrnoException) => {
      error = err.code === "ECONNRESET" ? `connection reset: ${err.message}` : err.message;
    });
    socket.once("close", () => {
      clearTimeout(timer);
      resolve({
        failed: error !== undefined,
        refused: error,
        text: error ? `${received}${error}` : received,
        output: { received, error },
      });
    });
    socket.end(s.send ?? "");
  });
}

/** A scenario's own process: its output is kept for `watch` steps; killed at teardown. */
export interface Started {
  readonly child: ChildProcess;
  readonly name: string;
  output(): string;
}

export async function startProcess(
  s: ProcessStep,
  name: string,
  env: NodeJS.ProcessEnv,
  dir: string,
): Promise<{ started: Started; output: Record<string, unknown> }> {
  const args = argv(s.process, dir);
  const child = spawn(args[0]!, args.slice(1), {
    env: { ...env, ...s.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const started: Started = { child, name, output: () => out };
  const ready = new RegExp(s.ready ?? ".");
  const deadline = Date.now() + (s.timeout ?? 15) * 1000;
  let exited: string | undefined;
  child.once("error", (err) => (exited = err.message));
  child.once("exit", (code) => (exited ??= `exited ${code}`));
  for (;;) {
    const m = ready.exec(out);
    if (m) return { started, output: { pid: child.pid, ...m.groups, match: m[1] ?? m[0] } };
    if (exited) throw new Error(`${args.join(" ")} ${exited} before it was ready: ${out.slice(-500)}`);
    if (Date.now() > deadline) {
      stopProcess(started);
      throw new Error(`${args.join(" ")} printed nothing matching /${s.ready}/ within ${s.timeout ?? 15} s`);
    }
    await sleep(25);
  }
}

export function stopProcess(p: Started): void {
  if (p.child.exitCode !== null || p.child.signalCode !== null || !p.child.pid) return;
  try {
    process.kill(-p.child.pid, "SIGTERM");
  } catch {
    p.child.kill("SIGTERM");
  }
}
