import { describe, expect, it } from "vitest";
import {
  findOperation,
  jsonActionOf,
  operationNames,
  protocolOf,
  WIRE_SERVICES,
} from "../../src/api/protocols/index.js";

describe("schema", () => {
  it.each([
    ["ec2", "ec2"],
    ["sts", "awsQuery"],
    ["elasticloadbalancing", "awsQuery"],
    ["route53", "restXml"],
    ["secretsmanager", "awsJson1_1"],
    ["logs", "awsJson1_1"],
    ["monitoring", "awsJson1_0"],
  ])("%s speaks %s", (service, protocol) => {
    expect(protocolOf(service)).toBe(protocol);
  });

  it("refuses a service it does not speak", () => {
    expect(() => protocolOf("s3")).toThrow(expect.objectContaining({ code: "UnknownService" }));
  });

  it("finds operations once and caches them", () => {
    const op = findOperation("ec2", "CreateVpc");
    expect(op?.name).toBe("CreateVpc");
    expect(op?.input.name).toBe("CreateVpcRequest");
    expect(op?.input.members.map((m) => m.name)).toContain("TagSpecifications");
    expect(findOperation("ec2", "CreateVpc")).toBe(op);
  });

  it.each(["", "createVpc", "CreateVpcRequest", "constructor", "__proto__", "CreateVpc$", "Create Vpc"])(
    "answers undefined for %j",
    (name) => {
      expect(findOperation("ec2", name)).toBeUndefined();
    },
  );

  it("gives Route 53 operations their http trait", () => {
    expect(findOperation("route53", "CreateHostedZone")?.http).toEqual({
      method: "POST",
      uri: "/2013-04-01/hostedzone",
      code: 201,
    });
  });

  it("lists every operation of every service", () => {
    const counts = Object.fromEntries(WIRE_SERVICES.map((s) => [s, operationNames(s).length]));
    for (const n of Object.values(counts)) expect(n).toBeGreaterThan(10);
    expect(operationNames("ec2")).toContain("CreateVpcEndpoint");
  });

  it("maps JSON targets only for the JSON services", () => {
    expect(jsonActionOf("ec2", "secretsmanager.GetSecretValue")).toBeUndefined();
    expect(jsonActionOf("secretsmanager", "secretsmanager.GetSecretValue")).toBe("GetSecretValue");
  });
});
