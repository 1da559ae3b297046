import { setTimeout as sleep } from "node:timers/promises";
import { admin } from "../cli/client.js";
import { type Outcome, unmet } from "./expect.js";
import type { Expect, Scenario, Step } from "./format.js";
import { type MonthlyCost, monthlyCost } from "./money.js";
import { RefError, resolve } from "./refs.js";
import { AwsCaller, CallError, type Creds } from "./services.js";
import { connectStep, execStep, privlinkStep, type Started, startProcess, stopProcess } from "./steps.js";
import { type Kept, type TeardownResult, teardown } from "./teardown.js";
import { type UndoCall, undoOf } from "./undo.js";

/**
 * Runs a scenario against a running privlink: registers its accounts, runs its steps in order
 * (a step with `expect` is a check), prices what it measured, and tears down what it made.
 * It stops at the first step that fails and says which and why.
 */

export interface StepResult {
  readonly index: number;
  readonly title: string;
  readonly where: string;
  readonly check: boolean;
  readonly ok: boolean;
  readonly ms: number;
  /** What it made or printed, one line. */
  readonly detail: string;
  /** Why it failed. */
  readonly reason?: string;
}

export interface Report {
  readonly scenario: string;
  readonly title: string;
  readonly file: string;
  readonly ok: boolean;
  readonly steps: StepResult[];
  readonly checks: { passed: number; failed: number };
  readonly failed?: StepResult;
  readonly cost?: MonthlyCost;
  readonly teardown?: TeardownResult;
  readonly kept: boolean;
  readonly ms: number;
}

export interface Progress {
  begin(index: number, total: number, title: string): void;
  end(r: StepResult, total: number): void;
  note(text: string): void;
}

export interface RunOptions {
  readonly url: string;
  /** The environment commands run with (PRIVLINK_URL/HOME set for the server). */
  readonly env: NodeJS.ProcessEnv;
  readonly keep: boolean;
  readonly progress: Progress;
  /** Saves what --keep leaves, for `scenario down`. */
  readonly save: (kept: Kept) => void;
}

export function stepTitle(s: Step, defaultAccount: string): string {
  if (s.title) return s.title;
  const words = (w: string | string[]) => (typeof w === "string" ? w : w.join(" "));
  switch (s.kind) {
    case "call":
      return `${s.as ?? defaultAccount}: ${s.call}`;
    case "process":
      return `start ${words(s.process)}`;
    case "exec":
      return `${s.from}$ ${words(s.exec)}`;
    case "connect":
      return `connect ${s.from} -> ${s.connect}`;
    case "privlink":
      return `privlink ${words(s.privlink)}`;
    case "watch":
      return `watch ${s.watch}`;
    case "cost":
      return "cost at AWS list prices";
  }
}

const oneLine = (s: string, n = 100) => {
  const l = s.trim().split("\n")[0] ?? "";
  return l.length > n ? `${l.slice(0, n)}…` : l;
};

export async function runScenario(sc: Scenario, o: RunOptions): Promise<Report> {
  const t0 = Date.now();
  const start = new Date(t0 - 1000);
  const defaultAccount = Object.keys(sc.accounts)[0]!;
  const creds: Record<string, Creds> = {};
  const outputs: Record<string, unknown> = {};
  const processes: Started[] = [];
  const undo: UndoCall[] = [];
  const results: StepResult[] = [];
  const aws = new AwsCaller(o.url, sc.region);
  let lastCost: MonthlyCost | undefined;
  let failed: StepResult | undefined;
  const total = sc.steps.length;

  const scope = () => ({
    ...outputs,
    accounts: sc.accounts,
    region: sc.region,
    scenario: { name: sc.name, dir: sc.dir },
    time: { start: start.toISOString(), now: new Date().toISOString() },
  });
  const envFor = (account: string): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = {
      ...o.env,
      AWS_ACCESS_KEY_ID: creds[account]!.accessKeyId,
      AWS_SECRET_ACCESS_KEY: creds[account]!.secretAccessKey,
      AWS_DEFAULT_REGION: sc.region,
      AWS_REGION: sc.region,
      AWS_PAGER: "",
      SCENARIO_DIR: sc.dir,
    };
    delete env.AWS_SESSION_TOKEN;
    delete env.AWS_PROFILE;
    return env;
  };

  for (const [name, id] of Object.entries(sc.accounts)) {
    const r = await admin<{ accessKeyId: string; secretAccessKey: string }>("POST", "/_privlink/accounts", {
      id,
    });
    creds[name] = { accessKeyId: r.accessKeyId, secretAccessKey: r.secretAccessKey };
  }

  /** One attempt of a step: what it produced. */
  const attempt = async (s: Step, account: string): Promise<{ outcome: Outcome; made?: UndoCall[] }> => {
    const env = envFor(account);
    switch (s.kind) {
      case "call": {
        const [service, action] = s.call.split(":") as [string, string];
        const params = resolve(s.params ?? {}, scope()) as Record<string, unknown>;
        try {
          const out = await aws.call(service, action, params, creds[account]!);
          return {
            outcome: { failed: false, text: JSON.stringify(out), output: out },
            made: s.undo === false ? [] : undoOf(service, action, params, out, account),
          };
        } catch (err) {
          if (!(err instanceof CallError)) throw err;
          const error = { code: err.code, message: err.message };
          return { outcome: { failed: true, error, text: `${err.code}: ${err.message}`, output: { error } } };
        }
      }
      case "exec": {
        return { outcome: await execStep(resolve(s, scope()) as typeof s, env, sc.dir) };
      }
      case "connect": {
        return { outcome: await connectStep(resolve(s, scope()) as typeof s) };
      }
      case "privlink": {
        const r = resolve(s, scope()) as typeof s;
        const outcome = await privlinkStep(r, env);
        const args = typeof r.privlink === "string" ? r.privlink.split(/\s+/) : r.privlink;
        // What `privlink site create NAME` makes, `privlink site delete NAME` removes.
        const made: UndoCall[] =
          !outcome.failed && args[0] === "site" && args[1] === "create" && args[2]
            ? [
                {
                  service: "privlink",
                  action: "site delete",
                  input: { name: args[2] },
                  as: account,
                  what: `site ${args[2]}`,
                },
              ]
            : [];
        return { outcome, made };
      }
      case "watch": {
        const p = processes.find((x) => x.name === s.watch);
        if (!p) throw new RefError(`no process '${s.watch}' was started`);
        const text = p.output();
        const latest = text.trimEnd().split("\n").pop() ?? "";
        return { outcome: { failed: false, text, output: { output: text }, summary: latest } };
      }
      case "cost": {
        lastCost = await measuredCost(sc, start, true);
        const missing = (s.cost.lines ?? []).filter(
          (want) =>
            !lastCost!.lines.some(
              (l) =>
                l.usageType === want.usageType &&
                (!want.resource || l.resource === resolve(want.resource, scope())),
            ),
        );
        const text = lastCost.lines.map((l) => `${l.resource} ${l.usageType} ${l.quantity}`).join("\n");
        const failedCost =
          missing.length > 0 || (s.cost.natAlternative === true && !lastCost.nat.lines.length);
        return {
          outcome: {
            failed: failedCost,
            text: failedCost
              ? `no cost line for ${missing.map((m) => m.usageType).join(", ") || "the NAT alternative"} in:\n${text}`
              : text,
            output: lastCost,
          },
        };
      }
      case "process":
        throw new Error("processes start in runStep");
    }
  };

  const runStep = async (s: Step, i: number): Promise<StepResult> => {
    const title = stepTitle(s, defaultAccount);
    const account = s.as ?? defaultAccount;
    const begin = Date.now();
    const res = (ok: boolean, detail: string, reason?: string): StepResult => ({
      index: i + 1,
      title,
      where: sc.where[i]!,
      check: s.expect !== undefined,
      ok,
      ms: Date.now() - begin,
      detail,
      reason,
    });
    try {
      if (s.kind === "process") {
        const r = resolve(s, scope()) as typeof s;
        const { started, output } = await startProcess(
          r,
          s.id ?? `process-${i + 1}`,
          envFor(account),
          sc.dir,
        );
        processes.push(started);
        if (s.id) outputs[s.id] = output;
        return res(true, `pid ${started.child.pid}${output.port ? `, port ${output.port}` : ""}`);
      }
      const until = s.kind === "call" ? s.until : undefined;
      const want = resolve(
        until ? { ...s.expect, equals: { ...s.expect?.equals, ...until } } : s.expect,
        scope(),
      ) as Expect | undefined;
      const retry = s.timeout !== undefined || until !== undefined;
      const deadline = begin + (s.timeout ?? 30) * 1000;
      for (;;) {
        const { outcome, made } = await attempt(s, account);
        if (made) undo.push(...made);
        const why = unmet(outcome, want);
        if (!why || !retry || Date.now() > deadline) {
          if (s.id) outputs[s.id] = outcome.output;
          const detail = made?.length
            ? made.map((m) => m.what).join(", ")
            : oneLine(
                outcome.error
                  ? `${outcome.error.code}: ${outcome.error.message}`
                  : (outcome.summary ?? outcome.text),
              );
          return res(!why, detail, why);
        }
        await sleep(200);
      }
    } catch (err) {
      return res(false, "", (err as Error).message);
    }
  };

  for (const [i, s] of sc.steps.entries()) {
    o.progress.begin(i + 1, total, stepTitle(s, defaultAccount));
    const r = await runStep(s, i);
    results.push(r);
    o.progress.end(r, total);
    if (!r.ok) {
      failed = r;
      break;
    }
  }

  let cost = lastCost;
  if (!failed && !cost) {
    try {
      cost = await measuredCost(sc, start);
    } catch (err) {
      o.progress.note(`cost: ${(err as Error).message}`);
    }
  }

  const kept = o.keep;
  let down: TeardownResult | undefined;
  if (kept) {
    for (const p of processes) p.child.unref();
    o.save({
      scenario: sc.name,
      region: sc.region,
      accounts: Object.fromEntries(Object.entries(sc.accounts).map(([n, id]) => [n, { id, ...creds[n]! }])),
      undo,
      pids: processes.flatMap((p) => (p.child.pid ? [p.child.pid] : [])),
    });
    for (const p of processes) {
      p.child.stdout?.destroy();
      p.child.stderr?.destroy();
    }
  } else {
    for (const p of processes) stopProcess(p);
    o.progress.note("tearing down");
    down = await teardown(undo, (name) => creds[name]!, aws);
  }
  aws.close();
  const checks = results.filter((r) => r.check);
  return {
    scenario: sc.name,
    title: sc.title,
    file: sc.file,
    ok: !failed,
    steps: results,
    checks: { passed: checks.filter((r) => r.ok).length, failed: checks.filter((r) => !r.ok).length },
    failed,
    cost,
    teardown: down,
    kept,
    ms: Date.now() - t0,
  };
}

/**
 * The bill of the run's window for the scenario's accounts, priced per month. A `cost` step
 * settles first: CloudWatch writes the current minute now (as AWS's would a minute later), so
 * the bytes moved so far are in the bill and in the metric checks after it.
 */
async function measuredCost(sc: Scenario, since: Date, settle = false): Promise<MonthlyCost> {
  if (settle) await admin("POST", "/_privlink/cloudwatch/flush");
  const bill = await admin<Parameters<typeof monthlyCost>[0]>("POST", "/_privlink/cost", {
    since: since.toISOString(),
    "what-if": "nat",
  });
  return monthlyCost(bill, new Set(Object.values(sc.accounts)), since, settle);
}
