import { execFile } from "node:child_process";
import { type IncomingHttpHeaders, request } from "node:http";
import type { Socket } from "node:net";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminFetch } from "../helpers/admin.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runAws, runCli } from "../helpers/spawn.js";

/**
 * The seed's first scenario (SCENARIOS.md §1), exactly as written: an application in a private
 * subnet reads its database credentials through a Secrets Manager interface endpoint. The set-up
 * is `aws ec2 …` against privlink's edge; the application is the unmodified AWS CLI (and an SDK
 * v3 program) run by the real `privlink exec --from app`, from a shell that `privlink env` set up
 * for the edge (AWS_ENDPOINT_URL…), which exec must not pass on.
 */
const ACCOUNT = "111122223333";
const HOST = "secretsmanager.us-east-1.amazonaws.com";
const noRoute = (name: string) => `no route to ${name}: subnet has no internet or NAT route`;
const APP_SCRIPT = join(import.meta.dirname, "secrets-app.mjs");
const SECRET = '{"password":"hunter2"}';

let srv: TestServer;
/** The caller's shell: account A's keys, and the edge as every AWS endpoint. */
let shell: NodeJS.ProcessEnv;
let net: { vpcId: string; subnetIds: string[]; groupId: string };
let endpointId: string;
let secretArns: { prod: string; dev: string };

type Run = { code: number | null; stdout: string; stderr: string };

/**
 * An administrator's `aws … --endpoint-url <edge>` call, written as a command line: the literal
 * text splits on spaces, each ${value} stays one argument (an array, several). Fails on error.
 */
async function aws(text: TemplateStringsArray, ...values: unknown[]): Promise<Record<string, any>> {
  const args: string[] = [];
  text.forEach((part, i) => {
    args.push(...part.split(/\s+/).filter(Boolean));
    if (i < values.length) args.push(...[values[i]].flat().map(String));
  });
  const r = await runAws([...args, "--endpoint-url", srv.url, "--output", "json"], shell);
  if (r.code !== 0) throw new Error(`aws ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : {};
}

/** The scenario's command, word for word, as the workload `app`. */
function cliAsApp(secretId: string): Promise<Run> {
  return runCli(
    ["exec", "--from", "app", "--", "aws", "secretsmanager", "get-secret-value", "--secret-id", secretId],
    shell,
  );
}

/** The same call from the SDK v3 program, as the workload `app`. */
async function sdkAsApp(secretId: string): Promise<Record<string, unknown>> {
  return parseApp(
    await runCli(["exec", "--from", "app", "--", process.execPath, APP_SCRIPT, secretId], shell),
  );
}

/** The SDK v3 program run from the caller's shell: its default endpoint is AWS_ENDPOINT_URL, the edge. */
function sdkFromShell(secretId: string): Promise<Record<string, unknown>> {
  // The SDK v3 reads only AWS_REGION; `privlink exec` sets it for workloads from AWS_DEFAULT_REGION.
  const env = { ...shell, AWS_REGION: shell.AWS_DEFAULT_REGION };
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [APP_SCRIPT, secretId], { env }, (err, stdout, stderr) => {
      try {
        resolve(parseApp({ code: err ? 1 : 0, stdout, stderr }));
      } catch (e) {
        reject(e);
      }
    }),
  );
}

function parseApp(r: Run): Record<string, unknown> {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`the SDK program printed no result (exit ${r.code}): ${r.stdout}${r.stderr}`);
  }
}

/** What the CLI prints for an AWS error. */
function cliError(code: string, message: string): string {
  return `An error occurred (${code}) when calling the GetSecretValue operation: ${message}`;
}

async function refusalsTo(name: string): Promise<{ port: number; reason: string; at: string }[]> {
  const res = await adminFetch(srv, `/_privlink/flows`);
  const { flows } = (await res.json()) as {
    flows: { name?: string; port: number; reason: string; at: string }[];
  };
  return flows.filter((f) => f.name === name);
}

/** The address of app's workload proxy (what `privlink exec --from app` puts in HTTPS_PROXY). */
async function appProxy(): Promise<string> {
  const res = await adminFetch(srv, `/_privlink/workloads/proxy`, {
    method: "POST",
    body: JSON.stringify({ workload: "app" }),
  });
  return ((await res.json()) as { url: string }).url;
}

/** A CONNECT to the workload proxy: its status line, and the tunnel when it opened one. */
function connectThrough(
  proxyUrl: string,
  authority: string,
): Promise<{ status: number; message: string; socket: Socket }> {
  const proxy = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const req = request({
      host: proxy.hostname,
      port: proxy.port,
      method: "CONNECT",
      path: authority,
      agent: false,
    });
    req.once("connect", (res, socket) =>
      resolve({ status: res.statusCode ?? 0, message: res.statusMessage ?? "", socket }),
    );
    req.once("error", reject);
    req.end();
  });
}

/** One HTTPS request to `name` through a tunnel of app's proxy, trusting privlink's CA alone. */
async function httpsThroughProxy(
  name: string,
  call: { method: string; path: string; headers: Record<string, string>; body?: string },
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const { status, socket } = await connectThrough(await appProxy(), `${name}:443`);
  if (status !== 200) throw new Error(`CONNECT ${name}:443 answered ${status}`);
  return new Promise((resolve, reject) => {
    // HTTP over the TLS socket made here: without an agent, node:http uses createConnection.
    const req = request(
      {
        host: name,
        method: call.method,
        path: call.path,
        headers: call.headers,
        createConnection: () => tlsConnect({ socket, servername: name, ca: srv.ca.certPem }),
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.once("error", reject);
    req.end(call.body);
  });
}

/** An Authorization header with a well-formed scope: the proxy reads the service from it. */
function signedFor(service: string): Record<string, string> {
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=${"0".repeat(64)}`,
    "x-amz-date": "20250101T000000Z",
  };
}

beforeAll(async () => {
  srv = await startTestServer();
  const res = await adminFetch(srv, `/_privlink/accounts`, {
    method: "POST",
    body: JSON.stringify({ id: ACCOUNT }),
  });
  const keys = (await res.json()) as { accessKeyId: string; secretAccessKey: string };
  shell = { ...srv.cliEnv(keys), PRIVLINK_URL: srv.url, AWS_ENDPOINT_URL_SECRETS_MANAGER: srv.url };
  const vpc = (await aws`ec2 create-vpc --cidr-block 10.0.0.0/16`).Vpc.VpcId;
  const [, , a, b, sg] = await Promise.all([
    aws`ec2 modify-vpc-attribute --vpc-id ${vpc} --enable-dns-support ${'{"Value":true}'}`,
    aws`ec2 modify-vpc-attribute --vpc-id ${vpc} --enable-dns-hostnames ${'{"Value":true}'}`,
    aws`ec2 create-subnet --vpc-id ${vpc} --cidr-block 10.0.1.0/24 --availability-zone us-east-1a`,
    aws`ec2 create-subnet --vpc-id ${vpc} --cidr-block 10.0.2.0/24 --availability-zone us-east-1b`,
    aws`ec2 create-security-group --vpc-id ${vpc} --group-name endpoints --description ${"HTTPS from the VPC"}`,
  ]);
  net = { vpcId: vpc, subnetIds: [a.Subnet.SubnetId, b.Subnet.SubnetId], groupId: sg.GroupId };
  // The security group admits 443 only later: first the endpoint shows what a missing rule does.
  const [, prod, dev] = await Promise.all([
    aws`ec2 run-instances --image-id ami-12345678 --count 1 --subnet-id ${net.subnetIds[0]}
        --tag-specifications ResourceType=instance,Tags=[{Key=Name,Value=app}]`,
    aws`secretsmanager create-secret --name prod/db --secret-string ${SECRET}`,
    aws`secretsmanager create-secret --name dev/db --secret-string ${'{"password":"dev"}'}`,
  ]);
  secretArns = { prod: prod.ARN, dev: dev.ARN };
  // No endpoint yet: the first tests see private subnets with no way to the service at all.
}, 60_000);

afterAll(() => srv?.stop());

describe("scenario 1: an application in a private subnet reads its secrets", () => {
  it("without an endpoint, the CLI and the SDK are told there is no route (once, no retries)", async () => {
    const before = (await refusalsTo(HOST)).length;
    const [cli, sdk] = await Promise.all([cliAsApp("prod/db"), sdkAsApp("prod/db")]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr.trim()).toBe(cliError("PrivlinkNoRoute", noRoute(HOST)));
    expect(sdk).toEqual({ ok: false, error: "PrivlinkNoRoute", message: noRoute(HOST), status: 403 });
    // One refusal each: neither botocore nor the SDK retried the 403.
    const refusal = expect.objectContaining({ at: "workload-proxy", port: 443, reason: noRoute(HOST) });
    expect((await refusalsTo(HOST)).slice(before)).toEqual([refusal, refusal]);
  });

  it("keeps the plain 403 for other ports and non-AWS names, and tunnels AWS names on 443", async () => {
    const proxy = await appProxy();
    const cases = [
      { authority: `${HOST}:443`, status: 200, message: "Connection Established" },
      { authority: `${HOST}:80`, status: 403, message: noRoute(HOST) },
      { authority: "example.org:443", status: 403, message: noRoute("example.org") },
    ];
    for (const c of cases) {
      const { status, message, socket } = await connectThrough(proxy, c.authority);
      socket.destroy();
      expect({ status, message }, c.authority).toEqual({ status: c.status, message: c.message });
    }
  });

  it("answers refused AWS calls in each service's own protocol, with a certificate for the name", async () => {
    const cases = [
      {
        name: "sts.us-east-1.amazonaws.com",
        call: { method: "POST", path: "/", headers: signedFor("sts"), body: "Action=GetCallerIdentity" },
        contentType: "text/xml",
        body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>PrivlinkNoRoute</Code><Message>${noRoute("sts.us-east-1.amazonaws.com")}</Message></Error>`,
      },
      {
        name: "ec2.us-east-1.amazonaws.com",
        call: { method: "POST", path: "/", headers: signedFor("ec2"), body: "Action=DescribeVpcs" },
        contentType: "text/xml;charset=UTF-8",
        body: `<Response><Errors><Error><Code>PrivlinkNoRoute</Code><Message>${noRoute("ec2.us-east-1.amazonaws.com")}</Message></Error></Errors>`,
      },
      {
        name: "my-bucket.s3.us-east-1.amazonaws.com",
        call: { method: "GET", path: "/key.txt", headers: signedFor("s3") },
        contentType: "application/xml",
        body: `<Error><Code>PrivlinkNoRoute</Code><Message>${noRoute("my-bucket.s3.us-east-1.amazonaws.com")}</Message>`,
      },
      {
        // Unsigned: the catalog names the service behind the host name.
        name: "logs.us-east-1.amazonaws.com",
        call: {
          method: "POST",
          path: "/",
          headers: { "x-amz-target": "Logs_20140328.PutLogEvents" },
          body: "{}",
        },
        contentType: "application/x-amz-json-1.1",
        body: JSON.stringify({ __type: "PrivlinkNoRoute", message: noRoute("logs.us-east-1.amazonaws.com") }),
      },
    ];
    for (const c of cases) {
      const r = await httpsThroughProxy(c.name, c.call);
      expect(
        { status: r.status, type: r.headers["content-type"], connection: r.headers.connection },
        c.name,
      ).toEqual({ status: 403, type: c.contentType, connection: "close" });
      expect(r.body, c.name).toContain(c.body);
    }
  });

  it("an endpoint whose security group does not admit 443 refuses by name (PrivlinkConnectionRefused)", async () => {
    const created = await aws`ec2 create-vpc-endpoint --vpc-id ${net.vpcId} --vpc-endpoint-type Interface
      --service-name com.amazonaws.us-east-1.secretsmanager --subnet-ids ${net.subnetIds}
      --security-group-ids ${net.groupId} --private-dns-enabled`;
    endpointId = created.VpcEndpoint.VpcEndpointId;
    let state = created.VpcEndpoint.State;
    for (let i = 0; i < 20 && state !== "available"; i++)
      state = (await aws`ec2 describe-vpc-endpoints --vpc-endpoint-ids ${endpointId}`).VpcEndpoints[0].State;
    expect(state).toBe("available");
    const r = await httpsThroughProxy(HOST, {
      method: "POST",
      path: "/",
      headers: { ...signedFor("secretsmanager"), "x-amz-target": "secretsmanager.GetSecretValue" },
      body: '{"SecretId":"prod/db"}',
    });
    expect(r.status).toBe(403);
    const body = JSON.parse(r.body) as { __type: string; message: string };
    expect(body.__type).toBe("PrivlinkConnectionRefused");
    expect(body.message).toMatch(
      new RegExp(`^security group ${net.groupId} of eni-\\w+ has no inbound rule allowing tcp/443`),
    );
  });

  it("with 443 allowed from the VPC, `aws secretsmanager get-secret-value --secret-id prod/db` works as written", async () => {
    await aws`ec2 authorize-security-group-ingress --group-id ${net.groupId} --protocol tcp --port 443 --cidr 10.0.0.0/16`;
    const [cli, sdk, env] = await Promise.all([
      cliAsApp("prod/db"),
      sdkAsApp("prod/db"),
      runCli(["exec", "--from", "app", "--", "sh", "-c", "env | grep ^AWS_ENDPOINT_URL || true"], shell),
    ]);
    // The shell had AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_SECRETS_MANAGER at the edge: exec drops both.
    expect(env.stdout).toBe("");
    expect(cli.stderr).toBe("");
    expect(JSON.parse(cli.stdout)).toMatchObject({ Name: "prod/db", SecretString: SECRET });
    expect(sdk).toEqual({ ok: true, name: "prod/db", secretString: SECRET });
  });

  it("an endpoint policy allowing only prod/* lets prod/db through and denies dev/db with AWS's text", async () => {
    const policy = {
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: "secretsmanager:GetSecretValue",
          Resource: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/*`,
        },
      ],
    };
    await aws`ec2 modify-vpc-endpoint --vpc-endpoint-id ${endpointId} --policy-document ${JSON.stringify(policy)}`;
    const [prodCli, devCli, prodSdk, devSdk] = await Promise.all([
      cliAsApp("prod/db"),
      cliAsApp("dev/db"),
      sdkAsApp("prod/db"),
      sdkAsApp("dev/db"),
    ]);
    const denial = `User: arn:aws:iam::${ACCOUNT}:root is not authorized to perform: secretsmanager:GetSecretValue on resource: ${secretArns.dev} because no VPC endpoint policy allows the secretsmanager:GetSecretValue action`;
    expect(prodCli.code).toBe(0);
    expect(JSON.parse(prodCli.stdout).Name).toBe("prod/db");
    expect(devCli.code).not.toBe(0);
    expect(devCli.stderr.trim()).toBe(cliError("AccessDeniedException", denial));
    expect(prodSdk).toMatchObject({ ok: true, name: "prod/db" });
    expect(devSdk).toEqual({ ok: false, error: "AccessDeniedException", message: denial, status: 400 });
    await aws`ec2 modify-vpc-endpoint --vpc-endpoint-id ${endpointId} --reset-policy`;
  });

  it("a secret demanding aws:SourceVpce is denied through the public edge and allowed through the endpoint", async () => {
    const policy = {
      Statement: [
        {
          Effect: "Deny",
          Principal: "*",
          Action: "secretsmanager:GetSecretValue",
          Resource: "*",
          Condition: { StringNotEquals: { "aws:SourceVpce": endpointId } },
        },
      ],
    };
    await aws`secretsmanager put-resource-policy --secret-id prod/db --resource-policy ${JSON.stringify(policy)}`;
    const edge = ["--endpoint-url", srv.url, "secretsmanager", "get-secret-value", "--secret-id", "prod/db"];
    const [edgeCli, edgeSdk, cli, sdk] = await Promise.all([
      runAws(edge, shell),
      sdkFromShell("prod/db"),
      cliAsApp("prod/db"),
      sdkAsApp("prod/db"),
    ]);
    const denial = `User: arn:aws:iam::${ACCOUNT}:root is not authorized to perform: secretsmanager:GetSecretValue on resource: ${secretArns.prod} with an explicit deny in a resource-based policy`;
    expect(edgeCli.code).not.toBe(0);
    expect(edgeCli.stderr.trim()).toBe(cliError("AccessDeniedException", denial));
    expect(edgeSdk).toEqual({ ok: false, error: "AccessDeniedException", message: denial, status: 400 });
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ Name: "prod/db", SecretString: SECRET });
    expect(sdk).toEqual({ ok: true, name: "prod/db", secretString: SECRET });
  });
});
