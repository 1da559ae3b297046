import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CreateNetworkAclCommand,
  CreateNetworkInsightsPathCommand,
  DescribeNetworkAclsCommand,
  DescribeNetworkInsightsAnalysesCommand,
  ModifyVpcEndpointCommand,
  ReplaceNetworkAclAssociationCommand,
  RevokeSecurityGroupIngressCommand,
  StartNetworkInsightsAnalysisCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  accept,
  allowFromGroup,
  type Consumer,
  makeConsumer,
  makeProvider,
  type Provider,
  until,
} from "../dataplane/world.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runAws, runCli } from "../helpers/spawn.js";
import { echo, type Listening, listen } from "../net/sockets.js";
import { normalize, type SecretsDesign, secretsDesign } from "./designs.js";

/**
 * `privlink why` on the seed's designs that run today, through the real command: the text is
 * held to golden files (IDs and host addresses normalised), the exit code to 0/1/2, and every
 * suggested fix is run through the AWS CLI to show that it really lets the flow through.
 */
const GOLDEN = join(import.meta.dirname, "golden");
const ROLE = "arn:aws:iam::111122223333:role/app";

let srv: TestServer;
let env: NodeJS.ProcessEnv;
let secrets: SecretsDesign;
let bare: SecretsDesign;
let echoServer: Listening;
let provider: Provider;
let q: Consumer;
let r: Consumer;
let saas: Consumer;

function golden(name: string, text: string): void {
  const file = join(GOLDEN, `${name}.txt`);
  const got = normalize(text);
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, got);
  }
  expect(got).toBe(readFileSync(file, "utf8"));
}

async function why(...args: string[]) {
  return runCli(["why", ...args], env);
}

beforeAll(async () => {
  srv = await startTestServer();
  env = { ...srv.cliEnv(), PRIVLINK_URL: srv.url };
  secrets = await secretsDesign(srv);
  bare = await secretsDesign(srv, {
    account: "111122224444",
    cidr: "10.9.0.0/16",
    name: "lonely",
    endpoint: false,
  });
  await secrets.ec2.send(
    new ModifyVpcEndpointCommand({
      VpcEndpointId: secrets.endpointId!,
      PolicyDocument: JSON.stringify({
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: ROLE },
            Action: "secretsmanager:GetSecretValue",
            Resource: "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/*",
          },
        ],
      }),
    }),
  );
  echoServer = await listen(echo);
  provider = await makeProvider(srv, {
    accountId: "210000000001",
    targets: [{ host: "127.0.0.1", port: echoServer.port }],
    allow: ["210000000002", "210000000003", "210000000004"],
  });
  q = await makeConsumer(srv, "210000000002", provider.serviceName, "10.1.0.0/16");
  r = await makeConsumer(srv, "210000000003", provider.serviceName, "10.2.0.0/16");
  saas = await makeConsumer(srv, "210000000004", provider.serviceName, "10.3.0.0/16");
  for (const c of [q, r, saas]) await allowFromGroup(c, 7070);
  await accept(srv, provider, q.endpointId);
  await runAws(
    [
      "ec2",
      "reject-vpc-endpoint-connections",
      "--service-id",
      provider.serviceId,
      "--vpc-endpoint-ids",
      r.endpointId,
    ],
    { ...srv.cliEnv(provider.creds) },
  );
  // The endpoint goes available once the data plane serves it.
  for (let i = 0; i < 200 && srv.state.get("vpcEndpoint", q.endpointId)?.state !== "available"; i++)
    await new Promise((res) => setTimeout(res, 25));
}, 60_000);

afterAll(async () => {
  await srv?.stop();
  await echoServer?.close();
});

describe("seed design 1: a private app reads Secrets Manager", () => {
  it("reaches the endpoint by the service's public name, resolved in its VPC", async () => {
    const out = await why("app", "secretsmanager.us-east-1.amazonaws.com");
    expect(out.code).toBe(0);
    golden("secrets-allowed", out.stdout);
  });

  it("the endpoint policy allows prod/* and refuses dev/db with AWS's text", async () => {
    const base = ["app", "secretsmanager", "--principal", ROLE, "--action", "secretsmanager:GetSecretValue"];
    const prod = await why(
      ...base,
      "--resource",
      "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db",
    );
    expect(prod.code).toBe(0);
    const dev = await why(
      ...base,
      "--resource",
      "arn:aws:secretsmanager:us-east-1:111122223333:secret:dev/db",
    );
    expect(dev.code).toBe(1);
    expect(dev.stdout).toContain(
      "because no VPC endpoint policy allows the secretsmanager:GetSecretValue action",
    );
    golden("secrets-endpoint-policy", dev.stdout);
  });

  it("without an endpoint: no route, and the fix is an interface endpoint", async () => {
    const out = await why("lonely", "secretsmanager.us-east-1.amazonaws.com");
    expect(out.code).toBe(1);
    expect(out.stdout).toContain(
      "no route to secretsmanager.us-east-1.amazonaws.com: subnet has no internet or NAT route [NO_ROUTE_TO_DESTINATION]",
    );
    golden("secrets-no-endpoint", out.stdout);
    const fix = /^fix: aws (.*)$/m.exec(out.stdout)![1]!.split(" ");
    const ran = await runAws([...fix, "--endpoint-url", srv.url], srv.cliEnv(bare.creds));
    expect(ran.code).toBe(0);
    const ready = () =>
      [...srv.state.all("vpcEndpoint")].some((e) => e.vpcId === bare.vpcId && e.state === "available");
    for (let i = 0; i < 200 && !ready(); i++) await new Promise((res) => setTimeout(res, 25));
    expect((await why("lonely", "secretsmanager")).code).toBe(0);
  });

  it("a missing inbound rule: the fix the analyzer prints, run by the AWS CLI, lets the flow through", async () => {
    await secrets.ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: secrets.endpointSg,
        SecurityGroupRuleIds: [secrets.endpointRuleId],
      }),
    );
    const refused = await why("app", "secretsmanager:443");
    expect(refused.code).toBe(1);
    golden("secrets-sg-refused", refused.stdout);
    const fix = /^fix: aws (.*)$/m.exec(refused.stdout)![1]!.split(" ");
    const ran = await runAws([...fix, "--endpoint-url", srv.url], srv.cliEnv(secrets.creds));
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    expect((await why("app", "secretsmanager:443")).code).toBe(0);
  });
});

describe("network ACLs: a stateless boundary names the entry that lets it through", () => {
  it("each denied crossing's fix, run by the AWS CLI, opens it: the request's port, then the replies' range", async () => {
    const d = await secretsDesign(srv, { account: "111122227777", cidr: "10.6.0.0/16", name: "acl-app" });
    for (let i = 0; i < 200 && srv.state.get("vpcEndpoint", d.endpointId!)?.state !== "available"; i++)
      await new Promise((res) => setTimeout(res, 25));
    const ep = srv.state.get("vpcEndpoint", d.endpointId!)!;
    const far = ep.enis
      .map((e) => srv.state.get("eni", e.eniId)!)
      .find((e) => e.subnetId === d.subnetIds[1])!;
    const acl = (await d.ec2.send(new CreateNetworkAclCommand({ VpcId: d.vpcId }))).NetworkAcl!.NetworkAclId!;
    const current = await d.ec2.send(
      new DescribeNetworkAclsCommand({
        Filters: [{ Name: "association.subnet-id", Values: [d.subnetIds[1]!] }],
      }),
    );
    const assoc = current.NetworkAcls![0]!.Associations!.find((a) => a.SubnetId === d.subnetIds[1])!;
    await d.ec2.send(
      new ReplaceNetworkAclAssociationCommand({
        AssociationId: assoc.NetworkAclAssociationId,
        NetworkAclId: acl,
      }),
    );
    const appIp = srv.state.get("eni", srv.state.get("instance", d.instanceId)!.eniId)!.privateIp;
    // Network Insights reads the same decision: the ACL and the direction that refuse.
    const path = await d.ec2.send(
      new CreateNetworkInsightsPathCommand({
        Source: d.instanceId,
        Destination: far.id,
        Protocol: "tcp",
        DestinationPort: 443,
      }),
    );
    const started = await d.ec2.send(
      new StartNetworkInsightsAnalysisCommand({
        NetworkInsightsPathId: path.NetworkInsightsPath!.NetworkInsightsPathId!,
      }),
    );
    const id = started.NetworkInsightsAnalysis!.NetworkInsightsAnalysisId!;
    const analysis = await until(async () => {
      const out = await d.ec2.send(
        new DescribeNetworkInsightsAnalysesCommand({ NetworkInsightsAnalysisIds: [id] }),
      );
      const a = out.NetworkInsightsAnalyses![0]!;
      return a.Status === "succeeded" ? a : undefined;
    }, `analysis ${id}`);
    expect(analysis.NetworkPathFound).toBe(false);
    expect(analysis.Explanations![0]).toMatchObject({
      ExplanationCode: "SUBNET_ACL_RESTRICTION",
      Acl: { Id: acl, Arn: `arn:aws:ec2:us-east-1:111122227777:network-acl/${acl}` },
      Direction: "ingress",
    });
    const fixes: string[] = [];
    for (const boundary of ["--ingress", "--egress"]) {
      const refused = await why(d.instanceId, `${far.privateIp}:443`);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toMatch(/refused at network-acl: .* is denied/);
      expect(refused.stdout).toContain("[SUBNET_ACL_RESTRICTION]");
      const fix = /^fix: aws (.*)$/m.exec(refused.stdout)![1]!;
      expect(fix).toContain(`--network-acl-id ${acl} --rule-number 100`);
      expect(fix).toContain(`--cidr-block ${appIp}/32`);
      expect(fix.endsWith(boundary)).toBe(true);
      fixes.push(fix);
      const ran = await runAws([...fix.split(" "), "--endpoint-url", srv.url], srv.cliEnv(d.creds));
      expect(ran.stderr).toBe("");
      expect(ran.code).toBe(0);
    }
    expect(fixes[0]).toContain("--port-range From=443,To=443");
    expect(fixes[1]).toContain("--port-range From=32768,To=60999");
    expect((await why(d.instanceId, `${far.privateIp}:443`)).code).toBe(0);
  }, 120_000);
});

describe("seed design 5: own service to accepted and rejected consumers", () => {
  it("the accepted consumer reaches the provider's listener", async () => {
    const out = await why(q.instanceId, `${q.endpointId}:7070`);
    expect(out.code).toBe(0);
    golden("own-service-accepted", out.stdout);
  });

  it("the rejected consumer is refused at acceptance", async () => {
    const out = await why(r.instanceId, `${r.endpointId}:7070`);
    expect(out.code).toBe(1);
    golden("own-service-rejected", out.stdout);
  });

  it("a port the load balancer does not listen on is refused at the listener, with the listener to add", async () => {
    await allowFromGroup(q, 7071);
    const out = await why(q.instanceId, `${q.endpointId}:7071`);
    expect(out.code).toBe(1);
    golden("own-service-no-listener", out.stdout);
  });
});

describe("seed design 3: SaaS pending acceptance", () => {
  it("names the provider's accept call, which then lets the flow through", async () => {
    const out = await why(saas.instanceId, `${saas.endpointId}:7070`);
    expect(out.code).toBe(1);
    golden("saas-pending", out.stdout);
    const fix = /^fix: aws (.*)$/m.exec(out.stdout)![1]!.split(" ");
    const ran = await runAws([...fix, "--endpoint-url", srv.url], srv.cliEnv(provider.creds));
    expect(ran.code).toBe(0);
    for (let i = 0; i < 200 && srv.state.get("vpcEndpoint", saas.endpointId)?.state !== "available"; i++)
      await new Promise((res) => setTimeout(res, 25));
    expect((await why(saas.instanceId, `${saas.endpointId}:7070`)).code).toBe(0);
  });
});

describe("bad input: one line on stderr, exit 2", () => {
  it.each([
    [["nobody", "secretsmanager"], "nothing is named 'nobody'"],
    [["app", "secretsmanager:70000"], "port 70000 is out of range (1-65535)"],
    [["app", "db.internal.example:5432"], "db.internal.example does not resolve in"],
    [["site:onprem", "secretsmanager"], "site:onprem: no on-premises site is named 'onprem'"],
    [["10.0.1.99", "secretsmanager", "--vpc", "vpc-0123456789abcdef0"], "no VPC vpc-0123456789abcdef0"],
    [["app", "vpce-0123456789abcdef0"], "no VPC endpoint vpce-0123456789abcdef0"],
    [
      ["app", "secretsmanager", "--principal", "bob", "--action", "secretsmanager:GetSecretValue"],
      "--principal 'bob'",
    ],
  ])("why %j", async (args, message) => {
    const out = await why(...args);
    expect(out.code).toBe(2);
    expect(out.stdout).toBe("");
    expect(out.stderr.trim().split("\n")).toHaveLength(1);
    expect(out.stderr).toContain(message);
  });

  it("an ambiguous Name tag names the candidates", async () => {
    await secretsDesign(srv, { account: "111122225555", cidr: "10.8.0.0/16", name: "twin", endpoint: false });
    await secretsDesign(srv, { account: "111122226666", cidr: "10.7.0.0/16", name: "twin", endpoint: false });
    const out = await why("twin", "secretsmanager");
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(
      /2 instances are named 'twin' \(i-[0-9a-f]+, i-[0-9a-f]+\): give the instance ID/,
    );
  });
});
