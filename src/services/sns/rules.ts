/**
 * SNS rules with no I/O: topic names and ARNs, the default topic policy, subscription endpoint
 * checks, and the JSON envelopes AWS POSTs to HTTP(S) subscribers.
 */
import { AwsError } from "../../cloud/errors.js";

export const PROTOCOLS = ["http", "https", "privlink-events"] as const;
export const MAX_MESSAGE_BYTES = 262_144;

export const invalidParameter = (message: string) => new AwsError("InvalidParameter", message);
export const notFound = (message: string) => new AwsError("NotFound", message, 404);

export function checkTopicName(name: unknown, fifo: boolean): string {
  const ok =
    typeof name === "string" && (fifo ? /^[A-Za-z0-9_-]{1,251}\.fifo$/ : /^[A-Za-z0-9_-]{1,256}$/).test(name);
  if (!ok)
    throw invalidParameter(
      "Invalid parameter: Topic Name must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.",
    );
  return name as string;
}

export function topicArn(region: string, accountId: string, name: string): string {
  return `arn:aws:sns:${region}:${accountId}:${name}`;
}

const TOPIC_ARN = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]+)$/;

export function parseTopicArn(
  arn: unknown,
  member = "TopicArn",
): { region: string; accountId: string; name: string } {
  const m = typeof arn === "string" ? TOPIC_ARN.exec(arn) : null;
  if (!m)
    throw invalidParameter(
      `Invalid parameter: ${member} Reason: An ARN must have at least 6 elements, not 1`,
    );
  return { region: m[1]!, accountId: m[2]!, name: m[3]! };
}

/** The policy AWS gives a new topic: the owner account may do the topic's actions. */
export function defaultTopicPolicy(arn: string, accountId: string): string {
  return JSON.stringify({
    Version: "2008-10-17",
    Id: "__default_policy_ID",
    Statement: [
      {
        Sid: "__default_statement_ID",
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: [
          "SNS:GetTopicAttributes",
          "SNS:SetTopicAttributes",
          "SNS:AddPermission",
          "SNS:RemovePermission",
          "SNS:DeleteTopic",
          "SNS:Subscribe",
          "SNS:ListSubscriptionsByTopic",
          "SNS:Publish",
        ],
        Resource: arn,
        Condition: { StringEquals: { "AWS:SourceOwner": accountId } },
      },
    ],
  });
}

/** privlink delivers only to loopback: nothing it sends leaves the machine. */
export function checkEndpoint(protocol: string, endpoint: unknown): string {
  if (!(PROTOCOLS as readonly string[]).includes(protocol))
    throw invalidParameter(
      `Invalid parameter: Amazon SNS does not support this protocol string: ${protocol}`,
    );
  if (protocol === "privlink-events")
    return typeof endpoint === "string" && endpoint !== "" ? endpoint : "privlink";
  let url: URL;
  try {
    url = new URL(String(endpoint ?? ""));
  } catch {
    throw invalidParameter(`Invalid parameter: Endpoint Reason: ${protocol} endpoint must be a valid URL`);
  }
  if (url.protocol !== `${protocol}:`)
    throw invalidParameter(`Invalid parameter: Endpoint must match the specified protocol`);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!(host === "localhost" || /^127\.\d+\.\d+\.\d+$/.test(host) || host === "::1"))
    throw invalidParameter(
      `Invalid parameter: Endpoint Reason: privlink delivers only to loopback addresses (127.0.0.0/8, localhost), not ${url.hostname}`,
    );
  return url.toString();
}

export interface Envelope {
  readonly [key: string]: string | undefined | Record<string, unknown>;
}

export function confirmationEnvelope(f: {
  messageId: string;
  token: string;
  topicArn: string;
  subscribeUrl: string;
  timestamp: string;
}): Record<string, string> {
  return {
    Type: "SubscriptionConfirmation",
    MessageId: f.messageId,
    Token: f.token,
    TopicArn: f.topicArn,
    Message: `You have chosen to subscribe to the topic ${f.topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
    SubscribeURL: f.subscribeUrl,
    Timestamp: f.timestamp,
  };
}

export function notificationEnvelope(f: {
  messageId: string;
  topicArn: string;
  subject?: string;
  message: string;
  timestamp: string;
}): Record<string, string> {
  return {
    Type: "Notification",
    MessageId: f.messageId,
    TopicArn: f.topicArn,
    ...(f.subject !== undefined ? { Subject: f.subject } : {}),
    Message: f.message,
    Timestamp: f.timestamp,
  };
}

/** Publish's checks: a message of 1 byte to 256 KiB, a subject of at most 100 printable ASCII. */
export function checkMessage(message: unknown, subject: unknown): { message: string; subject?: string } {
  if (typeof message !== "string" || message.length === 0)
    throw invalidParameter("Invalid parameter: Empty message");
  if (Buffer.byteLength(message) > MAX_MESSAGE_BYTES)
    throw invalidParameter("Invalid parameter: Message too long");
  if (subject !== undefined) {
    if (
      typeof subject !== "string" ||
      subject.length === 0 ||
      subject.length > 100 ||
      !/^[\x20-\x7e]+$/.test(subject)
    )
      throw invalidParameter("Invalid parameter: Subject");
  }
  return { message, ...(subject !== undefined ? { subject: subject as string } : {}) };
}
