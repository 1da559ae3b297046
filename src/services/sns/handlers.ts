/**
 * SNS actions (awsQuery, 2010-03-31): topics, subscriptions, Publish, topic policies. Handlers
 * change the State and hand deliveries to the outbox; the service sends them once the
 * transaction committed (HTTP POSTs are I/O and never run inside a transaction).
 */
import type { Call, HandlerTable } from "../../api/handler.js";
import type { Ctx } from "../../cloud/context.js";
import { AwsError } from "../../cloud/errors.js";
import type { Tx } from "../../cloud/state.js";
import type { SnsSubscription, SnsTopic, Tags } from "../../cloud/types.js";
import { authorize } from "../../front/authorize.js";
import { HANDLER_AUTHORIZED } from "../../front/front.js";
import { parsePolicy } from "../../iam/index.js";
import {
  checkEndpoint,
  checkMessage,
  checkTopicName,
  defaultTopicPolicy,
  invalidParameter,
  notFound,
  parseTopicArn,
  topicArn,
} from "./rules.js";

/** What handlers ask the service to send after commit. */
export type Delivery =
  | { readonly kind: "confirm"; readonly subscription: SnsSubscription }
  | {
      readonly kind: "notify";
      readonly subscription: SnsSubscription;
      readonly messageId: string;
      readonly subject?: string;
      readonly message: string;
    };

export interface Outbox {
  push(d: Delivery): void;
}

const TOPIC_NOT_FOUND = "Topic does not exist";
const SUBSCRIPTION_NOT_FOUND = "Subscription does not exist";
const SETTABLE_TOPIC = [
  "Policy",
  "DisplayName",
  "DeliveryPolicy",
  "KmsMasterKeyId",
  "SignatureVersion",
  "TracingConfig",
];
const SETTABLE_SUBSCRIPTION = [
  "RawMessageDelivery",
  "DeliveryPolicy",
  "FilterPolicy",
  "FilterPolicyScope",
  "RedrivePolicy",
];

/**
 * SNS answers a denial with AuthorizationError (403), not the Query family's AccessDenied.
 * Account-wide calls (ListTopics…) name a wildcard resource in the caller's own account.
 */
function authorizeSns(
  ctx: Ctx,
  action: string,
  topic: SnsTopic | undefined,
  arn: string,
  account = () => topic?.accountId ?? parseTopicArn(arn).accountId,
): void {
  try {
    authorize(ctx, {
      action: `sns:${action}`,
      resource: arn,
      resourceAccount: account(),
      resourcePolicy: topic?.attributes.Policy,
    });
  } catch (err) {
    if (err instanceof AwsError && err.code === "AccessDenied")
      throw new AwsError("AuthorizationError", err.message, 403);
    throw err;
  }
}

function topicFor(call: Call, member = "TopicArn"): SnsTopic {
  const arn = call.input[member];
  parseTopicArn(arn, member);
  const topic = call.tx.get("snsTopic", arn);
  authorizeSns(call.ctx, call.ctx.action ?? "Unknown", topic, arn);
  if (!topic) throw notFound(TOPIC_NOT_FOUND);
  return topic;
}

function subscriptionFor(call: Call): SnsSubscription {
  const arn = String(call.input.SubscriptionArn ?? "");
  const sub = call.tx.get("snsSubscription", arn);
  if (!sub) {
    if (!/^arn:aws[a-z-]*:sns:/.test(arn)) throw invalidParameter("Invalid parameter: SubscriptionArn");
    throw notFound(SUBSCRIPTION_NOT_FOUND);
  }
  authorizeSns(call.ctx, call.ctx.action ?? "Unknown", call.tx.get("snsTopic", sub.topicArn), sub.topicArn);
  return sub;
}

function subscriptionsOf(tx: Tx, arn: string): SnsSubscription[] {
  return [...tx.all("snsSubscription")].filter((s) => s.topicArn === arn);
}

function tagsOf(list: { Key?: string; Value?: string }[] | undefined): Tags {
  const tags: Tags = {};
  for (const t of list ?? []) {
    if (!t.Key) throw invalidParameter("Invalid parameter: Tags Reason: Tag key must not be empty");
    tags[t.Key] = t.Value ?? "";
  }
  return tags;
}

function checkPolicy(text: string): void {
  parsePolicy(text, { kind: "resource", maxLength: 30_720, errorCode: "InvalidParameter" });
}

function listShape(s: SnsSubscription) {
  return {
    SubscriptionArn: s.confirmed ? s.id : "PendingConfirmation",
    Owner: s.owner,
    Protocol: s.protocol,
    Endpoint: s.endpoint,
    TopicArn: s.topicArn,
  };
}

function pageOf<T>(items: T[], token: string | undefined, size = 100): { items: T[]; NextToken?: string } {
  const start =
    token === undefined || token === "" ? 0 : Number(Buffer.from(token, "base64url").toString("latin1"));
  if (!Number.isInteger(start) || start < 0) throw invalidParameter("Invalid parameter: NextToken");
  return {
    items: items.slice(start, start + size),
    NextToken:
      start + size < items.length
        ? Buffer.from(String(start + size), "latin1").toString("base64url")
        : undefined,
  };
}

/** The message a protocol gets: MessageStructure=json picks its key, else `default`. */
function messageFor(
  protocol: string,
  message: string,
  structured: Record<string, string> | undefined,
): string {
  if (!structured) return message;
  return structured[protocol] ?? structured.default!;
}

// Every handler authorizes with its resource's ARN (and policy): the front passes endpoint requests on.
HANDLER_AUTHORIZED.add("sns");

export function snsHandlers(outbox: Outbox): HandlerTable {
  const createTopic = ({ tx, ctx, input }: Call) => {
    const attributes: Record<string, string> = { ...(input.Attributes ?? {}) };
    const fifo = attributes.FifoTopic === "true";
    const name = checkTopicName(input.Name, fifo || String(input.Name ?? "").endsWith(".fifo"));
    const arn = topicArn(ctx.region, ctx.accountId, name);
    authorizeSns(ctx, "CreateTopic", undefined, arn);
    const existing = tx.get("snsTopic", arn);
    if (existing) return { TopicArn: arn };
    for (const k of Object.keys(attributes))
      if (![...SETTABLE_TOPIC, "FifoTopic", "ContentBasedDeduplication"].includes(k))
        throw invalidParameter(`Invalid parameter: Attributes Reason: Unknown attribute ${k}`);
    if (attributes.Policy !== undefined) checkPolicy(attributes.Policy);
    tx.put("snsTopic", {
      id: arn,
      accountId: ctx.accountId,
      region: ctx.region,
      tags: tagsOf(input.Tags),
      name,
      attributes: { Policy: defaultTopicPolicy(arn, ctx.accountId), DisplayName: "", ...attributes },
      createdAt: ctx.rt.now().toISOString(),
    });
    return { TopicArn: arn };
  };

  const deleteTopic = (call: Call) => {
    const topic = topicFor(call);
    for (const s of subscriptionsOf(call.tx, topic.id)) call.tx.delete("snsSubscription", s.id);
    call.tx.delete("snsTopic", topic.id);
    return {};
  };

  const listTopics = ({ tx, ctx, input }: Call) => {
    authorizeSns(
      ctx,
      "ListTopics",
      undefined,
      `arn:aws:sns:${ctx.region}:${ctx.accountId}:*`,
      () => ctx.accountId,
    );
    const topics = [...tx.all("snsTopic")]
      .filter((t) => t.accountId === ctx.accountId && t.region === ctx.region)
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    const { items, NextToken } = pageOf(topics, input.NextToken);
    return { Topics: items.map((t) => ({ TopicArn: t.id })), NextToken };
  };

  const getTopicAttributes = (call: Call) => {
    const topic = topicFor(call);
    const subs = subscriptionsOf(call.tx, topic.id);
    return {
      Attributes: {
        ...topic.attributes,
        TopicArn: topic.id,
        Owner: topic.accountId,
        SubscriptionsConfirmed: String(subs.filter((s) => s.confirmed).length),
        SubscriptionsPending: String(subs.filter((s) => !s.confirmed).length),
        SubscriptionsDeleted: "0",
        EffectiveDeliveryPolicy: JSON.stringify({
          http: { defaultHealthyRetryPolicy: { minDelayTarget: 1, maxDelayTarget: 2, numRetries: 3 } },
        }),
      },
    };
  };

  const setTopicAttributes = (call: Call) => {
    const topic = topicFor(call);
    const name = String(call.input.AttributeName ?? "");
    if (!SETTABLE_TOPIC.includes(name)) throw invalidParameter("Invalid parameter: AttributeName");
    const value = String(call.input.AttributeValue ?? "");
    if (name === "Policy") checkPolicy(value);
    call.tx.put("snsTopic", { ...topic, attributes: { ...topic.attributes, [name]: value } });
    return {};
  };

  const subscribe = (call: Call) => {
    const { tx, ctx, input } = call;
    const topic = topicFor(call);
    const protocol = String(input.Protocol ?? "").toLowerCase();
    const endpoint = checkEndpoint(protocol, input.Endpoint);
    const existing = subscriptionsOf(tx, topic.id).find(
      (s) => s.protocol === protocol && s.endpoint === endpoint,
    );
    if (existing)
      return {
        SubscriptionArn:
          existing.confirmed || input.ReturnSubscriptionArn === true ? existing.id : "pending confirmation",
      };
    const immediate = protocol === "privlink-events";
    const sub: SnsSubscription = {
      id: `${topic.id}:${uuid(ctx)}`,
      accountId: topic.accountId,
      region: topic.region,
      tags: {},
      topicArn: topic.id,
      protocol,
      endpoint,
      owner: ctx.accountId,
      confirmed: immediate,
      token: ctx.rt.hex(64) + ctx.rt.hex(64),
      attributes: { ...(input.Attributes ?? {}) },
      createdAt: ctx.rt.now().toISOString(),
    };
    tx.put("snsSubscription", sub);
    if (!immediate) outbox.push({ kind: "confirm", subscription: sub });
    return {
      SubscriptionArn: immediate || input.ReturnSubscriptionArn === true ? sub.id : "pending confirmation",
    };
  };

  const confirmSubscription = (call: Call) => {
    const topic = topicFor(call);
    return { SubscriptionArn: confirm(call.tx, topic.id, String(call.input.Token ?? "")).id };
  };

  const unsubscribe = (call: Call) => {
    const sub = subscriptionFor(call);
    call.tx.delete("snsSubscription", sub.id);
    return {};
  };

  const listSubscriptions = ({ tx, ctx, input }: Call) => {
    authorizeSns(
      ctx,
      "ListSubscriptions",
      undefined,
      `arn:aws:sns:${ctx.region}:${ctx.accountId}:*`,
      () => ctx.accountId,
    );
    const subs = [...tx.all("snsSubscription")]
      .filter((s) => s.owner === ctx.accountId && s.region === ctx.region)
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    const { items, NextToken } = pageOf(subs, input.NextToken);
    return { Subscriptions: items.map(listShape), NextToken };
  };

  const listSubscriptionsByTopic = (call: Call) => {
    const topic = topicFor(call);
    const subs = subscriptionsOf(call.tx, topic.id).sort((a, b) => (a.id < b.id ? -1 : 1));
    const { items, NextToken } = pageOf(subs, call.input.NextToken);
    return { Subscriptions: items.map(listShape), NextToken };
  };

  const getSubscriptionAttributes = (call: Call) => {
    const s = subscriptionFor(call);
    return {
      Attributes: {
        RawMessageDelivery: "false",
        ...s.attributes,
        SubscriptionArn: s.id,
        TopicArn: s.topicArn,
        Owner: s.owner,
        Protocol: s.protocol,
        Endpoint: s.endpoint,
        ConfirmationWasAuthenticated: String(s.confirmed),
        PendingConfirmation: String(!s.confirmed),
      },
    };
  };

  const setSubscriptionAttributes = (call: Call) => {
    const s = subscriptionFor(call);
    const name = String(call.input.AttributeName ?? "");
    if (!SETTABLE_SUBSCRIPTION.includes(name)) throw invalidParameter("Invalid parameter: AttributeName");
    call.tx.put("snsSubscription", {
      ...s,
      attributes: { ...s.attributes, [name]: String(call.input.AttributeValue ?? "") },
    });
    return {};
  };

  const publish = (call: Call) => {
    const { tx, ctx, input } = call;
    if (input.PhoneNumber !== undefined)
      throw invalidParameter("Invalid parameter: PhoneNumber Reason: privlink does not send SMS");
    const arnMember = input.TopicArn !== undefined ? "TopicArn" : "TargetArn";
    if (input[arnMember] === undefined)
      throw invalidParameter(
        "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter",
      );
    const topic = topicFor(call, arnMember);
    const { message, subject } = checkMessage(input.Message, input.Subject);
    let structured: Record<string, string> | undefined;
    if (input.MessageStructure !== undefined) {
      if (input.MessageStructure !== "json") throw invalidParameter("Invalid parameter: MessageStructure");
      try {
        structured = JSON.parse(message);
      } catch {
        throw invalidParameter("Invalid parameter: Message Structure - JSON message body failed to parse");
      }
      if (typeof structured?.default !== "string")
        throw invalidParameter(
          "Invalid parameter: Message Structure - No default entry in JSON message body",
        );
    }
    const messageId = uuid(ctx);
    for (const s of subscriptionsOf(tx, topic.id))
      if (s.confirmed)
        outbox.push({
          kind: "notify",
          subscription: s,
          messageId,
          subject,
          message: messageFor(s.protocol, message, structured),
        });
    return { MessageId: messageId };
  };

  const tagResource = (call: Call) => {
    const topic = topicFor(call, "ResourceArn");
    call.tx.put("snsTopic", { ...topic, tags: { ...topic.tags, ...tagsOf(call.input.Tags) } });
    return {};
  };

  const untagResource = (call: Call) => {
    const topic = topicFor(call, "ResourceArn");
    const drop = new Set<string>(call.input.TagKeys ?? []);
    call.tx.put("snsTopic", {
      ...topic,
      tags: Object.fromEntries(Object.entries(topic.tags).filter(([k]) => !drop.has(k))),
    });
    return {};
  };

  const listTagsForResource = (call: Call) => ({
    Tags: Object.entries(topicFor(call, "ResourceArn").tags).map(([Key, Value]) => ({ Key, Value })),
  });

  return {
    CreateTopic: createTopic,
    DeleteTopic: deleteTopic,
    ListTopics: listTopics,
    GetTopicAttributes: getTopicAttributes,
    SetTopicAttributes: setTopicAttributes,
    Subscribe: subscribe,
    ConfirmSubscription: confirmSubscription,
    Unsubscribe: unsubscribe,
    ListSubscriptions: listSubscriptions,
    ListSubscriptionsByTopic: listSubscriptionsByTopic,
    GetSubscriptionAttributes: getSubscriptionAttributes,
    SetSubscriptionAttributes: setSubscriptionAttributes,
    Publish: publish,
    TagResource: tagResource,
    UntagResource: untagResource,
    ListTagsForResource: listTagsForResource,
  };
}

/** Confirms the pending subscription of `topicArn` that `token` names. */
export function confirm(tx: Tx, topicArn: string, token: string): SnsSubscription {
  const sub = subscriptionsOf(tx, topicArn).find((s) => s.token === token);
  if (!sub) throw invalidParameter("Invalid token");
  if (!sub.confirmed) tx.put("snsSubscription", { ...sub, confirmed: true });
  return sub;
}

function uuid(ctx: Ctx): string {
  const h = ctx.rt.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
