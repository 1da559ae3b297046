/**
 * Issue 19 (several hosts): a flow across two agents against a flow within one, same run, same
 * store, same hosts (bench/agents-world.ts). The echo endpoint's VPC is placed on host b; the
 * target runs on b. "within one" is a workload on b (b's listener admits and relays); "across
 * two" is the same workload on a (a's listener carries the flow through the tunnel to b, which
 * admits and relays). Connection set-up: connect() until the first echoed byte, from a client
 * process of its own under `ip netns exec`, in paired rounds (both paths back to back, the order
 * alternating): the ratio is the median of the rounds' ratios, with their spread beside it.
 * Throughput: one connection echoing `bytes` both ways. Bounded in count and time. Root only.
 */

import { Leases } from "../src/store/leases.js";
import { hostsMissing, makeTwoHosts } from "./agents-world.js";
import { median, medianInterval, percentile } from "./measure.js";
import { startNetWorld } from "./net-world.js";
import { client } from "./netns.js";
import { startPostgres } from "./postgres.js";

/** Paired rounds of set-up samples (each path's samples split evenly over them). */
const ROUNDS = 10;

const sortedCopy = (xs: number[]): number[] => [...xs].sort((x, y) => x - y);

/** The target on host b: echoes every byte. */
const ECHO = `require("node:net").createServer({ allowHalfOpen: true }, (s) => s.pipe(s)).listen(Number(process.argv[1]), "127.0.0.1")`;

/** One connection sending N bytes and reading them back; prints MB/s one way. */
const THROUGHPUT = `
const net = require("node:net");
const [host, port, from, n] = process.argv.slice(1);
const total = Number(n); const chunk = Buffer.alloc(256 * 1024, 120);
const t0 = process.hrtime.bigint(); let got = 0; let sent = 0;
const s = net.connect({ host, port: Number(port), localAddress: from, allowHalfOpen: true });
const pump = () => { while (sent < total) { sent += chunk.length; if (!s.write(chunk)) return s.once("drain", pump); } s.end(); };
s.on("connect", pump);
s.on("data", (d) => { got += d.length; });
s.on("error", (e) => { console.error(e.message); process.exit(1); });
s.on("close", () => { const sec = Number(process.hrtime.bigint() - t0) / 1e9; console.log(JSON.stringify(got / sec / 1e6)); });
`;

export async function benchAgents(
  opts: { samples?: number; seconds?: number; bytes?: number } = {},
): Promise<Record<string, unknown>[]> {
  const missing = hostsMissing();
  if (missing) return [{ case: "(all)", note: `skipped: ${missing}` }];
  const samples = opts.samples ?? 600;
  const bytes = opts.bytes ?? 256 * 1024 * 1024;
  const seconds = opts.seconds ?? 30;
  const pgs = await startPostgres();
  const hosts = makeTwoHosts(`plb${process.pid % 100_000}`);
  let close: (() => Promise<void>) | undefined;
  let leases: Leases | undefined;
  try {
    const url = await pgs.createDatabase();
    await hosts.startAgent("b", pgs.socketUrl(url), 5);
    const world = await startNetWorld({ store: url, slots: { min: 200, max: 239 } });
    close = world.close;
    hosts.spawn("b", [process.execPath, "-e", ECHO, String(world.echoTarget.port)]);
    leases = await Leases.open(url);
    for (let i = 0; (await leases.view()).placements.get(world.vpcId)?.agent !== "b"; i++) {
      if (i > 300) throw new Error("the VPC was not placed on b");
      await new Promise((r) => setTimeout(r, 100));
    }
    await hosts.startAgent("a", pgs.socketUrl(url), 5);
    const ns = {
      within: ["ip", "netns", "exec", hosts.hosts.b.ns],
      across: ["ip", "netns", "exec", hosts.hosts.a.ns],
    };
    const sample = (via: keyof typeof ns, n: number) =>
      client(ns[via], world.echo.host, world.echo.port, world.workloadHost, n);
    // Both paths answer before anything is timed (listeners bound, target healthy, placement read).
    for (const via of ["within", "across"] as const)
      for (let i = 0; ; i++) {
        if (
          await sample(via, 1).then(
            () => true,
            () => false,
          )
        )
          break;
        if (i > 200) throw new Error(`no flow ${via}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    // Paired rounds: each round times both paths back to back (every other round across first)
    // and yields the ratio of their medians; the verdict is the median of those ratios, so a
    // burst of load on the shared machine moves one round's pair, not one path's pooled samples.
    const times = { within: [] as number[], across: [] as number[] };
    const ratios: number[] = [];
    const round = Math.max(10, Math.floor(samples / ROUNDS));
    // The time limit counts from here: on a loaded machine the set-up above (PostgreSQL, two
    // agents, placement) took most of it, and rounds are what the verdict needs. At least two.
    const deadline = Date.now() + seconds * 1000;
    while (times.across.length < samples && (ratios.length < 2 || Date.now() < deadline)) {
      const got = { within: [] as number[], across: [] as number[] };
      const order =
        ratios.length % 2 === 0 ? (["within", "across"] as const) : (["across", "within"] as const);
      for (const via of order) got[via] = await sample(via, round);
      times.within.push(...got.within);
      times.across.push(...got.across);
      ratios.push(median(sortedCopy(got.across)) / median(sortedCopy(got.within)));
    }
    const mbps = { within: [] as number[], across: [] as number[] };
    for (let i = 0; i < 3; i++)
      for (const via of ["within", "across"] as const) {
        const out = await hosts.run(
          via === "within" ? "b" : "a",
          [
            process.execPath,
            "-e",
            THROUGHPUT,
            world.echo.host,
            String(world.echo.port),
            world.workloadHost,
            String(bytes),
          ],
          undefined,
          120_000,
        );
        mbps[via].push(JSON.parse(out) as number);
      }
    const row = (via: keyof typeof times) => {
      const sorted = [...times[via]].sort((x, y) => x - y);
      const rates = [...mbps[via]].sort((x, y) => x - y);
      return {
        case: via === "within" ? "within one agent" : "across two agents",
        samples: sorted.length,
        p50Us: percentile(sorted, 50),
        p99Us: percentile(sorted, 99),
        mbPerS: rates[1]!,
      };
    };
    const base = row("within");
    const across = row("across");
    const sorted = sortedCopy(ratios);
    const [lo, hi] = medianInterval(sorted);
    return [
      { ...base, vsWithinSetup: 1, vsWithinThroughput: 1 },
      {
        ...across,
        vsWithinSetup: Number(median(sorted).toFixed(3)),
        // The 95 % interval of that median, the rounds' range, and the pooled medians' ratio
        // (the figure before paired rounds).
        setupInterval: `${lo.toFixed(2)}–${hi.toFixed(2)}`,
        setupRounds: `${sorted.length}: ${sorted[0]!.toFixed(2)}–${sorted.at(-1)!.toFixed(2)}`,
        pooledSetup: Number((across.p50Us / base.p50Us).toFixed(3)),
        vsWithinThroughput: Number((across.mbPerS / base.mbPerS).toFixed(3)),
      },
    ];
  } finally {
    await close?.().catch(() => undefined);
    hosts.close();
    await leases?.close();
    await pgs.stop();
  }
}
