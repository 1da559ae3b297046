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

import { performance } from "node:perf_hooks";
import { createVpcEndpoint } from "../src/cloud/endpoint-create.js";

import { endpointDnsNames } from "../src/cloud/endpoint-dns.js";
import { startResolvers } from "../src/dns/resolvers.js";
import {
  type ApiFixture,
  answerOf,
  PER_VPC,
  type Served,
  seed,
  seedServices,
  seedVpc,
  served,
  startApiFixture,
} from "./api-fixture.js";
import { percentile } from "./measure.js";

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

interface Bench extends ApiFixture {
  seconds: number;
  concurrency: number;
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
  b.ceiling.body = answerOf(b, "DescribeVpcEndpoints", input).body;
  const returned = (b.ceiling.body.match(/<vpcEndpointId>/g) ?? []).length;
  const run = (endpoint: string) =>
    served(b.load, {
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
  b.ceiling.body = answerOf(b, "CreateVpcEndpoint", inputs[0]!).body;
  const run = (endpoint: string) =>
    served(b.load, {
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
  const b: Bench = { ...(await startApiFixture("cp")), seconds, concurrency };
  const { state, ctx } = b;
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
    await b.close();
  }
}
