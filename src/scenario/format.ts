import { readFileSync } from "node:fs";
import { isMap, isScalar, LineCounter, type Node, parseDocument } from "yaml";
import { z } from "zod";
import { referencesIn } from "./refs.js";
import { hasAction, isKnownService } from "./services.js";

/**
 * The scenario file: accounts, then one ordered list of steps. Each step is one kind (an AWS
 * API call, a process to start, a command run as a workload, a connection probe, a privlink
 * command, a wait on a process's output, a cost check) and may carry `expect`, which makes it a
 * check. Parsing keeps every node's position, so each error names file, line, column and field.
 */

export const STEP_KINDS = ["call", "process", "exec", "connect", "privlink", "watch", "cost"] as const;
export type StepKind = (typeof STEP_KINDS)[number];

const text = z.string().min(1);
const words = z.union([text, z.array(z.union([z.string(), z.number()]).transform(String)).min(1)]);
const strings = z.union([z.string(), z.array(z.string())]);

const expectSchema = z
  .object({
    exit: z.number().int().optional(),
    contains: strings.optional(),
    notContains: strings.optional(),
    error: text.optional(),
    message: text.optional(),
    refused: z.string().optional(),
    equals: z.record(z.string(), z.unknown()).optional(),
    atLeast: z.record(z.string(), z.number()).optional(),
  })
  .strict();
export type Expect = z.infer<typeof expectSchema>;

const common = {
  id: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, "an id is a letter, then letters, digits, _ or -")
    .optional(),
  title: text.optional(),
  as: text.optional(),
  expect: expectSchema.optional(),
  /** Seconds to keep retrying until `until`/`expect` holds. */
  timeout: z.number().positive().max(120).optional(),
};

const stepSchemas = {
  call: z
    .object({
      ...common,
      call: z.string().regex(/^[a-z0-9-]+:[A-Z][A-Za-z0-9]*$/, "write SERVICE:Action, e.g. ec2:CreateVpc"),
      params: z.record(z.string(), z.unknown()).optional(),
      until: z.record(z.string(), z.unknown()).optional(),
      undo: z.literal(false).optional(),
    })
    .strict(),
  process: z
    .object({
      ...common,
      process: words,
      ready: text.optional(),
      env: z.record(z.string(), z.string()).optional(),
    })
    .strict(),
  exec: z
    .object({
      ...common,
      exec: words,
      from: text,
      input: z.string().optional(),
    })
    .strict(),
  connect: z
    .object({
      ...common,
      connect: text,
      from: text,
      send: z.string().optional(),
    })
    .strict(),
  privlink: z.object({ ...common, privlink: words }).strict(),
  watch: z.object({ ...common, watch: text }).strict(),
  cost: z
    .object({
      ...common,
      cost: z
        .object({
          lines: z.array(z.object({ usageType: text, resource: text.optional() }).strict()).optional(),
          natAlternative: z.boolean().optional(),
        })
        .strict(),
    })
    .strict(),
} satisfies Record<StepKind, z.ZodType>;

export type CallStep = z.infer<(typeof stepSchemas)["call"]>;
export type ProcessStep = z.infer<(typeof stepSchemas)["process"]>;
export type ExecStep = z.infer<(typeof stepSchemas)["exec"]>;
export type ConnectStep = z.infer<(typeof stepSchemas)["connect"]>;
export type PrivlinkStep = z.infer<(typeof stepSchemas)["privlink"]>;
export type WatchStep = z.infer<(typeof stepSchemas)["watch"]>;
export type CostStep = z.infer<(typeof stepSchemas)["cost"]>;
export type Step =
  | ({ kind: "call" } & CallStep)
  | ({ kind: "process" } & ProcessStep)
  | ({ kind: "exec" } & ExecStep)
  | ({ kind: "connect" } & ConnectStep)
  | ({ kind: "privlink" } & PrivlinkStep)
  | ({ kind: "watch" } & WatchStep)
  | ({ kind: "cost" } & CostStep);

const headSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "a name is lowercase letters, digits and -"),
    title: text,
    description: z.string().optional(),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "a region like us-east-1")
      .optional(),
    accounts: z.record(
      z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/),
      z.string().regex(/^\d{12}$/, "an account ID is 12 digits"),
    ),
    steps: z.array(z.unknown()).min(1),
  })
  .strict();

export interface Scenario {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly region: string;
  readonly accounts: Readonly<Record<string, string>>;
  readonly steps: readonly Step[];
  /** The file it came from, and the folder scripts are found relative to. */
  readonly file: string;
  readonly dir: string;
  /** Where each step starts ("file:line"), for the report. */
  readonly where: readonly string[];
}

/** A scenario file that cannot run: every problem with its position. */
export class ScenarioError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "ScenarioError";
  }
}

type Path = (string | number)[];

export function loadScenario(file: string): Scenario {
  let source: string;
  try {
    source = readFileSync(file, "utf8");
  } catch (err) {
    throw new ScenarioError([`${file}: ${(err as Error).message}`]);
  }
  return parseScenario(source, file);
}

export function parseScenario(source: string, file: string): Scenario {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const p = lines.linePos(offset);
    return `${file}:${p.line}:${p.col}`;
  };
  if (doc.errors.length)
    throw new ScenarioError(doc.errors.map((e) => `${at(e.pos[0])}: ${e.message.split("\n")[0]}`));
  const nodeAt = (path: Path): Node | undefined => {
    for (let i = path.length; i >= 0; i--) {
      const n = path.length === 0 ? doc.contents : doc.getIn(path.slice(0, i), true);
      if (n && typeof n === "object" && "range" in n) return n as Node;
    }
    return doc.contents ?? undefined;
  };
  /** The key's position for a field, the value's otherwise. */
  const where = (path: Path): string => {
    const parent = path.length ? nodeAt(path.slice(0, -1)) : undefined;
    if (parent && isMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[path.length - 1]);
      const key = pair?.key as Node | undefined;
      if (key?.range) return at(key.range[0]);
    }
    return at(nodeAt(path)?.range?.[0] ?? 0);
  };
  const field = (path: Path) =>
    path.reduce<string>((s, p) => (typeof p === "number" ? `${s}[${p}]` : s ? `${s}.${p}` : p), "");
  const problems: string[] = [];
  const fail = (path: Path, msg: string) => problems.push(`${where(path)}: ${field(path) || "file"}: ${msg}`);
  const zodFail = (base: Path, issues: readonly z.core.$ZodIssue[]) => {
    for (const i of issues) {
      const path = [...base, ...(i.path as (string | number)[])];
      if (i.code === "unrecognized_keys") for (const k of i.keys) fail([...path, k], `unknown field '${k}'`);
      else fail(path, i.message);
    }
  };

  const head = headSchema.safeParse(doc.toJS());
  if (!head.success) {
    zodFail([], head.error.issues);
    throw new ScenarioError(problems);
  }
  const h = head.data;
  const steps: Step[] = [];
  const ids = new Set<string>();
  const whereSteps: string[] = [];
  for (const [i, raw] of h.steps.entries()) {
    const path: Path = ["steps", i];
    whereSteps.push(where(path));
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
      fail(path, `a step is a map with one of ${STEP_KINDS.join(", ")}`);
      continue;
    }
    const kinds = STEP_KINDS.filter((k) => k in raw);
    if (kinds.length !== 1) {
      const unknown = Object.keys(raw).find((k) => !(k in stepSchemas.call.shape) && !(k in common));
      fail(
        unknown ? [...path, unknown] : path,
        kinds.length
          ? `a step has one kind, not ${kinds.join(" and ")}`
          : `unknown step kind${unknown ? ` '${unknown}'` : ""}: a step has one of ${STEP_KINDS.join(", ")}`,
      );
      continue;
    }
    const kind = kinds[0]!;
    const parsed = stepSchemas[kind].safeParse(raw);
    if (!parsed.success) {
      zodFail(path, parsed.error.issues);
      continue;
    }
    const step = { kind, ...parsed.data } as Step;
    if (step.kind === "call" && !isKnownService(step.call.split(":")[0]!))
      fail([...path, "call"], `unknown service '${step.call.split(":")[0]}'`);
    if (step.as !== undefined && !(step.as in h.accounts))
      fail([...path, "as"], `no account '${step.as}' (accounts: ${Object.keys(h.accounts).join(", ")})`);
    for (const ref of referencesIn(raw)) {
      const root = ref.name.split(/[.[]/)[0]!;
      if (!["accounts", "region", "time", "scenario"].includes(root) && !ids.has(root))
        fail(
          [...path, ...ref.path],
          `\${${ref.name}} refers to no earlier step (ids so far: ${[...ids].join(", ") || "none"})`,
        );
      else if (root === "accounts" && !((ref.name.split(".")[1] ?? "") in h.accounts))
        fail([...path, ...ref.path], `\${${ref.name}}: no such account`);
    }
    if (step.id) {
      if (
        ids.has(step.id) ||
        step.id in h.accounts ||
        ["accounts", "region", "time", "scenario"].includes(step.id)
      )
        fail([...path, "id"], `id '${step.id}' is already taken`);
      ids.add(step.id);
    }
    steps.push(step);
  }
  if (problems.length) throw new ScenarioError(problems);
  return {
    name: h.name,
    title: h.title,
    description: (h.description ?? "").trim(),
    region: h.region ?? "us-east-1",
    accounts: h.accounts,
    steps,
    file,
    dir: file.includes("/") ? file.slice(0, file.lastIndexOf("/")) : ".",
    where: whereSteps,
  };
}

/** Every `call` names an action its service has (the SDK's own list of commands). */
export async function checkActions(sc: Scenario): Promise<void> {
  const problems: string[] = [];
  for (const [i, s] of sc.steps.entries()) {
    if (s.kind !== "call") continue;
    const [service, action] = s.call.split(":") as [string, string];
    if (!(await hasAction(service, action)))
      problems.push(`${sc.where[i]}: steps[${i}].call: ${service} has no action ${action}`);
  }
  if (problems.length) throw new ScenarioError(problems);
}
