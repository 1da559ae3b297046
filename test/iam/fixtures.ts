import type { AuthRequest, Principal, RequestContextValues } from "../../src/iam/index.js";

export const ACCOUNT = "111122223333";
export const OTHER_ACCOUNT = "444455556666";

export const principals = {
  root: { type: "AWS", arn: `arn:aws:iam::${ACCOUNT}:root` },
  alice: { type: "AWS", arn: `arn:aws:iam::${ACCOUNT}:user/alice`, userId: "AIDAALICEEXAMPLE0001" },
  bob: { type: "AWS", arn: `arn:aws:iam::${OTHER_ACCOUNT}:user/Bob`, userId: "AIDABOBEXAMPLE000001" },
  appSession: {
    type: "AWS",
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/app-role/i-0123456789abcdef0`,
    userId: "AROAAPPROLEEXAMPLE01:i-0123456789abcdef0",
  },
  otherRoleSession: { type: "AWS", arn: `arn:aws:sts::${ACCOUNT}:assumed-role/ops-role/jane` },
  foreignAppSession: { type: "AWS", arn: `arn:aws:sts::${OTHER_ACCOUNT}:assumed-role/app-role/x` },
  auditSession: {
    type: "AWS",
    arn: `arn:aws:sts::${OTHER_ACCOUNT}:assumed-role/cross-account-read-only-role/cross-account-audit-app`,
  },
  federated: { type: "AWS", arn: `arn:aws:sts::${ACCOUNT}:federated-user/carol` },
  anonymous: { type: "Anonymous", arn: "anonymous" },
  vpceService: { type: "Service", arn: "vpce.amazonaws.com" },
} satisfies Record<string, Principal>;

export type PrincipalName = keyof typeof principals;

export interface RequestFixture {
  principal?: PrincipalName;
  action?: string;
  resource?: string;
  context?: RequestContextValues;
}

export function request(r: RequestFixture = {}): AuthRequest {
  return {
    principal: principals[r.principal ?? "alice"],
    action: r.action ?? "s3:GetObject",
    resource: r.resource ?? "arn:aws:s3:::bucket/key",
    context: r.context ?? {},
  };
}
