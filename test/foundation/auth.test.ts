import { CreateVpcCommand, DescribeVpcsCommand } from "@aws-sdk/client-ec2";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminFetch } from "../helpers/admin.js";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

describe("--auth verify (default)", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(() => srv.stop());

  it("answers GetCallerIdentity for the default account", async () => {
    const id = await srv.sts().send(new GetCallerIdentityCommand({}));
    expect(id).toMatchObject({
      Account: "000000000000",
      Arn: "arn:aws:iam::000000000000:root",
      UserId: "000000000000",
    });
  });

  it("refuses a wrong secret and an unknown key with each service's error", async () => {
    const wrong = { accessKeyId: "test", secretAccessKey: "nope" };
    expect(await fails(srv.ec2("us-east-1", wrong).send(new DescribeVpcsCommand({})))).toMatchObject({
      name: "SignatureDoesNotMatch",
      status: 403,
    });
    expect((await fails(srv.sts("us-east-1", wrong).send(new GetCallerIdentityCommand({})))).name).toBe(
      "SignatureDoesNotMatch",
    );
    const unknown = { accessKeyId: "AKIAUNKNOWN", secretAccessKey: "x" };
    expect((await fails(srv.ec2("us-east-1", unknown).send(new DescribeVpcsCommand({})))).name).toBe(
      "AuthFailure",
    );
    expect((await fails(srv.sts("us-east-1", unknown).send(new GetCallerIdentityCommand({})))).name).toBe(
      "InvalidClientTokenId",
    );
  });

  it("creates accounts whose keys see only their own resources", async () => {
    const res = await adminFetch(srv, `/_privlink/accounts`, {
      method: "POST",
      body: JSON.stringify({ id: "111122223333", org: "o-exampleorg1" }),
    });
    expect(res.status).toBe(201);
    const acct = (await res.json()) as { accountId: string; accessKeyId: string; secretAccessKey: string };
    expect(acct.accountId).toBe("111122223333");
    const creds = { accessKeyId: acct.accessKeyId, secretAccessKey: acct.secretAccessKey };
    expect((await srv.sts("us-east-1", creds).send(new GetCallerIdentityCommand({}))).Account).toBe(
      "111122223333",
    );
    const mine = (await srv.ec2("us-east-1", creds).send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" })))
      .Vpc!.VpcId!;
    const theirs = await srv.ec2().send(new DescribeVpcsCommand({}));
    expect(theirs.Vpcs!.map((v) => v.VpcId)).not.toContain(mine);
    expect((await fails(srv.ec2().send(new DescribeVpcsCommand({ VpcIds: [mine] })))).name).toBe(
      "InvalidVpcID.NotFound",
    );
    const bad = await adminFetch(srv, `/_privlink/accounts`, {
      method: "POST",
      body: JSON.stringify({ id: "12" }),
    });
    expect(bad.status).toBe(400);
  });
});

describe("--auth open", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ auth: "open" });
  });
  afterAll(() => srv.stop());

  it("accepts any key: a 12-digit key ID is that account, anything else the default", async () => {
    expect(
      (
        await srv
          .sts("us-east-1", { accessKeyId: "444455556666", secretAccessKey: "whatever" })
          .send(new GetCallerIdentityCommand({}))
      ).Account,
    ).toBe("444455556666");
    expect(
      (
        await srv
          .sts("us-east-1", { accessKeyId: "ANYTHING", secretAccessKey: "x" })
          .send(new GetCallerIdentityCommand({}))
      ).Account,
    ).toBe("000000000000");
    const v = await srv
      .ec2("us-east-1", { accessKeyId: "444455556666", secretAccessKey: "y" })
      .send(new DescribeVpcsCommand({}));
    expect(v.Vpcs![0]!.OwnerId).toBe("444455556666");
  });
});
