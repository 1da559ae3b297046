/**
 * Issue 16: slow and stalled peers do not block other flows. Against one world (an endpoint to
 * an echo service, an endpoint to Secrets Manager through the service front), `perKind` sockets
 * of each kind are held open for `seconds`:
 *
 *   idle clients          — connected to the echo endpoint, never send a byte;
 *   non-reading clients   — send 256 KiB through the echo endpoint and never read the echo, so
 *                           back-pressure reaches the relay and the target;
 *   stalled target        — the target reads the first chunk and then stops reading, while the
 *                           client keeps 256 KiB queued toward it;
 *   slow TLS clients      — finish the handshake with the service front, then send their
 *                           request header one byte a second.
 *
 * A normal client's round trip (TCP echo through the endpoint, one HTTPS request through the
 * front) is timed before and during; every probe must complete. Afterwards every slow socket is
 * closed and the leak counts (bench/leak.ts) must be back to their baseline — for the flows
 * paused by back-pressure, once the idle timeout has passed (see `idleTimeoutMs`).
 */
import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { echoOnce, httpsOnce, type LeakCounts, settle, type Timed, timed } from "./leak.js";
import { type NetWorld, SM_NAME, startNetWorld } from "./net-world.js";

export interface SlowOptions {
  perKind?: number;
  seconds?: number;
  /** Probes per normal-client measurement. */
  samples?: number;
  /**
   * Idle timeout of endpoint flows (ms, default AWS's 350 s). A flow whose target stalled, or
   * whose client stopped reading, is paused both ways and so does not see its client leave: the
   * idle timer is what reclaims it, and the final count waits for it.
   */
  idleTimeoutMs?: number;
  slots?: { min: number; max: number };
  publicDns?: string;
}

const KINDS = ["idle clients", "non-reading clients", "stalled target", "slow TLS clients"] as const;
type Kind = (typeof KINDS)[number];
const STALL = "STALL";
const CHUNK = Buffer.alloc(256 * 1024, 120);

export type ProbeStats = Timed;

export interface SlowResult {
  before: Record<"echo" | "https", ProbeStats>;
  during: Record<"echo" | "https", ProbeStats>;
  /** Slow sockets per kind still open when the load phase ended. */
  stillOpen: Record<Kind, number>;
  baseline: LeakCounts;
  after: LeakCounts;
}

/** The target: echoes, except a connection whose first bytes say STALL, which it stops reading. */
function serve(s: Socket): void {
  s.once("data", (d) => {
    if (d.subarray(0, STALL.length).toString() === STALL) return void s.pause();
    s.write(d);
    s.pipe(s);
  });
}

export async function measureSlowPeers(opts: SlowOptions = {}): Promise<SlowResult> {
  const perKind = opts.perKind ?? 250;
  const seconds = opts.seconds ?? 10;
  const samples = opts.samples ?? 50;
  const w = await startNetWorld({
    slots: opts.slots,
    publicDns: opts.publicDns,
    idleTimeoutMs: opts.idleTimeoutMs,
    serve,
  });
  const slow: { kind: Kind; s: Socket }[] = [];
  let drip: NodeJS.Timeout | undefined;
  try {
    await probes(w, 4);
    const baseline = await settle(w, undefined);
    const before = await probes(w, samples);
    for (const kind of KINDS) for (let i = 0; i < perKind; i++) slow.push({ kind, s: openSlow(w, kind) });
    const header = `GET / HTTP/1.1\r\nHost: ${SM_NAME}\r\nX-Slow: `;
    let k = 0;
    drip = setInterval(() => {
      for (const { kind, s } of slow)
        if (kind === "slow TLS clients" && s.writable) s.write(header[k % header.length]!);
      k++;
    }, 1000);
    const deadline = Date.now() + seconds * 1000;
    let during = await probes(w, samples);
    while (Date.now() < deadline) during = await probes(w, samples);
    const stillOpen = Object.fromEntries(
      KINDS.map((kind) => [kind, slow.filter((x) => x.kind === kind && !x.s.destroyed).length]),
    ) as Record<Kind, number>;
    clearInterval(drip);
    for (const { s } of slow) s.destroy();
    return {
      before,
      during,
      stillOpen,
      baseline,
      after: await settle(w, baseline, (opts.idleTimeoutMs ?? 350_000) + 15_000),
    };
  } finally {
    clearInterval(drip);
    for (const { s } of slow) s.destroy();
    await w.close();
  }
}

function openSlow(w: NetWorld, kind: Kind): Socket {
  const at = { localAddress: w.workloadHost };
  let s: Socket;
  if (kind === "slow TLS clients")
    s = tlsConnect({
      socket: connect({ host: w.front.host, port: w.front.port, ...at }),
      servername: SM_NAME,
      ca: w.p.ca.certPem,
    });
  else {
    s = connect({ host: w.echo.host, port: w.echo.port, ...at });
    if (kind === "non-reading clients") s.once("connect", () => s.write(CHUNK, () => undefined)).pause();
    if (kind === "stalled target")
      s.once("connect", () => s.write(Buffer.concat([Buffer.from(STALL), CHUNK])));
  }
  s.on("error", () => undefined);
  return s;
}

/** `n` normal round trips of each kind, one after another. */
async function probes(w: NetWorld, n: number): Promise<Record<"echo" | "https", ProbeStats>> {
  return { echo: await timed(n, () => echoOnce(w)), https: await timed(n, () => httpsOnce(w)) };
}

const round = (n: number) => Math.round(n * 100) / 100;

/** The rows `npm run bench -- slow-listeners` prints. */
export async function benchSlowListeners(opts: SlowOptions = {}) {
  const r = await measureSlowPeers(opts);
  const perKind = opts.perKind ?? 250;
  return [
    ...(["echo", "https"] as const).map((p) => ({
      case: `${p === "echo" ? "TCP echo via endpoint" : "HTTPS via service front"}: normal client`,
      p50Before: r.before[p].p50Ms,
      p50During: r.during[p].p50Ms,
      p50Factor: round(r.during[p].p50Ms / r.before[p].p50Ms),
      p99Before: r.before[p].p99Ms,
      p99During: r.during[p].p99Ms,
      failed: r.before[p].failed + r.during[p].failed,
    })),
    ...KINDS.map((kind) => ({ case: `${perKind} ${kind}`, stillOpenAtEnd: r.stillOpen[kind] })),
    {
      case: "after closing them",
      // The test target's own paused sockets never see the FIN: they are the harness's, not privlink's.
      leakedFlows: r.after.flows + r.after.frontSockets + r.after.activeConnections,
      targetSocketsHeld: r.after.targetSockets,
      fdsBaseline: r.baseline.fds,
      fdsAfterLessTarget: r.after.fds - r.after.targetSockets,
    },
  ];
}
