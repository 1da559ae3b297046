/**
 * SSM Parameter Store rules with no I/O: names and hierarchies, value limits, versions and
 * labels, selectors, and the SecureString sealing (AES-256-GCM under a key derived from the
 * account and the KMS key ID: privlink has no KMS, so this protects nothing against someone who
 * reads privlink's code, only keeps values out of plain sight in the state file).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { AwsError } from "../../cloud/errors.js";
import type { ParameterVersion, SsmParameter } from "../../cloud/types.js";

export const TYPES = ["String", "StringList", "SecureString"] as const;
export type ParameterType = (typeof TYPES)[number];
export const DEFAULT_KEY = "alias/aws/ssm";
export const MAX_VERSIONS = 100;
const MAX_LEVELS = 15;
const MAX_LABELS = 10;

export const validation = (message: string) => new AwsError("ValidationException", message);
export const parameterNotFound = (message = "") => new AwsError("ParameterNotFound", message);

const NAME_MESSAGE =
  'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_';

export function checkName(name: unknown): string {
  if (typeof name !== "string" || name.length === 0 || name.length > 2048)
    throw validation(
      `1 validation error detected: Value '${String(name ?? "")}' at 'name' failed to satisfy constraint: Member must have length between 1 and 2048`,
    );
  const bare = name.startsWith("/") ? name.slice(1) : name;
  if (
    !/^[a-zA-Z0-9_.\-/]+$/.test(name) ||
    /^(aws|ssm)/i.test(bare) ||
    (name.includes("/") && !name.startsWith("/")) ||
    name.endsWith("/") ||
    name.includes("//")
  )
    throw validation(NAME_MESSAGE);
  if (name.split("/").filter(Boolean).length > MAX_LEVELS)
    throw new AwsError(
      "HierarchyLevelLimitExceededException",
      `Parameter name has too many levels: the maximum is ${MAX_LEVELS}.`,
    );
  return name;
}

export function parameterArn(region: string, accountId: string, name: string): string {
  return `arn:aws:ssm:${region}:${accountId}:parameter/${name.replace(/^\//, "")}`;
}

export function checkValue(value: unknown, tier: string): string {
  if (typeof value !== "string" || value.length === 0)
    throw validation(
      "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  const max = tier === "Advanced" ? 8192 : 4096;
  if (Buffer.byteLength(value) > max)
    throw validation(
      tier === "Advanced"
        ? `Advanced tier parameters support a maximum parameter value of ${max} characters.`
        : `Standard tier parameters support a maximum parameter value of ${max} characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html`,
    );
  return value;
}

export function checkPattern(value: string, pattern: string | undefined): void {
  if (pattern === undefined) return;
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch {
    throw validation(`Invalid AllowedPattern: ${pattern}`);
  }
  if (!re.test(value))
    throw new AwsError(
      "ParameterPatternMismatchException",
      `Parameter value, cannot be validated against allowedPattern: ${pattern}`,
    );
}

// ---- SecureString --------------------------------------------------------------------------

function keyFor(accountId: string, keyId: string): Buffer {
  return createHash("sha256").update(`privlink-ssm\u0000${accountId}\u0000${keyId}`).digest();
}

export function seal(accountId: string, keyId: string, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", keyFor(accountId, keyId), iv);
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
}

export function unseal(accountId: string, keyId: string, sealed: string): string {
  const raw = Buffer.from(sealed, "base64");
  const decipher = createDecipheriv("aes-256-gcm", keyFor(accountId, keyId), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
}

// ---- versions, labels, selectors -----------------------------------------------------------

export function latest(p: SsmParameter): ParameterVersion {
  return p.versions[p.versions.length - 1]!;
}

/** Appends a version; the oldest unlabelled one goes past 100, a labelled oldest one refuses. */
export function withVersion(p: SsmParameter, v: ParameterVersion): SsmParameter {
  let versions = [...p.versions, v];
  if (versions.length > MAX_VERSIONS) {
    const oldest = versions[0]!;
    if (oldest.labels.length > 0)
      throw new AwsError(
        "ParameterMaxVersionLimitExceeded",
        `You attempted to create a new version of ${p.name} by calling the PutParameter API with the overwrite flag. Version ${oldest.version}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.`,
      );
    versions = versions.slice(1);
  }
  return { ...p, versions };
}

/** `name`, `name:3` or `name:label`. */
export function splitSelector(text: string): { name: string; selector?: string } {
  const i = text.indexOf(":", text.startsWith("arn:") ? text.indexOf("parameter/") : 0);
  return i < 0 ? { name: text } : { name: text.slice(0, i), selector: text.slice(i + 1) };
}

export function pickVersion(p: SsmParameter, selector: string | undefined): ParameterVersion {
  if (selector === undefined) return latest(p);
  if (/^\d+$/.test(selector)) {
    const v = p.versions.find((x) => x.version === Number(selector));
    if (!v)
      throw new AwsError(
        "ParameterVersionNotFound",
        `Systems Manager could not find version ${selector} of ${p.name}. Verify the version and try again.`,
      );
    return v;
  }
  const v = p.versions.find((x) => x.labels.includes(selector));
  if (!v) throw parameterNotFound();
  return v;
}

export function invalidLabel(label: string): boolean {
  return (
    label.length === 0 ||
    label.length > 100 ||
    /^\d/.test(label) ||
    /^(aws|ssm)/i.test(label) ||
    !/^[a-zA-Z0-9_.-]+$/.test(label)
  );
}

/** Moves `labels` onto `version` (off any other); returns the new parameter. */
export function labelVersion(p: SsmParameter, version: number, labels: readonly string[]): SsmParameter {
  const target = p.versions.find((v) => v.version === version);
  if (!target)
    throw new AwsError(
      "ParameterVersionNotFound",
      `Systems Manager could not find version ${version} of ${p.name}. Verify the version and try again.`,
    );
  const merged = [...new Set([...target.labels, ...labels])];
  if (merged.length > MAX_LABELS)
    throw new AwsError(
      "ParameterVersionLabelLimitExceeded",
      "An error occurred when attempting to label the parameter version. A parameter version can have a maximum of 10 labels.",
    );
  const moving = new Set(labels);
  return {
    ...p,
    versions: p.versions.map((v) =>
      v.version === version
        ? { ...v, labels: merged }
        : { ...v, labels: v.labels.filter((l) => !moving.has(l)) },
    ),
  };
}
