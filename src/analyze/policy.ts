/**
 * The policy side of a flow to an AWS service through an interface endpoint: would the service
 * front let `principal` do `action` on `resource`? The answer comes from the front's own
 * `decide` (front/authorize.ts) with the endpoint context the front would set, so `why` and the
 * front never disagree.
 */
import type { Via } from "../cloud/context.js";
import type { Runtime } from "../cloud/runtime.js";
import type { State } from "../cloud/state.js";
import type { VpcEndpoint } from "../cloud/types.js";
import { accessDenied, decide } from "../front/authorize.js";
import { parseIdentityArn } from "../iam/index.js";
import { BadInput } from "./subjects.js";

export interface PolicyQuery {
  readonly principal: string;
  readonly action: string;
  readonly resource?: string;
}

export interface PolicyHop {
  readonly kind: "endpoint-policy" | "resource-policy";
  readonly allowed: boolean;
  readonly resource?: string;
  readonly detail: string;
}

/** Resource policies privlink's built-in services keep, by service: the resource's owner and document. */
const RESOURCE_POLICIES: Record<
  string,
  (state: State, arn: string) => { accountId: string; policy?: string; arn: string } | undefined
> = {
  secretsmanager: (state, arn) => {
    for (const s of state.all("secret"))
      if (s.id === arn || arn === s.id.slice(0, s.id.lastIndexOf("-")))
        return { accountId: s.accountId, policy: s.resourcePolicy, arn: s.id };
    return undefined;
  },
};

export function checkPolicyQuery(q: PolicyQuery): void {
  if (!parseIdentityArn(q.principal))
    throw new BadInput(`--principal '${q.principal}' is not an IAM or STS ARN`);
  if (!/^[a-z0-9-]+:[A-Za-z0-9*]+$/.test(q.action))
    throw new BadInput(`--action '${q.action}' is not service:Action (e.g. secretsmanager:GetSecretValue)`);
}

/**
 * The endpoint policy and the resource policy hops, each allowed or refused with the text the
 * front would answer (AWS's access-denied message).
 */
export function policyHops(
  state: State,
  rt: Runtime,
  endpoint: VpcEndpoint,
  source: { readonly privateIp: string },
  q: PolicyQuery,
): PolicyHop[] {
  const identity = parseIdentityArn(q.principal)!;
  const service = q.action.slice(0, q.action.indexOf(":"));
  const found = q.resource ? RESOURCE_POLICIES[service]?.(state, q.resource) : undefined;
  const resource = found?.arn ?? q.resource ?? "*";
  const via: Via = {
    vpceId: endpoint.id,
    vpcId: endpoint.vpcId,
    sourceIp: source.privateIp,
    policyDocument: endpoint.policyDocument,
    endpointAccountId: endpoint.accountId,
  };
  const ctx = {
    accountId: identity.accountId,
    region: endpoint.serviceRegion,
    principalArn: q.principal,
    orgId: state.get("account", identity.accountId)?.orgId,
    rt,
    via,
    service,
  };
  const req = {
    action: q.action,
    resource,
    resourceAccount: found?.accountId,
    resourcePolicy: found?.policy,
  };
  const denial = decide(ctx, req);
  const message = (policyType: "endpoint" | "resource", decision: "ExplicitDeny" | "ImplicitDeny") =>
    accessDenied(service, {
      principalArn: q.principal,
      action: q.action,
      resource: resource === "*" ? undefined : resource,
      decision,
      policyType,
    }).message;
  const endpointHop: PolicyHop =
    denial?.policyType === "endpoint"
      ? {
          kind: "endpoint-policy",
          allowed: false,
          resource: endpoint.id,
          detail: message("endpoint", denial.decision),
        }
      : {
          kind: "endpoint-policy",
          allowed: true,
          resource: endpoint.id,
          detail: `${endpoint.id} policy ${endpoint.policyDocument ? "allows" : "(default, full access) allows"} ${q.action} on ${resource}`,
        };
  const resourceDenied = denial?.policyType === "resource";
  // The front reports the explicit deny first; a resource deny behind an endpoint deny is still shown.
  const resourceHop: PolicyHop = resourceDenied
    ? { kind: "resource-policy", allowed: false, resource, detail: message("resource", denial.decision) }
    : {
        kind: "resource-policy",
        allowed: true,
        resource,
        detail: found?.policy
          ? `the resource policy of ${resource} allows it`
          : `${resource === "*" ? "the action" : resource} has no resource policy`,
      };
  return [endpointHop, resourceHop];
}

/** Resource policies that name aws:SourceVpce or aws:SourceVpc (the access report lists them). */
export function resourcesRequiringVpce(
  state: State,
): { arn: string; accountId: string; keys: string[]; values: string[] }[] {
  const out: { arn: string; accountId: string; keys: string[]; values: string[] }[] = [];
  for (const s of state.all("secret")) {
    if (!s.resourcePolicy) continue;
    const found = conditionKeys(s.resourcePolicy);
    if (found.keys.length) out.push({ arn: s.id, accountId: s.accountId, ...found });
  }
  return out;
}

function conditionKeys(text: string): { keys: string[]; values: string[] } {
  const keys = new Set<string>();
  const values = new Set<string>();
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { keys: [], values: [] };
  }
  const statements = (doc as { Statement?: unknown }).Statement;
  for (const st of Array.isArray(statements) ? statements : [statements]) {
    const cond = (st as { Condition?: Record<string, Record<string, unknown>> } | undefined)?.Condition;
    for (const block of Object.values(cond ?? {}))
      for (const [key, v] of Object.entries(block ?? {}))
        if (/^aws:sourcevpce?$/i.test(key)) {
          keys.add(key);
          for (const x of Array.isArray(v) ? v : [v]) values.add(String(x));
        }
  }
  return { keys: [...keys], values: [...values] };
}
