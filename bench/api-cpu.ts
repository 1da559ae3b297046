/**
 * Issue 15's API goals: the server's CPU per request (µs) for the Describe calls users repeat
 * (50 items per answer, 1,000 and 10,000 endpoints in the store), CreateVpcEndpoint at 10,000
 * endpoints with the DNS resolvers and the lifecycle reacting to every commit, and SigV4
 * verification alone.
 *
 * The Describes are measured as the issue measured them (bench/replay.ts): the server under test
 * (edge, SQLite store, lifecycle: this process) pinned to one core, SDK-signed requests replayed
 * raw over keep-alive connections by a client process pinned to the other core, the server's CPU
 * read to the microsecond around a counted number of requests, and, in paired rounds in the same
 * run, a bare node:http server replaying privlink's very answer on the same core (HTTP alone).
 * Each case is measured twice: the same request repeated (answered from the prepared bytes after
 * the first) and every request a new read (each asks a different MaxResults, so every answer is
 * decoded, filtered, shaped and encoded afresh). `node --cpu-prof dist/bench/api-cpu.js`
 * profiles the server only. CreateVpcEndpoint is driven by the SDK (bench/sdk-load.mjs) and read
 * with process.cpuUsage. Every row says its goal and whether it was met.
 *
 * A Describe's figure is the median of its rounds' µs per request, with that median's 95 %
 * interval (serverLow–serverHigh), and "met" reads the median against the goal: one run's total
 * moved ±20 % from run to run (the bare replay alone 53–193 µs, 7 Dec), as load from elsewhere
 * and the host's clock drift over the seconds of a case, and a round that caught a major
 * collection or a neighbour's burst weighs as one round of many. The pooled figure (all rounds'
 * CPU over all their requests, pooledUs) is in the row beside it, rare costs included.
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
import { type LoadSpec, spreadOf } from "./measure.js";
import { BareReplay, compare, cores, pin, RawReplay } from "./replay.js";

export interface CpuRow {
  case: string;
  endpoints?: number;
  returned?: number;
  count?: number;
  /** Server CPU per request, µs: for a Describe, the median of its rounds. */
  serverUs: number;
  /** The 95 % interval of that median. */
  serverLow?: number;
  serverHigh?: number;
  /** All rounds' CPU over all their requests, µs. */
  pooledUs?: number;
  /** Paired rounds the Describe's figures are the medians of. */
  rounds?: number;
  /** The bare node:http server's CPU per request for the same answer, µs: the median of the same rounds. */
  ceilingUs?: number;
  ceilingLow?: number;
  ceilingHigh?: number;
  /** Requests per second privlink answered on its one core. */
  perSec?: number;
  /** privlink's µs over the bare server's, the median of the rounds' ratios: its cost in units of HTTP alone. */
  vsCeiling?: number;
  vsCeilingLow?: number;
  vsCeilingHigh?: number;
  goalUs: number;
  met: boolean;
  errors?: number;
  note?: string;
}

export interface ApiCpuOptions {
  sizes?: number[];
  /** Paired rounds per Describe case (after a warm-up of each server). */
  rounds?: number;
  /** Requests per server in each round. */
  perRound?: number;
  /** Keep-alive connections of the replay client. */
  connections?: number;
  /** CreateVpcEndpoint calls at the largest size (whole VPCs of 50). */
  creates?: number;
  /** CreateVpcEndpoint calls before those, not counted (whole VPCs of 50). */
  warmupCreates?: number;
  concurrency?: number;
  /** Only the rows whose case name matches (e.g. to profile one case alone). */
  only?: RegExp;
}

const WIDE = 50;

interface Bench extends ApiFixture {
  rounds: number;
  perRound: number;
  concurrency: number;
  connections: number;
  client: RawReplay;
  bare: BareReplay;
}

/** Server CPU per request while `spec` runs (its warm-up run apart, not counted). */
async function cpuPer(b: Bench, spec: LoadSpec): Promise<{ us: number; count: number; errors: number }> {
  const m = await served(b.load, spec);
  if (m.firstError) console.error(`${spec.command}: ${m.firstError}`);
  return { us: m.serverUs, count: m.count, errors: m.errors };
}

/** Distinct MaxResults values above 50 (a 50-item answer either way): more than prepared.ts keeps. */
const FRESH_VARIANTS = 900;

async function describeRow(
  b: Bench,
  name: string,
  command: string,
  input: Record<string, unknown>,
  goalUs: number,
  fresh: boolean,
): Promise<CpuRow> {
  const { body, returned } = answerOf(b, command, input);
  await b.bare.answer(body);
  // Each request a different MaxResults (51…950, all above the 50 items): each is a key of its
  // own, and the cycle is longer than the prepared answers a state version keeps, so none repeats.
  const inputs = fresh
    ? Array.from({ length: FRESH_VARIANTS }, (_, i) => ({ ...input, MaxResults: 51 + i }))
    : [input];
  const m = await compare(
    b.client,
    { pid: process.pid, port: Number(new URL(b.url).port) },
    { pid: b.bare.pid, port: b.bare.port },
    { host: "127.0.0.1", command, inputs, seconds: 30, connections: b.connections },
    { perRound: b.perRound, rounds: b.rounds, warmup: b.perRound },
  );
  if (m.firstError) console.error(`${command}: ${m.firstError}`);
  const [mine, bare] = [spreadOf(m.us), spreadOf(m.baseUs)];
  const ratio = spreadOf(m.us.map((us, i) => us / m.baseUs[i]!));
  return {
    case: `${name}${fresh ? " (each request a new read)" : ""}`,
    endpoints: b.state.count("vpcEndpoint"),
    returned,
    count: m.count,
    serverUs: mine.median,
    serverLow: mine.low,
    serverHigh: mine.high,
    pooledUs: m.pooledUs,
    rounds: mine.n,
    ceilingUs: bare.median,
    ceilingLow: bare.low,
    ceilingHigh: bare.high,
    vsCeiling: ratio.median,
    vsCeilingLow: ratio.low,
    vsCeilingHigh: ratio.high,
    perSec: m.perSec,
    goalUs,
    met: mine.median <= goalUs && m.errors === 0,
    errors: m.errors || undefined,
  };
}

/** CreateVpcEndpoint into fresh VPCs with the resolvers and the lifecycle following each commit. */
async function createRow(
  b: Bench,
  services: string[],
  vpcs: { n: number },
  creates: number,
  warmupCreates: number,
): Promise<CpuRow> {
  const createsIn = (n: number) =>
    Array.from({ length: n }, () => seedVpc(b.state, b.ctx, vpcs.n++)).flatMap(({ vpcId, subnetId }) =>
      services.map((ServiceName) => ({
        VpcId: vpcId,
        VpcEndpointType: "Interface",
        ServiceName,
        SubnetIds: [subnetId],
      })),
    );
  // Creates first, not counted (as the Describes' warm-up): the first ones load the EC2 model and
  // make the lifecycle's first scans, and for the first ~2,000 V8 keeps optimizing the create
  // path (functions called once per create get hot slowly; TurboFan compiled originZones for
  // ~200 ms after 1,000 creates), which read as 1.5-4 ms of CPU per create.
  const warmup = createsIn(Math.max(1, Math.ceil(warmupCreates / PER_VPC)));
  const inputs = createsIn(Math.max(1, Math.floor(creates / PER_VPC)));
  const dns = await startResolvers({
    state: b.state,
    port: 0,
    publicAddress: "127.0.0.252",
    fullRebuildMs: 0,
  });
  try {
    await new Promise((r) => setTimeout(r, 200));
    const spec = { service: "ec2", endpoint: b.url, command: "CreateVpcEndpoint", seconds: 30 };
    await b.load.run({ ...spec, inputs: warmup, maxOps: warmup.length, concurrency: b.concurrency });
    await new Promise((r) => setTimeout(r, 100));
    const endpoints = b.state.count("vpcEndpoint");
    const m = await cpuPer(b, { ...spec, inputs, maxOps: inputs.length, concurrency: b.concurrency });
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
      note: `after ${warmup.length} creates not counted (JIT warm-up); data plane listeners not included (20,000 sockets exceed this machine's fd limit)`,
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
  const rounds = opts.rounds ?? 30;
  const perRound = opts.perRound ?? 400;
  const concurrency = opts.concurrency ?? 4;
  const connections = opts.connections ?? 4;
  const creates = opts.creates ?? 200;
  const warmupCreates = opts.warmupCreates ?? 2_000;
  // This process is the server under test: its core is the one the baseline is pinned to too.
  const pinned = cores();
  if (pinned) pin(process.pid, pinned.server);
  const fixture = await startApiFixture("cpu");
  if (pinned && fixture.load.pid) pin(fixture.load.pid, pinned.client);
  const b: Bench = {
    ...fixture,
    rounds,
    perRound,
    concurrency,
    connections,
    client: RawReplay.start(pinned?.client),
    bare: await BareReplay.start(pinned?.server),
  };
  const { state, ctx } = b;
  const services = seedServices();
  const vpcs = { n: 0 };
  const wanted = (name: string) => opts.only === undefined || opts.only.test(name);
  const rows: CpuRow[] = wanted("SigV4") ? [await sigv4Row()] : [];
  const describe = async (name: string, command: string, input: Record<string, unknown>, goalUs: number) => {
    for (const fresh of [false, true])
      if (wanted(`${name}${fresh ? " (each request a new read)" : ""}`))
        rows.push(await describeRow(b, name, command, input, goalUs, fresh));
  };
  try {
    const wide = seedWide(state, ctx);
    let have = 0;
    for (const size of sizes) {
      seed(state, ctx, services, have, size, vpcs);
      have = state.count("vpcEndpoint");
      const probe = [...state.all("vpcEndpoint")].at(-1)!;
      await describe(
        "DescribeVpcEndpoints vpc-id filter",
        "DescribeVpcEndpoints",
        { Filters: [{ Name: "vpc-id", Values: [probe.vpcId] }] },
        250,
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
      for (const [name, command, input] of cases) await describe(name, command, input, 150);
      if (wanted("CreateVpcEndpoint")) rows.push(await createRow(b, services, vpcs, creates, warmupCreates));
    }
    return rows;
  } finally {
    await Promise.all([b.client.close(), b.bare.close()]);
    await b.close();
  }
}

// `node dist/bench/api-cpu.js [SIZE…]` (e.g. under --cpu-prof) runs it alone and prints the goals;
// API_CPU_ONLY=<regular expression> keeps the cases whose name matches, API_CPU_ROUNDS and
// API_CPU_PER_ROUND set the paired rounds per Describe case and the requests per round.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const sizes = process.argv.slice(2).map(Number).filter(Boolean);
  const only = process.env.API_CPU_ONLY ? new RegExp(process.env.API_CPU_ONLY) : undefined;
  const rounds = Number(process.env.API_CPU_ROUNDS) || undefined;
  const perRound = Number(process.env.API_CPU_PER_ROUND) || undefined;
  const rows = await benchApiCpu({ ...(sizes.length ? { sizes } : {}), only, rounds, perRound });
  console.table(rows);
  for (const line of apiCpuGoals(rows as never)) console.log(line);
}
