import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  decodeJson,
  decodeQuery,
  decodeRestXml,
  encodeJson,
  encodeQuery,
  encodeRestXml,
  findOperation,
  isWireService,
  jsonActionOf,
  matchRestXmlOperation,
  type OperationSchema,
  protocolOf,
  renderError,
  type WireService,
} from "../../src/api/protocols/index.js";
import { AwsError } from "../../src/cloud/errors.js";

/**
 * A tiny AWS front on 127.0.0.1 for driving real clients (the AWS CLI) against the codecs:
 * SigV4 scope → service, codec → action and input, `answer` → output or AwsError, codec → bytes.
 * No signature check: that is not the wire's job.
 */

export interface WireCall {
  readonly service: WireService;
  readonly action: string;
  readonly input: Record<string, unknown>;
}

export type Answer = (call: WireCall) => unknown;

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

function serviceOf(headers: IncomingHttpHeaders): WireService {
  const m = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(String(headers.authorization ?? ""));
  const service = m?.[1] ?? "";
  if (!isWireService(service)) throw new AwsError("UnknownService", `no such service '${service}'`);
  return service;
}

function decode(
  service: WireService,
  method: string,
  url: URL,
  headers: IncomingHttpHeaders,
  body: Buffer,
): [OperationSchema, Record<string, unknown>] {
  const protocol = protocolOf(service);
  if (protocol === "ec2" || protocol === "awsQuery") {
    const params = new URLSearchParams(url.search);
    for (const [k, v] of new URLSearchParams(body.toString("utf8"))) params.append(k, v);
    const op = findOperation(service, params.get("Action") ?? "");
    if (!op)
      throw new AwsError(
        "InvalidAction",
        `The action ${params.get("Action")} is not valid for this web service.`,
      );
    return [op, decodeQuery(op, params, protocol)];
  }
  if (protocol === "awsJson1_1" || protocol === "awsJson1_0") {
    const action = jsonActionOf(service, String(headers["x-amz-target"] ?? ""));
    const op = action ? findOperation(service, action) : undefined;
    if (!op) throw new AwsError("UnknownOperationException", "unknown operation");
    return [op, decodeJson(op, body)];
  }
  const match = matchRestXmlOperation(service, method, url.pathname, url.searchParams);
  if (!match) throw new AwsError("InvalidAction", `no operation for ${method} ${url.pathname}`, 404);
  return [
    match.op,
    decodeRestXml(match.op, { labels: match.labels, query: url.searchParams, headers, body }),
  ];
}

function encode(op: OperationSchema, output: unknown, requestId: string): Reply {
  const protocol = protocolOf(op.service);
  if (protocol === "ec2" || protocol === "awsQuery")
    return {
      status: 200,
      headers: { "content-type": "text/xml" },
      body: encodeQuery(op, output, protocol, requestId),
    };
  if (protocol === "awsJson1_1" || protocol === "awsJson1_0")
    return {
      status: 200,
      headers: { "content-type": "application/x-amz-json-1.1" },
      body: encodeJson(op, output),
    };
  return encodeRestXml(op, output, requestId);
}

function reply(
  method: string,
  url: URL,
  headers: IncomingHttpHeaders,
  body: Buffer,
  answer: Answer,
  calls: WireCall[],
): Reply {
  const requestId = `req-${calls.length + 1}`;
  let service: WireService = "ec2";
  try {
    service = serviceOf(headers);
    const [op, input] = decode(service, method, url, headers, body);
    calls.push({ service, action: op.name, input });
    return encode(op, answer({ service, action: op.name, input }), requestId);
  } catch (e) {
    const err = e instanceof AwsError ? e : new AwsError("InternalError", String(e), 500);
    return renderError(err, protocolOf(service), requestId, service);
  }
}

export interface WireServer {
  readonly endpoint: string;
  readonly calls: WireCall[];
  close(): Promise<void>;
}

export async function startWireServer(answer: Answer): Promise<WireServer> {
  const calls: WireCall[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const r = reply(req.method ?? "GET", url, req.headers, Buffer.concat(chunks), answer, calls);
      res.writeHead(r.status, { ...r.headers, "content-length": Buffer.byteLength(r.body) });
      res.end(r.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
