/**
 * The built-in SNS: the wire handlers, delivery to HTTP(S) subscribers (signed envelopes, the
 * confirmation handshake, retries) and to `privlink-events` subscriptions (privlink's SNS event
 * log), the unsigned confirm/unsubscribe links AWS puts in its messages, and the bridge that
 * publishes endpoint connection notifications (Connect/Accept/Reject/Delete) to their topic.
 */
import { randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { HandlerTable } from "../../api/handler.js";
import type { AdminRoute } from "../../api/server.js";
import { AwsError } from "../../cloud/errors.js";
import type { Runtime } from "../../cloud/runtime.js";
import type { State } from "../../cloud/state.js";
import type { ConnectionEvent, SnsLogEntry, SnsSubscription } from "../../cloud/types.js";
import { evaluate, parsePolicy, requestContext } from "../../iam/index.js";
import { confirm, type Delivery, snsHandlers } from "./handlers.js";
import { confirmationEnvelope, notificationEnvelope } from "./rules.js";
import { SnsSigner, stringToSign } from "./signing.js";

const ATTEMPTS = 3;
const RETRY_DELAY_MS = 1000;
const POST_TIMEOUT_MS = 15_000;
const CERT_PATH = "/_privlink/sns/SimpleNotificationService.pem";
/**
 * The shared store's meta row naming the edge of the API node started last: an agent has no edge
 * of its own, so the links in the messages it delivers (certificate, confirm, unsubscribe) name it.
 */
export const SNS_EDGE_KEY = "snsEdge";
const CONFIRM_PATH = "/_privlink/sns/confirm";
const UNSUBSCRIBE_PATH = "/_privlink/sns/unsubscribe";

export class SnsService {
  readonly handlers: HandlerTable;
  /**
   * The links AWS puts in its messages, reached by subscribers that hold no admin token: as on
   * AWS, the confirm link is authorized by the subscription's token, the unsubscribe link by the
   * subscription ARN it names, and the certificate is public.
   */
  readonly openRoutes: ReadonlySet<string> = new Set([
    `GET ${CERT_PATH}`,
    `GET ${CONFIRM_PATH}`,
    `GET ${UNSUBSCRIBE_PATH}`,
  ]);
  private edgeUrl = "http://127.0.0.1:4599";
  private pending: Delivery[] = [];
  private flushing = false;
  private signing?: Promise<SnsSigner>;
  private closed = false;
  private seq: number;
  /**
   * On a shared store, what makes this node's log ids its own: two nodes publishing at once
   * would otherwise both take the next number and one entry would replace the other.
   */
  private readonly idSuffix: string;
  private readonly inflight = new Set<Promise<void>>();
  private readonly unsubscribe: () => void;

  private constructor(
    private readonly state: State,
    private readonly rt: Runtime,
    private readonly home: string | undefined,
    private readonly store: string | undefined,
  ) {
    this.handlers = snsHandlers({ push: (d) => this.enqueue(d) });
    this.seq = Math.max(0, ...[...state.all("snsLogEntry")].map((e) => logSeq(e.id)));
    this.idSuffix = store === undefined ? "" : `-${rt.alnum(8).toLowerCase()}`;
    // On a shared store every node sees every commit: the node that committed an endpoint
    // connection event publishes it, so each subscriber gets it once.
    this.unsubscribe = state.onCommit((changes, _version, local) => {
      for (const c of changes) {
        if (local && c.kind === "connectionEvent" && c.value !== undefined)
          setImmediate(() => this.publishConnectionEvent(c.value as ConnectionEvent));
        // Other nodes' entries too (the change feed): the next id here sorts after them.
        if (c.kind === "snsLogEntry") this.seq = Math.max(this.seq, logSeq(c.id));
      }
    });
  }

  /**
   * SNS on `home`; with `store` (a shared PostgreSQL store's URL) its signing key is the store's,
   * so every node signs alike and serves the same certificate (an agent has no home).
   */
  static async start(
    state: State,
    rt: Runtime,
    home: string | undefined,
    store?: string,
  ): Promise<SnsService> {
    if (home === undefined && store === undefined) throw new Error("SNS needs a home or the shared store");
    return new SnsService(state, rt, home, store);
  }

  /** The signing key, created on first use: an RSA key costs a server start that sends no message. */
  private signer(): Promise<SnsSigner> {
    if (this.signing) return this.signing;
    const signing =
      this.store === undefined
        ? SnsSigner.loadOrCreate(this.home!, this.rt.now())
        : SnsSigner.shared(this.store, this.home, this.rt.now());
    this.signing = signing;
    // A store out of reach now may be back for the next message.
    signing.catch(() => {
      if (this.signing === signing) this.signing = undefined;
    });
    return signing;
  }

  /** The edge's URL, for the links in messages (SubscribeURL, UnsubscribeURL, SigningCertURL). */
  setEdgeUrl(url: string): void {
    this.edgeUrl = url;
  }

  adminRoutes(): Record<string, AdminRoute> {
    return {
      [`GET ${CERT_PATH}`]: async () => ({
        status: 200,
        body: (await this.signer()).certPem,
        contentType: "application/x-pem-file",
      }),
      [`GET ${CONFIRM_PATH}`]: ({ url }) => {
        const topicArn = url.searchParams.get("TopicArn") ?? "";
        const token = url.searchParams.get("Token") ?? "";
        const sub = this.state.transact((tx) => confirm(tx, topicArn, token));
        return xml("ConfirmSubscription", `<SubscriptionArn>${xmlText(sub.id)}</SubscriptionArn>`);
      },
      [`GET ${UNSUBSCRIBE_PATH}`]: ({ url }) => {
        const arn = url.searchParams.get("SubscriptionArn") ?? "";
        this.state.transact((tx) => {
          if (!tx.get("snsSubscription", arn))
            throw new AwsError("NotFound", "Subscription does not exist", 404);
          tx.delete("snsSubscription", arn);
        });
        return xml("Unsubscribe", "");
      },
      "GET /_privlink/sns/messages": ({ url }) => {
        const since = url.searchParams.get("since") ?? "";
        const entries = [...this.state.all("snsLogEntry")]
          .filter((e) => e.id > since)
          .sort((a, b) => (a.id < b.id ? -1 : 1));
        return { status: 200, body: { messages: entries } };
      },
    };
  }

  /** Waits for deliveries under way (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0 || this.pending.length > 0) {
      await Promise.allSettled([...this.inflight]);
      await new Promise((r) => setImmediate(r));
    }
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
  }

  private enqueue(d: Delivery): void {
    this.pending.push(d);
    if (this.flushing) return;
    this.flushing = true;
    // After the handler's transaction committed: dispatch commits synchronously after the handler.
    setImmediate(() => {
      this.flushing = false;
      const batch = this.pending;
      this.pending = [];
      for (const delivery of batch) this.track(this.deliver(delivery));
    });
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    p.finally(() => this.inflight.delete(p)).catch(() => {});
  }

  private async deliver(d: Delivery): Promise<void> {
    const sub = d.subscription;
    if (d.kind === "notify" && sub.protocol === "privlink-events") return this.log(d);
    if (sub.protocol === "privlink-events") return;
    const signer = await this.signer();
    const envelope = d.kind === "confirm" ? this.confirmation(signer, sub) : this.notification(signer, d);
    const raw = d.kind === "notify" && sub.attributes.RawMessageDelivery === "true";
    const body = raw ? d.message : JSON.stringify(envelope);
    const headers: Record<string, string> = {
      "content-type": "text/plain; charset=UTF-8",
      "user-agent": "Amazon Simple Notification Service Agent",
      "x-amz-sns-message-type": envelope.Type!,
      "x-amz-sns-message-id": envelope.MessageId!,
      "x-amz-sns-topic-arn": sub.topicArn,
      ...(d.kind === "notify" ? { "x-amz-sns-subscription-arn": sub.id } : {}),
      ...(raw ? { "x-amz-sns-rawdelivery": "true" } : {}),
    };
    for (let attempt = 1; attempt <= ATTEMPTS && !this.closed; attempt++) {
      const status = await post(sub.endpoint, headers, body).catch(() => 0);
      if (status >= 200 && status < 300) return;
      if (attempt < ATTEMPTS) await new Promise((r) => setTimeout(r, RETRY_DELAY_MS * attempt).unref());
    }
  }

  private signed(signer: SnsSigner, fields: Record<string, string>): Record<string, string> {
    return {
      ...fields,
      SignatureVersion: "2",
      Signature: signer.sign(stringToSign(fields)),
      SigningCertURL: `${this.edgeUrl}${CERT_PATH}`,
    };
  }

  private confirmation(signer: SnsSigner, sub: SnsSubscription): Record<string, string> {
    const q = new URLSearchParams({
      Action: "ConfirmSubscription",
      TopicArn: sub.topicArn,
      Token: sub.token,
    });
    return this.signed(
      signer,
      confirmationEnvelope({
        messageId: randomUUID(),
        token: sub.token,
        topicArn: sub.topicArn,
        subscribeUrl: `${this.edgeUrl}${CONFIRM_PATH}?${q}`,
        timestamp: this.rt.now().toISOString(),
      }),
    );
  }

  private notification(signer: SnsSigner, d: Extract<Delivery, { kind: "notify" }>): Record<string, string> {
    const q = new URLSearchParams({ Action: "Unsubscribe", SubscriptionArn: d.subscription.id });
    return {
      ...this.signed(
        signer,
        notificationEnvelope({
          messageId: d.messageId,
          topicArn: d.subscription.topicArn,
          subject: d.subject,
          message: d.message,
          timestamp: this.rt.now().toISOString(),
        }),
      ),
      UnsubscribeURL: `${this.edgeUrl}${UNSUBSCRIBE_PATH}?${q}`,
    };
  }

  private async log(d: Extract<Delivery, { kind: "notify" }>): Promise<void> {
    if (this.closed) return;
    const entry: SnsLogEntry = {
      id: `${String(++this.seq).padStart(12, "0")}${this.idSuffix}`,
      time: this.rt.now().toISOString(),
      subscriptionArn: d.subscription.id,
      topicArn: d.subscription.topicArn,
      messageId: d.messageId,
      ...(d.subject !== undefined ? { subject: d.subject } : {}),
      message: d.message,
    };
    this.state.transact((tx) => tx.put("snsLogEntry", entry));
  }

  /**
   * An endpoint connection event, published to its notification's topic when the topic exists
   * here and its policy lets `vpce.amazonaws.com` publish (as AWS requires). The message body is
   * privlink-defined (AWS does not document it); see docs/sns.md.
   */
  private publishConnectionEvent(e: ConnectionEvent): void {
    if (this.closed) return;
    const topic = this.state.get("snsTopic", e.topicArn);
    if (!topic || !vpceMayPublish(topic.attributes.Policy, topic.id, topic.region, this.rt.now())) return;
    const message = JSON.stringify({
      ConnectionNotificationId: e.notificationId,
      ConnectionEvent: e.event,
      ServiceId: e.serviceId,
      VpcEndpointId: e.vpcEndpointId,
      VpcEndpointOwner: e.vpcEndpointOwner,
      VpcEndpointState: e.vpcEndpointState,
      EventTime: e.time,
    });
    const messageId = randomUUID();
    for (const s of this.state.all("snsSubscription"))
      if (s.topicArn === topic.id && s.confirmed)
        this.enqueue({
          kind: "notify",
          subscription: s,
          messageId,
          subject: "VPC Endpoint Connection Notification",
          message,
        });
  }
}

/** The number a log entry id starts with (`000000000042`, or `000000000042-<node>` on a shared store). */
function logSeq(id: string): number {
  return Number.parseInt(id, 10) || 0;
}

function vpceMayPublish(policy: string | undefined, arn: string, region: string, now: Date): boolean {
  if (policy === undefined) return false;
  try {
    const principal = { type: "Service" as const, arn: "vpce.amazonaws.com" };
    const result = evaluate(parsePolicy(policy, { kind: "resource" }), {
      principal,
      action: "sns:Publish",
      resource: arn,
      context: requestContext({ principal, secureTransport: true, region, now }),
    });
    return result.decision === "Allow";
  } catch {
    return false;
  }
}

function post(url: string, headers: Record<string, string>, body: string): Promise<number> {
  const target = new URL(url);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: "POST",
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        timeout: POST_TIMEOUT_MS,
        // Loopback only (checked at Subscribe); a local HTTPS handler rarely has a trusted certificate.
        ...(target.protocol === "https:" ? { rejectUnauthorized: false } : {}),
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(body);
  });
}

function xmlText(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function xml(action: string, result: string) {
  return {
    status: 200,
    contentType: "text/xml",
    body: `<${action}Response xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`,
  };
}
