/**
 * AWS errors for any service a front may face, including the ones privlink has no codec for:
 * services it speaks render through api/wire; the others by the wire family the catalog
 * names (awsJson, restJson, awsQuery, EC2, S3's restXml).
 */
import type { AwsResponse } from "../api/dispatch.js";
import { isWireService, protocolOf, renderError } from "../api/protocols/index.js";
import { authFamilyOf, type IncomingSigned, parseScope } from "../api/sigv4.js";
import { type ForeignProtocol, renderForeignError } from "../api/unimplemented.js";
import { awsServiceByPrivateDnsName, awsServices, type ServiceProtocol } from "../cloud/catalog.js";
import type { AwsError } from "../cloud/errors.js";

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
  return renderForeignError(err, FOREIGN[familyOf(service, catalogProtocol)], requestId);
}

/** The catalog's families in the wire's terms (the catalog does not tell JSON 1.0 from 1.1). */
const FOREIGN: Record<ServiceProtocol, ForeignProtocol> = {
  json: "json1_1",
  restJson: "restJson",
  ec2: "ec2",
  restXml: "restXml",
  query: "query",
  unknown: "query",
};

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
