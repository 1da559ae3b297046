import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminFetch } from "../helpers/admin.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runAws, runCli } from "../helpers/spawn.js";

/** The README's five-minute walkthrough, run with the real AWS CLI and the privlink command. */
let srv: TestServer;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  srv = await startTestServer();
  env = { ...srv.cliEnv(), PRIVLINK_URL: srv.url, PRIVLINK_HOME: srv.home };
});
afterAll(() => srv.stop());

async function aws(...args: string[]): Promise<string> {
  const r = await runAws(["--endpoint-url", srv.url, "--output", "text", ...args], env);
  if (r.code !== 0) throw new Error(`aws ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

describe("README walkthrough", () => {
  it("runs as written", async () => {
    const envOut = await runCli(["env"], env);
    expect(envOut.stdout).toContain(`export AWS_ENDPOINT_URL=${srv.url}`);
    expect(envOut.stdout).toContain("export AWS_ACCESS_KEY_ID=test");
    expect(await aws("sts", "get-caller-identity", "--query", "Account")).toBe("000000000000");
    const vpc = await aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16", "--query", "Vpc.VpcId");
    expect(vpc).toMatch(/^vpc-[0-9a-f]{17}$/);
    await aws("ec2", "modify-vpc-attribute", "--vpc-id", vpc, "--enable-dns-hostnames", '{"Value":true}');
    const subnet = await aws(
      "ec2",
      "create-subnet",
      "--vpc-id",
      vpc,
      "--cidr-block",
      "10.0.1.0/24",
      "--availability-zone",
      "us-east-1a",
      "--query",
      "Subnet.SubnetId",
    );
    const sg = await aws(
      "ec2",
      "create-security-group",
      "--group-name",
      "app",
      "--description",
      "app tier",
      "--vpc-id",
      vpc,
      "--query",
      "GroupId",
    );
    await aws(
      "ec2",
      "authorize-security-group-ingress",
      "--group-id",
      sg,
      "--protocol",
      "tcp",
      "--port",
      "443",
      "--cidr",
      "10.0.0.0/16",
    );
    const app = await aws(
      "ec2",
      "run-instances",
      "--image-id",
      "ami-12345678",
      "--count",
      "1",
      "--subnet-id",
      subnet,
      "--security-group-ids",
      sg,
      "--query",
      "Instances[0].InstanceId",
    );
    const described = await aws(
      "ec2",
      "describe-instances",
      "--instance-ids",
      app,
      "--query",
      "Reservations[0].Instances[0].[PrivateIpAddress,State.Name]",
    );
    expect(described.split(/\s+/)).toEqual(["10.0.1.4", "running"]);
    const addr = await runCli(["addr", app], env);
    expect(addr.code).toBe(0);
    const [ip, host, addrVpc, eni] = addr.stdout.trim().split(" ");
    expect([ip, addrVpc]).toEqual(["10.0.1.4", vpc]);
    expect(host).toMatch(/^127\.\d+\.1\.4$/);
    expect(eni).toMatch(/^eni-/);
    const json = JSON.parse((await runCli(["addr", ip!, "--vpc", vpc, "--json"], env)).stdout);
    expect(json).toEqual([{ privateIp: "10.0.1.4", hostAddress: host, vpcId: vpc, eniId: eni }]);
    const conflict = await runAws(
      ["--endpoint-url", srv.url, "ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.0.1.128/25"],
      env,
    );
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toContain(
      "An error occurred (InvalidSubnet.Conflict) when calling the CreateSubnet operation: The CIDR '10.0.1.128/25' conflicts with another subnet",
    );
    await aws("ec2", "terminate-instances", "--instance-ids", app);
    const status = await runCli(["status"], env);
    expect(status.stdout).toContain(`is running at ${srv.url}`);
    const reset = await adminFetch(srv, `/_privlink/reset`, { method: "POST" });
    expect(reset.status).toBe(200);
    const after = await runAws(["--endpoint-url", srv.url, "ec2", "describe-vpcs", "--vpc-ids", vpc], env);
    expect(after.stderr).toContain("InvalidVpcID.NotFound");
  });

  it("creates accounts from the command line", async () => {
    const r = await runCli(["account", "create", "--id", "210987654321", "--json"], env);
    expect(r.code).toBe(0);
    const acct = JSON.parse(r.stdout);
    expect(acct.accountId).toBe("210987654321");
    const who = await runAws(
      ["--endpoint-url", srv.url, "--output", "text", "sts", "get-caller-identity", "--query", "Account"],
      {
        ...env,
        AWS_ACCESS_KEY_ID: acct.accessKeyId,
        AWS_SECRET_ACCESS_KEY: acct.secretAccessKey,
      },
    );
    expect(who.stdout.trim()).toBe("210987654321");
  });
});
