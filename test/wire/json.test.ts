import { describe, expect, it } from "vitest";
import {
  decodeJson,
  encodeJson,
  findOperation,
  jsonActionOf,
  type OperationSchema,
} from "../../src/api/protocols/index.js";
import { AwsError } from "../../src/cloud/errors.js";
import { sdkHarness } from "./sdk.js";

function op(service: "secretsmanager" | "logs", name: string): OperationSchema {
  return findOperation(service, name)!;
}

describe("awsJson1_1 requests", () => {
  it("maps X-Amz-Target to the action", () => {
    expect(jsonActionOf("secretsmanager", "secretsmanager.GetSecretValue")).toBe("GetSecretValue");
    expect(jsonActionOf("logs", "Logs_20140328.PutLogEvents")).toBe("PutLogEvents");
    expect(jsonActionOf("logs", "secretsmanager.PutLogEvents")).toBeUndefined();
    expect(jsonActionOf("logs", undefined)).toBeUndefined();
  });

  it("decodes blobs, keeps member names, skips nulls and unknown members", () => {
    const body = JSON.stringify({
      Name: "db",
      SecretBinary: Buffer.from([0, 1, 254, 255]).toString("base64"),
      ClientRequestToken: "t",
      Tags: [{ Key: "k", Value: "v" }],
      Description: null,
      FutureMember: { x: 1 },
    });
    expect(decodeJson(op("secretsmanager", "CreateSecret"), body)).toEqual({
      Name: "db",
      SecretBinary: new Uint8Array([0, 1, 254, 255]),
      ClientRequestToken: "t",
      Tags: [{ Key: "k", Value: "v" }],
    });
  });

  it("treats an empty body as an empty input", () => {
    expect(decodeJson(op("logs", "DescribeLogGroups"), "")).toEqual({});
  });

  it.each([
    ["not JSON", "{", "The request body is not valid JSON"],
    [
      "a string where a number belongs",
      '{"limit":"5"}',
      "Cannot deserialize limit: expected a number, got string",
    ],
    [
      "an object where a list belongs",
      '{"logGroupIdentifiers":{}}',
      "Cannot deserialize logGroupIdentifiers: expected a list, got object",
    ],
    ["a top-level array", "[]", "Cannot deserialize the request body: expected an object, got array"],
  ])("answers SerializationException for %s", (_, body, message) => {
    let caught: unknown;
    try {
      decodeJson(op("logs", "DescribeLogGroups"), body);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AwsError);
    expect((caught as AwsError).code).toBe("SerializationException");
    expect((caught as AwsError).message).toBe(message);
  });
});

describe("awsJson1_1 responses", () => {
  it("write timestamps as epoch seconds and blobs as base64, in schema order", () => {
    const out = encodeJson(op("secretsmanager", "GetSecretValue"), {
      CreatedDate: new Date("2026-01-02T03:04:05.678Z"),
      SecretBinary: new Uint8Array([104, 105]),
      Name: "db",
      ARN: "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf",
      VersionStages: [],
    });
    expect(out).toBe(
      '{"ARN":"arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf","Name":"db","SecretBinary":"aGk=","VersionStages":[],"CreatedDate":1767323045.678}',
    );
  });

  it("are what the SDK reads back", async () => {
    const harness = sdkHarness("secretsmanager");
    const value = { Name: "db", CreatedDate: new Date("2026-01-02T03:04:05.678Z"), SecretString: 'p"w\n' };
    const { output } = await harness.send("GetSecretValue", { SecretId: "db" }, () => ({
      status: 200,
      body: encodeJson(op("secretsmanager", "GetSecretValue"), value),
    }));
    expect(output).toMatchObject(value);
  });

  it("answer {} for actions without output", () => {
    expect(encodeJson(op("logs", "DeleteLogGroup"), undefined)).toBe("{}");
  });
});
