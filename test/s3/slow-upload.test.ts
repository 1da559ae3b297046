import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import {
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  DescribeRouteTablesCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConnectProxyAgent } from "../helpers/connect-proxy-agent.mjs";
import { startTestServer, type TestServer } from "../helpers/server.js";

/**
 * Long uploads through an endpoint: the service front cuts a request when no byte has moved for
 * its idle timeout, never because the request as a whole runs long (a slow 5 GiB PUT). The idle
 * limit is injected small here; the upload takes several times that, in bounded slow chunks.
 */
const IDLE_MS = 1_000;
const CHUNK = 32 * 1024;
const CHUNKS = 12;
const GAP_MS = 300;

let srv: TestServer;
let s3: S3Client;

/** `count` chunks, one every `gap` ms; then, with `stallMs`, silence before the end. */
function slowBody(count: number, gap: number, stallMs = 0): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent === count) {
        setTimeout(() => this.push(null), stallMs);
        return;
      }
      const chunk = Buffer.alloc(CHUNK, sent++ % 251);
      setTimeout(() => this.push(chunk), gap);
    },
  });
}

function expected(count: number): string {
  const h = createHash("md5");
  for (let i = 0; i < count; i++) h.update(Buffer.alloc(CHUNK, i % 251));
  return h.digest("hex");
}

beforeAll(async () => {
  srv = await startTestServer({ frontLimits: { requestIdleTimeoutMs: IDLE_MS } });
  const ec2 = srv.ec2();
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.61.0.0/16" }))).Vpc!.VpcId!;
  const subnetId = (
    await ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.61.1.0/24", AvailabilityZone: "us-east-1a" }),
    )
  ).Subnet!.SubnetId!;
  const main = (
    await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }))
  ).RouteTables![0]!.RouteTableId!;
  await ec2.send(
    new CreateVpcEndpointCommand({
      VpcId: vpcId,
      ServiceName: "com.amazonaws.us-east-1.s3",
      RouteTableIds: [main],
    }),
  );
  await ec2.send(
    new RunInstancesCommand({
      ImageId: "ami-12345678",
      MinCount: 1,
      MaxCount: 1,
      SubnetId: subnetId,
      TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "Name", Value: "uploader" }] }],
    }),
  );
  await new S3Client({
    endpoint: srv.url,
    region: "us-east-1",
    credentials: srv.credentials,
    forcePathStyle: true,
  }).send(new CreateBucketCommand({ Bucket: "slow" }));
  const { url } = await srv.admin<{ url: string }>("POST", "/_privlink/workloads/proxy", {
    workload: "uploader",
  });
  s3 = new S3Client({
    region: "us-east-1",
    credentials: srv.credentials,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpsAgent: new ConnectProxyAgent(url, { ca: srv.ca.certPem }) }),
  });
}, 60_000);

afterAll(async () => {
  s3?.destroy();
  await srv?.stop();
});

describe("a slow streamed PUT through the S3 gateway endpoint", { timeout: 60_000 }, () => {
  it("is not cut while its bytes keep flowing, however long it runs", async () => {
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: "slow",
        Key: "big.bin",
        Body: slowBody(CHUNKS, GAP_MS),
        ContentLength: CHUNK * CHUNKS,
      }),
    );
    expect(put.ETag).toBe(`"${expected(CHUNKS)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: "slow", Key: "big.bin" }));
    const bytes = await got.Body!.transformToByteArray();
    expect(createHash("md5").update(bytes).digest("hex")).toBe(expected(CHUNKS));
  });

  it("is cut once no byte has moved for the idle timeout, and leaves no object", async () => {
    const stalled = s3.send(
      new PutObjectCommand({
        Bucket: "slow",
        Key: "stalled.bin",
        Body: slowBody(2, 10, IDLE_MS * 4),
        // Declared longer than what comes: the server waits for the rest, which never moves.
        ContentLength: CHUNK * 3,
      }),
    );
    await expect(stalled).rejects.toThrow();
    const missing = await s3
      .send(new GetObjectCommand({ Bucket: "slow", Key: "stalled.bin" }))
      .catch((e) => e);
    expect(missing.name).toBe("NoSuchKey");
  });
});
