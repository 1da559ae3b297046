export { type RequestContextInput, requestContext } from "./context.js";
export {
  type AuthRequest,
  CompiledPolicy,
  compilePolicy,
  type Decision,
  type EvaluationResult,
  evaluate,
  type MatchedStatement,
} from "./evaluate.js";
export { type AccessDeniedInput, accessDeniedMessage, type DenyingPolicyType } from "./messages.js";
export {
  type ConditionBlock,
  DEFAULT_ENDPOINT_POLICY,
  DEFAULT_GATEWAY_ENDPOINT_POLICY,
  type Effect,
  ENDPOINT_POLICY_MAX_LENGTH,
  type ParseOptions,
  type Policy,
  type PolicyKind,
  type PolicyVersion,
  type PrincipalElement,
  parsePolicy,
  type Statement,
} from "./policy.js";
export { type Identity, type Principal, parseIdentityArn } from "./principal.js";
export type { ContextScalar, ContextValue, RequestContextValues } from "./values.js";
