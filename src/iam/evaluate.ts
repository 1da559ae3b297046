import { type CompiledCondition, type ConditionEnv, compileConditions } from "./conditions.js";
import { arnColons, arnMatch, compileGlob, hasWildcard, type Pattern } from "./glob.js";
import {
  compilePrincipals,
  notPrincipalExempts,
  type PreparedPrincipal,
  type Principal,
  preparePrincipal,
  principalMatches,
} from "./principal.js";
import { isStatic, parseTemplate, resolveTemplate } from "./template.js";
import type { Effect, Policy, Statement } from "./types.js";
import {
  type ContextMap,
  type ContextValue,
  normalizeContext,
  type RequestContextValues,
  scalarToString,
} from "./values.js";

export interface AuthRequest {
  readonly principal: Principal;
  /** `service:Action` as the service names it; matched case-insensitively. */
  readonly action: string;
  /** The resource ARN; matched case-sensitively. */
  readonly resource: string;
  /** Condition keys (case-insensitive); see `requestContext` for the global ones. */
  readonly context: RequestContextValues;
}

export type Decision = "Allow" | "ExplicitDeny" | "ImplicitDeny";

export interface MatchedStatement {
  /** Index of the policy in the list given to `evaluate`. */
  readonly policy: number;
  /** Index of the statement in its policy. */
  readonly statement: number;
  readonly sid?: string;
  readonly effect: Effect;
}

export interface EvaluationResult {
  readonly decision: Decision;
  /** The statements that decided: the matching Deny statements, or the matching Allow ones. */
  readonly matched: readonly MatchedStatement[];
}

interface CompiledStatement {
  readonly index: number;
  readonly sid: string | undefined;
  readonly effect: Effect;
  readonly action: (lowerAction: string) => boolean;
  readonly resource: (env: RequestEnv) => boolean;
  readonly principal: (p: PreparedPrincipal) => boolean;
  readonly conditions: readonly CompiledCondition[];
}

/** Bounds the per-policy memo of action → candidate statements (real services have few actions). */
const ACTION_MEMO_LIMIT = 4096;

/** A policy with its matchers built, ready to be evaluated many times. */
export class CompiledPolicy {
  private readonly byAction = new Map<string, readonly CompiledStatement[]>();

  constructor(
    readonly policy: Policy,
    readonly statements: readonly CompiledStatement[],
  ) {}

  /**
   * The statements whose Action/NotAction covers this action, memoized by the action as given
   * (fronts pass the same constant strings, whose hashes V8 keeps).
   */
  candidates(action: string): readonly CompiledStatement[] {
    let list = this.byAction.get(action);
    if (list === undefined) {
      const lower = action.toLowerCase();
      list = this.statements.filter((s) => s.action(lower));
      if (this.byAction.size >= ACTION_MEMO_LIMIT) this.byAction.clear();
      this.byAction.set(action, list);
    }
    return list;
  }
}

const compiled = new WeakMap<Policy, CompiledPolicy>();

/** Builds (once per policy object) the matchers `evaluate` runs; throws on invalid values. */
export function compilePolicy(policy: Policy): CompiledPolicy {
  let c = compiled.get(policy);
  if (c === undefined) {
    const variables = policy.version === "2012-10-17";
    c = new CompiledPolicy(
      policy,
      policy.statements.map((s, i) => compileStatement(s, i, variables)),
    );
    compiled.set(policy, c);
  }
  return c;
}

function compileStatement(s: Statement, index: number, variables: boolean): CompiledStatement {
  return {
    index,
    sid: s.sid,
    effect: s.effect,
    action: s.action ? compileActions(s.action) : negate(compileActions(s.notAction ?? [])),
    resource: s.resource
      ? compileResources(s.resource, variables)
      : s.notResource
        ? negate(compileResources(s.notResource, variables))
        : () => true,
    principal: compileStatementPrincipal(s),
    conditions: s.condition ? compileConditions(s.condition, variables) : [],
  };
}

function negate<A>(f: (a: A) => boolean): (a: A) => boolean {
  return (a) => !f(a);
}

function compileStatementPrincipal(s: Statement): (p: PreparedPrincipal) => boolean {
  if (s.principal !== undefined) {
    const set = compilePrincipals(s.principal);
    return (p) => principalMatches(set, p);
  }
  if (s.notPrincipal !== undefined) {
    const set = compilePrincipals(s.notPrincipal);
    return (p) => !notPrincipalExempts(set, p);
  }
  // Identity-based policies apply to the principal they are attached to.
  return () => true;
}

/** Actions compare case-insensitively, service prefix and name alike. */
function compileActions(actions: readonly string[]): (lowerAction: string) => boolean {
  const lowered = actions.map((a) => a.toLowerCase());
  if (lowered.includes("*")) return () => true;
  const exact = new Set(lowered.filter((a) => !hasWildcard(a)));
  const globs = lowered.filter(hasWildcard).map(compileGlob);
  if (globs.length === 0) return (a) => exact.has(a);
  return (a) => exact.has(a) || globs.some((g) => g(a));
}

type ResourceMatcher = (env: RequestEnv) => boolean;

function compileResources(resources: readonly string[], variables: boolean): ResourceMatcher {
  if (resources.includes("*")) return () => true;
  const matchers = resources.map((raw) => compileResource(raw, variables));
  if (matchers.length === 1) return matchers[0]!;
  return (env) => matchers.some((m) => m(env));
}

function compileResource(raw: string, variables: boolean): ResourceMatcher {
  const template = parseTemplate(raw, variables);
  if (isStatic(template)) {
    if (!hasWildcard(raw)) return (env) => env.resource === raw;
    const pattern: Pattern = { text: raw };
    const colons = arnColons(raw);
    return (env) => arnMatch(pattern, colons, env.resource, env.resourceColons);
  }
  // A variable without a value makes the ARN match no resource.
  return (env) => {
    const p = resolveTemplate(template, env);
    return p !== undefined && arnMatch(p, arnColons(p.text), env.resource, env.resourceColons);
  };
}

/** Per-request state, derived lazily so that statements without conditions pay nothing. */
class RequestEnv implements ConditionEnv {
  readonly resource: string;
  private colons: readonly number[] | undefined | null = null;
  private prepared: PreparedPrincipal | undefined;
  private normalized: ContextMap | undefined;

  constructor(private readonly request: AuthRequest) {
    this.resource = request.resource;
  }

  get resourceColons(): readonly number[] | undefined {
    if (this.colons === null) this.colons = arnColons(this.resource);
    return this.colons;
  }

  get principal(): PreparedPrincipal {
    if (this.prepared === undefined) this.prepared = preparePrincipal(this.request.principal);
    return this.prepared;
  }

  /**
   * Keys are case-insensitive, but policies and `requestContext` mostly spell them alike:
   * try the key as written, and lower-case the whole context (once per evaluation) only when
   * that misses.
   */
  value(key: string, lowerKey: string): ContextValue {
    const context = this.request.context;
    const direct = Object.hasOwn(context, key) ? context[key] : undefined;
    if (direct !== undefined) return direct;
    this.normalized ??= normalizeContext(context);
    return this.normalized.get(lowerKey);
  }

  /** Multivalued keys cannot be policy variables. */
  variable(key: string, lowerKey: string): string | undefined {
    const v = this.value(key, lowerKey);
    return v === undefined || Array.isArray(v) ? undefined : scalarToString(v);
  }
}

function applies(s: CompiledStatement, env: RequestEnv): boolean {
  if (!s.resource(env) || !s.principal(env.principal)) return false;
  for (const condition of s.conditions) if (!condition(env)) return false;
  return true;
}

/**
 * Evaluates one policy, or several whose grants add up (an identity policy and a same-account
 * resource policy): an explicit Deny anywhere wins, else any Allow allows, else the request is
 * implicitly denied. Where each policy must allow on its own (a VPC endpoint policy and the
 * caller's identity policy), call `evaluate` once per policy and require Allow from each.
 */
export function evaluate(
  policies: Policy | CompiledPolicy | readonly (Policy | CompiledPolicy)[],
  request: AuthRequest,
): EvaluationResult {
  const list = Array.isArray(policies)
    ? (policies as readonly (Policy | CompiledPolicy)[])
    : [policies as Policy];
  const env = new RequestEnv(request);
  const allows: MatchedStatement[] = [];
  const denies: MatchedStatement[] = [];
  for (let pi = 0; pi < list.length; pi++) {
    const item = list[pi]!;
    const policy = item instanceof CompiledPolicy ? item : compilePolicy(item);
    for (const s of policy.candidates(request.action)) {
      if (!applies(s, env)) continue;
      const m: MatchedStatement = {
        policy: pi,
        statement: s.index,
        effect: s.effect,
        ...(s.sid !== undefined && { sid: s.sid }),
      };
      (s.effect === "Deny" ? denies : allows).push(m);
    }
  }
  if (denies.length > 0) return { decision: "ExplicitDeny", matched: denies };
  if (allows.length > 0) return { decision: "Allow", matched: allows };
  return { decision: "ImplicitDeny", matched: [] };
}
