/**
 * Issue 3's benchmark: CreateVpcEndpoint and DescribeVpcEndpoints (with filters) per second and
 * p99 through the real SDK, with 1, 1,000 and 10,000 endpoints in the store, and the RSS at
 * 10,000 endpoints.
 *
 * The store is built fast by calling cloud/ functions in transactions (50 interface endpoints
 * with an ENI each per VPC, the AWS quota), then each case runs through the SDK against the HTTP
 * edge for a bounded time. The edge runs in this process with the SQLite store and the lifecycle
 * steps (they run after every commit, as in `privlink up`) but without the data plane, which
 * would make every endpoint ENI a listening socket: this measures the control plane only.
 * RSS is this whole process (server, state and the SDK client).
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateVpcEndpointCommand, DescribeVpcEndpointsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { ec2Handlers } from "../src/api/ec2/index.js";
import { createApiServer } from "../src/api/server.js";
import { ensureDefaultAccount } from "../src/cloud/account.js";
import { awsServices } from "../src/cloud/catalog.js";
import type { Ctx } from "../src/cloud/context.js";
import { createVpcEndpoint } from "../src/cloud/endpoint.js";
import { ALWAYS_READY, runLifecycle } from "../src/cloud/lifecycle.js";
import { systemRuntime } from "../src/cloud/runtime.js";
import { State } from "../src/cloud/state.js";
import { createSubnet } from "../src/cloud/subnet.js";
import { createVpc, ensureRegion } from "../src/cloud/vpc.js";
import { SqliteStore } from "../src/store/sqlite.js";
import { type Measured, runFor } from "./measure.js";

export interface Row {
  case: string;
  /** Endpoints in the store when the case ran. */
  endpoints: number;
  count?: number;
  perSec?: number;
  p50?: number;
  p99?: number;
  rssMB?: number;
  heapMB?: number;
  note?: string;
}

export interface ControlPlaneBenchOptions {
  /** Seconds per measured case (capped at 10). */
  seconds?: number;
  concurrency?: number;
  /** Store sizes to measure at, ascending. */
  sizes?: number[];
}

const PER_VPC = 50;
const AZ = "us-east-1a";

/** Interface services with a private DNS name in the seeded subnets' zone: 50 distinct per VPC. */
function seedServices(): string[] {
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
function seedVpc(state: State, ctx: Ctx, n: number): { vpcId: string; subnetId: string } {
  return state.transact((tx) => {
    ensureRegion(tx, ctx);
    const vpc = createVpc(tx, ctx, { cidr: `10.${n % 256}.0.0/16` });
    tx.put("vpc", { ...vpc, dnsHostnames: true });
    const subnet = createSubnet(tx, ctx, { vpcId: vpc.id, cidr: `10.${n % 256}.1.0/24`, az: AZ });
    return { vpcId: vpc.id, subnetId: subnet.id };
  });
}

/** Adds endpoints until the store holds `target`, one transaction (one commit) per VPC. */
function seed(
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

function row(name: string, endpoints: number, m: Measured, note?: string): Row {
  return { case: name, endpoints, count: m.count, perSec: m.perSec, p50: m.p50, p99: m.p99, note };
}

/** One Describe case: how many endpoints it returns, then its rate and latency. */
async function describeRow(
  name: string,
  state: State,
  send: () => Promise<{ VpcEndpoints?: unknown[] }>,
  seconds: number,
  concurrency: number,
  note?: string,
): Promise<Row> {
  const returned = (await send()).VpcEndpoints?.length ?? 0;
  await runFor(send, { seconds: 0.3, concurrency }); // warm-up
  const m = await runFor(send, { seconds, concurrency });
  return row(`${name} → ${returned} returned`, state.count("vpcEndpoint"), m, note);
}

export async function benchControlPlane(opts: ControlPlaneBenchOptions = {}): Promise<Row[]> {
  const seconds = Math.min(opts.seconds ?? 3, 10);
  const concurrency = opts.concurrency ?? 8;
  const sizes = opts.sizes ?? [1, 1_000, 10_000];
  const home = mkdtempSync(join(tmpdir(), "privlink-bench-cp-"));
  const rt = systemRuntime;
  const store = new SqliteStore(join(home, "state.db"));
  const state = new State(store);
  state.transact((tx) => ensureDefaultAccount(tx, rt));
  const host = { slots: { min: 1, max: 254 } };
  const ctx: Ctx = {
    accountId: "000000000000",
    region: "us-east-1",
    principalArn: "arn:aws:iam::000000000000:root",
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
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ec2 = new EC2Client({
    endpoint: url,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });
  const services = seedServices();
  const vpcs = { n: 0 };
  const rows: Row[] = [];
  try {
    let have = 0;
    for (const size of sizes) {
      const t = performance.now();
      seed(state, ctx, services, have, size, vpcs);
      have = size;
      const built = (performance.now() - t) / 1000;
      // The VPC of the last seeded endpoint: a full one (50 endpoints) from 1,000 on.
      const probe = [...state.all("vpcEndpoint")].at(-1)!;
      const byVpc = () =>
        ec2.send(
          new DescribeVpcEndpointsCommand({
            Filters: [
              { Name: "vpc-id", Values: [probe.vpcId] },
              { Name: "vpc-endpoint-type", Values: ["Interface"] },
            ],
          }),
        );
      const note = `store built in ${built.toFixed(1)} s`;
      rows.push(
        await describeRow(
          "DescribeVpcEndpoints vpc-id + vpc-endpoint-type",
          state,
          byVpc,
          seconds,
          concurrency,
          note,
        ),
      );
      const byTag = () =>
        ec2.send(
          new DescribeVpcEndpointsCommand({
            Filters: [
              { Name: "tag:env", Values: ["prod"] },
              // Every tenth endpoint is env=prod: services[0] and [10] in each full VPC.
              { Name: "service-name", Values: [`*.${services[0]!.split(".").at(-1)}`, services[10]!] },
            ],
            MaxResults: 100,
          }),
        );
      rows.push(
        await describeRow(
          "DescribeVpcEndpoints tag:env + service-name wildcards",
          state,
          byTag,
          seconds,
          concurrency,
        ),
      );
      const before = state.count("vpcEndpoint");
      const created = await measureCreate(state, ctx, ec2, services, vpcs, seconds, concurrency);
      rows.push(
        row("CreateVpcEndpoint Interface, 1 subnet, private DNS", before, created, "at most 500 per case"),
      );
      if (size === sizes.at(-1)) {
        const mem = process.memoryUsage();
        rows.push({
          case: "RSS of this process (server + state + SDK client)",
          endpoints: state.count("vpcEndpoint"),
          rssMB: mem.rss / 2 ** 20,
          heapMB: mem.heapUsed / 2 ** 20,
        });
      }
    }
    return rows;
  } finally {
    ec2.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    stopLifecycle();
    store.close();
    rmSync(home, { recursive: true, force: true });
  }
}

/** Creates through the SDK into fresh VPCs (the 50-per-VPC quota), bounded by time and count. */
async function measureCreate(
  state: State,
  ctx: Ctx,
  ec2: EC2Client,
  services: string[],
  vpcs: { n: number },
  seconds: number,
  concurrency: number,
): Promise<Measured> {
  const maxOps = 500;
  const targets = Array.from({ length: maxOps / PER_VPC }, () => seedVpc(state, ctx, vpcs.n++));
  let next = 0;
  return runFor(
    () => {
      const i = next++;
      const { vpcId, subnetId } = targets[Math.floor(i / PER_VPC)]!;
      return ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: vpcId,
          VpcEndpointType: "Interface",
          ServiceName: services[i % PER_VPC]!,
          SubnetIds: [subnetId],
        }),
      );
    },
    { seconds, concurrency, maxOps },
  );
}

/** The lifecycle steps after each commit (coalesced per tick), as the server runs them. */
function lifecycle(state: State): () => void {
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
