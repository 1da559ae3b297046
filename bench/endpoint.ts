/**
 * Endpoint benchmark: throughput (one stream, four) and new connections per second through a
 * real interface endpoint (flow admission + NLB target choice + relay), beside the same load
 * straight to the target; then listener set-up time and RSS for many endpoints in one process.
 *
 * The load runs in a worker thread (its own event loop and core) so that the data plane under
 * test keeps the main thread. Every load is bounded in time and count.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import {
  AcceptVpcEndpointConnectionsCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  CreateVpcEndpointServiceConfigurationCommand,
  EC2Client,
  ModifyVpcEndpointServicePermissionsCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { eniHostAddress } from "../src/cloud/eni.js";
import { State } from "../src/cloud/state.js";
import type { Eni, VpcEndpoint } from "../src/cloud/types.js";
import { DataPlane } from "../src/net/dataplane.js";
import { startPrivlink } from "../src/privlink.js";

export interface Row {
  case: string;
  via: string;
  value: number;
  unit: string;
  note?: string;
}

export interface BenchEndpointOptions {
  /** Measuring time per case; capped at 5 s. */
  durationMs?: number;
  /** Endpoints for the scale case (two ENIs each); capped by the descriptor limit. 0 skips it. */
  endpoints?: number;
  concurrency?: number;
  /** Skip the traffic cases (throughput, connection rate) and measure only the scale case. */
  scaleOnly?: boolean;
}

const SLOTS = { min: 240, max: 249 };
const SCALE_SLOT = 250;

export async function benchEndpoint(opts: BenchEndpointOptions = {}): Promise<Row[]> {
  const durationMs = Math.min(opts.durationMs ?? 3000, 5000);
  const rows: Row[] = [];
  if (!opts.scaleOnly) rows.push(...(await throughputAndRate(durationMs, opts.concurrency ?? 8)));
  const n = opts.endpoints ?? 10_000;
  if (n > 0) rows.push(...(await scale(n)));
  return rows;
}

// ---- a real endpoint ----

interface Targets {
  sink: Server;
  echo: Server;
  sinkPort: number;
  echoPort: number;
}

async function targets(): Promise<Targets> {
  const open = (onConn: (s: Socket) => void) =>
    new Promise<Server>((resolve) => {
      const s = createServer({ allowHalfOpen: true, highWaterMark: 128 * 1024 } as object, (c) => {
        c.on("error", () => undefined);
        onConn(c);
      });
      s.listen(0, "127.0.0.1", () => resolve(s));
    });
  const sink = await open((c) => {
    c.resume();
    c.on("end", () => c.end());
  });
  const echo = await open((c) => c.pipe(c));
  const port = (s: Server) => (s.address() as { port: number }).port;
  return { sink, echo, sinkPort: port(sink), echoPort: port(echo) };
}

async function throughputAndRate(durationMs: number, concurrency: number): Promise<Row[]> {
  const home = mkdtempSync(join(tmpdir(), "privlink-bench-"));
  const p = await startPrivlink({ port: 0, home, slots: SLOTS, auth: "open" });
  const t = await targets();
  try {
    const ep = await buildEndpoint(p.url, p.state, t);
    // Let the first health checks pass so that the endpoint balances over healthy targets.
    await new Promise((r) => setTimeout(r, 300));
    const rows: Row[] = [];
    const cases: [string, { host: string; sinkPort: number; echoPort: number; localAddress?: string }][] = [
      ["direct", { host: "127.0.0.1", sinkPort: t.sinkPort, echoPort: t.echoPort }],
      [
        "endpoint",
        { host: ep.host, sinkPort: ep.sinkPort, echoPort: ep.echoPort, localAddress: ep.workload },
      ],
    ];
    for (const [via, to] of cases) {
      for (const streams of [1, 4]) {
        const r = await load({
          cmd: "stream",
          host: to.host,
          port: to.sinkPort,
          localAddress: to.localAddress,
          streams,
          durationMs,
        });
        rows.push({
          case: `throughput, ${streams} stream${streams > 1 ? "s" : ""}`,
          via,
          value: r.bytes / r.seconds / 2 ** 20,
          unit: "MiB/s",
        });
      }
      const c = await load({
        cmd: "conns",
        host: to.host,
        port: to.echoPort,
        localAddress: to.localAddress,
        streams: concurrency,
        durationMs,
      });
      rows.push({
        case: `new connections/s (${concurrency} loops)`,
        via,
        value: c.count / c.seconds,
        unit: "conn/s",
      });
      rows.push({ case: "connect+1-byte echo, p50", via, value: c.p50Us, unit: "µs" });
      rows.push({ case: "connect+1-byte echo, p99", via, value: c.p99Us, unit: "µs" });
    }
    return rows;
  } finally {
    await p.close();
    t.sink.close();
    t.echo.close();
    rmSync(home, { recursive: true, force: true });
  }
}

/** Provider (NLB with two listeners: bulk sink and echo) and consumer endpoint, through the API. */
async function buildEndpoint(
  url: string,
  state: State,
  t: Targets,
): Promise<{ host: string; workload: string; sinkPort: number; echoPort: number }> {
  const provider = { accessKeyId: "100000000001", secretAccessKey: "x" };
  const consumer = { accessKeyId: "100000000002", secretAccessKey: "x" };
  const cfg = (credentials: typeof provider) => ({
    endpoint: url,
    region: "us-east-1",
    credentials,
    maxAttempts: 1,
  });
  const pec2 = new EC2Client(cfg(provider));
  const elb = new ElasticLoadBalancingV2Client(cfg(provider));
  const cec2 = new EC2Client(cfg(consumer));
  const vpc = (await pec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }))).Vpc!.VpcId!;
  const subnets: string[] = [];
  for (const [i, az] of ["a", "b", "c", "d", "e", "f"].entries())
    subnets.push(
      (
        await pec2.send(
          new CreateSubnetCommand({
            VpcId: vpc,
            CidrBlock: `10.0.${i}.0/24`,
            AvailabilityZone: `us-east-1${az}`,
          }),
        )
      ).Subnet!.SubnetId!,
    );
  const lb = (
    await elb.send(
      new CreateLoadBalancerCommand({ Name: "bench", Type: "network", Scheme: "internal", Subnets: subnets }),
    )
  ).LoadBalancers![0]!.LoadBalancerArn!;
  const sinkPort = 9001;
  const echoPort = 9002;
  for (const [name, target, port] of [
    ["sink", t.sinkPort, sinkPort],
    ["echo", t.echoPort, echoPort],
  ] as const) {
    const tg = (
      await elb.send(
        new CreateTargetGroupCommand({
          Name: name,
          Protocol: "TCP",
          Port: target,
          VpcId: vpc,
          TargetType: "ip",
        }),
      )
    ).TargetGroups![0]!.TargetGroupArn!;
    await elb.send(
      new RegisterTargetsCommand({
        TargetGroupArn: tg,
        Targets: [{ Id: "127.0.0.1", Port: target, AvailabilityZone: "all" }],
      }),
    );
    await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb,
        Protocol: "TCP",
        Port: port,
        DefaultActions: [{ Type: "forward", TargetGroupArn: tg }],
      }),
    );
  }
  const svc = (
    await pec2.send(
      new CreateVpcEndpointServiceConfigurationCommand({
        NetworkLoadBalancerArns: [lb],
        AcceptanceRequired: false,
      }),
    )
  ).ServiceConfiguration!;
  await pec2.send(
    new ModifyVpcEndpointServicePermissionsCommand({
      ServiceId: svc.ServiceId,
      AddAllowedPrincipals: ["arn:aws:iam::100000000002:root"],
    }),
  );
  const cvpc = (await cec2.send(new CreateVpcCommand({ CidrBlock: "10.1.0.0/16" }))).Vpc!.VpcId!;
  const csub = (
    await cec2.send(
      new CreateSubnetCommand({ VpcId: cvpc, CidrBlock: "10.1.1.0/24", AvailabilityZone: "us-east-1a" }),
    )
  ).Subnet!.SubnetId!;
  const instance = (
    await cec2.send(
      new RunInstancesCommand({ ImageId: "ami-12345678", MinCount: 1, MaxCount: 1, SubnetId: csub }),
    )
  ).Instances![0]!;
  const ep = (
    await cec2.send(
      new CreateVpcEndpointCommand({
        VpcEndpointType: "Interface",
        VpcId: cvpc,
        ServiceName: svc.ServiceName,
        SubnetIds: [csub],
      }),
    )
  ).VpcEndpoint!;
  const sg = ep.Groups![0]!.GroupId!;
  await cec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: sg,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 9000, ToPort: 9010, IpRanges: [{ CidrIp: "10.1.0.0/16" }] },
      ],
    }),
  );
  await pec2
    .send(
      new AcceptVpcEndpointConnectionsCommand({
        ServiceId: svc.ServiceId,
        VpcEndpointIds: [ep.VpcEndpointId!],
      }),
    )
    .catch(() => undefined);
  await waitAvailable(state, ep.VpcEndpointId!);
  const e = state.get("vpcEndpoint", ep.VpcEndpointId!)!;
  const host = eniHostAddress(state, state.get("eni", e.enis[0]!.eniId)!)!;
  const workload = eniHostAddress(
    state,
    state.get("eni", instance.NetworkInterfaces![0]!.NetworkInterfaceId!)!,
  )!;
  return { host, workload, sinkPort, echoPort };
}

async function waitAvailable(state: State, id: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (state.get("vpcEndpoint", id)?.state === "available") return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${id} did not become available`);
}

// ---- the load generator (a worker thread) ----

interface LoadRequest {
  cmd: "stream" | "conns";
  host: string;
  port: number;
  localAddress?: string;
  streams: number;
  durationMs: number;
}

interface LoadResult {
  bytes: number;
  count: number;
  seconds: number;
  p50Us: number;
  p99Us: number;
}

const WORKER = `
const { parentPort, workerData: r } = require("node:worker_threads");
const net = require("node:net");
const { performance } = require("node:perf_hooks");
const chunk = Buffer.alloc(128 * 1024, 7);
const deadline = performance.now() + r.durationMs;
function stream() {
  return new Promise((resolve) => {
    const s = net.connect({ host: r.host, port: r.port, localAddress: r.localAddress, highWaterMark: 128 * 1024 });
    let bytes = 0;
    const pump = () => {
      while (performance.now() < deadline) {
        bytes += chunk.length;
        if (!s.write(chunk)) return void s.once("drain", pump);
      }
      s.end();
    };
    s.on("connect", pump);
    s.on("error", () => resolve(bytes));
    s.on("close", () => resolve(bytes));
    s.resume();
  });
}
async function conns() {
  const samples = [];
  const loop = async () => {
    while (performance.now() < deadline && samples.length < 1e6) {
      const t = performance.now();
      await new Promise((resolve) => {
        const s = net.connect({ host: r.host, port: r.port, localAddress: r.localAddress, noDelay: true });
        s.on("connect", () => s.write("x"));
        s.once("data", () => s.destroy());
        s.on("error", () => undefined);
        s.on("close", resolve);
      });
      samples.push((performance.now() - t) * 1000);
    }
  };
  await Promise.all(Array.from({ length: r.streams }, loop));
  return samples.sort((a, b) => a - b);
}
(async () => {
  const start = performance.now();
  if (r.cmd === "stream") {
    const all = await Promise.all(Array.from({ length: r.streams }, stream));
    parentPort.postMessage({ bytes: all.reduce((a, b) => a + b, 0), count: r.streams, seconds: (performance.now() - start) / 1000, p50Us: 0, p99Us: 0 });
  } else {
    const s = await conns();
    const pct = (p) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
    parentPort.postMessage({ bytes: 0, count: s.length, seconds: (performance.now() - start) / 1000, p50Us: pct(50), p99Us: pct(99) });
  }
})();
`;

function load(req: LoadRequest): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { eval: true, workerData: req });
    w.once("message", (m: LoadResult) => {
      resolve(m);
      void w.terminate();
    });
    w.once("error", reject);
  });
}

// ---- scale: many endpoints in one process ----

function descriptorLimit(): number {
  try {
    return Number(execFileSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).trim()) || 1024;
  } catch {
    return 1024;
  }
}

/**
 * Builds `wanted` endpoints with two ENIs each straight into a state (the API path is measured
 * elsewhere), then times the data plane from start to every listener bound.
 */
async function scale(wanted: number): Promise<Row[]> {
  const limit = descriptorLimit();
  const n = Math.max(1, Math.min(wanted, Math.floor((limit - 512) / 2)));
  const state = new State();
  const now = new Date().toISOString();
  const base = { accountId: "100000000003", region: "us-east-1", tags: {} };
  state.transact((tx) => {
    tx.put("vpc", {
      ...base,
      id: "vpc-scale",
      cidrBlocks: [{ associationId: "a", cidr: "10.0.0.0/16", state: "associated", slot: SCALE_SLOT }],
      isDefault: false,
      dnsSupport: true,
      dnsHostnames: true,
      instanceTenancy: "default",
      dhcpOptionsId: "dopt",
      createdAt: now,
    });
    for (const az of ["a", "b"])
      tx.put("subnet", {
        ...base,
        id: `subnet-${az}`,
        vpcId: "vpc-scale",
        cidr: az === "a" ? "10.0.0.0/17" : "10.0.128.0/17",
        az: `us-east-1${az}`,
        azId: `use1-az${az === "a" ? 1 : 2}`,
        defaultForAz: false,
        mapPublicIpOnLaunch: false,
      });
    const lbArn =
      "arn:aws:elasticloadbalancing:us-east-1:100000000003:loadbalancer/net/scale/0123456789abcdef";
    const tgArn = "arn:aws:elasticloadbalancing:us-east-1:100000000003:targetgroup/scale/0123456789abcdef";
    tx.put("listener", {
      ...base,
      id: `${lbArn}/listener`,
      loadBalancerArn: lbArn,
      protocol: "TCP",
      port: 8080,
      targetGroupArn: tgArn,
    });
    tx.put("endpointService", {
      ...base,
      id: "vpce-svc-scale",
      serviceName: "com.amazonaws.vpce.us-east-1.vpce-svc-scale",
      serviceType: "Interface",
      state: "Available",
      acceptanceRequired: false,
      networkLoadBalancerArns: [lbArn],
      gatewayLoadBalancerArns: [],
      supportedIpAddressTypes: ["ipv4"],
      supportedRegions: [],
      permissions: [],
      createdAt: now,
    });
    for (let i = 0; i < n; i++) {
      const enis = (["a", "b"] as const).map((az, k) => {
        const offset = 16 + i + (k === 0 ? 0 : 32768);
        const eni: Eni = {
          ...base,
          id: `eni-s${k}${i}`,
          vpcId: "vpc-scale",
          subnetId: `subnet-${az}`,
          az: `us-east-1${az}`,
          privateIp: `10.0.${offset >> 8}.${offset & 255}`,
          securityGroupIds: [],
          interfaceType: "vpc_endpoint",
          requesterManaged: true,
          description: "",
          macAddress: "0e:00:00:00:00:00",
          status: "in-use",
        };
        tx.put("eni", eni);
        return { subnetId: eni.subnetId, eniId: eni.id };
      });
      const ep: VpcEndpoint = {
        ...base,
        id: `vpce-s${i}`,
        type: "Interface",
        vpcId: "vpc-scale",
        serviceName: "com.amazonaws.vpce.us-east-1.vpce-svc-scale",
        serviceId: "vpce-svc-scale",
        serviceRegion: "us-east-1",
        state: "available",
        routeTableIds: [],
        subnetIds: ["subnet-a", "subnet-b"],
        enis,
        securityGroupIds: [],
        ipAddressType: "ipv4",
        dnsRecordIpType: "ipv4",
        privateDnsEnabled: false,
        dnsSuffix: "scale000",
        connectionId: `vpce-con-${i}`,
        createdAt: now,
        stateChangedAt: now,
      };
      tx.put("vpcEndpoint", ep);
    }
  });
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const dp = new DataPlane({ state, backlog: 16 });
  const t0 = performance.now();
  await dp.start();
  const ms = performance.now() - t0;
  const bound = dp.listenerCount;
  const rss = process.memoryUsage().rss;
  // A single change re-reconciles everything: the steady-state cost of a commit at this scale.
  const t1 = performance.now();
  state.transact((tx) =>
    tx.put("vpcEndpoint", { ...tx.get("vpcEndpoint", "vpce-s0")!, state: "deleting", enis: [] }),
  );
  await dp.reconcile();
  const recMs = performance.now() - t1;
  await dp.close();
  const note = n < wanted ? `bounded by RLIMIT_NOFILE ${limit}` : undefined;
  return [
    {
      case: `listener set-up, ${n} endpoints`,
      via: "endpoint",
      value: ms,
      unit: "ms",
      note: `${bound} listeners bound${note ? `; ${note}` : ""}`,
    },
    {
      case: `RSS of ${bound} listeners`,
      via: "endpoint",
      value: (rss - rssBefore) / 2 ** 20,
      unit: "MiB",
      note: `total RSS ${(rss / 2 ** 20).toFixed(0)} MiB`,
    },
    { case: `reconcile after one change, ${n} endpoints`, via: "endpoint", value: recMs, unit: "ms" },
  ];
}

// When run directly: `node dist/bench/endpoint.js`.
if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await benchEndpoint({ scaleOnly: process.argv.includes("--scale-only") });
  for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
}
