import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  DescribeVpcEndpointsCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Sha256 } from "../../src/api/sigv4.js";
import { parseSeconds } from "../../src/cli/server.js";
import { ConnectProxyAgent } from "../helpers/connect-proxy-agent.mjs";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { spawnPrivlink } from "../helpers/spawn.js";

/**
 * S3's RequestTimeout: an upload whose body stops arriving is answered 400 RequestTimeout in
 * S3's XML once no byte has come for the S3 idle limit (injected small here), and nothing is
 * stored. Driven with the SDK v3 at the edge and through an S3 interface endpoint over TLS.
 */
const TIMEOUT_MS = 1_000;
const CHUNK = 16 * 1024;
const MESSAGE =
  "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.";

let srv: TestServer;
let edge: S3Client;
let viaEndpoint: S3Client;

/** Two chunks, then silence: the declared third chunk never comes (until the test is over). */
function stallingBody(): Readable {
  let sent = 0;
  const body = new Readable({
    read() {
      if (sent < 2) this.push(Buffer.alloc(CHUNK, ++sent));
    },
  });
  return body;
}

async function refused(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  const e = (await p.then(
    () => new Error("the request succeeded"),
    (err) => err,
  )) as Error & { $metadata?: { httpStatusCode?: number } };
  return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
}

function tempFiles(): string[] {
  return readdirSync(join(srv.home, "s3", "tmp"));
}

async function noTempFiles(): Promise<string[]> {
  for (let i = 0; i < 50 && tempFiles().length > 0; i++) await sleep(50);
  return tempFiles();
}

/** An S3 interface endpoint in a fresh VPC and an instance `uploader` beside it. */
async function interfaceEndpoint(): Promise<string> {
  const ec2 = srv.ec2();
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.62.0.0/16" }))).Vpc!.VpcId!;
  const subnetId = (
    await ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.62.1.0/24", AvailabilityZone: "us-east-1a" }),
    )
  ).Subnet!.SubnetId!;
  const sg = (
    await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: "s3", Description: "s3" }))
  ).GroupId!;
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: sg,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "10.62.0.0/16" }] },
      ],
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
  const ep = (
    await ec2.send(
      new CreateVpcEndpointCommand({
        VpcId: vpcId,
        VpcEndpointType: "Interface",
        ServiceName: "com.amazonaws.us-east-1.s3",
        SubnetIds: [subnetId],
        SecurityGroupIds: [sg],
        PrivateDnsEnabled: false,
      }),
    )
  ).VpcEndpoint!;
  let state = ep.State;
  for (let i = 0; i < 40 && String(state) !== "available"; i++) {
    await sleep(100);
    state = (await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [ep.VpcEndpointId!] })))
      .VpcEndpoints![0]!.State;
  }
  const wildcard = ep.DnsEntries![0]!.DnsName!;
  return `https://bucket.${wildcard.slice(2)}`;
}

beforeAll(async () => {
  srv = await startTestServer({ s3RequestTimeoutMs: TIMEOUT_MS });
  edge = new S3Client({
    endpoint: srv.url,
    region: "us-east-1",
    credentials: srv.credentials,
    forcePathStyle: true,
    maxAttempts: 1,
  });
  await edge.send(new CreateBucketCommand({ Bucket: "stalls" }));
  const endpoint = await interfaceEndpoint();
  const { url } = await srv.admin<{ url: string }>("POST", "/_privlink/workloads/proxy", {
    workload: "uploader",
  });
  viaEndpoint = new S3Client({
    endpoint,
    region: "us-east-1",
    credentials: srv.credentials,
    forcePathStyle: true,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpsAgent: new ConnectProxyAgent(url, { ca: srv.ca.certPem }) }),
  });
}, 120_000);

afterAll(async () => {
  edge?.destroy();
  viaEndpoint?.destroy();
  await srv?.stop();
});

describe.each([
  ["at the edge", () => edge],
  ["through an S3 interface endpoint (TLS)", () => viaEndpoint],
])("a stalled upload %s", (where, client) => {
  const key = `stalled-${where.split(" ")[1]}`;

  it("PutObject: 400 RequestTimeout in S3's XML, and no object, no temp file", {
    timeout: 60_000,
  }, async () => {
    const err = await refused(
      client().send(
        new PutObjectCommand({ Bucket: "stalls", Key: key, Body: stallingBody(), ContentLength: CHUNK * 3 }),
      ),
    );
    expect(err).toEqual({ name: "RequestTimeout", message: MESSAGE, status: 400 });
    const missing = await refused(client().send(new GetObjectCommand({ Bucket: "stalls", Key: key })));
    expect(missing.name).toBe("NoSuchKey");
    expect(await noTempFiles()).toEqual([]);
  });

  it("UploadPart: 400 RequestTimeout, and the upload has no part", { timeout: 60_000 }, async () => {
    const { UploadId } = await client().send(
      new CreateMultipartUploadCommand({ Bucket: "stalls", Key: `${key}-mp` }),
    );
    const err = await refused(
      client().send(
        new UploadPartCommand({
          Bucket: "stalls",
          Key: `${key}-mp`,
          UploadId,
          PartNumber: 1,
          Body: stallingBody(),
          ContentLength: CHUNK * 3,
        }),
      ),
    );
    expect(err).toEqual({ name: "RequestTimeout", message: MESSAGE, status: 400 });
    const parts = await client().send(new ListPartsCommand({ Bucket: "stalls", Key: `${key}-mp`, UploadId }));
    expect(parts.Parts ?? []).toEqual([]);
    expect(await noTempFiles()).toEqual([]);
  });

  it("a body that keeps flowing slower than the limit overall is not cut", { timeout: 60_000 }, async () => {
    let sent = 0;
    const slow = new Readable({
      read() {
        if (sent === 4) this.push(null);
        else setTimeout(() => this.push(Buffer.alloc(CHUNK, ++sent)), TIMEOUT_MS / 2);
      },
    });
    const put = await client().send(
      new PutObjectCommand({ Bucket: "stalls", Key: `${key}-slow`, Body: slow, ContentLength: CHUNK * 4 }),
    );
    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
  });
});

describe("an error found while the body still streams", () => {
  it("is answered in S3's XML before the rest arrives, on a connection kept open", {
    timeout: 60_000,
  }, async () => {
    // A bucket policy is read into a 20 KiB buffer: past that the request fails mid-body. The
    // client sends 32 KiB of a declared 64 KiB and waits for the answer.
    const u = new URL(srv.url);
    const signed = await new SignatureV4({
      service: "s3",
      region: "us-east-1",
      credentials: srv.credentials,
      sha256: Sha256,
      uriEscapePath: false,
    }).sign(
      new HttpRequest({
        method: "PUT",
        protocol: "http:",
        hostname: u.hostname,
        port: Number(u.port),
        path: "/stalls",
        query: { policy: "" },
        headers: {
          host: u.host,
          "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
          "content-length": String(64 << 10),
        },
      }),
    );
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { host: u.hostname, port: u.port, method: "PUT", path: "/stalls?policy", headers: signed.headers },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (body += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      req.write(Buffer.alloc(32 << 10, 0x20));
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toContain("<Code>MaxMessageLengthExceeded</Code>");
  });
});

describe("the S3 idle limit of `privlink up`", () => {
  it("is read from PRIVLINK_S3_REQUEST_TIMEOUT (or --s3-request-timeout), said at start, and applied", {
    timeout: 90_000,
  }, async () => {
    expect(parseSeconds("--s3-request-timeout", "20")).toBe(20_000);
    expect(() => parseSeconds("--s3-request-timeout", "0")).toThrow(
      /--s3-request-timeout takes whole seconds/,
    );
    const home = mkdtempSync(join(tmpdir(), "privlink-s3-timeout-"));
    process.env.PRIVLINK_S3_REQUEST_TIMEOUT = "2";
    const up = await spawnPrivlink(home).finally(() => {
      delete process.env.PRIVLINK_S3_REQUEST_TIMEOUT;
    });
    const s3 = new S3Client({
      endpoint: up.url,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      forcePathStyle: true,
      maxAttempts: 1,
    });
    try {
      expect(up.output()).toContain("s3 uploads  RequestTimeout after 2 s without a byte");
      await s3.send(new CreateBucketCommand({ Bucket: "spawned" }));
      const err = await refused(
        s3.send(
          new PutObjectCommand({
            Bucket: "spawned",
            Key: "k",
            Body: stallingBody(),
            ContentLength: CHUNK * 3,
          }),
        ),
      );
      expect(err).toEqual({ name: "RequestTimeout", message: MESSAGE, status: 400 });
    } finally {
      s3.destroy();
      up.child.kill("SIGTERM");
      await new Promise((r) => up.child.once("exit", r));
      rmSync(home, { recursive: true, force: true });
    }
  });
});
