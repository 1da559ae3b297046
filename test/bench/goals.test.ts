import { describe, expect, it } from "vitest";
import {
  apiCpuGoals,
  connectionCpuGoals,
  dnsPathGoals,
  dnsVpcGoals,
  hasRatio,
  issue4Goals,
  type Row,
  ratioToFirst,
  ratioToVia,
  s3Goals,
} from "../../bench/goals.js";

const traffic = (via: string, values: Record<string, number>): Row[] =>
  Object.entries(values).map(([c, value]) => ({ case: c, via, value }));

const HAPROXY = traffic("haproxy", {
  "throughput download, 1 stream": 1000,
  "throughput upload, 1 stream": 1000,
  "new connections/s (8 loops)": 10_000,
  "added connect latency, p99": 100,
});

describe("issue goals over benchmark rows", () => {
  const issue4: [string, Row[], string[]][] = [
    [
      "relay ahead of HAProxy everywhere",
      [
        ...HAPROXY,
        ...traffic("relay", {
          "throughput download, 1 stream": 1500,
          "throughput upload, 1 stream": 1000,
          "new connections/s (8 loops)": 8000,
          "added connect latency, p99": 200,
        }),
      ],
      [
        "goal: relay throughput ≥ HAProxy's — measured: download, 1 stream: 1.50× HAProxy; upload, 1 stream: 1.00× HAProxy — met",
        "goal: relay connection rate ≥ 0.8× HAProxy's — measured: new connections/s (8 loops): 0.80× HAProxy — met",
        "goal: relay added p99 ≤ 2× HAProxy's — measured: 200 µs vs HAProxy 100 µs (2.00×) — met",
      ],
    ],
    [
      "an endpoint behind on each goal, added latency from the direct baseline",
      [
        ...traffic("haproxy", {
          "throughput download, 1 stream": 1000,
          "new connections/s (8 loops)": 10_000,
          "connect+1-byte echo, p99": 150,
        }),
        ...traffic("direct", { "connect+1-byte echo, p99": 50 }),
        ...traffic("endpoint", {
          "throughput download, 1 stream": 999,
          "new connections/s (8 loops)": 7999,
          "connect+1-byte echo, p99": 251,
        }),
      ],
      [
        "goal: endpoint throughput ≥ HAProxy's — measured: download, 1 stream: 1.00× HAProxy — NOT met",
        "goal: endpoint connection rate ≥ 0.8× HAProxy's — measured: new connections/s (8 loops): 0.80× HAProxy — NOT met",
        "goal: endpoint added p99 ≤ 2× HAProxy's — measured: 201 µs vs HAProxy 100 µs (2.01×) — NOT met",
      ],
    ],
    [
      "no HAProxy in the run",
      traffic("relay", { "throughput download, 1 stream": 1 }),
      ["goals (issue 4): not measured — no HAProxy rows in this run"],
    ],
  ];
  for (const [name, rows, lines] of issue4)
    it(`issue 4: ${name}`, () => expect(issue4Goals(rows)).toEqual(lines));

  it("issue 15: added p99 is a difference of p99s; each path's p99.9 is its own, none a difference", () => {
    const path = (via: string, p99: number, p999: number, direct: [number, number]) =>
      traffic(via, {
        "connect+1-byte echo, p99": p99,
        "connect+1-byte echo, p99.9": p999,
        "connect+1-byte echo, direct between them, p99": direct[0],
        "connect+1-byte echo, direct between them, p99.9": direct[1],
        "added connect latency, p99": p99 - direct[0],
      });
    const rows = [
      ...path("haproxy", 300, 400, [220, 900]),
      ...path("node-pipe", 1000, 4000, [230, 600]),
      ...path("endpoint", 400, 3000, [250, 600]),
      {
        case: "event-loop ticks late outside a scavenge (latency case)",
        via: "endpoint",
        value: 1,
        note: "2 of 200 ticks late by over 1 ms, 1 of them in a scavenge; worst outside one 1500 µs, in one 3000 µs",
      },
      ...traffic("endpoint", { "scavenges per 1,000 connections (latency case)": 0.7 }),
    ];
    expect(connectionCpuGoals(rows)[1]).toBe(
      "goal (issue 15): endpoint added p99 ≤ 1.5× HAProxy's (p99 through it − p99 of the direct connections between its own) — measured: added p99 endpoint 150 µs, HAProxy 80 µs (1.88×); p99/p99.9 node-pipe 1000/4000 µs (direct 230/600), haproxy 300/400 µs (direct 220/900), endpoint 400/3000 µs (direct 250/600); endpoint's event loop: 2 of 200 ticks late by over 1 ms, 1 of them in a scavenge; worst outside one 1500 µs, in one 3000 µs; 0.7 scavenges per 1,000 connections — NOT met",
    );
  });

  const issue5: [string, Row[], string][] = [
    [
      "met",
      [
        { server: "privlink-vpc", qps: 50_000 },
        { server: "unbound", qps: 40_000 },
      ],
      "goal: VPC resolver qps ≥ unbound's — measured: 50000 vs 40000 qps (1.25×) — met",
    ],
    [
      "not met",
      [
        { server: "privlink-vpc", qps: 30_000 },
        { server: "unbound", qps: 40_000 },
      ],
      "goal: VPC resolver qps ≥ unbound's — measured: 30000 vs 40000 qps (0.75×) — NOT met",
    ],
    [
      "unbound skipped",
      [
        { server: "privlink-vpc", qps: 30_000 },
        { server: "unbound", note: "skipped" },
      ],
      "goal (issue 5): VPC resolver qps ≥ unbound's — not measured (dnsperf or unbound missing, see notes)",
    ],
  ];
  for (const [name, rows, line] of issue5)
    it(`issue 5: ${name}`, () => expect(dnsVpcGoals(rows)).toEqual([line]));

  it("issue 15: one DNS line per name path, judged on the median of its paired rounds", () => {
    const rows: Row[] = [
      { case: "own", server: "node-replay", cpuUsPerQuery: 20 },
      {
        case: "own",
        server: "privlink",
        cpuUsPerQuery: 22,
        vsReplay: 1.1,
        ratioLow: 1.05,
        ratioHigh: 1.15,
        pairs: 12,
        met: true,
      },
      { case: "phz", server: "node-replay", cpuUsPerQuery: 20 },
      {
        case: "phz",
        server: "privlink",
        cpuUsPerQuery: 23,
        vsReplay: 1.15,
        ratioLow: 1.02,
        ratioHigh: 1.3,
        pairs: 12,
        met: true,
      },
      { case: "forwarded", server: "node-replay", cpuUsPerQuery: 20 },
      { case: "forwarded", server: "privlink", cpuUsPerQuery: 30, vsReplay: 1.5, met: false },
      { case: "(all)", server: "privlink", note: "load" },
    ];
    const goal = "≤ 1.2× a minimal Node UDP responder's CPU per query";
    expect(dnsPathGoals(rows)).toEqual([
      `goal (issue 15): DNS own ${goal} — measured: 22.0 µs vs 20.0 µs (median of 12 paired rounds 1.10×, 95 % interval 1.05–1.15×) — met`,
      `goal (issue 15): DNS phz ${goal} — measured: 23.0 µs vs 20.0 µs (median of 12 paired rounds 1.15×, 95 % interval 1.02–1.30×) — met (the goal lies inside the interval: this run does not decide it)`,
      `goal (issue 15): DNS forwarded ${goal} — measured: 30.0 µs vs 20.0 µs (median 1.50×) — NOT met`,
    ]);
    expect(dnsPathGoals([{ case: "(all)", server: "privlink", note: "skipped" }])[0]).toContain(
      "not measured",
    );
  });

  it("issue 15: an API line reads the median of the paired rounds, the bare server's beside it", () => {
    const describe: Row = {
      case: "DescribeVpcs tag filter (each request a new read)",
      endpoints: 10_000,
      serverUs: 182.4,
      serverLow: 175,
      serverHigh: 190,
      pooledUs: 196.2,
      rounds: 20,
      ceilingUs: 55.2,
      ceilingLow: 52,
      ceilingHigh: 58,
      vsCeiling: 3.3,
      vsCeilingLow: 3.1,
      vsCeilingHigh: 3.5,
      goalUs: 150,
      met: false,
    };
    const sigv4: Row = { case: "SigV4 verification", serverUs: 14.74, goalUs: 20, met: true };
    expect(
      apiCpuGoals([
        describe,
        { ...describe, serverUs: 140, serverLow: 130, serverHigh: 160, met: true },
        sigv4,
      ]),
    ).toEqual([
      "goal (issue 15): DescribeVpcs tag filter (each request a new read) at 10,000 endpoints ≤ 150 µs of server CPU — measured: 182 µs (median of 20 paired rounds, 95 % interval 175–190 µs; all rounds pooled 196 µs); bare node:http replaying the answer 55.2 µs (52.0–58.0), privlink 3.30× of it (3.10–3.50) — NOT met",
      "goal (issue 15): DescribeVpcs tag filter (each request a new read) at 10,000 endpoints ≤ 150 µs of server CPU — measured: 140 µs (median of 20 paired rounds, 95 % interval 130–160 µs; all rounds pooled 196 µs); bare node:http replaying the answer 55.2 µs (52.0–58.0), privlink 3.30× of it (3.10–3.50) — met (the goal lies inside the interval: this run does not decide it)",
      "goal (issue 15): SigV4 verification ≤ 20 µs of server CPU — measured: 14.7 µs — met",
    ]);
  });

  it("issue 11: S3 through an endpoint is judged against the HTTPS edge; the plain-HTTP edge is stated too", () => {
    const put = "PUT 64 MiB x2";
    const rows: Row[] = [
      { case: put, via: "edge", MBps: 130, ratioToEdge: 1, ratioToEdgeTls: 1.3, cpuRatioToEdge: 1 },
      { case: put, via: "edge-tls", MBps: 100, ratioToEdge: 0.77, ratioToEdgeTls: 1, cpuRatioToEdge: 0.7 },
      {
        case: put,
        via: "endpoint",
        MBps: 90,
        ratioToEdge: 0.69,
        ratioToEdgeTls: 0.9,
        cpuRatioToEdge: 0.68,
        cpuRatioToEdgeTls: 0.97,
      },
      { case: put, via: "socat-tls", MBps: 100, ratioToEdge: 0.77, ratioToEdgeTls: 1 },
      { case: "PUT 1024 MiB (streamed)", via: "endpoint", MBps: 80, peakRssDeltaMiB: 12 },
    ];
    expect(s3Goals(rows)).toEqual([
      `goal (issue 11): S3 ${put} through an interface endpoint ≥ 0.8× the same client on the HTTPS edge — measured: 90 vs 100 MB/s (0.90×; by CPU 0.97×; the plain-HTTP edge 130 MB/s, 0.69× of it (by CPU 0.68×); a TLS pipe to the edge: 100 MB/s, the endpoint 0.90× of it) — met`,
      "goal (issue 11): PUT 1024 MiB (streamed) through an interface endpoint raises the server's RSS by ≤ 64 MiB — measured: 12.0 MiB — met",
    ]);
    // Without the HTTPS edge's row the goal cannot be judged: NOT met, never met by default.
    const [line] = s3Goals(rows.filter((r) => r.via !== "edge-tls"));
    expect(line).toContain("not measured");
    expect(line).toMatch(/NOT met$/);
  });
});

describe("ratio columns", () => {
  it("divides by the same case through the baseline, leaving rows without a value alone", () => {
    const rows: Row[] = [
      { case: "a", via: "direct", value: 200 },
      { case: "a", via: "relay", value: 50 },
      { case: "b", via: "relay", value: 7 },
      { case: "a", via: "relay", note: "skipped" },
    ];
    expect(ratioToVia(rows, "direct", "vsDirect").map((r) => r.vsDirect)).toEqual([
      1,
      0.25,
      undefined,
      undefined,
    ]);
  });

  it("divides by the first row, and recognises rows that already carry a ratio", () => {
    const rows = ratioToFirst([{ ops: 10 }, { ops: 25 }, { note: "x" }], "ops", "vsFirst");
    expect(rows.map((r) => r.vsFirst)).toEqual([1, 2.5, undefined]);
    expect([hasRatio(rows), hasRatio([{ ops: 1 }]), hasRatio([{ ratioToEdge: 1 }])]).toEqual([
      true,
      false,
      true,
    ]);
  });
});
