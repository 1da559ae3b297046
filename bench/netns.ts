/**
 * Issue 19: connection set-up and throughput in namespace mode against loopback mode, same run,
 * same server.
 * One privlink in namespace mode serves the echo endpoint both on its host address (loopback
 * mode's path, the baseline) and on its private IP inside the VPC's namespace. Each sample is
 * connect() until the first echoed byte (flow admission, NLB target, upstream dial), taken by a
 * client process of its own: on the host from the workload's host address, or under
 * `ip netns exec` in the instance's namespace from its private IP. Throughput: one connection
 * per sample that streams BULK bytes through the endpoint to the echo target and reads them back
 * (MB/s of the round trip). Rounds alternate so that noise hits both alike; bounded in count and
 * time. A third row times set-up from one instance to another of the same VPC through the VPC
 * namespace's router (tproxy, the flow decision, a dial from the client's IP in the Python
 * helper, privlink's relay) against the same loopback baseline: what a connection through
 * privlink costs in each mode. Needs root: otherwise one row says why.
 */
import { execFile, spawn } from "node:child_process";
import { AuthorizeSecurityGroupIngressCommand, EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { privateIpOfHost } from "../src/cloud/addressing.js";
import type { State } from "../src/cloud/state.js";
import { namespaceModeRefusal } from "../src/net/netns/ip.js";
import { percentile } from "./measure.js";
import { startNetWorld } from "./net-world.js";

/**
 * The client: N sequential connect → 1 byte → echo, printing the microseconds of each; or, with
 * a byte count, N connections that each stream that many bytes and read the echo, printing MB/s.
 */
const CLIENT = `
const net = require("node:net");
const [host, port, from, n, bulk] = process.argv.slice(1);
const stream = () => new Promise((resolve, reject) => {
  const total = Number(bulk);
  const chunk = Buffer.alloc(64 * 1024, 120);
  const s = net.connect({ host, port: Number(port), localAddress: from || undefined });
  let got = 0, sent = 0, t0;
  const pump = () => { while (sent < total) { sent += chunk.length; if (!s.write(chunk)) return s.once("drain", pump); } };
  s.on("connect", () => { t0 = process.hrtime.bigint(); pump(); });
  s.on("data", (d) => { got += d.length; if (got >= total) { const us = Number(process.hrtime.bigint() - t0) / 1000; s.destroy(); resolve(got / us); } });
  s.on("error", reject);
});
const once = () => bulk ? stream() : new Promise((resolve, reject) => {
  const t0 = process.hrtime.bigint();
  const s = net.connect({ host, port: Number(port), localAddress: from || undefined });
  s.once("data", () => { s.destroy(); resolve(Number(process.hrtime.bigint() - t0) / 1000); });
  s.on("error", reject);
  s.on("connect", () => s.write("x"));
});
(async () => { const out = []; for (let i = 0; i < Number(n); i++) out.push(await once()); console.log(JSON.stringify(out)); })()
  .catch((e) => { console.error(e.message); process.exit(1); });
`;

/** Connection set-up samples (µs) from a client process, under `prefix` (e.g. `ip netns exec NS`). */
export function client(
  prefix: string[],
  host: string,
  port: number,
  from: string,
  n: number,
  bulk?: number,
): Promise<number[]> {
  const cmd = [...prefix, process.execPath, "-e", CLIENT, host, String(port), from, String(n)];
  if (bulk) cmd.push(String(bulk));
  return new Promise((resolve, reject) =>
    execFile(cmd[0]!, cmd.slice(1), { timeout: 60_000 }, (err, out, errOut) =>
      err ? reject(new Error(`${err.message}${errOut}`)) : resolve(JSON.parse(out) as number[]),
    ),
  );
}

/** Bytes each throughput sample streams through the endpoint (and reads back). */
const BULK = 32 * 1024 * 1024;

export async function benchNetns(
  opts: { samples?: number; seconds?: number; streams?: number } = {},
): Promise<Record<string, unknown>[]> {
  const refusal = namespaceModeRefusal();
  if (refusal) return [{ case: "connection set-up", note: `skipped: ${refusal}` }];
  const samples = opts.samples ?? 600;
  const streams = opts.streams ?? 12;
  const started = Date.now();
  const deadline = started + (opts.seconds ?? 30) * 1000;
  const stops: (() => void)[] = [];
  const world = await startNetWorld({ network: "netns", slots: { min: 240, max: 254 } });
  try {
    await world.p.namespaces!.settled();
    const instance = [...world.p.state.all("instance")][0]!;
    const ns = world.p.namespaces!.instanceNamespace(instance.id)!;
    const echoIp = privateIpOfHost(world.p.state, world.echo.host)!.privateIp;
    const workloadIp = world.p.state.get("eni", instance.eniId)!.privateIp;
    const peer = await peerInstance(world.p.url, instance.id, world.p.state);
    await world.p.namespaces!.settled();
    const peerNs = world.p.namespaces!.instanceNamespace(peer.instanceId)!;
    // An echo server in the peer instance's namespace, stopped by its PID at the end.
    const echoPeer = spawn(
      "ip",
      [
        "netns",
        "exec",
        peerNs,
        process.execPath,
        "-e",
        `require("node:net").createServer((s) => s.pipe(s)).listen(${PEER_PORT})`,
      ],
      { stdio: "ignore" },
    );
    stops.push(() => echoPeer.kill());
    await waitListening(peerNs);
    const times = { loopback: [] as number[], netns: [] as number[], router: [] as number[] };
    const rates = { loopback: [] as number[], netns: [] as number[] };
    const inNs = ["ip", "netns", "exec", ns];
    const round = Math.max(10, Math.floor(samples / 6));
    while (times.netns.length < samples && Date.now() < deadline) {
      times.loopback.push(...(await client([], world.echo.host, world.echo.port, world.workloadHost, round)));
      times.netns.push(...(await client(inNs, echoIp, world.echo.port, workloadIp, round)));
      times.router.push(...(await client(inNs, peer.ip, PEER_PORT, workloadIp, round)));
    }
    // Throughput gets as long again as set-up had, alternating one stream at a time.
    const streamDeadline = Date.now() + (Date.now() - started);
    while (rates.netns.length < streams && Date.now() < streamDeadline) {
      rates.loopback.push(
        ...(await client([], world.echo.host, world.echo.port, world.workloadHost, 1, BULK)),
      );
      rates.netns.push(...(await client(inNs, echoIp, world.echo.port, workloadIp, 1, BULK)));
    }
    const row = (via: "loopback" | "netns" | "router") => {
      const sorted = [...times[via]].sort((a, b) => a - b);
      return {
        case: via === "router" ? "instance to instance (VPC router)" : "connection set-up",
        via,
        samples: sorted.length,
        p50Us: percentile(sorted, 50),
        p99Us: percentile(sorted, 99),
      };
    };
    const rate = (via: "loopback" | "netns") => {
      const sorted = [...rates[via]].sort((a, b) => a - b);
      return {
        case: "throughput",
        via,
        samples: sorted.length,
        p50MBps: Number(percentile(sorted, 50).toFixed(1)),
      };
    };
    const base = row("loopback");
    const ns2 = row("netns");
    const router = row("router");
    const tBase = rate("loopback");
    const tNs = rate("netns");
    return [
      { ...base, vsLoopback: 1 },
      { ...ns2, vsLoopback: Number((ns2.p50Us / base.p50Us).toFixed(3)) },
      { ...router, via: "netns", vsLoopback: Number((router.p50Us / base.p50Us).toFixed(3)) },
      { ...tBase, vsLoopback: 1 },
      { ...tNs, vsLoopback: Number((tNs.p50MBps / tBase.p50MBps).toFixed(3)) },
    ];
  } finally {
    for (const stop of stops) stop();
    await world.close();
  }
}

const PEER_PORT = 9090;

/** A second instance beside `instanceId`, in its subnet and groups, open to the VPC on PEER_PORT. */
async function peerInstance(
  url: string,
  instanceId: string,
  state: State,
): Promise<{ instanceId: string; ip: string }> {
  const first = state.get("instance", instanceId)!;
  const groups = state.get("eni", first.eniId)!.securityGroupIds;
  const vpc = state.get("vpc", first.vpcId)!;
  const ec2 = new EC2Client({
    endpoint: url,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDBENCH", secretAccessKey: "bench" },
  });
  for (const g of groups)
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: g,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: PEER_PORT,
            ToPort: PEER_PORT,
            IpRanges: [{ CidrIp: vpc.cidrBlocks[0]!.cidr }],
          },
        ],
      }),
    );
  const i = (
    await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12345678",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: first.subnetId,
        SecurityGroupIds: [...groups],
      }),
    )
  ).Instances![0]!;
  ec2.destroy();
  // Flows from or to an instance pass once it runs (bounded: 10 s).
  for (let n = 0; n < 100 && state.get("instance", i.InstanceId!)?.state !== "running"; n++)
    await new Promise((r) => setTimeout(r, 100));
  return { instanceId: i.InstanceId!, ip: i.PrivateIpAddress! };
}

/** Until something listens on PEER_PORT in `ns` (bounded: 10 s). */
async function waitListening(ns: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const out = await new Promise<string>((resolve) =>
      execFile("ip", ["netns", "exec", ns, "ss", "-ltnH"], (_e, o) => resolve(String(o))),
    );
    if (out.includes(`:${PEER_PORT} `)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${PEER_PORT} in ${ns}`);
}
