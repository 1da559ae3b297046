import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { echoOnce, type Held, httpsOnce, type LeakCounts, settle, timed } from "./leak.js";
import { type NetWorld, SM_NAME, startNetWorld } from "./net-world.js";

/**
 * Issue 16: N slow clients (each sends a request one byte a second, as a slowloris does) on each
 * surface a client reaches — the API edge, a service front (Secrets Manager through its endpoint,
 * after the TLS handshake) and an endpoint listener (an echo service through its endpoint) —
 * against one normal client of the same surface, timed before and during. The slowdown factor is
 * during/before of the normal client's median, "during" pooling every request made while the
 * slow clients are held. Surfaces are loaded one at a time, each starting only once the previous
 * one's sockets are gone (a thousand TLS sockets closing skewed the next surface's "before").
 * Afterwards the process's descriptors, flows and sockets must be back to their baseline. Bounded: `seconds` of slow load per surface, `clients` sockets per surface
 * (default 1,000; the fd limit here is 20,000).
 */
export interface SlowClientsOptions {
  clients?: number;
  seconds?: number;
  /** Normal requests per measurement. */
  samples?: number;
}

const SURFACES = ["API edge", "service front", "endpoint listener"] as const;
type Surface = (typeof SURFACES)[number];

export async function benchSlowClients(opts: SlowClientsOptions = {}) {
  const clients = opts.clients ?? 1000;
  const seconds = opts.seconds ?? 5;
  const samples = opts.samples ?? 100;
  const w = await startNetWorld({ slots: { min: 200, max: 254 }, publicDns: "127.0.253.7" });
  const ec2 = new EC2Client({
    endpoint: w.p.url,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });
  const normal: Record<Surface, () => Promise<Held>> = {
    "API edge": async () => {
      await ec2.send(new DescribeVpcsCommand({}));
      return { ok: true, close: async () => undefined };
    },
    "service front": () => httpsOnce(w),
    "endpoint listener": () => echoOnce(w),
  };
  const rows: Record<string, unknown>[] = [];
  try {
    for (const s of SURFACES) await timed(4, normal[s]);
    const baseline = await settle(w, undefined);
    let after = baseline;
    for (const surface of SURFACES) {
      const before = await timed(samples, normal[surface]);
      const slow = Array.from({ length: clients }, () => openSlow(w, surface));
      const text = slowText(surface);
      let k = 0;
      const drip = setInterval(() => {
        for (const s of slow) if (s.writable) s.write(text[k % text.length]!);
        k++;
      }, 1000);
      let during: Awaited<ReturnType<typeof timed>>;
      try {
        during = await timed(samples, normal[surface], Date.now() + seconds * 1000);
      } finally {
        clearInterval(drip);
      }
      const stillOpen = slow.filter((s) => !s.destroyed).length;
      for (const s of slow) s.destroy();
      after = await settle(w, baseline);
      rows.push({
        case: `${surface}: normal client, ${clients} slow clients`,
        p50Before: before.p50Ms,
        p50During: during.p50Ms,
        p50Factor: round(during.p50Ms / before.p50Ms),
        p99Before: before.p99Ms,
        p99During: during.p99Ms,
        failed: before.failed + during.failed,
        slowStillOpen: stillOpen,
      });
    }
    rows.push(leakRow(baseline, after));
    return rows;
  } finally {
    ec2.destroy();
    await w.close();
  }
}

/** What a slow client sends: a request head that never ends (an echo payload on the listener). */
function slowText(surface: Surface): string {
  if (surface === "endpoint listener") return "slow bytes, one a second ";
  const host = surface === "API edge" ? "127.0.0.1" : SM_NAME;
  return `GET / HTTP/1.1\r\nHost: ${host}\r\nX-Slow: ${"x".repeat(64)}`;
}

function openSlow(w: NetWorld, surface: Surface): Socket {
  let s: Socket;
  if (surface === "API edge") s = connect(w.p.port, "127.0.0.1");
  else if (surface === "service front")
    s = tlsConnect({
      socket: connect({ host: w.front.host, port: w.front.port, localAddress: w.workloadHost }),
      servername: SM_NAME,
      ca: w.p.ca.certPem,
    });
  else {
    s = connect({ host: w.echo.host, port: w.echo.port, localAddress: w.workloadHost });
    s.resume();
  }
  s.on("error", () => undefined);
  return s;
}

function leakRow(baseline: LeakCounts, after: LeakCounts): Record<string, unknown> {
  return {
    case: "after closing every slow client",
    fdsBaseline: baseline.fds,
    fdsAfter: after.fds,
    leakedFds: Math.max(0, after.fds - baseline.fds),
    leakedFlows: after.flows + after.frontSockets + after.activeConnections,
  };
}

const round = (n: number) => Math.round(n * 100) / 100;
