import { Agent, createServer, type IncomingHttpHeaders, request, type Server } from "node:http";
import type { Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import {
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeNatGatewaysCommand,
  type EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateSecretCommand,
  PutResourcePolicyCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Sha256 } from "../../src/api/sigv4.js";
import { AWS_PUBLIC_ADDRESS, awsServiceAnswer } from "../../src/dns/records.js";
import { Meter, type Stats } from "../../src/net/meter.js";
import { adminFetch } from "../helpers/admin.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runCli } from "../helpers/spawn.js";
import { type Creds, clients, newAccount, until } from "./world.js";

/**
 * AWS's public endpoint over an internet or NAT path: a workload whose VPC has no endpoint for a
 * service still reaches it by its public name when its subnet routes to the internet, as on AWS
 * (the NAT-gateway alternative to endpoints). The workload proxy terminates TLS for the name and
 * the service front serves the requests with no endpoint context.
 */
const ACCOUNT = "444455556666";
const SM_HOST = "secretsmanager.us-east-1.amazonaws.com";
const SECRET = '{"password":"over-the-internet"}';
const noRoute = (name: string) => `no route to ${name}: subnet has no internet or NAT route`;

let srv: TestServer;
let creds: Creds;
let ec2: EC2Client;
let shell: NodeJS.ProcessEnv;
/** One instance per kind of subnet, and the ENI each workload's flows are metered on. */
let inst: { igw: string; nat: string; none: string };
let eniOf: Record<string, string>;
let natId: string;
let guardedArn: string;

type Run = { code: number | null; stdout: string; stderr: string };

function asWorkload(from: string, args: string[], extra: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runCli(["exec", "--from", from, "--", ...args], { ...shell, ...extra });
}

function cliError(code: string, op: string, message: string): string {
  return `An error occurred (${code}) when calling the ${op} operation: ${message}`;
}

async function stats(): Promise<Stats> {
  return (await (await adminFetch(srv, `/_privlink/stats`)).json()) as Stats;
}

function eniRow(s: Stats, eniId: string) {
  return s.enis.find((r) => r.networkInterfaceId === eniId) ?? { bytesIn: 0, bytesOut: 0, newConnections: 0 };
}

function natRow(s: Stats) {
  return (
    s.natGateways.find((r) => r.natGatewayId === natId) ?? { bytesIn: 0, bytesOut: 0, newConnections: 0 }
  );
}

async function subnetWithTable(
  vpcId: string,
  cidr: string,
  az: string,
): Promise<{ subnet: string; table: string }> {
  const subnet = (
    await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: az }))
  ).Subnet!.SubnetId!;
  const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
  await ec2.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: subnet }));
  return { subnet, table };
}

async function runInstance(subnetId: string): Promise<{ id: string; eni: string }> {
  const i = (
    await ec2.send(
      new RunInstancesCommand({ ImageId: "ami-12345678", MinCount: 1, MaxCount: 1, SubnetId: subnetId }),
    )
  ).Instances![0]!;
  return { id: i.InstanceId!, eni: i.NetworkInterfaces![0]!.NetworkInterfaceId! };
}

beforeAll(async () => {
  srv = await startTestServer();
  // The composition root hands the service front to the workload proxies; this is the same call.
  srv.dataplane.proxies.usePublicFront(srv.front);
  creds = await newAccount(srv, ACCOUNT);
  ec2 = clients(srv, creds).ec2;
  shell = { ...srv.cliEnv(creds), PRIVLINK_URL: srv.url };
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.7.0.0/16" }))).Vpc!.VpcId!;
  const igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
  await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
  const pub = await subnetWithTable(vpcId, "10.7.1.0/24", "us-east-1a");
  const priv = await subnetWithTable(vpcId, "10.7.2.0/24", "us-east-1a");
  const isolated = await subnetWithTable(vpcId, "10.7.3.0/24", "us-east-1b");
  await ec2.send(
    new CreateRouteCommand({ RouteTableId: pub.table, DestinationCidrBlock: "0.0.0.0/0", GatewayId: igw }),
  );
  natId = (await ec2.send(new CreateNatGatewayCommand({ SubnetId: pub.subnet }))).NatGateway!.NatGatewayId!;
  await until(async () => {
    const n = await ec2.send(new DescribeNatGatewaysCommand({ NatGatewayIds: [natId] }));
    return n.NatGateways?.[0]?.State === "available" ? true : undefined;
  }, "NAT gateway available");
  await ec2.send(
    new CreateRouteCommand({
      RouteTableId: priv.table,
      DestinationCidrBlock: "0.0.0.0/0",
      NatGatewayId: natId,
    }),
  );
  const [a, b, c] = await Promise.all([
    runInstance(pub.subnet),
    runInstance(priv.subnet),
    runInstance(isolated.subnet),
  ]);
  inst = { igw: a.id, nat: b.id, none: c.id };
  eniOf = { [a.id]: a.eni, [b.id]: b.eni, [c.id]: c.eni };
  // The secrets are made through the edge, in the workloads' own account.
  const sm = new SecretsManagerClient({
    endpoint: srv.url,
    region: "us-east-1",
    credentials: creds,
    maxAttempts: 1,
  });
  await sm.send(new CreateSecretCommand({ Name: "app/db", SecretString: SECRET }));
  guardedArn = (await sm.send(new CreateSecretCommand({ Name: "app/guarded", SecretString: SECRET }))).ARN!;
  await sm.send(
    new PutResourcePolicyCommand({
      SecretId: "app/guarded",
      ResourcePolicy: JSON.stringify({
        Statement: [
          {
            Effect: "Deny",
            Principal: "*",
            Action: "secretsmanager:GetSecretValue",
            Resource: "*",
            Condition: { StringNotEquals: { "aws:SourceVpce": "vpce-0123456789abcdef0" } },
          },
        ],
      }),
    }),
  );
  sm.destroy();
}, 60_000);

afterAll(() => srv?.stop());

describe("NAT gateway counters", () => {
  it("count a connection on its ENI and NAT gateway, and survive a restart", () => {
    let saved: string | undefined;
    const store = { load: () => saved, save: (json: string) => (saved = json) };
    const meter = new Meter(store);
    const conn = meter.open("eni-1", undefined, "nat-1");
    conn.bytesIn(100);
    conn.bytesOut(2000);
    conn.closed("fin");
    meter.open("eni-2", undefined).closed("reset");
    meter.flush();
    const expected = [{ natGatewayId: "nat-1", bytesIn: 100, bytesOut: 2000, newConnections: 1 }];
    expect(meter.snapshot().natGateways).toEqual(expected);
    expect(meter.snapshot().enis.find((e) => e.networkInterfaceId === "eni-1")).toMatchObject({
      bytesIn: 100,
      bytesOut: 2000,
      newConnections: 1,
    });
    expect(new Meter(store).snapshot().natGateways).toEqual(expected);
  });
});

describe("the public AWS endpoint over an internet or NAT path", () => {
  it("the public resolver answers the global STS name like the regional ones", () => {
    for (const name of ["sts.amazonaws.com", "STS.amazonaws.com.", "sts.us-east-1.amazonaws.com", SM_HOST])
      expect(
        awsServiceAnswer(name, "A")?.answers.map((a) => a.data),
        name,
      ).toEqual([AWS_PUBLIC_ADDRESS]);
    expect(awsServiceAnswer("nosuchservice.amazonaws.com", "A")).toBeUndefined();
  });

  it("serves get-secret-value through the internet gateway and the NAT gateway; refuses a subnet with neither", async () => {
    const cases = [
      { from: "public subnet (internet gateway route)", id: inst.igw, ok: true },
      { from: "private subnet (NAT gateway route)", id: inst.nat, ok: true },
      {
        from: "isolated subnet (local route only)",
        id: inst.none,
        error: cliError("PrivlinkNoRoute", "GetSecretValue", noRoute(SM_HOST)),
      },
    ];
    const runs = await Promise.all(
      cases.map((c) =>
        asWorkload(c.id, ["aws", "secretsmanager", "get-secret-value", "--secret-id", "app/db"]),
      ),
    );
    cases.forEach((c, i) => {
      const r = runs[i]!;
      if (c.ok) {
        expect(r.stderr, c.from).toBe("");
        expect(JSON.parse(r.stdout), c.from).toMatchObject({ Name: "app/db", SecretString: SECRET });
      } else {
        expect(r.code, c.from).not.toBe(0);
        expect(r.stderr.trim(), c.from).toBe(c.error);
      }
    });
  });

  it("has no endpoint context: a secret that demands aws:SourceVpce is denied", async () => {
    const denial = `User: arn:aws:iam::${ACCOUNT}:root is not authorized to perform: secretsmanager:GetSecretValue on resource: ${guardedArn} with an explicit deny in a resource-based policy`;
    const runs = await Promise.all(
      [inst.igw, inst.nat].map((id) =>
        asWorkload(id, ["aws", "secretsmanager", "get-secret-value", "--secret-id", "app/guarded"]),
      ),
    );
    for (const r of runs) {
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim()).toBe(cliError("AccessDeniedException", "GetSecretValue", denial));
    }
  });

  it("answers STS to the CLI (regional and global names) and to curl: signed, unsigned, scoped to another service", async () => {
    const query = "?Action=GetCallerIdentity&Version=2011-06-15";
    const sigv4 = [
      "--aws-sigv4",
      "aws:amz:us-east-1:sts",
      "--user",
      `${creds.accessKeyId}:${creds.secretAccessKey}`,
    ];
    const cases: { what: string; args: string[]; env?: NodeJS.ProcessEnv; out: RegExp }[] = [
      {
        what: "aws sts (regional name)",
        args: ["aws", "sts", "get-caller-identity"],
        out: new RegExp(`"Account": "${ACCOUNT}"`),
      },
      {
        what: "aws sts (legacy global name)",
        args: ["aws", "sts", "get-caller-identity"],
        env: { AWS_STS_REGIONAL_ENDPOINTS: "legacy" },
        out: new RegExp(`"Account": "${ACCOUNT}"`),
      },
      {
        what: "aws sts --endpoint-url https://127.0.0.1 (the public address itself)",
        args: ["aws", "sts", "get-caller-identity", "--endpoint-url", `https://${AWS_PUBLIC_ADDRESS}`],
        out: new RegExp(`"Account": "${ACCOUNT}"`),
      },
      {
        what: "curl, unsigned",
        args: [
          "curl",
          "-sS",
          "-i",
          "--suppress-connect-headers",
          `https://sts.us-east-1.amazonaws.com/${query}`,
        ],
        out: /^HTTP\/1\.1 403 [\s\S]*<Code>MissingAuthenticationToken<\/Code><Message>Request is missing Authentication Token<\/Message>/,
      },
      {
        what: "curl, signed (regional)",
        args: [
          "curl",
          "-sS",
          "-i",
          "--suppress-connect-headers",
          ...sigv4,
          `https://sts.us-east-1.amazonaws.com/${query}`,
        ],
        out: new RegExp(`^HTTP/1\\.1 200 [\\s\\S]*<Account>${ACCOUNT}</Account>`),
      },
      {
        what: "curl, signed for another service than the name's",
        args: [
          "curl",
          "-sS",
          "-i",
          "--suppress-connect-headers",
          "--aws-sigv4",
          "aws:amz:us-east-1:secretsmanager",
          "--user",
          `${creds.accessKeyId}:${creds.secretAccessKey}`,
          `https://sts.us-east-1.amazonaws.com/${query}`,
        ],
        out: /^HTTP\/1\.1 403 [\s\S]*<Code>SignatureDoesNotMatch<\/Code><Message>Credential should be scoped to correct service: &apos;sts&apos;\. <\/Message>/,
      },
      {
        what: "curl, signed (global)",
        args: [
          "curl",
          "-sS",
          "-i",
          "--suppress-connect-headers",
          ...sigv4,
          `https://sts.amazonaws.com/${query}`,
        ],
        out: new RegExp(`^HTTP/1\\.1 200 [\\s\\S]*<Account>${ACCOUNT}</Account>`),
      },
    ];
    const runs = await Promise.all(cases.map((c) => asWorkload(inst.nat, c.args, c.env)));
    cases.forEach((c, i) => {
      expect(runs[i]!.stderr, c.what).toBe("");
      expect(runs[i]!.stdout, c.what).toMatch(c.out);
    });
  });

  it("a service privlink does not build in answers NotImplemented, then goes to its upstream", async () => {
    const listKeys = ["aws", "kms", "list-keys"];
    const before = await asWorkload(inst.igw, listKeys);
    expect(before.stderr.trim()).toBe(
      cliError(
        "NotImplemented",
        "ListKeys",
        "privlink does not implement the AWS service 'kms' (com.amazonaws.us-east-1.kms) and no upstream is configured for it. Forward it to another implementation with: privlink upstream set kms <URL> (for example http://127.0.0.1:4566)",
      ),
    );
    const seen: { target?: string; auth?: string }[] = [];
    const fake: Server = createServer((req, res) => {
      seen.push({ target: String(req.headers["x-amz-target"]), auth: String(req.headers.authorization) });
      res.setHeader("content-type", "application/x-amz-json-1.1");
      res.end(
        JSON.stringify({ Keys: [{ KeyId: "k-1", KeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/k-1` }] }),
      );
    });
    await new Promise<void>((r) => fake.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(fake.address() as { port: number }).port}`;
      const set = await adminFetch(srv, `/_privlink/upstreams`, {
        method: "POST",
        body: JSON.stringify({ service: "kms", url }),
      });
      expect(set.status).toBe(200);
      const after = await asWorkload(inst.igw, listKeys);
      expect(after.stderr).toBe("");
      expect(JSON.parse(after.stdout).Keys).toEqual([
        { KeyId: "k-1", KeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/k-1` },
      ]);
      expect(seen).toEqual([
        {
          target: "TrentService.ListKeys",
          auth: expect.stringContaining(`Credential=${creds.accessKeyId}/`),
        },
      ]);
    } finally {
      await adminFetch(srv, `/_privlink/upstreams?service=kms`, { method: "DELETE" });
      await new Promise((r) => fake.close(r));
    }
  });

  it("meters the flow on the workload's ENI, and on the NAT gateway only when it goes through one", async () => {
    for (const c of [
      { id: inst.igw, throughNat: false },
      { id: inst.nat, throughNat: true },
    ]) {
      const before = await stats();
      const r = await asWorkload(c.id, [
        "aws",
        "secretsmanager",
        "get-secret-value",
        "--secret-id",
        "app/db",
      ]);
      expect(r.stderr).toBe("");
      // The CLI has exited: its connection is closed and fully counted.
      const after = await until(async () => {
        const s = await stats();
        return s.enis.find((e) => e.networkInterfaceId === eniOf[c.id])?.activeConnections === 0
          ? s
          : undefined;
      }, "the workload's connections closed");
      const eni = {
        new: eniRow(after, eniOf[c.id]!).newConnections - eniRow(before, eniOf[c.id]!).newConnections,
      };
      const bytes = eniRow(after, eniOf[c.id]!).bytesIn - eniRow(before, eniOf[c.id]!).bytesIn;
      expect(eni.new, c.id).toBeGreaterThanOrEqual(1);
      expect(bytes, c.id).toBeGreaterThan(0);
      const nat = {
        newConnections: natRow(after).newConnections - natRow(before).newConnections,
        bytesIn: natRow(after).bytesIn - natRow(before).bytesIn,
        bytesOut: natRow(after).bytesOut - natRow(before).bytesOut,
      };
      if (c.throughNat)
        expect(nat).toEqual({
          newConnections: eni.new,
          bytesIn: bytes,
          bytesOut: eniRow(after, eniOf[c.id]!).bytesOut - eniRow(before, eniOf[c.id]!).bytesOut,
        });
      else expect(nat).toEqual({ newConnections: 0, bytesIn: 0, bytesOut: 0 });
    }
  });

  it("keeps one TLS connection alive across requests (one new connection, two answers)", async () => {
    const before = await stats();
    const proxy = await workloadProxy(inst.nat);
    const tunnel = await connectThrough(proxy, `${SM_HOST}:443`);
    const tls = tlsConnect({
      socket: tunnel,
      servername: SM_HOST,
      ca: srv.ca.certPem,
      ALPNProtocols: ["http/1.1"],
    });
    let dialled = 0;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agent.createConnection = () => {
      dialled++;
      return tls;
    };
    try {
      const answers = [];
      for (const id of ["app/db", "app/db"]) answers.push(await getSecretValue(agent, id));
      expect(answers.map((a) => [a.status, a.headers.connection, JSON.parse(a.body).SecretString])).toEqual([
        [200, "keep-alive", SECRET],
        [200, "keep-alive", SECRET],
      ]);
      expect(dialled).toBe(1);
    } finally {
      agent.destroy();
      tls.destroy();
    }
    const after = await until(async () => {
      const s = await stats();
      return natRow(s).bytesIn > natRow(before).bytesIn ? s : undefined;
    }, "the tunnel counted");
    expect(natRow(after).newConnections - natRow(before).newConnections).toBe(1);
    expect(
      eniRow(after, eniOf[inst.nat]!).newConnections - eniRow(before, eniOf[inst.nat]!).newConnections,
    ).toBe(1);
  });
});

async function workloadProxy(workload: string): Promise<URL> {
  const res = await adminFetch(srv, `/_privlink/workloads/proxy`, {
    method: "POST",
    body: JSON.stringify({ workload }),
  });
  return new URL(((await res.json()) as { url: string }).url);
}

function connectThrough(proxy: URL, authority: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: proxy.hostname,
      port: proxy.port,
      method: "CONNECT",
      path: authority,
      agent: false,
    });
    req.once("connect", (res, socket) =>
      res.statusCode === 200 ? resolve(socket) : reject(new Error(`CONNECT answered ${res.statusCode}`)),
    );
    req.once("error", reject);
    req.end();
  });
}

/** A GetSecretValue signed with the account's keys, sent over `agent`'s one connection. */
async function getSecretValue(
  agent: Agent,
  secretId: string,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const body = JSON.stringify({ SecretId: secretId });
  const signer = new SignatureV4({
    service: "secretsmanager",
    region: "us-east-1",
    credentials: creds,
    sha256: Sha256,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: "POST",
      protocol: "https:",
      hostname: SM_HOST,
      path: "/",
      headers: {
        host: SM_HOST,
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "secretsmanager.GetSecretValue",
      },
      body,
    }),
  );
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: SM_HOST, method: "POST", path: "/", headers: signed.headers as Record<string, string> },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.once("error", reject);
    req.end(body);
  });
}
