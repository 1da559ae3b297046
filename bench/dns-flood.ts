/**
 * Issue 16: a DNS query flood does not starve the API. A normal SDK client's DescribeVpcs
 * latency (p50/p99) without DNS load, then while dnsperf sends up to `qps` queries a second
 * (default 50,000, UDP) to the same privlink's public resolver for `seconds` (default 10): the
 * resolver and the API edge share one event loop, so this is the figure that says how much a
 * flood costs the API. Both phases in the same run; the flood rate reached is reported, since a
 * loaded machine may not reach the asked rate. Skipped with a note without dnsperf.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { startPrivlink } from "../src/privlink.js";
import { runDnsperf } from "./dns.js";

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

export async function benchDnsFlood(opts: { qps?: number; seconds?: number; dnsperf?: string } = {}) {
  const qps = opts.qps ?? 50_000;
  const seconds = Math.min(Math.max(opts.seconds ?? 10, 1), 30);
  const dnsperf = opts.dnsperf ?? "/usr/bin/dnsperf";
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
    const flood = runDnsperf(dnsperf, [
      ...["-s", publicDns, "-p", String(p.dns.info().port), "-d", queries, "-l", String(seconds)],
      ...["-Q", String(qps), "-c", "4", "-q", "500", "-t", "1"],
    ]).finally(() => {
      flooding = false;
    });
    // Calls start once the flood runs, and only those that end while it still runs count.
    await new Promise((r) => setTimeout(r, 500));
    const loaded: number[] = [];
    while (flooding) {
      const ms = await describe();
      if (flooding) loaded.push(ms);
    }
    const dns = await flood;
    const [q, l] = [stats(quiet), stats(loaded)];
    return [
      { case: "DescribeVpcs, no DNS load", calls: quiet.length, p50Ms: q.p50, p99Ms: q.p99 },
      {
        case: `DescribeVpcs, DNS flood (asked ${qps} qps, ${seconds} s)`,
        calls: loaded.length,
        p50Ms: l.p50,
        p99Ms: l.p99,
        p50Factor: round(l.p50 / q.p50),
        p99Factor: round(l.p99 / q.p99),
        floodQps: dns.qps === undefined ? undefined : Math.round(dns.qps),
        floodLost: dns.queriesLost,
        note: dns.note,
      },
    ];
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
