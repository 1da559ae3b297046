import type { Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ListenerSet, type ListenerSpec, listenerKey, refuse } from "../../src/net/listener.js";
import { collect, collectAndEnd, dial, eventually } from "./sockets.js";

const sets: ListenerSet[] = [];
afterEach(async () => {
  for (const s of sets.splice(0)) await s.close();
});

function newSet(): ListenerSet {
  const set = new ListenerSet();
  sets.push(set);
  return set;
}

/** A handler that answers with its name, so a test sees which handler took the connection. */
function named(name: string, host: string, port = 0): ListenerSpec {
  return { host, port, onConnection: (s: Socket) => s.end(name) };
}

async function ask(port: number, host: string): Promise<{ text: string; code?: string }> {
  try {
    const got = await collectAndEnd(await dial(port, host));
    return { text: got.data.toString(), code: got.error?.code };
  } catch (e) {
    return { text: "", code: (e as NodeJS.ErrnoException).code };
  }
}

// Loopback aliases beyond 127.0.0.1 need no interface setup on Linux: all of 127/8 is local.
const hosts = ["127.0.0.1", "127.77.3.4"];

describe("ListenerSet", () => {
  it("opens, updates in place and closes listeners to match the desired set", async () => {
    const set = newSet();
    const a = listenerKey(hosts[0]!, 0);
    const b = listenerKey(hosts[1]!, 0);
    const first = await set.reconcile(
      new Map([
        [a, named("a1", hosts[0]!)],
        [b, named("b1", hosts[1]!)],
      ]),
    );
    expect(first.opened.sort()).toEqual([a, b].sort());
    const portA = set.port(a)!;
    const portB = set.port(b)!;
    expect(await ask(portA, hosts[0]!)).toEqual({ text: "a1", code: undefined });
    expect(await ask(portB, hosts[1]!)).toEqual({ text: "b1", code: undefined });

    const second = await set.reconcile(new Map([[a, named("a2", hosts[0]!)]]));
    expect(second).toEqual({ opened: [], closed: [b], updated: [a], failed: [] });
    expect(set.port(a)).toBe(portA);
    expect(await ask(portA, hosts[0]!)).toEqual({ text: "a2", code: undefined });
    expect((await ask(portB, hosts[1]!)).code).toBe("ECONNREFUSED");
    expect(set.keys()).toEqual([a]);
  });

  it("leaves an unchanged spec alone", async () => {
    const set = newSet();
    const spec = named("same", "127.77.3.5");
    const desired = new Map([[listenerKey(spec.host, 0), spec]]);
    await set.reconcile(desired);
    expect(await set.reconcile(desired)).toEqual({ opened: [], closed: [], updated: [], failed: [] });
  });

  it("reopens a key whose address changed", async () => {
    const set = newSet();
    await set.reconcile(new Map([["k", named("first", "127.77.3.8")]]));
    const moved = await set.reconcile(new Map([["k", named("moved", "127.77.3.9")]]));
    expect(moved).toMatchObject({ opened: ["k"], closed: ["k"], updated: [] });
    expect(await ask(set.port("k")!, "127.77.3.9")).toEqual({ text: "moved", code: undefined });
  });

  it("reports an address already in use and retries it on the next reconcile", async () => {
    const owner = newSet();
    const host = "127.77.3.6";
    await owner.reconcile(new Map([["x", named("owner", host)]]));
    const port = owner.port("x")!;
    const key = listenerKey(host, port);
    const set = newSet();
    const clash = await set.reconcile(new Map([[key, named("second", host, port)]]));
    expect(clash.failed.map((f) => [f.key, (f.error as NodeJS.ErrnoException).code])).toEqual([
      [key, "EADDRINUSE"],
    ]);
    expect(set.has(key)).toBe(false);
    await owner.close();
    const retry = await set.reconcile(new Map([[key, named("second", host, port)]]));
    expect(retry.opened).toEqual([key]);
    expect(await ask(port, host)).toEqual({ text: "second", code: undefined });
  });

  it("applies overlapping reconciles in call order", async () => {
    const set = newSet();
    const spec = named("k", "127.77.3.7");
    const key = listenerKey(spec.host, 0);
    const results = await Promise.all([
      set.reconcile(new Map([[key, spec]])),
      set.reconcile(new Map()),
      set.reconcile(new Map([[key, spec]])),
    ]);
    expect(results.map((r) => [r.opened, r.closed])).toEqual([
      [[key], []],
      [[], [key]],
      [[key], []],
    ]);
    expect(set.size).toBe(1);
  });

  it("opens and closes hundreds of listeners across 127.S.x.y addresses", async () => {
    const set = newSet();
    const desired = new Map<string, ListenerSpec>();
    for (let i = 0; i < 300; i++) {
      const host = `127.78.${1 + (i >> 8)}.${i & 0xff}`;
      desired.set(listenerKey(host, 0), named(host, host));
    }
    const opened = await set.reconcile(desired);
    expect(opened.opened.length).toBe(300);
    const sample = [...desired.keys()].filter((_, i) => i % 50 === 0);
    for (const key of sample) {
      const host = key.slice(0, key.lastIndexOf(":"));
      expect((await ask(set.port(key)!, host)).text).toBe(host);
    }
    const closed = await set.reconcile(new Map());
    expect(closed.closed.length).toBe(300);
    expect(set.size).toBe(0);
  });

  it("refuse() answers a connection with a TCP reset", async () => {
    const set = newSet();
    await set.reconcile(new Map([["r", { host: "127.0.0.1", port: 0, onConnection: refuse }]]));
    const got = await ask(set.port("r")!, "127.0.0.1");
    expect(got.code).toBe("ECONNRESET");
  });

  it("closing a listener keeps the connections it already accepted", async () => {
    const set = newSet();
    const accepted: Socket[] = [];
    await set.reconcile(
      new Map([["k", { host: "127.0.0.1", port: 0, onConnection: (s: Socket) => void accepted.push(s) }]]),
    );
    const client = await dial(set.port("k")!);
    const received = collect(client);
    await eventually(() => accepted.length === 1);
    await set.close();
    // The owner (the relay) decides what happens to live connections; here it still talks.
    for (const s of accepted) s.end("still here");
    client.end();
    expect((await received).data.toString()).toBe("still here");
  });
});
