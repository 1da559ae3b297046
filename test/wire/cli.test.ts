import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsError } from "../../src/cloud/errors.js";
import { startWireServer, type WireCall, type WireServer } from "./server.js";

/**
 * botocore (the AWS CLI v1) as a second, independent client: it must write requests we read and
 * read what we write, errors included ("An error occurred (Code) when calling the X operation: …").
 */

function findAws(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/root/.pyenv/shims"];
  return dirs.map((d) => join(d, "aws")).find((p) => existsSync(p));
}

const AWS = findAws();
const PYTHON = findOnPath("python3");

function findOnPath(name: string): string | undefined {
  return (process.env.PATH ?? "")
    .split(delimiter)
    .map((d) => join(d, name))
    .find((p) => existsSync(p));
}

/** One botocore process for many calls (a Python start costs about a second). */
const BOTOCORE_SCRIPT = `
import json, sys
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError
endpoint = sys.argv[1]
session = botocore.session.get_session()
clients = {}
for call in json.loads(sys.argv[2]):
    svc = call["service"]
    if svc not in clients:
        clients[svc] = session.create_client(svc, endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
            config=Config(retries={"total_max_attempts": 1}))
    try:
        out = getattr(clients[svc], call["method"])(**call["args"])
        out.pop("ResponseMetadata", None)
        print(json.dumps({"ok": out}, default=str))
    except ClientError as e:
        print(json.dumps({"error": str(e)}))
`;

const BOTOCORE_CALLS = [
  { service: "sts", method: "get_caller_identity", args: {} },
  { service: "elbv2", method: "describe_load_balancers", args: { Names: ["nope"] } },
  { service: "secretsmanager", method: "get_secret_value", args: { SecretId: "s1" } },
  { service: "logs", method: "describe_log_groups", args: { logGroupNamePrefix: "/a" } },
  { service: "route53", method: "create_hosted_zone", args: { Name: "example.com", CallerReference: "r1" } },
  { service: "route53", method: "get_hosted_zone", args: { Id: "Z404" } },
];

function answer(call: WireCall): unknown {
  switch (call.action) {
    case "DescribeVpcs":
      return {
        Vpcs: [
          {
            VpcId: "vpc-1",
            CidrBlock: "10.0.0.0/16",
            State: "available",
            IsDefault: false,
            Tags: [{ Key: "Name", Value: "a & <b>" }],
            CidrBlockAssociationSet: [
              {
                AssociationId: "vpc-cidr-assoc-1",
                CidrBlock: "10.0.0.0/16",
                CidrBlockState: { State: "associated" },
              },
            ],
            Ipv6CidrBlockAssociationSet: [],
          },
        ],
      };
    case "DeleteVpc":
      throw new AwsError("InvalidVpcID.NotFound", `The vpc ID '${call.input.VpcId}' does not exist`);
    case "GetCallerIdentity":
      return { UserId: "AIDAEXAMPLE", Account: "000000000000", Arn: "arn:aws:iam::000000000000:user/test" };
    case "DescribeLoadBalancers":
      throw new AwsError("LoadBalancerNotFound", "One or more load balancers not found");
    case "GetSecretValue":
      throw new AwsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
    case "DescribeLogGroups":
      return { logGroups: [{ logGroupName: "/app", creationTime: 1767225600000, storedBytes: 0 }] };
    case "CreateHostedZone":
      return {
        HostedZone: {
          Id: "/hostedzone/Z9",
          Name: `${call.input.Name}.`,
          CallerReference: call.input.CallerReference,
          Config: { PrivateZone: false },
        },
        ChangeInfo: { Id: "/change/C1", Status: "PENDING", SubmittedAt: new Date("2026-01-01T00:00:00Z") },
        DelegationSet: { NameServers: ["ns-1.example.org"] },
        Location: "https://route53.amazonaws.com/2013-04-01/hostedzone/Z9",
      };
    case "GetHostedZone":
      throw new AwsError("NoSuchHostedZone", `No hosted zone found with ID: ${call.input.Id}`, 404);
    default:
      throw new AwsError("InvalidAction", `unexpected ${call.action}`);
  }
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe.skipIf(!AWS || !PYTHON)("the AWS CLI (botocore) against the codecs", () => {
  let server: WireServer;
  let home: string;

  beforeAll(async () => {
    server = await startWireServer(answer);
    home = mkdtempSync(join(tmpdir(), "privlink-wire-cli-"));
  });

  afterAll(async () => {
    await server.close();
    rmSync(home, { recursive: true, force: true });
  });

  function env(): Record<string, string> {
    return {
      PATH: process.env.PATH ?? "",
      HOME: home,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_CONFIG_FILE: join(home, "config"),
      AWS_SHARED_CREDENTIALS_FILE: join(home, "credentials"),
      AWS_MAX_ATTEMPTS: "1",
      AWS_EC2_METADATA_DISABLED: "true",
    };
  }

  function run(file: string, argv: string[]): Promise<Run> {
    return new Promise((resolve) => {
      execFile(file, argv, { env: env(), timeout: 60_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      });
    });
  }

  function aws(...args: string[]): Promise<Run> {
    return run(AWS!, [...args, "--endpoint-url", server.endpoint, "--output", "json"]);
  }

  function botocore(calls: typeof BOTOCORE_CALLS): Promise<Run> {
    return run(PYTHON!, ["-c", BOTOCORE_SCRIPT, server.endpoint, JSON.stringify(calls)]);
  }

  function callOf(action: string): WireCall | undefined {
    return server.calls.find((c) => c.action === action);
  }

  it.concurrent("ec2 describe-vpcs: botocore's query params decode, our XML prints", async () => {
    const r = await aws(
      "ec2",
      "describe-vpcs",
      "--vpc-ids",
      "vpc-1",
      "vpc-2",
      "--filters",
      "Name=cidr,Values=10.0.0.0/16,10.1.0.0/16",
    );
    expect(r.stderr).toBe("");
    expect(callOf("DescribeVpcs")?.input).toEqual({
      VpcIds: ["vpc-1", "vpc-2"],
      Filters: [{ Name: "cidr", Values: ["10.0.0.0/16", "10.1.0.0/16"] }],
    });
    expect(JSON.parse(r.stdout)).toEqual({
      Vpcs: [
        {
          VpcId: "vpc-1",
          CidrBlock: "10.0.0.0/16",
          State: "available",
          IsDefault: false,
          Tags: [{ Key: "Name", Value: "a & <b>" }],
          CidrBlockAssociationSet: [
            {
              AssociationId: "vpc-cidr-assoc-1",
              CidrBlock: "10.0.0.0/16",
              CidrBlockState: { State: "associated" },
            },
          ],
          Ipv6CidrBlockAssociationSet: [],
        },
      ],
    });
  });

  it.concurrent("ec2 error: the CLI prints AWS's sentence and fails", async () => {
    const r = await aws("ec2", "delete-vpc", "--vpc-id", "vpc-nope");
    expect(r.code).toBeGreaterThan(0);
    expect(r.stderr.trim()).toBe(
      "An error occurred (InvalidVpcID.NotFound) when calling the DeleteVpc operation: The vpc ID 'vpc-nope' does not exist",
    );
  });

  it.concurrent("botocore reads every protocol's responses and errors", async () => {
    const r = await botocore(BOTOCORE_CALLS);
    expect(r.stderr).toBe("");
    const results = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(results).toEqual([
      { ok: { UserId: "AIDAEXAMPLE", Account: "000000000000", Arn: "arn:aws:iam::000000000000:user/test" } },
      {
        error:
          "An error occurred (LoadBalancerNotFound) when calling the DescribeLoadBalancers operation: One or more load balancers not found",
      },
      {
        error:
          "An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: Secrets Manager can't find the specified secret.",
      },
      { ok: { logGroups: [{ logGroupName: "/app", creationTime: 1767225600000, storedBytes: 0 }] } },
      {
        ok: {
          HostedZone: {
            Id: "/hostedzone/Z9",
            Name: "example.com.",
            CallerReference: "r1",
            Config: { PrivateZone: false },
          },
          ChangeInfo: { Id: "/change/C1", Status: "PENDING", SubmittedAt: "2026-01-01 00:00:00+00:00" },
          DelegationSet: { NameServers: ["ns-1.example.org"] },
          Location: "https://route53.amazonaws.com/2013-04-01/hostedzone/Z9",
        },
      },
      {
        error:
          "An error occurred (NoSuchHostedZone) when calling the GetHostedZone operation: No hosted zone found with ID: Z404",
      },
    ]);
    expect(callOf("DescribeLoadBalancers")?.input).toEqual({ Names: ["nope"] });
    expect(callOf("DescribeLogGroups")?.input).toEqual({ logGroupNamePrefix: "/a" });
    expect(callOf("CreateHostedZone")?.input).toEqual({ Name: "example.com", CallerReference: "r1" });
    expect(callOf("GetHostedZone")?.input).toEqual({ Id: "Z404" });
  });
});
