import { describe, expect, it } from "vitest";
import { foreignProtocolOf, notImplementedOnEdge, renderForeignError } from "../../src/api/unimplemented.js";
import { sdkHarness } from "../wire/sdk.js";

/**
 * The generic "not implemented" answer: which protocol a request to any service speaks, and
 * each family's envelope as the real SDK v3 decodes it (the SDK client of a service privlink
 * speaks, in the same family, reads the foreign envelope exactly as it reads its own).
 */

const json = (version: "1.0" | "1.1", target: string) => ({
  "content-type": `application/x-amz-json-${version}`,
  "x-amz-target": target,
});

describe("the protocol of a service privlink does not implement", () => {
  it.each([
    ["dynamodb", "json1_0", { url: "/", headers: json("1.0", "DynamoDB_20120810.ListTables") }],
    ["sqs", "json1_0", { url: "/", headers: json("1.0", "AmazonSQS.ListQueues") }],
    ["ssm", "json1_1", { url: "/", headers: json("1.1", "AmazonSSM.DescribeParameters") }],
    ["logs", "json1_1", { url: "/", headers: json("1.1", "Logs_20140328.DescribeLogGroups") }],
    ["sns", "query", { url: "/", headers: {}, body: Buffer.from("Action=ListTopics&Version=2010-03-31") }],
    ["iam", "query", { url: "/?Action=ListUsers&Version=2010-05-08", headers: {} }],
    [
      "monitoring",
      "query",
      { url: "/", headers: {}, body: Buffer.from("Action=ListMetrics&Version=2010-08-01") },
    ],
    ["s3", "restXml", { url: "/demo", headers: {} }],
    ["s3control", "restXml", { url: "/v20180820/configuration", headers: {} }],
    ["cloudfront", "restXml", { url: "/2020-05-31/distribution", headers: {} }],
    ["lambda", "restJson", { url: "/2015-03-31/functions/", headers: {} }],
    ["execute-api", "restJson", { url: "/prod/items", headers: {} }],
  ] as const)("%s speaks %s", (service, protocol, req) => {
    expect(foreignProtocolOf(service, req as never)).toBe(protocol);
  });
});

describe("the NotImplemented envelopes, decoded by the SDK", () => {
  const err = notImplementedOnEdge("somesvc");
  const cases = [
    { family: "json1_0", client: "secretsmanager", action: "GetSecretValue", input: { SecretId: "x" } },
    { family: "json1_1", client: "secretsmanager", action: "GetSecretValue", input: { SecretId: "x" } },
    { family: "query", client: "sts", action: "GetCallerIdentity", input: {} },
    { family: "restXml", client: "route53", action: "GetHostedZone", input: { Id: "Z1" } },
  ] as const;
  it.each(cases)("$family", async ({ family, client, action, input }) => {
    const rendered = renderForeignError(err, family, "rid-1");
    const caught = await sdkHarness(client)
      .send(action, input, () => rendered)
      .then(
        () => undefined,
        (e) => e,
      );
    expect(caught).toBeInstanceOf(Error);
    expect([caught.name, caught.message, caught.$metadata.httpStatusCode, caught.$fault]).toEqual([
      "NotImplemented",
      err.message,
      501,
      "server",
    ]);
  });

  it("names the upstream command", () => {
    expect(err.message).toContain("privlink upstream set somesvc <URL>");
  });
});
