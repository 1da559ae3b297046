import { connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import {
  askAgent,
  type CarriedFlow,
  createTunnelServer,
  decodeTunnelHeader,
  encodeTunnelHeader,
  ReplayGuard,
  splitAddress,
  TUNNEL_SKEW_MS,
  type TunnelAnswer,
  type TunnelCounters,
  type TunnelRequest,
} from "./tunnel.js";

const T = 1_800_000_000_000;
const flow: CarriedFlow = {
  from: "a",
  to: "b",
  host: "127.2.1.5",
  port: 443,
  source: "127.2.1.4",
  sourcePort: 40000,
  at: T,
  nonce: "00112233445566778899aabb",
};
const b = { name: "b", key: "key-of-b" };

describe("the agent-to-agent tunnel header", () => {
  const header = encodeTunnelHeader(flow, b.key);

  it("round-trips the flow and hands back the workload's bytes that followed it", () => {
    const read = decodeTunnelHeader(Buffer.concat([header, Buffer.from("GET /")]), b, T + 5);
    expect(read).toEqual({ kind: "flow", flow, mac: header.subarray(-32), rest: Buffer.from("GET /") });
  });

  it("waits for the rest of a header split across reads", () => {
    for (const n of [1, 5, 6, header.length - 1])
      expect(decodeTunnelHeader(header.subarray(0, n), b, T).kind).toBe("more");
  });

  const cases: [string, Buffer, { name: string; key: string }, number, string][] = [
    [
      "another key",
      encodeTunnelHeader(flow, "key-of-someone"),
      b,
      T,
      "bad MAC (not signed with this agent's key)",
    ],
    ["another agent", encodeTunnelHeader({ ...flow, to: "c" }, b.key), b, T, "meant for agent c"],
    ["a stale header", header, b, T + TUNNEL_SKEW_MS + 1, "header too old or too new"],
    ["not a tunnel", Buffer.from("GET / HTTP/1.1\r\n\r\n"), b, T, "not a privlink tunnel"],
    [
      "a header without a nonce (its MAC could repeat for another flow)",
      encodeTunnelHeader({ ...flow, nonce: undefined } as unknown as CarriedFlow, b.key),
      b,
      T,
      "no nonce",
    ],
    [
      "a tampered flow",
      Buffer.from(header.toString("latin1").replace("127.2.1.4", "127.2.1.9"), "latin1"),
      b,
      T,
      "bad MAC (not signed with this agent's key)",
    ],
  ];
  for (const [what, bytes, me, now, reason] of cases)
    it(`refuses ${what}`, () => {
      expect(decodeTunnelHeader(bytes, me, now)).toEqual({ kind: "bad", reason });
    });

  it("remembers an accepted MAC for exactly as long as the age check would accept its header", () => {
    const guard = new ReplayGuard();
    const mac = header.subarray(-32);
    expect(guard.admit(mac, T, T)).toBe(true);
    expect(guard.admit(mac, T, T + 1)).toBe(false);
    // The last instant the age check accepts the header: still refused as a replay.
    expect(guard.admit(mac, T, T + TUNNEL_SKEW_MS)).toBe(false);
    // Past it, decodeTunnelHeader refuses the header as too old; the guard forgets it.
    expect(decodeTunnelHeader(header, b, T + TUNNEL_SKEW_MS + 1).kind).toBe("bad");
    const other = encodeTunnelHeader({ ...flow, at: T + TUNNEL_SKEW_MS + 1 }, b.key).subarray(-32);
    expect(guard.admit(other, T + TUNNEL_SKEW_MS + 1, T + TUNNEL_SKEW_MS + 1)).toBe(true);
    expect(guard.size).toBe(1);
  });

  it("splits agent addresses", () => {
    expect(splitAddress("192.168.250.2:4600")).toEqual(["192.168.250.2", 4600]);
    expect(splitAddress("[fd00::2]:4600")).toEqual(["fd00::2", 4600]);
    expect(() => splitAddress("nowhere")).toThrow("host:port");
  });
});

describe("the tunnel server", () => {
  it("admits a header once and resets the same header replayed on a new connection", async () => {
    const counters: TunnelCounters = { sent: 0, received: 0, refused: 0, bytesSent: 0, bytesReceived: 0 };
    const admitted: CarriedFlow[] = [];
    const refusals: string[] = [];
    let clock = T;
    const server = createTunnelServer({
      me: () => b,
      now: () => clock,
      counters,
      onFlow: (f, socket) => {
        admitted.push(f);
        socket.end();
      },
      onRefused: (reason) => refusals.push(reason),
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    /** Sends `bytes` on a fresh connection; how the server ended it. */
    const send = (bytes: Buffer) =>
      new Promise<"ended" | "reset">((resolve) => {
        const s: Socket = connect(port, "127.0.0.1", () => s.write(bytes));
        s.on("error", () => resolve("reset"));
        s.on("end", () => resolve("ended"));
        s.resume();
      });
    try {
      const recorded = encodeTunnelHeader(flow, b.key);
      expect(await send(recorded)).toBe("ended");
      clock = T + 10_000;
      expect(await send(recorded)).toBe("reset");
      // Another flow (its own nonce) from the same source at the same instant is not a replay.
      expect(await send(encodeTunnelHeader({ ...flow, nonce: "ffeeddccbbaa998877665544" }, b.key))).toBe(
        "ended",
      );
      expect(admitted.map((f) => f.nonce)).toEqual([flow.nonce, "ffeeddccbbaa998877665544"]);
      expect(refusals).toEqual(["replayed header (seen before)"]);
      expect(counters).toMatchObject({ received: 2, refused: 1 });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe("requests over the tunnel (an API node asking an agent for a workload's proxy)", () => {
  const counters = (): TunnelCounters => ({
    sent: 0,
    received: 0,
    refused: 0,
    bytesSent: 0,
    bytesReceived: 0,
  });
  const start = async (onRequest?: (r: TunnelRequest) => Promise<TunnelAnswer>) => {
    const refusals: string[] = [];
    const server = createTunnelServer({
      me: () => b,
      counters: counters(),
      onFlow: (_f, socket) => socket.destroy(),
      onRequest,
      onRefused: (reason) => refusals.push(reason),
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    return { server, refusals, to: { ...b, address: `127.0.0.1:${port}` } };
  };

  it("answers the agent's answer to an authenticated request, and nothing to a wrong key", async () => {
    const asked: TunnelRequest[] = [];
    const { server, refusals, to } = await start(async (r) => {
      asked.push(r);
      return { status: 200, body: { workload: r.workload } };
    });
    try {
      expect(await askAgent(to, { from: "api", op: "workload-proxy", workload: "i-1" })).toEqual({
        status: 200,
        body: { workload: "i-1" },
      });
      expect(asked.map((r) => [r.from, r.to, r.workload])).toEqual([["api", "b", "i-1"]]);
      await expect(
        askAgent({ ...to, key: "not-b's" }, { from: "api", op: "workload-proxy", workload: "i-2" }),
      ).rejects.toThrow(/agent b at 127\.0\.0\.1:\d+: |refused the request/);
      expect(refusals).toEqual(["bad MAC (not signed with this agent's key)"]);
      expect(asked).toHaveLength(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("refuses requests where none are served, and answers a failing handler with a 500", async () => {
    const none = await start();
    const failing = await start(async () => {
      throw new Error("boom");
    });
    try {
      await expect(askAgent(none.to, { from: "api", op: "workload-proxy", workload: "i-1" })).rejects.toThrow(
        /agent b/,
      );
      expect(none.refusals).toEqual(["requests are not served here"]);
      expect(await askAgent(failing.to, { from: "api", op: "workload-proxy", workload: "i-1" })).toEqual({
        status: 500,
        error: "InternalError",
        message: "boom",
      });
    } finally {
      await new Promise((r) => none.server.close(r));
      await new Promise((r) => failing.server.close(r));
    }
  });
});
