import { connect, createServer, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import {
  askAgent,
  type CarriedFlow,
  carry,
  createTunnelServer,
  decodeTunnelHeader,
  encodeTunnelHeader,
  ReplayGuard,
  splitAddress,
  TUNNEL_SKEW_MS,
  type TunnelAnswer,
  type TunnelCounters,
  TunnelDialer,
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

describe("carried flows on spare tunnel connections (TunnelDialer)", () => {
  /** A receiving agent that echoes carried flows, and a sending agent's listener carrying to it. */
  const world = async (spareMaxAgeMs: number) => {
    const counters: TunnelCounters = { sent: 0, received: 0, refused: 0, bytesSent: 0, bytesReceived: 0 };
    const refusals: string[] = [];
    const accepted: Socket[] = [];
    const receiver = createTunnelServer({
      me: () => b,
      counters,
      onFlow: (_f, socket) => socket.pipe(socket),
      onRefused: (reason) => refusals.push(reason),
    });
    receiver.on("connection", (s: Socket) => accepted.push(s));
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    const receiverPort = (receiver.address() as { port: number }).port;
    const to = { ...b, address: `127.0.0.1:${receiverPort}` };
    const dialer = new TunnelDialer(spareMaxAgeMs);
    const carried = { from: "a", host: flow.host, port: 443, source: "127.2.1.4", sourcePort: 1 };
    const sender = createServer({ allowHalfOpen: true }, (socket) =>
      carry(socket, to, carried, counters, dialer),
    );
    await new Promise<void>((r) => sender.listen(0, "127.0.0.1", r));
    const port = (sender.address() as { port: number }).port;
    return {
      counters,
      refusals,
      accepted,
      receiverPort,
      open: () => new Promise<number>((r) => receiver.getConnections((_e, n) => r(n))),
      /** One workload connection: sends `text`, resolves with what came back before the end. */
      echo: (text: string) =>
        new Promise<string>((resolve, reject) => {
          let got = "";
          const s = connect(port, "127.0.0.1", () => s.end(text));
          s.on("data", (d: Buffer) => (got += d));
          s.on("end", () => resolve(got));
          s.on("error", reject);
        }),
      close: async () => {
        dialer.close();
        await new Promise((r) => sender.close(r));
        await new Promise((r) => receiver.close(r));
      },
    };
  };
  const until = async (what: string, ok: () => boolean | Promise<boolean>) => {
    for (let i = 0; !(await ok()); i++) {
      if (i > 200) throw new Error(`never: ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  it("carries the next flow on the connection dialled ahead, and closes an unused spare unrefused", async () => {
    const w = await world(200);
    try {
      expect(await w.echo("one")).toBe("one");
      // The first flow dialled its own connection, and a spare for the next one.
      await until("a spare accepted", () => w.accepted.length === 2);
      expect(await w.echo("two")).toBe("two");
      // The second flow took the spare: one connection more (the next spare), not two.
      await until("the next spare accepted", () => w.accepted.length === 3);
      expect(w.counters).toMatchObject({ sent: 2, received: 2 });
      // Unused, the spare is closed by its sender: the receiver drops it without a refusal.
      await until("the spare closed", async () => (await w.open()) === 0);
      expect(await w.echo("three")).toBe("three");
      expect(w.refusals).toEqual([]);
      expect(w.counters.refused).toBe(0);
    } finally {
      await w.close();
    }
  });

  it("carries a flow afresh when the peer closed the spare, and refuses a header cut short by a FIN", async () => {
    const w = await world(60_000);
    try {
      expect(await w.echo("one")).toBe("one");
      await until("a spare accepted", () => w.accepted.length === 2);
      // The receiving agent drops the spare (as a restart would): it is never handed to a flow.
      w.accepted[1]!.destroy();
      await until("the spare closed", async () => (await w.open()) === 0);
      await new Promise((r) => setTimeout(r, 50));
      expect(await w.echo("two")).toBe("two");
      expect(w.counters).toMatchObject({ sent: 2, received: 2, refused: 0 });
      const cut = connect(w.receiverPort, "127.0.0.1", () =>
        cut.end(encodeTunnelHeader(flow, b.key).subarray(0, 20)),
      );
      cut.on("error", () => undefined);
      await until("the cut header refused", () => w.refusals.length > 0);
      expect(w.refusals).toEqual(["ended before its header"]);
    } finally {
      await w.close();
    }
  });
});
