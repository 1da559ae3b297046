import { PutResourcePolicyCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AccessReport, AccessRow } from "../../src/analyze/access.js";
import type { ImpactReport } from "../../src/analyze/impact.js";
import { tunnel } from "../../src/cli/connect.js";
import {
  accept,
  allowFromGroup,
  type Consumer,
  makeConsumer,
  makeProvider,
  type Provider,
} from "../dataplane/world.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runAws, runCli } from "../helpers/spawn.js";
import { echo, type Listening, listen } from "../net/sockets.js";
import { type SecretsDesign, secretsDesign } from "./designs.js";

/**
 * `privlink access` lists the flows that work, and `privlink impact` the ones a change would
 * break: each listed flow is then tried through the workload's proxy after the change is really
 * made with the AWS CLI, and must fail, while every other flow still works.
 */
let srv: TestServer;
let env: NodeJS.ProcessEnv;
let secrets: SecretsDesign;
let echoServer: Listening;
let provider: Provider;
let q: Consumer;
let r: Consumer;

beforeAll(async () => {
  srv = await startTestServer();
  env = { ...srv.cliEnv(), PRIVLINK_URL: srv.url };
  secrets = await secretsDesign(srv);
  echoServer = await listen(echo);
  provider = await makeProvider(srv, {
    accountId: "410000000001",
    targets: [{ host: "127.0.0.1", port: echoServer.port }],
    allow: ["410000000002", "410000000003"],
  });
  q = await makeConsumer(srv, "410000000002", provider.serviceName, "10.1.0.0/16");
  r = await makeConsumer(srv, "410000000003", provider.serviceName, "10.2.0.0/16");
  for (const c of [q, r]) await allowFromGroup(c, 7070);
  await accept(srv, provider, q.endpointId);
  const sm = new SecretsManagerClient({ endpoint: srv.url, region: "us-east-1", credentials: secrets.creds });
  await sm.send(
    new PutResourcePolicyCommand({
      SecretId: "prod/db",
      ResourcePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Deny",
            Principal: "*",
            Action: "secretsmanager:GetSecretValue",
            Resource: "*",
            Condition: { StringNotEquals: { "aws:SourceVpce": secrets.endpointId } },
          },
        ],
      }),
    }),
  );
  for (let i = 0; i < 200 && srv.state.get("vpcEndpoint", q.endpointId)?.state !== "available"; i++)
    await new Promise((res) => setTimeout(res, 25));
}, 60_000);

afterAll(async () => {
  await srv?.stop();
  await echoServer?.close();
});

async function cli<T>(...args: string[]): Promise<T> {
  const out = await runCli([...args, "--json"], env);
  expect(out.stderr).toBe("");
  expect(out.code).toBe(0);
  return JSON.parse(out.stdout) as T;
}

/** Tries a flow for real: a CONNECT through the workload's proxy to the endpoint's address. */
async function works(row: AccessRow): Promise<boolean> {
  const proxy = await srv.admin<{ host: string; port: number }>("POST", "/_privlink/workloads/proxy", {
    workload: row.workload,
  });
  const ep = srv.state.get("vpcEndpoint", row.endpointId);
  const eni = ep?.enis[0] && srv.state.get("eni", ep.enis[0].eniId);
  // A deleted endpoint's interfaces are gone: dial the address it had.
  const address = eni?.privateIp ?? addresses.get(row.endpointId)!;
  try {
    (await tunnel(proxy, `${address}:${row.port}`)).destroy();
    return true;
  } catch {
    return false;
  }
}

const addresses = new Map<string, string>();
const key = (x: AccessRow) => `${x.workload}>${x.endpointId}:${x.port}`;

describe("privlink access", () => {
  it("lists the flows that work, with their path, and the resources that insist on aws:SourceVpce", async () => {
    const report = await cli<AccessReport>("access");
    for (const row of report.rows) {
      const ep = srv.state.get("vpcEndpoint", row.endpointId)!;
      addresses.set(row.endpointId, srv.state.get("eni", ep.enis[0]!.eniId)!.privateIp);
    }
    expect(report.rows.map(key).sort()).toEqual(
      [`${secrets.instanceId}>${secrets.endpointId}:443`, `${q.instanceId}>${q.endpointId}:7070`].sort(),
    );
    const app = report.rows.find((x) => x.workload === secrets.instanceId)!;
    expect(app).toMatchObject({
      account: "111122223333",
      name: "app",
      service: "com.amazonaws.us-east-1.secretsmanager",
      endpointPolicy: "full-access",
    });
    expect(app.path).toMatch(/^rtb-[0-9a-f]+ local$/);
    // Rejected R is counted as refused, not listed.
    expect(report.refused).toBe(report.checked - 2);
    expect(report.sourceVpceResources).toEqual([
      expect.objectContaining({
        keys: ["aws:SourceVpce"],
        values: [secrets.endpointId],
        accountId: "111122223333",
      }),
    ]);
    for (const row of report.rows) expect(await works(row)).toBe(true);
    const csv = await runCli(["access", "--csv", "--account", "410000000002"], env);
    expect(csv.stdout.trim().split("\n")).toEqual([
      "account,vpcId,subnetId,workload,name,endpointId,endpointAccount,service,port,path,endpointPolicy",
      expect.stringContaining(`,${q.instanceId},,${q.endpointId},410000000002,${provider.serviceName},7070,`),
    ]);
  });
});

describe("privlink impact", () => {
  async function allFlows(): Promise<AccessRow[]> {
    return [...(await cli<AccessReport>("access")).rows];
  }

  async function holds(impact: ImpactReport, before: AccessRow[], apply: string[], creds = secrets.creds) {
    const ran = await runAws([...apply, "--endpoint-url", srv.url], srv.cliEnv(creds));
    expect(ran.stderr).toBe("");
    const broken = new Set(impact.broken.map(key));
    for (const row of before)
      expect({ flow: key(row), works: await works(row) }).toEqual({
        flow: key(row),
        works: !broken.has(key(row)),
      });
  }

  it("--delete-route of the internet route breaks no endpoint flow; the local route cannot go", async () => {
    const table = [...srv.state.all("routeTable")].find((t) => t.vpcId === secrets.vpcId)!;
    const aws = (...args: string[]) =>
      runAws([...args, "--endpoint-url", srv.url, "--output", "json"], srv.cliEnv(secrets.creds));
    const igw = JSON.parse((await aws("ec2", "create-internet-gateway")).stdout).InternetGateway
      .InternetGatewayId;
    await aws("ec2", "attach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", secrets.vpcId);
    await aws(
      "ec2",
      "create-route",
      "--route-table-id",
      table.id,
      "--destination-cidr-block",
      "0.0.0.0/0",
      "--gateway-id",
      igw,
    );
    const before = await allFlows();
    const version = srv.state.version;
    const impact = await cli<ImpactReport>("impact", "--delete-route", table.id, "0.0.0.0/0");
    expect(srv.state.version).toBe(version);
    expect(impact.broken).toEqual([]);
    expect(impact.unaffected).toBe(before.length);
    await holds(impact, before, [
      "ec2",
      "delete-route",
      "--route-table-id",
      table.id,
      "--destination-cidr-block",
      "0.0.0.0/0",
    ]);
    const local = await runCli(["impact", "--delete-route", table.id, "10.0.0.0/16"], env);
    expect(local.code).toBe(2);
    expect(local.stderr).toContain("cannot remove local route 10.0.0.0/16");
  }, 120_000);

  it("--revoke of the endpoint's inbound rule breaks only the app's flow", async () => {
    const before = await allFlows();
    const version = srv.state.version;
    const impact = await cli<ImpactReport>("impact", "--revoke", secrets.endpointRuleId);
    expect(srv.state.version).toBe(version);
    expect(impact.broken.map(key)).toEqual([`${secrets.instanceId}>${secrets.endpointId}:443`]);
    expect(impact.broken[0]!.hop).toBe("destination-sg-ingress");
    expect(impact.unaffected).toBe(before.length - 1);
    await holds(impact, before, [
      "ec2",
      "revoke-security-group-ingress",
      "--group-id",
      secrets.endpointSg,
      "--security-group-rule-ids",
      secrets.endpointRuleId,
    ]);
  });

  it("--delete-endpoint breaks the flows through that endpoint only", async () => {
    const before = await allFlows();
    const impact = await cli<ImpactReport>("impact", "--delete-endpoint", q.endpointId);
    expect(impact.broken.map(key)).toEqual([`${q.instanceId}>${q.endpointId}:7070`]);
    expect(impact.broken[0]!.reason).toMatch(/^nothing at /);
    await holds(impact, before, ["ec2", "delete-vpc-endpoints", "--vpc-endpoint-ids", q.endpointId], q.creds);
  });

  it("refuses bad changes with one line and exit 2", async () => {
    for (const args of [
      ["--delete-route", "rtb-0123456789abcdef0", "10.0.0.0/16"],
      ["--revoke", "sgr-0123456789abcdef0"],
      ["--delete-endpoint", "vpce-0123456789abcdef0"],
      [],
    ]) {
      const out = await runCli(["impact", ...args], env);
      expect({ args, code: out.code }).toEqual({ args, code: 2 });
      expect(out.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});
