import type { AwsError } from "../../cloud/errors.js";
import { cborError } from "./cbor.js";
import { isQueryCompatible, queryCompatibleType } from "./negotiate.js";
import { isWireService, type WireProtocol, xmlNamespaceOf } from "./schema.js";
import { XML_DECLARATION, xmlEscape } from "./xml.js";

/**
 * AwsError → the error body each protocol's clients read. The SDK v3 and botocore both take the
 * code and the message from these envelopes, so `err.name` is the code (or, for an error the
 * service models under another name, that model's name) and `err.message` is the message.
 */

export interface ErrorResponse {
  readonly status: number;
  /** Always carries content-type and x-amzn-requestid. */
  readonly headers: Record<string, string>;
  readonly body: string | Uint8Array;
}

export const CONTENT_TYPES: Readonly<Record<WireProtocol, string>> = {
  ec2: "text/xml;charset=UTF-8",
  awsQuery: "text/xml",
  restXml: "text/xml",
  awsJson1_1: "application/x-amz-json-1.1",
  awsJson1_0: "application/x-amz-json-1.0",
  rpcv2Cbor: "application/cbor",
};

function ec2Body(err: AwsError, requestId: string): string {
  // EC2's own envelope: `RequestID` in capitals here, `requestId` in successes.
  return (
    `${XML_DECLARATION}<Response><Errors><Error><Code>${xmlEscape(err.code)}</Code>` +
    `<Message>${xmlEscape(err.message)}</Message></Error></Errors>` +
    `<RequestID>${xmlEscape(requestId)}</RequestID></Response>`
  );
}

function queryBody(err: AwsError, requestId: string, ns: string): string {
  const xmlns = ns ? ` xmlns="${ns}"` : "";
  return (
    `<ErrorResponse${xmlns}><Error><Type>${err.fault}</Type><Code>${xmlEscape(err.code)}</Code>` +
    `<Message>${xmlEscape(err.message)}</Message></Error>` +
    `<RequestId>${xmlEscape(requestId)}</RequestId></ErrorResponse>`
  );
}

/** The status, headers and body of `err` in `protocol` (service picks the XML namespace). */
export function renderError(
  err: AwsError,
  protocol: WireProtocol,
  requestId: string,
  service: string,
): ErrorResponse {
  const headers: Record<string, string> = {
    "content-type": CONTENT_TYPES[protocol],
    "x-amzn-requestid": requestId,
  };
  const ns = isWireService(service) ? xmlNamespaceOf(service) : "";
  switch (protocol) {
    case "ec2":
      return { status: err.status, headers, body: ec2Body(err, requestId) };
    case "awsQuery":
      return { status: err.status, headers, body: queryBody(err, requestId, ns) };
    case "restXml":
      return { status: err.status, headers, body: XML_DECLARATION + queryBody(err, requestId, ns) };
    case "awsJson1_1":
      headers["x-amzn-errortype"] = err.code;
      return {
        status: err.status,
        headers,
        body: JSON.stringify({ __type: err.code, message: err.message }),
      };
    case "awsJson1_0":
    case "rpcv2Cbor": {
      // awsQueryCompatible services: the modeled type in the body, the query code in a header.
      const type = isQueryCompatible(service) ? queryCompatibleType(service, err.code) : err.code;
      if (isQueryCompatible(service)) headers["x-amzn-query-error"] = `${err.code};${err.fault}`;
      if (protocol === "awsJson1_0")
        return { status: err.status, headers, body: JSON.stringify({ __type: type, message: err.message }) };
      headers["smithy-protocol"] = "rpc-v2-cbor";
      return { status: err.status, headers, body: cborError(type, err.message) };
    }
  }
}
