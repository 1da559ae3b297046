import { readdirSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resetSocket } from "../../src/net/relay.js";
import { closedPort, collectAndEnd, eventually, type Listening, listen, type Received } from "./sockets.js";

let server: Listening;
const serverSide: Promise<Received>[] = [];
beforeAll(async () => {
  server = await listen((s) => void serverSide.push(collectAndEnd(s)));
});
afterAll(() => server.close());

function open(): Promise<Socket> {
  return new Promise((resolve) => {
    const s = connect({ port: server.port, host: "127.0.0.1", allowHalfOpen: true });
    s.on("error", () => undefined);
    s.once("connect", () => resolve(s));
  });
}

/** Open descriptors of this process: a leaked socket shows here even when Node forgot it. */
const fdCount = () => readdirSync("/proc/self/fd").length;

/** Each state a relay may reset a socket in; `prepare` returns the socket right before the reset. */
const states: { name: string; prepare: () => Promise<Socket> }[] = [
  { name: "open and idle", prepare: open },
  {
    name: "FIN requested in the same tick",
    prepare: async () => {
      const s = await open();
      s.end();
      return s;
    },
  },
  {
    name: "FIN in flight (shutdown issued, not completed)",
    prepare: async () => {
      const s = await open();
      s.end();
      await new Promise((r) => process.nextTick(r));
      await new Promise((r) => process.nextTick(r));
      return s;
    },
  },
  {
    name: "FIN sent and acknowledged",
    prepare: async () => {
      const s = await open();
      await new Promise<void>((r) => s.end(() => r()));
      return s;
    },
  },
  {
    name: "ended with 32 MiB still queued",
    prepare: async () => {
      const s = await open();
      s.write(Buffer.alloc(32 << 20));
      s.end();
      return s;
    },
  },
  {
    name: "still connecting",
    prepare: async () => {
      const s = connect({ port: await closedPort(), host: "127.0.0.1" });
      s.on("error", () => undefined);
      return s;
    },
  },
];

describe("resetSocket", () => {
  for (const state of states) {
    it(`closes the socket and frees its fd when ${state.name}`, async () => {
      const before = fdCount();
      const s = await state.prepare();
      const closed = new Promise((r) => s.once("close", r));
      resetSocket(s);
      await closed;
      expect(s.destroyed).toBe(true);
      // Both ends are in this process; the server side closes once it sees the FIN or RST.
      await eventually(() => fdCount() <= before);
    });
  }

  it("answers the peer with a TCP reset when the socket was open", async () => {
    const before = serverSide.length;
    const s = await open();
    await eventually(() => serverSide.length > before);
    resetSocket(s);
    const got = await serverSide.at(-1)!;
    expect(got.error?.code).toBe("ECONNRESET");
  });
});
