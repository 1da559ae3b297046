// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are literal ${…} text in policies
import { describe, expect, it } from "vitest";
import { evaluate, type Principal, parsePolicy, requestContext } from "../../src/iam/index.js";
import { principals } from "./fixtures.js";

const NOW = new Date("2026-01-01T12:34:56.789Z");
const base = { secureTransport: true, region: "us-east-1", now: NOW };

interface Case {
  name: string;
  principal: Principal;
  orgId?: string;
  expected: Record<string, unknown>;
  absent: string[];
}

const cases: Case[] = [
  {
    name: "account root",
    principal: principals.root,
    expected: {
      "aws:PrincipalType": "Account",
      "aws:userid": "111122223333",
      "aws:PrincipalArn": "arn:aws:iam::111122223333:root",
      "aws:PrincipalAccount": "111122223333",
    },
    absent: ["aws:username"],
  },
  {
    name: "IAM user",
    principal: principals.alice,
    orgId: "o-exampleorgid",
    expected: {
      "aws:PrincipalType": "User",
      "aws:username": "alice",
      "aws:userid": "AIDAALICEEXAMPLE0001",
      "aws:PrincipalArn": principals.alice.arn,
      "aws:PrincipalOrgID": "o-exampleorgid",
      "aws:PrincipalIsAWSService": false,
    },
    absent: [],
  },
  {
    name: "IAM user with a path",
    principal: { type: "AWS", arn: "arn:aws:iam::111122223333:user/division/team/dave" },
    expected: { "aws:username": "dave", "aws:PrincipalType": "User" },
    absent: ["aws:userid"],
  },
  {
    name: "assumed role: PrincipalArn is the role, not the session",
    principal: principals.appSession,
    expected: {
      "aws:PrincipalType": "AssumedRole",
      "aws:PrincipalArn": "arn:aws:iam::111122223333:role/app-role",
      "aws:userid": "AROAAPPROLEEXAMPLE01:i-0123456789abcdef0",
      "aws:PrincipalAccount": "111122223333",
    },
    absent: ["aws:username"],
  },
  {
    name: "assumed role with a known role path",
    principal: { ...principals.appSession, roleArn: "arn:aws:iam::111122223333:role/service/app-role" },
    expected: { "aws:PrincipalArn": "arn:aws:iam::111122223333:role/service/app-role" },
    absent: [],
  },
  {
    name: "federated user",
    principal: principals.federated,
    expected: {
      "aws:PrincipalType": "FederatedUser",
      "aws:userid": "111122223333:carol",
      "aws:PrincipalArn": principals.federated.arn,
    },
    absent: ["aws:username"],
  },
  {
    name: "anonymous",
    principal: principals.anonymous,
    expected: { "aws:PrincipalType": "Anonymous", "aws:userid": "anonymous" },
    absent: ["aws:PrincipalArn", "aws:PrincipalAccount", "aws:username", "aws:PrincipalOrgID"],
  },
  {
    name: "service principal",
    principal: principals.vpceService,
    expected: { "aws:PrincipalServiceName": "vpce.amazonaws.com", "aws:PrincipalIsAWSService": true },
    absent: ["aws:PrincipalArn", "aws:PrincipalType", "aws:PrincipalAccount"],
  },
  {
    name: "principal tags",
    principal: { ...principals.alice, tags: { team: "blue" } },
    expected: { "aws:PrincipalTag/team": "blue" },
    absent: [],
  },
];

describe("requestContext", () => {
  for (const c of cases) {
    it(c.name, () => {
      const ctx = requestContext({ ...base, principal: c.principal, ...(c.orgId && { orgId: c.orgId }) });
      expect(ctx).toMatchObject(c.expected);
      for (const key of c.absent) expect(ctx).not.toHaveProperty([key]);
      for (const value of Object.values(ctx)) expect(value).not.toBeUndefined();
    });
  }

  it("fills the request keys, times at second resolution", () => {
    const ctx = requestContext({
      ...base,
      principal: principals.alice,
      sourceVpce: "vpce-1a2b3c4d",
      sourceVpc: "vpc-111bbb22",
      vpcSourceIp: "10.0.1.17",
      resourceAccount: "444455556666",
    });
    expect(ctx).toMatchObject({
      "aws:SourceVpce": "vpce-1a2b3c4d",
      "aws:SourceVpc": "vpc-111bbb22",
      "aws:VpcSourceIp": "10.0.1.17",
      "aws:ResourceAccount": "444455556666",
      "aws:SecureTransport": true,
      "aws:RequestedRegion": "us-east-1",
      "aws:CurrentTime": new Date("2026-01-01T12:34:56Z"),
      "aws:EpochTime": 1767270896,
    });
  });

  it("leaves the VPC keys out for requests that did not use an endpoint", () => {
    const ctx = requestContext({ ...base, principal: principals.alice });
    for (const key of ["aws:SourceVpce", "aws:SourceVpc", "aws:VpcSourceIp", "aws:ResourceAccount"]) {
      expect(ctx).not.toHaveProperty([key]);
    }
  });

  it("drives conditions and variables end to end", () => {
    const policy = parsePolicy(
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: "*",
            Action: "s3:GetObject",
            Resource: "arn:aws:s3:::home/${aws:username}/*",
            Condition: {
              StringEquals: { "aws:PrincipalAccount": "111122223333", "aws:SourceVpce": "vpce-1a2b3c4d" },
              IpAddress: { "aws:VpcSourceIp": "10.0.0.0/16" },
              Bool: { "aws:SecureTransport": "true" },
              DateLessThan: { "aws:CurrentTime": "2027-01-01T00:00:00Z" },
              NumericGreaterThan: { "aws:EpochTime": "1700000000" },
            },
          },
        ],
      }),
      { kind: "endpoint" },
    );
    const context = requestContext({
      ...base,
      principal: principals.alice,
      sourceVpce: "vpce-1a2b3c4d",
      vpcSourceIp: "10.0.3.4",
    });
    const req = {
      principal: principals.alice,
      action: "s3:GetObject",
      resource: "arn:aws:s3:::home/alice/a.txt",
      context,
    };
    expect(evaluate(policy, req).decision).toBe("Allow");
    expect(evaluate(policy, { ...req, resource: "arn:aws:s3:::home/bob/a.txt" }).decision).toBe(
      "ImplicitDeny",
    );
    const http = requestContext({
      ...base,
      secureTransport: false,
      principal: principals.alice,
      sourceVpce: "vpce-1a2b3c4d",
      vpcSourceIp: "10.0.3.4",
    });
    expect(evaluate(policy, { ...req, context: http }).decision).toBe("ImplicitDeny");
  });
});
