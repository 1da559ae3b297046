import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  ModifyVpcAttributeCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { pathWithPrivlink } from "../helpers/spawn.js";

/**
 * docs/aws-service-endpoints.md's worked `privlink upstream` example, run as it stands: the
 * block after `<!-- walkthrough:upstream -->` goes to bash with the variables it names set, the
 * AWS CLI pointed at this server (what `privlink env` exports) and `privlink` meaning this
 * checkout's CLI. A tiny KMS (test/front/fake-kms.mjs) sits behind an interface endpoint whose
 * policy the front enforces.
 */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

let srv: TestServer;
const vars = { VPC: "", SUBNET: "", SG: "" };

/** The documented block, verbatim. */
function documentedBlock(): string {
  const page = readFileSync(`${ROOT}docs/aws-service-endpoints.md`, "utf8");
  const m = /<!-- walkthrough:upstream -->\n```sh\n([\s\S]*?)```/.exec(page);
  if (!m) throw new Error("docs/aws-service-endpoints.md has no walkthrough:upstream block");
  return m[1]!;
}

function runBash(
  script: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", script], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  srv = await startTestServer();
  const ec2 = srv.ec2();
  vars.VPC = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.63.0.0/16" }))).Vpc!.VpcId!;
  for (const attr of ["EnableDnsHostnames", "EnableDnsSupport"] as const)
    await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vars.VPC, [attr]: { Value: true } }));
  vars.SUBNET = (
    await ec2.send(
      new CreateSubnetCommand({ VpcId: vars.VPC, CidrBlock: "10.63.1.0/24", AvailabilityZone: "us-east-1a" }),
    )
  ).Subnet!.SubnetId!;
  vars.SG = (
    await ec2.send(new CreateSecurityGroupCommand({ VpcId: vars.VPC, GroupName: "kms", Description: "kms" }))
  ).GroupId!;
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: vars.SG,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "10.63.0.0/16" }] },
      ],
    }),
  );
  await ec2.send(
    new RunInstancesCommand({
      ImageId: "ami-12345678",
      MinCount: 1,
      MaxCount: 1,
      SubnetId: vars.SUBNET,
      TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "Name", Value: "app" }] }],
    }),
  );
}, 60_000);

afterAll(() => srv?.stop());

describe("the documented `privlink upstream` walkthrough (docs/aws-service-endpoints.md)", () => {
  it("reaches a KMS fake through an interface endpoint, and the endpoint policy refuses CreateKey", {
    timeout: 180_000,
  }, async () => {
    // `privlink` is this checkout's CLI; the fake started with `&` goes when the script ends.
    const prelude = "trap 'kill $(jobs -p) 2>/dev/null' EXIT";
    const r = await runBash(`${prelude}\n${documentedBlock()}`, {
      ...srv.cliEnv(),
      ...vars,
      PATH: pathWithPrivlink(),
    });
    expect(r.stdout).toContain("fake-kms listening on http://127.0.0.1:4566");
    // create-key printed the new key's ID; list-keys (allowed by the policy) lists it.
    const ids = r.stdout.match(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g) ?? [];
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
    // The last command: denied by the endpoint policy, with AWS's text, exit code of the CLI.
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      "An error occurred (AccessDeniedException) when calling the CreateKey operation",
    );
    expect(r.stderr.replace(/\s+/g, " ")).toContain(
      "User: arn:aws:iam::000000000000:root is not authorized to perform: kms:CreateKey because no VPC endpoint policy allows the kms:CreateKey action",
    );
  });
});
