import * as monitoring from "@aws-sdk/client-cloudwatch";
import * as logs from "@aws-sdk/client-cloudwatch-logs";
import * as ec2 from "@aws-sdk/client-ec2";
import * as elb from "@aws-sdk/client-elastic-load-balancing-v2";
import * as route53 from "@aws-sdk/client-route-53";
import * as sm from "@aws-sdk/client-secrets-manager";
import * as sns from "@aws-sdk/client-sns";
import * as ssm from "@aws-sdk/client-ssm";
import * as sts from "@aws-sdk/client-sts";
import { buildQueryString } from "@smithy/core/protocols";
import { type HttpRequest, HttpResponse } from "@smithy/protocol-http";
import type { WireService } from "../../src/api/protocols/index.js";

/**
 * The real SDK v3 clients with a request handler that never touches the network: it hands the
 * serialised HttpRequest to the test and answers with whatever the test returns. Also captures
 * the input exactly as the SDK serializer received it (after the SDK's own input middleware).
 */

const MODULES: Record<WireService, { mod: Record<string, any>; client: string }> = {
  ec2: { mod: ec2, client: "EC2Client" },
  sts: { mod: sts, client: "STSClient" },
  elasticloadbalancing: { mod: elb, client: "ElasticLoadBalancingV2Client" },
  route53: { mod: route53, client: "Route53Client" },
  secretsmanager: { mod: sm, client: "SecretsManagerClient" },
  logs: { mod: logs, client: "CloudWatchLogsClient" },
  monitoring: { mod: monitoring, client: "CloudWatchClient" },
  ssm: { mod: ssm, client: "SSMClient" },
  sns: { mod: sns, client: "SNSClient" },
};

export interface CannedResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body: string | Uint8Array;
}

export type Responder = (req: HttpRequest) => CannedResponse;

export interface Exchange {
  /** What the SDK serializer was given. */
  serialized?: Record<string, unknown>;
  request?: HttpRequest;
}

export interface SdkHarness {
  send(
    action: string,
    input: Record<string, unknown>,
    respond: Responder,
  ): Promise<{ exchange: Exchange; output: Record<string, unknown> }>;
}

export function sdkHarness(service: WireService): SdkHarness {
  const { mod, client } = MODULES[service];
  let current: { exchange: Exchange; respond: Responder } | undefined;
  const c = new mod[client]({
    region: "us-east-1",
    endpoint: "http://127.0.0.1:9",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
    requestHandler: {
      async handle(request: HttpRequest) {
        const now = current!;
        now.exchange.request = request;
        const r = now.respond(request);
        const body = typeof r.body === "string" ? Buffer.from(r.body, "utf8") : r.body;
        return { response: new HttpResponse({ statusCode: r.status, headers: r.headers ?? {}, body }) };
      },
    },
  });
  c.middlewareStack.add(
    (next: (args: any) => Promise<unknown>) => async (args: any) => {
      current!.exchange.serialized = args.input;
      return next(args);
    },
    { step: "build", name: "privlinkCaptureInput" },
  );
  return {
    async send(action, input, respond) {
      const Command = mod[`${action}Command`];
      if (!Command) throw new Error(`no ${action}Command in the ${service} SDK`);
      const exchange: Exchange = {};
      current = { exchange, respond };
      const output = (await c.send(new Command(input))) as Record<string, unknown>;
      return { exchange, output };
    },
  };
}

/** The request as a server sees it: URL (path still percent-encoded), lower-case headers, body. */
export function asServerRequest(req: HttpRequest): {
  url: URL;
  headers: Record<string, string>;
  body: string;
} {
  const qs = buildQueryString(req.query ?? {});
  const url = new URL(`http://127.0.0.1${req.path}${qs ? `?${qs}` : ""}`);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = String(v);
  const body =
    req.body === undefined || req.body === null
      ? ""
      : typeof req.body === "string"
        ? req.body
        : Buffer.from(req.body).toString("utf8");
  return { url, headers, body };
}
