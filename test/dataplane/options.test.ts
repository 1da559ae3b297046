import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseIdleTimeout } from "../../src/cli/server.js";
import { State } from "../../src/cloud/state.js";
import { DataPlane } from "../../src/net/dataplane.js";
import { HealthChecker, type HealthTimers } from "../../src/net/health.js";
import { createDataPlaneHost } from "../../src/net/host.js";
import { AWS_IDLE_TIMEOUT_MS } from "../../src/net/relay.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { spawnPrivlink } from "../helpers/spawn.js";
import { collect, type Listening, listen } from "../net/sockets.js";
import {
  addresses,
  allowFromGroup,
  type Consumer,
  exchange,
  makeConsumer,
  makeProvider,
  type Provider,
  until,
  waitEndpoint,
} from "./world.js";

/** Answers every connection with its own tag, so that a test sees which target got it. */
function tagged(tag: string) {
  return (s: Socket) => {
    s.resume();
    s.once("data", () => s.write(tag));
    s.on("end", () => s.end());
  };
}

/** Health-check timers that fire only when the test says so. */
function manualTimers() {
  let pending: (() => void)[] = [];
  const timers: HealthTimers = {
    setTimeout: (fn) => {
      pending.push(fn);
      return fn;
    },
    clearTimeout: (h) => {
      pending = pending.filter((f) => f !== h);
    },
  };
  const fireAll = () => {
    const due = pending;
    pending = [];
    for (const f of due) f();
  };
  return { timers, fireAll };
}

describe("data plane options", () => {
  it("defaults the idle timeout to AWS's 350 s and passes the host's option through", () => {
    const state = new State();
    expect(new DataPlane({ state }).idleTimeoutMs).toBe(AWS_IDLE_TIMEOUT_MS);
    expect(AWS_IDLE_TIMEOUT_MS).toBe(350_000);
    expect(createDataPlaneHost({ state, idleTimeoutMs: 1234 }).dataplane.idleTimeoutMs).toBe(1234);
    expect(() => new DataPlane({ state, idleTimeoutMs: 0 })).toThrow(RangeError);
  });
});

describe("privlink's idle timeout (`privlink up --idle-timeout`, PRIVLINK_IDLE_TIMEOUT)", () => {
  it("reaches the data plane and both of the front's idle limits; an explicit front limit wins", async () => {
    const srv = await startTestServer({ idleTimeoutMs: 4321, frontLimits: { requestIdleTimeoutMs: 999 } });
    try {
      expect(srv.dataplane.dataplane.idleTimeoutMs).toBe(4321);
      expect(srv.front.limits.idleTimeoutMs).toBe(4321);
      expect(srv.front.limits.requestIdleTimeoutMs).toBe(999);
    } finally {
      await srv.stop();
    }
  });

  it("is read from `privlink up --idle-timeout` in whole seconds, and said at start", async () => {
    expect(parseIdleTimeout("350")).toBe(350_000);
    expect(parseIdleTimeout("604800")).toBe(604_800_000);
    for (const bad of ["0", "1.5", "-3", "604801", "", "ten"])
      expect(() => parseIdleTimeout(bad), bad).toThrow(/--idle-timeout takes whole seconds/);
    const home = mkdtempSync(join(tmpdir(), "privlink-idle-"));
    const up = await spawnPrivlink(home, ["--idle-timeout", "42"]);
    try {
      await until(
        () => (up.output().includes("idle flows  reset after 42 s") ? true : undefined),
        "the banner",
      );
      // Written where `privlink status` and scripts find the running server.
      expect(JSON.parse(readFileSync(join(home, "server.json"), "utf8")).idleTimeoutSeconds).toBe(42);
    } finally {
      up.child.kill("SIGTERM");
      await new Promise((r) => up.child.once("exit", r));
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("defaults to AWS's 350 s everywhere", async () => {
    const srv = await startTestServer();
    try {
      expect(srv.dataplane.dataplane.idleTimeoutMs).toBe(350_000);
      expect(srv.front.limits.idleTimeoutMs).toBe(350_000);
      expect(srv.front.limits.requestIdleTimeoutMs).toBe(350_000);
    } finally {
      await srv.stop();
    }
  });
});

/**
 * The server's own data plane is replaced by one built with the options under test, on the same
 * state (a restart of the data plane alone): same endpoint, same listeners, real connections.
 */
describe("a data plane with its own options, through a real endpoint", () => {
  let server: TestServer;
  const targets: Listening[] = [];
  let provider: Provider;
  let consumer: Consumer;
  let dp: DataPlane | undefined;

  const up = new Set<number>();
  const clock = manualTimers();
  const to = () => ({ host: addresses(server, consumer).endpoint, port: provider.listenerPort });
  const from = () => addresses(server, consumer).workload;

  async function replaceDataPlane(make: () => DataPlane): Promise<DataPlane> {
    await (dp ?? server.dataplane.dataplane).close();
    dp = make();
    await dp.start();
    return dp;
  }

  beforeAll(async () => {
    server = await startTestServer();
    targets.push(await listen(tagged("0")), await listen(tagged("1")));
    provider = await makeProvider(server, {
      accountId: "141400000001",
      targets: targets.map((t) => ({ host: "127.0.0.1", port: t.port })),
      allow: ["141400000002"],
      acceptanceRequired: false,
    });
    consumer = await makeConsumer(server, "141400000002", provider.serviceName);
    await allowFromGroup(consumer, provider.listenerPort);
    await waitEndpoint(consumer, "available");
  });

  afterAll(async () => {
    await dp?.close();
    await server?.stop();
    for (const t of targets) await t.close();
  });

  it("re-routes cached decisions when target health changes, with the state unchanged", async () => {
    const d = await replaceDataPlane(
      () =>
        new DataPlane({
          state: server.state,
          health: new HealthChecker({ timers: clock.timers, probe: async (t) => up.has(t.port) }),
        }),
    );
    const [t0, t1] = targets.map((t) => t.port) as [number, number];
    const health = (port: number) => d.healthOf(provider.tgArn, { id: "127.0.0.1", port });
    const tags = async (n: number) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        const r = await exchange(to(), from(), Buffer.from("?"));
        out.push(r.kind === "data" ? r.data.toString() : r.code);
      }
      return out;
    };
    up.add(t0);
    await until(() => {
      clock.fireAll();
      return health(t0) === "healthy" && health(t1) !== "healthy" ? true : undefined;
    }, "target 0 healthy");
    const version = server.state.version;
    expect(await tags(4)).toEqual(["0", "0", "0", "0"]);
    up.clear();
    up.add(t1);
    // Two failed checks (the group's unhealthy threshold) take target 0 out; one passed check puts 1 in.
    await until(() => {
      clock.fireAll();
      return health(t0) === "unhealthy" && health(t1) === "healthy" ? true : undefined;
    }, "health flipped");
    expect(await tags(4)).toEqual(["1", "1", "1", "1"]);
    expect(server.state.version).toBe(version);
  });

  it("resets a connection idle for longer than the configured idle timeout", async () => {
    const d = await replaceDataPlane(() => new DataPlane({ state: server.state, idleTimeoutMs: 300 }));
    expect(d.idleTimeoutMs).toBe(300);
    const socket = connect({ ...to(), localAddress: from(), allowHalfOpen: true });
    await new Promise((r) => socket.once("connect", r));
    socket.write("ping");
    await new Promise((r) => socket.once("data", r));
    const result = await collect(socket);
    expect(result.ended).toBe(false);
    expect(result.error?.code).toBe("ECONNRESET");
    // The client hears the reset before the relay's own close events have run.
    const row = await until(() => {
      const r = d.meter.snapshot().endpoints.find((e) => e.vpcEndpointId === consumer.endpointId);
      return r?.activeConnections === 0 ? r : undefined;
    }, "the relay closed");
    expect(row).toMatchObject({ newConnections: 1, resets: 1, idleTimeouts: 1 });
  });
  it("refuses a flood past the per-endpoint connection limit and serves again once one closes", async () => {
    const d = await replaceDataPlane(
      () => new DataPlane({ state: server.state, maxConnectionsPerEndpoint: 2 }),
    );
    const open = async () => {
      const socket = connect({ ...to(), localAddress: from(), allowHalfOpen: true });
      await new Promise((r) => socket.once("connect", r));
      socket.write("?");
      await new Promise((r) => socket.once("data", r));
      return socket;
    };
    const held = [await open(), await open()];
    const refused = await exchange(to(), from(), Buffer.from("?"));
    expect(refused.kind).not.toBe("data");
    const row = () => d.meter.snapshot().endpoints.find((e) => e.vpcEndpointId === consumer.endpointId);
    expect(row()).toMatchObject({ activeConnections: 2, dropped: 1 });
    held[0]!.destroy();
    await until(() => (row()?.activeConnections === 1 ? true : undefined), "one connection closed");
    const again = await exchange(to(), from(), Buffer.from("?"));
    expect(again.kind).toBe("data");
    held[1]!.destroy();
  });
});
