/**
 * Issue 12's metering benchmark: throughput and new connections/s through one real interface
 * endpoint with metering on (counters, CloudWatch publishing, a VPC flow log of ALL traffic to
 * a file) and off (the data plane's NO_METER: no counting, no taps), alternating in the same
 * run and the same process so that load from elsewhere on the machine weighs on both alike.
 * Each row carries onVsOff, the ratio of metered to unmetered (goal: ≥ 0.95, at most 5 % lost).
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { CreateFlowLogsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { CONSUMER, clientConfig, startEndpoint } from "./endpoint.js";
import { LoadGenerator, measure, type Row } from "./traffic.js";

const FLOW_LOG = "bench/metering.log";

export async function benchMetering(opts: { durationMs?: number; rounds?: number } = {}): Promise<Row[]> {
  const durationMs = Math.min(opts.durationMs ?? 2000, 5000);
  const rounds = opts.rounds ?? 2;
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
    for (let r = 0; r < rounds; r++)
      for (const on of [true, false]) {
        dataplane.metering = on;
        const via = on ? "metering on" : "metering off";
        samples.push(
          ...(await measure(gen, { ...ep, via }, durationMs, 8, new Set(["throughput", "connections"]))),
        );
      }
    dataplane.metering = true;
    const metered = meter.snapshot().endpoints.find((e) => e.vpcEndpointId === ep!.world.endpointId);
    // The metered minute reaches CloudWatch too (the publisher's share of metering's cost).
    ep.privlink.cloudwatch.flush();
    return [
      ...onVsOff(averaged(samples)),
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

/** The rounds' mean per case and mode. */
function averaged(samples: Row[]): Row[] {
  const groups = new Map<string, Row[]>();
  for (const s of samples) {
    const k = `${s.via}\u0000${s.case}`;
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  return [...groups.values()].map((g) => ({
    ...g[0]!,
    value: g.reduce((n, s) => n + s.value, 0) / g.length,
  }));
}

/** Each metered row with its ratio to the unmetered one of the same case. */
function onVsOff(rows: Row[]): Row[] {
  return rows.map((r) => {
    const off = rows.find((o) => o.case === r.case && o.via === "metering off");
    return r.via === "metering on" && off?.value ? { ...r, onVsOff: r.value / off.value } : r;
  });
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
