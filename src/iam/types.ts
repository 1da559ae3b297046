import type { ConditionBlock } from "./conditions.js";
import type { PrincipalElement } from "./principal.js";

// The policy language's types, read by the parser (policy.ts) and the evaluator (evaluate.ts).

export type Effect = "Allow" | "Deny";
export type PolicyVersion = "2012-10-17" | "2008-10-17";

/** Endpoint and resource policies name principals; identity policies must not. */
export type PolicyKind = "endpoint" | "resource" | "identity";

/** One statement, with every list element normalized to an array. */
export interface Statement {
  readonly sid?: string;
  readonly effect: Effect;
  readonly principal?: PrincipalElement;
  readonly notPrincipal?: PrincipalElement;
  readonly action?: readonly string[];
  readonly notAction?: readonly string[];
  /** Neither Resource nor NotResource (allowed outside identity policies) means every resource. */
  readonly resource?: readonly string[];
  readonly notResource?: readonly string[];
  readonly condition?: ConditionBlock;
}

export interface Policy {
  /** Absent means 2008-10-17: policy variables are then literal text. */
  readonly version?: PolicyVersion;
  readonly id?: string;
  readonly statements: readonly Statement[];
}
