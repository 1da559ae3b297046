import { AwsError } from "../../cloud/errors.js";

/**
 * JSON 1.1 services privlink answers without an SDK schema (no pinned client package carries
 * one): the X-Amz-Target names the action, the body is the input as sent, and handlers return
 * the output in its wire names. Route 53 Resolver (PascalCase) and Direct Connect (camelCase).
 */
const TARGETS: Readonly<Record<string, string>> = {
  route53resolver: "Route53Resolver",
  directconnect: "OvertureService",
};

export function isPlainJsonService(service: string): boolean {
  return Object.hasOwn(TARGETS, service);
}

export function decodePlainJson(
  service: string,
  target: string | undefined,
  body: Buffer,
): { action: string; input: Record<string, any> } {
  const prefix = `${TARGETS[service]}.`;
  if (!target?.startsWith(prefix) || !/^[A-Za-z][A-Za-z0-9]{0,127}$/.test(target.slice(prefix.length)))
    throw new AwsError("UnknownOperationException", `Unknown operation ${target ?? "(no X-Amz-Target)"}`);
  let input: unknown = {};
  if (body.length > 0) {
    try {
      input = JSON.parse(body.toString("utf8"));
    } catch {
      throw new AwsError("SerializationException", "The request body is not valid JSON");
    }
  }
  if (!input || typeof input !== "object" || Array.isArray(input))
    throw new AwsError("SerializationException", "The request body must be a JSON object");
  return { action: target.slice(prefix.length), input: input as Record<string, any> };
}

export function encodePlainJson(output: unknown): string {
  return JSON.stringify(output ?? {}, (_k, v) => (v instanceof Date ? v.getTime() / 1000 : v));
}
