import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import {
  HealthChecker,
  type HealthCheckOptions,
  type HealthState,
  type HealthTimers,
  tcpProbe,
} from "../../src/net/health.js";
import { closedPort, eventually, type Listening, listen } from "./sockets.js";

/** Timers that fire only when the test says so. */
function manualTimers() {
  const pending = new Map<number, () => void>();
  let next = 0;
  const timers: HealthTimers = {
    setTimeout: (fn) => {
      pending.set(++next, fn);
      return next;
    },
    clearTimeout: (h) => void pending.delete(h as number),
  };
  const fireAll = () => {
    const due = [...pending.values()];
    pending.clear();
    for (const fn of due) fn();
  };
  return { timers, pending, fireAll };
}

const flush = () => new Promise((r) => setImmediate(r));
const opts = (healthyThreshold: number, unhealthyThreshold: number): HealthCheckOptions => ({
  intervalMs: 10_000,
  timeoutMs: 5_000,
  healthyThreshold,
  unhealthyThreshold,
});

/** Probe outcomes in order, and the state after each check. */
const scenarios: {
  name: string;
  thresholds: [number, number];
  outcomes: boolean[];
  states: HealthState[];
}[] = [
  {
    name: "a new target serves after its first good check",
    thresholds: [3, 2],
    outcomes: [true, true],
    states: ["healthy", "healthy"],
  },
  {
    name: "a dead new target turns unhealthy after the unhealthy threshold",
    thresholds: [3, 2],
    outcomes: [false, false, false],
    states: ["initial", "unhealthy", "unhealthy"],
  },
  {
    name: "recovery needs the healthy threshold",
    thresholds: [3, 2],
    outcomes: [false, false, true, true, true],
    states: ["initial", "unhealthy", "unhealthy", "unhealthy", "healthy"],
  },
  {
    name: "a failure resets the success streak",
    thresholds: [2, 2],
    outcomes: [true, false, false, true, false, true, true],
    states: ["healthy", "healthy", "unhealthy", "unhealthy", "unhealthy", "unhealthy", "healthy"],
  },
  {
    name: "one failure does not flip a healthy target with threshold 2",
    thresholds: [2, 2],
    outcomes: [true, false, true, false],
    states: ["healthy", "healthy", "healthy", "healthy"],
  },
];

describe("HealthChecker state machine", () => {
  for (const s of scenarios) {
    it(s.name, async () => {
      const { timers, fireAll } = manualTimers();
      const outcomes = [...s.outcomes];
      const checker = new HealthChecker({ timers, probe: async () => outcomes.shift() ?? false });
      const changes: HealthState[] = [];
      const watch = checker.watch({ host: "127.0.0.1", port: 1 }, opts(...s.thresholds), (st) =>
        changes.push(st),
      );
      const seen: HealthState[] = [];
      for (let i = 0; i < s.states.length; i++) {
        if (i > 0) fireAll();
        await flush();
        seen.push(watch.state);
      }
      expect(seen).toEqual(s.states);
      // Only transitions are reported, starting with "initial" at registration.
      const transitions = ["initial" as HealthState, ...s.states].filter(
        (st, i, all) => i === 0 || st !== all[i - 1],
      );
      expect(changes).toEqual(transitions);
      checker.close();
    });
  }

  it("checks once at registration, then once per interval, and stops on unwatch", async () => {
    const { timers, pending, fireAll } = manualTimers();
    let probes = 0;
    const checker = new HealthChecker({
      timers,
      probe: async () => {
        probes++;
        return true;
      },
    });
    const watch = checker.watch({ host: "127.0.0.1", port: 1 }, opts(2, 2), () => undefined);
    expect(probes).toBe(1);
    await flush();
    fireAll();
    await flush();
    expect(probes).toBe(2);
    watch.unwatch();
    expect(pending.size).toBe(0);
    expect(checker.size).toBe(0);
  });

  it("drops the result of a check that was in flight at close()", async () => {
    const { timers, pending } = manualTimers();
    let answer: (ok: boolean) => void = () => undefined;
    const checker = new HealthChecker({ timers, probe: () => new Promise((r) => (answer = r)) });
    const changes: HealthState[] = [];
    checker.watch({ host: "127.0.0.1", port: 1 }, opts(1, 1), (st) => changes.push(st));
    checker.close();
    answer(true);
    await flush();
    expect(changes).toEqual(["initial"]);
    expect(pending.size).toBe(0);
  });

  it.each([
    ["a zero interval", { ...opts(2, 2), intervalMs: 0 }],
    ["a fractional threshold", opts(1.5, 2)],
  ])("rejects %s", (_name, bad) => {
    expect(() => new HealthChecker().watch({ host: "127.0.0.1", port: 1 }, bad, () => undefined)).toThrow(
      RangeError,
    );
  });
});

describe("HealthChecker on real sockets", () => {
  it("tcpProbe succeeds on a listener and fails on a closed port", async () => {
    const target = await listen(() => undefined);
    expect(await tcpProbe(target, 2000)).toBe(true);
    await target.close();
    expect(await tcpProbe({ host: "127.0.0.1", port: await closedPort() }, 2000)).toBe(false);
  });

  it("flips to unhealthy when the target stops and back when it returns", async () => {
    // An address of its own, so that no parallel test can take the port while it is free.
    let target: Listening = await listen(() => undefined, "127.77.9.1");
    const { host, port } = target;
    const checker = new HealthChecker();
    const changes: HealthState[] = [];
    const fast = { intervalMs: 20, timeoutMs: 1000, healthyThreshold: 2, unhealthyThreshold: 2 };
    checker.watch({ host, port }, fast, (st) => changes.push(st));
    await eventually(() => changes.at(-1) === "healthy");
    await target.close();
    await eventually(() => changes.at(-1) === "unhealthy");
    target = await listenOn(host, port);
    await eventually(() => changes.at(-1) === "healthy");
    expect(changes).toEqual(["initial", "healthy", "unhealthy", "healthy"]);
    checker.close();
    await target.close();
  });
});

/** Re-listens on a port that was just released by this test. */
async function listenOn(host: string, port: number): Promise<Listening> {
  const server = createServer((s) => s.on("error", () => undefined));
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return { server, port, host, accepted: [], close: () => new Promise((r) => server.close(() => r())) };
}
