import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { startPrivlink } from "../src/privlink.js";
import { type LoadResult, type LoadSpec, SdkLoad } from "./measure.js";

export interface LogsRow extends LoadResult {
  name: string;
  eventsPerSec: number;
  ratioToEdge: number;
}

const CREDS = { accessKeyId: "test", secretAccessKey: "test" };
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
  const home = mkdtempSync(join(tmpdir(), "privlink-bench-logs-"));
  const p = await startPrivlink({ port: 0, home, slots: { min: 200, max: 254 }, publicDns: "127.0.253.7" });
  const listener = createServer();
  const load = SdkLoad.start();
  try {
    const ec2 = new EC2Client({ endpoint: p.url, region: "us-east-1", credentials: CREDS, maxAttempts: 1 });
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.9.0.0/16" }))).Vpc!.VpcId!;
    const subnetId = (
      await ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.9.1.0/24", AvailabilityZone: "us-east-1a" }),
      )
    ).Subnet!.SubnetId!;
    const ep = await ec2.send(
      new CreateVpcEndpointCommand({
        VpcId: vpcId,
        VpcEndpointType: "Interface",
        ServiceName: "com.amazonaws.us-east-1.logs",
        SubnetIds: [subnetId],
        PrivateDnsEnabled: false,
        PolicyDocument: JSON.stringify({
          Statement: [{ Effect: "Allow", Principal: "*", Action: "logs:PutLogEvents", Resource: "*" }],
        }),
      }),
    );
    ec2.destroy();
    const endpointId = ep.VpcEndpoint!.VpcEndpointId!;
    const eniId = p.state.get("vpcEndpoint", endpointId)!.enis[0]!.eniId;
    listener.on("connection", (socket) =>
      p.front.handle(socket, { endpointId, eniId, clientIp: "10.9.1.77" }),
    );
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    const port = (listener.address() as AddressInfo).port;
    p.logs.putEvents(
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
    await load.close();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
    await p.close();
    rmSync(home, { recursive: true, force: true });
  }
}
