import { createServer, type IncomingMessage, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { State } from "../../src/cloud/state.js";
import type { FlowRow } from "../../src/console/shapes.js";
import { ConsoleStream } from "../../src/console/stream.js";
import { FlowTaps } from "../../src/net/flow-tap.js";

const empty = { endpoints: [], enis: [], natGateways: [] };
const flow = {
  srcEniId: "eni-a",
  dstEniId: "eni-b",
  srcIp: "10.0.0.1",
  dstIp: "10.0.0.2",
  srcPort: 40000,
  dstPort: 443,
};

let server: Server | undefined;
afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

/** A ConsoleStream behind a real HTTP server on loopback. */
async function start(): Promise<{ taps: FlowTaps; stream: ConsoleStream; url: string }> {
  const taps = new FlowTaps();
  const stream = new ConsoleStream({
    state: new State(),
    stats: () => empty,
    taps,
    now: () => new Date(),
    tickMs: 20,
  });
  server = createServer((req, res) => stream.serve(req, res));
  server.on("close", () => stream.close());
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return { taps, stream, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

/** Opens the event stream; `onText` sees the text so far and says when it has enough. */
function listen(url: string, onText: (text: string) => boolean) {
  return new Promise<{ text: string; res: IncomingMessage }>((resolve, reject) => {
    const req = request(url, (res) => {
      let text = "";
      res.on("data", (d) => {
        text += d;
        if (onText(text)) resolve({ text, res });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await sleep(10);
  expect(check()).toBe(true);
}

describe("the console's event stream", () => {
  it("taps flows only while a browser listens, and sends each as rows of one id", async () => {
    const { taps, url } = await start();
    expect(taps.size).toBe(0);
    let emitted = false;
    const { text, res } = await listen(url, (t) => {
      if (!emitted && t.includes("event: hello")) {
        expect(taps.size).toBe(1);
        const meter = taps.opened(flow)!;
        meter.bytesIn(5);
        meter.bytesOut(7);
        meter.closed("fin");
        taps.refused({ ...flow, reason: "no rule admits it", hop: "destination-sg-ingress" });
        emitted = true;
      }
      return /event: flows\ndata: .*"refused"/.test(t);
    });
    const rows = JSON.parse(/event: flows\ndata: (.*)\n/.exec(text)![1]!) as FlowRow[];
    expect(rows.map((r) => [r.id, r.phase, r.verdict, r.bytesIn, r.bytesOut])).toEqual([
      [1, "open", "ACCEPT", 0, 0],
      [1, "closed", "ACCEPT", 5, 7],
      [2, "refused", "REJECT", 0, 0],
    ]);
    expect(rows[2]).toMatchObject({ reason: "no rule admits it", hop: "destination-sg-ingress" });
    res.destroy();
    await until(() => taps.size === 0);
  });
});
