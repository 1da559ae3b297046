import { createVerify } from "node:crypto";
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListSubscriptionsCommand,
  ListTopicsCommand,
  PublishCommand,
  SetTopicAttributesCommand,
  SNSClient,
  SubscribeCommand,
} from "@aws-sdk/client-sns";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { startSubscriber } from "../helpers/sns-subscriber.js";

let srv: TestServer;
let sns: SNSClient;

beforeAll(async () => {
  srv = await startTestServer();
  sns = new SNSClient({
    endpoint: srv.url,
    region: "us-east-1",
    credentials: srv.credentials,
    maxAttempts: 1,
  });
});
afterAll(() => srv.stop());

describe("SNS", () => {
  it("creates topics idempotently, with AWS's default policy, and refuses bad names", async () => {
    const a = await sns.send(new CreateTopicCommand({ Name: "alerts" }));
    const b = await sns.send(new CreateTopicCommand({ Name: "alerts" }));
    expect(a.TopicArn).toBe("arn:aws:sns:us-east-1:000000000000:alerts");
    expect(b.TopicArn).toBe(a.TopicArn);
    const attrs = await sns.send(new GetTopicAttributesCommand({ TopicArn: a.TopicArn }));
    expect(attrs.Attributes).toMatchObject({
      TopicArn: a.TopicArn,
      Owner: "000000000000",
      SubscriptionsPending: "0",
    });
    expect(JSON.parse(attrs.Attributes!.Policy!).Id).toBe("__default_policy_ID");
    // The account-wide lists authorize against the caller's own account (a wildcard topic ARN).
    const topics = await sns.send(new ListTopicsCommand({}));
    expect(topics.Topics).toContainEqual({ TopicArn: a.TopicArn });
    expect((await sns.send(new ListSubscriptionsCommand({}))).Subscriptions).toEqual([]);
    expect(await fails(sns.send(new CreateTopicCommand({ Name: "bad name" })))).toMatchObject({
      name: "InvalidParameterException",
      status: 400,
    });
    expect(
      await fails(
        sns.send(new PublishCommand({ TopicArn: "arn:aws:sns:us-east-1:000000000000:none", Message: "x" })),
      ),
    ).toMatchObject({ name: "NotFoundException", message: "Topic does not exist", status: 404 });
  });

  it("confirms an HTTP subscription by the handshake and delivers signed notifications", async () => {
    const sub = await startSubscriber({ confirm: true });
    try {
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "orders" }));
      const s = await sns.send(new SubscribeCommand({ TopicArn, Protocol: "http", Endpoint: sub.url }));
      expect(s.SubscriptionArn).toBe("pending confirmation");
      const confirmation = await sub.waitFor((m) => m.Type === "SubscriptionConfirmation");
      expect(confirmation).toMatchObject({ TopicArn, SignatureVersion: "2" });
      expect(sub.received[0]?.headers["x-amz-sns-message-type"]).toBe("SubscriptionConfirmation");
      for (let i = 0; i < 100; i++) {
        const list = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
        if (list.Subscriptions?.[0]?.SubscriptionArn !== "PendingConfirmation") break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const { MessageId } = await sns.send(
        new PublishCommand({ TopicArn, Message: "order 1", Subject: "new order" }),
      );
      const n = await sub.waitFor((m) => m.Type === "Notification");
      expect(n).toMatchObject({
        Type: "Notification",
        MessageId,
        TopicArn,
        Subject: "new order",
        Message: "order 1",
      });
      const cert = await (await fetch(n.SigningCertURL!)).text();
      const text = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
        .map((k) => `${k}\n${n[k]}\n`)
        .join("");
      expect(createVerify("RSA-SHA256").update(text).verify(cert, n.Signature!, "base64")).toBe(true);
      await sns.send(new DeleteTopicCommand({ TopicArn }));
    } finally {
      await sub.close();
    }
  });

  it("refuses subscribers outside loopback and honours topic policies across accounts", async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "shared" }));
    expect(
      await fails(
        sns.send(new SubscribeCommand({ TopicArn, Protocol: "http", Endpoint: "http://example.com/x" })),
      ),
    ).toMatchObject({ name: "InvalidParameterException" });
    const other = new SNSClient({
      endpoint: srv.url,
      region: "us-east-1",
      credentials: await srv.admin("POST", "/_privlink/accounts", { id: "222233334444" }),
      maxAttempts: 1,
    });
    expect(await fails(other.send(new PublishCommand({ TopicArn, Message: "hi" })))).toMatchObject({
      name: "AuthorizationErrorException",
      status: 403,
    });
    await sns.send(
      new SetTopicAttributesCommand({
        TopicArn,
        AttributeName: "Policy",
        AttributeValue: JSON.stringify({
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: "222233334444" },
              Action: "sns:Publish",
              Resource: TopicArn,
            },
          ],
        }),
      }),
    );
    expect((await other.send(new PublishCommand({ TopicArn, Message: "hi" }))).MessageId).toMatch(
      /^[0-9a-f-]{36}$/,
    );
  });

  it("writes messages to privlink's SNS event log through a privlink-events subscription", async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "audit" }));
    const s = await sns.send(
      new SubscribeCommand({ TopicArn, Protocol: "privlink-events", Endpoint: "audit" }),
    );
    expect(s.SubscriptionArn).toMatch(new RegExp(`^${TopicArn}:[0-9a-f-]{36}$`));
    await sns.send(new PublishCommand({ TopicArn, Message: "logged" }));
    await srv.sns.idle();
    const log = await srv.admin<{ messages: { topicArn: string; message: string }[] }>(
      "GET",
      "/_privlink/sns/messages",
    );
    expect(log.messages).toEqual([expect.objectContaining({ topicArn: TopicArn, message: "logged" })]);
    // Only the links in messages are open to subscribers; the event log stays behind the admin token.
    expect((await fetch(`${srv.url}/_privlink/sns/messages`)).status).toBe(401);
  });
});
