/**
 * AWS errors for any service a front may face, including the ones privlink has no codec for:
 * services it speaks render through api/wire; the others by the wire family the catalog
 * names (awsJson, restJson, awsQuery, EC2, S3's restXml).
 */
import type { AwsResponse } from "../api/dispatch.js";
import { isWireService, protocolOf, renderError } from "../api/protocols/index.js";
import { authFamilyOf } from "../api/sigv4.js";
import type { ServiceProtocol } from "../cloud/catalog.js";
import type { AwsError } from "../cloud/errors.js";

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The wire family of a service: the catalog's protocol when known, else guessed from the name. */
export function familyOf(service: string, catalogProtocol?: ServiceProtocol): ServiceProtocol {
  if (catalogProtocol !== undefined && catalogProtocol !== "unknown") return catalogProtocol;
  const auth = authFamilyOf(service);
  return auth === "s3" ? "restXml" : auth;
}

export function renderServiceError(
  err: AwsError,
  service: string,
  requestId: string,
  catalogProtocol?: ServiceProtocol,
): AwsResponse {
  if (isWireService(service)) return renderError(err, protocolOf(service), requestId, service);
  const headers: Record<string, string> = { "x-amzn-requestid": requestId };
  switch (familyOf(service, catalogProtocol)) {
    case "json":
      return {
        status: err.status,
        headers: { ...headers, "content-type": "application/x-amz-json-1.1", "x-amzn-errortype": err.code },
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
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${xmlEscape(err.code)}</Code><Message>${xmlEscape(err.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
      };
    case "restXml":
      // S3's envelope: a bare <Error>, not the <ErrorResponse> of the query protocols.
      return {
        status: err.status,
        headers: { ...headers, "content-type": "application/xml", "x-amz-request-id": requestId },
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(err.code)}</Code><Message>${xmlEscape(err.message)}</Message><RequestId>${requestId}</RequestId></Error>`,
      };
    default:
      return {
        status: err.status,
        headers: { ...headers, "content-type": "text/xml" },
        body: `<ErrorResponse><Error><Type>${err.fault}</Type><Code>${xmlEscape(err.code)}</Code><Message>${xmlEscape(err.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
  }
}
