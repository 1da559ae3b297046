/**
 * Issue 15's API goals: the server's CPU per request (µs), read with process.cpuUsage around a
 * bounded SDK load, for the Describe calls users repeat (50 items per answer, 1,000 and 10,000
 * endpoints in the store), CreateVpcEndpoint at 10,000 endpoints with the DNS resolvers and the
 * lifecycle reacting to every commit, and SigV4 verification alone.
 *
 * The server (edge, SQLite store, lifecycle, resolvers) runs in this process, so `node
 * --cpu-prof dist/bench/api-cpu.js` profiles the server only; the SDK client runs in its own
 * process (bench/sdk-load.mjs). Baseline in the same run: the same client against a bare
 * node:http server answering privlink's own response body (`ceilingUs`: HTTP alone). Every row
 * says its goal and whether it was met.
 */
import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256, verifySigV4 } from "../src/api/sigv4.js";
import type { Ctx } from "../src/cloud/context.js";
import { createSecurityGroup } from "../src/cloud/security-group.js";
import type { State } from "../src/cloud/state.js";
import { createSubnet } from "../src/cloud/subnet.js";
import { createVpc, ensureRegion } from "../src/cloud/vpc.js";
import { startResolvers } from "../src/dns/resolvers.js";
import {
  type ApiFixture,
  answerOf,
  PER_VPC,
  seed,
  seedServices,
  seedVpc,
  served,
  startApiFixture,
} from "./api-fixture.js";
import { apiCpuGoals } from "./goals.js";
import type { LoadSpec } from "./measure.js";

export interface CpuRow {
  case: string;
  endpoints?: number;
  returned?: number;
  count?: number;
  /** Server CPU per request, µs. */
  serverUs: number;
  /** The bare node:http server's CPU per request for the same answer, µs. */
  ceilingUs?: number;
  /** serverUs / ceilingUs: privlink's cost in units of HTTP alone. */
  vsCeiling?: number;
  goalUs: number;
  met: boolean;
  errors?: number;
  note?: string;
}

export interface ApiCpuOptions {
  sizes?: number[];
  /** Requests per Describe case (per server). */
  requests?: number;
  /** CreateVpcEndpoint calls at the largest size (whole VPCs of 50). */
  creates?: number;
  concurrency?: number;
}

const WIDE = 50;

interface Bench extends ApiFixture {
  requests: number;
  concurrency: number;
}

/** Server CPU per request while `spec` runs (its warm-up run apart, not counted). */
async function cpuPer(b: Bench, spec: LoadSpec): Promise<{ us: number; count: number; errors: number }> {
  const m = await served(b.load, spec);
  if (m.firstError) console.error(`${spec.command}: ${m.firstError}`);
  return { us: m.serverUs, count: m.count, errors: m.errors };
}

async function describeRow(
  b: Bench,
  name: string,
  command: string,
  input: Record<string, unknown>,
  goalUs: number,
): Promise<CpuRow> {
  const { body, returned } = answerOf(b, command, input);
  b.ceiling.body = body;
  const spec = (endpoint: string): LoadSpec => ({
    service: "ec2",
    endpoint,
    command,
    inputs: [input],
    seconds: 30,
    maxOps: b.requests,
    concurrency: b.concurrency,
    warmupSeconds: 5,
    warmupOps: Math.ceil(b.requests / 10),
  });
  const ceiling = await cpuPer(b, spec(b.ceiling.url));
  const m = await cpuPer(b, spec(b.url));
  return {
    case: name,
    endpoints: b.state.count("vpcEndpoint"),
    returned,
    count: m.count,
    serverUs: m.us,
    ceilingUs: ceiling.us,
    vsCeiling: m.us / ceiling.us,
    goalUs,
    met: m.us <= goalUs && m.errors === 0,
    errors: m.errors || undefined,
  };
}

/** CreateVpcEndpoint into fresh VPCs with the resolvers and the lifecycle following each commit. */
async function createRow(
  b: Bench,
  services: string[],
  vpcs: { n: number },
  creates: number,
): Promise<CpuRow> {
  const endpoints = b.state.count("vpcEndpoint");
  const targets = Array.from({ length: Math.max(1, Math.floor(creates / PER_VPC)) }, () =>
    seedVpc(b.state, b.ctx, vpcs.n++),
  );
  const inputs = targets.flatMap(({ vpcId, subnetId }) =>
    services.map((ServiceName) => ({
      VpcId: vpcId,
      VpcEndpointType: "Interface",
      ServiceName,
      SubnetIds: [subnetId],
    })),
  );
  const dns = await startResolvers({
    state: b.state,
    port: 0,
    publicAddress: "127.0.0.252",
    fullRebuildMs: 0,
  });
  try {
    await new Promise((r) => setTimeout(r, 200));
    const m = await cpuPer(b, {
      service: "ec2",
      endpoint: b.url,
      command: "CreateVpcEndpoint",
      inputs,
      seconds: 30,
      maxOps: inputs.length,
      concurrency: b.concurrency,
    });
    // The lifecycle's commit (pending → available) and the resolvers' tick after the last call.
    const cpu = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 100));
    const tail = process.cpuUsage(cpu);
    const us = m.us + (tail.user + tail.system) / Math.max(1, m.count);
    return {
      case: "CreateVpcEndpoint (1 subnet, private DNS; DNS views + lifecycle included)",
      endpoints,
      returned: 1,
      count: m.count,
      serverUs: us,
      goalUs: 1000,
      met: us <= 1000 && m.errors === 0,
      errors: m.errors || undefined,
      note: "data plane listeners not included (20,000 sockets exceed this machine's fd limit)",
    };
  } finally {
    await dns.close();
  }
}

/** SigV4 verification alone, in this process: a DescribeVpcs request signed by the SDK's signer. */
async function sigv4Row(n = 20_000): Promise<CpuRow> {
  const now = new Date();
  const body = Buffer.from("Action=DescribeVpcs&Version=2016-11-15");
  const signer = new SignatureV4({
    service: "ec2",
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    sha256: Sha256,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: "POST",
      hostname: "127.0.0.1",
      port: 4599,
      path: "/",
      headers: {
        host: "127.0.0.1:4599",
        "content-type": "application/x-www-form-urlencoded; charset=utf-8",
        "content-length": String(body.length),
        "user-agent": "aws-sdk-js/3 bench",
        "amz-sdk-invocation-id": randomUUID(),
        "amz-sdk-request": "attempt=1; max=1",
      },
      body,
    }),
    { signingDate: now },
  );
  const headers: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = [v];
  const req = { method: "POST", url: "/", headers, body };
  const secretFor = () => "test";
  for (let i = 0; i < n / 10; i++) await verifySigV4(req, secretFor, now);
  const cpu = process.cpuUsage();
  for (let i = 0; i < n; i++) await verifySigV4(req, secretFor, now);
  const used = process.cpuUsage(cpu);
  const us = (used.user + used.system) / n;
  return {
    case: "SigV4 verification of one signed request",
    count: n,
    serverUs: us,
    goalUs: 20,
    met: us <= 20,
  };
}

/** One VPC with 50 subnets and 50 security groups, and 50 VPCs tagged bench=wide. */
function seedWide(state: State, ctx: Ctx): { vpcId: string } {
  return state.transact((tx) => {
    ensureRegion(tx, ctx);
    for (let i = 0; i < WIDE; i++) createVpc(tx, ctx, { cidr: `172.16.${i}.0/24`, tags: { bench: "wide" } });
    const vpc = createVpc(tx, ctx, { cidr: "192.168.0.0/16" });
    for (let i = 0; i < WIDE; i++) {
      createSubnet(tx, ctx, { vpcId: vpc.id, cidr: `192.168.${i}.0/24`, az: "us-east-1a" });
      createSecurityGroup(tx, ctx, { vpcId: vpc.id, name: `g${i}`, description: "bench" });
    }
    return { vpcId: vpc.id };
  });
}

export async function benchApiCpu(opts: ApiCpuOptions = {}): Promise<CpuRow[]> {
  const sizes = opts.sizes ?? [1_000, 10_000];
  const requests = opts.requests ?? 2_000;
  const concurrency = opts.concurrency ?? 4;
  const creates = opts.creates ?? 200;
  const b: Bench = { ...(await startApiFixture("cpu")), requests, concurrency };
  const { state, ctx } = b;
  const services = seedServices();
  const vpcs = { n: 0 };
  const rows: CpuRow[] = [await sigv4Row()];
  try {
    const wide = seedWide(state, ctx);
    let have = 0;
    for (const size of sizes) {
      seed(state, ctx, services, have, size, vpcs);
      have = state.count("vpcEndpoint");
      const probe = [...state.all("vpcEndpoint")].at(-1)!;
      rows.push(
        await describeRow(
          b,
          "DescribeVpcEndpoints vpc-id filter",
          "DescribeVpcEndpoints",
          { Filters: [{ Name: "vpc-id", Values: [probe.vpcId] }] },
          250,
        ),
      );
      if (size !== sizes.at(-1)) continue;
      const eniSubnet = probe.subnetIds[0]!;
      const cases: [string, string, Record<string, unknown>][] = [
        ["DescribeVpcs tag filter", "DescribeVpcs", { Filters: [{ Name: "tag:bench", Values: ["wide"] }] }],
        [
          "DescribeSubnets vpc-id filter",
          "DescribeSubnets",
          { Filters: [{ Name: "vpc-id", Values: [wide.vpcId] }] },
        ],
        [
          "DescribeSecurityGroups vpc-id filter",
          "DescribeSecurityGroups",
          {
            Filters: [
              { Name: "vpc-id", Values: [wide.vpcId] },
              { Name: "group-name", Values: ["g*"] },
            ],
          },
        ],
        [
          "DescribeNetworkInterfaces subnet-id filter",
          "DescribeNetworkInterfaces",
          { Filters: [{ Name: "subnet-id", Values: [eniSubnet] }] },
        ],
      ];
      for (const [name, command, input] of cases) rows.push(await describeRow(b, name, command, input, 150));
      rows.push(await createRow(b, services, vpcs, creates));
    }
    return rows;
  } finally {
    await b.close();
  }
}

// `node dist/bench/api-cpu.js [SIZE…]` (e.g. under --cpu-prof) runs it alone and prints the goals.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const sizes = process.argv.slice(2).map(Number).filter(Boolean);
  const rows = await benchApiCpu(sizes.length ? { sizes } : {});
  console.table(rows);
  for (const line of apiCpuGoals(rows as never)) console.log(line);
}
