import { describe, expect, it } from "vitest";
import { fixedRuntime } from "../cloud/runtime.js";
import { type AuthzCtx, authorize, decide } from "./authorize.js";

const ACCT = "111122223333";
const OTHER = "444455556666";
const SECRET = `arn:aws:secretsmanager:us-east-1:${ACCT}:secret:prod/db-abc123`;
const VIA = { vpceId: "vpce-0123456789abcdef0", vpcId: "vpc-0123456789abcdef0", sourceIp: "10.0.1.5" };

const ctx = (over: Partial<AuthzCtx> = {}): AuthzCtx => ({
  accountId: ACCT,
  region: "us-east-1",
  principalArn: `arn:aws:iam::${ACCT}:root`,
  rt: fixedRuntime(),
  service: "secretsmanager",
  ...over,
});

const policy = (...statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });
const allowAll = { Effect: "Allow", Principal: "*", Action: "*", Resource: "*" };
const denyUnlessVpce = {
  Effect: "Deny",
  Principal: "*",
  Action: "*",
  Resource: "*",
  Condition: { StringNotEquals: { "aws:SourceVpce": VIA.vpceId } },
};

const cases: {
  name: string;
  ctx: AuthzCtx;
  resourcePolicy?: string;
  resourceAccount?: string;
  want: unknown;
}[] = [
  { name: "edge, no policies", ctx: ctx(), want: undefined },
  { name: "endpoint with the default policy", ctx: ctx({ via: VIA }), want: undefined },
  {
    name: "endpoint policy naming another resource",
    ctx: ctx({
      via: {
        ...VIA,
        policyDocument: policy({ ...allowAll, Resource: "arn:aws:secretsmanager:*:*:secret:dev/*" }),
      },
    }),
    want: { decision: "ImplicitDeny", policyType: "endpoint" },
  },
  {
    name: "resource policy demanding the endpoint, at the edge",
    ctx: ctx(),
    resourcePolicy: policy(denyUnlessVpce),
    want: { decision: "ExplicitDeny", policyType: "resource" },
  },
  {
    name: "resource policy demanding the endpoint, through it",
    ctx: ctx({ via: VIA }),
    resourcePolicy: policy(denyUnlessVpce),
    want: undefined,
  },
  {
    name: "explicit resource deny beats the endpoint's implicit deny",
    ctx: ctx({
      via: {
        ...VIA,
        vpceId: "vpce-0fffffffffffffff0",
        policyDocument: policy({ ...allowAll, Action: "s3:*" }),
      },
    }),
    resourcePolicy: policy(denyUnlessVpce),
    want: { decision: "ExplicitDeny", policyType: "resource" },
  },
  {
    name: "cross-account without a resource policy",
    ctx: ctx({ accountId: OTHER, principalArn: `arn:aws:iam::${OTHER}:root` }),
    resourceAccount: ACCT,
    want: { decision: "ImplicitDeny", policyType: "resource" },
  },
  {
    name: "cross-account allowed by the resource policy",
    ctx: ctx({ accountId: OTHER, principalArn: `arn:aws:iam::${OTHER}:root` }),
    resourceAccount: ACCT,
    resourcePolicy: policy({ ...allowAll, Principal: { AWS: OTHER } }),
    want: undefined,
  },
  {
    name: "aws:SecureTransport is true only through a front",
    ctx: ctx(),
    resourcePolicy: policy({
      ...allowAll,
      Effect: "Deny",
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    }),
    want: { decision: "ExplicitDeny", policyType: "resource" },
  },
  {
    name: "aws:VpcSourceIp is absent at the edge: an IfExists condition holds",
    ctx: ctx(),
    resourcePolicy: policy({
      ...allowAll,
      Effect: "Deny",
      Condition: { NotIpAddressIfExists: { "aws:VpcSourceIp": "10.0.0.0/8" } },
    }),
    want: { decision: "ExplicitDeny", policyType: "resource" },
  },
];

describe("authorize", () => {
  for (const c of cases)
    it(c.name, () => {
      const req = {
        action: "secretsmanager:GetSecretValue",
        resource: SECRET,
        resourcePolicy: c.resourcePolicy,
        resourceAccount: c.resourceAccount,
      };
      expect(decide(c.ctx, req)).toEqual(c.want);
    });

  it("throws each family's error with AWS's text", () => {
    const deny = { ...VIA, policyDocument: policy({ ...allowAll, Effect: "Deny" }) };
    const families = [
      {
        service: "secretsmanager",
        action: "secretsmanager:GetSecretValue",
        code: "AccessDeniedException",
        status: 400,
        resource: SECRET,
      },
      {
        service: "s3",
        action: "s3:GetObject",
        code: "AccessDenied",
        status: 403,
        resource: `"arn:aws:s3:::b/k"`,
      },
      {
        service: "sts",
        action: "sts:GetCallerIdentity",
        code: "AccessDenied",
        status: 403,
        resource: "arn:aws:sts::1:x",
      },
    ];
    for (const f of families) {
      const resource = f.resource.replace(/"/g, "");
      let thrown: { code?: string; status?: number; message?: string } = {};
      try {
        authorize(ctx({ via: deny, service: f.service }), { action: f.action, resource });
      } catch (e) {
        thrown = e as typeof thrown;
      }
      expect(thrown).toMatchObject({
        code: f.code,
        status: f.status,
        message: `User: arn:aws:iam::${ACCT}:root is not authorized to perform: ${f.action} on resource: ${f.resource} with an explicit deny in a VPC endpoint policy`,
      });
    }
  });
});
