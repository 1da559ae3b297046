/**
 * Ratios and issue goals over benchmark rows, for the runner (bench/run.ts): rows are plain
 * records, as each benchmark makes them; the data-plane ones are {case, via, value}.
 */

export type Row = Record<string, unknown>;

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

export function hasRatio(rows: Row[]): boolean {
  return rows.some((r) => Object.keys(r).some((k) => /^(vs|ratio)[A-Z]/.test(k)));
}

export function ratioToFirst(rows: Row[], metric: string, column: string): Row[] {
  const base = num(rows[0]?.[metric]);
  if (!base) return rows;
  return rows.map((r) => (num(r[metric]) === undefined ? r : { ...r, [column]: num(r[metric])! / base }));
}

/** value / the value of the same case through `via`, for rows shaped {case, via, value}. */
export function ratioToVia(rows: Row[], via: string, column: string): Row[] {
  return rows.map((r) => {
    const base = rows.find((b) => b.case === r.case && b.via === via);
    const [v, b] = [num(r.value), num(base?.value)];
    return v === undefined || !b || column in r ? r : { ...r, [column]: v / b };
  });
}

function valuesOf(
  rows: Row[],
  via: string,
  match: (c: string) => boolean,
): { case: string; value: number }[] {
  return rows
    .filter((r) => r.via === via && typeof r.case === "string" && match(r.case) && num(r.value) !== undefined)
    .map((r) => ({ case: r.case as string, value: r.value as number }));
}

const fmt = (n: number, digits = 2) => n.toFixed(digits);
const verdict = (ok: boolean) => (ok ? "met" : "NOT met");

/** Issue 4: throughput ≥ HAProxy's, connection rate ≥ 0.8× HAProxy's, added p99 ≤ 2× HAProxy's. */
export function issue4Goals(rows: Row[]): string[] {
  const subject = rows.some((r) => r.via === "endpoint") ? "endpoint" : "relay";
  if (!rows.some((r) => r.via === "haproxy" && num(r.value) !== undefined))
    return ["goals (issue 4): not measured — no HAProxy rows in this run"];
  const lines: string[] = [];
  const compare = (
    what: string,
    match: (c: string) => boolean,
    test: (s: number, h: number) => boolean,
    show: (s: number, h: number) => string,
    goal: string,
  ) => {
    const mine = valuesOf(rows, subject, match);
    const theirs = valuesOf(rows, "haproxy", match);
    const pairs = mine
      .map((m) => ({ case: m.case, s: m.value, h: theirs.find((t) => t.case === m.case)?.value }))
      .filter((p): p is { case: string; s: number; h: number } => p.h !== undefined);
    if (pairs.length === 0) {
      lines.push(`goal: ${goal} — measured: no ${what} rows`);
      return;
    }
    const short = (c: string) => c.replace(/^throughput /, "");
    const measured = pairs.map((p) => `${short(p.case)}: ${show(p.s, p.h)}`).join("; ");
    lines.push(`goal: ${goal} — measured: ${measured} — ${verdict(pairs.every((p) => test(p.s, p.h)))}`);
  };
  const ratio = (s: number, h: number) => `${fmt(s / h)}× HAProxy`;
  compare(
    "throughput",
    (c) => c.startsWith("throughput"),
    (s, h) => s >= h,
    ratio,
    `${subject} throughput ≥ HAProxy's`,
  );
  compare(
    "connection-rate",
    (c) => c.startsWith("new connections/s"),
    (s, h) => s >= 0.8 * h,
    ratio,
    `${subject} connection rate ≥ 0.8× HAProxy's`,
  );
  const added = addedP99(rows, subject);
  const theirs = addedP99(rows, "haproxy");
  if (added === undefined || theirs === undefined)
    lines.push("goal: added p99 ≤ 2× HAProxy's — measured: no p99 rows with a direct baseline");
  else
    lines.push(
      `goal: ${subject} added p99 ≤ 2× HAProxy's — measured: ${fmt(added, 0)} µs vs HAProxy ${fmt(theirs, 0)} µs (${fmt(added / theirs)}×) — ${verdict(added <= 2 * theirs)}`,
    );
  return lines;
}

/** Issue 15's CPU figure: the subject's CPU per connection over node-pipe's, median of paired rounds. */
export const PAIRED_RATIO_CASE = "proxy CPU per connection ÷ node-pipe's (paired rounds)";

/**
 * Issue 15 item 4: CPU per new connection through the subject (endpoint or relay) ≤ 1.15× that of
 * a minimal Node socket.pipe relay measured in the same run; added p99 ≤ 1.5× HAProxy's, with
 * each path's own p99.9 reported beside it (GC pauses show there first).
 */
export function connectionCpuGoals(rows: Row[]): string[] {
  const subject = rows.some((r) => r.via === "endpoint") ? "endpoint" : "relay";
  const one = (via: string, c: string) => valuesOf(rows, via, (x) => x === c)[0]?.value;
  const cpu = (via: string) => one(via, "proxy CPU per connection");
  const [mine, pipe] = [cpu(subject), cpu("node-pipe")];
  // Rounds of the two alternate in pairs: the median of the pairs' ratios (bench/traffic.ts).
  const paired = one(subject, PAIRED_RATIO_CASE);
  const lines: string[] = [];
  lines.push(
    mine === undefined || pipe === undefined
      ? `goal (issue 15): ${subject} CPU per connection ≤ 1.15× node-pipe's — measured: no node-pipe rows in this run`
      : `goal (issue 15): ${subject} CPU per connection ≤ 1.15× a minimal Node socket.pipe relay's — measured: ${fmt(mine, 0)} µs vs node-pipe ${fmt(pipe, 0)} µs (${paired === undefined ? `${fmt(mine / pipe)}×` : `${fmt(paired)}×, median of paired rounds`}) — ${verdict((paired ?? mine / pipe) <= 1.15)}`,
  );
  // The in-process endpoint's latency case is watched (bench/endpoint.ts latencyWatched).
  const watched = (via: string) => {
    const late = rows.find(
      (r) => r.via === via && r.case === "event-loop ticks late outside a scavenge (latency case)",
    );
    const gcs = one(via, "scavenges per 1,000 connections (latency case)");
    return late === undefined || gcs === undefined
      ? ""
      : `; ${via}'s event loop: ${String(late.note ?? `${late.value} late ticks outside a scavenge`)}; ${fmt(gcs, 1)} scavenges per 1,000 connections`;
  };
  // Each path's own p99/p99.9 beside those of the direct connections made between its own: a
  // difference of two p99.9s (each the ~3rd-worst of ~3,000 samples) is noise and can be < 0.
  const own = (via: string) => {
    const at = (c: string) => fmt(one(via, c) ?? Number.NaN, 0);
    const [e, d] = ["connect+1-byte echo", "connect+1-byte echo, direct between them"];
    return `${via} ${at(`${e}, p99`)}/${at(`${e}, p99.9`)} µs (direct ${at(`${d}, p99`)}/${at(`${d}, p99.9`)})`;
  };
  const [p99, theirs] = [addedP99(rows, subject), addedP99(rows, "haproxy")];
  const goal = `goal (issue 15): ${subject} added p99 ≤ 1.5× HAProxy's (p99 through it − p99 of the direct connections between its own)`;
  lines.push(
    p99 === undefined || theirs === undefined
      ? `${goal} — measured: no p99 rows with a direct baseline`
      : `${goal} — measured: added p99 ${subject} ${fmt(p99, 0)} µs, HAProxy ${fmt(theirs, 0)} µs (${fmt(p99 / theirs)}×); p99/p99.9 ${["node-pipe", "haproxy", subject].map(own).join(", ")}${watched(subject)} — ${verdict(p99 <= 1.5 * theirs)}`,
  );
  return lines;
}

/** The connect latency p99 `via` adds over direct loopback: its own row, or the difference. */
function addedP99(rows: Row[], via: string): number | undefined {
  const own = valuesOf(rows, via, (c) => c === "added connect latency, p99")[0];
  if (own) return own.value;
  const p99 = (v: string) => valuesOf(rows, v, (c) => c.startsWith("connect+1-byte echo, p99"))[0]?.value;
  const [mine, direct] = [p99(via), p99("direct")];
  return mine !== undefined && direct !== undefined ? mine - direct : undefined;
}

/** Issue 5: the VPC resolver answers at least as many queries per second as unbound. */
export function dnsVpcGoals(rows: Row[]): string[] {
  const qps = (server: string) => num(rows.find((r) => r.server === server)?.qps);
  const [mine, theirs] = [qps("privlink-vpc"), qps("unbound")];
  if (mine === undefined || theirs === undefined)
    return [
      "goal (issue 5): VPC resolver qps ≥ unbound's — not measured (dnsperf or unbound missing, see notes)",
    ];
  return [
    `goal: VPC resolver qps ≥ unbound's — measured: ${fmt(mine, 0)} vs ${fmt(theirs, 0)} qps (${fmt(mine / theirs)}×) — ${verdict(mine >= theirs)}`,
  ];
}

/** One line per goal of issue 13. */
export function analyzeGoals(rows: Row[]): string[] {
  const access = rows.filter((r) => r.case === "access").map((r) => r.ms as number);
  const why = rows.find((r) => r.case === "why (admin request)");
  const cli = rows.find((r) => r.case === "why (privlink why process)");
  const out: string[] = [];
  if (access.length) {
    const best = Math.min(...access);
    out.push(
      `goal: access over 100 VPCs × 1,000 endpoints < 2000 ms; measured: ${best.toFixed(0)} ms (best run): ${best < 2000 ? "met" : "not met"}`,
    );
  }
  if (why)
    out.push(
      `goal: one why < 50 ms end to end; measured: ${(why.p50 as number).toFixed(1)} ms p50 as a request to the server: ${(why.p50 as number) < 50 ? "met" : "not met"}` +
        (cli
          ? `; the whole privlink why process takes ${(cli.p50 as number).toFixed(0)} ms p50 (node start-up alone ${(cli.baseP50 as number).toFixed(0)} ms)`
          : ""),
    );
  return out;
}

/** The start-up goal: a client command costs about what Node's own start-up costs. */
export function cliStartupGoals(rows: Row[]): string[] {
  const p50 = (c: string) => num(rows.find((r) => r.case === c)?.p50);
  const node = p50("node -e 0 (baseline)");
  const why = p50("privlink why app secretsmanager");
  const whole = p50("import privlink.ts (old client cost)");
  if (node === undefined || why === undefined) return ["goal: client start-up — not measured"];
  const over = why - node;
  const lines = [
    `goal: one why < 50 ms end to end (start-up part: what privlink adds to node's own start-up); measured: privlink why ${why.toFixed(0)} ms p50, node -e 0 ${node.toFixed(0)} ms, privlink adds ${over.toFixed(0)} ms (loading privlink.ts alone took ${whole?.toFixed(0) ?? "?"} ms): ${over < 50 ? "met" : "NOT met"}`,
  ];
  // Issue 15: each subcommand's whole process, start to exit (it fails at its first request).
  for (const r of rows) {
    const ms = num(r.p50);
    if (typeof r.case !== "string" || !r.case.startsWith("privlink ") || ms === undefined) continue;
    lines.push(
      `goal: ${r.case} ≤ 250 ms — measured: ${ms.toFixed(0)} ms p50 (node -e 0: ${node.toFixed(0)} ms, privlink adds ${(ms - node).toFixed(0)} ms) — ${verdict(ms <= 250)}`,
    );
  }
  return lines;
}

/** Issue 15, item 5: `privlink up` to healthy, rows carrying their goal in ms. */
export function coldStartGoals(rows: Row[]): string[] {
  const node = num(rows.find((r) => r.case === "node -e 0 (baseline)")?.p50);
  return rows
    .filter((r) => num(r.goalMs) !== undefined && num(r.p50) !== undefined)
    .map((r) => {
      const [ms, goal] = [r.p50 as number, r.goalMs as number];
      const cpu =
        num(r.cpuP50) === undefined ? "" : `, the server's CPU ${(r.cpuP50 as number).toFixed(0)} ms`;
      const from = typeof r.note === "string" ? `; ${r.note}` : "";
      return `goal: ${r.case} to a healthy /_privlink/health ≤ ${goal} ms — measured: ${ms.toFixed(0)} ms p50 over ${r.runs} runs (node -e 0: ${node?.toFixed(0) ?? "?"} ms${cpu}${from}) — ${verdict(ms <= goal)}`;
    });
}

/** Issue 12: GetMetricData over 15 days of 1-minute data for 100 endpoints answers in under 100 ms. */
export function metricsGoals(rows: Row[]): string[] {
  return rows
    .filter(
      (r) => typeof r.case === "string" && r.case.startsWith("GetMetricData") && num(r.p50) !== undefined,
    )
    .map((r) => {
      const p50 = r.p50 as number;
      const cpu = num(r.cpuP50) === undefined ? "" : `, CPU ${(r.cpuP50 as number).toFixed(1)} ms p50`;
      return `goal: ${r.case} < 100 ms; measured: ${p50.toFixed(1)} ms p50${cpu} (${r.points} datapoints): ${verdict(p50 < 100)}`;
    });
}

/**
 * A median's 95 % interval for a goal line ("a–b"), and whether the run decided against `goal`:
 * a run whose interval holds the goal says so beside its verdict (read on the median).
 */
function interval(
  low: unknown,
  high: unknown,
  show: (n: number) => string,
  goal?: number,
): { text: string; undecided: string } {
  const [lo, hi] = [num(low), num(high)];
  if (lo === undefined || hi === undefined) return { text: "", undecided: "" };
  const open = goal !== undefined && lo <= goal && goal < hi;
  return {
    text: `${show(lo)}–${show(hi)}`,
    undecided: open ? " (the goal lies inside the interval: this run does not decide it)" : "",
  };
}

/**
 * Issue 15's API goals (bench/api-cpu.ts): each row carries its goal in µs of server CPU. A
 * Describe's is the median of its paired rounds, judged on the median, its 95 % interval and the
 * bare server's figure of the same rounds beside it.
 */
export function apiCpuGoals(rows: Row[]): string[] {
  return rows
    .filter((r) => num(r.serverUs) !== undefined && num(r.goalUs) !== undefined)
    .map((r) => {
      const at = num(r.endpoints) ? ` at ${(r.endpoints as number).toLocaleString("en-US")} endpoints` : "";
      // One decimal below 100 µs: the verdict is on the unrounded figure, and "20 µs — NOT met" misleads.
      const micros = (n: number) => fmt(n, n < 100 ? 1 : 0);
      const us = r.serverUs as number;
      const spread = interval(r.serverLow, r.serverHigh, micros, r.goalUs as number);
      const bare = interval(r.ceilingLow, r.ceilingHigh, micros);
      const ratio = interval(r.vsCeilingLow, r.vsCeilingHigh, (n) => fmt(n));
      // The pooled figure (all rounds' CPU over their requests) holds what a median leaves out.
      const pooled = num(r.pooledUs) ? `; all rounds pooled ${micros(r.pooledUs as number)} µs` : "";
      const median = num(r.rounds)
        ? ` (median of ${r.rounds} paired rounds, 95 % interval ${spread.text} µs${pooled})`
        : "";
      const base = num(r.ceilingUs)
        ? `; bare node:http replaying the answer ${micros(r.ceilingUs as number)} µs${bare.text ? ` (${bare.text})` : ""}, privlink ${fmt(num(r.vsCeiling) ?? us / (r.ceilingUs as number))}× of it${ratio.text ? ` (${ratio.text})` : ""}`
        : "";
      return `goal (issue 15): ${r.case}${at} ≤ ${r.goalUs} µs of server CPU — measured: ${micros(us)} µs${median}${base} — ${verdict(r.met === true)}${spread.undecided}`;
    });
}

const GOAL_VS_REPLAY = 1.2;

/**
 * Issue 15's DNS goal (bench/dns-paths.ts): CPU per query on each name path against a replaying
 * responder, judged on the median of the paired rounds' ratios, with its 95 % interval.
 */
export function dnsPathGoals(rows: Row[]): string[] {
  const mine = rows.filter((r) => r.server === "privlink" && num(r.cpuUsPerQuery) !== undefined);
  if (mine.length === 0)
    return ["goal (issue 15): DNS CPU per query on every name path — not measured (see notes)"];
  return mine.map((r) => {
    const base = rows.find((b) => b.case === r.case && b.server === "node-replay");
    const ratio = num(r.vsReplay);
    const spread = interval(r.ratioLow, r.ratioHigh, (n) => fmt(n), GOAL_VS_REPLAY);
    const rounds = num(r.pairs) ? ` of ${r.pairs} paired rounds` : "";
    const measured =
      ratio === undefined
        ? "no baseline"
        : `${fmt(r.cpuUsPerQuery as number, 1)} µs vs ${fmt(base?.cpuUsPerQuery as number, 1)} µs (median${rounds} ${fmt(ratio)}×${spread.text ? `, 95 % interval ${spread.text}×` : ""})`;
    return `goal (issue 15): DNS ${r.case} ≤ ${GOAL_VS_REPLAY}× a minimal Node UDP responder's CPU per query — measured: ${measured} — ${verdict(r.met === true)}${spread.undecided}`;
  });
}

/** Issue 19, several hosts: the targets docs/agents.md states (one tunnel hop costs at most one more relay). */
export function agentGoals(rows: Row[]): string[] {
  const across = rows.find((r) => r.case === "across two agents");
  if (typeof across?.vsWithinSetup !== "number" || typeof across.vsWithinThroughput !== "number") return [];
  const setup = across.vsWithinSetup;
  const rate = across.vsWithinThroughput;
  return [
    `goal: connection set-up across two agents at most ×2.0 of within one; measured: median ×${setup.toFixed(3)}: ${setup <= 2 ? "met" : "NOT met"}`,
    `goal: throughput across two agents at least ×0.5 of within one; measured: ×${rate.toFixed(3)}: ${rate >= 0.5 ? "met" : "NOT met"}`,
  ];
}
/** How far the API may slow under a DNS flood and still count as served, not starved. */
const STARVED_FACTOR = 10;

/**
 * Issue 16's DNS flood (bench/dns-flood.ts): the API is served under the flood (every call
 * answered, p99 within STARVED_FACTOR× of without), and whether the flood offered the asked rate
 * (≥ 90 %) on this machine, said apart since a loaded machine may not.
 */
export function dnsFloodGoals(rows: Row[]): string[] {
  const r = rows.find((x) => String(x.case).includes("DNS flood"));
  const ref = rows.find((x) => String(x.case).startsWith("dnsperf alone"));
  if (!r || typeof r.p99Factor !== "number" || typeof r.offeredQps !== "number")
    return [
      `goal (issue 16): API not starved under a 50,000 qps DNS flood — not measured (${r?.note ?? "no flood row"})`,
    ];
  const asked = Number(/asked (\d+)/.exec(String(r.case))?.[1]);
  const reached = r.offeredQps >= 0.9 * asked;
  const served = r.failed === 0 && (r.calls as number) > 0 && r.p99Factor <= STARVED_FACTOR;
  const driver =
    ref?.answeredQps === undefined ? "" : `; dnsperf alone reaches ${ref.answeredQps} qps against unbound`;
  return [
    `goal (issue 16): API not starved under a ${asked} qps DNS flood (every call answered, p99 ≤ ${STARVED_FACTOR}× of without) — measured: offered ${r.offeredQps} qps, privlink answered ${r.answeredQps} qps, DescribeVpcs p50 ${r.p50Factor}× p99 ${r.p99Factor}×, ${r.calls} calls, ${r.failed} failed${driver} — ${served ? "met" : "NOT met"}${reached ? "" : ` (flood offered only ${Math.round((100 * r.offeredQps) / asked)} % of the asked rate on this machine)`}`,
  ];
}

/** Issue 15 item 3: each case through the endpoint ≥ 0.9× raw loopback, CPU per GiB shown. */
export function bulkGoals(rows: Row[]): string[] {
  return rows
    .filter((r) => r.via === "endpoint" && typeof r.vsDirect === "number")
    .map((r) => {
      const ratio = r.vsDirect as number;
      const haproxy = rows.find((h) => h.case === r.case && h.via === "haproxy-128k");
      // Raw loopback is the iperf3 ends on two cores, as in the proxied rows (bench/bulk.ts).
      const oneCore = rows.find((h) => h.case === r.case && h.via === "direct-1cpu");
      const alsoOneCore = oneCore ? `; raw with both ends on one core: ${oneCore.value} Gbit/s` : "";
      // The ratio read per placement of the two vCPUs, which moves raw loopback (bench/placement.ts).
      const places = (["near", "far"] as const).flatMap((p) => {
        const x = r[`vsDirect_${p}`];
        return typeof x === "number" ? [{ p, ratio: x, pairs: r[`pairs_${p}`] as number }] : [];
      });
      const shown = places.map((x) => `vCPUs ${x.p} ×${fmt(x.ratio)} (${x.pairs})`);
      const spread =
        typeof r.ratioLow === "number"
          ? ` (median of ${r.pairs} paired rounds, 95 % interval ×${fmt(r.ratioLow)}–×${fmt(r.ratioHigh as number)}${shown.length ? `; ${shown.join(", ")}` : ""})`
          : "";
      // Raw loopback has one figure per placement, and a run's share of each is the host's: the
      // goal holds only if it holds over all pairs and in each placement with pairs enough to read.
      const judged = places.filter((x) => x.pairs >= MIN_PAIRS_PER_PLACEMENT);
      const ok = ratio >= 0.9 && judged.every((x) => x.ratio >= 0.9);
      const by = judged.length ? ` (over all pairs and vCPUs ${judged.map((x) => x.p).join(", ")})` : "";
      return (
        `goal (issue 15): endpoint ${r.case} ≥ 0.9× raw loopback — measured: ×${ratio.toFixed(2)}${spread} ` +
        `(${r.value} Gbit/s; ${r.cpuMsPerGiB} ms CPU/GiB; HAProxy 128k ×${((haproxy?.vsDirect as number) ?? 0).toFixed(2)}, ${haproxy?.cpuMsPerGiB} ms/GiB${alsoOneCore}) — ${verdict(ok)}${by}`
      );
    });
}

/** Paired rounds in one placement of the vCPUs below which that placement's ratio is not judged. */
const MIN_PAIRS_PER_PLACEMENT = 3;

/**
 * Issue 19: namespace mode costs about what loopback mode costs through the same endpoint — one
 * veth hop in the kernel, nothing more in privlink's process: set-up within 10 % (p50) and
 * throughput at least 90 % of loopback's, both measured in the same run.
 */
export function netnsGoals(rows: Row[]): string[] {
  const at = (c: string) => rows.find((r) => r.case === c && r.via === "netns");
  const setup = num(at("connection set-up")?.vsLoopback);
  const tput = num(at("throughput")?.vsLoopback);
  if (setup === undefined || tput === undefined)
    return [`goal: namespace mode vs loopback — not measured${rows[0]?.note ? ` (${rows[0].note})` : ""}`];
  return [
    `goal: connection set-up in namespace mode ≤ ×1.10 of loopback — measured: p50 ×${setup.toFixed(3)} — ${verdict(setup <= 1.1)}`,
    `goal: throughput in namespace mode ≥ ×0.90 of loopback — measured: p50 ×${tput.toFixed(3)} — ${verdict(tput >= 0.9)}`,
  ];
}

/**
 * Issue 12: metering (counters, CloudWatch, a flow log) loses at most 5 % of throughput and of
 * the connection rate; the CPU per GiB and per connection, steadier on a loaded machine, at
 * most 5 % more.
 */
export function meteringGoals(rows: Row[]): string[] {
  const hooks = rows.find((r) => typeof r.shareOfConnection === "number");
  const share = hooks && (hooks.shareOfConnection as number);
  const steady =
    share === undefined
      ? []
      : [
          `goal (issue 12): metering's own CPU ≤ 5 % of a connection's through the endpoint — measured: ${fmt(hooks!.value as number)} µs of ${fmt((hooks!.value as number) / share, 0)} µs (${fmt(share * 100, 1)} %) — ${verdict(share <= 0.05)}`,
        ];
  return [
    ...steady,
    ...rows
      .filter((r) => typeof r.onVsOff === "number" && r.via === "metering on")
      .map((r) => {
        const ratio = r.onVsOff as number;
        const rate = r.unit === "MiB/s" || r.unit === "conn/s";
        const ok = rate ? ratio >= 0.95 : ratio <= 1.05;
        // The median's 95 % interval over the run's pairs: whether this run can tell met from not.
        const spread =
          typeof r.ratioLow === "number" && typeof r.ratioHigh === "number"
            ? ` (95 % interval ×${fmt(r.ratioLow, 3)}–×${fmt(r.ratioHigh, 3)}, ${r.pairs} pairs)`
            : "";
        return rate
          ? `goal (issue 12): ${r.case} loses at most 5 % to metering — measured: ×${fmt(ratio, 3)} of unmetered${spread} — ${verdict(ok)}`
          : `goal (issue 12): ${r.case} grows at most 5 % with metering — measured: ×${fmt(ratio, 3)} of unmetered${spread} — ${verdict(ok)}`;
      }),
  ];
}

/**
 * Issue 11: S3 PUT and GET of 64 MiB objects through an S3 interface endpoint at ≥ 0.8× the
 * same client against the edge (bench/s3.ts), and a streamed upload that never holds the
 * object (≤ 64 MiB of RSS growth, the bar issue 11 sets for a 5 GiB object). The edge judged is
 * S3's public name over HTTPS (`edge-tls`): an endpoint speaks only HTTPS, as AWS's S3 edge does,
 * so that is the same client doing the same protocol work but for the endpoint path. The
 * plain-HTTP edge's figure and ratio are printed on the same line (TLS's own cost shows there).
 */
export function s3Goals(rows: Row[]): string[] {
  const out: string[] = [];
  for (const r of rows.filter((x) => x.via === "endpoint" && num(x.ratioToEdge) !== undefined)) {
    const at = (via: string) => rows.find((b) => b.case === r.case && b.via === via);
    const mbps = (via: string) => num(at(via)?.MBps);
    const edgeTls = mbps("edge-tls");
    const ratio = num(r.ratioToEdgeTls);
    const cpu =
      num(r.cpuRatioToEdgeTls) === undefined ? "" : `; by CPU ${fmt(r.cpuRatioToEdgeTls as number)}×`;
    const plain = `; the plain-HTTP edge ${fmt(mbps("edge") ?? 0, 0)} MB/s, ${fmt(r.ratioToEdge as number)}× of it (by CPU ${fmt(num(r.cpuRatioToEdge) ?? 0)}×)`;
    // The same client through a bare TLS terminator to the plain edge: TLS's cost in a pipe.
    const tls = mbps("socat-tls");
    const vsTls = tls
      ? `; a TLS pipe to the edge: ${fmt(tls, 0)} MB/s, the endpoint ${fmt((r.MBps as number) / tls)}× of it`
      : "";
    out.push(
      ratio === undefined || edgeTls === undefined
        ? `goal (issue 11): S3 ${r.case} through an interface endpoint ≥ 0.8× the HTTPS edge — not measured (no edge-tls row) — ${verdict(false)}`
        : `goal (issue 11): S3 ${r.case} through an interface endpoint ≥ 0.8× the same client on the HTTPS edge — measured: ${fmt(r.MBps as number, 0)} vs ${fmt(edgeTls, 0)} MB/s (${fmt(ratio)}×${cpu}${plain}${vsTls}) — ${verdict(ratio >= 0.8)}`,
    );
  }
  for (const r of rows.filter((x) => num(x.peakRssDeltaMiB) !== undefined)) {
    const mib = r.peakRssDeltaMiB as number;
    out.push(
      `goal (issue 11): ${r.case} through an interface endpoint raises the server's RSS by ≤ 64 MiB — measured: ${fmt(mib, 1)} MiB — ${verdict(mib <= 64)}`,
    );
  }
  return out;
}
