import { startFrontBench } from "./front-fixture.js";
import type { LoadResult, LoadSpec } from "./measure.js";

export interface LogsRow extends LoadResult {
  name: string;
  eventsPerSec: number;
  ratioToEdge: number;
}

const LOGS_HOST = "logs.us-east-1.amazonaws.com";
const BATCH = 1000;

/**
 * Issue 11's Logs benchmark: PutLogEvents calls per second with 1,000-event batches (about
 * 100 KB each), straight to the edge and through a Logs interface endpoint's front (TLS, SigV4,
 * an endpoint policy allowing only logs:PutLogEvents) in the same run. Each call lands its
 * events in the SQLite event store. The SDK client runs in its own process (bench/sdk-load.mjs).
 */
export async function benchLogs(opts: { seconds?: number; concurrency?: number } = {}): Promise<LogsRow[]> {
  const seconds = opts.seconds ?? 3;
  const concurrency = opts.concurrency ?? 4;
  const policy = {
    Statement: [{ Effect: "Allow", Principal: "*", Action: "logs:PutLogEvents", Resource: "*" }],
  };
  const { p, port, load, close } = await startFrontBench("logs", policy, "127.0.253.7");
  try {
    await p.logs.putEvents(
      {
        accountId: "000000000000",
        region: "us-east-1",
        logGroupName: "/bench",
        logStreamName: "s",
        events: [],
      },
      { createMissing: true },
    );
    const now = Date.now();
    const events = Array.from({ length: BATCH }, (_, i) => ({
      timestamp: now + i,
      message: `{"level":"INFO","seq":${i},"msg":"request served in 12 ms","path":"/api/orders/${i}"}`.padEnd(
        100,
        " ",
      ),
    }));
    const put = (endpoint: string, tls?: LoadSpec["tls"]): LoadSpec => ({
      service: "logs",
      endpoint,
      tls,
      command: "PutLogEvents",
      inputs: [{ logGroupName: "/bench", logStreamName: "s", logEvents: events }],
      seconds,
      concurrency,
      warmupSeconds: 0.5,
      warmupOps: 20,
    });
    const edge = await load.run(put(p.url));
    const front = await load.run(
      put(`https://${LOGS_HOST}:${port}`, { ca: p.ca.certPem, address: "127.0.0.1" }),
    );
    return [
      {
        name: "PutLogEvents ×1,000 via edge (HTTP)",
        ...edge,
        eventsPerSec: edge.perSec * BATCH,
        ratioToEdge: 1,
      },
      {
        name: "PutLogEvents ×1,000 via endpoint front (TLS + policy)",
        ...front,
        eventsPerSec: front.perSec * BATCH,
        ratioToEdge: front.perSec / edge.perSec,
      },
    ];
  } finally {
    await close();
  }
}
