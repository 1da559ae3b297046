/**
 * VPC resolver throughput: a VPC's resolver (127.S.0.2, built by dns/resolvers.ts from the
 * state, as `privlink up` serves it) holding 10,000 interface endpoints' records, against
 * unbound serving the same names and addresses, both measured with dnsperf over UDP on
 * loopback in the same run. Queries are the endpoints' regional names (one A record each).
 * Reports queries per second, average and p99 latency (from dnsperf -v's per-response latencies).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolverAddress } from "../src/cloud/addressing.js";
import { State } from "../src/cloud/state.js";
import type { Eni, Subnet, Vpc, VpcEndpoint } from "../src/cloud/types.js";
import { endpointAddresses } from "../src/dns/records.js";
import { startResolvers } from "../src/dns/resolvers.js";
import { parseDnsperf, withUnbound, withVsUnbound } from "./dns.js";

export type VpcDnsBenchOptions = {
  /** Seconds per server, at most 10 (default 5). */
  durationSec?: number;
  endpoints?: number;
  clients?: number;
  outstanding?: number;
  /** Host-address slot of the benchmark VPC (default 251: far from test bands). */
  slot?: number;
  dnsperf?: string;
  unbound?: string;
};

export type VpcDnsBenchRow = {
  server: "privlink-vpc" | "unbound";
  qps?: number;
  avgLatencyMs?: number;
  p99LatencyMs?: number;
  queriesCompleted?: number;
  queriesLost?: number;
  responseCodes?: string;
  /** qps / unbound's qps in the same run. */
  vsUnbound?: number;
  note?: string;
};

type Measured = Omit<VpcDnsBenchRow, "server">;

const ACCOUNT = "000000000000";
const REGION = "us-east-1";
const VPC_ID = "vpc-0bench0000000000a";
const SUBNET_ID = "subnet-0bench00000000000";

/** One VPC (10.0.0.0/16 on `slot`), one subnet, `n` endpoints to sqs with one ENI each. */
export function benchState(n: number, slot: number): State {
  const state = new State();
  const at = "2026-01-01T00:00:00.000Z";
  const own = { accountId: ACCOUNT, region: REGION, tags: {} };
  state.transact((tx) => {
    tx.put("vpc", {
      ...own,
      id: VPC_ID,
      cidrBlocks: [{ associationId: "vpc-cidr-assoc-bench", cidr: "10.0.0.0/16", state: "associated", slot }],
      isDefault: false,
      dnsSupport: true,
      dnsHostnames: true,
      instanceTenancy: "default",
      dhcpOptionsId: "dopt-bench",
      createdAt: at,
    } as Vpc);
    tx.put("subnet", {
      ...own,
      id: SUBNET_ID,
      vpcId: VPC_ID,
      cidr: "10.0.0.0/16",
      az: "us-east-1a",
      azId: "use1-az1",
      defaultForAz: false,
      mapPublicIpOnLaunch: false,
    } as Subnet);
    for (let i = 0; i < n; i++) {
      const hex = i.toString(16).padStart(8, "0");
      const offset = 16 + i;
      const eniId = `eni-0bench${hex}0000000`.slice(0, 21);
      tx.put("eni", {
        ...own,
        id: eniId,
        vpcId: VPC_ID,
        subnetId: SUBNET_ID,
        az: "us-east-1a",
        privateIp: `10.0.${offset >> 8}.${offset & 255}`,
        securityGroupIds: [],
        interfaceType: "vpc_endpoint",
        requesterManaged: true,
        description: "bench",
        macAddress: "0e:00:00:00:00:00",
        status: "in-use",
      } as Eni);
      tx.put("vpcEndpoint", {
        ...own,
        id: `vpce-0bench${hex}000000`.slice(0, 22),
        type: "Interface",
        vpcId: VPC_ID,
        serviceName: "com.amazonaws.us-east-1.sqs",
        serviceRegion: REGION,
        state: "available",
        routeTableIds: [],
        subnetIds: [SUBNET_ID],
        enis: [{ subnetId: SUBNET_ID, eniId }],
        securityGroupIds: [],
        ipAddressType: "ipv4",
        dnsRecordIpType: "ipv4",
        privateDnsEnabled: false,
        dnsSuffix: hex.slice(0, 8),
        connectionId: `vpce-con-${hex}`,
        createdAt: at,
        stateChangedAt: at,
      } as unknown as VpcEndpoint);
    }
  });
  return state;
}

/** Each endpoint's regional name and its one host address. */
function regionalRecords(state: State): { name: string; address: string }[] {
  const out: { name: string; address: string }[] = [];
  for (const e of state.all("vpcEndpoint"))
    for (const n of endpointAddresses(state, e))
      if (n.kind === "regional" && n.addresses[0]) out.push({ name: n.name, address: n.addresses[0] });
  return out;
}

export async function benchVpcDns(opts: VpcDnsBenchOptions = {}): Promise<VpcDnsBenchRow[]> {
  const durationSec = Math.min(Math.max(opts.durationSec ?? 5, 1), 10);
  const n = opts.endpoints ?? 10_000;
  const slot = opts.slot ?? 251;
  const dnsperf = opts.dnsperf ?? "/usr/bin/dnsperf";
  const unbound = opts.unbound ?? "/usr/sbin/unbound";
  if (!existsSync(dnsperf)) {
    const note = `skipped: ${dnsperf} not installed (apt-get install dnsperf)`;
    return [
      { server: "privlink-vpc", note },
      { server: "unbound", note },
    ];
  }
  const state = benchState(n, slot);
  const records = regionalRecords(state);
  const dir = await mkdtemp(join(tmpdir(), "privlink-vpcdns-"));
  try {
    const queries = join(dir, "queries.txt");
    await writeFile(queries, records.map((r) => `${r.name} A\n`).join(""));
    const run = (host: string, port: number) =>
      runDnsperf(dnsperf, [
        ...["-s", host, "-p", String(port), "-d", queries, "-l", String(durationSec), "-v"],
        ...["-c", String(opts.clients ?? 4), "-q", String(opts.outstanding ?? 100), "-t", "2"],
      ]);
    const rows: VpcDnsBenchRow[] = [{ server: "privlink-vpc", ...(await benchResolver(state, slot, run)) }];
    if (existsSync(unbound))
      rows.push({
        server: "unbound",
        ...(await withUnbound(unbound, dir, "vpce.amazonaws.com", records, run)),
      });
    else
      rows.push({ server: "unbound", note: `skipped: ${unbound} not installed (apt-get install unbound)` });
    return withVsUnbound(rows);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function benchResolver(
  state: State,
  slot: number,
  run: (host: string, port: number) => Promise<Measured>,
): Promise<Measured> {
  const resolvers = await startResolvers({ state, publicAddress: "127.0.0.254", port: 0 });
  try {
    await resolvers.settled();
    const host = resolverAddress(slot);
    const listening = resolvers.info().resolvers.find((r) => r.address === host);
    if (!listening || listening.error)
      return { note: `resolver did not start: ${listening?.error ?? "absent"}` };
    return await run(host, resolvers.port);
  } finally {
    await resolvers.close();
  }
}

function runDnsperf(bin: string, args: string[]): Promise<Measured> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 60_000, maxBuffer: 512 * 1024 * 1024 }, (err, stdout) => {
      const m = parseDnsperf(stdout ?? "");
      if (m.qps === undefined)
        resolve({ note: `dnsperf failed: ${String(err ?? "no statistics").slice(0, 300)}` });
      else
        resolve({
          qps: m.qps,
          avgLatencyMs: m.avgLatencyMs,
          p99LatencyMs: p99FromVerbose(stdout ?? ""),
          queriesCompleted: m.queriesCompleted,
          queriesLost: m.queriesLost,
          responseCodes: m.responseCodes,
        });
    });
  });
}

/** dnsperf -v prints one line per response, ending in its latency in seconds ("> NOERROR … 0.000123"). */
export function p99FromVerbose(out: string): number | undefined {
  const lat: number[] = [];
  for (const m of out.matchAll(/^> \S+ .* (\d+\.\d+)$/gm)) lat.push(Number(m[1]));
  if (lat.length === 0) return undefined;
  lat.sort((a, b) => a - b);
  return Math.round(lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))]! * 1e6) / 1e3;
}
