/**
 * CloudWatch Logs rules with no I/O: names, ARNs, the PutLogEvents batch rules (what is refused,
 * what is rejected event by event), retention values and the read tokens.
 */
import { AwsError } from "../../cloud/errors.js";
import type { Position } from "./event-store.js";

export const invalidParameter = (message: string) => new AwsError("InvalidParameterException", message);
export const GROUP_NOT_FOUND = "The specified log group does not exist.";
export const STREAM_NOT_FOUND = "The specified log stream does not exist.";
export const notFound = (message: string) => new AwsError("ResourceNotFoundException", message);

const GROUP_NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;
const STREAM_NAME = /^[^:*]{1,512}$/;
const GROUP_ARN = /^arn:aws[a-z-]*:logs:([a-z0-9-]+):(\d{12}):log-group:([^:]+)(?::\*)?$/;

export const MAX_BATCH_BYTES = 1_048_576;
export const EVENT_OVERHEAD = 26;
export const MAX_BATCH_EVENTS = 10_000;
export const MAX_SPAN_MS = 24 * 3600_000;
export const TOO_NEW_MS = 2 * 3600_000;
export const TOO_OLD_MS = 14 * 86_400_000;
const DAY_MS = 86_400_000;

export const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

export function checkGroupName(name: unknown, member = "logGroupName"): string {
  if (typeof name !== "string" || !GROUP_NAME.test(name))
    throw invalidParameter(
      `1 validation error detected: Value '${String(name ?? "")}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+`,
    );
  return name;
}

export function checkStreamName(name: unknown): string {
  if (typeof name !== "string" || !STREAM_NAME.test(name))
    throw invalidParameter(
      `1 validation error detected: Value '${String(name ?? "")}' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*`,
    );
  return name;
}

export function checkRetention(days: unknown): number {
  if (typeof days !== "number" || !RETENTION_DAYS.includes(days))
    throw invalidParameter(
      `1 validation error detected: Value '${String(days)}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [${RETENTION_DAYS.join(", ")}]`,
    );
  return days;
}

export function groupArn(region: string, accountId: string, name: string): string {
  return `arn:aws:logs:${region}:${accountId}:log-group:${name}`;
}

/**
 * What a request names: a log group in the caller's account (a name) or in another account (an
 * ARN, with or without `:*`, in logGroupName or logGroupIdentifier).
 */
export interface GroupRef {
  readonly region: string;
  readonly accountId: string;
  readonly name: string;
}

export function parseGroupRef(
  value: unknown,
  caller: { accountId: string; region: string },
  member: string,
): GroupRef {
  if (typeof value === "string" && value.startsWith("arn:")) {
    const m = GROUP_ARN.exec(value);
    if (!m) throw invalidParameter(`Invalid ${member}: ${value} is not a log group ARN.`);
    return { region: m[1]!, accountId: m[2]!, name: checkGroupName(m[3], member) };
  }
  return { ...caller, name: checkGroupName(value, member) };
}

/** The IAM resource of an action on a group (`…:log-stream:` for group-level actions, as AWS shows it). */
export function iamResource(ref: GroupRef, stream = ""): string {
  return `${groupArn(ref.region, ref.accountId, ref.name)}:log-stream:${stream}`;
}

// ---- PutLogEvents -------------------------------------------------------------------------

export interface InputEvent {
  readonly timestamp: number;
  readonly message: string;
}

export interface RejectedInfo {
  tooNewLogEventStartIndex?: number;
  tooOldLogEventEndIndex?: number;
  expiredLogEventEndIndex?: number;
}

export interface Admitted {
  /** The events to store, in order. */
  readonly accepted: InputEvent[];
  readonly rejected?: RejectedInfo;
}

/**
 * AWS's batch rules: the whole call fails on a batch that is too large, out of chronological
 * order or spans more than 24 hours (counting only the events it would keep); events older than
 * 14 days or the group's retention, or more than 2 hours ahead, are rejected one by one and
 * reported by index (the old and expired indexes name the last such event, the new one the first).
 */
export function admitBatch(
  raw: readonly { timestamp?: number; message?: string }[] | undefined,
  now: number,
  retentionInDays: number | undefined,
): Admitted {
  if (!raw || raw.length === 0)
    throw invalidParameter(
      "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  if (raw.length > MAX_BATCH_EVENTS)
    throw invalidParameter(
      `1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to ${MAX_BATCH_EVENTS}`,
    );
  const events: InputEvent[] = raw.map((e, i) => {
    if (typeof e.timestamp !== "number" || !Number.isFinite(e.timestamp))
      throw invalidParameter(
        `1 validation error detected: Value null at 'logEvents.${i + 1}.member.timestamp' failed to satisfy constraint: Member must not be null`,
      );
    if (typeof e.message !== "string" || e.message.length === 0)
      throw invalidParameter(
        `1 validation error detected: Value at 'logEvents.${i + 1}.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1`,
      );
    return { timestamp: e.timestamp, message: e.message };
  });
  let size = 0;
  for (const e of events) {
    const bytes = Buffer.byteLength(e.message) + EVENT_OVERHEAD;
    if (bytes > MAX_BATCH_BYTES)
      throw invalidParameter(`Log event too large: ${bytes} bytes exceeds limit of ${MAX_BATCH_BYTES}`);
    size += bytes;
  }
  if (size > MAX_BATCH_BYTES)
    throw invalidParameter(`Upload too large: ${size} bytes exceeds limit of ${MAX_BATCH_BYTES}`);
  for (let i = 1; i < events.length; i++)
    if (events[i]!.timestamp < events[i - 1]!.timestamp)
      throw invalidParameter("Log events in a single PutLogEvents request must be in chronological order.");
  return classify(events, now, retentionInDays);
}

function classify(events: InputEvent[], now: number, retentionInDays: number | undefined): Admitted {
  const rejected: RejectedInfo = {};
  const tooOld = now - TOO_OLD_MS;
  const expired = retentionInDays === undefined ? -Infinity : now - retentionInDays * DAY_MS;
  const tooNew = now + TOO_NEW_MS;
  const accepted: InputEvent[] = [];
  events.forEach((e, i) => {
    if (e.timestamp > tooNew) rejected.tooNewLogEventStartIndex ??= i;
    else if (e.timestamp < tooOld) rejected.tooOldLogEventEndIndex = i;
    else if (e.timestamp < expired) rejected.expiredLogEventEndIndex = i;
    else accepted.push(e);
  });
  if (accepted.length > 1 && accepted[accepted.length - 1]!.timestamp - accepted[0]!.timestamp > MAX_SPAN_MS)
    throw invalidParameter(
      "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
    );
  return Object.keys(rejected).length === 0 ? { accepted } : { accepted, rejected };
}

// ---- tokens -------------------------------------------------------------------------------

/** `f/` or `b/` and 56 digits, as AWS's tokens look: 20 for the timestamp, 36 for the sequence. */
export function streamToken(direction: "f" | "b", p: Position): string {
  return `${direction}/${String(p.timestamp).padStart(20, "0")}${String(p.seq).padStart(36, "0")}`;
}

export function parseStreamToken(token: string): { direction: "f" | "b"; position: Position } {
  const m = /^([fb])\/(\d{20})(\d{36})$/.exec(token);
  if (!m) throw invalidParameter("The specified nextToken is invalid.");
  return { direction: m[1] as "f" | "b", position: { timestamp: Number(m[2]), seq: Number(m[3]) } };
}

/** FilterLogEvents' and the Describe actions' opaque tokens. */
export function opaqueToken(kind: string, value: string): string {
  return Buffer.from(`${kind}\u0000${value}`, "utf8").toString("base64url");
}

export function parseOpaqueToken(kind: string, token: string): string {
  const text = Buffer.from(token, "base64url").toString("utf8");
  if (!text.startsWith(`${kind}\u0000`)) throw invalidParameter("The specified nextToken is invalid.");
  return text.slice(kind.length + 1);
}

export function eventId(p: Position): string {
  return `${String(p.timestamp).padStart(20, "0")}${String(p.seq).padStart(36, "0")}`;
}

export function checkLimit(value: unknown, max: number, member = "limit"): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max)
    throw invalidParameter(
      `1 validation error detected: Value '${String(value)}' at '${member}' failed to satisfy constraint: Member must have value ${value !== undefined && Number(value) < 1 ? "greater than or equal to 1" : `less than or equal to ${max}`}`,
    );
  return value;
}
