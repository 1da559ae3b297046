/**
 * Issue 15's DNS goal: CPU per query on every name path — the asking VPC's own endpoint names,
 * another VPC's endpoint names (answered through the public view), the public view, a private
 * hosted zone, a zone a FORWARD rule sends to a DNS server in the VPC — against a minimal Node
 * UDP responder that replays one prepared answer (ID patched), measured in the same run, both in
 * this process and loaded by dnsperf at the same fixed rate. CPU is read from /proc/self/stat
 * (user + system, the whole process) around each run; runs alternate baseline and privlink, and
 * the ratio is the median of the rounds' ratios.
 * Each row says its goal (≤ 1.2× the responder's CPU per query) and whether it was met.
 */
import { execFile } from "node:child_process";
import dgram from "node:dgram";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import packet from "dns-packet";
import { startResolvers } from "../src/dns/resolvers.js";
import { literalLookup } from "../src/dns/server.js";
import { parseDnsperf } from "./dns.js";
import { buildDnsWorld, startForwardTarget } from "./dns-world.js";

export type DnsPathOptions = {
  /** Seconds per run (two runs per server and path), at most 10 (default 3). */
  durationSec?: number;
  /** Names per path (default 200). */
  names?: number;
  /** Rounds per path (default 4; 3 for runs over 3 s). */
  rounds?: number;
  /** Offered queries per second, the same for both servers (default 8,000). */
  rate?: number;
  dnsperf?: string;
};

export type DnsPathRow = {
  case: string;
  server: "privlink" | "node-replay";
  queries?: number;
  lost?: number;
  qps?: number;
  cpuUsPerQuery?: number;
  /**
   * privlink's CPU per query / the replaying responder's, same path, same run: the median of
   * the rounds' ratios (each round runs the two back to back, so load that drifts between
   * rounds moves both sides of a ratio, not one side of a total).
   */
  vsReplay?: number;
  /** Each round's ratio, in order. */
  rounds?: string;
  goal?: string;
  met?: boolean;
  note?: string;
};

const GOAL = 1.2;
/** Rounds per path (each: the replaying responder, then privlink), unless given: fewer for long runs, to stay in the budget. */
const roundsFor = (durationSec: number) => (durationSec > 3 ? 3 : 4);
/** Host-address slots for the benchmark's VPCs: far from the test bands. */
const SLOTS = { min: 240, max: 249 };
const PUBLIC = "127.0.0.252";
const REPLAY_HOST = "127.0.0.1";

/** CPU this process has used, µs, from /proc/self/stat (utime + stime, in clock ticks of 10 ms). */
function cpuUs(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of the line; the slice starts at field 3.
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/**
 * A minimal Node UDP DNS responder: the prepared answer, its ID patched, for every query — in
 * the answer's own bytes while the send queue is empty, else a copy, and replying to the sender's
 * literal address without dns.lookup's extra tick — both as privlink's server does, so the ratio
 * is privlink's own work per query.
 */
async function startReplay(answer: Buffer): Promise<{ port: number; close(): Promise<void> }> {
  const sock = dgram.createSocket({ type: "udp4", lookup: literalLookup });
  sock.on("message", (msg, rinfo) => {
    const out = sock.getSendQueueCount() === 0 ? answer : Buffer.from(answer);
    out[0] = msg[0]!;
    out[1] = msg[1]!;
    sock.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, REPLAY_HOST, () => r()));
  return { port: sock.address().port, close: () => new Promise((r) => sock.close(() => r())) };
}

function ask(host: string, port: number, name: string): Promise<Buffer> {
  const q = packet.encode({
    type: "query",
    id: 1,
    flags: packet.RECURSION_DESIRED,
    questions: [{ name, type: "A" }],
  });
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket("udp4");
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`no answer for ${name} from ${host}`));
    }, 3000);
    sock.on("message", (m) => {
      clearTimeout(timer);
      sock.close();
      resolve(m);
    });
    sock.send(q, port, host);
  });
}

function dnsperf(bin: string, args: string[]): Promise<ReturnType<typeof parseDnsperf>> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (_err, stdout) =>
      resolve(parseDnsperf(stdout ?? "")),
    );
  });
}

export async function benchDnsPaths(opts: DnsPathOptions = {}): Promise<DnsPathRow[]> {
  const bin = opts.dnsperf ?? "/usr/bin/dnsperf";
  const durationSec = Math.min(Math.max(opts.durationSec ?? 3, 1), 10);
  const rate = opts.rate ?? 8_000;
  if (!existsSync(bin))
    return [
      { case: "(all)", server: "privlink", note: `skipped: ${bin} not installed (apt-get install dnsperf)` },
    ];
  const w = buildDnsWorld(opts.names ?? 200, SLOTS);
  const dns = await startResolvers({ state: w.state, port: 0, publicAddress: PUBLIC, fullRebuildMs: 0 });
  const target = await startForwardTarget(w, dns.port);
  const dir = await mkdtemp(join(tmpdir(), "privlink-dnspaths-"));
  try {
    await dns.settled();
    const a = dns.info().resolvers.find((r) => r.vpcId === w.a.vpcId)?.address;
    if (!a || dns.info().publicResolverError)
      return [{ case: "(all)", server: "privlink", note: "resolvers did not start" }];
    const paths: { case: string; host: string; names: string[] }[] = [
      { case: "own VPC endpoint names", host: a, names: w.names.own },
      { case: "other VPC endpoint names", host: a, names: w.names.other },
      { case: "public view (public hosted zone)", host: PUBLIC, names: w.names.public },
      { case: "private hosted zone", host: a, names: w.names.phz },
      { case: "forwarded zone (FORWARD rule)", host: a, names: w.names.forwarded },
    ];
    const rows: DnsPathRow[] = [];
    const rounds = opts.rounds ?? roundsFor(durationSec);
    for (const p of paths) rows.push(...(await benchPath(bin, dir, dns.port, p, durationSec, rate, rounds)));
    const load = loadavg()[0]!.toFixed(2);
    rows.push({
      case: "(all)",
      server: "privlink",
      note: `1-minute load average at the end: ${load} (on a loaded machine the figures are noisy)`,
    });
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
    await target.close();
    await dns.close();
  }
}

async function benchPath(
  bin: string,
  dir: string,
  port: number,
  p: { case: string; host: string; names: string[] },
  durationSec: number,
  rate: number,
  rounds: number,
): Promise<DnsPathRow[]> {
  const file = join(dir, "queries.txt");
  await writeFile(file, p.names.map((n) => `${n} A\n`).join(""));
  // One answer of the path, as privlink prepared it: the bytes the baseline replays.
  const sample = await ask(p.host, port, p.names[0]!);
  for (const n of p.names) await ask(p.host, port, n);
  const replay = await startReplay(sample);
  const totals = {
    privlink: { cpu: 0, q: 0, lost: 0, qps: 0 },
    "node-replay": { cpu: 0, q: 0, lost: 0, qps: 0 },
  };
  const ratios: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const perQuery: number[] = [];
      for (const server of ["node-replay", "privlink"] as const) {
        const [host, to] = server === "privlink" ? [p.host, port] : [REPLAY_HOST, replay.port];
        const before = cpuUs();
        const m = await dnsperf(bin, [
          ...["-s", host, "-p", String(to), "-d", file, "-l", String(durationSec)],
          ...["-c", "1", "-q", "100", "-Q", String(rate), "-t", "2"],
        ]);
        const used = cpuUs() - before;
        const t = totals[server];
        t.cpu += used;
        t.q += m.queriesCompleted ?? 0;
        t.lost += m.queriesLost ?? 0;
        t.qps += (m.qps ?? 0) / rounds;
        perQuery.push(m.queriesCompleted ? used / m.queriesCompleted : Number.NaN);
      }
      const r = perQuery[1]! / perQuery[0]!;
      if (Number.isFinite(r)) ratios.push(r);
    }
  } finally {
    await replay.close();
  }
  const per = (s: keyof typeof totals) => (totals[s].q > 0 ? totals[s].cpu / totals[s].q : undefined);
  const sorted = [...ratios].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const ratio =
    sorted.length === 0
      ? undefined
      : sorted.length % 2
        ? sorted[Math.floor(mid)]
        : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const row = (server: keyof typeof totals): DnsPathRow => ({
    case: p.case,
    server,
    queries: totals[server].q,
    lost: totals[server].lost,
    qps: Math.round(totals[server].qps),
    cpuUsPerQuery: per(server),
  });
  return [
    row("node-replay"),
    {
      ...row("privlink"),
      vsReplay: ratio,
      rounds: ratios.map((r) => r.toFixed(2)).join(", "),
      goal: `≤ ${GOAL}× the replaying responder's CPU per query`,
      met: ratio !== undefined && ratio <= GOAL,
    },
  ];
}
