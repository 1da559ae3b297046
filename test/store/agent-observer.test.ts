/**
 * The API node's side of agents' metering and flow logs (src/agent/observer.ts) against a real
 * PostgreSQL, without agents or namespaces: agents' rows and outbox entries are written as an
 * agent writes them (test/agent/agents.test.ts runs the whole path with real agents, as root).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentObserver, observeAgents } from "../../src/agent/observer.js";
import { encodeBatch, FlowLogOutbox } from "../../src/agent/outbox.js";
import { State } from "../../src/cloud/state.js";
import type { FlowLog } from "../../src/cloud/types.js";
import type { Stats } from "../../src/net/meter.js";
import type { FlowLogBatch } from "../../src/services/flowlogs/destinations.js";
import { agentMeterKey, Leases } from "../../src/store/leases.js";
import { PostgresStore } from "../../src/store/postgres.js";
import { postgresMissing, startPostgres, type TestPostgres } from "../helpers/postgres.js";

const missing = postgresMissing();
if (missing) console.log(`skipping the agent observer tests: ${missing}`);

const counters = (bytesIn: number, activeConnections: number): Stats => ({
  endpoints: [
    {
      vpcEndpointId: "vpce-1",
      bytesIn,
      bytesOut: 0,
      newConnections: 1,
      activeConnections,
      resets: 0,
      idleTimeouts: 0,
      dropped: 0,
    },
  ],
  enis: [],
  natGateways: [],
});
const none: Stats = { endpoints: [], enis: [], natGateways: [] };

describe.skipIf(missing)("an API node observing agents through the store", () => {
  let pgs: TestPostgres;
  let store: PostgresStore;
  let leases: Leases;
  let state: State;
  let observer: AgentObserver | undefined;
  const delivered: FlowLogBatch[] = [];
  const flowLog = {
    id: "fl-1",
    logDestinationType: "cloud-watch-logs",
    deliverLogsStatus: "SUCCESS",
  } as FlowLog;

  beforeAll(async () => {
    pgs = await startPostgres();
    const url = await pgs.createDatabase();
    store = await PostgresStore.open(url);
    state = new State(store);
    store.loadInto(state);
    await state.transactDurable((tx) => tx.put("flowLog", flowLog));
    leases = await Leases.open(url);
    await leases.renew({ name: "x", address: "10.0.0.1:4600", key: "k" }, 600_000);
    // What agent x had counted before this API node started.
    store.setMeta(agentMeterKey("meter", "x"), JSON.stringify(counters(100, 2)));
    await store.durable();
    observer = observeAgents({
      store: url,
      state,
      deliver: async (b) => void delivered.push(b),
      everyMs: 3_600_000,
    });
  });
  afterAll(async () => {
    await observer?.close();
    await leases?.close();
    await store?.close();
    await pgs?.stop();
  });

  const endpointRow = () => observer!.withAgents(none).endpoints[0];

  it("publishes the growth of an agent's counters since it started, not their history", async () => {
    await observer!.refresh();
    expect(endpointRow()).toMatchObject({ bytesIn: 0, newConnections: 0, activeConnections: 2 });
    store.setMeta(agentMeterKey("meter", "x"), JSON.stringify(counters(150, 1)));
    await store.durable();
    await observer!.refresh();
    expect(endpointRow()).toMatchObject({ bytesIn: 50, activeConnections: 1 });
    // Added to this node's own counters for the same endpoint.
    expect(observer!.withAgents(counters(7, 0)).endpoints[0]).toMatchObject({
      bytesIn: 57,
      activeConnections: 1,
    });
    // An agent whose lease ended keeps its counted bytes, but its open connections died with it.
    await leases.release("x");
    await observer!.refresh();
    expect(endpointRow()).toMatchObject({ bytesIn: 50, activeConnections: 0 });
  });

  it("delivers the flow-log batches agents queued, once, with the flow log as it is now", async () => {
    const outbox = new FlowLogOutbox(state);
    const batch = (id: string, line: string): FlowLogBatch => ({
      flowLog: { ...flowLog, id },
      interfaceId: "eni-1",
      header: "srcaddr dstaddr",
      lines: [line],
      start: 1_800_000_000,
    });
    await outbox.destinations()["cloud-watch-logs"].deliver(batch("fl-1", "10.1.1.4 10.1.1.5"));
    // A batch of a flow log deleted since: dropped, as the recorder drops a deleted log's windows.
    await outbox.destinations().s3.deliver(batch("fl-gone", "10.1.1.4 10.1.1.6"));
    expect(outbox.size).toBe(2);
    await outbox.ship((b) => leases.queueFlowLogs("x", b));
    expect(outbox.size).toBe(0);
    await observer!.refresh();
    expect(delivered.map((b) => [b.flowLog.id, b.interfaceId, b.lines])).toEqual([
      ["fl-1", "eni-1", ["10.1.1.4 10.1.1.5"]],
    ]);
    expect(delivered[0]!.flowLog).toEqual(state.get("flowLog", "fl-1"));
    await observer!.refresh();
    expect(delivered).toHaveLength(1);
    expect(JSON.parse(encodeBatch(delivered[0]!))).toMatchObject({ flowLogId: "fl-1", start: 1_800_000_000 });
  });

  it("keeps an agent's batches queued while the store refuses them", async () => {
    const outbox = new FlowLogOutbox(state);
    await outbox.destinations().file.deliver({
      flowLog,
      interfaceId: "eni-2",
      header: "h",
      lines: ["l"],
      start: 1,
    });
    await expect(
      outbox.ship(async () => {
        throw new Error("connection terminated");
      }),
    ).rejects.toThrow("connection terminated");
    expect(outbox.size).toBe(1);
  });
});
