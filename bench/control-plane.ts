/**
 * Issue 3's benchmark: CreateVpcEndpoint and DescribeVpcEndpoints (with filters) per second and
 * p99 through the real SDK, with 1, 1,000 and 10,000 endpoints in the store, and the server's RSS
 * at 10,000 endpoints.
 *
 * The store is built fast by calling cloud/ functions in transactions (50 interface endpoints
 * with an ENI each per VPC, the AWS quota). The HTTP edge runs in this process with the SQLite
 * store and the lifecycle steps (they run after every commit, as in `privlink up`) but without
 * the data plane, which would make every endpoint ENI a listening socket: this measures the
 * control plane only. The SDK client runs in a process of its own (bench/sdk-load.mjs).
 *
 * Baseline, in the same run: each case is also sent, by the same client, to a node:http server
 * that answers every request with the very body privlink answered (encoded once up front). That
 * is the most this client can get out of any server for this response, so `vsCeiling` is the
 * share of it privlink reaches and `clientCpu` near 1 says the client was the limit.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ec2Handlers } from "../src/api/ec2/index.js";
import { encodeQuery, findOperation } from "../src/api/protocols/index.js";
import { createApiServer } from "../src/api/server.js";
import { ensureDefaultAccount } from "../src/cloud/account.js";
import { awsServices } from "../src/cloud/catalog.js";
import type { Ctx } from "../src/cloud/context.js";
import { createVpcEndpoint } from "../src/cloud/endpoint.js";
import { endpointDnsNames } from "../src/cloud/endpoint-dns.js";
import { ALWAYS_READY, runLifecycle } from "../src/cloud/lifecycle.js";
import { systemRuntime } from "../src/cloud/runtime.js";
import { State } from "../src/cloud/state.js";
import { createSubnet } from "../src/cloud/subnet.js";
import { createVpc, ensureRegion } from "../src/cloud/vpc.js";
import { startResolvers } from "../src/dns/resolvers.js";
import { SqliteStore } from "../src/store/sqlite.js";
import { type LoadResult, type LoadSpec, percentile, SdkLoad } from "./measure.js";

export interface Row {
  case: string;
  /** Endpoints in the store when the case ran. */
  endpoints: number;
  /** Endpoints in each response. */
  returned?: number;
  count?: number;
  perSec?: number;
  p50?: number;
  p99?: number;
  /** The same client against a server answering privlink's response body, unprocessed. */
  ceilingPerSec?: number;
  /** perSec / ceilingPerSec. */
  vsCeiling?: number;
  /** CPU this (server) process spent per request, in µs: what the server costs, whoever is the limit. */
  serverUs?: number;
  /** The same for the fixed-response ceiling server: HTTP alone. */
  ceilingUs?: number;
  clientCpu?: number;
  errors?: number;
  rssMB?: number;
  heapMB?: number;
  note?: string;
}

export interface ControlPlaneBenchOptions {
  /** Seconds per measured run (capped at 10); each case runs twice (ceiling, privlink). */
  seconds?: number;
  concurrency?: number;
  /** Store sizes to measure at, ascending. */
  sizes?: number[];
  /** CreateVpcEndpoint calls per store size, at most 500 (rounded down to whole VPCs of 50). */
  creates?: number;
}

export const PER_VPC = 50;
const AZ = "us-east-1a";
const ACCOUNT = "000000000000";

/** Interface services with a private DNS name in the seeded subnets' zone: 50 distinct per VPC. */
export function seedServices(): string[] {
  const azId = "use1-az1";
  return awsServices("us-east-1")
    .filter(
      (s) =>
        s.type === "Interface" &&
        s.privateDnsNames.length > 0 &&
        s.azIds.includes(azId) &&
        !["s3", "dynamodb"].includes(s.shortName),
    )
    .map((s) => s.serviceName)
    .slice(0, PER_VPC);
}

/** A VPC with DNS hostnames on and one /24 in us-east-1a; returns the IDs. */
export function seedVpc(state: State, ctx: Ctx, n: number): { vpcId: string; subnetId: string } {
  return state.transact((tx) => {
    ensureRegion(tx, ctx);
    const vpc = createVpc(tx, ctx, { cidr: `10.${n % 256}.0.0/16` });
    tx.put("vpc", { ...vpc, dnsHostnames: true });
    const subnet = createSubnet(tx, ctx, { vpcId: vpc.id, cidr: `10.${n % 256}.1.0/24`, az: AZ });
    return { vpcId: vpc.id, subnetId: subnet.id };
  });
}

/** Adds endpoints until the store holds `target`, one transaction (one commit) per VPC. */
export function seed(
  state: State,
  ctx: Ctx,
  services: string[],
  from: number,
  target: number,
  vpcs: { n: number },
): void {
  let made = from;
  while (made < target) {
    const { vpcId, subnetId } = seedVpc(state, ctx, vpcs.n++);
    const batch = Math.min(PER_VPC, target - made);
    state.transact((tx) => {
      for (let i = 0; i < batch; i++)
        createVpcEndpoint(tx, ctx, {
          vpcId,
          type: "Interface",
          serviceName: services[i]!,
          subnetIds: [subnetId],
          tags: i % 10 === 0 ? { env: "prod" } : { env: "dev" },
        });
    });
    made += batch;
  }
}

/** A server that answers every request with one fixed EC2 response (the ceiling). */
export class Ceiling {
  body = "";
  private constructor(readonly server: Server) {}

  static async start(): Promise<Ceiling> {
    const c: Ceiling = new Ceiling(
      createServer({ keepAlive: true }, (req, res) => {
        req.resume();
        req.on("end", () =>
          res
            .writeHead(200, { "content-type": "text/xml;charset=UTF-8", "x-amzn-requestid": randomUUID() })
            .end(c.body),
        );
      }),
    );
    await new Promise<void>((resolve) => c.server.listen(0, "127.0.0.1", resolve));
    return c;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

interface Bench {
  state: State;
  ctx: Ctx;
  load: SdkLoad;
  url: string;
  ceiling: Ceiling;
  seconds: number;
  concurrency: number;
}

/** privlink's response to `input` right now, as the edge would encode it. */
function responseBody(b: Bench, action: string, input: Record<string, unknown>): string {
  const op = findOperation("ec2", action)!;
  // A dry run: a Create's writes are dropped, the Describe's read is what the edge would read.
  const output = b.state.transact((tx) => ec2Handlers[action]!({ tx, ctx: b.ctx, input }), { dryRun: true });
  return encodeQuery(op, output, "ec2", randomUUID());
}

/** A load run, with the CPU this process (the server under test) spent per request. */
interface Served extends LoadResult {
  serverUs: number;
}

async function served(b: Bench, spec: LoadSpec): Promise<Served> {
  if (spec.warmupSeconds) await b.load.run({ ...spec, seconds: spec.warmupSeconds, warmupSeconds: 0 });
  const cpu = process.cpuUsage();
  const m = await b.load.run({ ...spec, warmupSeconds: 0 });
  const used = process.cpuUsage(cpu);
  return { ...m, serverUs: (used.user + used.system) / Math.max(1, m.count + m.errors) };
}

function row(name: string, endpoints: number, m: Served, ceiling: Served, note?: string): Row {
  return {
    case: name,
    endpoints,
    count: m.count,
    perSec: m.perSec,
    p50: m.p50,
    p99: m.p99,
    ceilingPerSec: ceiling.perSec,
    vsCeiling: m.perSec / ceiling.perSec,
    serverUs: m.serverUs,
    ceilingUs: ceiling.serverUs,
    clientCpu: m.clientCpu,
    errors: m.errors || undefined,
    note: m.firstError ? `${note ? `${note}; ` : ""}first error: ${m.firstError}` : note,
  };
}

/** One Describe case against the ceiling, then against privlink. */
async function describeRow(
  b: Bench,
  name: string,
  input: Record<string, unknown>,
  note?: string,
): Promise<Row> {
  const endpoints = b.state.count("vpcEndpoint");
  b.ceiling.body = responseBody(b, "DescribeVpcEndpoints", input);
  const returned = (b.ceiling.body.match(/<vpcEndpointId>/g) ?? []).length;
  const run = (endpoint: string) =>
    served(b, {
      service: "ec2",
      endpoint,
      command: "DescribeVpcEndpoints",
      inputs: [input],
      seconds: b.seconds,
      concurrency: b.concurrency,
      warmupSeconds: 0.3,
    });
  const ceiling = await run(b.ceiling.url);
  const m = await run(b.url);
  return { ...row(name, endpoints, m, ceiling, note), returned };
}

/** Creates through the SDK into fresh VPCs (the 50-per-VPC quota), bounded by time and count. */
async function createRow(b: Bench, services: string[], vpcs: { n: number }, creates: number): Promise<Row> {
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
  b.ceiling.body = responseBody(b, "CreateVpcEndpoint", inputs[0]!);
  const run = (endpoint: string) =>
    served(b, {
      service: "ec2",
      endpoint,
      command: "CreateVpcEndpoint",
      inputs,
      seconds: b.seconds,
      concurrency: b.concurrency,
      maxOps: inputs.length,
    });
  const ceiling = await run(b.ceiling.url);
  const m = await run(b.url);
  return { ...row("CreateVpcEndpoint Interface, 1 subnet, private DNS", endpoints, m, ceiling), returned: 1 };
}

/**
 * What one CreateVpcEndpoint commit costs the event loop with the resolvers and the lifecycle
 * reacting as in `privlink up` (views rebuilt, pending → available and its own commit), in ms
 * (p50, p99), and the note says when the new name first resolved (the lazy path). Measured here
 * at 10,000 endpoints before the DNS views and lifecycle steps followed the change feed: about
 * 680 ms busy and 470 ms until the name resolved (each commit rebuilt every view and scanned
 * every endpoint).
 */
async function commitWorkRow(b: Bench, services: string[], vpcs: { n: number }): Promise<Row> {
  const endpoints = b.state.count("vpcEndpoint");
  const dns = await startResolvers({
    state: b.state,
    port: 0,
    publicAddress: "127.0.0.252",
    fullRebuildMs: 0,
  });
  try {
    const { vpcId, subnetId } = seedVpc(b.state, b.ctx, vpcs.n++);
    await new Promise((r) => setTimeout(r, 100));
    const busy: number[] = [];
    const visible: number[] = [];
    for (const serviceName of services.slice(0, 20)) {
      const elu = performance.eventLoopUtilization();
      const t = performance.now();
      const { endpoint } = b.state.transact((tx) =>
        createVpcEndpoint(tx, b.ctx, { vpcId, type: "Interface", serviceName, subnetIds: [subnetId] }),
      );
      await dns.resolve(undefined, endpointDnsNames(b.state, endpoint)[0]!.name, "A");
      visible.push(performance.now() - t);
      // Long enough for the lifecycle's run and commit and the resolvers' tick after it.
      await new Promise((r) => setTimeout(r, 50));
      busy.push(performance.eventLoopUtilization(elu).active);
    }
    busy.sort((x, y) => x - y);
    visible.sort((x, y) => x - y);
    return {
      case: "CreateVpcEndpoint commit + the DNS and lifecycle work it triggers (event-loop ms)",
      endpoints,
      count: busy.length,
      p50: percentile(busy, 50),
      p99: percentile(busy, 99),
      note: `new name resolvable after p50 ${percentile(visible, 50).toFixed(1)} ms`,
    };
  } finally {
    await dns.close();
  }
}

export async function benchControlPlane(opts: ControlPlaneBenchOptions = {}): Promise<Row[]> {
  const seconds = Math.min(opts.seconds ?? 3, 10);
  const concurrency = opts.concurrency ?? 8;
  const sizes = opts.sizes ?? [1, 1_000, 10_000];
  const creates = Math.min(Math.max(opts.creates ?? 500, PER_VPC), 500);
  const home = mkdtempSync(join(tmpdir(), "privlink-bench-cp-"));
  const rt = systemRuntime;
  const store = new SqliteStore(join(home, "state.db"));
  const state = new State(store);
  state.transact((tx) => ensureDefaultAccount(tx, rt));
  const host = { slots: { min: 1, max: 254 } };
  const ctx: Ctx = {
    accountId: ACCOUNT,
    region: "us-east-1",
    principalArn: `arn:aws:iam::${ACCOUNT}:root`,
    rt,
    host,
  };
  const stopLifecycle = lifecycle(state);
  const server = createApiServer({
    state,
    rt,
    host,
    auth: "verify",
    services: { ec2: ec2Handlers },
    admin: {},
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const load = SdkLoad.start();
  const ceiling = await Ceiling.start();
  const b: Bench = {
    state,
    ctx,
    load,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ceiling,
    seconds,
    concurrency,
  };
  const services = seedServices();
  const vpcs = { n: 0 };
  const rows: Row[] = [];
  try {
    let have = 0;
    for (const size of sizes) {
      const t = performance.now();
      seed(state, ctx, services, have, size, vpcs);
      const built = (performance.now() - t) / 1000;
      // The VPC of the last seeded endpoint: a full one (50 endpoints) from 1,000 on.
      const probe = [...state.all("vpcEndpoint")].at(-1)!;
      const byVpc = {
        Filters: [
          { Name: "vpc-id", Values: [probe.vpcId] },
          { Name: "vpc-endpoint-type", Values: ["Interface"] },
        ],
      };
      rows.push(
        await describeRow(
          b,
          "DescribeVpcEndpoints vpc-id + vpc-endpoint-type",
          byVpc,
          `store built in ${built.toFixed(1)} s`,
        ),
      );
      const byTag = {
        Filters: [
          { Name: "tag:env", Values: ["prod"] },
          // Every tenth endpoint is env=prod: services[0] and [10] in each full VPC.
          { Name: "service-name", Values: [`*.${services[0]!.split(".").at(-1)}`, services[10]!] },
        ],
        MaxResults: 100,
      };
      rows.push(await describeRow(b, "DescribeVpcEndpoints tag:env + service-name wildcards", byTag));
      rows.push(await createRow(b, services, vpcs, creates));
      have = state.count("vpcEndpoint");
    }
    rows.push(await commitWorkRow(b, services, vpcs));
    const mem = process.memoryUsage();
    rows.push({
      case: "RSS of the server process (state, SQLite, edge; the client runs apart)",
      endpoints: state.count("vpcEndpoint"),
      rssMB: mem.rss / 2 ** 20,
      heapMB: mem.heapUsed / 2 ** 20,
    });
    return rows;
  } finally {
    await load.close();
    await ceiling.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    stopLifecycle();
    store.close();
    rmSync(home, { recursive: true, force: true });
  }
}

/** The lifecycle steps after each commit (coalesced per tick), as the server runs them. */
export function lifecycle(state: State): () => void {
  let scheduled = false;
  let stopped = false;
  const run = () => {
    scheduled = false;
    if (!stopped) state.transact((tx) => runLifecycle(tx, systemRuntime, ALWAYS_READY));
  };
  const unsubscribe = state.onCommit(() => {
    if (scheduled || stopped) return;
    scheduled = true;
    setImmediate(run);
  });
  return () => {
    stopped = true;
    unsubscribe();
  };
}
