/**
 * AWS errors for any service a front may face, including the ones privlink has no codec for:
 * services it speaks render through api/wire; the others by the wire family the catalog
 * names (awsJson, restJson, awsQuery, EC2, S3's restXml).
 */
import type { AwsResponse } from "../api/dispatch.js";
import { isWireService, protocolOf, renderError } from "../api/protocols/index.js";
import { authFamilyOf, type IncomingSigned, parseScope } from "../api/sigv4.js";
import { awsServiceByPrivateDnsName, awsServices, type ServiceProtocol } from "../cloud/catalog.js";
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

/** `<service>.<region>.amazonaws.com`, `bucket.s3.<region>.amazonaws.com`, … */
const REGION_IN_NAME = /\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/;

/**
 * The service a request to `host` addresses, for an error no service handler will render (the
 * workload proxy answering for an AWS name it cannot reach): the signing name of the request's
 * SigV4 scope when it is signed, else the interface service whose private DNS name covers
 * `host`, else the name's first label; the protocol is the catalog's for that service.
 */
export function serviceOfRequest(
  host: string,
  request: IncomingSigned,
): { service: string; protocol?: ServiceProtocol } {
  let scope: ReturnType<typeof parseScope> | undefined;
  try {
    scope = parseScope(request);
  } catch {
    // Unsigned or malformed: the host name is all there is to go by.
  }
  const region = scope?.region ?? REGION_IN_NAME.exec(host)?.[1] ?? "us-east-1";
  const byName = awsServiceByPrivateDnsName(host, region);
  const service = scope?.service ?? byName?.signingName ?? host.split(".")[0]!;
  const protocol =
    byName?.signingName === service
      ? byName.protocol
      : awsServices(region).find((s) => s.signingName === service)?.protocol;
  return { service, protocol };
}
