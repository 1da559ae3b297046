/**
 * The authorization hook of every request privlink serves as an AWS service: the VPC endpoint
 * policy (only for requests that came through an endpoint) and the resource's own policy,
 * evaluated by our IAM engine with the global condition keys AWS sets. Built-in services call
 * {@link authorize} from their handlers, once they know the resource ARN (Secrets Manager
 * resolves a SecretId to the secret's ARN first); the front calls it for services it forwards.
 *
 * privlink models no identity policies: a signed request from an account acts with that
 * account's full rights, so a same-account resource policy only matters through its Deny
 * statements, and a cross-account caller needs an Allow from it (as on AWS, where the identity
 * policy of the caller's own account would have to allow too).
 */
import { authFamilyOf } from "../api/sigv4.js";
import type { Ctx, Via } from "../cloud/context.js";
import { AwsError } from "../cloud/errors.js";
import {
  accessDeniedMessage,
  type DenyingPolicyType,
  evaluate,
  type Policy,
  type Principal,
  parsePolicy,
  requestContext,
} from "../iam/index.js";

export interface AccessRequest {
  /** `service:Action`, as IAM spells it (`secretsmanager:GetSecretValue`). */
  readonly action: string;
  /** The resource ARN, or `*` for actions without a resource. */
  readonly resource: string;
  /** The account that owns the resource (aws:ResourceAccount); default the caller's. */
  readonly resourceAccount?: string;
  /** The resource's own policy document, when it has one. */
  readonly resourcePolicy?: string;
}

/** What authorization reads of a request's context (a handler's `Ctx` has all of it). */
export type AuthzCtx = Pick<
  Ctx,
  "accountId" | "region" | "principalArn" | "orgId" | "rt" | "via" | "service"
>;

interface Denial {
  readonly decision: "ExplicitDeny" | "ImplicitDeny";
  readonly policyType: DenyingPolicyType;
}

/** Throws the service's access-denied error unless every applicable policy lets the request through. */
export function authorize(ctx: AuthzCtx, req: AccessRequest): void {
  const denial = decide(ctx, req);
  if (denial === undefined) return;
  const service = ctx.service ?? req.action.slice(0, req.action.indexOf(":"));
  throw accessDenied(service, {
    principalArn: ctx.principalArn,
    action: req.action,
    resource: req.resource === "*" ? undefined : req.resource,
    ...denial,
  });
}

/** The first policy that blocks the request: explicit denies before implicit ones. */
export function decide(ctx: AuthzCtx, req: AccessRequest): Denial | undefined {
  const principal: Principal = { type: "AWS", arn: ctx.principalArn, accountId: ctx.accountId };
  const resourceAccount = req.resourceAccount ?? ctx.accountId;
  const request = {
    principal,
    action: req.action,
    resource: req.resource,
    context: requestContext({
      principal,
      ...viaKeys(ctx.via),
      secureTransport: ctx.via !== undefined,
      region: ctx.region,
      resourceAccount,
      now: ctx.rt.now(),
      orgId: ctx.orgId,
    }),
  };
  const denials: Denial[] = [];
  if (ctx.via?.policyDocument !== undefined) {
    const policy = cachedPolicy(ctx.via.policyDocument, "endpoint");
    const decision = policy ? evaluate(policy, request).decision : "ImplicitDeny";
    if (decision !== "Allow") denials.push({ decision, policyType: "endpoint" });
  }
  const crossAccount = resourceAccount !== ctx.accountId;
  if (req.resourcePolicy !== undefined) {
    const policy = cachedPolicy(req.resourcePolicy, "resource");
    const decision = policy ? evaluate(policy, request).decision : "ImplicitDeny";
    if (decision === "ExplicitDeny" || (decision === "ImplicitDeny" && crossAccount))
      denials.push({ decision, policyType: "resource" });
  } else if (crossAccount) {
    denials.push({ decision: "ImplicitDeny", policyType: "resource" });
  }
  return denials.find((d) => d.decision === "ExplicitDeny") ?? denials[0];
}

function viaKeys(via: Via | undefined) {
  if (via === undefined) return {};
  return { sourceVpce: via.vpceId, sourceVpc: via.vpcId, vpcSourceIp: via.sourceIp };
}

/**
 * Each service family answers an access denial in its own way: JSON services with
 * AccessDeniedException (400), S3 with AccessDenied (403, resource quoted), Query services with
 * AccessDenied (403), EC2 with UnauthorizedOperation (403).
 */
export function accessDenied(
  service: string,
  input: Omit<Parameters<typeof accessDeniedMessage>[0], "quoteResource">,
): AwsError {
  switch (authFamilyOf(service)) {
    case "json":
      return new AwsError("AccessDeniedException", accessDeniedMessage(input), 400);
    case "s3":
      return new AwsError("AccessDenied", accessDeniedMessage({ ...input, quoteResource: true }), 403);
    case "ec2":
      return new AwsError(
        "UnauthorizedOperation",
        `You are not authorized to perform this operation. ${accessDeniedMessage(input)}`,
        403,
      );
    case "query":
      return new AwsError("AccessDenied", accessDeniedMessage(input), 403);
  }
}

/** Parsed policies by document text: the same endpoint policy is evaluated on every request. */
const POLICY_CACHE_LIMIT = 512;
const policyCache = new Map<string, Policy | null>();

/**
 * A stored policy that no longer parses (it was validated when stored) denies rather than
 * throwing: `null` is cached for it.
 */
function cachedPolicy(text: string, kind: "endpoint" | "resource"): Policy | undefined {
  const key = `${kind}\u0000${text}`;
  let policy = policyCache.get(key);
  if (policy === undefined) {
    try {
      policy = parsePolicy(text, { kind });
    } catch {
      policy = null;
    }
    if (policyCache.size >= POLICY_CACHE_LIMIT) policyCache.clear();
    policyCache.set(key, policy);
  }
  return policy ?? undefined;
}
