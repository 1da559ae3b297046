import type { IncomingHttpHeaders } from "node:http";
import { awsServices } from "../cloud/catalog.js";
import { AwsError } from "../cloud/errors.js";
import { XML_DECLARATION, xmlEscape } from "./protocols/xml.js";

/**
 * The answer for an AWS service privlink has no handlers for, in that service's own protocol,
 * so the CLI and the SDKs print a code and a message instead of failing to parse. One mechanism
 * for every service: the protocol comes from the request itself where it says (X-Amz-Target and
 * the JSON version, a form body), else from the catalog's table of botocore protocols, else from
 * AWS's short list of REST-XML services. A service that gets handlers simply stops landing here.
 */

export type ForeignProtocol = "ec2" | "query" | "json1_0" | "json1_1" | "restXml" | "restJson";

/** Every AWS service whose model says restXml (botocore 1.43); all other REST services are JSON. */
const REST_XML = new Set(["s3", "s3-outposts", "s3control", "cloudfront", "route53"]);

function header(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  return (Array.isArray(v) ? v[0] : v) ?? "";
}

function jsonVersion(headers: IncomingHttpHeaders): "json1_0" | "json1_1" {
  return header(headers, "content-type").toLowerCase().includes("x-amz-json-1.0") ? "json1_0" : "json1_1";
}

/** The catalog's protocol of a SigV4 signing name, if any interface service signs with it. */
function catalogProtocolOf(service: string): string | undefined {
  return awsServices("us-east-1").find((s) => s.signingName === service && s.protocol !== "unknown")
    ?.protocol;
}

/** The wire protocol a request to `service` speaks, as far as privlink can tell. */
export function foreignProtocolOf(
  service: string,
  req: { url: string; headers: IncomingHttpHeaders; body?: Buffer; catalogProtocol?: string },
): ForeignProtocol {
  if (service === "ec2") return "ec2";
  if (header(req.headers, "x-amz-target")) return jsonVersion(req.headers);
  // The query protocols name the action in the form body (or, for a GET, in the query string).
  const body = req.body?.subarray(0, 4096).toString("latin1") ?? "";
  if (/(^|&)Action=/.test(body) || /[?&]Action=/.test(req.url)) return "query";
  const catalog = req.catalogProtocol ?? catalogProtocolOf(service);
  if (catalog === "json") return jsonVersion(req.headers);
  if (catalog === "query" || catalog === "ec2") return catalog;
  if (catalog === "restXml" || REST_XML.has(service) || service.startsWith("s3")) return "restXml";
  return "restJson";
}

const UPSTREAM_EXAMPLE = "<URL> (for example http://127.0.0.1:4566)";

/** The error privlink answers for a service it does not implement (HTTP 501, not retried by SDKs). */
export function notImplemented(service: string, detail = ""): AwsError {
  return new AwsError(
    "NotImplemented",
    `privlink does not implement the AWS service '${service}'${detail}. Forward it to another implementation with: privlink upstream set ${service} ${UPSTREAM_EXAMPLE}`,
    501,
  );
}

/** The same refusal on the API port, which never forwards: upstreams serve interface endpoints. */
export function notImplementedOnEdge(service: string): AwsError {
  return new AwsError(
    "NotImplemented",
    `privlink does not implement the AWS service '${service}'. Calls through an interface endpoint to it are forwarded to another implementation once you run: privlink upstream set ${service} ${UPSTREAM_EXAMPLE}`,
    501,
  );
}

export interface ForeignResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** `err` in the envelope of `protocol`, exactly as each family's clients read it. */
export function renderForeignError(
  err: AwsError,
  protocol: ForeignProtocol,
  requestId: string,
): ForeignResponse {
  const headers: Record<string, string> = { "x-amzn-requestid": requestId };
  const code = xmlEscape(err.code);
  const message = xmlEscape(err.message);
  switch (protocol) {
    case "json1_0":
    case "json1_1":
      return {
        status: err.status,
        headers: {
          ...headers,
          "content-type": `application/x-amz-json-${protocol === "json1_0" ? "1.0" : "1.1"}`,
          "x-amzn-errortype": err.code,
        },
        body: JSON.stringify({ __type: err.code, message: err.message }),
      };
    case "restJson":
      return {
        status: err.status,
        headers: { ...headers, "content-type": "application/json", "x-amzn-errortype": err.code },
        body: JSON.stringify({ message: err.message }),
      };
    case "ec2":
      return {
        status: err.status,
        headers: { ...headers, "content-type": "text/xml;charset=UTF-8" },
        body: `${XML_DECLARATION}<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
      };
    case "restXml":
      // S3's bare <Error> envelope; botocore and the SDKs read it for CloudFront and Route 53 too.
      return {
        status: err.status,
        headers: { ...headers, "content-type": "application/xml", "x-amz-request-id": requestId },
        body: `${XML_DECLARATION}<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId></Error>`,
      };
    case "query":
      return {
        status: err.status,
        headers: { ...headers, "content-type": "text/xml" },
        body: `<ErrorResponse><Error><Type>${err.fault}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
  }
}

/** The whole answer for a request to a service privlink has no handlers for. */
export function unimplementedService(
  service: string,
  req: { url: string; headers: IncomingHttpHeaders; body?: Buffer },
  requestId: string,
): ForeignResponse {
  return renderForeignError(notImplementedOnEdge(service), foreignProtocolOf(service, req), requestId);
}
