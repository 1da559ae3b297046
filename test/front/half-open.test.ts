import { connect as netConnect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { makeEndpoint, makeNetwork, type RunningFront, runFront, waitFor } from "./fixture.js";

/**
 * A client that half-closes before its TLS handshake finished can never finish it: the front
 * ends the connection at once. The handshake timeout here is far longer than the test's, so a
 * front that waited it out fails the test (by its timeout), with no timing assertion.
 */
let srv: TestServer;
let fr: RunningFront;

beforeAll(async () => {
  srv = await startTestServer();
  const net = await makeNetwork(srv);
  const ep = await makeEndpoint(srv, net, "secretsmanager");
  // As the data plane's endpoint listeners: half-open sockets accepted.
  fr = await runFront(srv, ep, { handshakeTimeoutMs: 3_600_000 }, { allowHalfOpen: true });
});
afterAll(async () => {
  await fr?.close();
  await srv?.stop();
});

/** Connects, sends `bytes` and FIN at once; resolves when the front closed its side. */
function finAfter(bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = netConnect({ host: "127.0.0.1", port: fr.port }, () => s.end(bytes));
    s.on("data", () => undefined);
    s.on("error", () => undefined);
    s.on("close", () => resolve());
  });
}

/** The first bytes of a TLS ClientHello record: the handshake has begun, never to finish. */
const PARTIAL_HELLO = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);

describe("a client's FIN before the TLS handshake", () => {
  // The first connection reaches the front before its leaf exists (the FIN is read before TLS
  // takes the socket over); later ones find the leaf cached (TLS has the socket when the FIN
  // comes). Both are covered, with and without handshake bytes before the FIN.
  it("ends the connection at once, whether or not TLS already took the socket over", async () => {
    await finAfter(Buffer.alloc(0));
    await finAfter(PARTIAL_HELLO);
    await finAfter(Buffer.alloc(0));
    await finAfter(PARTIAL_HELLO);
    await waitFor(() => fr.front.openSockets === 0);
    expect(fr.front.openSockets).toBe(0);
  }, 20_000);
});
