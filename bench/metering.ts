/**
 * Issue 12's metering benchmark: throughput and new connections/s through one real interface
 * endpoint with metering on (counters, CloudWatch publishing, a VPC flow log of ALL traffic to
 * a file) and off (the data plane's NO_METER: no counting, no taps), alternating in the same
 * run and the same process so that load from elsewhere on the machine weighs on both alike.
 *
 * Judged on pairs: each pair runs both modes back to back (on then off, off then on, in turn)
 * and gives one on/off ratio; a row's onVsOff is the median of its pairs' ratios, printed with
 * the 95 % interval of that median (order statistics) so that a reader sees whether the run
 * can decide the 5 % goal. Single rounds of one process swing 0.8–1.8× on a shared machine,
 * so the pairs are many and short (by default 15 throughput pairs and 40 connection pairs,
 * rounds of 300 ms).
 *
 * Metering's timer work is charged to the metered round that caused it: after each round,
 * inside its CPU and its wall time, the flow log delivers every line the round's closed flows
 * left (normally at the window's end, 60 s later, on whichever round ran then) and CloudWatch's
 * tick samples the counters. A batch per round is far more batches than a 60 s window makes,
 * so each batch's fixed cost (the file's open, write, close) overcharges metering, never
 * undercharges it.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { CreateFlowLogsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { CONSUMER, clientConfig, startEndpoint } from "./endpoint.js";
import { median, medianInterval } from "./measure.js";
import { LoadGenerator, measure, type Row, selfCpuSeconds } from "./traffic.js";

const FLOW_LOG = "bench/metering.log";
const CONCURRENCY = 8;
type Endpoint = Awaited<ReturnType<typeof startEndpoint>>;

export async function benchMetering(
  opts: { durationMs?: number; rounds?: number; connectionRounds?: number; connectionMs?: number } = {},
): Promise<Row[]> {
  const durationMs = Math.min(opts.durationMs ?? 300, 5000);
  const rounds = Math.min(opts.rounds ?? 15, 25);
  const connectionRounds = Math.min(opts.connectionRounds ?? 40, 120);
  const connectionMs = Math.min(opts.connectionMs ?? 300, 2000);
  const gen = await LoadGenerator.start();
  let ep: Endpoint | undefined;
  try {
    ep = await startEndpoint(gen);
    await new EC2Client(clientConfig(ep.privlink, CONSUMER)).send(
      new CreateFlowLogsCommand({
        ResourceType: "VPC",
        ResourceIds: [ep.world.consumerVpc],
        TrafficType: "ALL",
        // privlink's own destination type, beside cloud-watch-logs and s3.
        LogDestinationType: "file" as never,
        LogDestination: FLOW_LOG,
        MaxAggregationInterval: 60,
      }),
    );
    const meter = ep.privlink.dataplane.dataplane.meter;
    const ran: Round[] = [];
    // A pair that is not kept: the first connections through a fresh process pay for JIT
    // compilation and the first allocations, which would fall on whichever mode ran first.
    for (const on of [true, false])
      await round(gen, ep, on, new Set(["throughput", "connections"]), durationMs / 2, on);
    for (let r = 0; r < rounds + connectionRounds; r++) {
      const tput = r < rounds;
      const cases = new Set([tput ? "throughput" : "connections"]);
      for (const on of r % 2 ? [false, true] : [true, false]) {
        // Each phase ends with a delivery, so every metered line made in a kept round is charged.
        const last = r === rounds - 1 || r === rounds + connectionRounds - 1;
        const deliver = on && (r % DELIVER_EVERY === DELIVER_EVERY - 1 || last);
        ran.push({
          pair: r,
          ...(await round(gen, ep, on, cases, tput ? durationMs : connectionMs, deliver)),
        });
      }
    }
    const { samples, timerRows } = chargeTimers(ran);
    // The metered minute reaches CloudWatch too.
    await ep.privlink.cloudwatch.flush();
    const metered = meter.snapshot().endpoints.find((e) => e.vpcEndpointId === ep!.world.endpointId);
    const rows = onVsOff(medians(samples.map((s) => s.row)), samples);
    return [
      ...rows,
      await hooksRow(
        ep,
        rows.find((r) => r.via === "metering off" && r.case === "proxy CPU per connection"),
      ),
      ...timerRows,
      {
        case: "(check) metered while on",
        via: "metering on",
        value: (metered?.bytesIn ?? 0) + (metered?.bytesOut ?? 0),
        unit: "bytes",
        vsHaproxy: null,
        higherIsBetter: true,
        note: `flow-log file ${fileSize(join(ep.privlink.home, "flow-logs", FLOW_LOG))} bytes`,
      },
    ];
  } finally {
    if (ep) await ep.stop();
    await gen.stop();
  }
}

interface Sample {
  row: Row;
  pair: number;
}

/** Metered rounds deliver the flow log's lines every this many pairs (~5,000 connections quiet). */
const DELIVER_EVERY = 5;

/** One mode's round: its rows and the timer window that followed it. */
interface Round {
  pair: number;
  on: boolean;
  rows: Row[];
  /** The round's wall time (seconds) and its timer window's CPU and wall time. */
  wall: number;
  timerCpu: number;
  timerWall: number;
}

/**
 * One round of one mode, then a timer window: the flow log's tick (in a metered round every
 * DELIVER_EVERY pairs, delivering every line the flows so far left, which a real 60 s window
 * would deliver later on whichever round ran then) and CloudWatch's tick (counters sampled, a
 * minute written once it ended). Unmetered rounds run the same window, which finds nothing to
 * do, so the CPU other threads spend meanwhile falls on both modes alike.
 */
async function round(
  gen: LoadGenerator,
  ep: Endpoint,
  on: boolean,
  cases: Set<string>,
  durationMs: number,
  deliver: boolean,
): Promise<Omit<Round, "pair">> {
  ep.privlink.dataplane.dataplane.metering = on;
  const via = on ? "metering on" : "metering off";
  const t0 = performance.now();
  const rows = await measure(gen, { ...ep, via }, durationMs, CONCURRENCY, cases);
  const wall = (performance.now() - t0) / 1000;
  const [c0, t1] = [selfCpuSeconds(), performance.now()];
  await ep.privlink.flowLogs.recorder.tick(deliver);
  await ep.privlink.cloudwatch.tick();
  return { on, rows, wall, timerCpu: selfCpuSeconds() - c0, timerWall: (performance.now() - t1) / 1000 };
}

/** A round's work in the unit its CPU rows are per: connections, or GiB per throughput case. */
function workOf(r: Round, row: Row): number | undefined {
  if (row.case === "proxy CPU per connection") {
    const conns = r.rows.find((x) => x.unit === "conn/s");
    return conns && conns.value * r.wall;
  }
  const tput = r.rows.find((x) => x.case === row.case.replace("proxy CPU per GiB, ", "throughput "));
  const cases = r.rows.filter((x) => x.unit === "MiB/s").length;
  return tput && (tput.value * r.wall) / cases / 1024;
}

/**
 * Metering's timer work charged to the mode that caused it, as a mean: each mode's timer
 * windows' CPU over its rounds' work (per connection, per GiB) is added to each of its rounds,
 * and their wall time lowers its rates. The sums charge every delivery in full where a median
 * of per-round charges would drop the rounds that delivered.
 */
function chargeTimers(rounds: Round[]): { samples: Sample[]; timerRows: Row[] } {
  const kinds = new Map<string, { cpu: number; work: number; wall: number; timerWall: number }>();
  const kindOf = (r: Round, row: Row) => `${r.on}\u0000${row.unit === "ms" ? "GiB" : row.case}`;
  for (const r of rounds) {
    const cpuRows = r.rows.filter((x) => x.unit === "µs" || x.unit === "ms");
    for (const row of cpuRows) {
      const k = kinds.get(kindOf(r, row)) ?? { cpu: 0, work: 0, wall: 0, timerWall: 0 };
      k.cpu += r.timerCpu / cpuRows.length;
      k.work += workOf(r, row) ?? 0;
      k.wall += r.wall / cpuRows.length;
      k.timerWall += r.timerWall / cpuRows.length;
      kinds.set(kindOf(r, row), k);
    }
  }
  const samples = rounds.flatMap((r) => {
    const cpuRow = r.rows.find((x) => x.unit === "µs" || x.unit === "ms");
    const k = cpuRow && kinds.get(kindOf(r, cpuRow));
    return r.rows.map((row) => {
      if (!k) return { row, pair: r.pair };
      const slower = k.wall / (k.wall + k.timerWall);
      const perUnit = row.unit === "ms" ? (k.cpu * 1000) / k.work : (k.cpu * 1e6) / k.work;
      const value =
        row.unit === "MiB/s" || row.unit === "conn/s"
          ? row.value * slower
          : row.unit === "µs" || row.unit === "ms"
            ? row.value + perUnit
            : row.value;
      return { row: { ...row, value }, pair: r.pair };
    });
  });
  const conns = (on: boolean) => kinds.get(`${on}\u0000proxy CPU per connection`);
  const us = (on: boolean) => {
    const k = conns(on);
    return k ? (k.cpu * 1e6) / k.work : 0;
  };
  const timerRows: Row[] = [
    {
      case: "timer windows' CPU per connection (charged to each round)",
      via: "metering on",
      value: us(true),
      unit: "µs",
      higherIsBetter: false,
      vsHaproxy: null,
      note: `flow-log delivery every ${DELIVER_EVERY} pairs and CloudWatch ticks; the unmetered rounds' same windows ${us(false).toFixed(2)} µs`,
    },
  ];
  return { samples, timerRows };
}

/** Metered connections the hooks are timed on, per batch; the median of the batches is kept. */
const HOOK_FLOWS = 5000;
const HOOK_BATCHES = 7;

/**
 * Metering's own CPU per connection, without sockets: what the data plane calls for each
 * admitted flow when metering is on (the flow's FlowInfo, Meter.open with the flow log's and
 * the cost report's taps, track, the byte reports, closed, and the flow log's tick rendering
 * and delivering the batch's lines), timed in a loop. Steadier than any
 * rate on a loaded machine; its share of the unmetered CPU per connection through the endpoint
 * is what metering can cost the connection rate at most.
 */
async function hooksRow(ep: Endpoint, off: Row | undefined): Promise<Row> {
  const state = ep.privlink.state;
  const meter = ep.privlink.dataplane.dataplane.meter;
  const endpointId = ep.world.endpointId;
  const dstEniId = state.get("vpcEndpoint", endpointId)!.enis[0]!.eniId;
  const srcEniId = [...state.all("eni")].find((e) => e.vpcId === ep.world.consumerVpc && e.attachment)?.id;
  const relay = { report: () => undefined };
  const batch = async () => {
    const t0 = process.cpuUsage();
    for (let i = 0; i < HOOK_FLOWS; i++) {
      const flow = meter.watched
        ? {
            srcEniId,
            dstEniId,
            srcIp: "10.1.1.10",
            dstIp: "10.1.1.11",
            srcPort: i,
            dstPort: 9003,
            trafficPath: 1,
          }
        : undefined;
      const counter = meter.open(dstEniId, endpointId, undefined, flow);
      counter.track(relay);
      counter.bytesIn(1);
      counter.bytesOut(1);
      counter.closed("fin");
    }
    // The flow log renders its closed flows' lines at its tick (and here delivers them too).
    await ep.privlink.flowLogs.recorder.tick(true);
    const t = process.cpuUsage(t0);
    return (t.user + t.system) / HOOK_FLOWS;
  };
  const times: number[] = [];
  for (let i = 0; i < HOOK_BATCHES; i++) times.push(await batch());
  const us = median(times.sort((a, b) => a - b));
  const share = off?.value ? us / off.value : undefined;
  return {
    case: "metering hooks' CPU per connection (no sockets)",
    via: "metering on",
    value: us,
    unit: "µs",
    higherIsBetter: false,
    vsHaproxy: null,
    shareOfConnection: share,
    note: `median of ${HOOK_BATCHES} batches of ${HOOK_FLOWS}`,
  } as Row;
}

/** The rounds' median per case and mode, with every round's value in the note. */
function medians(samples: Row[]): Row[] {
  const groups = new Map<string, Row[]>();
  for (const s of samples) {
    const k = `${s.via}\u0000${s.case}`;
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  return [...groups.values()].map((g) => {
    const value = median(g.map((s) => s.value).sort((a, b) => a - b));
    const shown = g.map((s) => (s.value >= 100 ? s.value.toFixed(0) : s.value.toFixed(1)));
    return { ...g[0]!, value, note: `median of ${g.length}: ${shown.join(", ")}` };
  });
}

/**
 * Each metered row with its ratio to the unmetered one of the same case: the median of the
 * pairs' ratios (each pair ran both modes back to back), with its 95 % interval (ratioLow,
 * ratioHigh) and every pair's ratio in the note.
 */
function onVsOff(rows: Row[], samples: Sample[]): Row[] {
  return rows.map((r) => {
    if (r.via !== "metering on") return r;
    const of = (via: string) =>
      new Map(
        samples.filter((s) => s.row.case === r.case && s.row.via === via).map((s) => [s.pair, s.row.value]),
      );
    const off = of("metering off");
    const ratios = [...of("metering on")]
      .map(([pair, on]) => on / (off.get(pair) ?? Number.NaN))
      .filter((x) => Number.isFinite(x))
      .sort((a, b) => a - b);
    if (ratios.length === 0) return r;
    const [ratioLow, ratioHigh] = medianInterval(ratios);
    const shown = ratios.map((x) => x.toFixed(2)).join(", ");
    return {
      ...r,
      onVsOff: median(ratios),
      ratioLow,
      ratioHigh,
      pairs: ratios.length,
      note: `${r.note}; on/off per pair, sorted: ${shown}`,
    } as Row;
  });
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
