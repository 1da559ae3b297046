import {
  AddTagsToResourceCommand,
  DeleteParameterCommand,
  DeleteParametersCommand,
  DescribeParametersCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  LabelParameterVersionCommand,
  ListTagsForResourceCommand,
  PutParameterCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
let ssm: SSMClient;
const ARN = "arn:aws:ssm:us-east-1:000000000000:parameter";

beforeAll(async () => {
  srv = await startTestServer();
  ssm = new SSMClient({
    endpoint: srv.url,
    region: "us-east-1",
    credentials: srv.credentials,
    maxAttempts: 1,
  });
});
afterAll(() => srv.stop());

describe("SSM Parameter Store", () => {
  it("puts and gets String, StringList and SecureString parameters, decrypting on request", async () => {
    expect(
      await ssm.send(new PutParameterCommand({ Name: "/app/url", Value: "https://x", Type: "String" })),
    ).toMatchObject({
      Version: 1,
      Tier: "Standard",
    });
    await ssm.send(new PutParameterCommand({ Name: "/app/hosts", Value: "a,b", Type: "StringList" }));
    await ssm.send(
      new PutParameterCommand({ Name: "/app/db/password", Value: "s3cret", Type: "SecureString" }),
    );
    const plain = await ssm.send(new GetParameterCommand({ Name: "/app/url" }));
    expect(plain.Parameter).toMatchObject({
      Name: "/app/url",
      Type: "String",
      Value: "https://x",
      Version: 1,
      ARN: `${ARN}/app/url`,
      DataType: "text",
    });
    expect(plain.Parameter?.LastModifiedDate).toBeInstanceOf(Date);
    const sealed = await ssm.send(new GetParameterCommand({ Name: "/app/db/password" }));
    expect(sealed.Parameter?.Value).not.toBe("s3cret");
    const opened = await ssm.send(
      new GetParameterCommand({ Name: "/app/db/password", WithDecryption: true }),
    );
    expect(opened.Parameter?.Value).toBe("s3cret");
    const many = await ssm.send(new GetParametersCommand({ Names: ["/app/url", "/app/hosts", "/nope"] }));
    expect(many.Parameters?.map((p) => p.Value)).toEqual(["https://x", "a,b"]);
    expect(many.InvalidParameters).toEqual(["/nope"]);
  });

  it("answers AWS's codes for missing, existing and invalid parameters", async () => {
    expect(await fails(ssm.send(new GetParameterCommand({ Name: "/missing" })))).toMatchObject({
      name: "ParameterNotFound",
      status: 400,
    });
    expect(
      await fails(ssm.send(new PutParameterCommand({ Name: "/app/url", Value: "y", Type: "String" }))),
    ).toMatchObject({
      name: "ParameterAlreadyExists",
      message:
        "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
    });
    expect(await fails(ssm.send(new PutParameterCommand({ Name: "/new", Value: "v" })))).toMatchObject({
      name: "ValidationException",
      message: "A parameter type is required when you create a parameter.",
    });
    expect(
      await fails(ssm.send(new PutParameterCommand({ Name: "/aws/x", Value: "v", Type: "String" }))),
    ).toMatchObject({ name: "ValidationException" });
    expect(
      await fails(
        ssm.send(new PutParameterCommand({ Name: `/${"a/".repeat(15)}b`, Value: "v", Type: "String" })),
      ),
    ).toMatchObject({ name: "HierarchyLevelLimitExceededException" });
    expect(
      await fails(
        ssm.send(
          new PutParameterCommand({ Name: "/pat", Value: "abc", Type: "String", AllowedPattern: "^\\d+$" }),
        ),
      ),
    ).toMatchObject({ name: "ParameterPatternMismatchException" });
    expect(await fails(ssm.send(new DeleteParameterCommand({ Name: "/missing" })))).toMatchObject({
      name: "ParameterNotFound",
    });
  });

  it("keeps versions, selects by version and label, and moves labels", async () => {
    await ssm.send(new PutParameterCommand({ Name: "/ver", Value: "v1", Type: "String" }));
    expect(
      await ssm.send(new PutParameterCommand({ Name: "/ver", Value: "v2", Overwrite: true })),
    ).toMatchObject({ Version: 2 });
    await ssm.send(
      new LabelParameterVersionCommand({ Name: "/ver", ParameterVersion: 1, Labels: ["stable"] }),
    );
    expect((await ssm.send(new GetParameterCommand({ Name: "/ver:1" }))).Parameter).toMatchObject({
      Value: "v1",
      Selector: ":1",
    });
    expect((await ssm.send(new GetParameterCommand({ Name: "/ver:stable" }))).Parameter?.Value).toBe("v1");
    expect((await ssm.send(new GetParameterCommand({ Name: "/ver" }))).Parameter?.Value).toBe("v2");
    const relabel = await ssm.send(
      new LabelParameterVersionCommand({ Name: "/ver", Labels: ["stable", "1bad", "awsx"] }),
    );
    expect(relabel).toMatchObject({ ParameterVersion: 2, InvalidLabels: ["1bad", "awsx"] });
    expect((await ssm.send(new GetParameterCommand({ Name: "/ver:stable" }))).Parameter?.Value).toBe("v2");
    const history = await ssm.send(new GetParameterHistoryCommand({ Name: "/ver" }));
    expect(history.Parameters?.map((p) => [p.Version, p.Value, p.Labels])).toEqual([
      [1, "v1", []],
      [2, "v2", ["stable"]],
    ]);
    expect(await fails(ssm.send(new GetParameterCommand({ Name: "/ver:9" })))).toMatchObject({
      name: "ParameterVersionNotFound",
    });
  });

  it("reads a hierarchy by path, one level or recursively, page by page", async () => {
    for (const n of ["/tree/a", "/tree/b", "/tree/sub/c", "/tree/sub/deep/d"])
      await ssm.send(new PutParameterCommand({ Name: n, Value: n, Type: "String" }));
    const oneLevel = await ssm.send(new GetParametersByPathCommand({ Path: "/tree" }));
    expect(oneLevel.Parameters?.map((p) => p.Name)).toEqual(["/tree/a", "/tree/b"]);
    const first = await ssm.send(
      new GetParametersByPathCommand({ Path: "/tree/", Recursive: true, MaxResults: 3 }),
    );
    expect(first.Parameters?.map((p) => p.Name)).toEqual(["/tree/a", "/tree/b", "/tree/sub/c"]);
    const rest = await ssm.send(
      new GetParametersByPathCommand({
        Path: "/tree/",
        Recursive: true,
        MaxResults: 3,
        NextToken: first.NextToken,
      }),
    );
    expect(rest.Parameters?.map((p) => p.Name)).toEqual(["/tree/sub/deep/d"]);
    expect(rest.NextToken).toBeUndefined();
    const described = await ssm.send(
      new DescribeParametersCommand({
        ParameterFilters: [{ Key: "Path", Option: "Recursive", Values: ["/tree/sub"] }],
      }),
    );
    expect(described.Parameters?.map((p) => p.Name)).toEqual(["/tree/sub/c", "/tree/sub/deep/d"]);
    const secure = await ssm.send(
      new DescribeParametersCommand({ ParameterFilters: [{ Key: "Type", Values: ["SecureString"] }] }),
    );
    expect(secure.Parameters?.map((p) => [p.Name, p.KeyId])).toEqual([["/app/db/password", "alias/aws/ssm"]]);
  });

  it("deletes in batches and tags parameters", async () => {
    await ssm.send(
      new AddTagsToResourceCommand({
        ResourceType: "Parameter",
        ResourceId: "/tree/a",
        Tags: [{ Key: "k", Value: "v" }],
      }),
    );
    expect(
      (await ssm.send(new ListTagsForResourceCommand({ ResourceType: "Parameter", ResourceId: "/tree/a" })))
        .TagList,
    ).toEqual([{ Key: "k", Value: "v" }]);
    const out = await ssm.send(new DeleteParametersCommand({ Names: ["/tree/a", "/tree/b", "/nope"] }));
    expect(out).toMatchObject({ DeletedParameters: ["/tree/a", "/tree/b"], InvalidParameters: ["/nope"] });
    expect(await fails(ssm.send(new GetParameterCommand({ Name: "/tree/a" })))).toMatchObject({
      name: "ParameterNotFound",
    });
  });
});
