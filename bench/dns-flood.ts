/**
 * Issue 16: a DNS query flood does not starve the API. A normal SDK client's DescribeVpcs
 * latency (p50/p99) without DNS load, then while dnsperf offers `qps` queries a second
 * (default 50,000, UDP) to the same privlink's public resolver for `seconds` (default 10): the
 * resolver and the API edge share one event loop, so this is the figure that says how much a
 * flood costs the API. Both phases in the same run. Skipped with a note without dnsperf.
 *
 * Offered is not answered. dnsperf sends only while fewer than `-q` queries are outstanding, so
 * with few outstanding (the earlier -q 500) the rate it asks is capped by how fast privlink
 * answers: that, not privlink, held the flood near 2,000 qps on a loaded machine. Here `-q`
 * covers `qps` × the timeout, so the offered rate does not wait for answers, and timeouts are
 * not printed (dnsperf printed one line per lost query and spent its time on that). Rows say
 * what was offered (queries sent a second) and what was answered; with unbound installed, the
 * same dnsperf options against unbound show what the driver itself reaches on this machine.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { startPrivlink } from "../src/privlink.js";
import { parseDnsperf, withUnbound } from "./dns.js";
import type { Row } from "./goals.js";

/** Names the public resolver answers itself (AWS services' public names): no forwarding. */
const NAMES = [
  "sts",
  "ec2",
  "secretsmanager",
  "logs",
  "monitoring",
  "ssm",
  "sns",
  "elasticloadbalancing",
].map((s) => `${s}.us-east-1.amazonaws.com`);

/** A query unanswered this long is lost: short, so the outstanding window stays small. */
const TIMEOUT_S = 0.5;
interface Flood {
  offeredQps?: number;
  answeredQps?: number;
  lost?: number;
  note?: string;
}

/** dnsperf at `qps` for `seconds` against host:port; what it offered and what came back. */
function flood(dnsperf: string, host: string, port: number, queries: string, qps: number, seconds: number) {
  const args = [
    ...["-s", host, "-p", String(port), "-d", queries, "-l", String(seconds)],
    ...["-Q", String(qps), "-c", "4", "-T", "2", "-t", String(TIMEOUT_S)],
    ...["-q", String(Math.ceil(qps * TIMEOUT_S * 1.2))],
    ...["-O", "suppress=timeout,congestion,sendfailed,sockready,unexpected"],
  ];
  return new Promise<Flood>((resolve) => {
    execFile(dnsperf, args, { timeout: (seconds + 30) * 1000, maxBuffer: 16 * 1024 * 1024 }, (err, out) => {
      const m = parseDnsperf(out ?? "");
      const sent = Number(/Queries sent:\s+(\d+)/.exec(out ?? "")?.[1]);
      const runS = Number(/Run time \(s\):\s+([\d.]+)/.exec(out ?? "")?.[1]);
      if (m.qps === undefined || !sent || !runS)
        return resolve({ note: `dnsperf failed: ${String(err ?? "no statistics").slice(0, 300)}` });
      resolve({ offeredQps: Math.round(sent / runS), answeredQps: Math.round(m.qps), lost: m.queriesLost });
    });
  });
}

export async function benchDnsFlood(
  opts: { qps?: number; seconds?: number; dnsperf?: string; unbound?: string } = {},
): Promise<Row[]> {
  const qps = opts.qps ?? 50_000;
  const seconds = Math.min(Math.max(opts.seconds ?? 10, 1), 30);
  const dnsperf = opts.dnsperf ?? "/usr/bin/dnsperf";
  const unbound = opts.unbound ?? "/usr/sbin/unbound";
  if (!existsSync(dnsperf)) return [{ case: "dns flood", note: `skipped: ${dnsperf} not installed` }];
  const home = mkdtempSync(join(tmpdir(), "privlink-bench-dnsflood-"));
  const publicDns = "127.0.253.19";
  const p = await startPrivlink({ port: 0, home, auth: "open", slots: { min: 200, max: 254 }, publicDns });
  const ec2 = new EC2Client({
    endpoint: p.url,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });
  const describe = async () => {
    const t = performance.now();
    await ec2.send(new DescribeVpcsCommand({}));
    return performance.now() - t;
  };
  try {
    const queries = join(home, "queries.txt");
    writeFileSync(queries, NAMES.map((n) => `${n} A\n`).join(""));
    for (let i = 0; i < 20; i++) await describe();
    const quiet: number[] = [];
    for (let i = 0; i < 200; i++) quiet.push(await describe());
    let flooding = true;
    const running = flood(dnsperf, publicDns, p.dns.info().port, queries, qps, seconds).finally(() => {
      flooding = false;
    });
    // Calls start once the flood runs, and only those that end while it still runs count.
    await new Promise((r) => setTimeout(r, 500));
    const loaded: number[] = [];
    let failed = 0;
    while (flooding) {
      const ms = await describe().catch(() => {
        failed++;
        return undefined;
      });
      if (flooding && ms !== undefined) loaded.push(ms);
    }
    const dns = await running;
    const [q, l] = [stats(quiet), stats(loaded)];
    const rows: Row[] = [
      { case: "DescribeVpcs, no DNS load", calls: quiet.length, p50Ms: q.p50, p99Ms: q.p99 },
      {
        case: `DescribeVpcs, DNS flood (asked ${qps} qps, ${seconds} s)`,
        calls: loaded.length,
        failed,
        p50Ms: l.p50,
        p99Ms: l.p99,
        p50Factor: round(l.p50 / q.p50),
        p99Factor: round(l.p99 / q.p99),
        ...dns,
      },
    ];
    // The driver's own reach on this machine: the same options against unbound.
    if (existsSync(unbound)) {
      const records = NAMES.map((name) => ({ name, address: "52.94.0.1" }));
      const ref = await withUnbound(unbound, home, "amazonaws.com", records, (host, port) =>
        flood(dnsperf, host, port, queries, qps, Math.min(seconds, 5)),
      );
      rows.push({ case: `dnsperf alone against unbound (asked ${qps} qps)`, ...ref });
    }
    return rows;
  } finally {
    ec2.destroy();
    await p.close();
    rmSync(home, { recursive: true, force: true });
  }
}

function stats(ms: number[]): { p50: number; p99: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (f: number) => round(s[Math.min(s.length - 1, Math.floor(s.length * f))] ?? Number.NaN);
  return { p50: at(0.5), p99: at(0.99) };
}

const round = (n: number) => Math.round(n * 100) / 100;
