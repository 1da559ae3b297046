import type { IncomingHttpHeaders } from "node:http";
import { AwsError } from "../cloud/errors.js";
import { decodeCbor, encodeCbor } from "./protocols/cbor.js";
import { decodeJson, encodeJson } from "./protocols/json.js";
import { rpcV2Operation } from "./protocols/negotiate.js";
import { decodePlainJson, encodePlainJson, isPlainJsonService } from "./protocols/plain-json.js";
import { decodeQuery, encodeQuerySplit } from "./protocols/query.js";
import { decodeRestXml, encodeRestXml, matchRestXmlOperation } from "./protocols/rest-xml.js";
import { findOperation, jsonActionOf, type WireProtocol, type WireService } from "./protocols/schema.js";
import { xmlEscape } from "./protocols/xml.js";
import { requestUrl } from "./request-url.js";

export { renderError } from "./protocols/errors.js";
export { requestProtocol } from "./protocols/negotiate.js";
export { protocolOf } from "./protocols/schema.js";

/**
 * One request in, one response out, whatever the protocol: the server routes by the SigV4
 * service and this module picks the codec. Handlers see SDK input shapes only.
 */
export type Protocol = WireProtocol;

export interface Encoded {
  status: number;
  contentType: string;
  body: string | Uint8Array;
  headers: Record<string, string>;
  /**
   * The body as the bytes before and after the request ID it holds (the query protocols): the
   * edge writes these pieces around the ID, and `body` joins them only when read.
   */
  split?: { readonly before: readonly Buffer[]; readonly after: readonly Buffer[] };
}

function isForm(headers: IncomingHttpHeaders): boolean {
  return (headers["content-type"] ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded");
}

function operation(service: string, action: string) {
  const op = findOperation(service as WireService, action);
  if (!op) throw new AwsError("InvalidAction", `The action ${action} is not valid for this web service.`);
  return op;
}

export function decodeRequest(
  service: string,
  protocol: Protocol,
  method: string,
  requestTarget: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
): { action: string; input: Record<string, any> } {
  // The target every SDK call but S3's sends, `/`, needs no parse.
  const url = requestTarget === "/" ? undefined : requestUrl(requestTarget);
  switch (protocol) {
    case "ec2":
    case "awsQuery": {
      // The query's parameters, then the form body's (every SDK sends the body alone).
      const form = method === "POST" && isForm(headers);
      const search = url?.search ?? "";
      const params = new URLSearchParams(form && search === "" ? body.toString("utf8") : search);
      if (form && search !== "")
        for (const [k, v] of new URLSearchParams(body.toString("utf8"))) params.append(k, v);
      const action = params.get("Action");
      if (!action) throw new AwsError("MissingAction", "The request must contain the parameter Action");
      return { action, input: decodeQuery(operation(service, action), params, protocol) };
    }
    case "rpcv2Cbor": {
      const pathname = url?.pathname ?? "/";
      const op = rpcV2Operation(pathname);
      if (!op || method !== "POST")
        throw new AwsError("UnknownOperationException", `No operation answers ${method} ${pathname}`, 404);
      return { action: op.operation, input: decodeCbor(operation(service, op.operation), body) };
    }
    case "awsJson1_0":
    case "awsJson1_1": {
      const target = headers["x-amz-target"];
      if (isPlainJsonService(service))
        return decodePlainJson(service, Array.isArray(target) ? target[0] : target, body);
      const action = jsonActionOf(service as WireService, Array.isArray(target) ? target[0] : target);
      if (!action)
        throw new AwsError("UnknownOperationException", `Unknown operation ${target ?? "(no X-Amz-Target)"}`);
      return { action, input: decodeJson(operation(service, action), body) };
    }
    case "restXml":
      return decodeRestXmlRequest(service, method, url ?? requestUrl(requestTarget), headers, body);
  }
}

function decodeRestXmlRequest(
  service: string,
  method: string,
  url: URL,
  headers: IncomingHttpHeaders,
  body: Buffer,
): { action: string; input: Record<string, any> } {
  const match = matchRestXmlOperation(service as WireService, method, url.pathname, url.searchParams);
  if (!match)
    throw new AwsError("InvalidAction", `No ${service} operation answers ${method} ${url.pathname}`, 404);
  return {
    action: match.op.name,
    input: decodeRestXml(match.op, { labels: match.labels, query: url.searchParams, headers, body }),
  };
}

export function encodeResponse(
  service: string,
  protocol: Protocol,
  action: string,
  output: unknown,
  requestId: string,
): Encoded {
  if (isPlainJsonService(service))
    return {
      status: 200,
      contentType: "application/x-amz-json-1.1",
      body: encodePlainJson(output),
      headers: {},
    };
  const op = operation(service, action);
  switch (protocol) {
    case "ec2":
    case "awsQuery": {
      const split = encodeQuerySplit(op, output, protocol);
      return {
        status: 200,
        contentType: "text/xml;charset=UTF-8",
        get body() {
          return Buffer.concat([...split.before, Buffer.from(xmlEscape(requestId), "utf8"), ...split.after]);
        },
        headers: {},
        split,
      };
    }
    case "awsJson1_1":
      return {
        status: 200,
        contentType: "application/x-amz-json-1.1",
        body: encodeJson(op, output),
        headers: {},
      };
    case "awsJson1_0":
      return {
        status: 200,
        contentType: "application/x-amz-json-1.0",
        body: encodeJson(op, output),
        headers: {},
      };
    case "rpcv2Cbor":
      return {
        status: 200,
        contentType: "application/cbor",
        body: encodeCbor(op, output),
        headers: { "smithy-protocol": "rpc-v2-cbor" },
      };
    case "restXml": {
      const r = encodeRestXml(op, output, requestId);
      return { status: r.status, contentType: "text/xml", body: r.body, headers: r.headers };
    }
  }
}
