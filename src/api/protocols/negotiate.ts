import type { IncomingHttpHeaders } from "node:http";
import { protocolOf, type WireProtocol } from "./schema.js";

/**
 * Services that speak more than their model's one protocol. CloudWatch (`monitoring`) is
 * awsQuery-compatible and takes JSON 1.0 (`X-Amz-Target: GraniteServiceVersion20100801.<Op>`,
 * botocore >= 1.42.7, the AWS CLI) and Smithy RPC v2 CBOR (`smithy-protocol: rpc-v2-cbor`,
 * `POST /service/GraniteServiceVersion20100801/operation/<Op>`) besides form-encoded awsQuery.
 */
const QUERY_COMPATIBLE = new Set(["monitoring"]);

export function isQueryCompatible(service: string): boolean {
  return QUERY_COMPATIBLE.has(service);
}

/** `headers` is read only for a service that speaks more than its model's protocol. */
export function requestProtocol(
  service: string,
  headers: () => IncomingHttpHeaders,
  path: string,
): WireProtocol {
  const base = protocolOf(service);
  if (!QUERY_COMPATIBLE.has(service)) return base;
  const header = (name: string) => {
    const v = headers()[name];
    return (Array.isArray(v) ? v[0] : v) ?? "";
  };
  if (header("smithy-protocol") === "rpc-v2-cbor" || path.startsWith("/service/")) return "rpcv2Cbor";
  if (header("x-amz-target")) return base;
  return "awsQuery";
}

/** `/service/GraniteServiceVersion20100801/operation/GetMetricData` → its two names. */
export function rpcV2Operation(path: string): { service: string; operation: string } | undefined {
  const m = /^\/service\/([^/]+)\/operation\/([^/?]+)$/.exec(path);
  return m ? { service: m[1]!, operation: m[2]! } : undefined;
}

/** CloudWatch's modeled error shapes by awsQuery code (the code travels in x-amzn-query-error). */
const CLOUDWATCH_ERRORS: Readonly<Record<string, string>> = {
  InvalidParameterValue: "InvalidParameterValueException",
  InvalidParameterCombination: "InvalidParameterCombinationException",
  MissingParameter: "MissingRequiredParameterException",
  LimitExceeded: "LimitExceededFault",
  ResourceNotFound: "ResourceNotFound",
  InternalServiceError: "InternalServiceFault",
  InvalidNextToken: "InvalidNextToken",
  InvalidFormat: "InvalidFormatFault",
  ValidationError: "ValidationException",
};

export function queryCompatibleType(service: string, code: string): string {
  if (service !== "monitoring") return code;
  return `com.amazonaws.cloudwatch#${CLOUDWATCH_ERRORS[code] ?? code}`;
}
