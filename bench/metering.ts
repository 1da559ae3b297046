/**
 * Issue 12's metering benchmark: throughput and new connections/s through one real interface
 * endpoint with metering on (counters, CloudWatch publishing, a VPC flow log of ALL traffic to
 * a file) and off (the data plane's NO_METER: no counting, no taps), alternating in the same
 * run and the same process so that load from elsewhere on the machine weighs on both alike.
 * Rounds are short and many, in alternating order (on then off, off then on), and each row is
 * the median over the rounds: one slow round (another process taking the core) moves a median
 * little where it moved a mean a lot. Each row carries onVsOff, the ratio of metered to
 * unmetered (goal: ≥ 0.95, at most 5 % lost): the median of the rounds' own ratios (on against
 * off of the same round, run back to back), so that load drifting between rounds cancels out.
 * The CPU per GiB and per connection of the process (privlink runs in it) are steadier than
 * rates on a loaded machine and are shown too; the connection rows get extra short rounds of
 * their own (CPU per connection is the figure issue 12's goal is judged on).
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { CreateFlowLogsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { CONSUMER, clientConfig, startEndpoint } from "./endpoint.js";
import { LoadGenerator, measure, type Row } from "./traffic.js";

const FLOW_LOG = "bench/metering.log";

export async function benchMetering(
  opts: { durationMs?: number; rounds?: number; connectionRounds?: number } = {},
): Promise<Row[]> {
  const durationMs = Math.min(opts.durationMs ?? 1000, 5000);
  const rounds = Math.min(opts.rounds ?? 5, 9);
  const connectionRounds = Math.min(opts.connectionRounds ?? 10, 20);
  const gen = await LoadGenerator.start();
  let ep: Awaited<ReturnType<typeof startEndpoint>> | undefined;
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
    const dataplane = ep.privlink.dataplane.dataplane;
    const meter = dataplane.meter;
    const samples: Row[] = [];
    // A round of each mode that is not kept: the first connections through a fresh process
    // pay for JIT compilation and the first allocations, which would fall on whichever mode
    // ran first.
    for (const on of [true, false]) {
      dataplane.metering = on;
      await measure(
        gen,
        { ...ep, via: "warm-up" },
        durationMs / 2,
        8,
        new Set(["throughput", "connections"]),
      );
    }
    const roundOf = new Map<Row, number>();
    for (let r = 0; r < rounds + connectionRounds; r++) {
      const cases = new Set(r < rounds ? ["throughput", "connections"] : ["connections"]);
      for (const on of r % 2 ? [false, true] : [true, false]) {
        dataplane.metering = on;
        const via = on ? "metering on" : "metering off";
        for (const row of await measure(gen, { ...ep, via }, durationMs, 8, cases)) {
          samples.push(row);
          roundOf.set(row, r);
        }
      }
    }
    dataplane.metering = true;
    const metered = meter.snapshot().endpoints.find((e) => e.vpcEndpointId === ep!.world.endpointId);
    // The metered minute reaches CloudWatch too (the publisher's share of metering's cost).
    await ep.privlink.cloudwatch.flush();
    const rows = onVsOff(medians(samples), samples, roundOf);
    return [
      ...rows,
      hooksRow(
        ep,
        rows.find((r) => r.via === "metering off" && r.case === "proxy CPU per connection"),
      ),
      {
        case: "(check) metered while on",
        via: "metering on",
        value: (metered?.bytesIn ?? 0) + (metered?.bytesOut ?? 0),
        unit: "bytes",
        // Flow-log windows close on the recorder's timer (60 s): the file may still be empty here.
        note: `flow-log file ${fileSize(join(ep.privlink.home, "flow-logs", FLOW_LOG))} bytes so far`,
      } as Row,
    ];
  } finally {
    if (ep) await ep.stop();
    await gen.stop();
  }
}

/** Metered connections the hooks are timed on, per batch; the median of the batches is kept. */
const HOOK_FLOWS = 5000;
const HOOK_BATCHES = 7;

/**
 * Metering's own CPU per connection, without sockets: what the data plane calls for each
 * admitted flow when metering is on (the flow's FlowInfo, Meter.open with the flow log's and
 * the cost report's taps, track, the byte reports, closed), timed in a loop. Steadier than any
 * rate on a loaded machine; its share of the unmetered CPU per connection through the endpoint
 * is what metering can cost the connection rate at most.
 */
function hooksRow(ep: Awaited<ReturnType<typeof startEndpoint>>, off: Row | undefined): Row {
  const state = ep.privlink.state;
  const meter = ep.privlink.dataplane.dataplane.meter;
  const endpointId = ep.world.endpointId;
  const dstEniId = state.get("vpcEndpoint", endpointId)!.enis[0]!.eniId;
  const srcEniId = [...state.all("eni")].find((e) => e.vpcId === ep.world.consumerVpc && e.attachment)?.id;
  const relay = { report: () => undefined };
  const batch = () => {
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
    const t = process.cpuUsage(t0);
    return (t.user + t.system) / HOOK_FLOWS;
  };
  const us = Array.from({ length: HOOK_BATCHES }, batch).sort((a, b) => a - b)[HOOK_BATCHES >> 1]!;
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
    const values = g.map((s) => s.value).sort((a, b) => a - b);
    const m = values.length >> 1;
    const value = values.length % 2 ? values[m]! : (values[m - 1]! + values[m]!) / 2;
    const shown = g.map((s) => (s.value >= 100 ? s.value.toFixed(0) : s.value.toFixed(1)));
    return { ...g[0]!, value, note: `median of ${g.length}: ${shown.join(", ")}` };
  });
}

/**
 * Each metered row with its ratio to the unmetered one of the same case: the median of the
 * rounds' ratios (each round ran both modes back to back), every round's ratio in the note.
 */
function onVsOff(rows: Row[], samples: Row[], roundOf: Map<Row, number>): Row[] {
  return rows.map((r) => {
    if (r.via !== "metering on") return r;
    const of = (via: string) =>
      new Map(
        samples.filter((s) => s.case === r.case && s.via === via).map((s) => [roundOf.get(s), s.value]),
      );
    const off = of("metering off");
    const ratios = [...of("metering on")]
      .map(([round, on]) => on / (off.get(round) ?? Number.NaN))
      .filter((x) => Number.isFinite(x))
      .sort((a, b) => a - b);
    if (ratios.length === 0) return r;
    const m = ratios.length >> 1;
    const ratio = ratios.length % 2 ? ratios[m]! : (ratios[m - 1]! + ratios[m]!) / 2;
    const shown = ratios.map((x) => x.toFixed(2)).join(", ");
    return { ...r, onVsOff: ratio, note: `${r.note}; on/off per round, sorted: ${shown}` };
  });
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
