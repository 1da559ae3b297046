import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "../api/sigv4.js";

/**
 * A scenario's `call: SERVICE:Action` goes to privlink's public edge exactly as a user's tools
 * would: through the AWS SDK v3 client of that service (the same packages privlink pins), or,
 * for the JSON services no pinned client carries (Route 53 Resolver, Direct Connect), a SigV4
 * signed JSON 1.1 request with the service's X-Amz-Target.
 */

const SDK: Readonly<Record<string, { pkg: string; client: string }>> = {
  ec2: { pkg: "@aws-sdk/client-ec2", client: "EC2Client" },
  elbv2: { pkg: "@aws-sdk/client-elastic-load-balancing-v2", client: "ElasticLoadBalancingV2Client" },
  route53: { pkg: "@aws-sdk/client-route-53", client: "Route53Client" },
  s3: { pkg: "@aws-sdk/client-s3", client: "S3Client" },
  secretsmanager: { pkg: "@aws-sdk/client-secrets-manager", client: "SecretsManagerClient" },
  sns: { pkg: "@aws-sdk/client-sns", client: "SNSClient" },
  ssm: { pkg: "@aws-sdk/client-ssm", client: "SSMClient" },
  sts: { pkg: "@aws-sdk/client-sts", client: "STSClient" },
  logs: { pkg: "@aws-sdk/client-cloudwatch-logs", client: "CloudWatchLogsClient" },
  cloudwatch: { pkg: "@aws-sdk/client-cloudwatch", client: "CloudWatchClient" },
};

/** JSON services without a pinned client: SigV4 scope name and X-Amz-Target prefix. */
const PLAIN_JSON: Readonly<Record<string, string>> = {
  route53resolver: "Route53Resolver",
  directconnect: "OvertureService",
};

export function isKnownService(name: string): boolean {
  return name in SDK || name in PLAIN_JSON;
}

export const SERVICE_NAMES = [...Object.keys(SDK), ...Object.keys(PLAIN_JSON)];

export interface Creds {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** An AWS error as the SDK reports it: AWS's code and message. */
export class CallError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = code;
  }
}

type Client = { send(cmd: unknown): Promise<Record<string, unknown>>; destroy(): void };
const modules = new Map<string, Promise<Record<string, any>>>();

function sdkModule(service: string): Promise<Record<string, any>> {
  const pkg = SDK[service]!.pkg;
  if (!modules.has(pkg)) modules.set(pkg, import(pkg));
  return modules.get(pkg)!;
}

/** Whether the service has this action (false for unknown SDK actions). */
export async function hasAction(service: string, action: string): Promise<boolean> {
  if (service in PLAIN_JSON) return true;
  if (!(service in SDK)) return false;
  return typeof (await sdkModule(service))[`${action}Command`] === "function";
}

/** Timestamps are Dates to the SDK: ISO strings in fields named …Time become Dates. */
function withDates(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input))
    out[k] = /Time$/.test(k) && typeof v === "string" && !Number.isNaN(Date.parse(v)) ? new Date(v) : v;
  return out;
}

/** JSON-safe: Dates as ISO text, bytes as text, no $metadata. */
function plain(output: Record<string, unknown>): Record<string, unknown> {
  const { $metadata: _m, ...rest } = output;
  return JSON.parse(
    JSON.stringify(rest, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("utf8") : v)),
  );
}

export class AwsCaller {
  private readonly clients = new Map<string, Client>();

  constructor(
    private readonly url: string,
    private readonly region: string,
  ) {}

  async call(service: string, action: string, input: Record<string, unknown>, creds: Creds) {
    if (service in PLAIN_JSON) return this.plainJson(service, action, input, creds);
    const mod = await sdkModule(service);
    const Command = mod[`${action}Command`];
    if (typeof Command !== "function")
      throw new CallError("InvalidAction", `${service} has no action ${action}`);
    const key = `${service}/${creds.accessKeyId}`;
    let client = this.clients.get(key);
    if (!client) {
      const Ctor = mod[SDK[service]!.client];
      client = new Ctor({
        endpoint: this.url,
        region: this.region,
        credentials: creds,
        maxAttempts: 1,
        ...(service === "s3" ? { forcePathStyle: true } : {}),
      }) as Client;
      this.clients.set(key, client);
    }
    try {
      return plain(await client.send(new Command(withDates(input))));
    } catch (err) {
      const e = err as Error & { $metadata?: { httpStatusCode?: number } };
      throw new CallError(e.name, e.message, e.$metadata?.httpStatusCode);
    }
  }

  private async plainJson(service: string, action: string, input: Record<string, unknown>, creds: Creds) {
    const u = new URL(this.url);
    const body = JSON.stringify(input);
    const req = new HttpRequest({
      method: "POST",
      protocol: u.protocol,
      hostname: u.hostname,
      port: Number(u.port),
      path: "/",
      headers: {
        host: u.host,
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": `${PLAIN_JSON[service]}.${action}`,
      },
      body,
    });
    const signer = new SignatureV4({ service, region: this.region, credentials: creds, sha256: Sha256 });
    const signed = await signer.sign(req);
    const res = await fetch(`${u.origin}/`, {
      method: "POST",
      headers: signed.headers as Record<string, string>,
      body,
    });
    const out = JSON.parse((await res.text()) || "{}");
    if (res.ok) return out as Record<string, unknown>;
    const code = String(out.__type ?? "UnknownError")
      .split("#")
      .pop()!;
    throw new CallError(code, out.message ?? out.Message ?? "", res.status);
  }

  close(): void {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
  }
}
