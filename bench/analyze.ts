/**
 * Issue 13's benchmark: `access` over 100 VPCs × 1,000 endpoints (goal: under 2 s), and one
 * `why` end to end (goal: under 50 ms).
 *
 * access: an in-memory state built with cloud/ functions — 100 VPCs, each with a workload and 10
 * interface endpoints to AWS services (1,000 endpoints, 100,000 workload × endpoint questions).
 * Baseline in the same run: the same questions as bare flow/ decide() calls, so `vsDecide` is
 * what the report adds to the decisions it cannot avoid.
 *
 * why: a running privlink (HTTP edge, DNS, data plane) with the seed's Secrets Manager design;
 * `why app secretsmanager.us-east-1.amazonaws.com` as the admin request the CLI sends (name
 * resolved by the VPC's DNS), and as the whole `privlink why` process. Baseline: the admin
 * health request over the same connection, and `node -e 0` for the process start-up.
 */

import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { accessReport, decideCase, flowCases } from "../src/analyze/access.js";
import { ensureDefaultAccount } from "../src/cloud/account.js";
import { awsServices } from "../src/cloud/catalog.js";
import type { Ctx } from "../src/cloud/context.js";
import { createVpcEndpoint } from "../src/cloud/endpoint-create.js";

import { runInstances } from "../src/cloud/instance.js";
import { ALWAYS_READY, runLifecycle } from "../src/cloud/lifecycle.js";
import { systemRuntime } from "../src/cloud/runtime.js";
import { defaultGroupOf } from "../src/cloud/security-group.js";
import { State } from "../src/cloud/state.js";
import { createSubnet } from "../src/cloud/subnet.js";
import { createVpc, ensureRegion } from "../src/cloud/vpc.js";
import { PACKAGE_ROOT, startPrivlink } from "../src/privlink.js";
import type { Row } from "./goals.js";
import { percentile } from "./measure.js";

const ACCOUNT = "000000000000";
const run = promisify(execFile);

function ctxOf(): Ctx {
  const rt = systemRuntime;
  return {
    accountId: ACCOUNT,
    region: "us-east-1",
    principalArn: `arn:aws:iam::${ACCOUNT}:root`,
    rt,
    host: { slots: { min: 1, max: 254 } },
  };
}

/** 100 VPCs, each with one running workload and `perVpc` interface endpoints in its subnet. */
export function buildWorld(vpcs: number, perVpc: number): State {
  const state = new State();
  const ctx = ctxOf();
  state.transact((tx) => ensureDefaultAccount(tx, ctx.rt));
  const services = awsServices("us-east-1")
    .filter(
      (s) =>
        s.type === "Interface" && s.azIds.includes("use1-az1") && !["s3", "dynamodb"].includes(s.shortName),
    )
    .map((s) => s.serviceName)
    .slice(0, perVpc);
  for (let n = 0; n < vpcs; n++)
    state.transact((tx) => {
      ensureRegion(tx, ctx);
      const vpc = createVpc(tx, ctx, { cidr: `10.${n}.0.0/16` });
      const subnet = createSubnet(tx, ctx, { vpcId: vpc.id, cidr: `10.${n}.1.0/24`, az: "us-east-1a" });
      const sg = defaultGroupOf(tx, vpc.id).id;
      runInstances(tx, ctx, {
        imageId: "ami-12345678",
        subnetId: subnet.id,
        securityGroupIds: [sg],
        minCount: 1,
        maxCount: 1,
      });
      for (const serviceName of services)
        createVpcEndpoint(tx, ctx, {
          vpcId: vpc.id,
          type: "Interface",
          serviceName,
          subnetIds: [subnet.id],
          privateDnsEnabled: false,
        });
    });
  // Endpoints become available, instances running: the lifecycle steps, as the server runs them.
  for (let i = 0; i < 3; i++) state.transact((tx) => runLifecycle(tx, systemRuntime, ALWAYS_READY));
  return state;
}

function timed<T>(fn: () => T): { ms: number; value: T } {
  const t = performance.now();
  const value = fn();
  return { ms: performance.now() - t, value };
}

export function benchAccess(opts: { vpcs?: number; perVpc?: number; runs?: number } = {}): Row[] {
  const vpcs = opts.vpcs ?? 100;
  const perVpc = opts.perVpc ?? 10;
  const built = timed(() => buildWorld(vpcs, perVpc));
  const state = built.value;
  const endpoints = state.count("vpcEndpoint");
  const rows: Row[] = [];
  for (let run = 0; run < (opts.runs ?? 3); run++) {
    const bare = timed(() => {
      let allowed = 0;
      for (const c of flowCases(state)) if (decideCase(state, c).allowed) allowed++;
      return allowed;
    });
    const report = timed(() => accessReport(state));
    rows.push({
      case: "access",
      run: run + 1,
      vpcs,
      endpoints,
      questions: report.value.checked,
      allowed: report.value.rows.length,
      ms: report.ms,
      decideOnlyMs: bare.ms,
      vsDecide: report.ms / bare.ms,
      buildMs: run === 0 ? built.ms : undefined,
    });
  }
  return rows;
}

async function post(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
  return res.json();
}

export async function benchWhy(opts: { requests?: number; processes?: number } = {}): Promise<Row[]> {
  const home = mkdtempSync(join(tmpdir(), "privlink-bench-why-"));
  const p = await startPrivlink({ port: 0, home, slots: { min: 200, max: 254 }, publicDns: "127.0.253.13" });
  try {
    const ctx = ctxOf();
    p.state.transact((tx) => {
      ensureRegion(tx, ctx);
      const vpc = createVpc(tx, ctx, { cidr: "10.0.0.0/16" });
      tx.put("vpc", { ...tx.get("vpc", vpc.id)!, dnsSupport: true, dnsHostnames: true });
      const subnet = createSubnet(tx, ctx, { vpcId: vpc.id, cidr: "10.0.1.0/24", az: "us-east-1a" });
      const sg = defaultGroupOf(tx, vpc.id).id;
      runInstances(tx, ctx, {
        imageId: "ami-12345678",
        subnetId: subnet.id,
        securityGroupIds: [sg],
        minCount: 1,
        maxCount: 1,
        tags: { Name: "app" },
      });
      createVpcEndpoint(tx, ctx, {
        vpcId: vpc.id,
        type: "Interface",
        serviceName: "com.amazonaws.us-east-1.secretsmanager",
        subnetIds: [subnet.id],
        privateDnsEnabled: true,
      });
    });
    for (let i = 0; i < 200; i++) {
      const r = (await post(`${p.url}/_privlink/why`, {
        source: "app",
        destination: "secretsmanager.us-east-1.amazonaws.com",
      })) as {
        allowed?: boolean;
      };
      if (r.allowed) break;
      await new Promise((res) => setTimeout(res, 25));
    }
    const sample = async (fn: () => Promise<unknown>, n: number) => {
      const ms: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await fn();
        ms.push(performance.now() - t);
      }
      return ms.sort((a, b) => a - b);
    };
    const n = opts.requests ?? 200;
    const why = await sample(
      () =>
        post(`${p.url}/_privlink/why`, {
          source: "app",
          destination: "secretsmanager.us-east-1.amazonaws.com",
        }),
      n,
    );
    const health = await sample(() => fetch(`${p.url}/_privlink/health`).then((r) => r.json()), n);
    const bin = join(PACKAGE_ROOT, "bin/privlink.js");
    // The CLI reads the admin token from the server's home, as it does for a user.
    const env = { ...process.env, PRIVLINK_URL: p.url, PRIVLINK_HOME: p.home };
    const m = opts.processes ?? 5;
    const cli = await sample(async () => {
      // Not spawnSync: the server answering it runs in this very process.
      await run(process.execPath, [bin, "why", "app", "secretsmanager"], { env });
    }, m);
    const node = await sample(() => run(process.execPath, ["-e", "0"]), m);
    return [
      {
        case: "why (admin request)",
        count: n,
        p50: percentile(why, 50),
        p99: percentile(why, 99),
        baseline: "health",
        baseP50: percentile(health, 50),
      },
      {
        case: "why (privlink why process)",
        count: m,
        p50: percentile(cli, 50),
        p99: percentile(cli, 99),
        baseline: "node -e 0",
        baseP50: percentile(node, 50),
      },
    ];
  } finally {
    await p.close();
    rmSync(home, { recursive: true, force: true });
  }
}

export async function benchAnalyze(full: boolean): Promise<Row[]> {
  return [
    ...benchAccess(full ? { runs: 5 } : { runs: 2 }),
    ...(await benchWhy(full ? {} : { requests: 100, processes: 3 })),
  ];
}
