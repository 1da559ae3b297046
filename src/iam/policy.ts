import { AwsError } from "../cloud/errors.js";
import { type ConditionBlock, parseOperator } from "./conditions.js";
import { INVALID_POLICY, invalidPolicy } from "./errors.js";
import { compilePolicy } from "./evaluate.js";
import type { PrincipalElement } from "./principal.js";
import type { Policy, PolicyKind, PolicyVersion, Statement } from "./types.js";

export type { ConditionBlock } from "./conditions.js";
export type { PrincipalElement } from "./principal.js";
export type { Effect, Policy, PolicyKind, PolicyVersion, Statement } from "./types.js";

export interface ParseOptions {
  readonly kind: PolicyKind;
  /** Character limit; endpoint policies default to 20,480 (whitespace included). */
  readonly maxLength?: number;
  /** The AWS error code to throw (default `InvalidPolicyDocument`, as EC2 uses). */
  readonly errorCode?: string;
}

export const ENDPOINT_POLICY_MAX_LENGTH = 20_480;

/** The policy AWS attaches to an interface endpoint when none is given. */
export const DEFAULT_ENDPOINT_POLICY =
  '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}';

/** The default policy of a gateway endpoint. */
export const DEFAULT_GATEWAY_ENDPOINT_POLICY =
  '{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}';

/** Parses and validates a policy document; the result is also compiled for `evaluate`. */
export function parsePolicy(text: string, options: ParseOptions): Policy {
  try {
    const policy = readPolicy(text, options);
    compilePolicy(policy);
    if (options.kind === "endpoint") checkEndpointRules(policy);
    return policy;
  } catch (err) {
    if (err instanceof AwsError && err.code === INVALID_POLICY && options.errorCode !== undefined) {
      throw new AwsError(options.errorCode, err.message, err.status);
    }
    throw err;
  }
}

function readPolicy(text: string, options: ParseOptions): Policy {
  if (typeof text !== "string") throw invalidPolicy("The policy document must be a string");
  const max = options.maxLength ?? (options.kind === "endpoint" ? ENDPOINT_POLICY_MAX_LENGTH : undefined);
  if (max !== undefined && text.length > max) {
    throw invalidPolicy(
      `The policy document is ${text.length} characters long; the maximum is ${max}, whitespace included`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw invalidPolicy(`The policy document is not valid JSON: ${(err as Error).message}`);
  }
  const obj = asObject(doc, "The policy document");
  checkKeys(obj, ["Version", "Id", "Statement"], "policy");
  const version = readVersion(obj.Version);
  const id = optionalString(obj.Id, "Id");
  if (obj.Statement === undefined) throw invalidPolicy("The policy document has no Statement");
  const raw = Array.isArray(obj.Statement) ? obj.Statement : [obj.Statement];
  if (raw.length === 0) throw invalidPolicy("The policy document has no statements");
  const statements = raw.map((s, i) => readStatement(s, i, options.kind));
  return { ...(version && { version }), ...(id !== undefined && { id }), statements };
}

function readVersion(v: unknown): PolicyVersion | undefined {
  if (v === undefined) return undefined;
  if (v === "2012-10-17" || v === "2008-10-17") return v;
  throw invalidPolicy(`The policy Version must be "2012-10-17" or "2008-10-17", not ${JSON.stringify(v)}`);
}

const STATEMENT_KEYS = [
  "Sid",
  "Effect",
  "Principal",
  "NotPrincipal",
  "Action",
  "NotAction",
  "Resource",
  "NotResource",
  "Condition",
];

function readStatement(raw: unknown, index: number, kind: PolicyKind): Statement {
  const where = `Statement ${index}`;
  const s = asObject(raw, where);
  checkKeys(s, STATEMENT_KEYS, where);
  const sid = optionalString(s.Sid, `${where} Sid`);
  if (s.Effect !== "Allow" && s.Effect !== "Deny") {
    throw invalidPolicy(`${where}: Effect must be "Allow" or "Deny", not ${JSON.stringify(s.Effect)}`);
  }
  const principal = pick(s, "Principal", "NotPrincipal", where, readPrincipal);
  if (kind === "identity" && principal !== undefined) {
    throw invalidPolicy(`${where}: an identity-based policy must not name a Principal`);
  }
  if (kind !== "identity" && principal === undefined) {
    throw invalidPolicy(
      `${where}: a ${kind === "endpoint" ? "VPC endpoint" : "resource-based"} policy must contain a Principal`,
    );
  }
  const action = pick(s, "Action", "NotAction", where, readActions);
  if (action === undefined) throw invalidPolicy(`${where}: Action or NotAction is required`);
  const resource = pick(s, "Resource", "NotResource", where, readResources);
  if (kind === "identity" && resource === undefined)
    throw invalidPolicy(`${where}: Resource or NotResource is required`);
  return {
    ...(sid !== undefined && { sid }),
    effect: s.Effect,
    ...(principal && { [principal.not ? "notPrincipal" : "principal"]: principal.value }),
    [action.not ? "notAction" : "action"]: action.value,
    ...(resource && { [resource.not ? "notResource" : "resource"]: resource.value }),
    ...(s.Condition !== undefined && { condition: readCondition(s.Condition, where) }),
  } as Statement;
}

/** An element that comes in a positive and a Not form, of which at most one may appear. */
function pick<T>(
  s: Record<string, unknown>,
  key: string,
  notKey: string,
  where: string,
  read: (v: unknown, where: string) => T,
): { not: boolean; value: T } | undefined {
  if (s[key] !== undefined && s[notKey] !== undefined)
    throw invalidPolicy(`${where}: ${key} and ${notKey} are exclusive`);
  if (s[key] !== undefined) return { not: false, value: read(s[key], `${where} ${key}`) };
  if (s[notKey] !== undefined) return { not: true, value: read(s[notKey], `${where} ${notKey}`) };
  return undefined;
}

const PRINCIPAL_TYPES = ["AWS", "Service", "Federated", "CanonicalUser"] as const;

function readPrincipal(v: unknown, where: string): PrincipalElement {
  if (v === "*") return "*";
  const obj = asObject(v, where);
  checkKeys(obj, PRINCIPAL_TYPES, where);
  const out: Record<string, string[]> = {};
  for (const type of PRINCIPAL_TYPES)
    if (obj[type] !== undefined) out[type] = stringList(obj[type], `${where} ${type}`);
  if (Object.keys(out).length === 0) throw invalidPolicy(`${where} names no principal`);
  return out;
}

const ACTION = /^[a-zA-Z0-9-]+:[^:\s]*$/;

function readActions(v: unknown, where: string): string[] {
  const actions = stringList(v, where);
  for (const a of actions) {
    if (a !== "*" && !ACTION.test(a)) {
      throw invalidPolicy(
        `${where}: "${a}" is not an action of the form service:ActionName (no wildcard in the service prefix)`,
      );
    }
  }
  return actions;
}

function readResources(v: unknown, where: string): string[] {
  const resources = stringList(v, where);
  for (const r of resources) {
    if (r !== "*" && !r.startsWith("arn:")) throw invalidPolicy(`${where}: "${r}" must be an ARN or "*"`);
  }
  return resources;
}

function readCondition(v: unknown, where: string): ConditionBlock {
  const ops = asObject(v, `${where} Condition`);
  const out: Record<string, Record<string, string[]>> = {};
  for (const [op, keys] of Object.entries(ops)) {
    const block = asObject(keys, `${where} Condition ${op}`);
    const entry: Record<string, string[]> = {};
    for (const [key, values] of Object.entries(block))
      entry[key] = conditionValues(values, `${where} Condition ${op} ${key}`);
    out[op] = entry;
  }
  return out;
}

/** Condition values may be JSON strings, numbers or booleans, alone or in an array. */
function conditionValues(v: unknown, where: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => {
    if (typeof x === "string") return x;
    if (typeof x === "number" || typeof x === "boolean") return String(x);
    throw invalidPolicy(`${where}: condition values must be strings, numbers or booleans`);
  });
}

function stringList(v: unknown, where: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) throw invalidPolicy(`${where} must not be empty`);
  for (const x of list)
    if (typeof x !== "string") throw invalidPolicy(`${where} must be a string or an array of strings`);
  return list as string[];
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw invalidPolicy(`${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

function optionalString(v: unknown, what: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw invalidPolicy(`${what} must be a string`);
  return v;
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw invalidPolicy(`Unknown element "${key}" in ${where}`);
  }
}

/** Global keys whose values AWS generates (account, organization, VPC and endpoint IDs). */
const SYSTEM_ID_KEYS = new Set(
  [
    "aws:PrincipalAccount",
    "aws:PrincipalOrgID",
    "aws:ResourceAccount",
    "aws:ResourceOrgID",
    "aws:SourceAccount",
    "aws:SourceOrgID",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:VpceAccount",
    "aws:VpceOrgID",
  ].map((k) => k.toLowerCase()),
);

/**
 * The endpoint-policy rules of the PrivateLink guide that can be checked statically: no
 * wildcards and no numeric operators on system-generated identifier keys, and an ARN's
 * account field holds an ID or a wildcard, not both. (The "six consecutive characters around
 * a wildcard" rule is not enforced: it would reject common prefixes such as `home/*`.)
 */
function checkEndpointRules(policy: Policy): void {
  policy.statements.forEach((s, i) => {
    for (const arn of [...(s.resource ?? []), ...(s.notResource ?? [])]) checkArnAccount(arn, i);
    for (const [name, keys] of Object.entries(s.condition ?? {})) {
      const op = parseOperator(name);
      for (const [key, values] of Object.entries(keys)) {
        if (op.family === "Arn") for (const v of values) checkArnAccount(v, i);
        if (!SYSTEM_ID_KEYS.has(key.toLowerCase())) continue;
        if (op.family === "Numeric")
          throw invalidPolicy(`Statement ${i}: ${name} cannot be used with ${key}`);
        if (values.some((v) => v.includes("*") || v.includes("?"))) {
          throw invalidPolicy(`Statement ${i}: wildcards are not allowed in values of ${key}`);
        }
      }
    }
  });
}

function checkArnAccount(arn: string, index: number): void {
  const account = arn.split(":")[4];
  if (account !== undefined && /\d/.test(account) && /[*?]/.test(account)) {
    throw invalidPolicy(
      `Statement ${index}: the account field of "${arn}" must be an account ID or a wildcard, not both`,
    );
  }
}
