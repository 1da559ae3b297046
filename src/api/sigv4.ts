/**
 * SigV4 verification: every AWS request that reaches privlink is re-signed here with
 * `@smithy/signature-v4` (the signer the SDK itself uses) over exactly what the client said it
 * signed, and the two signatures are compared in constant time.
 *
 * Errors follow what each AWS service family answers (see {@link authErrorFor}); the texts were
 * taken from real AWS responses quoted in SDK issue trackers and the services' "Common Errors"
 * pages.
 */
import { createHash, createHmac, type Hash, type Hmac, hash } from "node:crypto";
import { createRequire } from "node:module";
import type { HttpRequest } from "@smithy/protocol-http";
import type * as SmithySignatureV4 from "@smithy/signature-v4";
import { AwsError } from "../cloud/errors.js";

/** SigV4's algorithm name (the signer's ALGORITHM_IDENTIFIER), which every request names. */
const ALGORITHM_IDENTIFIER = "AWS4-HMAC-SHA256";

export interface IncomingSigned {
  method: string;
  /** Raw path + query as received (Node's `req.url`). */
  url: string;
  /**
   * Header values by name (any case). Pass Node's `req.headersDistinct` to keep repeated headers
   * exact: arrays are joined with "," as SigV4 does, while `req.headers` has already joined them
   * with ", ", which breaks signatures over repeated headers.
   */
  headers: Record<string, string | string[] | undefined>;
  /**
   * True when `headers` is already what SigV4 reads: lowercased names, one string value each (no
   * header was repeated), a map of null prototype (the edge's). It is then read as it is.
   */
  lowered?: boolean;
  body: Uint8Array;
}

export interface SigV4Scope {
  accessKeyId: string;
  /** yyyymmdd */
  date: string;
  region: string;
  service: string;
  sessionToken?: string;
}

export interface VerifyOptions {
  /** Error family to answer in; default from the scope's service ({@link authFamilyOf}). */
  family?: AuthFamily;
}

/** How a service family words its authentication errors. */
export type AuthFamily = "ec2" | "query" | "json" | "s3";

export type AuthErrorKind =
  | "missing"
  | "malformed"
  | "unknownKey"
  | "badSignature"
  | "skew"
  | "expired"
  | "payloadMismatch";

const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
const SIGNATURE_MISMATCH =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const TOKEN_INVALID = "The security token included in the request is invalid.";
const MISSING_TOKEN = "Request is missing Authentication Token";

/** SigV4 signing names of the awsJson services privlink fronts or may front. */
const JSON_SERVICES = new Set([
  "secretsmanager",
  "logs",
  "kms",
  "dynamodb",
  "ssm",
  "ecr",
  "ecs",
  "events",
  "kinesis",
  "sqs",
  "codebuild",
  "states",
]);

export function authFamilyOf(service: string): AuthFamily {
  if (service === "ec2") return "ec2";
  if (service === "s3" || service.startsWith("s3-")) return "s3";
  return JSON_SERVICES.has(service) ? "json" : "query";
}

/**
 * The AwsError a service answers for an authentication failure. `detail` carries the specific
 * text where the family puts it in the message (malformed, skew, expired); families with a fixed
 * text ignore it.
 *
 * Decisions, from AWS's observed answers:
 * - no auth: EC2 `MissingParameter` "The request must contain the parameter AWSAccessKeyId"
 *   (400); awsQuery/restXml `MissingAuthenticationToken` (403); awsJson
 *   `MissingAuthenticationTokenException` (400); S3 treats it as anonymous: `AccessDenied`.
 * - unknown key: EC2 `AuthFailure` (401); query `InvalidClientTokenId` (403); JSON
 *   `UnrecognizedClientException` (400); S3 `InvalidAccessKeyId` (403).
 * - skew: EC2 `RequestExpired` "Request has expired."; query/JSON put "Signature expired: …"
 *   into their signature-mismatch code; S3 `RequestTimeTooSkewed`.
 */
export function authErrorFor(service: string, kind: AuthErrorKind, detail?: string): AwsError {
  return familyError(authFamilyOf(service), kind, detail);
}

function familyError(family: AuthFamily, kind: AuthErrorKind, detail?: string): AwsError {
  const json = family === "json";
  switch (kind) {
    case "missing":
      if (family === "ec2")
        return new AwsError("MissingParameter", "The request must contain the parameter AWSAccessKeyId", 400);
      if (family === "s3") return new AwsError("AccessDenied", "Access Denied", 403);
      return json
        ? new AwsError("MissingAuthenticationTokenException", MISSING_TOKEN, 400)
        : new AwsError("MissingAuthenticationToken", MISSING_TOKEN, 403);
    case "malformed":
      if (family === "s3")
        return new AwsError(
          "AuthorizationHeaderMalformed",
          detail ?? "The authorization header is malformed",
          400,
        );
      return new AwsError(json ? "IncompleteSignatureException" : "IncompleteSignature", detail ?? "", 400);
    case "unknownKey":
      if (family === "ec2")
        return new AwsError(
          "AuthFailure",
          "AWS was not able to validate the provided access credentials",
          401,
        );
      if (family === "s3")
        return new AwsError(
          "InvalidAccessKeyId",
          "The AWS Access Key Id you provided does not exist in our records.",
          403,
        );
      return json
        ? new AwsError("UnrecognizedClientException", TOKEN_INVALID, 400)
        : new AwsError("InvalidClientTokenId", TOKEN_INVALID, 403);
    case "badSignature":
      if (family === "s3")
        return new AwsError(
          "SignatureDoesNotMatch",
          "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
          403,
        );
      return signatureMismatch(json, detail ?? SIGNATURE_MISMATCH);
    case "skew":
      if (family === "ec2") return new AwsError("RequestExpired", "Request has expired.", 400);
      if (family === "s3")
        return new AwsError(
          "RequestTimeTooSkewed",
          "The difference between the request time and the current time is too large.",
          403,
        );
      return signatureMismatch(json, detail ?? SIGNATURE_MISMATCH);
    case "expired":
      if (family === "ec2") return new AwsError("RequestExpired", "Request has expired.", 400);
      if (family === "s3") return new AwsError("AccessDenied", "Request has expired", 403);
      return signatureMismatch(json, detail ?? SIGNATURE_MISMATCH);
    case "payloadMismatch":
      if (family === "s3")
        return new AwsError(
          "XAmzContentSHA256Mismatch",
          "The provided 'x-amz-content-sha256' header does not match what was computed.",
          400,
        );
      return signatureMismatch(json, SIGNATURE_MISMATCH);
  }
}

function signatureMismatch(json: boolean, message: string): AwsError {
  return json
    ? new AwsError("InvalidSignatureException", message, 400)
    : new AwsError("SignatureDoesNotMatch", message, 403);
}

/** SHA-256 / HMAC-SHA-256 over node:crypto in the shape of smithy's `Checksum`. */
export class Sha256 {
  private readonly secret?: Buffer;
  private hash: Hash | Hmac;

  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.secret = secret === undefined ? undefined : toBuffer(secret);
    this.hash = this.fresh();
  }

  update(data: Uint8Array): void {
    this.hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret ? createHmac("sha256", this.secret) : createHash("sha256");
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** Everything the client claimed, parsed from the Authorization header or the query. */
interface SignedParts extends Received {
  mode: "header" | "query";
  scope: SigV4Scope;
  credential: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
  /** The instant the client signed at, and its ISO-8601 basic form. */
  signedAt: Date;
  longDate: string;
  /** Presigned URLs only. */
  expiresSec?: number;
}

/** The request as the signer saw it: path still percent-encoded, query decoded, headers lowercased. */
interface Received {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
}

/** Reads the credential scope without any crypto, so the router can pick the service first. */
export function parseScope(req: IncomingSigned, serviceHint?: string): SigV4Scope {
  return parseSigned(req, serviceHint).scope;
}

/** A request whose signature parts were read once: route on `scope`, then verify it as is. */
export class SignedRequest {
  private constructor(
    readonly req: IncomingSigned,
    /** @internal */ readonly parts: SignedParts,
  ) {}

  static parse(req: IncomingSigned): SignedRequest {
    return new SignedRequest(req, parseSigned(req));
  }

  get scope(): SigV4Scope {
    return this.parts.scope;
  }
}

export async function verifySigV4(
  signedReq: IncomingSigned | SignedRequest,
  secretFor: (accessKeyId: string) => string | undefined,
  now: Date,
  maxSkewMs = 15 * 60 * 1000,
  options: VerifyOptions = {},
): Promise<SigV4Scope> {
  return checkSigV4(signedReq, secretFor, now, maxSkewMs, options);
}

/**
 * {@link verifySigV4} without its promise: nothing in it waits, and the API's dispatch verifies
 * every request (an await is a promise and a microtask turn per request). Throws what it rejects.
 */
export function checkSigV4(
  signedReq: IncomingSigned | SignedRequest,
  secretFor: (accessKeyId: string) => string | undefined,
  now: Date,
  maxSkewMs = 15 * 60 * 1000,
  options: VerifyOptions = {},
): SigV4Scope {
  const parsed = signedReq instanceof SignedRequest && options.family === undefined;
  const req = signedReq instanceof SignedRequest ? signedReq.req : signedReq;
  const parts = parsed ? signedReq.parts : parseSigned(req, options.family);
  const family = options.family ?? authFamilyOf(parts.scope.service);
  checkTime(parts, now, maxSkewMs, family);
  checkScope(parts, family);
  checkSignedHeaders(parts, family);
  const secret = secretFor(parts.scope.accessKeyId);
  if (secret === undefined) throw familyError(family, "unknownKey");
  const payloadHash = payloadHashOf(parts, req.body, family);
  const expected = resign(parts, secret, payloadHash);
  if (!sameSignature(expected, parts.signature)) throw familyError(family, "badSignature");
  return parts.scope;
}

/** What a streamed request's body is checked against once the head's signature holds. */
export interface SignedHead {
  readonly scope: SigV4Scope;
  /** The payload hash the client signed: hex, UNSIGNED-PAYLOAD or a STREAMING-* marker. */
  readonly payloadHash: string;
  /** The seed signature chunk signatures chain from. */
  readonly signature: string;
  /** ISO-8601 basic signing time, as in the string to sign. */
  readonly longDate: string;
  /** The derived SigV4 signing key (HMAC chain over date, region, service). */
  readonly signingKey: Buffer;
}

/**
 * Verifies the signature of a request whose body has not been read (S3 streams it): the payload
 * hash is taken as claimed, and the caller checks the body against it while reading.
 */
export async function verifySigV4Head(
  req: Omit<IncomingSigned, "body">,
  secretFor: (accessKeyId: string) => string | undefined,
  now: Date,
  maxSkewMs = 15 * 60 * 1000,
): Promise<SignedHead> {
  const parts = parseSigned({ ...req, body: new Uint8Array(0) }, "s3");
  checkTime(parts, now, maxSkewMs, "s3");
  checkScope(parts, "s3");
  checkSignedHeaders(parts, "s3");
  const secret = secretFor(parts.scope.accessKeyId);
  if (secret === undefined) throw familyError("s3", "unknownKey");
  const queryHash = parts.query["X-Amz-Content-Sha256"];
  const payloadHash =
    parts.mode === "header"
      ? parts.headers["x-amz-content-sha256"]
      : ((Array.isArray(queryHash) ? queryHash[0] : queryHash) ?? "UNSIGNED-PAYLOAD");
  if (payloadHash === undefined)
    throw new AwsError(
      "InvalidRequest",
      "Missing required header for this request: x-amz-content-sha256",
      400,
    );
  const expected = resign(parts, secret, payloadHash);
  if (!sameSignature(expected, parts.signature)) throw familyError("s3", "badSignature");
  const { date, region, service } = parts.scope;
  const { key } = signingKeyOf(secret, date, region, service);
  return {
    scope: parts.scope,
    payloadHash,
    signature: parts.signature,
    longDate: parts.longDate,
    signingKey: key,
  };
}

function parseSigned(req: IncomingSigned, hint?: string): SignedParts {
  const family = hint === undefined ? "query" : isFamily(hint) ? hint : authFamilyOf(hint);
  const { path, query } = splitUrl(req.url);
  const received: Received = {
    method: req.method.toUpperCase(),
    path,
    query,
    headers: req.lowered === true ? (req.headers as Record<string, string>) : lowerHeaders(req.headers),
  };
  const authorization = received.headers.authorization;
  if (authorization !== undefined) return parseHeaderAuth(authorization, received, family);
  if (query["X-Amz-Algorithm"] !== undefined || query["X-Amz-Credential"] !== undefined)
    return parseQueryAuth(received, family);
  throw familyError(family, "missing");
}

function isFamily(name: string): name is AuthFamily {
  return name === "ec2" || name === "query" || name === "json" || name === "s3";
}

function lowerHeaders(raw: IncomingSigned["headers"]): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const name in raw) {
    const value = raw[name];
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const joined = typeof value === "string" ? value : value.length === 1 ? value[0]! : value.join(",");
    out[key] = out[key] === undefined ? joined : `${out[key]},${joined}`;
  }
  return out;
}

/** Splits the raw request target; the path stays percent-encoded exactly as the client sent it. */
function splitUrl(url: string): { path: string; query: Record<string, string | string[]> } {
  if (url === "/") return { path: "/", query: Object.create(null) };
  const target = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i, "");
  const q = target.indexOf("?");
  const path = (q < 0 ? target : target.slice(0, q)) || "/";
  const query: Record<string, string | string[]> = Object.create(null);
  if (q < 0) return { path, query };
  for (const pair of target.slice(q + 1).split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const key = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? "" : decodeComponent(pair.slice(eq + 1));
    const prior = query[key];
    if (prior === undefined) query[key] = value;
    else if (Array.isArray(prior)) prior.push(value);
    else query[key] = [prior, value];
  }
  return { path, query };
}

/** `+` stays a literal plus: SigV4 clients encode spaces as %20, and re-encoding gives %2B. */
function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * The Authorization header every SDK writes: the algorithm, then Credential, SignedHeaders and
 * Signature once each, ", "-separated, no whitespace or comma inside a value. What the general
 * parse below gives for such a header, read with one match.
 */
const SDK_AUTHORIZATION = new RegExp(
  `^${ALGORITHM_IDENTIFIER} Credential=([^\\s,]+), SignedHeaders=([^\\s,]+), Signature=([^\\s,]+)$`,
);

function authParams(
  authorization: string,
  family: AuthFamily,
): { algorithm: string; params: Record<string, string> } {
  const sdk = SDK_AUTHORIZATION.exec(authorization);
  if (sdk !== null)
    return {
      algorithm: ALGORITHM_IDENTIFIER,
      params: { Credential: sdk[1]!, SignedHeaders: sdk[2]!, Signature: sdk[3]! },
    };
  const trimmed = authorization.trim();
  const space = trimmed.search(/\s/);
  const algorithm = space < 0 ? trimmed : trimmed.slice(0, space);
  const params: Record<string, string> = Object.create(null);
  for (const piece of (space < 0 ? "" : trimmed.slice(space)).split(/[\s,]+/)) {
    if (piece === "") continue;
    const eq = piece.indexOf("=");
    if (eq < 0)
      throw familyError(
        family,
        "malformed",
        `'${piece}' not a valid key=value pair (missing equal-sign) in Authorization header: '${authorization}'.`,
      );
    params[piece.slice(0, eq)] = piece.slice(eq + 1);
  }
  return { algorithm, params };
}

function parseHeaderAuth(authorization: string, received: Received, family: AuthFamily): SignedParts {
  const { headers } = received;
  const malformed = (problems: string[]) =>
    familyError(family, "malformed", `${problems.join(" ")} Authorization=${authorization}`);
  const { algorithm, params } = authParams(authorization, family);
  const dateText = headers["x-amz-date"] ?? headers.date;
  if (!params.Credential || !params.Signature || !params.SignedHeaders || dateText === undefined) {
    const problems = ["Credential", "Signature", "SignedHeaders"]
      .filter((name) => !params[name])
      .map((name) => `Authorization header requires '${name}' parameter.`);
    if (dateText === undefined)
      problems.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    throw malformed(problems);
  }
  if (algorithm !== ALGORITHM_IDENTIFIER)
    throw familyError(family, "malformed", `Unsupported AWS 'algorithm': '${algorithm}'.`);
  const { signedAt, longDate } = signingTime(dateText, headers["x-amz-date"] === undefined, family);
  const { scope, credential, terminator } = credentialParts(
    params.Credential,
    headers["x-amz-security-token"],
    family,
  );
  // Members named, not spread: every request is parsed here (see the prepared key in dispatch.ts).
  return {
    mode: "header",
    scope,
    credential,
    terminator,
    signedHeaders: params.SignedHeaders.split(";"),
    signature: params.Signature,
    signedAt,
    longDate,
    method: received.method,
    path: received.path,
    query: received.query,
    headers: received.headers,
  };
}

const QUERY_AUTH_PARAMS = [
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Signature",
  "X-Amz-Date",
  "X-Amz-SignedHeaders",
];

function parseQueryAuth(received: Received, family: AuthFamily): SignedParts {
  const { query } = received;
  const one = (name: string) => {
    const value = query[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const required = family === "s3" ? [...QUERY_AUTH_PARAMS, "X-Amz-Expires"] : QUERY_AUTH_PARAMS;
  const absent = required.find((name) => !one(name));
  if (absent !== undefined)
    throw familyError(
      family,
      "malformed",
      family === "s3"
        ? "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
        : `AWS query-string parameters must include '${absent}'. Re-examine the query-string parameters.`,
    );
  if (one("X-Amz-Algorithm") !== ALGORITHM_IDENTIFIER)
    throw familyError(family, "malformed", `Unsupported AWS 'algorithm': '${one("X-Amz-Algorithm")}'.`);
  const { signedAt, longDate } = signingTime(one("X-Amz-Date")!, false, family);
  return {
    mode: "query",
    ...credentialParts(one("X-Amz-Credential")!, one("X-Amz-Security-Token"), family),
    signedHeaders: one("X-Amz-SignedHeaders")!.split(";"),
    signature: one("X-Amz-Signature")!,
    signedAt,
    longDate,
    expiresSec: parseExpires(one("X-Amz-Expires"), family),
    ...received,
  };
}

function parseExpires(text: string | undefined, family: AuthFamily): number | undefined {
  if (text === undefined) return undefined;
  const seconds = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isNaN(seconds) || seconds > MAX_PRESIGN_SECONDS)
    throw familyError(
      family,
      "malformed",
      Number.isNaN(seconds)
        ? "X-Amz-Expires should be a number"
        : `X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGN_SECONDS}`,
    );
  return seconds;
}

function credentialParts(
  credential: string,
  sessionToken: string | undefined,
  family: AuthFamily,
): Pick<SignedParts, "scope" | "credential" | "terminator"> {
  const parts = credential.split("/");
  if (parts.length !== 5 || parts.some((p) => p === ""))
    throw familyError(
      family,
      "malformed",
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`,
    );
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  const scope: SigV4Scope = { accessKeyId, date, region, service };
  if (sessionToken !== undefined) scope.sessionToken = sessionToken;
  return { scope, credential, terminator };
}

/**
 * The signing instant and its ISO-8601 basic form. A client signs many requests within one
 * second: the last text read is kept with what it gave (a pure function of the text).
 */
let lastTime: { text: string; httpDate: boolean; ms: number; longDate: string } | undefined;

function signingTime(
  text: string,
  httpDate: boolean,
  family: AuthFamily,
): { signedAt: Date; longDate: string } {
  const last = lastTime;
  if (last !== undefined && last.text === text && last.httpDate === httpDate)
    return { signedAt: new Date(last.ms), longDate: last.longDate };
  const signedAt = parseSigningDate(text, httpDate, family);
  const longDate = longDateOf(signedAt);
  lastTime = { text, httpDate, ms: signedAt.getTime(), longDate };
  return { signedAt, longDate };
}

/** x-amz-date is ISO-8601 basic; the HTTP Date header (RFC 7231) is the fallback SigV4 allows. */
function parseSigningDate(text: string, httpDate: boolean, family: AuthFamily): Date {
  const basic = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  const ms = basic
    ? Date.UTC(+basic[1]!, +basic[2]! - 1, +basic[3]!, +basic[4]!, +basic[5]!, +basic[6]!)
    : httpDate
      ? Date.parse(text)
      : Number.NaN;
  if (Number.isNaN(ms))
    throw familyError(
      family,
      "malformed",
      `Date must be in ISO-8601 'basic format'. Got '${text}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  return new Date(ms);
}

/** ISO-8601 basic (yyyymmddThhmmssZ), built by hand: every verification formats one. */
function longDateOf(d: Date): string {
  const year = d.getUTCFullYear();
  if (year < 1000 || year > 9999)
    return d
      .toISOString()
      .replace(/\.\d{3}Z$/, "Z")
      .replace(/[-:]/g, "");
  const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
  return `${year}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}T${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
}

function checkTime(parts: SignedParts, now: Date, maxSkewMs: number, family: AuthFamily): void {
  const at = parts.signedAt.getTime();
  const nowMs = now.getTime();
  // Formatted only for the error texts: the accepted path never needs it.
  const nowText = () => longDateOf(now);
  if (parts.expiresSec !== undefined && nowMs > at + parts.expiresSec * 1000) {
    const earliest = longDateOf(new Date(nowMs - parts.expiresSec * 1000));
    throw familyError(
      family,
      "expired",
      `Signature expired: ${parts.longDate} is now earlier than ${earliest} (${nowText()} - ${spanText(parts.expiresSec * 1000)}.)`,
    );
  }
  const span = spanText(maxSkewMs);
  if (parts.expiresSec === undefined && at < nowMs - maxSkewMs) {
    const earliest = longDateOf(new Date(nowMs - maxSkewMs));
    throw familyError(
      family,
      "skew",
      `Signature expired: ${parts.longDate} is now earlier than ${earliest} (${nowText()} - ${span}.)`,
    );
  }
  if (at > nowMs + maxSkewMs) {
    const latest = longDateOf(new Date(nowMs + maxSkewMs));
    throw familyError(
      family,
      "skew",
      `Signature not yet current: ${parts.longDate} is still later than ${latest} (${nowText()} + ${span}.)`,
    );
  }
}

function spanText(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} sec`;
}

/** The scope must name the signing day and the fixed terminator, as AWS checks before the HMAC. */
/**
 * The headers a signature must cover, checked before the signature itself: `host` always, and
 * every `x-amz-*` header the request carries (else a captured signature could be replayed with
 * another host, date, token or S3 option). S3 answers `AccessDenied` "There were headers present
 * in the request which were not signed" and tolerates an unsigned `x-amz-content-sha256` (the
 * canonical request carries the payload hash anyway); the other services answer
 * `IncompleteSignature` with their `'Host' … must be a 'SignedHeader'` text.
 */
function checkSignedHeaders(parts: SignedParts, family: AuthFamily): void {
  const signed = lowercased(parts.signedHeaders);
  let unsigned: string[] | undefined;
  for (const h in parts.headers) {
    const needed =
      h === "host" || (h.startsWith("x-amz-") && !(family === "s3" && h === "x-amz-content-sha256"));
    if (!needed || signed.includes(h)) continue;
    if (unsigned === undefined) unsigned = [h];
    else unsigned.push(h);
  }
  if (unsigned === undefined && signed.includes("host")) return;
  if (family === "s3")
    throw new AwsError(
      "AccessDenied",
      "There were headers present in the request which were not signed",
      403,
    );
  if (!signed.includes("host"))
    throw familyError(
      family,
      "malformed",
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    );
  throw familyError(
    family,
    "malformed",
    `'${(unsigned ?? []).map(headerCase).join("', '")}' must be a 'SignedHeader' in the AWS Authorization.`,
  );
}

/** The names lowercased; the list itself when they are already (as every SDK writes them). */
function lowercased(names: string[]): string[] {
  for (const h of names) if (h !== h.toLowerCase()) return names.map((n) => n.toLowerCase());
  return names;
}

/** x-amz-security-token → X-Amz-Security-Token, as AWS names headers in its messages. */
const headerCase = (h: string) =>
  h.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());

function checkScope(parts: SignedParts, family: AuthFamily): void {
  const problems: string[] = [];
  if (parts.terminator !== "aws4_request")
    problems.push(
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${parts.terminator}'.`,
    );
  const day = parts.longDate.slice(0, 8);
  if (parts.scope.date !== day)
    problems.push(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${parts.scope.date}' != '${day}', from '${parts.longDate}'.`,
    );
  if (problems.length > 0) throw familyError(family, "badSignature", problems.join(" "));
}

/**
 * The payload hash the client signed: its x-amz-content-sha256 (which may be UNSIGNED-PAYLOAD or
 * a streaming marker), else the body's hash; S3 presigned URLs never cover the payload. A hex
 * value must also match the body, or a client could sign one body and send another.
 */
function payloadHashOf(parts: SignedParts, body: Uint8Array, family: AuthFamily): string {
  const queryHash = parts.query["X-Amz-Content-Sha256"];
  const claimed =
    parts.mode === "header"
      ? parts.headers["x-amz-content-sha256"]
      : ((Array.isArray(queryHash) ? queryHash[0] : queryHash) ??
        (family === "s3" ? "UNSIGNED-PAYLOAD" : undefined));
  const actual = hash("sha256", body, "hex");
  if (claimed === undefined) return actual;
  if (/^[0-9a-fA-F]{64}$/.test(claimed) && claimed.toLowerCase() !== actual)
    throw familyError(family, "payloadMismatch");
  return claimed;
}

interface Resigner {
  canonicalRequestOf(
    request: HttpRequest,
    canonicalHeaders: Record<string, string>,
    payloadHash: string,
  ): string;
}

/**
 * The SDK's signer, required on first use: it pulls in @smithy/core's protocols, serde and
 * client (~60 ms of CPU at every `privlink up`), and only a request whose canonical path or
 * query is not the bare `/` needs it.
 */
function newResigner(uriEscapePath: boolean): Resigner {
  const { SignatureV4 } = createRequire(import.meta.url)("@smithy/signature-v4") as typeof SmithySignatureV4;
  /** Exposes the protected canonicalisation step of the SDK's own signer. */
  class SdkResigner extends SignatureV4 implements Resigner {
    canonicalRequestOf(request: HttpRequest, canonicalHeaders: Record<string, string>, payloadHash: string) {
      return this.createCanonicalRequest(request, canonicalHeaders, payloadHash);
    }
  }
  return new SdkResigner({
    service: "-",
    region: "-",
    credentials: { accessKeyId: "-", secretAccessKey: "-" },
    sha256: Sha256,
    uriEscapePath,
  });
}

/**
 * The canonicaliser, one per path-escaping rule: canonicalisation reads neither credentials nor
 * scope, so two instances serve every request (S3 signs the path exactly as sent; every other
 * service signs it encoded once more).
 */
const canonicalisers = new Map<boolean, Resigner>();

function canonicaliser(uriEscapePath: boolean): Resigner {
  let c = canonicalisers.get(uriEscapePath);
  if (!c) {
    c = newResigner(uriEscapePath);
    canonicalisers.set(uriEscapePath, c);
  }
  return c;
}

/**
 * A derived signing key with its HMAC pads: the four HMACs of the derivation and the pads are
 * the same for every request a client signs that day.
 */
interface SigningKey {
  readonly key: Buffer;
  /** K ^ ipad, one SHA-256 block (a 32-byte key is zero-padded, not hashed). */
  readonly inner: Buffer;
  /** K ^ opad, with 32 spare bytes for the inner digest. */
  readonly outer: Buffer;
}

const SHA256_BLOCK = 64;

/**
 * Signing keys by secret, day, region and service. Bounded; a secret that changes derives a new
 * key (the secret is part of the cache key), so nothing stale can verify. The last one is kept
 * apart as well: a client signs request after request with the same scope, and comparing four
 * strings costs less than building the map key.
 */
const signingKeys = new Map<string, SigningKey>();
const MAX_SIGNING_KEYS = 1024;
let lastKey: { secret: string; date: string; region: string; service: string; k: SigningKey } | undefined;

function signingKeyOf(secret: string, date: string, region: string, service: string): SigningKey {
  const last = lastKey;
  if (
    last !== undefined &&
    last.secret === secret &&
    last.date === date &&
    last.region === region &&
    last.service === service
  )
    return last.k;
  const id = `${secret}\0${date}\0${region}\0${service}`;
  let k = signingKeys.get(id);
  if (!k) {
    let key = Buffer.from(`AWS4${secret}`, "utf8");
    for (const piece of [date, region, service, "aws4_request"])
      key = createHmac("sha256", key).update(piece).digest();
    const inner = Buffer.alloc(SHA256_BLOCK, 0x36);
    const outer = Buffer.alloc(SHA256_BLOCK + 32, 0x5c);
    for (let i = 0; i < key.length; i++) {
      inner[i] = key[i]! ^ 0x36;
      outer[i] = key[i]! ^ 0x5c;
    }
    k = { key, inner, outer };
    if (signingKeys.size >= MAX_SIGNING_KEYS) signingKeys.clear();
    signingKeys.set(id, k);
  }
  lastKey = { secret, date, region, service, k };
  return k;
}

function resign(parts: SignedParts, secret: string, payloadHash: string): string {
  const { scope } = parts;
  const credentialScope = `${scope.date}/${scope.region}/${scope.service}/${parts.terminator}`;
  const canonical = bareCanonicalRequest(parts, payloadHash) ?? canonicalRequest(parts, payloadHash);
  const stringToSign = `${ALGORITHM_IDENTIFIER}\n${parts.longDate}\n${credentialScope}\n${hash("sha256", canonical, "hex")}`;
  return hmacHex(signingKeyOf(secret, scope.date, scope.region, scope.service), stringToSign);
}

/**
 * The canonical request of a POST to `/` with no query whose signed headers are listed as every
 * SDK lists them (lowercase, sorted, each once, each present): the text `canonicalRequest` makes,
 * written in one pass over the list without a map of the headers. Undefined for anything else.
 */
function bareCanonicalRequest(parts: SignedParts, payloadHash: string): string | undefined {
  if (parts.path !== "/" || !isEmpty(parts.query)) return undefined;
  const names = parts.signedHeaders;
  if (names.length === 0) return undefined;
  let lines = "";
  let prev = "";
  for (const name of names) {
    const value = parts.headers[name];
    if (name <= prev || value === undefined) return undefined;
    lines += `${name}:${canonicalValue(value)}\n`;
    prev = name;
  }
  return bareText(parts.method, lines, names, payloadHash);
}

/** A bare POST's canonical request from its canonical header lines (each ending in a newline). */
function bareText(
  method: string,
  headerLines: string,
  names: readonly string[],
  payloadHash: string,
): string {
  return `${method}\n/\n\n${headerLines}\n${names.join(";")}\n${payloadHash}`;
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

/**
 * HMAC-SHA-256 (RFC 2104) as two one-shot hashes over the key's pads, derived once per signing
 * key: H((K ^ opad) || H((K ^ ipad) || text)). The same digest as createHmac, without a keyed
 * object per request.
 */
function hmacHex(pads: SigningKey, text: string): string {
  const message = Buffer.allocUnsafe(SHA256_BLOCK + Buffer.byteLength(text, "utf8"));
  pads.inner.copy(message, 0);
  message.write(text, SHA256_BLOCK, "utf8");
  // The outer pad's last 32 bytes hold the inner digest: one buffer per request, no concat.
  const outer = Buffer.from(pads.outer);
  hash("sha256", message, "buffer").copy(outer, SHA256_BLOCK);
  return hash("sha256", outer, "hex");
}

/**
 * The SDK's canonical header value. Only ASCII space, tab, CR and LF count as whitespace: a
 * value of Unicode spaces (U+2000 …) is signed as it is, so `trim()` or `\s` would change it.
 * Most values need nothing, and the test allocates nothing.
 */
function canonicalValue(text: string): string {
  if (!/[\t\r\n]| {2}|^ | $/.test(text)) return text;
  return text
    .replace(/[\r\n]/g, " ")
    .replace(/[ \t]+/g, " ")
    .replace(/^ | $/g, "");
}

/**
 * The canonical request, through the SDK signer's own canonicaliser. The canonical headers are
 * what its getCanonicalHeaders gives for headers that are all signable: lowercased names, values
 * with CR/LF made spaces, space and tab runs folded to one space, then trimmed. A POST to `/`
 * with no query (most API calls) has the canonical path `/` and an empty canonical query under
 * either path-escaping rule, so its text is written here directly, term for term.
 */
function canonicalRequest(parts: SignedParts, payloadHash: string): string {
  const signed: Record<string, string> = Object.create(null);
  for (const name of parts.signedHeaders) {
    const value = parts.headers[name.toLowerCase()];
    if (value !== undefined) signed[name.toLowerCase()] = canonicalValue(value);
  }
  const names = Object.keys(signed).sort();
  if (parts.path === "/" && isEmpty(parts.query)) {
    let lines = "";
    for (const name of names) lines += `${name}:${signed[name]}\n`;
    return bareText(parts.method, lines, names, payloadHash);
  }
  // The canonicaliser reads method, path and query only: a plain request-shaped object will do.
  const request = { method: parts.method, path: parts.path, query: parts.query, headers: signed };
  return canonicaliser(authFamilyOf(parts.scope.service) !== "s3").canonicalRequestOf(
    request as HttpRequest,
    signed,
    payloadHash,
  );
}

/**
 * Constant time over the expected signature's length: every character is compared whatever
 * the first difference (a signature is 64 hex characters, so char codes compare what bytes would).
 */
function sameSignature(expected: string, given: string): boolean {
  let diff = expected.length ^ given.length;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ given.charCodeAt(i);
  return diff === 0;
}
