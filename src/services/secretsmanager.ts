/**
 * A built-in AWS Secrets Manager (awsJson1_1), reachable through the public edge and through
 * interface endpoints. Every action resolves its secret first and then calls the front's
 * authorization hook with the secret's ARN, so endpoint policies and the secret's resource
 * policy see the same resource AWS would evaluate.
 *
 * Choices where AWS is silent or unknown here: ListSecrets sorts by creation date, newest first,
 * unless SortOrder/SortBy say otherwise; the six-character ARN suffix is lowercase
 * alphanumerics; versions that lose all their stages are kept (up to 100, oldest dropped first).
 */
import type { Call, HandlerTable } from "../api/handler.js";
import type { Ctx } from "../cloud/context.js";
import { AwsError } from "../cloud/errors.js";
import { registerLifecycleStep } from "../cloud/lifecycle.js";
import type { Tx } from "../cloud/state.js";
import type { Secret, SecretVersion, Tags } from "../cloud/types.js";
import { authorize } from "../front/authorize.js";
import { parsePolicy } from "../iam/index.js";

const CURRENT = "AWSCURRENT";
const PREVIOUS = "AWSPREVIOUS";
const MAX_VALUE_BYTES = 65_536;
const MAX_KEPT_VERSIONS = 100;
const DAY_MS = 86_400_000;
const NAME_CHARS = /^[A-Za-z0-9/_+=.@!-]{1,512}$/;
const TAG_LIMIT = 50;

const NOT_FOUND = "Secrets Manager can't find the specified secret.";
const MARKED_FOR_DELETION =
  "You can't perform this operation on the secret because it was marked for deletion.";

const invalidParameter = (message: string) => new AwsError("InvalidParameterException", message);
const invalidRequest = (message: string) => new AwsError("InvalidRequestException", message);
const notFound = (message = NOT_FOUND) => new AwsError("ResourceNotFoundException", message);

// ---- lookup and authorization -------------------------------------------------------------

/** A SecretId is a name (in the caller's account and region), a full ARN or a partial ARN. */
function findSecret(tx: Tx, ctx: Ctx, secretId: string): Secret | undefined {
  const now = ctx.rt.now().getTime();
  const live = (s: Secret | undefined) =>
    s && !(s.deletionDate !== undefined && Date.parse(s.deletionDate) <= now) ? s : undefined;
  if (secretId.startsWith("arn:")) {
    const exact = live(tx.get("secret", secretId));
    if (exact) return exact;
    const partial = /^arn:[^:]+:secretsmanager:([^:]+):(\d{12}):secret:(.+)$/.exec(secretId);
    if (!partial) return undefined;
    const [, region, account, name] = partial as unknown as [string, string, string, string];
    return live(secretNamed(tx, account, region, name));
  }
  return live(secretNamed(tx, ctx.accountId, ctx.region, secretId));
}

function secretNamed(tx: Tx, accountId: string, region: string, name: string): Secret | undefined {
  for (const s of tx.all("secret"))
    if (s.name === name && s.accountId === accountId && s.region === region) return s;
  return undefined;
}

/** The ARN a policy is evaluated against when the secret does not exist (no random suffix). */
function idArn(ctx: Ctx, secretId: string): string {
  return secretId.startsWith("arn:")
    ? secretId
    : `arn:aws:secretsmanager:${ctx.region}:${ctx.accountId}:secret:${secretId}`;
}

function check(ctx: Ctx, secret: Secret | undefined, secretId: string): void {
  authorize(ctx, {
    action: `secretsmanager:${ctx.action ?? "Unknown"}`,
    resource: secret?.id ?? idArn(ctx, secretId),
    resourceAccount: secret?.accountId,
    resourcePolicy: secret?.resourcePolicy,
  });
}

/** Authorizes, then resolves: a caller the policies deny never learns whether the secret exists. */
function secretFor(call: Call, opts: { allowDeleted?: boolean } = {}): Secret {
  const secretId = requireString(call.input.SecretId, "SecretId");
  const secret = findSecret(call.tx, call.ctx, secretId);
  check(call.ctx, secret, secretId);
  if (!secret) throw notFound();
  if (secret.deletedAt !== undefined && !opts.allowDeleted) throw invalidRequest(MARKED_FOR_DELETION);
  return secret;
}

// ---- validation ---------------------------------------------------------------------------

function requireString(value: unknown, name: string): string {
  if (typeof value !== "string" || value === "")
    throw new AwsError(
      "ValidationException",
      `1 validation error detected: Value at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`,
    );
  return value;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function checkName(name: string): void {
  if (!NAME_CHARS.test(name))
    throw invalidParameter(
      "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!",
    );
}

function checkToken(token: unknown): string | undefined {
  if (token === undefined) return undefined;
  if (typeof token !== "string" || token.length < 32 || token.length > 64)
    throw new AwsError(
      "ValidationException",
      "1 validation error detected: Value at 'clientRequestToken' failed to satisfy constraint: Member must have length greater than or equal to 32",
    );
  return token;
}

interface SecretValue {
  readonly secretString?: string;
  readonly secretBinary?: string;
}

function secretValueOf(input: { SecretString?: string; SecretBinary?: Uint8Array }): SecretValue | undefined {
  const { SecretString: s, SecretBinary: b } = input;
  if (s !== undefined && b !== undefined)
    throw invalidParameter(
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  if (s === undefined && b === undefined) return undefined;
  const size = s !== undefined ? Buffer.byteLength(s) : b!.byteLength;
  if (size > MAX_VALUE_BYTES)
    throw invalidParameter(`The secret value can't be larger than ${MAX_VALUE_BYTES} bytes.`);
  return s !== undefined
    ? { secretString: s }
    : { secretBinary: Buffer.from(b!.buffer, b!.byteOffset, b!.byteLength).toString("base64") };
}

function tagsOf(list: { Key?: string; Value?: string }[] | undefined): Tags {
  const tags: Tags = {};
  for (const t of list ?? []) {
    if (!t.Key) throw invalidParameter("You must specify a tag key.");
    if (t.Key.length > 128) throw invalidParameter("The tag key can't be longer than 128 characters.");
    if ((t.Value ?? "").length > 256)
      throw invalidParameter("The tag value can't be longer than 256 characters.");
    if (t.Key.toLowerCase().startsWith("aws:"))
      throw invalidParameter("The tag key can't start with the reserved prefix aws:.");
    tags[t.Key] = t.Value ?? "";
  }
  return tags;
}

function withTags(secret: Secret, tags: Tags): Tags {
  const merged = { ...secret.tags, ...tags };
  if (Object.keys(merged).length > TAG_LIMIT)
    throw new AwsError("LimitExceededException", `A secret can have at most ${TAG_LIMIT} tags.`);
  return merged;
}

// ---- versions and stages ------------------------------------------------------------------

function newVersionId(ctx: Ctx): string {
  const h = ctx.rt.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function sameValue(v: SecretVersion, value: SecretValue): boolean {
  return v.secretString === value.secretString && v.secretBinary === value.secretBinary;
}

/**
 * Adds a version carrying `stages` and moves those stages off every other version. Moving
 * AWSCURRENT gives the old current version AWSPREVIOUS. A retried token with the same value is
 * a no-op; with another value it is an error, as versions never change.
 */
function addVersion(
  ctx: Ctx,
  secret: Secret,
  token: string | undefined,
  value: SecretValue,
  stages: readonly string[] = [CURRENT],
): { secret: Secret; version: SecretVersion } {
  const existing = token === undefined ? undefined : secret.versions.find((v) => v.versionId === token);
  if (existing) {
    if (!sameValue(existing, value))
      throw new AwsError(
        "ResourceExistsException",
        "You can't modify an existing version, you can only create a new version.",
      );
    return { secret, version: existing };
  }
  const moving = new Set(stages);
  const oldCurrent = moving.has(CURRENT)
    ? secret.versions.find((v) => v.stages.includes(CURRENT))
    : undefined;
  if (oldCurrent) moving.add(PREVIOUS);
  const now = ctx.rt.now().toISOString();
  let versions = secret.versions.map((v) => {
    const kept = v.stages.filter((s) => !moving.has(s));
    const next = v === oldCurrent ? [...kept, PREVIOUS] : kept;
    return next.length === v.stages.length && next.every((s, i) => s === v.stages[i])
      ? v
      : { ...v, stages: next };
  });
  const version: SecretVersion = {
    versionId: token ?? newVersionId(ctx),
    ...value,
    stages: [...new Set(stages)],
    createdAt: now,
  };
  versions = pruneVersions([...versions, version]);
  return { secret: { ...secret, versions, lastChangedAt: now }, version };
}

function pruneVersions(versions: SecretVersion[]): SecretVersion[] {
  let excess = versions.length - MAX_KEPT_VERSIONS;
  return excess <= 0 ? versions : versions.filter((v) => v.stages.length > 0 || excess-- <= 0);
}

function stagesMap(secret: Secret): Record<string, string[]> | undefined {
  const staged = secret.versions.filter((v) => v.stages.length > 0);
  return staged.length === 0
    ? undefined
    : Object.fromEntries(staged.map((v) => [v.versionId, [...v.stages]]));
}

// ---- shapes -------------------------------------------------------------------------------

const date = (iso: string | undefined) => (iso === undefined ? undefined : new Date(iso));

function tagList(tags: Tags) {
  const list = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  return list.length === 0 ? undefined : list;
}

function describeShape(secret: Secret) {
  return {
    ARN: secret.id,
    Name: secret.name,
    Description: secret.description,
    KmsKeyId: secret.kmsKeyId,
    LastChangedDate: date(secret.lastChangedAt),
    LastAccessedDate: date(secret.lastAccessedAt),
    DeletedDate: date(secret.deletedAt),
    Tags: tagList(secret.tags),
    CreatedDate: date(secret.createdAt),
  };
}

const idShape = (secret: Secret) => ({ ARN: secret.id, Name: secret.name });

// ---- ListSecrets filters ------------------------------------------------------------------

const FILTER_KEYS = [
  "all",
  "name",
  "tag-key",
  "description",
  "primary-region",
  "owning-service",
  "tag-value",
];

function fieldsFor(secret: Secret, key: string): string[] {
  const tagKeys = Object.keys(secret.tags);
  const tagValues = Object.values(secret.tags);
  switch (key) {
    case "name":
      return [secret.name];
    case "description":
      return secret.description === undefined ? [] : [secret.description];
    case "tag-key":
      return tagKeys;
    case "tag-value":
      return tagValues;
    case "primary-region":
    case "owning-service":
      return [];
    default:
      return [
        secret.name,
        ...(secret.description === undefined ? [] : [secret.description]),
        ...tagKeys,
        ...tagValues,
      ];
  }
}

/**
 * Values match by prefix; a leading `!` negates. Within a filter the values are ORed, except
 * that negated values must all hold; filters are ANDed.
 */
function compileListFilters(
  filters: { Key?: string; Values?: string[] }[] | undefined,
): (s: Secret) => boolean {
  const compiled = (filters ?? []).map((f, i) => {
    if (!f.Key || !FILTER_KEYS.includes(f.Key))
      throw new AwsError(
        "ValidationException",
        `1 validation error detected: Value '${f.Key ?? ""}' at 'filters.${i + 1}.member.key' failed to satisfy constraint: Member must satisfy enum value set: [${FILTER_KEYS.join(", ")}]`,
      );
    const values = f.Values ?? [];
    if (values.length === 0 || values.length > 10)
      throw invalidParameter("A filter must have between 1 and 10 values.");
    const positive = values.filter((v) => !v.startsWith("!"));
    const negative = values.filter((v) => v.startsWith("!")).map((v) => v.slice(1));
    const key = f.Key;
    return (s: Secret) => {
      const fields = fieldsFor(s, key);
      const hit = (p: string) => fields.some((x) => x.startsWith(p));
      return (positive.length === 0 || positive.some(hit)) && !negative.some(hit);
    };
  });
  return (s) => compiled.every((f) => f(s));
}

const SORT_FIELDS: Record<string, (s: Secret) => string> = {
  "created-date": (s) => s.createdAt,
  "last-accessed-date": (s) => s.lastAccessedAt ?? "",
  "last-changed-date": (s) => s.lastChangedAt,
  name: (s) => s.name,
};

function encodeToken(offset: number): string {
  return Buffer.from(`sm1.${offset}`, "latin1").toString("base64url");
}

function decodeToken(token: string | undefined): number {
  if (token === undefined || token === "") return 0;
  const m = /^sm1\.(\d+)$/.exec(Buffer.from(token, "base64url").toString("latin1"));
  if (!m) throw new AwsError("InvalidNextTokenException", "The NextToken value is invalid.");
  return Number(m[1]);
}

// ---- handlers -----------------------------------------------------------------------------

function createSecret({ tx, ctx, input }: Call) {
  const name = requireString(input.Name, "Name");
  check(ctx, undefined, name);
  checkName(name);
  const token = checkToken(input.ClientRequestToken);
  const value = secretValueOf(input);
  const tags = tagsOf(input.Tags);
  const existing = secretNamed(tx, ctx.accountId, ctx.region, name);
  if (existing) return retryOfCreate(existing, token, value, name);
  const now = ctx.rt.now().toISOString();
  const secret: Secret = {
    id: `arn:aws:secretsmanager:${ctx.region}:${ctx.accountId}:secret:${name}-${ctx.rt.alnum(6)}`,
    accountId: ctx.accountId,
    region: ctx.region,
    tags,
    name,
    description: input.Description,
    kmsKeyId: input.KmsKeyId,
    versions: [],
    createdAt: now,
    lastChangedAt: now,
  };
  return saveWithValue(tx, ctx, secret, token, value);
}

/** CreateSecret and UpdateSecret store the secret, adding a version only when a value came along. */
function saveWithValue(
  tx: Tx,
  ctx: Ctx,
  secret: Secret,
  token: string | undefined,
  value: SecretValue | undefined,
) {
  const added = value ? addVersion(ctx, secret, token, value) : undefined;
  const saved = tx.put("secret", added?.secret ?? secret);
  return { ...idShape(saved), VersionId: added?.version.versionId };
}

/** CreateSecret retried with the same token and value answers as the first call did. */
function retryOfCreate(
  existing: Secret,
  token: string | undefined,
  value: SecretValue | undefined,
  name: string,
) {
  if (existing.deletedAt !== undefined)
    throw invalidRequest(
      "You can't create this secret because a secret with this name is already scheduled for deletion.",
    );
  const version = token === undefined ? undefined : existing.versions.find((v) => v.versionId === token);
  if (version && value && sameValue(version, value))
    return { ...idShape(existing), VersionId: version.versionId };
  throw new AwsError(
    "ResourceExistsException",
    `The operation failed because the secret ${name} already exists.`,
  );
}

function getSecretValue(call: Call) {
  const { tx, ctx, input } = call;
  let secret = secretFor(call);
  const version = pickVersion(secret, input.VersionId, input.VersionStage);
  const today = new Date(Math.floor(ctx.rt.now().getTime() / DAY_MS) * DAY_MS).toISOString();
  // AWS records the access date only, so a secret read all day is written once.
  if (secret.lastAccessedAt !== today) secret = tx.put("secret", { ...secret, lastAccessedAt: today });
  return {
    ...idShape(secret),
    VersionId: version.versionId,
    SecretString: version.secretString,
    SecretBinary:
      version.secretBinary === undefined ? undefined : Buffer.from(version.secretBinary, "base64"),
    VersionStages: [...version.stages],
    CreatedDate: new Date(version.createdAt),
  };
}

function pickVersion(
  secret: Secret,
  versionId: string | undefined,
  stage: string | undefined,
): SecretVersion {
  if (versionId !== undefined) {
    const v = secret.versions.find((x) => x.versionId === versionId);
    if (!v)
      throw notFound(`Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
    if (stage !== undefined && !v.stages.includes(stage))
      throw invalidParameter(`You provided a VersionStage that is not associated to the provided VersionId.`);
    return v;
  }
  const wanted = stage ?? CURRENT;
  const v = secret.versions.find((x) => x.stages.includes(wanted));
  if (!v)
    throw notFound(`Secrets Manager can't find the specified secret value for staging label: ${wanted}`);
  return v;
}

function putSecretValue(call: Call) {
  const { tx, ctx, input } = call;
  const secret = secretFor(call);
  const value = secretValueOf(input);
  if (!value) throw invalidParameter("You must provide either SecretString or SecretBinary.");
  const stages: string[] | undefined = input.VersionStages;
  if (stages !== undefined && stages.length === 0)
    throw invalidParameter("You must specify at least one staging label.");
  const added = addVersion(ctx, secret, checkToken(input.ClientRequestToken), value, stages);
  if (added.secret !== secret) tx.put("secret", added.secret);
  return { ...idShape(secret), VersionId: added.version.versionId, VersionStages: [...added.version.stages] };
}

function updateSecret(call: Call) {
  const { tx, ctx, input } = call;
  let secret = secretFor(call);
  const value = secretValueOf(input);
  const token = checkToken(input.ClientRequestToken);
  const now = ctx.rt.now().toISOString();
  if (input.Description !== undefined || input.KmsKeyId !== undefined)
    secret = {
      ...secret,
      description: input.Description ?? secret.description,
      kmsKeyId: input.KmsKeyId ?? secret.kmsKeyId,
      lastChangedAt: now,
    };
  return saveWithValue(tx, ctx, secret, token, value);
}

function describeSecret(call: Call) {
  const secret = secretFor(call, { allowDeleted: true });
  return { ...describeShape(secret), VersionIdsToStages: stagesMap(secret) };
}

function listSecrets({ tx, ctx, input }: Call) {
  authorize(ctx, { action: "secretsmanager:ListSecrets", resource: "*" });
  const max = input.MaxResults ?? 100;
  if (!Number.isInteger(max) || max < 1 || max > 100)
    throw new AwsError(
      "ValidationException",
      `1 validation error detected: Value '${max}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100`,
    );
  const sortBy = input.SortBy ?? "created-date";
  const sortKey = SORT_FIELDS[sortBy];
  if (!sortKey) throw invalidParameter(`Invalid SortBy value: ${sortBy}`);
  const desc = (input.SortOrder ?? "desc") === "desc";
  const match = compileListFilters(input.Filters);
  const now = ctx.rt.now().getTime();
  const all = [...tx.all("secret")]
    .filter((s) => s.accountId === ctx.accountId && s.region === ctx.region)
    .filter((s) => s.deletionDate === undefined || Date.parse(s.deletionDate) > now)
    .filter((s) => input.IncludePlannedDeletion === true || s.deletedAt === undefined)
    .filter(match)
    .sort((a, b) => {
      const c = sortKey(a).localeCompare(sortKey(b)) || a.id.localeCompare(b.id);
      return desc ? -c : c;
    });
  const start = decodeToken(input.NextToken);
  const page = all.slice(start, start + max);
  return {
    SecretList: page.map((s) => ({ ...describeShape(s), SecretVersionsToStages: stagesMap(s) })),
    NextToken: start + max < all.length ? encodeToken(start + max) : undefined,
  };
}

function deleteSecret(call: Call) {
  const { tx, ctx, input } = call;
  const force = input.ForceDeleteWithoutRecovery === true;
  const window: number | undefined = input.RecoveryWindowInDays;
  if (force && window !== undefined)
    throw invalidParameter(
      "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
    );
  if (window !== undefined && (!Number.isInteger(window) || window < 7 || window > 30))
    throw invalidParameter("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).");
  const secret = secretFor(call, { allowDeleted: force });
  const now = ctx.rt.now();
  if (force) {
    tx.delete("secret", secret.id);
    return { ...idShape(secret), DeletionDate: now };
  }
  const deletionDate = new Date(now.getTime() + (window ?? 30) * DAY_MS);
  tx.put("secret", { ...secret, deletedAt: now.toISOString(), deletionDate: deletionDate.toISOString() });
  return { ...idShape(secret), DeletionDate: deletionDate };
}

function restoreSecret(call: Call) {
  const secret = secretFor(call, { allowDeleted: true });
  const { deletedAt: _d, deletionDate: _dd, ...rest } = secret;
  call.tx.put("secret", rest);
  return idShape(secret);
}

function tagResource(call: Call) {
  const secret = secretFor(call);
  const tags = tagsOf(call.input.Tags);
  call.tx.put("secret", { ...secret, tags: withTags(secret, tags) });
  return {};
}

function untagResource(call: Call) {
  const secret = secretFor(call);
  const keys: string[] = call.input.TagKeys ?? [];
  const tags = Object.fromEntries(Object.entries(secret.tags).filter(([k]) => !keys.includes(k)));
  call.tx.put("secret", { ...secret, tags });
  return {};
}

function putResourcePolicy(call: Call) {
  const secret = secretFor(call);
  const text = requireString(call.input.ResourcePolicy, "ResourcePolicy");
  const policy = parsePolicy(text, {
    kind: "resource",
    maxLength: 20_480,
    errorCode: "MalformedPolicyDocumentException",
  });
  if (call.input.BlockPublicPolicy === true && grantsPublicAccess(policy))
    throw new AwsError(
      "PublicPolicyException",
      "The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.",
    );
  call.tx.put("secret", { ...secret, resourcePolicy: text });
  return idShape(secret);
}

/** An unconditioned Allow to every principal is what BlockPublicPolicy refuses. */
function grantsPublicAccess(policy: ReturnType<typeof parsePolicy>): boolean {
  return policy.statements.some(
    (s) =>
      s.effect === "Allow" &&
      s.condition === undefined &&
      JSON.stringify(s.principal ?? null).match(/^"\*"$|"AWS":(\["\*"\]|"\*")/) !== null,
  );
}

function getResourcePolicy(call: Call) {
  const secret = secretFor(call, { allowDeleted: true });
  return { ...idShape(secret), ResourcePolicy: secret.resourcePolicy };
}

function deleteResourcePolicy(call: Call) {
  const secret = secretFor(call);
  const { resourcePolicy: _p, ...rest } = secret;
  call.tx.put("secret", rest);
  return idShape(secret);
}

export const secretsManagerHandlers: HandlerTable = {
  CreateSecret: createSecret,
  GetSecretValue: getSecretValue,
  PutSecretValue: putSecretValue,
  UpdateSecret: updateSecret,
  DescribeSecret: describeSecret,
  ListSecrets: listSecrets,
  DeleteSecret: deleteSecret,
  RestoreSecret: restoreSecret,
  TagResource: tagResource,
  UntagResource: untagResource,
  PutResourcePolicy: putResourcePolicy,
  GetResourcePolicy: getResourcePolicy,
  DeleteResourcePolicy: deleteResourcePolicy,
};

/** Secrets past their recovery window are purged for good. */
registerLifecycleStep((tx, rt) => {
  const now = rt.now().getTime();
  for (const s of [...tx.all("secret")])
    if (s.deletionDate !== undefined && Date.parse(s.deletionDate) <= now) tx.delete("secret", s.id);
});
