import {
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
} from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminFetch } from "../helpers/admin.js";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
let sm: SecretsManagerClient;

function client(creds = srv.credentials, region = "us-east-1"): SecretsManagerClient {
  return new SecretsManagerClient({ endpoint: srv.url, region, credentials: creds, maxAttempts: 1 });
}

async function newAccount(id: string): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const res = await adminFetch(srv, `/_privlink/accounts`, { method: "POST", body: JSON.stringify({ id }) });
  return (await res.json()) as { accessKeyId: string; secretAccessKey: string };
}

beforeAll(async () => {
  srv = await startTestServer();
  sm = client();
});
afterAll(() => srv.stop());

describe("Secrets Manager through the public edge", () => {
  it("creates a secret with an AWS-shaped ARN and reads it back", async () => {
    const created = await sm.send(
      new CreateSecretCommand({ Name: "prod/db", SecretString: '{"password":"p1"}' }),
    );
    expect(created.ARN).toMatch(
      /^arn:aws:secretsmanager:us-east-1:000000000000:secret:prod\/db-[a-z0-9]{6}$/,
    );
    expect(created.Name).toBe("prod/db");
    expect(created.VersionId).toMatch(/^[0-9a-f-]{36}$/);
    for (const id of [
      "prod/db",
      created.ARN!,
      "arn:aws:secretsmanager:us-east-1:000000000000:secret:prod/db",
    ]) {
      const got = await sm.send(new GetSecretValueCommand({ SecretId: id }));
      expect(got).toMatchObject({
        ARN: created.ARN,
        Name: "prod/db",
        SecretString: '{"password":"p1"}',
        VersionId: created.VersionId,
        VersionStages: ["AWSCURRENT"],
      });
      expect(got.CreatedDate).toBeInstanceOf(Date);
    }
  });

  it("answers AWS's errors", async () => {
    await sm.send(new CreateSecretCommand({ Name: "errs/one", SecretString: "x" }));
    const cases = [
      {
        call: new GetSecretValueCommand({ SecretId: "nope/none" }),
        name: "ResourceNotFoundException",
        message: "Secrets Manager can't find the specified secret.",
      },
      {
        call: new CreateSecretCommand({ Name: "errs/one", SecretString: "y" }),
        name: "ResourceExistsException",
        message: "The operation failed because the secret errs/one already exists.",
      },
      {
        call: new CreateSecretCommand({ Name: "bad name", SecretString: "y" }),
        name: "InvalidParameterException",
        message: /Invalid name/,
      },
      {
        call: new CreateSecretCommand({ Name: "both", SecretString: "y", SecretBinary: new Uint8Array([1]) }),
        name: "InvalidParameterException",
        message: "You can't specify both a binary secret value and a string secret value in the same secret.",
      },
      {
        call: new DeleteSecretCommand({ SecretId: "errs/one", RecoveryWindowInDays: 3 }),
        name: "InvalidParameterException",
        message: "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
      },
      {
        call: new DeleteSecretCommand({
          SecretId: "errs/one",
          RecoveryWindowInDays: 7,
          ForceDeleteWithoutRecovery: true,
        }),
        name: "InvalidParameterException",
        message: "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
      },
      {
        call: new GetSecretValueCommand({ SecretId: "errs/one", VersionStage: "AWSPREVIOUS" }),
        name: "ResourceNotFoundException",
        message: "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS",
      },
      {
        call: new PutResourcePolicyCommand({ SecretId: "errs/one", ResourcePolicy: "{not json" }),
        name: "MalformedPolicyDocumentException",
        message: /./,
      },
      {
        call: new ListSecretsCommand({ Filters: [{ Key: "colour" as "name", Values: ["x"] }] }),
        name: "ValidationException",
        message: /enum value set/,
      },
      {
        call: new ListSecretsCommand({ NextToken: "garbage" }),
        name: "InvalidNextTokenException",
        message: /./,
      },
    ];
    for (const c of cases) {
      const err = await fails(sm.send(c.call as never));
      expect(err.name, c.call.constructor.name).toBe(c.name);
      if (typeof c.message === "string") expect(err.message).toBe(c.message);
      else expect(err.message).toMatch(c.message);
      expect(err.status).toBe(400);
    }
  });

  it("moves AWSCURRENT and AWSPREVIOUS as versions are added, idempotent per token", async () => {
    const v1 = await sm.send(new CreateSecretCommand({ Name: "stages/s", SecretString: "one" }));
    const token = "11111111-2222-3333-4444-555555555555";
    const v2 = await sm.send(
      new PutSecretValueCommand({ SecretId: "stages/s", SecretString: "two", ClientRequestToken: token }),
    );
    expect(v2).toMatchObject({ VersionId: token, VersionStages: ["AWSCURRENT"] });
    const again = await sm.send(
      new PutSecretValueCommand({ SecretId: "stages/s", SecretString: "two", ClientRequestToken: token }),
    );
    expect(again.VersionId).toBe(token);
    const clash = await fails(
      sm.send(
        new PutSecretValueCommand({ SecretId: "stages/s", SecretString: "other", ClientRequestToken: token }),
      ),
    );
    expect(clash).toMatchObject({
      name: "ResourceExistsException",
      message: "You can't modify an existing version, you can only create a new version.",
    });
    const prev = await sm.send(
      new GetSecretValueCommand({ SecretId: "stages/s", VersionStage: "AWSPREVIOUS" }),
    );
    expect(prev).toMatchObject({
      SecretString: "one",
      VersionId: v1.VersionId,
      VersionStages: ["AWSPREVIOUS"],
    });
    const v3 = await sm.send(
      new UpdateSecretCommand({ SecretId: "stages/s", SecretString: "three", Description: "d" }),
    );
    const d = await sm.send(new DescribeSecretCommand({ SecretId: "stages/s" }));
    expect(d.Description).toBe("d");
    expect(d.VersionIdsToStages).toEqual({ [token]: ["AWSPREVIOUS"], [v3.VersionId!]: ["AWSCURRENT"] });
    const byId = await sm.send(new GetSecretValueCommand({ SecretId: "stages/s", VersionId: v1.VersionId }));
    expect(byId).toMatchObject({ SecretString: "one", VersionStages: [] });
    const staged = await sm.send(
      new PutSecretValueCommand({
        SecretId: "stages/s",
        SecretString: "pending",
        VersionStages: ["AWSPENDING"],
      }),
    );
    const pending = await sm.send(
      new GetSecretValueCommand({ SecretId: "stages/s", VersionStage: "AWSPENDING" }),
    );
    expect(pending.VersionId).toBe(staged.VersionId);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "stages/s" }))).SecretString).toBe("three");
  });

  it("stores binary secrets", async () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    await sm.send(new CreateSecretCommand({ Name: "bin/key", SecretBinary: bytes }));
    const got = await sm.send(new GetSecretValueCommand({ SecretId: "bin/key" }));
    expect(Array.from(got.SecretBinary!)).toEqual(Array.from(bytes));
    expect(got.SecretString).toBeUndefined();
  });

  it("schedules deletion, refuses access while scheduled, restores, and force-deletes", async () => {
    await sm.send(new CreateSecretCommand({ Name: "del/me", SecretString: "x" }));
    const del = await sm.send(new DeleteSecretCommand({ SecretId: "del/me", RecoveryWindowInDays: 7 }));
    const days = (del.DeletionDate!.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThan(7.1);
    const marked = "You can't perform this operation on the secret because it was marked for deletion.";
    expect(await fails(sm.send(new GetSecretValueCommand({ SecretId: "del/me" })))).toMatchObject({
      name: "InvalidRequestException",
      message: marked,
    });
    expect((await sm.send(new DescribeSecretCommand({ SecretId: "del/me" }))).DeletedDate).toBeInstanceOf(
      Date,
    );
    const listed = async (include: boolean) =>
      (
        await sm.send(
          new ListSecretsCommand({
            IncludePlannedDeletion: include,
            Filters: [{ Key: "name", Values: ["del/"] }],
          }),
        )
      ).SecretList!.map((s) => s.Name);
    expect(await listed(false)).toEqual([]);
    expect(await listed(true)).toEqual(["del/me"]);
    expect((await fails(sm.send(new CreateSecretCommand({ Name: "del/me", SecretString: "y" })))).name).toBe(
      "InvalidRequestException",
    );
    await sm.send(new RestoreSecretCommand({ SecretId: "del/me" }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "del/me" }))).SecretString).toBe("x");
    await sm.send(new DeleteSecretCommand({ SecretId: "del/me", ForceDeleteWithoutRecovery: true }));
    expect((await fails(sm.send(new DescribeSecretCommand({ SecretId: "del/me" })))).name).toBe(
      "ResourceNotFoundException",
    );
    await sm.send(new CreateSecretCommand({ Name: "del/me", SecretString: "again" }));
  });

  it("tags, filters and paginates ListSecrets", async () => {
    const names = Array.from({ length: 7 }, (_, i) => `page/s${i}`);
    for (const [i, Name] of names.entries())
      await sm.send(
        new CreateSecretCommand({
          Name,
          SecretString: "v",
          Description: i % 2 ? "odd one" : "even one",
          Tags: [{ Key: "team", Value: `t${i % 3}` }],
        }),
      );
    const seen: string[] = [];
    let NextToken: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const r = await sm.send(
        new ListSecretsCommand({
          MaxResults: 3,
          NextToken,
          SortOrder: "asc",
          Filters: [{ Key: "name", Values: ["page/"] }],
        }),
      );
      expect(r.SecretList!.length).toBeLessThanOrEqual(3);
      seen.push(...r.SecretList!.map((s) => s.Name!));
      NextToken = r.NextToken;
      if (!NextToken) break;
    }
    expect(seen).toEqual(names);
    const filterCases = [
      {
        Filters: [{ Key: "description" as const, Values: ["odd"] }],
        want: ["page/s1", "page/s3", "page/s5"],
      },
      { Filters: [{ Key: "tag-value" as const, Values: ["t0"] }], want: ["page/s0", "page/s3", "page/s6"] },
      {
        Filters: [
          { Key: "name" as const, Values: ["page/"] },
          { Key: "tag-value" as const, Values: ["!t0", "!t1"] },
        ],
        want: ["page/s2", "page/s5"],
      },
      {
        Filters: [{ Key: "all" as const, Values: ["even"] }],
        want: ["page/s0", "page/s2", "page/s4", "page/s6"],
      },
    ];
    for (const c of filterCases) {
      const r = await sm.send(
        new ListSecretsCommand({ Filters: c.Filters, SortBy: "name", SortOrder: "asc" }),
      );
      expect(
        r.SecretList!.map((s) => s.Name),
        JSON.stringify(c.Filters),
      ).toEqual(c.want);
    }
    await sm.send(new TagResourceCommand({ SecretId: "page/s0", Tags: [{ Key: "env", Value: "prod" }] }));
    await sm.send(new UntagResourceCommand({ SecretId: "page/s0", TagKeys: ["team"] }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: "page/s0" }))).Tags).toEqual([
      { Key: "env", Value: "prod" },
    ]);
  });

  it("stores, evaluates and deletes resource policies", async () => {
    const created = await sm.send(new CreateSecretCommand({ Name: "pol/s", SecretString: "x" }));
    const deny = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Deny",
          Principal: "*",
          Action: "secretsmanager:GetSecretValue",
          Resource: "*",
          Condition: { StringNotEquals: { "aws:SourceVpce": "vpce-0123456789abcdef0" } },
        },
      ],
    });
    await sm.send(new PutResourcePolicyCommand({ SecretId: "pol/s", ResourcePolicy: deny }));
    expect((await sm.send(new GetResourcePolicyCommand({ SecretId: "pol/s" }))).ResourcePolicy).toBe(deny);
    const err = await fails(sm.send(new GetSecretValueCommand({ SecretId: "pol/s" })));
    expect(err).toEqual({
      name: "AccessDeniedException",
      status: 400,
      message: `User: arn:aws:iam::000000000000:root is not authorized to perform: secretsmanager:GetSecretValue on resource: ${created.ARN} with an explicit deny in a resource-based policy`,
    });
    // Other actions are not covered by the statement.
    await sm.send(new DescribeSecretCommand({ SecretId: "pol/s" }));
    await sm.send(new DeleteResourcePolicyCommand({ SecretId: "pol/s" }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "pol/s" }))).SecretString).toBe("x");
    const open = JSON.stringify({
      Statement: [{ Effect: "Allow", Principal: { AWS: "*" }, Action: "secretsmanager:*", Resource: "*" }],
    });
    expect(
      (
        await fails(
          sm.send(
            new PutResourcePolicyCommand({
              SecretId: "pol/s",
              ResourcePolicy: open,
              BlockPublicPolicy: true,
            }),
          ),
        )
      ).name,
    ).toBe("PublicPolicyException");
  });

  it("lets another account in only when the resource policy allows it", async () => {
    const owner = await newAccount("111122223333");
    const other = await newAccount("444455556666");
    const own = client(owner);
    const created = await own.send(new CreateSecretCommand({ Name: "shared/db", SecretString: "s3cret" }));
    const theirs = client(other);
    expect(await fails(theirs.send(new GetSecretValueCommand({ SecretId: created.ARN })))).toMatchObject({
      name: "AccessDeniedException",
      message: `User: arn:aws:iam::444455556666:root is not authorized to perform: secretsmanager:GetSecretValue on resource: ${created.ARN} because no resource-based policy allows the secretsmanager:GetSecretValue action`,
    });
    // By name, the other account looks in its own namespace.
    expect((await fails(theirs.send(new GetSecretValueCommand({ SecretId: "shared/db" })))).name).toBe(
      "ResourceNotFoundException",
    );
    const allow = JSON.stringify({
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::444455556666:root" },
          Action: "secretsmanager:GetSecretValue",
          Resource: "*",
        },
      ],
    });
    await own.send(new PutResourcePolicyCommand({ SecretId: "shared/db", ResourcePolicy: allow }));
    expect((await theirs.send(new GetSecretValueCommand({ SecretId: created.ARN }))).SecretString).toBe(
      "s3cret",
    );
  });

  it("keeps secrets per region", async () => {
    await client(srv.credentials, "eu-west-1").send(
      new CreateSecretCommand({ Name: "regional/x", SecretString: "eu" }),
    );
    expect((await fails(sm.send(new GetSecretValueCommand({ SecretId: "regional/x" })))).name).toBe(
      "ResourceNotFoundException",
    );
  });
});
