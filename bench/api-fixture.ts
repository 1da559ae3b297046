/**
 * The world the API benchmarks share (bench/control-plane.ts, bench/api-cpu.ts): a SQLite store
 * filled fast through cloud/ functions (50 interface endpoints with an ENI each per VPC, the AWS
 * quota), the HTTP edge in this process with the lifecycle steps following every commit (as in
 * `privlink up`) but without the data plane, the SDK load generator in a process of its own
 * (bench/sdk-load.mjs), and the baseline: a bare node:http server answering privlink's own
 * response body.
 */

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ec2Handlers } from "../src/api/ec2/index.js";
import { encodeQuery, findOperation } from "../src/api/protocols/index.js";
import { createApiServer } from "../src/api/server.js";
import { ensureDefaultAccount } from "../src/cloud/account.js";
import { awsServices } from "../src/cloud/catalog.js";
import type { Ctx } from "../src/cloud/context.js";
import { createVpcEndpoint } from "../src/cloud/endpoint-create.js";

import { ALWAYS_READY, runLifecycle } from "../src/cloud/lifecycle.js";
import { systemRuntime } from "../src/cloud/runtime.js";
import { State } from "../src/cloud/state.js";
import { createSubnet } from "../src/cloud/subnet.js";
import { createVpc, ensureRegion } from "../src/cloud/vpc.js";
import { SqliteStore } from "../src/store/sqlite.js";
import { type LoadResult, type LoadSpec, SdkLoad } from "./measure.js";

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

/** The edge under test, its store and lifecycle, the load generator and the baseline server. */
export interface ApiFixture {
  state: State;
  ctx: Ctx;
  load: SdkLoad;
  /** privlink's edge. */
  url: string;
  ceiling: Ceiling;
  close(): Promise<void>;
}

export async function startApiFixture(name: string): Promise<ApiFixture> {
  const home = mkdtempSync(join(tmpdir(), `privlink-bench-${name}-`));
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
    // API_EDGE=0: every request through node:http, for an A/B of the edge in one build.
    edge: process.env.API_EDGE !== "0",
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const load = SdkLoad.start();
  const ceiling = await Ceiling.start();
  return {
    state,
    ctx,
    load,
    ceiling,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      await load.close();
      await ceiling.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      stopLifecycle();
      store.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/**
 * privlink's answer to `input` right now, as the edge encodes it, and how many items it lists.
 * A dry run: a Create's writes are dropped, a Describe reads what the edge would read.
 */
export function answerOf(
  f: Pick<ApiFixture, "state" | "ctx">,
  action: string,
  input: Record<string, unknown>,
): { body: string; returned: number } {
  const op = findOperation("ec2", action)!;
  const output = f.state.transact((tx) => ec2Handlers[action]!({ tx, ctx: f.ctx, input }), { dryRun: true });
  const list = Object.values(output as Record<string, unknown>).find(Array.isArray) as unknown[] | undefined;
  return { body: encodeQuery(op, output, "ec2", randomUUID()), returned: list?.length ?? 0 };
}

/** A load run, with the CPU this process (the server under test) spent per request, in µs. */
export interface Served extends LoadResult {
  serverUs: number;
}

/** Runs `spec` (after its warm-up) and reads this process's CPU around the measured part. */
export async function served(load: SdkLoad, spec: LoadSpec): Promise<Served> {
  if (spec.warmupSeconds || spec.warmupOps)
    await load.run({
      ...spec,
      seconds: spec.warmupSeconds ?? spec.seconds,
      maxOps: spec.warmupOps ?? spec.maxOps,
      warmupSeconds: 0,
      warmupOps: 0,
    });
  const cpu = process.cpuUsage();
  const m = await load.run({ ...spec, warmupSeconds: 0, warmupOps: 0 });
  const used = process.cpuUsage(cpu);
  return { ...m, serverUs: (used.user + used.system) / Math.max(1, m.count + m.errors) };
}
