import { type Principal, parseIdentityArn } from "./principal.js";
import type { ContextValue } from "./values.js";

export interface RequestContextInput {
  readonly principal: Principal;
  /** The endpoint the request came through (`vpce-…`), when it came through one. */
  readonly sourceVpce?: string;
  readonly sourceVpc?: string;
  /** The caller's private address as the endpoint saw it. */
  readonly vpcSourceIp?: string;
  readonly secureTransport: boolean;
  readonly region: string;
  /** The account that owns the resource. */
  readonly resourceAccount?: string;
  readonly now: Date;
  /** The principal's AWS Organizations ID (`o-…`). */
  readonly orgId?: string;
}

/**
 * The global condition keys for a request, spelled and valued as AWS documents them. Keys
 * AWS leaves out of the context for this kind of caller are left out here too (so `Null`
 * and `…IfExists` behave as on AWS): e.g. `aws:username` exists only for IAM users, and
 * the VPC keys only for requests through an endpoint.
 */
export function requestContext(input: RequestContextInput): Record<string, ContextValue> {
  const now = new Date(Math.floor(input.now.getTime() / 1000) * 1000);
  const ctx: Record<string, ContextValue> = {
    "aws:CurrentTime": now,
    "aws:EpochTime": now.getTime() / 1000,
    "aws:SecureTransport": input.secureTransport,
    "aws:RequestedRegion": input.region,
    ...principalKeys(input.principal, input.orgId),
  };
  if (input.sourceVpce !== undefined) ctx["aws:SourceVpce"] = input.sourceVpce;
  if (input.sourceVpc !== undefined) ctx["aws:SourceVpc"] = input.sourceVpc;
  if (input.vpcSourceIp !== undefined) ctx["aws:VpcSourceIp"] = input.vpcSourceIp;
  if (input.resourceAccount !== undefined) ctx["aws:ResourceAccount"] = input.resourceAccount;
  return withoutUndefined(ctx);
}

/**
 * `aws:PrincipalArn` is the role ARN (not the session ARN) for assumed roles;
 * `aws:userid` is the account ID for root, `account:name` for federated users,
 * `role-id:session` for assumed roles and `anonymous` for anonymous callers.
 */
function principalKeys(principal: Principal, orgId: string | undefined): Record<string, ContextValue> {
  if (principal.type === "Anonymous") {
    return {
      "aws:PrincipalType": "Anonymous",
      "aws:userid": "anonymous",
      "aws:PrincipalIsAWSService": false,
    };
  }
  if (principal.type === "Service") {
    return { "aws:PrincipalServiceName": principal.arn, "aws:PrincipalIsAWSService": true };
  }
  if (principal.type === "Federated") return { "aws:PrincipalIsAWSService": false };
  const identity = parseIdentityArn(principal.arn);
  const accountId = principal.accountId ?? identity?.accountId;
  const keys: Record<string, ContextValue> = {
    "aws:PrincipalIsAWSService": false,
    "aws:PrincipalAccount": accountId,
    "aws:PrincipalOrgID": orgId,
    "aws:userid": principal.userId,
  };
  for (const [k, v] of Object.entries(principal.tags ?? {})) keys[`aws:PrincipalTag/${k}`] = v;
  if (identity === undefined) return { ...keys, "aws:PrincipalArn": principal.arn };
  const p = identity.partition;
  switch (identity.kind) {
    case "root":
      return {
        ...keys,
        "aws:PrincipalArn": principal.arn,
        "aws:PrincipalType": "Account",
        "aws:userid": identity.accountId,
      };
    case "user":
      return {
        ...keys,
        "aws:PrincipalArn": principal.arn,
        "aws:PrincipalType": "User",
        "aws:username": identity.name,
      };
    case "assumed-role":
      return {
        ...keys,
        "aws:PrincipalArn": principal.roleArn ?? `arn:${p}:iam::${identity.accountId}:role/${identity.name}`,
        "aws:PrincipalType": "AssumedRole",
      };
    case "federated-user":
      return {
        ...keys,
        "aws:PrincipalArn": principal.arn,
        "aws:PrincipalType": "FederatedUser",
        "aws:userid": principal.userId ?? `${identity.accountId}:${identity.name}`,
      };
    case "role":
      return { ...keys, "aws:PrincipalArn": principal.arn, "aws:PrincipalType": "AssumedRole" };
  }
}

/** Absent keys are left out rather than set to undefined (and without `delete`, which slows lookups). */
function withoutUndefined(ctx: Record<string, ContextValue>): Record<string, ContextValue> {
  const out: Record<string, ContextValue> = {};
  for (const [key, value] of Object.entries(ctx)) if (value !== undefined) out[key] = value;
  return out;
}
