import type { Runtime } from "./runtime.js";

/** AWS resource IDs: a prefix and 17 lowercase hex digits (vpc-0a1b…, vpce-svc-…). */
export function newId(rt: Runtime, prefix: string): string {
  return `${prefix}-${rt.hex(17)}`;
}

const ID_SHAPE = /^[a-z]+(-[a-z]+)*-[0-9a-f]{8}([0-9a-f]{9})?$/;

/** Checks an ID's shape for its prefix (8 or 17 hex digits, as AWS accepts legacy IDs). */
export function isIdOf(prefix: string, id: unknown): id is string {
  return (
    typeof id === "string" &&
    id.startsWith(`${prefix}-`) &&
    ID_SHAPE.test(id) &&
    /^[0-9a-f]+$/.test(id.slice(prefix.length + 1))
  );
}

export function arn(partsOrService: string, region: string, account: string, resource: string): string {
  return `arn:aws:${partsOrService}:${region}:${account}:${resource}`;
}

export const DEFAULT_ACCOUNT = "000000000000";
