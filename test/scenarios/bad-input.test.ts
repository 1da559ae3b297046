import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeVpcsCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/spawn.js";
import { runScenario, startTestServer, type TestServer } from "./run-scenario.js";

/** Scenario files that cannot run say where (file:line:column) and which field; a failure tears down. */
const file = (name: string) => join(import.meta.dirname, "files", name);
let srv: TestServer;

/** The VPCs of fails-halfway.yaml (the account also has its default VPC). */
async function scenarioVpcs(ec2: EC2Client): Promise<unknown[]> {
  const r = await ec2.send(
    new DescribeVpcsCommand({ Filters: [{ Name: "cidr", Values: ["10.70.0.0/16"] }] }),
  );
  return r.Vpcs ?? [];
}
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv?.stop());

describe("privlink scenario run: bad input", () => {
  it("a malformed file: its line and column, exit 2, nothing run", async () => {
    // Written here: a malformed YAML file in the repository would break the formatter.
    const bad = join(mkdtempSync(join(tmpdir(), "scenario-")), "bad.yaml");
    writeFileSync(
      bad,
      'name: bad\ntitle: t\naccounts: { a: "111111111111" }\nsteps:\n  - call: ec2:CreateVpc\n    params: { CidrBlock: 10.0.0.0/16\n',
    );
    const r = await runCli(["scenario", "run", bad], srv.cliEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^${bad}:\\d+:\\d+: `));
  });

  it("an unknown step kind and an unknown service: file, line, column and field of each", async () => {
    const r = await runCli(["scenario", "run", file("unknown-kind.yaml")], srv.cliEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${file("unknown-kind.yaml")}:7:5: steps[1].create: unknown step kind 'create': a step has one of call, process, exec, connect, privlink, watch, cost`,
    );
    expect(r.stderr).toContain(`${file("unknown-kind.yaml")}:8:5: steps[2].call: unknown service 'lambda'`);
  });

  it("a reference to no earlier step names the field holding it", async () => {
    const r = await runCli(["scenario", "run", file("dangling.yaml")], srv.cliEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${file("dangling.yaml")}:9:24: steps[1].params.VpcIds[0]: \${vcp.Vpc.VpcId} refers to no earlier step (ids so far: vpc)`,
    );
  });

  it("an action the service does not have", async () => {
    const r = await runCli(["scenario", "run", file("unknown-action.yaml")], srv.cliEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${file("unknown-action.yaml")}:5:5: steps[0].call: ec2 has no action CreateVpcs`,
    );
  });

  it("a scenario failing halfway says which step and why, exits 1 and removes what it made", async () => {
    const r = await runScenario(srv, file("fails-halfway.yaml"));
    expect(r.code).toBe(1);
    expect(r.report.failed).toMatchObject({ index: 3, title: "a subnet outside the VPC's CIDR", ok: false });
    expect(r.report.failed.reason).toMatch(/^failed: InvalidSubnet\.Range: /);
    expect(r.report.failed.where).toBe(`${file("fails-halfway.yaml")}:11:5`);
    expect(r.report.steps).toHaveLength(3);
    expect(r.report.teardown).toEqual({ removed: 2, left: [] });
    const creds = await srv.admin("POST", "/_privlink/accounts", { id: "313131313131" });
    expect(await scenarioVpcs(srv.ec2("us-east-1", creds))).toEqual([]);
  });

  it("--keep leaves it, and scenario down removes it", async () => {
    const kept = await runScenario(srv, file("fails-halfway.yaml"), ["--keep"]);
    expect(kept.report.kept).toBe(true);
    const creds = await srv.admin("POST", "/_privlink/accounts", { id: "313131313131" });
    const ec2 = srv.ec2("us-east-1", creds);
    expect(await scenarioVpcs(ec2)).toHaveLength(1);
    const down = await runCli(["scenario", "down", "fails-halfway"], srv.cliEnv());
    expect(down.stdout).toContain("fails-halfway: 2 resources removed");
    expect(down.code).toBe(0);
    expect(await scenarioVpcs(ec2)).toEqual([]);
  });

  it("list shows the shipped scenarios and those of --dir", async () => {
    const r = await runCli(["scenario", "list", "--dir", join(import.meta.dirname, "files")], srv.cliEnv());
    expect(r.stdout).toMatch(/^secrets-private-app +1\. An application/m);
    expect(r.stdout).toMatch(/^fails-halfway +a scenario whose third step fails/m);
    // The seven of the seed, in its order, before the folder's own.
    expect(r.stdout.split("\n").map((l) => l.split(" ")[0])).toEqual([
      "secrets-private-app",
      "shared-services",
      "saas-vendor",
      "hybrid-onprem",
      "own-service",
      "central-logging",
      "onprem-s3-sync",
      "dangling",
      "fails-halfway",
      "unknown-action",
      "unknown-kind",
      "",
    ]);
  });
});
