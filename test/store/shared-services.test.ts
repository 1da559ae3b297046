import { createHash, createVerify, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { CreateVpcEndpointConnectionNotificationCommand } from "@aws-sdk/client-ec2";
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import {
  CreateTopicCommand,
  ListSubscriptionsByTopicCommand,
  PublishCommand,
  SetTopicAttributesCommand,
  SNSClient,
  SubscribeCommand,
} from "@aws-sdk/client-sns";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectionEventType } from "../../src/cloud/types.js";
import { LocalCa } from "../../src/front/index.js";
import { emitEvent, fakeEndpoint, makeEndpointService } from "../control-plane/provider-fixtures.js";
import { fails } from "../helpers/errors.js";
import { postgresMissing, startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { edgeS3 } from "../helpers/s3.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { startSubscriber } from "../helpers/sns-subscriber.js";

/**
 * Two API nodes on one PostgreSQL store serve S3 and SNS alike (issue #19): object bodies live
 * in the store, and SNS signs with the store's key.
 */
const missing = postgresMissing();
if (missing) console.log(`skipping the shared-store S3/SNS tests: ${missing}`);

let pgs: TestPostgres;
let store: string;
let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  if (missing) return;
  pgs = await startPostgres();
  store = await pgs.createDatabase();
  a = await startTestServer({ store });
  b = await startTestServer({ store });
}, 120_000);
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await pgs?.stop();
});

const s3 = edgeS3;

/** Polls `probe` until it returns true (bounded: 20 s): another node learns of a commit through the change feed. */
async function eventually(probe: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + 20_000;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > until) throw new Error("condition not met within 20 s");
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function bytesOf(client: S3Client, bucket: string, key: string, range?: string): Promise<Buffer> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

/** Length and SHA-256: toEqual on megabytes of Buffer walks them byte by byte, slowly. */
const sha = (b: Buffer) => `${b.length}:${createHash("sha256").update(b).digest("hex")}`;

async function storeRows(): Promise<{ blobs: number; chunks: number }> {
  const db = new pg.Client({ connectionString: store });
  await db.connect();
  try {
    const blobs = Number((await db.query("SELECT count(*) AS n FROM s3_blobs")).rows[0].n);
    const chunks = Number((await db.query("SELECT count(*) AS n FROM s3_blob_chunks")).rows[0].n);
    return { blobs, chunks };
  } finally {
    await db.end();
  }
}

describe.skipIf(missing)("S3 and SNS on two API nodes of one PostgreSQL store", () => {
  it("reads through B, byte for byte and by ranges, what A wrote (single and multipart); a delete on B leaves nothing", async () => {
    const [sa, sb] = [s3(a), s3(b)];
    await sa.send(new CreateBucketCommand({ Bucket: "shared" }));
    // 2.5 chunks: ranges below cross chunk boundaries.
    const single = randomBytes((5 << 20) / 2 + 7);
    await sa.send(new PutObjectCommand({ Bucket: "shared", Key: "one.bin", Body: single }));
    // A multipart upload whose parts go through both nodes, completed on A.
    const parts = [randomBytes(5 << 20), randomBytes((3 << 20) / 2 + 3)];
    const { UploadId } = await sa.send(
      new CreateMultipartUploadCommand({ Bucket: "shared", Key: "multi.bin" }),
    );
    await eventually(async () => b.state.get("s3Upload", UploadId!) !== undefined);
    const etags: string[] = [];
    for (const [i, client] of [sa, sb].entries()) {
      const up = await client.send(
        new UploadPartCommand({
          Bucket: "shared",
          Key: "multi.bin",
          UploadId,
          PartNumber: i + 1,
          Body: parts[i],
        }),
      );
      etags.push(up.ETag!);
    }
    await eventually(async () => Object.keys(a.state.get("s3Upload", UploadId!)?.parts ?? {}).length === 2);
    await sa.send(
      new CompleteMultipartUploadCommand({
        Bucket: "shared",
        Key: "multi.bin",
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    const multi = Buffer.concat(parts);
    await eventually(
      async () =>
        (await sb.send(new HeadObjectCommand({ Bucket: "shared", Key: "multi.bin" }))) !== undefined,
    );
    await eventually(
      async () => (await sb.send(new HeadObjectCommand({ Bucket: "shared", Key: "one.bin" }))) !== undefined,
    );

    expect(sha(await bytesOf(sb, "shared", "one.bin"))).toBe(sha(single));
    expect(sha(await bytesOf(sb, "shared", "multi.bin"))).toBe(sha(multi));
    const mib = 1 << 20;
    for (const [body, key] of [
      [single, "one.bin"],
      [multi, "multi.bin"],
    ] as const)
      for (const [range, start, end] of [
        ["bytes=0-0", 0, 0],
        [`bytes=${mib - 5}-${mib + 4}`, mib - 5, mib + 4],
        [`bytes=${mib}-${2 * mib - 1}`, mib, 2 * mib - 1],
        [`bytes=${mib - 1}-${3 * mib}`, mib - 1, Math.min(3 * mib, body.length - 1)],
        ["bytes=-10", body.length - 10, body.length - 1],
        [`bytes=${body.length - 1}-`, body.length - 1, body.length - 1],
      ] as const)
        expect(sha(await bytesOf(sb, "shared", key, range)), `${key} ${range}`).toBe(
          sha(body.subarray(start, end + 1)),
        );

    // Deleted on B: gone on A, and nothing of either body is left in the store (the parts went
    // when the upload completed); A's home never held a body.
    await sb.send(new DeleteObjectCommand({ Bucket: "shared", Key: "one.bin" }));
    await sb.send(new DeleteObjectCommand({ Bucket: "shared", Key: "multi.bin" }));
    await eventually(async () => a.state.get("s3Object", "shared/one.bin") === undefined);
    for (const key of ["one.bin", "multi.bin"])
      expect(await fails(sa.send(new GetObjectCommand({ Bucket: "shared", Key: key })))).toMatchObject({
        name: "NoSuchKey",
      });
    expect(await storeRows()).toEqual({ blobs: 0, chunks: 0 });
    expect(existsSync(join(a.home, "s3", "blobs"))).toBe(false);
  });

  it("signs a message published on B so that it verifies with the certificate served by A (HTTPS subscriber)", async () => {
    const ca = LocalCa.fromPem(await LocalCa.createPem(new Date()));
    const leaf = await ca.leaf(["localhost"], new Date());
    const hook = await startSubscriber({ confirm: true, tls: { cert: leaf.certPem, key: leaf.keyPem } });
    try {
      const sns = (srv: TestServer) =>
        new SNSClient({
          endpoint: srv.url,
          region: "us-east-1",
          credentials: srv.credentials,
          maxAttempts: 1,
        });
      const { TopicArn } = await sns(a).send(new CreateTopicCommand({ Name: "shared-topic" }));
      await eventually(async () => b.state.get("snsTopic", TopicArn!) !== undefined);
      await sns(b).send(new SubscribeCommand({ TopicArn, Protocol: "https", Endpoint: hook.url }));
      await eventually(async () => {
        const list = await sns(b).send(new ListSubscriptionsByTopicCommand({ TopicArn }));
        return list.Subscriptions?.[0]?.SubscriptionArn?.startsWith("arn:") === true;
      });
      const { MessageId } = await sns(b).send(
        new PublishCommand({ TopicArn, Message: "from b", Subject: "s" }),
      );
      const n = await hook.waitFor((m) => m.MessageId === MessageId);
      expect(n.SigningCertURL).toBe(`${b.url}/_privlink/sns/SimpleNotificationService.pem`);
      const certOnA = await (await fetch(`${a.url}/_privlink/sns/SimpleNotificationService.pem`)).text();
      const text = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
        .map((k) => `${k}\n${n[k]}\n`)
        .join("");
      expect(createVerify("RSA-SHA256").update(text).verify(certOnA, n.Signature!, "base64")).toBe(true);
      // And the confirmation B sent verifies with A's certificate too.
      const c = await hook.waitFor((m) => m.Type === "SubscriptionConfirmation");
      const ctext = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
        .map((k) => `${k}\n${c[k]}\n`)
        .join("");
      expect(createVerify("RSA-SHA256").update(ctext).verify(certOnA, c.Signature!, "base64")).toBe(true);
    } finally {
      await hook.close();
    }
  });
  it("publishes an endpoint connection event once, from the node that committed it", async () => {
    const hook = await startSubscriber({ confirm: true });
    try {
      const sns = new SNSClient({ endpoint: a.url, region: "us-east-1", credentials: a.credentials });
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "vpce-events-once" }));
      const statement = {
        Effect: "Allow",
        Principal: { Service: "vpce.amazonaws.com" },
        Action: "SNS:Publish",
      };
      await sns.send(
        new SetTopicAttributesCommand({
          TopicArn,
          AttributeName: "Policy",
          AttributeValue: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ ...statement, Resource: TopicArn }],
          }),
        }),
      );
      await sns.send(new SubscribeCommand({ TopicArn, Protocol: "http", Endpoint: hook.url }));
      await hook.waitFor((m) => m.Type === "SubscriptionConfirmation");

      const { serviceId, serviceName } = await makeEndpointService(a, "10.41.0.0/16", "once");
      const { ConnectionNotification } = await a.ec2().send(
        new CreateVpcEndpointConnectionNotificationCommand({
          ServiceId: serviceId,
          ConnectionNotificationArn: TopicArn,
          ConnectionEvents: ["Connect", "Accept"],
        }),
      );
      const notificationId = ConnectionNotification!.ConnectionNotificationId!;
      await eventually(async () => b.state.get("connectionNotification", notificationId) !== undefined);
      const endpoint = fakeEndpoint(a, {
        id: "vpce-0ccccccccccccccc1",
        serviceId,
        serviceName,
        state: "pendingAcceptance",
      });
      const events = (event: ConnectionEventType) =>
        hook.received
          .map((m) => m.body)
          .filter((m) => m.Type === "Notification" && JSON.parse(m.Message!).ConnectionEvent === event);
      // Node A commits both events; B sees them through the feed. Accept is committed only after
      // Connect arrived, so a second Connect from B would have had as long as Accept took.
      emitEvent(a, endpoint.id, "Connect");
      await eventually(async () => events("Connect").length > 0);
      emitEvent(a, endpoint.id, "Accept");
      await eventually(async () => events("Accept").length > 0);
      await eventually(async () => [...b.state.all("connectionEvent")].length >= 2);
      expect(events("Connect")).toHaveLength(1);
      expect(events("Accept")).toHaveLength(1);
      expect(JSON.parse(events("Connect")[0]!.Message!)).toMatchObject({
        ConnectionNotificationId: notificationId,
        ServiceId: serviceId,
        VpcEndpointId: endpoint.id,
      });
    } finally {
      await hook.close();
    }
  });
});
