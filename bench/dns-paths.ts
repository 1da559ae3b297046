/**
 * Issue 15's DNS goal: CPU per query on every name path — the asking VPC's own endpoint names,
 * another VPC's endpoint names (answered through the public view), the public view, a private
 * hosted zone, a zone a FORWARD rule sends to a DNS server in the VPC — against a minimal Node
 * UDP responder that replays one prepared answer (ID patched), measured in the same run, both in
 * this process and loaded by dnsperf at the same fixed rate. CPU is read to the microsecond
 * (getrusage: user + system, the whole process) around each dnsperf run.
 *
 * Paired rounds: each round runs the two servers back to back, the order reversed every other
 * round, after one warm-up round of each; the ratio judged is the median of the rounds' ratios,
 * printed with its 95 % interval. Four rounds of 2 s read 1.15, 1.38, 1.00, 1.31 on one path in
 * a quiet run (7 Dec): a round that caught a neighbour's burst decided the median. Many short
 * rounds put each such round among many, and load that drifts over the run moves both sides of
 * a round alike. Each row says its goal (≤ 1.2× the responder's CPU per query) and whether the
 * median met it.
 */
import { execFile } from "node:child_process";
import dgram from "node:dgram";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import packet from "dns-packet";
import { startResolvers } from "../src/dns/resolvers.js";
import { literalLookup } from "../src/dns/server.js";
import { parseDnsperf } from "./dns.js";
import { buildDnsWorld, startForwardTarget } from "./dns-world.js";
import { spreadOf } from "./measure.js";
import { cpuUsOf } from "./replay.js";

export type DnsPathOptions = {
  /** Seconds of each server's dnsperf run in a round, 0.2–5 (default 1). */
  roundSec?: number;
  /** Names per path (default 200). */
  names?: number;
  /** Paired rounds per path, after a warm-up round (default 30). */
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
  /** The median of the rounds' CPU per query, µs, and its 95 % interval. */
  cpuUsPerQuery?: number;
  cpuLow?: number;
  cpuHigh?: number;
  /** privlink's CPU per query / the replaying responder's, same path, same run: the median of the rounds' ratios. */
  vsReplay?: number;
  /** The 95 % interval of that median. */
  ratioLow?: number;
  ratioHigh?: number;
  pairs?: number;
  /** Each round's ratio, in order. */
  rounds?: string;
  goal?: string;
  met?: boolean;
  note?: string;
};

const GOAL = 1.2;
/** Host-address slots for the benchmark's VPCs: far from the test bands. */
const SLOTS = { min: 240, max: 249 };
const PUBLIC = "127.0.0.252";
const REPLAY_HOST = "127.0.0.1";

/** CPU this process (both servers) has used, µs. */
const cpuUs = () => cpuUsOf(process.pid);

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
  const roundSec = Math.min(Math.max(opts.roundSec ?? 1, 0.2), 5);
  const rounds = Math.max(1, opts.rounds ?? 30);
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
    const run = { roundSec, rate, rounds };
    for (const p of paths) rows.push(...(await benchPath(bin, dir, dns.port, p, run)));
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

type Server = DnsPathRow["server"];

async function benchPath(
  bin: string,
  dir: string,
  port: number,
  p: { case: string; host: string; names: string[] },
  { roundSec, rate, rounds }: { roundSec: number; rate: number; rounds: number },
): Promise<DnsPathRow[]> {
  const file = join(dir, "queries.txt");
  await writeFile(file, p.names.map((n) => `${n} A\n`).join(""));
  // One answer of the path, as privlink prepared it: the bytes the baseline replays.
  const sample = await ask(p.host, port, p.names[0]!);
  for (const n of p.names) await ask(p.host, port, n);
  const replay = await startReplay(sample);
  const runOf = async (server: Server) => {
    const [host, to] = server === "privlink" ? [p.host, port] : [REPLAY_HOST, replay.port];
    const before = cpuUs();
    const m = await dnsperf(bin, [
      ...["-s", host, "-p", String(to), "-d", file, "-l", String(roundSec)],
      ...["-c", "1", "-q", "100", "-Q", String(rate), "-t", "2"],
    ]);
    const q = m.queriesCompleted ?? 0;
    return { q, lost: m.queriesLost ?? 0, qps: m.qps ?? 0, us: q ? (cpuUs() - before) / q : Number.NaN };
  };
  const runs: Record<Server, Awaited<ReturnType<typeof runOf>>[]> = { "node-replay": [], privlink: [] };
  try {
    // A warm-up round of each, not kept: the first queries at the rate run code the JIT has not settled.
    await runOf("node-replay");
    await runOf("privlink");
    for (let round = 0; round < rounds; round++) {
      const order: Server[] = round % 2 ? ["privlink", "node-replay"] : ["node-replay", "privlink"];
      for (const server of order) runs[server].push(await runOf(server));
    }
  } finally {
    await replay.close();
  }
  const ratios = runs.privlink.map((m, i) => m.us / runs["node-replay"][i]!.us);
  const ratio = spreadOf(ratios);
  const row = (server: Server): DnsPathRow => {
    const cpu = spreadOf(runs[server].map((m) => m.us));
    const sum = (f: (m: (typeof runs)[Server][number]) => number) =>
      runs[server].reduce((a, m) => a + f(m), 0);
    return {
      case: p.case,
      server,
      queries: sum((m) => m.q),
      lost: sum((m) => m.lost),
      qps: Math.round(sum((m) => m.qps) / Math.max(1, runs[server].length)),
      cpuUsPerQuery: cpu.n ? cpu.median : undefined,
      cpuLow: cpu.n ? cpu.low : undefined,
      cpuHigh: cpu.n ? cpu.high : undefined,
    };
  };
  return [
    row("node-replay"),
    {
      ...row("privlink"),
      ...(ratio.n
        ? { vsReplay: ratio.median, ratioLow: ratio.low, ratioHigh: ratio.high, pairs: ratio.n }
        : {}),
      rounds: ratios.map((r) => r.toFixed(2)).join(", "),
      goal: `≤ ${GOAL}× the replaying responder's CPU per query`,
      met: ratio.n > 0 && ratio.median <= GOAL,
    },
  ];
}
