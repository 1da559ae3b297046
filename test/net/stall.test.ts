import type { Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { IdleSweep } from "../../src/net/idle-sweep.js";
import { Meter } from "../../src/net/meter.js";
import { connectUpstream, relay } from "../../src/net/relay.js";
import { collect, dial, echo, eventually, listen } from "./sockets.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** Sends `text` and waits for the echo: the flow moved bytes both ways. */
async function roundTrip(socket: Socket, text: string): Promise<string> {
  const back = new Promise<string>((resolve) => socket.once("data", (d: Buffer) => resolve(d.toString())));
  socket.write(text);
  return back;
}

/**
 * Relayed flows through an echo upstream, counted on a real Meter as the data plane counts
 * endpoint flows, and swept by one IdleSweep on a clock the test moves: no timer, no waiting
 * on wall time, so nothing here depends on the machine's speed.
 */
async function rig() {
  let now = 0;
  const sweep = new IdleSweep(350_000, { now: () => now, intervalMs: 0 });
  const meter = new Meter();
  const upstream = await listen(echo);
  const front = await listen((client) => {
    const counter = meter.open("eni-0123456789abcdef0", "vpce-0123456789abcdef0");
    const handle = relay(client, () => connectUpstream(upstream), { idle: sweep, meter: counter });
    counter.track(handle);
  });
  cleanups.push(async () => {
    sweep.close();
    await front.close();
    await upstream.close();
  });
  const row = () => meter.snapshot().endpoints[0]!;
  const at = (ms: number) => {
    now = ms;
  };
  return { sweep, row, port: front.port, at };
}

describe("idle flows (AWS: 350 s without a byte resets the flow)", () => {
  it("resets a flow idle past the timeout and counts it; a flow that moved bytes stays open", async () => {
    const { sweep, row, port, at } = await rig();
    const idle = await dial(port);
    const active = await dial(port);
    expect(await roundTrip(idle, "a")).toBe("a");
    expect(await roundTrip(active, "b")).toBe("b");
    await eventually(() => sweep.size === 2);
    expect(sweep.sweep()).toBe(0);

    at(200_000);
    expect(await roundTrip(active, "c")).toBe("c");
    expect(sweep.sweep()).toBe(0);

    at(349_999);
    expect(sweep.sweep()).toBe(0);
    const idleEnd = collect(idle);
    at(360_000);
    expect(sweep.sweep()).toBe(1);
    expect((await idleEnd).error?.code).toBe("ECONNRESET");
    // The active flow was last seen moving at 200 s: it is 160 s idle, not 350.
    expect(await roundTrip(active, "d")).toBe("d");
    await eventually(() => row().activeConnections === 1);
    expect(row()).toMatchObject({ newConnections: 2, activeConnections: 1, resets: 1, idleTimeouts: 1 });
    expect(sweep.expired).toBe(1);
    expect(sweep.size).toBe(1);

    const activeEnd = collect(active);
    active.end();
    expect((await activeEnd).ended).toBe(true);
    await eventually(() => row().activeConnections === 0);
    expect(row()).toMatchObject({ newConnections: 2, resets: 1, idleTimeouts: 1 });
    expect(sweep.size).toBe(0);
  });

  it("never resets a flow before the timeout, however often the sweep runs", async () => {
    const { sweep, row, port, at } = await rig();
    const client = await dial(port);
    expect(await roundTrip(client, "x")).toBe("x");
    await eventually(() => sweep.size === 1);
    for (let t = 0; t < 350_000; t += 25_000) {
      at(t);
      expect(sweep.sweep()).toBe(0);
    }
    expect(row()).toMatchObject({ activeConnections: 1, resets: 0, idleTimeouts: 0 });
    const end = collect(client);
    at(700_000);
    expect(sweep.sweep()).toBe(1);
    expect((await end).error?.code).toBe("ECONNRESET");
    await eventually(() => row().activeConnections === 0);
    expect(row()).toMatchObject({ resets: 1, idleTimeouts: 1 });
  });

  it("sweeps on its own timer with a short configured timeout, and stops the timer once no flow is left", async () => {
    const sweep = new IdleSweep(200);
    const meter = new Meter();
    const upstream = await listen(echo);
    const front = await listen((client) => {
      const counter = meter.open(undefined, "vpce-0fedcba9876543210");
      counter.track(relay(client, () => connectUpstream(upstream), { idle: sweep, meter: counter }));
    });
    cleanups.push(async () => {
      sweep.close();
      await front.close();
      await upstream.close();
    });
    const client = await dial(front.port);
    const result = await collect(client);
    expect(result.error?.code).toBe("ECONNRESET");
    await eventually(() => meter.snapshot().endpoints[0]?.activeConnections === 0);
    expect(meter.snapshot().endpoints[0]).toMatchObject({ newConnections: 1, resets: 1, idleTimeouts: 1 });
    await eventually(() => !sweep.running);
  });
});
