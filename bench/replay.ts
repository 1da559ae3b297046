/**
 * Issue 15's harness for the API's CPU per request, as the issue measured it: the server under
 * test pinned to one core, the client in another process pinned to the other, SDK-signed
 * requests replayed raw over keep-alive connections (bench/raw-replay.mjs), and the server's CPU
 * read to the microsecond around a counted number of requests. The baseline, a bare node:http
 * server replaying the same answer (bench/bare-replay.mjs), is pinned to the same core and
 * measured in the same run, in paired rounds with the server under test.
 */
import { type ChildProcess, execFileSync, fork } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { benchScript, closeChild } from "./measure.js";

const TASKSET = "/usr/bin/taskset";
/** Clock ticks per second of /proc/PID/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** The cores of the server under test and of its client; undefined when they cannot be apart. */
export function cores(): { server: number; client: number } | undefined {
  return cpus().length >= 2 && existsSync(TASKSET) ? { server: 0, client: 1 } : undefined;
}

/** Pins every thread of `pid` (and whatever it starts later) to `cpu`. */
export function pin(pid: number, cpu: number): void {
  execFileSync(TASKSET, ["-a", "-p", "-c", String(cpu), String(pid)], { stdio: "ignore" });
}

/**
 * CPU a process has used (all its live threads), µs, to the microsecond: this process's from
 * getrusage (process.cpuUsage), another's from each thread's /proc/PID/task/TID/schedstat
 * (nanoseconds on the CPU, the same clock). /proc/PID/stat counts 10 ms ticks: a round of 100 ms
 * of CPU would read ±10 %. A thread that exits takes its time out of the schedstat sum; the
 * servers measured here keep theirs. Falls back to /proc/PID/stat without schedstat.
 */
export function cpuUsOf(pid: number): number {
  if (pid === process.pid) {
    const u = process.cpuUsage();
    return u.user + u.system;
  }
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`))
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    return ns / 1000;
  } catch {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND;
  }
}

/** What the replay client is asked: sign `inputs` for `signPort`, send them to `port`. */
export interface ReplaySpec {
  host: string;
  port: number;
  signPort?: number;
  command: string;
  inputs: Record<string, unknown>[];
  requests: number;
  seconds: number;
  connections: number;
}

export interface ReplayResult {
  count: number;
  errors: number;
  firstError?: string;
  seconds: number;
  perSec: number;
  clientCpu: number;
}

/** A child process answering `{id, …}` messages in kind; killed when it does not answer in time. */
class Child {
  private next = 0;
  private readonly waiting = new Map<
    number,
    { resolve(msg: Record<string, unknown>): void; reject(err: Error): void }
  >();

  constructor(readonly proc: ChildProcess) {
    proc.on("message", (msg: { id?: number }) => {
      if (msg.id === undefined) return;
      const w = this.waiting.get(msg.id);
      this.waiting.delete(msg.id);
      w?.resolve(msg as Record<string, unknown>);
    });
    proc.once("exit", (code, signal) => {
      for (const w of this.waiting.values()) w.reject(new Error(`child exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }

  ask(msg: Record<string, unknown>, limitMs: number): Promise<Record<string, unknown>> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        this.proc.kill("SIGKILL");
        reject(new Error(`${msg.type ?? "request"}: no answer within ${limitMs / 1000} s`));
      }, limitMs);
      this.waiting.set(id, {
        resolve(m) {
          clearTimeout(timer);
          resolve(m);
        },
        reject(err) {
          clearTimeout(timer);
          reject(err);
        },
      });
      this.proc.send({ ...msg, id });
    });
  }

  close(): Promise<void> {
    return closeChild(this.proc);
  }
}

function start(script: string): ChildProcess {
  return fork(benchScript(script), [], {
    // Not this process's flags: under --cpu-prof only the server under test is profiled.
    execArgv: [],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  });
}

/** The raw replay client (bench/raw-replay.mjs). */
export class RawReplay {
  private constructor(private readonly child: Child) {}

  static start(cpu?: number): RawReplay {
    const proc = start("raw-replay.mjs");
    if (cpu !== undefined) pin(proc.pid!, cpu);
    return new RawReplay(new Child(proc));
  }

  async run(spec: ReplaySpec): Promise<ReplayResult> {
    const m = await this.child.ask({ spec }, (spec.seconds + 60) * 1000);
    if (typeof m.error === "string") throw new Error(m.error);
    return m.result as ReplayResult;
  }

  close(): Promise<void> {
    return this.child.close();
  }
}

/** The bare node:http server replaying one answer (bench/bare-replay.mjs). */
export class BareReplay {
  private constructor(
    private readonly child: Child,
    readonly port: number,
  ) {}

  static async start(cpu?: number): Promise<BareReplay> {
    const proc = start("bare-replay.mjs");
    if (cpu !== undefined) pin(proc.pid!, cpu);
    const port = await new Promise<number>((resolve, reject) => {
      proc.once("exit", () => reject(new Error("bare-replay exited")));
      proc.on("message", (m: { type?: string; port?: number }) => {
        if (m.type === "listening") resolve(m.port!);
      });
    });
    return new BareReplay(new Child(proc), port);
  }

  get pid(): number {
    return this.child.proc.pid!;
  }

  async answer(body: string): Promise<void> {
    await this.child.ask({ type: "body", body }, 10_000);
  }

  close(): Promise<void> {
    return this.child.close();
  }
}

/** One server's side of an interleaved comparison. */
export interface Side {
  pid: number;
  port: number;
}

export interface Compared {
  /** The server under test's CPU per answered request in each round, µs, in round order. */
  us: number[];
  /** The baseline's, in the same rounds. */
  baseUs: number[];
  /** All rounds together (total CPU over total requests): holds the rare costs a median of rounds leaves out. */
  pooledUs: number;
  basePooledUs: number;
  count: number;
  baseCount: number;
  errors: number;
  firstError?: string;
  /** Requests per second the server under test answered, pinned to its core. */
  perSec: number;
}

/**
 * Replays `inputs` (signed for the server under test) to it and to the baseline in paired
 * rounds, after a warm-up of each: each round runs both back to back (the order reversed every
 * other round, so neither always follows the other's garbage or cache state) and reads each
 * server's CPU around its own run only. Load that drifts over the run then moves both sides of a
 * round alike, and a round that caught a collection or a neighbour's burst is one of many.
 */
export async function compare(
  client: RawReplay,
  subject: Side,
  base: Side,
  spec: Omit<ReplaySpec, "port" | "signPort" | "requests">,
  opts: { perRound: number; rounds: number; warmup: number },
): Promise<Compared> {
  const sides = [subject, base];
  const run = (side: Side, requests: number) =>
    client.run({ ...spec, port: side.port, signPort: subject.port, requests });
  for (const side of sides) await run(side, opts.warmup);
  const totals = sides.map(() => ({
    rounds: [] as number[],
    us: 0,
    count: 0,
    errors: 0,
    seconds: 0,
    firstError: undefined as string | undefined,
  }));
  for (let r = 0; r < opts.rounds; r++) {
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) {
      const side = sides[i]!;
      const cpu = cpuUsOf(side.pid);
      const m = await run(side, opts.perRound);
      const used = cpuUsOf(side.pid) - cpu;
      const t = totals[i]!;
      t.rounds.push(used / Math.max(1, m.count + m.errors));
      t.us += used;
      t.count += m.count;
      t.errors += m.errors;
      t.seconds += m.seconds;
      t.firstError ??= m.firstError;
    }
  }
  const [mine, theirs] = totals as [(typeof totals)[0], (typeof totals)[0]];
  return {
    us: mine.rounds,
    baseUs: theirs.rounds,
    pooledUs: mine.us / Math.max(1, mine.count + mine.errors),
    basePooledUs: theirs.us / Math.max(1, theirs.count + theirs.errors),
    count: mine.count,
    baseCount: theirs.count,
    errors: mine.errors + theirs.errors,
    firstError: mine.firstError ?? theirs.firstError,
    perSec: mine.count / Math.max(1e-9, mine.seconds),
  };
}
