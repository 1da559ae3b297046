import { createHash, randomBytes } from "node:crypto";
import { connect, createServer, type Socket } from "node:net";
import { V2ProxyProtocol } from "proxy-protocol-js";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { decodeProxyV2, encodeProxyV2 } from "../../src/net/proxy-v2.js";
import {
  acceptForRelay,
  connectUpstream,
  relay,
  relayStats,
  socketOptions,
  UpstreamReader,
} from "../../src/net/relay.js";
import { splicer, useSplice } from "../../src/net/splice.js";
import {
  closedPort,
  collect,
  collectAndEnd,
  connectionCount,
  dial,
  echo,
  eventually,
  type Frontend,
  frontend,
  type Listening,
  listen,
  recordMeter,
  sha256,
} from "./sockets.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** Starts an upstream and a relaying frontend, and checks at teardown that no socket is left. */
async function rigWith(onUpstream: (socket: Socket) => void, opts: Parameters<typeof frontend>[1] = {}) {
  const upstream = await listen(onUpstream);
  const front = await frontend(upstream, opts);
  cleanups.push(async () => {
    await front.close();
    await upstream.close();
  });
  return { upstream, front };
}

async function expectNoConnections(...servers: (Listening | Frontend)[]) {
  await eventually(async () => {
    const counts = await Promise.all(servers.map((s) => connectionCount(s.server)));
    return counts.every((n) => n === 0);
  });
}

/** Answers after the client's FIN: proves the relay keeps the other direction open. */
function replyAfterEnd(socket: Socket) {
  const hash = createHash("sha256");
  let bytes = 0;
  socket.on("data", (c: Buffer) => {
    hash.update(c);
    bytes += c.length;
  });
  socket.on("end", () => socket.end(`${bytes} ${hash.digest("hex")}`));
}

/** Deterministic pseudo-random payload written with backpressure. */
async function sendBulk(socket: Socket, totalBytes: number): Promise<string> {
  const chunk = randomBytes(1 << 20);
  const hash = createHash("sha256");
  for (let sent = 0; sent < totalBytes; sent += chunk.length) {
    hash.update(chunk);
    if (!socket.write(chunk)) await new Promise((r) => socket.once("drain", r));
  }
  socket.end();
  return hash.digest("hex");
}

it.runIf(process.platform === "linux")("has the splice addon that npm ci builds", () => {
  expect(splicer()).toBeDefined();
});

/**
 * Runs the enclosing describe's tests with the splice path on or off; the function returned
 * checks that the test's bulk flows went through the addon (`exactly` of them) or not at all.
 */
function withSplice(splice: boolean, exactly?: number): () => void {
  beforeAll(() => useSplice(splice));
  afterAll(() => useSplice(true));
  let before = 0;
  beforeEach(() => {
    before = relayStats.splicedFlows;
  });
  return () => {
    const spliced = relayStats.splicedFlows - before;
    if (!splice) expect(spliced).toBe(0);
    else if (exactly !== undefined) expect(spliced).toBe(exactly);
    else expect(spliced).toBeGreaterThan(0);
  };
}

/**
 * Each variant runs every test below. With fast reads both ways the bulk flows go to the splice
 * addon (src/net/splice.ts) unless `splice` is false; the bulk tests check which path ran.
 */
const variants = [
  { name: "fast reads both ways (adopted client), spliced", fastRead: true, adopt: true, splice: true },
  { name: "fast reads both ways (adopted client), copied", fastRead: true, adopt: true, splice: false },
  { name: "fast upstream reads", fastRead: true, adopt: false, splice: false },
  { name: "socket.pipe both ways", fastRead: false, adopt: false, splice: false },
];
for (const { name, fastRead, adopt, splice } of variants) {
  describe(`relay, ${name}`, () => {
    const rig = (onUpstream: (socket: Socket) => void, opts: Parameters<typeof frontend>[1] = {}) =>
      rigWith(onUpstream, { ...opts, fastRead, adopt });
    const expectPath = withSplice(splice);

    it("stops reading the client while the upstream does not read, then delivers it all", async () => {
      const upstreamSide: Socket[] = [];
      const { upstream, front } = await rig((s) => {
        s.pause();
        upstreamSide.push(s);
      });
      const client = await dial(front.port);
      const received = collect(client);
      const chunk = randomBytes(1 << 20);
      for (let i = 0; i < 64; i++) client.write(chunk);
      client.end();
      await eventually(() => upstreamSide.length === 1);
      // Only the kernel buffers and one read buffer may sit between the stalled ends.
      await new Promise((r) => setTimeout(r, 300));
      expect(front.relays[0]!.bytesIn).toBeLessThan(40 << 20);
      const up = upstreamSide[0]!;
      const got = collectAndEnd(up);
      up.resume();
      const data = (await got).data;
      expect(data.length).toBe(64 << 20);
      expect(sha256(data)).toBe(sha256(Buffer.concat(Array(64).fill(chunk))));
      await received;
      expect(front.meters[0]!.bytesIn).toBe(64 << 20);
      expectPath();
      await expectNoConnections(upstream, front);
    });

    it("echoes through the relay and meters both directions", async () => {
      const { upstream, front } = await rig(echo);
      const client = await dial(front.port);
      const received = collect(client);
      client.write("hello through privlink");
      client.once("data", () => client.end());
      const got = await received;
      expect(got.data.toString()).toBe("hello through privlink");
      expect(await front.meters[0]!.closed).toBe("fin");
      expect(front.meters[0]!.bytesIn).toBe(22);
      expect(front.meters[0]!.bytesOut).toBe(22);
      await expectNoConnections(upstream, front);
    });

    it("keeps relaying the reply after the client's FIN (half-close)", async () => {
      const { upstream, front } = await rig(replyAfterEnd);
      const client = await dial(front.port);
      const received = collect(client);
      client.end("request body");
      const got = await received;
      expect(got.ended).toBe(true);
      expect(got.data.toString()).toBe(`12 ${sha256(Buffer.from("request body"))}`);
      expect(await front.meters[0]!.closed).toBe("fin");
      await expectNoConnections(upstream, front);
    });

    it("passes the second FIN as a FIN: the target that closed first sees the client's end", async () => {
      let target!: ReturnType<typeof collect>;
      const { upstream, front } = await rig((s) => {
        target = collect(s);
        s.end("goodbye first");
      });
      const client = await dial(front.port);
      const got = await collectAndEnd(client);
      expect(got.data.toString()).toBe("goodbye first");
      const seen = await target;
      expect(seen.ended).toBe(true);
      expect(seen.error).toBeUndefined();
      expect(await front.meters[0]!.closed).toBe("fin");
      await expectNoConnections(upstream, front);
    });

    it.each(fastRead ? [64, 256] : [64])("carries %i MiB intact", async (mib) => {
      const { upstream, front } = await rig(replyAfterEnd);
      const client = await dial(front.port);
      const received = collect(client);
      const digest = await sendBulk(client, mib << 20);
      const got = await received;
      expect(got.data.toString()).toBe(`${mib << 20} ${digest}`);
      expect(front.meters[0]!.bytesIn).toBe(mib << 20);
      expectPath();
      await expectNoConnections(upstream, front);
    });

    it("carries a bulk download intact to a client that reads slowly", async () => {
      const payload = randomBytes(8 << 20);
      const { upstream, front } = await rig((s) => s.end(payload));
      const client = await dial(front.port);
      const received = collect(client);
      // Pausing forces the relay to stop reading the upstream instead of buffering 8 MiB.
      client.pause();
      await new Promise((r) => setImmediate(r));
      client.resume();
      client.end();
      const got = await received;
      expect(sha256(got.data)).toBe(sha256(payload));
      expect(front.meters[0]!.bytesOut).toBe(payload.length);
      expectPath();
      await expectNoConnections(upstream, front);
    });

    it("carries a 64 MiB download intact, in bursts of every size, to a client that stalls", async () => {
      // Sizes straddle the 64 KiB shared read buffer and the bulk buffer; pauses between bursts
      // let reads come back small, so flows switch between the two repeatedly.
      const sizes = [1, 100, 65_535, 65_536, 65_537, 1 << 20, (1 << 20) + 3, 3 << 20, 7];
      const { upstream, front } = await rig((s) => {
        const hash = createHash("sha256");
        let sent = 0;
        const burst = (i: number): void => {
          if (sent >= 64 << 20) return void s.end(hash.digest("hex"));
          const chunk = randomBytes(sizes[i % sizes.length]!);
          hash.update(chunk);
          sent += chunk.length;
          if (s.write(chunk)) setImmediate(burst, i + 1);
          else s.once("drain", () => burst(i + 1));
        };
        burst(0);
      });
      const client = await dial(front.port);
      const chunks: Buffer[] = [];
      let reads = 0;
      client.on("data", (c: Buffer) => {
        chunks.push(c);
        // Stalling now and then fills the relay's socket to us, so its writes go pending.
        if (++reads % 16 === 0) {
          client.pause();
          setTimeout(() => client.resume(), 5);
        }
      });
      await new Promise((r) => client.once("end", r));
      client.end();
      const all = Buffer.concat(chunks);
      const digest = all.subarray(all.length - 64).toString();
      expect(sha256(all.subarray(0, all.length - 64))).toBe(digest);
      expect(front.meters[0] && (await front.meters[0].closed)).toBe("fin");
      expect(front.meters[0]!.bytesOut).toBe(all.length);
      expectPath();
      await expectNoConnections(upstream, front);
    });

    it("keeps concurrent stalling downloads that switch buffer sizes apart", async () => {
      // Bulk bursts then a few bytes: each flow leaves bulk mode while its client is stalled and
      // hands its buffer back, while the other flows enter bulk mode and take buffers.
      const flows = 4;
      const { upstream, front } = await rig((s) => {
        const hash = createHash("sha256");
        const bursts = [randomBytes((1 << 20) + 17), randomBytes(60_000)];
        const send = (i: number): void => {
          if (i === 30) return void s.end(hash.digest("hex"));
          const chunk = bursts[i % 2]!;
          hash.update(chunk);
          if (s.write(chunk)) setImmediate(send, i + 1);
          else s.once("drain", () => send(i + 1));
        };
        send(0);
      });
      const download = async () => {
        const client = await dial(front.port);
        const chunks: Buffer[] = [];
        client.on("data", (c: Buffer) => {
          chunks.push(c);
          client.pause();
          setTimeout(() => client.resume(), 1);
        });
        await new Promise((r) => client.once("end", r));
        client.end();
        const all = Buffer.concat(chunks);
        return [sha256(all.subarray(0, all.length - 64)), all.subarray(all.length - 64).toString()];
      };
      for (const [got, sent] of await Promise.all(Array.from({ length: flows }, download)))
        expect(got).toBe(sent);
      expectPath();
      await expectNoConnections(upstream, front);
    });

    it("keeps concurrent downloads apart", async () => {
      const payloads = Array.from({ length: 6 }, (_, i) => randomBytes((i + 1) * 700_001));
      let next = 0;
      const { upstream, front } = await rig((s) => s.end(payloads[next++ % payloads.length]));
      const runs = payloads.map(async () => {
        const client = await dial(front.port);
        const got = collect(client);
        client.end();
        return (await got).data;
      });
      const received = (await Promise.all(runs)).map(sha256).sort();
      expect(received).toEqual(payloads.map(sha256).sort());
      await expectNoConnections(upstream, front);
    });

    it("resets the client when the upstream refuses", async () => {
      const port = await closedPort();
      const front = await frontend({ host: "127.0.0.1", port }, { fastRead, adopt });
      cleanups.push(() => front.close());
      // The reset can beat Node's 'connect' event, so the error may come from connect or read.
      const got = await collect(connect({ port: front.port, host: "127.0.0.1" }));
      expect(got.error?.code).toBe("ECONNRESET");
      expect(await front.meters[0]!.closed).toBe("upstream-error");
      await expectNoConnections(front);
    });

    it("resets the client when the upstream resets mid-connection", async () => {
      const { upstream, front } = await rig((s) => s.once("data", () => s.resetAndDestroy()));
      const client = await dial(front.port);
      const received = collect(client);
      client.write("trigger");
      const got = await received;
      expect(got.error?.code).toBe("ECONNRESET");
      expect(await front.meters[0]!.closed).toBe("reset");
      await expectNoConnections(upstream, front);
    });

    it("resets the upstream when the client resets", async () => {
      const upstreamSide: Promise<Awaited<ReturnType<typeof collect>>>[] = [];
      const { upstream, front } = await rig((s) => upstreamSide.push(collectAndEnd(s)));
      const client = await dial(front.port);
      client.on("error", () => undefined);
      client.write("x");
      await eventually(() => upstreamSide.length === 1);
      client.resetAndDestroy();
      const got = await upstreamSide[0]!;
      expect(got.error?.code).toBe("ECONNRESET");
      expect(await front.meters[0]!.closed).toBe("reset");
      await expectNoConnections(upstream, front);
    });

    it("close(true) mid-transfer resets both sides", async () => {
      const upstreamSide: Promise<Awaited<ReturnType<typeof collect>>>[] = [];
      const endless = (s: Socket) => {
        upstreamSide.push(collectAndEnd(s));
        const chunk = Buffer.alloc(64 << 10, 7);
        // Bounded: the relay's reset ends it long before 4 GiB.
        const pump = (n: number) => {
          while (n < 65_536 && !s.destroyed && s.write(chunk)) n++;
          if (n < 65_536 && !s.destroyed) s.once("drain", () => pump(n + 1));
        };
        pump(0);
      };
      const { upstream, front } = await rig(endless);
      const client = await dial(front.port);
      const received = collect(client);
      client.once("data", () => front.relays[0]!.close(true));
      const got = await received;
      expect(got.error?.code).toBe("ECONNRESET");
      expect((await upstreamSide[0]!).error?.code).toBe("ECONNRESET");
      expect(await front.meters[0]!.closed).toBe("reset");
      expect(front.meters[0]!.bytesOut).toBeGreaterThan(0);
      await expectNoConnections(upstream, front);
    });

    it("close(true) right after relaying a FIN still closes both sides", async () => {
      const upstreamSide: Promise<Awaited<ReturnType<typeof collect>>>[] = [];
      // A server that answers the request after its FIN, as HTTP/1.0 servers do.
      const { upstream, front } = await rig((s) => {
        upstreamSide.push(collect(s));
        s.write("hello");
        s.once("end", () => s.end("reply"));
      });
      const client = await dial(front.port);
      const received = collect(client);
      // The greeting proves the relay's upstream socket is connected (not merely connecting).
      await new Promise((r) => client.once("data", r));
      // Runs after the relay's own 'end' handler has ended the upstream: its FIN is in flight,
      // the one state where Node cannot reset a socket at once.
      front.clients[0]!.once("end", () => front.relays[0]!.close(true));
      client.end();
      expect((await received).error?.code).toBe("ECONNRESET");
      expect(await front.meters[0]!.closed).toBe("reset");
      await upstreamSide[0];
      await expectNoConnections(upstream, front);
    });

    it("close(false) ends both sides with a FIN", async () => {
      const upstreamSide: Promise<Awaited<ReturnType<typeof collect>>>[] = [];
      const { upstream, front } = await rig((s) => upstreamSide.push(collectAndEnd(s)));
      const client = await dial(front.port);
      const received = collect(client);
      client.write("x");
      await eventually(() => upstreamSide.length === 1 && front.relays[0]!.bytesIn === 1);
      front.relays[0]!.close(false);
      client.end();
      const got = await received;
      expect(got.ended).toBe(true);
      expect((await upstreamSide[0]!).data.toString()).toBe("x");
      expect(await front.meters[0]!.closed).toBe("fin");
      await expectNoConnections(upstream, front);
    });

    it("resets both sides after the idle timeout", async () => {
      const upstreamSide: Promise<Awaited<ReturnType<typeof collect>>>[] = [];
      const { upstream, front } = await rig((s) => upstreamSide.push(collectAndEnd(s)), {
        idleTimeoutMs: 100,
      });
      const client = await dial(front.port);
      const got = await collect(client);
      expect(got.error?.code).toBe("ECONNRESET");
      expect(await front.meters[0]!.closed).toBe("idle");
      expect((await upstreamSide[0]!).error?.code).toBe("ECONNRESET");
      await expectNoConnections(upstream, front);
    });

    it("reports live byte counts as deltas before close", async () => {
      const { upstream, front } = await rig(echo);
      const client = await dial(front.port);
      const received = collect(client);
      client.write("abc");
      await eventually(() => front.relays[0]?.bytesOut === 3);
      front.relays[0]!.report();
      expect([front.meters[0]!.bytesIn, front.meters[0]!.bytesOut]).toEqual([3, 3]);
      client.end("defg");
      await received;
      await front.meters[0]!.closed;
      expect([front.meters[0]!.bytesIn, front.meters[0]!.bytesOut]).toEqual([7, 7]);
      await expectNoConnections(upstream, front);
    });

    it("writes the PROXY v2 header before the first client byte", async () => {
      const upstreamSide: Promise<Awaited<ReturnType<typeof collect>>>[] = [];
      const { upstream, front } = await rig((s) => upstreamSide.push(collectAndEnd(s)), {
        preambleFor: (c) =>
          encodeProxyV2({
            source: { address: c.remoteAddress!, port: c.remotePort! },
            destination: { address: c.localAddress!, port: c.localPort! },
            vpceId: "vpce-0123456789abcdef0",
          }),
      });
      const client = await dial(front.port);
      const clientPort = client.localPort;
      const received = collect(client);
      client.end("GET / HTTP/1.0\r\n\r\n");
      await received;
      const bytes = (await upstreamSide[0]!).data;
      const parsed = V2ProxyProtocol.parse(new Uint8Array(bytes));
      expect(parsed.proxyAddress).toMatchObject({
        sourcePort: clientPort,
        destinationPort: front.port,
        sourceAddress: { address: [127, 0, 0, 1] },
        destinationAddress: { address: [127, 0, 0, 1] },
      });
      const header = decodeProxyV2(bytes)!;
      expect(header.vpceId).toBe("vpce-0123456789abcdef0");
      expect(bytes.subarray(header.length).toString()).toBe("GET / HTTP/1.0\r\n\r\n");
      expect(front.meters[0]!.bytesIn).toBe(18);
      await expectNoConnections(upstream, front);
    });

    it("leaves no TCP handle behind after many relayed connections", async () => {
      const { upstream, front } = await rig(echo);
      const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap").length;
      const before = tcpHandles();
      const runs = Array.from({ length: 50 }, async (_, i) => {
        const client = await dial(front.port);
        const received = collect(client);
        if (i % 2) client.resetAndDestroy();
        else client.end(`n${i}`);
        return received;
      });
      await Promise.all(runs);
      await Promise.all(front.meters.map((m) => m.closed));
      await expectNoConnections(upstream, front);
      await eventually(() => tcpHandles() <= before);
      expect(front.meters.flatMap((m) => m.reasons).sort()).toEqual(
        [...Array(25).fill("fin"), ...Array(25).fill("reset")].sort(),
      );
    });
  });
}

/** Writes 1 MiB chunks with backpressure until the socket closes (bounded: 4 GiB). */
function stream(socket: Socket): void {
  const chunk = Buffer.alloc(1 << 20, 7);
  socket.on("error", () => undefined);
  const pump = (n: number): void => {
    while (n < 4096 && !socket.destroyed && socket.write(chunk)) n++;
    if (n < 4096 && !socket.destroyed) socket.once("drain", () => pump(n + 1));
  };
  pump(0);
}

/** Counts what a socket receives, and how it ended. */
function tally(socket: Socket) {
  const t = { bytes: 0, ended: false, error: undefined as string | undefined };
  socket.on("data", (c: Buffer) => {
    t.bytes += c.length;
  });
  socket.on("end", () => {
    t.ended = true;
  });
  socket.on("error", (e: NodeJS.ErrnoException) => {
    t.error = e.code;
  });
  const closed = new Promise<typeof t>((r) => socket.once("close", () => r(t)));
  /** A FIN or the close: a half-open socket that got a FIN is closed here. */
  const ended = new Promise<typeof t>((r) => {
    socket.once("end", () => r(t));
    socket.once("close", () => r(t));
  }).then((t) => {
    socket.destroy();
    return t;
  });
  return { t, closed, ended };
}

// The same events in the middle of a bulk transfer, through the splice addon and through the
// JavaScript copy: sockets must end the same way and the meter count the same bytes.
for (const splice of [true, false]) {
  describe(`relay, a bulk flow in flight, ${splice ? "spliced" : "copied"}`, () => {
    const expectPath = withSplice(splice, 1);
    const rig = (onUpstream: (socket: Socket) => void, idleTimeoutMs?: number) =>
      rigWith(onUpstream, { fastRead: true, adopt: true, idleTimeoutMs });

    /** A download the client reads until `bytes`, with the upstream's side and the client's tallies. */
    async function download(bytes = 8 << 20, idleTimeoutMs?: number) {
      const upstreamSide: ReturnType<typeof tally>[] = [];
      const { upstream, front } = await rig((s) => {
        upstreamSide.push(tally(s));
        stream(s);
      }, idleTimeoutMs);
      const client = await dial(front.port);
      const down = tally(client);
      await eventually(() => down.t.bytes >= bytes);
      expectPath();
      return { upstream, front, client, down, up: upstreamSide[0]! };
    }

    it("a client's reset resets the upstream; every byte read is metered", async () => {
      const { upstream, front, client, up } = await download();
      client.resetAndDestroy();
      expect((await up.closed).error).toBe("ECONNRESET");
      expect(await front.meters[0]!.closed).toBe("reset");
      expect(front.meters[0]!.bytesOut).toBe(front.relays[0]!.bytesOut);
      expect(front.meters[0]!.bytesOut).toBeGreaterThanOrEqual(8 << 20);
      await expectNoConnections(upstream, front);
    });

    it("an upstream's reset resets the client", async () => {
      const upstreamSide: Socket[] = [];
      const { upstream, front } = await rig((s) => {
        upstreamSide.push(s);
        let got = 0;
        s.on("data", (c: Buffer) => {
          got += c.length;
          if (got >= 8 << 20 && !s.destroyed) s.resetAndDestroy();
        });
      });
      const client = await dial(front.port);
      const up = tally(client);
      stream(client);
      await eventually(() => upstreamSide.length === 1);
      const t = await up.closed;
      expect([t.ended, t.error]).toEqual([false, "ECONNRESET"]);
      expect(await front.meters[0]!.closed).toBe("reset");
      expect(front.meters[0]!.bytesIn).toBe(front.relays[0]!.bytesIn);
      expect(front.meters[0]!.bytesIn).toBeGreaterThanOrEqual(8 << 20);
      expectPath();
      await expectNoConnections(upstream, front);
    });

    it("close(true) resets both sides", async () => {
      const { upstream, front, down, up } = await download();
      front.relays[0]!.close(true);
      // A client with megabytes unread when the RST comes reads them and then an EOF (Linux).
      const t = await down.ended;
      expect(t.ended || t.error === "ECONNRESET").toBe(true);
      expect((await up.closed).error).toBe("ECONNRESET");
      expect(await front.meters[0]!.closed).toBe("reset");
      expect(front.meters[0]!.bytesOut).toBe(front.relays[0]!.bytesOut);
      await expectNoConnections(upstream, front);
    });

    it("close(false) ends the client with a FIN after what was read", async () => {
      const { upstream, front, client, down, up } = await download();
      front.relays[0]!.close(false);
      const t = await down.ended;
      expect([t.ended, t.error]).toEqual([true, undefined]);
      client.destroy();
      await up.closed;
      expect(await front.meters[0]!.closed).toBe("fin");
      // The relay read no more than it delivered, once it stopped.
      expect(front.meters[0]!.bytesOut).toBe(front.relays[0]!.bytesOut);
      expect(t.bytes).toBe(front.meters[0]!.bytesOut);
      await expectNoConnections(upstream, front);
    });

    it("reports live byte counts while bytes flow", async () => {
      const { upstream, front, client, down } = await download();
      const before = front.relays[0]!.bytesOut;
      front.relays[0]!.report();
      expect(front.meters[0]!.bytesOut).toBeGreaterThanOrEqual(before);
      expect(front.meters[0]!.bytesOut).toBeGreaterThanOrEqual(8 << 20);
      await eventually(() => down.t.bytes >= 16 << 20);
      front.relays[0]!.report();
      expect(front.meters[0]!.bytesOut).toBeGreaterThanOrEqual(16 << 20);
      client.resetAndDestroy();
      await front.meters[0]!.closed;
      expect(front.meters[0]!.bytesOut).toBe(front.relays[0]!.bytesOut);
      await expectNoConnections(upstream, front);
    });

    it("resets a flow that goes idle after a bulk transfer", async () => {
      const upstreamSide: ReturnType<typeof tally>[] = [];
      const payload = randomBytes(8 << 20);
      const { upstream, front } = await rig((s) => {
        upstreamSide.push(tally(s));
        s.write(payload);
      }, 200);
      const client = await dial(front.port);
      const down = tally(client);
      const t = await down.closed;
      expect([t.bytes, t.error]).toEqual([8 << 20, "ECONNRESET"]);
      expect((await upstreamSide[0]!.closed).error).toBe("ECONNRESET");
      expect(await front.meters[0]!.closed).toBe("idle");
      expect(front.meters[0]!.bytesOut).toBe(8 << 20);
      expectPath();
      await expectNoConnections(upstream, front);
    });

    it("carries bulk both ways at once, each side half-closing", async () => {
      const down = randomBytes(16 << 20);
      const upBytes = randomBytes(16 << 20);
      const upstreamSide: Promise<Awaited<ReturnType<typeof collect>>>[] = [];
      const { upstream, front } = await rig((s) => {
        const got = collect(s);
        upstreamSide.push(got);
        s.write(down);
        s.once("end", () => s.end());
      });
      const client = await dial(front.port);
      const received = collect(client);
      client.end(upBytes);
      const [atClient, atUpstream] = [await received, await upstreamSide[0]!];
      expect([atClient.ended, sha256(atClient.data)]).toEqual([true, sha256(down)]);
      expect([atUpstream.ended, sha256(atUpstream.data)]).toEqual([true, sha256(upBytes)]);
      expect(await front.meters[0]!.closed).toBe("fin");
      expect([front.meters[0]!.bytesIn, front.meters[0]!.bytesOut]).toEqual([16 << 20, 16 << 20]);
      expectPath();
      await expectNoConnections(upstream, front);
    });
  });
}

describe("relay with an upstream connected beforehand", () => {
  it.each([true, false])("delivers bytes that arrived before relay() (fastRead %s)", async (fastRead) => {
    const upstream = await listen((s) => s.end("greeting from the target"));
    const front = await listen(async (client) => {
      // As the workload proxy does: connect first, relay once the upstream is up.
      const up = connectUpstream({ host: "127.0.0.1", port: upstream.port }, { fastRead });
      await new Promise((r) => up.once("connect", r));
      await eventually(async () => (await connectionCount(upstream.server)) === 1);
      await new Promise((r) => setTimeout(r, 20));
      relay(client, () => up, { idleTimeoutMs: 60_000, meter: recordMeter().meter });
    });
    cleanups.push(async () => {
      await front.close();
      await upstream.close();
    });
    const client = await dial(front.port);
    const got = collect(client);
    client.end();
    expect((await got).data.toString()).toBe("greeting from the target");
    await expectNoConnections(upstream, front);
  });
});

describe("a socket accepted for someone else than the relay", () => {
  it("is built as Node's accept builds it: the server's half-open and pause settings, 'data' events, counted", async () => {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanups.push(async () => void server.close());
    expect(acceptForRelay(server, () => false)).toBe(true);
    const accepted = new Promise<Socket>((r) => server.once("connection", r));
    const client = await dial((server.address() as { port: number }).port);
    cleanups.push(async () => void client.destroy());
    const socket = await accepted;
    expect([socket.allowHalfOpen, socket.readableFlowing, socket.remotePort]).toEqual([
      true,
      false,
      client.localPort,
    ]);
    expect(await new Promise((r) => server.getConnections((_e, n) => r(n)))).toBe(1);
    const got = new Promise<string>((r) => socket.once("data", (d: Buffer) => r(d.toString())));
    client.end("to a front");
    socket.resume();
    expect(await got).toBe("to a front");
    // Half-open: the client's FIN leaves this side open for the answer.
    await new Promise((r) => socket.once("end", r));
    const answer = collect(client);
    socket.end("answer");
    expect((await answer).data.toString()).toBe("answer");
  });
});

describe("relay without a usable upstream", () => {
  const upstreams: [string, () => Socket][] = [
    [
      "the upstream factory throws",
      () => {
        throw new Error("no target");
      },
    ],
    [
      "the upstream is already destroyed",
      () => {
        const s = connectUpstream({ host: "127.0.0.1", port: 9 });
        s.on("error", () => undefined);
        s.destroy();
        return s;
      },
    ],
  ];
  it.each(upstreams)("resets the client when %s", async (_name, openUpstream) => {
    const meters: ReturnType<typeof recordMeter>[] = [];
    const front = await listen((client) => {
      const m = recordMeter();
      meters.push(m);
      relay(client, openUpstream, { idleTimeoutMs: 60_000, meter: m.meter });
    });
    cleanups.push(() => front.close());
    // The reset can beat Node's 'connect' event, so the error may come from connect or read.
    const got = await collect(connect({ port: front.port, host: "127.0.0.1" }));
    expect(got.error?.code).toBe("ECONNRESET");
    expect(await meters[0]!.closed).toBe("upstream-error");
    await expectNoConnections(front);
  });
});

describe("an upstream connection", () => {
  it.each([true, false])(
    "runs without Nagle (fastRead %s): TCP_NODELAY is set on its handle",
    async (fastRead) => {
      // Node exposes no getsockopt: the TCP handle's setNoDelay is watched instead. Node 20 calls it
      // only for a socket constructed with noDelay; `connect({ noDelay })` ignores the option.
      const upstream = await listen((s) => s.end());
      cleanups.push(() => upstream.close());
      const probe = await dial(upstream.port);
      const tcp = Object.getPrototypeOf((probe as unknown as { _handle: object })._handle) as {
        setNoDelay(on: boolean): number;
      };
      probe.destroy();
      const original = tcp.setNoDelay;
      const calls: { handle: unknown; on: boolean }[] = [];
      tcp.setNoDelay = function (this: unknown, on: boolean) {
        calls.push({ handle: this, on });
        return original.call(this, on);
      };
      try {
        const up = connectUpstream({ host: "127.0.0.1", port: upstream.port }, { fastRead });
        await new Promise((r) => up.once("connect", r));
        const handle = (up as unknown as { _handle: unknown })._handle;
        expect(calls.filter((c) => c.handle === handle).map((c) => c.on)).toContain(true);
        up.destroy();
      } finally {
        tcp.setNoDelay = original;
      }
    },
  );

  it.each([true, false])(
    "starts reading once, as its handle connects, and carries what the target says first (fastRead %s)",
    async (fastRead) => {
      const upstream = await listen((s) => s.write("banner"));
      cleanups.push(() => upstream.close());
      const probe = await dial(upstream.port);
      const tcp = Object.getPrototypeOf((probe as unknown as { _handle: object })._handle) as {
        readStart(): number;
      };
      probe.destroy();
      const original = tcp.readStart;
      const starts: unknown[] = [];
      tcp.readStart = function (this: unknown) {
        starts.push(this);
        return original.call(this);
      };
      try {
        const up = connectUpstream({ host: "127.0.0.1", port: upstream.port }, { fastRead });
        const handle = (up as unknown as { _handle: unknown })._handle;
        // Node's own first read comes after its 'connect' event; this one came with the connect.
        const atConnect = await new Promise<number>((r) =>
          up.once("connect", () => r(starts.filter((h) => h === handle).length)),
        );
        await new Promise((r) => setImmediate(r));
        expect([atConnect, starts.filter((h) => h === handle).length]).toEqual([1, 1]);
        const front = await listen((client) =>
          relay(client, () => connectUpstream({ host: "127.0.0.1", port: upstream.port }, { fastRead }), {
            idleTimeoutMs: 60_000,
            meter: recordMeter().meter,
          }),
        );
        cleanups.push(() => front.close());
        const client = await dial(front.port);
        const got = await new Promise<string>((r) => client.once("data", (d: Buffer) => r(d.toString())));
        expect(got).toBe("banner");
        client.destroy();
        up.destroy();
      } finally {
        tcp.readStart = original;
      }
    },
  );

  it.runIf(process.platform === "linux")(
    "accepted for the relay runs without Nagle: the listener's TCP_NODELAY, set once, is inherited",
    async () => {
      const server = createServer();
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      cleanups.push(async () => void server.close());
      const listening = (server as unknown as { _handle: object })._handle;
      const tcp = Object.getPrototypeOf(listening) as { setNoDelay(on: boolean): number };
      const original = tcp.setNoDelay;
      const calls: { handle: unknown; on: boolean; err: number }[] = [];
      tcp.setNoDelay = function (this: unknown, on: boolean) {
        const err = original.call(this, on);
        calls.push({ handle: this, on, err });
        return err;
      };
      try {
        expect(acceptForRelay(server, () => true)).toBe(true);
        const accepted = new Promise<Socket>((r) => server.once("connection", r));
        const client = connect({ port: (server.address() as { port: number }).port, host: "127.0.0.1" });
        const socket = await accepted;
        cleanups.push(async () => void client.destroy());
        cleanups.push(async () => void socket.destroy());
        expect(calls).toEqual([{ handle: listening, on: true, err: 0 }]);
      } finally {
        tcp.setNoDelay = original;
      }
    },
  );

  it("is built from options holding every key Node's Socket sets on its copy of them", () => {
    // Node 20's constructor spreads the options and then sets these four on the copy; a key added
    // to a spread copy kept each connection's garbage alive through scavenges (V8 11.3, relay.ts).
    const options = socketOptions(undefined, 64 * 1024, new UpstreamReader(), true);
    expect(Object.keys(options)).toEqual(
      expect.arrayContaining(["allowHalfOpen", "emitClose", "autoDestroy", "decodeStrings"]),
    );
    const accepted = socketOptions({}, 64 * 1024, new UpstreamReader(), false);
    expect(Object.keys(accepted)).toEqual(Object.keys(options));
  });
});
