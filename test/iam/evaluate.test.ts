// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are literal ${…} text in policies
import { describe, expect, it } from "vitest";
import {
  compilePolicy,
  DEFAULT_ENDPOINT_POLICY,
  type Decision,
  evaluate,
  type PolicyKind,
  parsePolicy,
} from "../../src/iam/index.js";
import { ACCOUNT, OTHER_ACCOUNT, type RequestFixture, request } from "./fixtures.js";

const SECRET = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret`;

/** The brief's endpoint policy: one role may read secrets under prod/. */
const ENDPOINT_ONE_ROLE = {
  Statement: [
    {
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/app-role` },
      Action: "secretsmanager:GetSecretValue",
      Resource: `${SECRET}:prod/*`,
    },
  ],
};

/** A Secrets Manager resource policy that denies reads not made through one endpoint. */
const SECRET_POLICY_VPCE = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "AllowAccount",
      Effect: "Allow",
      Principal: { AWS: ACCOUNT },
      Action: "secretsmanager:*",
      Resource: "*",
    },
    {
      Sid: "DenyOutsideVpce",
      Effect: "Deny",
      Principal: "*",
      Action: "secretsmanager:GetSecretValue",
      Resource: "*",
      Condition: { StringNotEquals: { "aws:SourceVpce": "vpce-1a2b3c4d" } },
    },
  ],
};

const ALLOW_ALL = { Effect: "Allow", Principal: "*", Action: "*", Resource: "*" };

/** IAM User Guide, NotPrincipal with Deny: everyone but Bob (and his account) is denied. */
const NOT_BOB = {
  Version: "2012-10-17",
  Statement: [
    ALLOW_ALL,
    {
      Effect: "Deny",
      NotPrincipal: { AWS: [`arn:aws:iam::${OTHER_ACCOUNT}:user/Bob`, `arn:aws:iam::${OTHER_ACCOUNT}:root`] },
      Action: "s3:*",
      Resource: ["arn:aws:s3:::BUCKETNAME", "arn:aws:s3:::BUCKETNAME/*"],
    },
  ],
};

const NOT_AUDIT_APP = (listed: string[]) => ({
  Version: "2012-10-17",
  Statement: [
    ALLOW_ALL,
    {
      Effect: "Deny",
      NotPrincipal: { AWS: listed },
      Action: "s3:*",
      Resource: "arn:aws:s3:::Bucket_AccountAudit/*",
    },
  ],
});
const AUDIT_SESSION = `arn:aws:sts::${OTHER_ACCOUNT}:assumed-role/cross-account-read-only-role/cross-account-audit-app`;
const AUDIT_ROLE = `arn:aws:iam::${OTHER_ACCOUNT}:role/cross-account-read-only-role`;
const OTHER_ROOT = `arn:aws:iam::${OTHER_ACCOUNT}:root`;

/** IAM User Guide, negated matching: StringEquals on two tags AND ArnNotLike on the caller. */
const NEGATED_EXAMPLE = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "ExamplePolicy",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: "s3:ListBucket",
      Resource: "arn:aws:s3:::amzn-s3-demo-bucket",
      Condition: {
        StringEquals: {
          "aws:PrincipalTag/department": ["finance", "hr", "legal"],
          "aws:PrincipalTag/role": ["audit", "security"],
        },
        ArnNotLike: {
          "aws:PrincipalArn": [`arn:aws:iam::${ACCOUNT}:user/Ana`, `arn:aws:iam::${ACCOUNT}:user/Mary`],
        },
      },
    },
  ],
};
const listBucket = (context: Record<string, string>): RequestFixture => ({
  action: "s3:ListBucket",
  resource: "arn:aws:s3:::amzn-s3-demo-bucket",
  context,
});

/** IAM User Guide, ForAllValues with a Null check so that a missing key does not match. */
const TAG_KEYS_WITH_NULL = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Action: "ec2:DeleteTags",
      Resource: `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/*`,
      Condition: {
        "ForAllValues:StringEquals": { "aws:TagKeys": ["environment", "cost-center"] },
        Null: { "aws:TagKeys": "false" },
      },
    },
  ],
};
const deleteTags = (keys?: string[]): RequestFixture => ({
  action: "ec2:DeleteTags",
  resource: `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0abc`,
  context: keys === undefined ? {} : { "aws:TagKeys": keys },
});

const HOME_DIRS = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject"],
      Resource: ["arn:aws:s3:::mybucket/${aws:username}/*"],
    },
  ],
};

interface Case {
  name: string;
  policy: unknown;
  kind?: PolicyKind;
  request: RequestFixture;
  decision: Decision;
  /** Sids (or statement indexes) of the deciding statements. */
  matched?: (string | number)[];
}

const cases: Case[] = [
  // Default endpoint policy
  {
    name: "default endpoint policy allows a user",
    policy: DEFAULT_ENDPOINT_POLICY,
    kind: "endpoint",
    request: {},
    decision: "Allow",
  },
  {
    name: "default endpoint policy allows a role session",
    policy: DEFAULT_ENDPOINT_POLICY,
    kind: "endpoint",
    request: { principal: "appSession", action: "kms:Decrypt", resource: "*" },
    decision: "Allow",
  },
  {
    name: "default endpoint policy allows anonymous callers",
    policy: DEFAULT_ENDPOINT_POLICY,
    kind: "endpoint",
    request: { principal: "anonymous" },
    decision: "Allow",
  },

  // Endpoint policy limited to one role and one action
  {
    name: "one-role policy: the role's session may read prod",
    policy: ENDPOINT_ONE_ROLE,
    kind: "endpoint",
    request: {
      principal: "appSession",
      action: "secretsmanager:GetSecretValue",
      resource: `${SECRET}:prod/db-AbCdEf`,
    },
    decision: "Allow",
    matched: [0],
  },
  {
    name: "one-role policy: action case does not matter",
    policy: ENDPOINT_ONE_ROLE,
    kind: "endpoint",
    request: {
      principal: "appSession",
      action: "SecretsManager:getsecretvalue",
      resource: `${SECRET}:prod/db-AbCdEf`,
    },
    decision: "Allow",
  },
  {
    name: "one-role policy: other action",
    policy: ENDPOINT_ONE_ROLE,
    kind: "endpoint",
    request: {
      principal: "appSession",
      action: "secretsmanager:PutSecretValue",
      resource: `${SECRET}:prod/db-AbCdEf`,
    },
    decision: "ImplicitDeny",
  },
  {
    name: "one-role policy: other secret",
    policy: ENDPOINT_ONE_ROLE,
    kind: "endpoint",
    request: {
      principal: "appSession",
      action: "secretsmanager:GetSecretValue",
      resource: `${SECRET}:dev/db-AbCdEf`,
    },
    decision: "ImplicitDeny",
  },
  {
    name: "one-role policy: resource case matters",
    policy: ENDPOINT_ONE_ROLE,
    kind: "endpoint",
    request: {
      principal: "appSession",
      action: "secretsmanager:GetSecretValue",
      resource: `${SECRET}:Prod/db-AbCdEf`,
    },
    decision: "ImplicitDeny",
  },
  {
    name: "one-role policy: other role",
    policy: ENDPOINT_ONE_ROLE,
    kind: "endpoint",
    request: {
      principal: "otherRoleSession",
      action: "secretsmanager:GetSecretValue",
      resource: `${SECRET}:prod/db`,
    },
    decision: "ImplicitDeny",
  },
  {
    name: "one-role policy: same role name in another account",
    policy: ENDPOINT_ONE_ROLE,
    kind: "endpoint",
    request: {
      principal: "foreignAppSession",
      action: "secretsmanager:GetSecretValue",
      resource: `${SECRET}:prod/db`,
    },
    decision: "ImplicitDeny",
  },
  {
    name: "one-role policy: a user of the account",
    policy: ENDPOINT_ONE_ROLE,
    kind: "endpoint",
    request: { principal: "alice", action: "secretsmanager:GetSecretValue", resource: `${SECRET}:prod/db` },
    decision: "ImplicitDeny",
  },
  {
    name: "one-role policy: anonymous",
    policy: ENDPOINT_ONE_ROLE,
    kind: "endpoint",
    request: {
      principal: "anonymous",
      action: "secretsmanager:GetSecretValue",
      resource: `${SECRET}:prod/db`,
    },
    decision: "ImplicitDeny",
  },
  {
    name: "a role ARN with a path matches the role's sessions",
    policy: {
      Statement: [{ ...ALLOW_ALL, Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/team/app-role` } }],
    },
    kind: "endpoint",
    request: { principal: "appSession" },
    decision: "Allow",
  },

  // Resource policy with a StringNotEquals aws:SourceVpce deny
  {
    name: "vpce deny: through the endpoint",
    policy: SECRET_POLICY_VPCE,
    request: {
      principal: "appSession",
      action: "secretsmanager:GetSecretValue",
      resource: `${SECRET}:prod/db`,
      context: { "aws:SourceVpce": "vpce-1a2b3c4d" },
    },
    decision: "Allow",
    matched: ["AllowAccount"],
  },
  {
    name: "vpce deny: through another endpoint",
    policy: SECRET_POLICY_VPCE,
    request: {
      principal: "appSession",
      action: "secretsmanager:GetSecretValue",
      resource: `${SECRET}:prod/db`,
      context: { "aws:SourceVpce": "vpce-0f0f0f0f" },
    },
    decision: "ExplicitDeny",
    matched: ["DenyOutsideVpce"],
  },
  {
    name: "vpce deny: not through an endpoint (key missing)",
    policy: SECRET_POLICY_VPCE,
    request: {
      principal: "appSession",
      action: "secretsmanager:GetSecretValue",
      resource: `${SECRET}:prod/db`,
    },
    decision: "ExplicitDeny",
    matched: ["DenyOutsideVpce"],
  },
  {
    name: "vpce deny: other actions stay allowed",
    policy: SECRET_POLICY_VPCE,
    request: { principal: "alice", action: "secretsmanager:DescribeSecret", resource: `${SECRET}:prod/db` },
    decision: "Allow",
  },
  {
    name: "vpce deny: other accounts are not allowed",
    policy: SECRET_POLICY_VPCE,
    request: { principal: "bob", action: "secretsmanager:DescribeSecret", resource: `${SECRET}:prod/db` },
    decision: "ImplicitDeny",
  },

  // Explicit deny wins
  {
    name: "explicit deny beats allow",
    policy: {
      Version: "2012-10-17",
      Statement: [
        { Sid: "All", ...ALLOW_ALL },
        { Sid: "NoDelete", Effect: "Deny", Principal: "*", Action: "s3:DeleteObject", Resource: "*" },
      ],
    },
    request: { action: "s3:DeleteObject" },
    decision: "ExplicitDeny",
    matched: ["NoDelete"],
  },
  {
    name: "allow lists every matching allow statement",
    policy: {
      Statement: [
        { Sid: "A", ...ALLOW_ALL },
        { Sid: "B", ...ALLOW_ALL, Action: "s3:Get*" },
        { Sid: "C", ...ALLOW_ALL, Action: "s3:Put*" },
      ],
    },
    request: {},
    decision: "Allow",
    matched: ["A", "B"],
  },
  {
    name: "nothing matches: implicit deny",
    policy: { Statement: [{ ...ALLOW_ALL, Action: "sqs:*" }] },
    request: {},
    decision: "ImplicitDeny",
    matched: [],
  },

  // Action wildcards and case
  {
    name: "action prefix wildcard",
    policy: { Statement: [{ ...ALLOW_ALL, Action: "secretsmanager:Get*" }] },
    request: { action: "secretsmanager:GetSecretValue" },
    decision: "Allow",
  },
  {
    name: "action ? wildcard",
    policy: { Statement: [{ ...ALLOW_ALL, Action: "secretsmanager:Describe?ecret" }] },
    request: { action: "secretsmanager:DescribeSecret" },
    decision: "Allow",
  },
  {
    name: "action inner wildcard",
    policy: { Statement: [{ ...ALLOW_ALL, Action: "iam:*AccessKey*" }] },
    request: { action: "iam:CreateAccessKey" },
    decision: "Allow",
  },
  {
    name: "action wildcard does not change service",
    policy: { Statement: [{ ...ALLOW_ALL, Action: "s3:Get*" }] },
    request: { action: "s3express:GetObject" },
    decision: "ImplicitDeny",
  },
  {
    name: "service prefix is case-insensitive",
    policy: { Statement: [{ ...ALLOW_ALL, Action: "S3:getobject" }] },
    request: { action: "s3:GetObject" },
    decision: "Allow",
  },

  // Resource wildcards
  {
    name: "resource prefix wildcard",
    policy: { Statement: [{ ...ALLOW_ALL, Resource: "arn:aws:s3:::bucket/*" }] },
    request: { resource: "arn:aws:s3:::bucket/a/b:c" },
    decision: "Allow",
  },
  {
    name: "resource match is case-sensitive",
    policy: { Statement: [{ ...ALLOW_ALL, Resource: "arn:aws:s3:::bucket/*" }] },
    request: { resource: "arn:aws:s3:::Bucket/x" },
    decision: "ImplicitDeny",
  },
  {
    name: "resource ? wildcard",
    policy: { Statement: [{ ...ALLOW_ALL, Resource: "arn:aws:s3:::bucket/file?.txt" }] },
    request: { resource: "arn:aws:s3:::bucket/file1.txt" },
    decision: "Allow",
  },
  {
    name: "resource region wildcard",
    policy: { Statement: [{ ...ALLOW_ALL, Resource: `arn:aws:secretsmanager:*:${ACCOUNT}:secret:*` }] },
    request: { resource: `arn:aws:secretsmanager:us-west-2:${ACCOUNT}:secret:x` },
    decision: "Allow",
  },
  {
    name: "resource account must match",
    policy: { Statement: [{ ...ALLOW_ALL, Resource: `arn:aws:secretsmanager:*:${ACCOUNT}:secret:*` }] },
    request: { resource: `arn:aws:secretsmanager:us-west-2:${OTHER_ACCOUNT}:secret:x` },
    decision: "ImplicitDeny",
  },
  {
    name: "resource list is ORed",
    policy: { Statement: [{ ...ALLOW_ALL, Resource: ["arn:aws:s3:::a", "arn:aws:s3:::bucket/key"] }] },
    request: {},
    decision: "Allow",
  },

  // NotAction / NotResource
  {
    name: "NotAction allows other services",
    policy: { Statement: [{ Effect: "Allow", Principal: "*", NotAction: "iam:*", Resource: "*" }] },
    request: { action: "s3:GetObject" },
    decision: "Allow",
  },
  {
    name: "NotAction excludes its actions",
    policy: { Statement: [{ Effect: "Allow", Principal: "*", NotAction: "iam:*", Resource: "*" }] },
    request: { action: "IAM:CreateUser" },
    decision: "ImplicitDeny",
  },
  {
    name: "Deny with NotAction denies everything else",
    policy: {
      Statement: [
        ALLOW_ALL,
        {
          Sid: "OnlyPassword",
          Effect: "Deny",
          Principal: "*",
          NotAction: ["iam:ChangePassword"],
          Resource: "*",
        },
      ],
    },
    request: { action: "s3:ListBucket" },
    decision: "ExplicitDeny",
    matched: ["OnlyPassword"],
  },
  {
    name: "Deny with NotAction spares its actions",
    policy: {
      Statement: [
        ALLOW_ALL,
        { Effect: "Deny", Principal: "*", NotAction: ["iam:ChangePassword"], Resource: "*" },
      ],
    },
    request: { action: "iam:ChangePassword" },
    decision: "Allow",
  },
  {
    name: "NotResource allows other resources",
    policy: {
      Statement: [
        { Effect: "Allow", Principal: "*", Action: "s3:*", NotResource: "arn:aws:s3:::secret-bucket/*" },
      ],
    },
    request: { resource: "arn:aws:s3:::bucket/x" },
    decision: "Allow",
  },
  {
    name: "NotResource excludes its resources",
    policy: {
      Statement: [
        { Effect: "Allow", Principal: "*", Action: "s3:*", NotResource: "arn:aws:s3:::secret-bucket/*" },
      ],
    },
    request: { resource: "arn:aws:s3:::secret-bucket/x" },
    decision: "ImplicitDeny",
  },

  // Principal element
  {
    name: "account ID matches its users",
    policy: { Statement: [{ ...ALLOW_ALL, Principal: { AWS: ACCOUNT } }] },
    request: { principal: "alice" },
    decision: "Allow",
  },
  {
    name: "account ID matches its role sessions",
    policy: { Statement: [{ ...ALLOW_ALL, Principal: { AWS: ACCOUNT } }] },
    request: { principal: "appSession" },
    decision: "Allow",
  },
  {
    name: "root ARN matches its federated users",
    policy: { Statement: [{ ...ALLOW_ALL, Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } }] },
    request: { principal: "federated" },
    decision: "Allow",
  },
  {
    name: "root ARN matches the root user",
    policy: { Statement: [{ ...ALLOW_ALL, Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } }] },
    request: { principal: "root" },
    decision: "Allow",
  },
  {
    name: "account does not match other accounts",
    policy: { Statement: [{ ...ALLOW_ALL, Principal: { AWS: ACCOUNT } }] },
    request: { principal: "bob" },
    decision: "ImplicitDeny",
  },
  {
    name: "account does not match anonymous",
    policy: { Statement: [{ ...ALLOW_ALL, Principal: { AWS: ACCOUNT } }] },
    request: { principal: "anonymous" },
    decision: "ImplicitDeny",
  },
  {
    name: "user ARN matches exactly",
    policy: { Statement: [{ ...ALLOW_ALL, Principal: { AWS: [`arn:aws:iam::${ACCOUNT}:user/alice`] } }] },
    request: { principal: "alice" },
    decision: "Allow",
  },
  {
    name: "user ARN does not match its account root",
    policy: { Statement: [{ ...ALLOW_ALL, Principal: { AWS: [`arn:aws:iam::${ACCOUNT}:user/alice`] } }] },
    request: { principal: "root" },
    decision: "ImplicitDeny",
  },
  {
    name: "session ARN matches that session only",
    policy: {
      Statement: [{ ...ALLOW_ALL, Principal: { AWS: `arn:aws:sts::${ACCOUNT}:assumed-role/ops-role/jane` } }],
    },
    request: { principal: "otherRoleSession" },
    decision: "Allow",
  },
  {
    name: "session ARN does not match other sessions",
    policy: {
      Statement: [{ ...ALLOW_ALL, Principal: { AWS: `arn:aws:sts::${ACCOUNT}:assumed-role/ops-role/jane` } }],
    },
    request: { principal: "appSession" },
    decision: "ImplicitDeny",
  },
  {
    name: "unique ID matches the user",
    policy: { Statement: [{ ...ALLOW_ALL, Principal: { AWS: "AIDAALICEEXAMPLE0001" } }] },
    request: { principal: "alice" },
    decision: "Allow",
  },
  {
    name: "{AWS: *} includes anonymous",
    policy: { Statement: [{ ...ALLOW_ALL, Principal: { AWS: "*" } }] },
    request: { principal: "anonymous" },
    decision: "Allow",
  },
  {
    name: "service principal",
    policy: { Statement: [{ ...ALLOW_ALL, Principal: { Service: "vpce.amazonaws.com" } }] },
    request: { principal: "vpceService" },
    decision: "Allow",
  },
  {
    name: "service principal is not a user",
    policy: { Statement: [{ ...ALLOW_ALL, Principal: { Service: "vpce.amazonaws.com" } }] },
    request: { principal: "alice" },
    decision: "ImplicitDeny",
  },
  {
    name: "users are not service principals",
    policy: { Statement: [{ ...ALLOW_ALL, Principal: { AWS: ACCOUNT } }] },
    request: { principal: "vpceService" },
    decision: "ImplicitDeny",
  },

  // NotPrincipal with Deny (IAM User Guide examples)
  {
    name: "NotPrincipal: Bob and his account are exempt",
    policy: NOT_BOB,
    request: { principal: "bob", resource: "arn:aws:s3:::BUCKETNAME/x" },
    decision: "Allow",
  },
  {
    name: "NotPrincipal: everyone else is denied",
    policy: NOT_BOB,
    request: { principal: "alice", resource: "arn:aws:s3:::BUCKETNAME/x" },
    decision: "ExplicitDeny",
    matched: [1],
  },
  {
    name: "NotPrincipal: anonymous is denied",
    policy: NOT_BOB,
    request: { principal: "anonymous", resource: "arn:aws:s3:::BUCKETNAME" },
    decision: "ExplicitDeny",
  },
  {
    name: "NotPrincipal: Bob without his account is still denied",
    policy: {
      Statement: [
        ALLOW_ALL,
        {
          Effect: "Deny",
          NotPrincipal: { AWS: `arn:aws:iam::${OTHER_ACCOUNT}:user/Bob` },
          Action: "s3:*",
          Resource: "*",
        },
      ],
    },
    request: { principal: "bob" },
    decision: "ExplicitDeny",
  },
  {
    name: "NotPrincipal: session, role and account listed",
    policy: NOT_AUDIT_APP([AUDIT_SESSION, AUDIT_ROLE, OTHER_ROOT]),
    request: { principal: "auditSession", resource: "arn:aws:s3:::Bucket_AccountAudit/x" },
    decision: "Allow",
  },
  {
    name: "NotPrincipal: role missing, session denied",
    policy: NOT_AUDIT_APP([AUDIT_SESSION, OTHER_ROOT]),
    request: { principal: "auditSession", resource: "arn:aws:s3:::Bucket_AccountAudit/x" },
    decision: "ExplicitDeny",
  },
  {
    name: "NotPrincipal: account missing, session denied",
    policy: NOT_AUDIT_APP([AUDIT_SESSION, AUDIT_ROLE]),
    request: { principal: "auditSession", resource: "arn:aws:s3:::Bucket_AccountAudit/x" },
    decision: "ExplicitDeny",
  },
  {
    name: "NotPrincipal: other sessions of the role denied",
    policy: NOT_AUDIT_APP([AUDIT_SESSION, AUDIT_ROLE, OTHER_ROOT]),
    request: { principal: "bob", resource: "arn:aws:s3:::Bucket_AccountAudit/x" },
    decision: "ExplicitDeny",
  },

  // Several keys and operators are ANDed (negated-matching example)
  {
    name: "negated example: Nikki with legal/audit",
    policy: NEGATED_EXAMPLE,
    request: listBucket({
      "aws:PrincipalTag/department": "legal",
      "aws:PrincipalTag/role": "audit",
      "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:user/Nikki`,
    }),
    decision: "Allow",
    matched: ["ExamplePolicy"],
  },
  {
    name: "negated example: Mary is excluded",
    policy: NEGATED_EXAMPLE,
    request: listBucket({
      "aws:PrincipalTag/department": "hr",
      "aws:PrincipalTag/role": "audit",
      "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:user/Mary`,
    }),
    decision: "ImplicitDeny",
  },
  {
    name: "negated example: payroll role",
    policy: NEGATED_EXAMPLE,
    request: listBucket({
      "aws:PrincipalTag/department": "hr",
      "aws:PrincipalTag/role": "payroll",
      "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:user/Nikki`,
    }),
    decision: "ImplicitDeny",
  },
  {
    name: "negated example: role tag missing",
    policy: NEGATED_EXAMPLE,
    request: listBucket({
      "aws:PrincipalTag/department": "hr",
      "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:user/Nikki`,
    }),
    decision: "ImplicitDeny",
  },
  {
    name: "negated example: no tags",
    policy: NEGATED_EXAMPLE,
    request: listBucket({ "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:user/Nikki` }),
    decision: "ImplicitDeny",
  },

  // ForAllValues with a Null check (identity policy)
  {
    name: "tag keys: environment",
    policy: TAG_KEYS_WITH_NULL,
    kind: "identity",
    request: deleteTags(["environment"]),
    decision: "Allow",
  },
  {
    name: "tag keys: both",
    policy: TAG_KEYS_WITH_NULL,
    kind: "identity",
    request: deleteTags(["environment", "cost-center"]),
    decision: "Allow",
  },
  {
    name: "tag keys: one unlisted",
    policy: TAG_KEYS_WITH_NULL,
    kind: "identity",
    request: deleteTags(["environment", "dept"]),
    decision: "ImplicitDeny",
  },
  {
    name: "tag keys: none, Null check fails",
    policy: TAG_KEYS_WITH_NULL,
    kind: "identity",
    request: deleteTags(),
    decision: "ImplicitDeny",
  },

  // Variables in Resource
  {
    name: "home directory of the caller",
    policy: HOME_DIRS,
    kind: "identity",
    request: { resource: "arn:aws:s3:::mybucket/alice/notes.txt", context: { "aws:username": "alice" } },
    decision: "Allow",
  },
  {
    name: "home directory of someone else",
    policy: HOME_DIRS,
    kind: "identity",
    request: { resource: "arn:aws:s3:::mybucket/bob/notes.txt", context: { "aws:username": "alice" } },
    decision: "ImplicitDeny",
  },
  {
    name: "no user name: the resource matches nothing",
    policy: HOME_DIRS,
    kind: "identity",
    request: { resource: "arn:aws:s3:::mybucket//notes.txt" },
    decision: "ImplicitDeny",
  },
  {
    name: "default value in a resource",
    policy: {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: "s3:*",
          Resource: "arn:aws:s3:::bucket-${aws:PrincipalTag/team, 'company-wide'}/*",
        },
      ],
    },
    kind: "identity",
    request: { resource: "arn:aws:s3:::bucket-company-wide/x" },
    decision: "Allow",
  },
  {
    name: "2008-10-17 resource variables are literal",
    policy: {
      Version: "2008-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::mybucket/${aws:username}/*" }],
    },
    kind: "identity",
    request: { resource: "arn:aws:s3:::mybucket/alice/x", context: { "aws:username": "alice" } },
    decision: "ImplicitDeny",
  },
  {
    name: "NotResource with an unresolved variable excludes nothing",
    policy: {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:*", NotResource: "arn:aws:s3:::home/${aws:username}/*" }],
    },
    kind: "identity",
    request: { resource: "arn:aws:s3:::home/alice/x" },
    decision: "Allow",
  },
];

function sidsOf(matched: readonly { sid?: string; statement: number }[]): (string | number)[] {
  return matched.map((m) => m.sid ?? m.statement);
}

describe("evaluate", () => {
  for (const c of cases) {
    it(c.name, () => {
      const text = typeof c.policy === "string" ? c.policy : JSON.stringify(c.policy);
      const policy = parsePolicy(text, { kind: c.kind ?? "resource" });
      const result = evaluate(policy, request(c.request));
      expect(result.decision).toBe(c.decision);
      if (c.matched !== undefined) expect(sidsOf(result.matched)).toEqual(c.matched);
    });
  }

  it("combines several policies: a deny in any one wins and names its policy", () => {
    const identity = parsePolicy(
      JSON.stringify({ Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }),
      { kind: "identity" },
    );
    const bucket = parsePolicy(
      JSON.stringify({
        Statement: [{ Sid: "NoPut", Effect: "Deny", Principal: "*", Action: "s3:PutObject", Resource: "*" }],
      }),
      { kind: "resource" },
    );
    expect(evaluate([identity, bucket], request({ action: "s3:PutObject" }))).toEqual({
      decision: "ExplicitDeny",
      matched: [{ policy: 1, statement: 0, sid: "NoPut", effect: "Deny" }],
    });
    expect(evaluate([identity, bucket], request()).matched).toEqual([
      { policy: 0, statement: 0, effect: "Allow" },
    ]);
  });

  it("reads context keys in any case, also after the context object changed", () => {
    const policy = parsePolicy(
      JSON.stringify({
        Statement: [{ ...ALLOW_ALL, Condition: { StringEquals: { "s3:Prefix": "home/" } } }],
      }),
      { kind: "resource" },
    );
    const context: Record<string, string> = { "aws:SourceVpce": "vpce-1a2b3c4d" };
    expect(evaluate(policy, request({ context })).decision).toBe("ImplicitDeny");
    context["S3:PREFIX"] = "home/";
    expect(evaluate(policy, request({ context })).decision).toBe("Allow");
  });

  it("evaluates a compiled policy the same as the parsed one", () => {
    const policy = parsePolicy(JSON.stringify(SECRET_POLICY_VPCE), { kind: "resource" });
    const compiled = compilePolicy(policy);
    expect(compilePolicy(policy)).toBe(compiled);
    const req = request({
      principal: "alice",
      action: "secretsmanager:GetSecretValue",
      resource: `${SECRET}:x`,
    });
    expect(evaluate(compiled, req)).toEqual(evaluate(policy, req));
    expect(evaluate([], req).decision).toBe("ImplicitDeny");
  });
});
