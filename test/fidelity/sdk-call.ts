import { createRequire } from "node:module";
import { Readable } from "node:stream";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { HttpResponse } from "@smithy/protocol-http";
import { isWireService, sdkPackageOf } from "../../src/api/protocols/index.js";
import { signedFetch } from "../helpers/sign.js";
import { type BotoModel, botocoreModel } from "./botocore.js";

/**
 * Any action of any service privlink speaks, sent by that service's real SDK v3 client over
 * HTTP, with the raw response body kept for checks the decoded output cannot show (timestamp
 * text). The client comes from the package the wire itself uses, so a service registered later
 * needs nothing here.
 */

const requireCjs = createRequire(import.meta.url);

/**
 * Streaming services (served outside the handler tables): their SDK package and client config.
 * S3 path-style, as a bucket name would not resolve to 127.0.0.1 as a virtual host.
 */
const STREAMING_SDKS: Record<string, { pkg: string; config: object }> = {
  s3: { pkg: "@aws-sdk/client-s3", config: { forcePathStyle: true } },
};

const speaksSdk = (service: string) => isWireService(service) || STREAMING_SDKS[service] !== undefined;

export interface SdkResult {
  output: Record<string, any>;
  raw: string;
  status: number;
}

export interface SdkCaller {
  send(service: string, action: string, input: Record<string, unknown>): Promise<SdkResult>;
}

function clientClass(mod: Record<string, any>): new (config: object) => any {
  const name = Object.keys(mod).find(
    (k) => /^[A-Z][A-Za-z0-9]*Client$/.test(k) && typeof mod[k] === "function",
  );
  if (!name) throw new Error("no *Client class in the SDK package");
  return mod[name];
}

/** A handler that buffers every response body so the test can read it as well as the SDK. */
class RecordingHandler {
  private inner = new NodeHttpHandler();
  last = { raw: "", status: 0 };
  async handle(request: any, options?: any) {
    const { response } = await this.inner.handle(request, options);
    const chunks: Buffer[] = [];
    for await (const c of response.body as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
    const body = Buffer.concat(chunks);
    this.last = { raw: body.toString("utf8"), status: response.statusCode };
    return {
      // A stream, as the SDK expects for streaming outputs (S3 GetObject's Body).
      response: new HttpResponse({
        statusCode: response.statusCode,
        headers: response.headers,
        body: Readable.from([body]),
      }),
    };
  }
  updateHttpClientConfig() {}
  httpHandlerConfigs() {
    return {};
  }
  destroy() {
    this.inner.destroy();
  }
}

export function sdkCaller(
  url: string,
  credentials = { accessKeyId: "test", secretAccessKey: "test" },
  region = "us-east-1",
): SdkCaller & { destroy(): void } {
  const clients = new Map<string, { mod: Record<string, any>; client: any; handler: RecordingHandler }>();
  const get = (service: string) => {
    let c = clients.get(service);
    if (!c) {
      const streaming = STREAMING_SDKS[service];
      const pkg = isWireService(service) ? sdkPackageOf(service) : streaming?.pkg;
      if (!pkg) throw new Error(`privlink's wire does not know the service ${service}`);
      const mod = requireCjs(pkg) as Record<string, any>;
      const handler = new RecordingHandler();
      const Client = clientClass(mod);
      const client = new Client({
        endpoint: url,
        region,
        credentials,
        maxAttempts: 1,
        requestHandler: handler,
        ...streaming?.config,
      });
      c = { mod, client, handler };
      clients.set(service, c);
    }
    return c;
  };
  return {
    async send(service, action, input) {
      if (!speaksSdk(service)) return sendJson(url, credentials, region, service, action, input);
      const { mod, client, handler } = get(service);
      const Command = mod[`${action}Command`];
      if (!Command) throw new Error(`the ${service} SDK has no ${action}Command`);
      handler.last = { raw: "", status: 0 };
      try {
        const output = await client.send(new Command(input));
        return { output, raw: handler.last.raw, status: handler.last.status };
      } catch (err) {
        Object.assign(err as object, { raw: handler.last.raw, httpStatus: handler.last.status });
        throw err;
      }
    },
    destroy() {
      for (const c of clients.values()) c.client.destroy();
    },
  };
}

/**
 * Services no pinned SDK v3 package serves (Route 53 Resolver, Direct Connect): botocore's
 * model drives the call as a JSON 1.1 client would (X-Amz-Target from its targetPrefix), and
 * the answer is decoded as the SDK decodes JSON (epoch seconds to Date) and refused as the SDK
 * refuses (name from __type, message, $metadata.httpStatusCode, $fault).
 */
async function sendJson(
  url: string,
  creds: { accessKeyId: string; secretAccessKey: string },
  region: string,
  service: string,
  action: string,
  input: Record<string, unknown>,
): Promise<SdkResult> {
  const model = botocoreModel(service);
  if (!model.operations[action]) throw new Error(`botocore's ${service} model has no ${action}`);
  const r = await signedFetch(url, {
    service,
    region,
    creds,
    body: JSON.stringify(input),
    headers: {
      "content-type": `application/x-amz-json-${model.metadata.jsonVersion ?? "1.1"}`,
      "x-amz-target": `${model.metadata.targetPrefix}.${action}`,
    },
  });
  const body = r.body ? JSON.parse(r.body) : {};
  const $metadata = { httpStatusCode: r.status, requestId: r.headers.get("x-amzn-requestid") ?? undefined };
  if (r.status >= 300) {
    const type = String(r.headers.get("x-amzn-errortype") ?? body.__type ?? "UnknownError");
    const err = new Error(body.message ?? body.Message ?? "") as Error & Record<string, unknown>;
    err.name = type.split(":")[0]!.split("#").at(-1)!;
    Object.assign(err, {
      $metadata,
      $fault: r.status >= 500 ? "server" : "client",
      raw: r.body,
      httpStatus: r.status,
    });
    throw err;
  }
  const shape = model.operations[action]!.output?.shape;
  const output = shape ? (decodeDates(model, shape, body) as Record<string, any>) : {};
  return { output: { ...output, $metadata }, raw: r.body, status: r.status };
}

function decodeDates(model: BotoModel, shapeName: string, value: unknown, depth = 0): unknown {
  const shape = model.shapes[shapeName];
  if (!shape || value === null || value === undefined || depth > 20) return value;
  if (shape.type === "timestamp") return typeof value === "number" ? new Date(value * 1000) : value; // a string is not AWS's JSON date
  if (shape.type === "list" && Array.isArray(value))
    return value.map((v) => decodeDates(model, shape.member!.shape, v, depth + 1));
  if (shape.type === "map" && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, decodeDates(model, shape.value!.shape, v, depth + 1)]),
    );
  if (shape.type === "structure" && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => {
        const ref = shape.members?.[k];
        return [k, ref ? decodeDates(model, ref.shape, v, depth + 1) : v];
      }),
    );
  return value;
}
