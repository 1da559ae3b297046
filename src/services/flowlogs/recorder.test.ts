import { describe, expect, it } from "vitest";
import { DEFAULT_LOG_FORMAT } from "../../cloud/flow-log.js";
import { State } from "../../cloud/state.js";
import type { Eni, FlowLog } from "../../cloud/types.js";
import type { FlowLogBatch } from "./destinations.js";
import { FlowLogRecorder } from "./recorder.js";

/**
 * The recorder alone, on an injected clock: a closed flow's last window is rendered at close,
 * yet its lines still arrive only when the window is over (60 or 600 s after it opened), with
 * the window's start and end, packets, bytes and flags, as AWS writes them.
 */
const T0 = 1_765_000_000;
const ACCOUNT = "111111111111";
const VPC = "vpc-0a0000000000000001";
const SUBNET = "subnet-0a000000000000001";
const SRC = "eni-0a000000000000001";
const DST = "eni-0a000000000000002";

function eni(id: string, privateIp: string): Eni {
  return {
    id,
    accountId: ACCOUNT,
    region: "us-east-1",
    tags: {},
    vpcId: VPC,
    subnetId: SUBNET,
    az: "us-east-1a",
    privateIp,
    securityGroupIds: [],
    interfaceType: "interface",
    requesterManaged: false,
    description: "",
    macAddress: "02:00:00:00:00:01",
    status: "in-use",
  };
}

function flowLog(id: string, maxAggregationInterval: 60 | 600, logFormat: string): FlowLog {
  return {
    id,
    accountId: ACCOUNT,
    region: "us-east-1",
    tags: {},
    resourceId: VPC,
    resourceType: "VPC",
    trafficType: "ALL",
    logDestinationType: "file",
    logDestination: `${id}.log`,
    logFormat,
    maxAggregationInterval,
    deliverLogsStatus: "SUCCESS",
    createdAt: new Date(T0 * 1000).toISOString(),
  };
}

function world() {
  const state = new State();
  state.transact((tx) => {
    tx.put("subnet", {
      id: SUBNET,
      accountId: ACCOUNT,
      region: "us-east-1",
      tags: {},
      vpcId: VPC,
      cidr: "10.0.1.0/24",
      az: "us-east-1a",
      azId: "use1-az1",
      defaultForAz: false,
      mapPublicIpOnLaunch: false,
    });
    tx.put("eni", eni(SRC, "10.0.1.10"));
    tx.put("eni", eni(DST, "10.0.1.20"));
    tx.put("flowLog", flowLog("fl-minute", 60, DEFAULT_LOG_FORMAT));
    tx.put(
      "flowLog",
      flowLog(
        "fl-ten",
        600,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: AWS's own LogFormat syntax, not a template
        "${version} ${interface-id} ${srcport} ${dstport} ${packets} ${bytes} ${start} ${end} ${action} ${tcp-flags} ${az-id} ${flow-direction} ${traffic-path}",
      ),
    );
  });
  let now = T0;
  const delivered: FlowLogBatch[] = [];
  const sink = { problem: () => undefined, deliver: async (b: FlowLogBatch) => void delivered.push(b) };
  const recorder = new FlowLogRecorder(
    state,
    { file: sink, "cloud-watch-logs": sink, s3: sink },
    () => now * 1000,
  );
  const flow = (srcPort: number) => ({
    srcEniId: SRC,
    dstEniId: DST,
    srcIp: "10.0.1.10",
    dstIp: "10.0.1.20",
    srcPort,
    dstPort: 443,
    trafficPath: 1,
  });
  /** Delivered lines of one flow log, by stream (interface). */
  const lines = (flowLogId: string) => {
    const out: Record<string, string[]> = {};
    for (const b of delivered)
      if (b.flowLog.id === flowLogId) out[b.interfaceId] = [...(out[b.interfaceId] ?? []), ...b.lines];
    return out;
  };
  return {
    state,
    recorder,
    delivered,
    flow,
    lines,
    at: (t: number) => {
      now = T0 + t;
    },
  };
}

describe("flow-log records of closed flows", () => {
  it("a flow closed early in its window is delivered when the window is over, for 60 s and 600 s intervals", async () => {
    const w = world();
    const meter = w.recorder.opened(w.flow(40000))!;
    w.at(2);
    meter.bytesIn(1000);
    meter.bytesOut(5000);
    w.at(4);
    meter.closed("fin");
    w.at(59);
    await w.recorder.tick();
    expect(w.delivered).toEqual([]);

    w.at(60);
    await w.recorder.tick();
    // v2: request and response directions on each interface of the VPC, window [T0, T0+4].
    // Packets: the SYN (SYN-ACK), the data in MSS segments (1 and 4), the FIN.
    const req = `2 ${ACCOUNT} %s 10.0.1.10 10.0.1.20 40000 443 6 3 1000 ${T0} ${T0 + 4} ACCEPT OK`;
    const resp = `2 ${ACCOUNT} %s 10.0.1.20 10.0.1.10 443 40000 6 6 5000 ${T0} ${T0 + 4} ACCEPT OK`;
    expect(w.lines("fl-minute")).toEqual({
      [SRC]: [req.replace("%s", SRC), resp.replace("%s", SRC)],
      [DST]: [req.replace("%s", DST), resp.replace("%s", DST)],
    });
    expect(w.delivered.every((b) => b.start === T0)).toBe(true);
    expect(w.lines("fl-ten")).toEqual({});

    w.at(599);
    await w.recorder.tick();
    expect(w.lines("fl-ten")).toEqual({});
    w.at(600);
    await w.recorder.tick();
    // Custom v5 fields: SYN|FIN = 3 out, SYN-ACK|FIN = 19 back; the source's egress has a path.
    expect(w.lines("fl-ten")).toEqual({
      [SRC]: [
        `5 ${SRC} 40000 443 3 1000 ${T0} ${T0 + 4} ACCEPT 3 use1-az1 egress 1`,
        `5 ${SRC} 443 40000 6 5000 ${T0} ${T0 + 4} ACCEPT 19 use1-az1 ingress -`,
      ],
      [DST]: [
        `5 ${DST} 40000 443 3 1000 ${T0} ${T0 + 4} ACCEPT 3 use1-az1 ingress -`,
        `5 ${DST} 443 40000 6 5000 ${T0} ${T0 + 4} ACCEPT 19 use1-az1 egress 1`,
      ],
    });
    // Delivered once: later ticks find nothing more.
    const count = w.delivered.length;
    w.at(1300);
    await w.recorder.tick();
    expect(w.delivered).toHaveLength(count);
  });

  it("a flow open across a window boundary gets a record per window; its last is due a window after the previous closed", async () => {
    const w = world();
    const meter = w.recorder.opened(w.flow(40001))!;
    w.at(10);
    meter.bytesIn(100);
    w.at(60);
    await w.recorder.tick();
    expect(w.lines("fl-minute")[SRC]).toEqual([
      `2 ${ACCOUNT} ${SRC} 10.0.1.10 10.0.1.20 40001 443 6 2 100 ${T0} ${T0 + 10} ACCEPT OK`,
      `2 ${ACCOUNT} ${SRC} 10.0.1.20 10.0.1.10 443 40001 6 1 40 ${T0} ${T0 + 10} ACCEPT OK`,
    ]);
    w.at(70);
    meter.bytesOut(3000);
    meter.closed("reset");
    w.delivered.length = 0;
    w.at(119);
    await w.recorder.tick();
    expect(w.lines("fl-minute")).toEqual({});
    w.at(120);
    await w.recorder.tick();
    // The second window: the reset in both directions, the response's 3000 bytes in 3 segments.
    expect(w.lines("fl-minute")[SRC]).toEqual([
      `2 ${ACCOUNT} ${SRC} 10.0.1.10 10.0.1.20 40001 443 6 1 40 ${T0 + 70} ${T0 + 70} ACCEPT OK`,
      `2 ${ACCOUNT} ${SRC} 10.0.1.20 10.0.1.10 443 40001 6 4 3000 ${T0 + 70} ${T0 + 70} ACCEPT OK`,
    ]);
  });

  it("a refusal is a REJECT of one SYN on the refusing interface, due when its window is over", async () => {
    const w = world();
    w.at(30);
    w.recorder.refused({ ...w.flow(40002), rejectEniId: DST, reason: "security group" });
    w.at(89);
    await w.recorder.tick();
    expect(w.delivered).toEqual([]);
    w.at(90);
    await w.recorder.tick();
    expect(w.lines("fl-minute")).toEqual({
      [DST]: [`2 ${ACCOUNT} ${DST} 10.0.1.10 10.0.1.20 40002 443 6 1 60 ${T0 + 30} ${T0 + 30} REJECT OK`],
    });
  });

  it("many closed flows due together arrive whole, in one batch per interface", async () => {
    const w = world();
    // Enough lines to fill several spool chunks; the last request is 3000 bytes: SYN, 3 segments, FIN.
    const n = 3000;
    for (let i = 0; i < n; i++) {
      const m = w.recorder.opened(w.flow(10000 + i))!;
      m.bytesIn(i + 1);
      m.closed("fin");
    }
    w.at(60);
    await w.recorder.tick();
    const minute = w.delivered.filter((b) => b.flowLog.id === "fl-minute");
    expect(minute.map((b) => [b.interfaceId, b.lines.length])).toEqual([
      [SRC, 2 * n],
      [DST, 2 * n],
    ]);
    const ports = minute[0]!.lines.filter((_, i) => i % 2 === 0).map((l) => Number(l.split(" ")[5]));
    expect(ports).toEqual(Array.from({ length: n }, (_, i) => 10000 + i));
    expect(minute[0]!.lines[2 * n - 2]).toBe(
      `2 ${ACCOUNT} ${SRC} 10.0.1.10 10.0.1.20 ${10000 + n - 1} 443 6 5 ${n} ${T0} ${T0} ACCEPT OK`,
    );
  });

  it("the default format's lines, written value by value, are those the format's fields render", async () => {
    const w = world();
    // The default fields and one more: rendered field by field from records, not written directly.
    w.state.transact((tx) =>
      tx.put("flowLog", flowLog("fl-fields", 60, `${DEFAULT_LOG_FORMAT} \${tcp-flags}`)),
    );
    for (let i = 0; i < 50; i++) {
      const m = w.recorder.opened(w.flow(1 + i * 1309))!;
      w.at(i % 7);
      m.bytesIn(i * 977);
      if (i % 3) m.bytesOut(i ** 4);
      m.closed(i % 5 ? "fin" : "reset");
    }
    w.recorder.refused({ ...w.flow(65535), rejectEniId: SRC, reason: "security group" });
    // Every window is over (the last flows opened at 6 s).
    w.at(70);
    await w.recorder.tick();
    // The same fields but the version (3 with tcp-flags) and the flags themselves.
    const middle = (flowLogId: string, end: (l: string) => number) =>
      Object.fromEntries(
        Object.entries(w.lines(flowLogId)).map(([eni, lines]) => [
          eni,
          lines.map((l) => l.slice(l.indexOf(" ") + 1, end(l))),
        ]),
      );
    const fields = middle("fl-fields", (l) => l.lastIndexOf(" "));
    expect(fields[SRC]).toHaveLength(2 * 50 + 1);
    expect(middle("fl-minute", (l) => l.length)).toEqual(fields);
    expect(
      Object.values(w.lines("fl-minute"))
        .flat()
        .every((l) => l.startsWith("2 ")),
    ).toBe(true);
  });
});

describe("early delivery (the metering bench's)", () => {
  it("tick(true) delivers closed flows' lines before their window is over, once", async () => {
    const w = world();
    const m = w.recorder.opened(w.flow(40003))!;
    m.bytesIn(10);
    m.closed("fin");
    const open = w.recorder.opened(w.flow(40004))!;
    w.at(5);
    await w.recorder.tick(true);
    // The closed flow's lines only: the open flow's window is not cut.
    expect(w.lines("fl-minute")[SRC]).toEqual([
      `2 ${ACCOUNT} ${SRC} 10.0.1.10 10.0.1.20 40003 443 6 3 10 ${T0} ${T0} ACCEPT OK`,
      `2 ${ACCOUNT} ${SRC} 10.0.1.20 10.0.1.10 443 40003 6 2 80 ${T0} ${T0} ACCEPT OK`,
    ]);
    const count = w.delivered.length;
    await w.recorder.tick(true);
    expect(w.delivered).toHaveLength(count);
    open.closed("fin");
  });
});
