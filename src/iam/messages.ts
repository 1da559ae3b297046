import type { Decision } from "./evaluate.js";

/**
 * Which kind of policy denied a request, named as AWS names it in access-denied messages
 * ("with an explicit deny in a VPC endpoint policy").
 */
export type DenyingPolicyType = "endpoint" | "resource" | "identity" | "scp" | "boundary" | "session";

const NAMES: Record<DenyingPolicyType, { name: string; article: string }> = {
  endpoint: { name: "VPC endpoint policy", article: "a" },
  resource: { name: "resource-based policy", article: "a" },
  identity: { name: "identity-based policy", article: "an" },
  scp: { name: "service control policy", article: "a" },
  boundary: { name: "permissions boundary", article: "a" },
  session: { name: "session policy", article: "a" },
};

export interface AccessDeniedInput {
  /** The caller's ARN (the session ARN for assumed roles). */
  readonly principalArn: string;
  /** `service:Action` as the service spells it. */
  readonly action: string;
  /** Omitted for actions without a resource: the message then has no "on resource:" part. */
  readonly resource?: string;
  readonly decision: Exclude<Decision, "Allow">;
  readonly policyType: DenyingPolicyType;
  /** S3 prints the resource ARN in double quotes. */
  readonly quoteResource?: boolean;
}

/**
 * AWS's access-denied text:
 * `User: <arn> is not authorized to perform: <action> on resource: <arn> because no <type> allows the <action> action`
 * or `… with an explicit deny in a <type>`. Error code and HTTP status are per service.
 */
export function accessDeniedMessage(input: AccessDeniedInput): string {
  const { name, article } = NAMES[input.policyType];
  const resource =
    input.resource === undefined
      ? ""
      : ` on resource: ${input.quoteResource ? `"${input.resource}"` : input.resource}`;
  const head = `User: ${input.principalArn} is not authorized to perform: ${input.action}${resource}`;
  return input.decision === "ExplicitDeny"
    ? `${head} with an explicit deny in ${article} ${name}`
    : `${head} because no ${name} allows the ${input.action} action`;
}
