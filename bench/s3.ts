import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { startPrivlink } from "../src/privlink.js";

const CREDS = { accessKeyId: "test", secretAccessKey: "test" };
const MiB = 1024 * 1024;
const SOCAT = "/usr/bin/socat";

export interface S3Row {
  case: string;
  via: string;
  MBps?: number;
  ratioToEdge?: number;
  peakRssDeltaMiB?: number;
  note?: string;
}

function clientScript(): string {
  for (const up of ["./", "../../bench/"]) {
    const path = fileURLToPath(new URL(`${up}s3-client.mjs`, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error("bench/s3-client.mjs not found");
}

interface Transfer {
  endpoint: string;
  ca?: string;
  pathStyle: boolean;
  op: "put" | "get" | "put-stream";
  bucket: string;
  key: string;
  bytes: number;
  count: number;
  keys?: number;
}

function transfer(spec: Transfer): Promise<{ seconds: number; bytes: number }> {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [clientScript(), JSON.stringify(spec)],
      { maxBuffer: 1 << 20, timeout: 300_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`s3-client: ${stderr || err.message}`));
        else resolve(JSON.parse(stdout));
      },
    ),
  );
}

/**
 * Issue 11's S3 benchmark: PUT and GET throughput of 64 MiB objects with the SDK v3 through an
 * S3 interface endpoint's service front (TLS, SigV4, policies, virtual-hosted
 * `bucket.vpce-…` names) against the same client on the plain-HTTP edge and through a socat pipe
 * to the edge, in the same run; then the server's peak RSS growth during one streamed 1 GiB PUT.
 */
export async function benchS3(opts: { count?: number; bigBytes?: number } = {}): Promise<S3Row[]> {
  const count = opts.count ?? 4;
  const bigBytes = opts.bigBytes ?? 1024 * MiB;
  const home = mkdtempSync(join(tmpdir(), "privlink-bench-s3-"));
  const p = await startPrivlink({ port: 0, home, slots: { min: 200, max: 254 }, publicDns: "127.0.253.7" });
  const listener = createServer();
  let socat: ChildProcess | undefined;
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
        ServiceName: "com.amazonaws.us-east-1.s3",
        SubnetIds: [subnetId],
        PrivateDnsEnabled: false,
      }),
    );
    ec2.destroy();
    const endpointId = ep.VpcEndpoint!.VpcEndpointId!;
    const wildcard = ep.VpcEndpoint!.DnsEntries![0]!.DnsName!;
    const eniId = p.state.get("vpcEndpoint", endpointId)!.enis[0]!.eniId;
    listener.on("connection", (socket) =>
      p.front.handle(socket, { endpointId, eniId, clientIp: "10.9.1.77" }),
    );
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    const port = (listener.address() as AddressInfo).port;
    const s3 = new S3Client({
      endpoint: p.url,
      region: "us-east-1",
      credentials: CREDS,
      forcePathStyle: true,
      maxAttempts: 1,
    });
    await s3.send(new CreateBucketCommand({ Bucket: "bench" }));
    s3.destroy();

    const vias: { via: string; endpoint: string; ca?: string; pathStyle: boolean }[] = [
      { via: "edge", endpoint: p.url, pathStyle: true },
      {
        via: "endpoint",
        endpoint: `https://bucket.${wildcard.slice(2)}:${port}`,
        ca: p.ca.certPem,
        pathStyle: false,
      },
    ];
    const rows: S3Row[] = [];
    if (existsSync(SOCAT)) {
      const socatPort = 20000 + (process.pid % 20000);
      socat = spawn(
        SOCAT,
        [`TCP-LISTEN:${socatPort},bind=127.0.0.1,reuseaddr,fork`, `TCP:127.0.0.1:${p.port}`],
        { stdio: "ignore" },
      );
      await new Promise((r) => setTimeout(r, 300));
      vias.push({ via: "socat", endpoint: `http://127.0.0.1:${socatPort}`, pathStyle: true });
    } else rows.push({ case: "(all)", via: "socat", note: `skipped: ${SOCAT} not installed` });

    for (const op of ["put", "get"] as const) {
      let edge = 0;
      for (const v of vias) {
        const r = await transfer({
          ...v,
          op,
          bucket: "bench",
          key: `o64-${v.via}`,
          bytes: 64 * MiB,
          count,
          keys: 1,
        });
        const MBps = r.bytes / MiB / r.seconds;
        if (v.via === "edge") edge = MBps;
        rows.push({
          case: `${op.toUpperCase()} 64 MiB x${count}`,
          via: v.via,
          MBps: round(MBps),
          ratioToEdge: round(MBps / edge),
        });
      }
    }

    // Peak RSS of the server (this process) while one 1 GiB body streams in through the endpoint.
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const big = await transfer({
      ...vias[1]!,
      op: "put-stream",
      bucket: "bench",
      key: "big",
      bytes: bigBytes,
      count: 1,
    });
    clearInterval(sampler);
    rows.push({
      case: `PUT ${Math.round(bigBytes / MiB)} MiB (streamed)`,
      via: "endpoint",
      MBps: round(big.bytes / MiB / big.seconds),
      peakRssDeltaMiB: round((peak - before) / MiB),
    });
    return rows;
  } finally {
    socat?.kill();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
    await p.close();
    rmSync(home, { recursive: true, force: true });
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
