import { describe, expect, it } from "vitest";
import { type AccessDeniedInput, accessDeniedMessage } from "../../src/iam/index.js";

const USER = "arn:aws:iam::123456789012:user/MaryMajor";
const SESSION = "arn:aws:sts::111122223333:assumed-role/app-role/i-0abc";
const SECRET = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf";

const cases: { input: AccessDeniedInput; text: string }[] = [
  {
    input: {
      principalArn: SESSION,
      action: "secretsmanager:GetSecretValue",
      resource: SECRET,
      decision: "ImplicitDeny",
      policyType: "endpoint",
    },
    text: `User: ${SESSION} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${SECRET} because no VPC endpoint policy allows the secretsmanager:GetSecretValue action`,
  },
  {
    input: {
      principalArn: SESSION,
      action: "secretsmanager:GetSecretValue",
      resource: SECRET,
      decision: "ExplicitDeny",
      policyType: "endpoint",
    },
    text: `User: ${SESSION} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${SECRET} with an explicit deny in a VPC endpoint policy`,
  },
  {
    input: {
      principalArn: USER,
      action: "s3:GetObject",
      resource: "arn:aws:s3:::b/k",
      decision: "ImplicitDeny",
      policyType: "resource",
      quoteResource: true,
    },
    text: `User: ${USER} is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::b/k" because no resource-based policy allows the s3:GetObject action`,
  },
  {
    input: {
      principalArn: USER,
      action: "s3:DeleteObject",
      resource: "arn:aws:s3:::b/k",
      decision: "ExplicitDeny",
      policyType: "resource",
      quoteResource: true,
    },
    text: `User: ${USER} is not authorized to perform: s3:DeleteObject on resource: "arn:aws:s3:::b/k" with an explicit deny in a resource-based policy`,
  },
  {
    input: {
      principalArn: USER,
      action: "codecommit:ListRepositories",
      decision: "ImplicitDeny",
      policyType: "identity",
    },
    text: `User: ${USER} is not authorized to perform: codecommit:ListRepositories because no identity-based policy allows the codecommit:ListRepositories action`,
  },
  {
    input: {
      principalArn: USER,
      action: "s3:GetObject",
      resource: "arn:aws:s3:::b/k",
      decision: "ExplicitDeny",
      policyType: "identity",
    },
    text: `User: ${USER} is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k with an explicit deny in an identity-based policy`,
  },
  {
    input: { principalArn: USER, action: "s3:GetObject", decision: "ExplicitDeny", policyType: "scp" },
    text: `User: ${USER} is not authorized to perform: s3:GetObject with an explicit deny in a service control policy`,
  },
  {
    input: { principalArn: USER, action: "s3:GetObject", decision: "ImplicitDeny", policyType: "boundary" },
    text: `User: ${USER} is not authorized to perform: s3:GetObject because no permissions boundary allows the s3:GetObject action`,
  },
];

describe("accessDeniedMessage", () => {
  for (const c of cases) {
    it(`${c.input.decision} in ${c.input.policyType}${c.input.resource ? "" : " without resource"}`, () => {
      expect(accessDeniedMessage(c.input)).toBe(c.text);
    });
  }
});
