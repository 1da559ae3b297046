// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are literal ${…} text in policies
import { describe, expect, it } from "vitest";
import { AwsError } from "../../src/cloud/errors.js";
import {
  DEFAULT_ENDPOINT_POLICY,
  DEFAULT_GATEWAY_ENDPOINT_POLICY,
  ENDPOINT_POLICY_MAX_LENGTH,
  type PolicyKind,
  parsePolicy,
} from "../../src/iam/index.js";

const allow = (extra: Record<string, unknown> = {}) => ({
  Effect: "Allow",
  Principal: "*",
  Action: "*",
  Resource: "*",
  ...extra,
});
const doc = (...statements: unknown[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });

/** Pads a valid endpoint policy with whitespace to exactly `length` characters. */
function padded(length: number): string {
  return DEFAULT_ENDPOINT_POLICY.replace("{", `{${" ".repeat(length - DEFAULT_ENDPOINT_POLICY.length)}`);
}

interface Case {
  name: string;
  text: string;
  kind?: PolicyKind;
  /** Undefined: the document is valid. */
  error?: RegExp;
}

const cases: Case[] = [
  { name: "default interface endpoint policy", text: DEFAULT_ENDPOINT_POLICY, kind: "endpoint" },
  {
    name: "default gateway endpoint policy",
    text: DEFAULT_GATEWAY_ENDPOINT_POLICY,
    kind: "endpoint",
  },
  {
    name: "a statement object instead of an array",
    text: JSON.stringify({ Statement: allow() }),
    kind: "endpoint",
  },
  { name: "endpoint policy at the size limit", text: padded(ENDPOINT_POLICY_MAX_LENGTH), kind: "endpoint" },
  {
    name: "endpoint policy over the size limit",
    text: padded(ENDPOINT_POLICY_MAX_LENGTH + 1),
    kind: "endpoint",
    error: /20481 characters long; the maximum is 20480/,
  },
  {
    name: "resource policies have no 20,480 limit here",
    text: padded(ENDPOINT_POLICY_MAX_LENGTH + 1),
    kind: "resource",
  },
  { name: "not JSON", text: "{Statement:", error: /not valid JSON/ },
  { name: "a JSON array", text: "[]", error: /must be a JSON object/ },
  { name: "no Statement", text: '{"Version":"2012-10-17"}', error: /no Statement/ },
  { name: "empty Statement", text: '{"Statement":[]}', error: /no statements/ },
  {
    name: "unknown Version",
    text: JSON.stringify({ Version: "2020-01-01", Statement: allow() }),
    error: /Version/,
  },
  {
    name: "unknown top-level element",
    text: JSON.stringify({ Statement: allow(), Statements: [] }),
    error: /Unknown element "Statements"/,
  },
  {
    name: "unknown statement element",
    text: doc(allow({ Actions: "s3:*" })),
    error: /Unknown element "Actions" in Statement 0/,
  },
  {
    name: "Effect in the wrong case",
    text: doc(allow({ Effect: "allow" })),
    error: /Effect must be "Allow" or "Deny"/,
  },
  { name: "Effect missing", text: doc({ Principal: "*", Action: "*", Resource: "*" }), error: /Effect/ },
  { name: "Sid not a string", text: doc(allow({ Sid: 1 })), error: /Sid must be a string/ },
  {
    name: "endpoint policy without Principal",
    text: doc({ Effect: "Allow", Action: "*", Resource: "*" }),
    kind: "endpoint",
    error: /VPC endpoint policy must contain a Principal/,
  },
  {
    name: "resource policy without Principal",
    text: doc({ Effect: "Allow", Action: "*", Resource: "*" }),
    kind: "resource",
    error: /resource-based policy must contain a Principal/,
  },
  {
    name: "NotPrincipal satisfies the Principal rule",
    text: doc({ Effect: "Deny", NotPrincipal: { AWS: "111122223333" }, Action: "*", Resource: "*" }),
    kind: "endpoint",
  },
  {
    name: "identity policy with a Principal",
    text: doc(allow()),
    kind: "identity",
    error: /must not name a Principal/,
  },
  {
    name: "identity policy without Resource",
    text: doc({ Effect: "Allow", Action: "*" }),
    kind: "identity",
    error: /Resource or NotResource is required/,
  },
  {
    name: "resource policy without Resource",
    text: doc({ Effect: "Allow", Principal: { AWS: "999999999999" }, Action: "sns:*" }),
    kind: "resource",
  },
  {
    name: "Principal and NotPrincipal",
    text: doc(allow({ NotPrincipal: "*" })),
    error: /Principal and NotPrincipal are exclusive/,
  },
  {
    name: "Action and NotAction",
    text: doc(allow({ NotAction: "s3:*" })),
    error: /Action and NotAction are exclusive/,
  },
  {
    name: "Resource and NotResource",
    text: doc(allow({ NotResource: "*" })),
    error: /Resource and NotResource are exclusive/,
  },
  {
    name: "no Action",
    text: doc({ Effect: "Allow", Principal: "*", Resource: "*" }),
    error: /Action or NotAction is required/,
  },
  {
    name: "Action not a string",
    text: doc(allow({ Action: 3 })),
    error: /Action must be a string or an array of strings/,
  },
  { name: "empty Action list", text: doc(allow({ Action: [] })), error: /Action must not be empty/ },
  { name: "Action without a service", text: doc(allow({ Action: "GetObject" })), error: /not an action/ },
  {
    name: "wildcard in the service prefix",
    text: doc(allow({ Action: "s3*:GetObject" })),
    error: /not an action/,
  },
  {
    name: "Resource not an ARN",
    text: doc(allow({ Resource: "bucket/key" })),
    error: /must be an ARN or "\*"/,
  },
  {
    name: "Principal as a bare ARN string",
    text: doc(allow({ Principal: "arn:aws:iam::111122223333:root" })),
    error: /Principal must be a JSON object/,
  },
  {
    name: "unknown principal type",
    text: doc(allow({ Principal: { Users: "x" } })),
    error: /Unknown element "Users"/,
  },
  { name: "empty principal object", text: doc(allow({ Principal: {} })), error: /names no principal/ },
  {
    name: "partial wildcard principal",
    text: doc(allow({ Principal: { AWS: "arn:aws:iam::111122223333:role/*" } })),
    error: /Invalid principal in policy/,
  },
  {
    name: "malformed AWS principal",
    text: doc(allow({ Principal: { AWS: "alice" } })),
    error: /Invalid principal in policy: \{"AWS":"alice"\}/,
  },
  {
    name: "all principal forms",
    text: doc(
      allow({
        Principal: {
          AWS: [
            "111122223333",
            "arn:aws:iam::111122223333:root",
            "arn:aws:iam::111122223333:user/a",
            "arn:aws:iam::111122223333:role/r",
            "arn:aws:sts::111122223333:assumed-role/r/s",
            "*",
          ],
          Service: "vpce.amazonaws.com",
          Federated: "cognito-identity.amazonaws.com",
          CanonicalUser: "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
        },
      }),
    ),
  },
  {
    name: "unknown condition operator",
    text: doc(allow({ Condition: { StringEqual: { "aws:SourceVpce": "vpce-1" } } })),
    error: /Invalid condition operator "StringEqual"/,
  },
  {
    name: "unknown set operator",
    text: doc(allow({ Condition: { "ForSomeValues:StringEquals": { k: "v" } } })),
    error: /Invalid condition set operator/,
  },
  {
    name: "Null with IfExists",
    text: doc(allow({ Condition: { NullIfExists: { k: "true" } } })),
    error: /Null takes no IfExists/,
  },
  {
    name: "Null with a set operator",
    text: doc(allow({ Condition: { "ForAllValues:Null": { k: "true" } } })),
    error: /Null takes no IfExists or set operator/,
  },
  {
    name: "Null with a non-boolean",
    text: doc(allow({ Condition: { Null: { k: "maybe" } } })),
    error: /"true" or "false"/,
  },
  {
    name: "numeric value not a number",
    text: doc(allow({ Condition: { NumericLessThan: { "s3:max-keys": "ten" } } })),
    error: /NumericLessThan cannot compare with "ten"/,
  },
  {
    name: "no variables with numeric operators",
    text: doc(allow({ Condition: { NumericEquals: { k: "${aws:username}" } } })),
    error: /cannot compare/,
  },
  {
    name: "date value not a date",
    text: doc(allow({ Condition: { DateLessThan: { "aws:CurrentTime": "next week" } } })),
    error: /DateLessThan cannot compare/,
  },
  {
    name: "Bool value not a boolean",
    text: doc(allow({ Condition: { Bool: { "aws:SecureTransport": "yes" } } })),
    error: /Bool takes "true" or "false"/,
  },
  {
    name: "IpAddress value not a CIDR",
    text: doc(allow({ Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/33" } } })),
    error: /IP address or CIDR/,
  },
  {
    name: "BinaryEquals value not base64",
    text: doc(allow({ Condition: { BinaryEquals: { k: "not base64!" } } })),
    error: /base64/,
  },
  {
    name: "condition value an object",
    text: doc(allow({ Condition: { StringEquals: { k: { a: 1 } } } })),
    error: /condition values must be strings, numbers or booleans/,
  },
  {
    name: "condition block not an object",
    text: doc(allow({ Condition: { StringEquals: "x" } })),
    error: /must be a JSON object/,
  },
  {
    name: "JSON numbers and booleans as condition values",
    text: doc(allow({ Condition: { NumericEquals: { k: 5 }, Bool: { b: false } } })),
  },
  // Endpoint-policy rules (AWS PrivateLink guide)
  {
    name: "wildcard on aws:PrincipalAccount in an endpoint policy",
    text: doc(allow({ Condition: { StringLike: { "aws:PrincipalAccount": "1111*" } } })),
    kind: "endpoint",
    error: /wildcards are not allowed in values of aws:PrincipalAccount/,
  },
  {
    name: "wildcard on aws:SourceVpc in an endpoint policy",
    text: doc(allow({ Condition: { StringLike: { "AWS:SOURCEVPC": "vpc-?" } } })),
    kind: "endpoint",
    error: /wildcards/,
  },
  {
    name: "numeric operator on aws:SourceVpce in an endpoint policy",
    text: doc(allow({ Condition: { NumericEquals: { "aws:SourceVpce": "1" } } })),
    kind: "endpoint",
    error: /NumericEquals cannot be used with aws:SourceVpce/,
  },
  {
    name: "ARN account with ID and wildcard",
    text: doc(allow({ Resource: "arn:aws:secretsmanager:us-east-1:1111*:secret:x" })),
    kind: "endpoint",
    error: /account ID or a wildcard, not both/,
  },
  {
    name: "ARN condition account with ID and wildcard",
    text: doc(allow({ Condition: { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::11112222333?:role/x" } } })),
    kind: "endpoint",
    error: /not both/,
  },
  {
    name: "ARN account wildcard alone is fine",
    text: doc(allow({ Resource: "arn:aws:secretsmanager:us-east-1:*:secret:x" })),
    kind: "endpoint",
  },
  {
    name: "the endpoint rules do not apply to resource policies",
    text: doc(allow({ Condition: { StringLike: { "aws:PrincipalAccount": "1111*" } } })),
    kind: "resource",
  },
];

describe("parsePolicy", () => {
  for (const c of cases) {
    it(c.name, () => {
      const parse = () => parsePolicy(c.text, { kind: c.kind ?? "resource" });
      if (c.error === undefined) {
        expect(parse().statements.length).toBeGreaterThan(0);
        return;
      }
      expect(parse).toThrow(c.error);
      try {
        parse();
      } catch (err) {
        expect(err).toBeInstanceOf(AwsError);
        expect((err as AwsError).code).toBe("InvalidPolicyDocument");
        expect((err as AwsError).status).toBe(400);
      }
    });
  }

  it("normalizes elements to arrays and keeps Sid, Version and Id", () => {
    const policy = parsePolicy(
      JSON.stringify({
        Version: "2012-10-17",
        Id: "p1",
        Statement: {
          Sid: "S",
          Effect: "Deny",
          NotPrincipal: { AWS: "111122223333" },
          NotAction: "s3:Get*",
          NotResource: "arn:aws:s3:::b/*",
          Condition: { Bool: { "aws:SecureTransport": false } },
        },
      }),
      { kind: "resource" },
    );
    expect(policy).toEqual({
      version: "2012-10-17",
      id: "p1",
      statements: [
        {
          sid: "S",
          effect: "Deny",
          notPrincipal: { AWS: ["111122223333"] },
          notAction: ["s3:Get*"],
          notResource: ["arn:aws:s3:::b/*"],
          condition: { Bool: { "aws:SecureTransport": ["false"] } },
        },
      ],
    });
  });

  it("leaves Version out when the document does", () => {
    expect(parsePolicy(DEFAULT_ENDPOINT_POLICY, { kind: "endpoint" })).toEqual({
      statements: [{ effect: "Allow", principal: "*", action: ["*"], resource: ["*"] }],
    });
  });

  it("throws the service's error code when asked", () => {
    expect(() => parsePolicy("nope", { kind: "identity", errorCode: "MalformedPolicyDocument" })).toThrow(
      expect.objectContaining({ code: "MalformedPolicyDocument" }),
    );
  });

  it("applies a custom length limit", () => {
    expect(() => parsePolicy(DEFAULT_ENDPOINT_POLICY, { kind: "resource", maxLength: 20 })).toThrow(
      /maximum is 20/,
    );
  });
});
