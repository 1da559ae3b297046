/**
 * SSM Parameter Store (awsJson1_1, AmazonSSM): the parameter actions the AWS CLI's common use
 * needs. Parameters are in the caller's account and region; every action authorizes with the
 * parameter's ARN (endpoint policies see `arn:aws:ssm:<r>:<a>:parameter/<name>`).
 */
import type { Call, HandlerTable } from "../../api/handler.js";
import type { Ctx } from "../../cloud/context.js";
import { AwsError } from "../../cloud/errors.js";
import type { Tx } from "../../cloud/state.js";
import type { ParameterVersion, SsmParameter, Tags } from "../../cloud/types.js";
import { authorize } from "../../front/authorize.js";
import { HANDLER_AUTHORIZED } from "../../front/front.js";
import {
  checkName,
  checkPattern,
  checkValue,
  DEFAULT_KEY,
  invalidLabel,
  labelVersion,
  latest,
  type ParameterType,
  parameterArn,
  parameterNotFound,
  pickVersion,
  seal,
  splitSelector,
  TYPES,
  unseal,
  validation,
  withVersion,
} from "./rules.js";

const TIERS = ["Standard", "Advanced", "Intelligent-Tiering"];
const DATA_TYPES = ["text", "aws:ec2:image", "aws:ssm:integration"];

function check(ctx: Ctx, name: string, action = ctx.action ?? "Unknown"): void {
  authorize(ctx, { action: `ssm:${action}`, resource: parameterArn(ctx.region, ctx.accountId, name) });
}

/** A Name is a name or the parameter's ARN. */
function nameOf(ctx: Ctx, text: string): string {
  const m = /^arn:aws[a-z-]*:ssm:([^:]+):(\d{12}):parameter(\/.*)$/.exec(text);
  if (!m) return text;
  if (m[1] !== ctx.region || m[2] !== ctx.accountId) throw parameterNotFound();
  const path = m[3]!;
  // The ARN drops a name's leading slash only when the name is a path.
  return path.slice(1).includes("/") ? path : path.slice(1);
}

/** Parameters are keyed by their exact name: `/a` and `a` share an ARN but are two parameters. */
function keyOf(ctx: Ctx, name: string): string {
  return `${ctx.accountId}/${ctx.region}/${name}`;
}

function find(tx: Tx, ctx: Ctx, name: string): SsmParameter | undefined {
  return tx.get("ssmParameter", keyOf(ctx, name));
}

function plainValue(p: SsmParameter, v: ParameterVersion, decrypt: boolean): string {
  return v.type === "SecureString" && decrypt
    ? unseal(p.accountId, v.keyId ?? DEFAULT_KEY, v.value)
    : v.value;
}

function parameterShape(p: SsmParameter, v: ParameterVersion, decrypt: boolean, selector?: string) {
  return {
    Name: p.name,
    Type: v.type,
    Value: plainValue(p, v, decrypt),
    Version: v.version,
    Selector: selector === undefined ? undefined : `:${selector}`,
    LastModifiedDate: new Date(v.modifiedAt),
    ARN: parameterArn(p.region, p.accountId, p.name),
    DataType: v.dataType,
  };
}

function metadataShape(p: SsmParameter) {
  const v = latest(p);
  return {
    Name: p.name,
    ARN: parameterArn(p.region, p.accountId, p.name),
    Type: v.type,
    KeyId: v.type === "SecureString" ? (v.keyId ?? DEFAULT_KEY) : undefined,
    LastModifiedDate: new Date(v.modifiedAt),
    LastModifiedUser: v.modifiedBy,
    Description: v.description,
    AllowedPattern: v.allowedPattern,
    Version: v.version,
    Tier: v.tier,
    Policies: [],
    DataType: v.dataType,
  };
}

function tagsOf(list: { Key?: string; Value?: string }[] | undefined): Tags {
  const tags: Tags = {};
  for (const t of list ?? []) {
    if (!t.Key || t.Key.length > 128) throw validation("Tag keys must be between 1 and 128 characters.");
    tags[t.Key] = t.Value ?? "";
  }
  return tags;
}

function maxResults(value: unknown, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max)
    throw validation(
      `1 validation error detected: Value '${String(value)}' at 'maxResults' failed to satisfy constraint: Member must have value ${Number(value) < 1 ? "greater than or equal to 1" : `less than or equal to ${max}`}`,
    );
  return value;
}

function page<T>(items: T[], token: string | undefined, max: number): { items: T[]; NextToken?: string } {
  const start = token === undefined ? 0 : Number(Buffer.from(token, "base64url").toString("latin1").slice(4));
  if (!Number.isInteger(start) || start < 0)
    throw new AwsError("InvalidNextToken", "The specified token isn't valid.");
  return {
    items: items.slice(start, start + max),
    NextToken:
      start + max < items.length
        ? Buffer.from(`ssm.${start + max}`, "latin1").toString("base64url")
        : undefined,
  };
}

type Filter = { Key?: string; Option?: string; Values?: string[] };

/** ParameterFilters: Name, Type, KeyId, Path, Tier, DataType, Label, tag:<key>. */
function filterMatch(filters: Filter[] | undefined): (p: SsmParameter) => boolean {
  const tests = (filters ?? []).map((f) => {
    const key = f.Key ?? "";
    const values = f.Values ?? [];
    const option = f.Option ?? "Equals";
    const any = (actual: (string | undefined)[]) =>
      values.length === 0
        ? actual.some((a) => a !== undefined)
        : values.some((v) =>
            actual.some(
              (a) =>
                a !== undefined &&
                (option === "BeginsWith" ? a.startsWith(v) : option === "Contains" ? a.includes(v) : a === v),
            ),
          );
    return (p: SsmParameter) => {
      const v = latest(p);
      if (key === "Name") return any([p.name, p.name.replace(/^\//, "")]);
      if (key === "Type") return any([v.type]);
      if (key === "KeyId") return any([v.type === "SecureString" ? (v.keyId ?? DEFAULT_KEY) : undefined]);
      if (key === "Tier") return any([v.tier]);
      if (key === "DataType") return any([v.dataType]);
      if (key === "Label") return any(p.versions.flatMap((x) => x.labels));
      if (key === "Path")
        return values.some((path) => {
          const base = path.endsWith("/") ? path : `${path}/`;
          if (!p.name.startsWith(base)) return false;
          return option === "Recursive" || !p.name.slice(base.length).includes("/");
        });
      if (key.startsWith("tag:")) return any([p.tags[key.slice(4)]]);
      throw validation(
        `The following filter key is not valid: ${key}. Valid filter keys include: [Path, Name, Type, KeyId, Tier, Label, DataType, tag:].`,
      );
    };
  });
  return (p) => tests.every((t) => t(p));
}

// ---- handlers -----------------------------------------------------------------------------

function putParameter({ tx, ctx, input }: Call) {
  const name = checkName(nameOf(ctx, String(input.Name ?? "")));
  check(ctx, name);
  const existing = find(tx, ctx, name);
  const previous = existing ? latest(existing) : undefined;
  const type: ParameterType | undefined = input.Type ?? previous?.type;
  if (type === undefined) throw validation("A parameter type is required when you create a parameter.");
  if (!TYPES.includes(type))
    throw validation(
      `1 validation error detected: Value '${type}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [${TYPES.join(", ")}]`,
    );
  const tier =
    input.Tier === "Intelligent-Tiering"
      ? (previous?.tier ?? "Standard")
      : (input.Tier ?? previous?.tier ?? "Standard");
  if (!TIERS.includes(tier)) throw validation(`Invalid tier: ${tier}`);
  const value = checkValue(input.Value, tier);
  const dataType = input.DataType ?? previous?.dataType ?? "text";
  if (!DATA_TYPES.includes(dataType))
    throw validation(
      `The following data type is not supported: ${dataType} (Data type names are all lowercase.)`,
    );
  const allowedPattern = input.AllowedPattern ?? previous?.allowedPattern;
  checkPattern(value, allowedPattern);
  if (existing && input.Overwrite !== true)
    throw new AwsError(
      "ParameterAlreadyExists",
      "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
    );
  if (existing && input.Tags !== undefined)
    throw validation(
      "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
    );
  if (previous?.tier === "Advanced" && tier === "Standard")
    throw validation(
      "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier.",
    );
  if (input.KeyId !== undefined && type !== "SecureString")
    throw validation("KeyId is required for SecureString type parameter only.");
  const keyId = type === "SecureString" ? (input.KeyId ?? previous?.keyId ?? DEFAULT_KEY) : undefined;
  const version: ParameterVersion = {
    version: (previous?.version ?? 0) + 1,
    value: keyId ? seal(ctx.accountId, keyId, value) : value,
    type,
    description: input.Description ?? previous?.description,
    keyId,
    allowedPattern,
    dataType,
    tier,
    labels: [],
    modifiedAt: ctx.rt.now().toISOString(),
    modifiedBy: ctx.principalArn,
  };
  const base: SsmParameter = existing ?? {
    id: keyOf(ctx, name),
    accountId: ctx.accountId,
    region: ctx.region,
    tags: tagsOf(input.Tags),
    name,
    versions: [],
  };
  tx.put("ssmParameter", withVersion(base, version));
  return { Version: version.version, Tier: tier };
}

function getParameter({ tx, ctx, input }: Call) {
  const { name, selector } = splitSelector(String(input.Name ?? ""));
  const resolved = nameOf(ctx, name);
  check(ctx, resolved);
  const p = find(tx, ctx, resolved);
  if (!p) throw parameterNotFound();
  const v = pickVersion(p, selector);
  return { Parameter: parameterShape(p, v, input.WithDecryption === true, selector) };
}

function getParameters({ tx, ctx, input }: Call) {
  const names: string[] = input.Names ?? [];
  if (names.length === 0 || names.length > 10)
    throw validation(
      `1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length ${names.length === 0 ? "greater than or equal to 1" : "less than or equal to 10"}`,
    );
  const found: ReturnType<typeof parameterShape>[] = [];
  const invalid: string[] = [];
  for (const text of [...new Set(names)]) {
    const { name, selector } = splitSelector(text);
    const resolved = nameOf(ctx, name);
    check(ctx, resolved);
    const p = find(tx, ctx, resolved);
    try {
      if (!p) throw parameterNotFound();
      found.push(parameterShape(p, pickVersion(p, selector), input.WithDecryption === true, selector));
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      invalid.push(text);
    }
  }
  return { Parameters: found, InvalidParameters: invalid };
}

function getParametersByPath({ tx, ctx, input }: Call) {
  const path = String(input.Path ?? "");
  if (!path.startsWith("/"))
    throw validation(
      'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/".',
    );
  authorize(ctx, {
    action: "ssm:GetParametersByPath",
    resource: parameterArn(ctx.region, ctx.accountId, path === "/" ? "" : path),
  });
  const max = maxResults(input.MaxResults, 10, 10);
  const base = path.endsWith("/") ? path : `${path}/`;
  for (const f of (input.ParameterFilters ?? []) as Filter[])
    if (!["Type", "KeyId", "Label"].includes(f.Key ?? "") && !(f.Key ?? "").startsWith("tag:"))
      throw validation(
        `The following filter key is not valid: ${f.Key}. Valid filter keys include: [Type, KeyId, Label, tag:].`,
      );
  const match = filterMatch(input.ParameterFilters);
  const all = [...tx.all("ssmParameter")]
    .filter((p) => p.accountId === ctx.accountId && p.region === ctx.region)
    .filter((p) => p.name.startsWith(base))
    .filter((p) => input.Recursive === true || !p.name.slice(base.length).includes("/"))
    .filter(match)
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const { items, NextToken } = page(all, input.NextToken, max);
  return {
    Parameters: items.map((p) => parameterShape(p, latest(p), input.WithDecryption === true)),
    NextToken,
  };
}

function deleteParameter({ tx, ctx, input }: Call) {
  const name = nameOf(ctx, String(input.Name ?? ""));
  check(ctx, name);
  const p = find(tx, ctx, name);
  if (!p) throw parameterNotFound();
  tx.delete("ssmParameter", p.id);
  return {};
}

function deleteParameters({ tx, ctx, input }: Call) {
  const names: string[] = input.Names ?? [];
  if (names.length === 0 || names.length > 10)
    throw validation(
      "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length between 1 and 10",
    );
  const deleted: string[] = [];
  const invalid: string[] = [];
  for (const text of names) {
    const name = nameOf(ctx, text);
    check(ctx, name, "DeleteParameters");
    const p = find(tx, ctx, name);
    if (p) {
      tx.delete("ssmParameter", p.id);
      deleted.push(text);
    } else invalid.push(text);
  }
  return { DeletedParameters: deleted, InvalidParameters: invalid };
}

function describeParameters({ tx, ctx, input }: Call) {
  authorize(ctx, { action: "ssm:DescribeParameters", resource: "*" });
  const max = maxResults(input.MaxResults, 50, 50);
  const legacy = ((input.Filters ?? []) as { Key?: string; Values?: string[] }[]).map((f) => ({
    Key: f.Key,
    Option: f.Key === "Name" ? "BeginsWith" : "Equals",
    Values: f.Values,
  }));
  const match = filterMatch([...legacy, ...((input.ParameterFilters ?? []) as Filter[])]);
  const all = [...tx.all("ssmParameter")]
    .filter((p) => p.accountId === ctx.accountId && p.region === ctx.region)
    .filter(match)
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const { items, NextToken } = page(all, input.NextToken, max);
  return { Parameters: items.map(metadataShape), NextToken };
}

function getParameterHistory({ tx, ctx, input }: Call) {
  const name = nameOf(ctx, String(input.Name ?? ""));
  check(ctx, name);
  const p = find(tx, ctx, name);
  if (!p) throw parameterNotFound();
  const max = maxResults(input.MaxResults, 50, 50);
  const { items, NextToken } = page([...p.versions], input.NextToken, max);
  return {
    Parameters: items.map((v) => ({
      Name: p.name,
      Type: v.type,
      KeyId: v.keyId,
      LastModifiedDate: new Date(v.modifiedAt),
      LastModifiedUser: v.modifiedBy,
      Description: v.description,
      Value: plainValue(p, v, input.WithDecryption === true),
      AllowedPattern: v.allowedPattern,
      Version: v.version,
      Labels: [...v.labels],
      Tier: v.tier,
      Policies: [],
      DataType: v.dataType,
    })),
    NextToken,
  };
}

function labelParameterVersion({ tx, ctx, input }: Call) {
  const name = nameOf(ctx, String(input.Name ?? ""));
  check(ctx, name);
  const p = find(tx, ctx, name);
  if (!p) throw parameterNotFound();
  const labels: string[] = input.Labels ?? [];
  if (labels.length === 0 || labels.length > 10)
    throw validation(
      "1 validation error detected: Value at 'labels' failed to satisfy constraint: Member must have length between 1 and 10",
    );
  const invalid = labels.filter(invalidLabel);
  const version = input.ParameterVersion ?? latest(p).version;
  const valid = labels.filter((l) => !invalidLabel(l));
  if (valid.length > 0) tx.put("ssmParameter", labelVersion(p, version, valid));
  return { InvalidLabels: invalid, ParameterVersion: version };
}

function unlabelParameterVersion({ tx, ctx, input }: Call) {
  const name = nameOf(ctx, String(input.Name ?? ""));
  check(ctx, name);
  const p = find(tx, ctx, name);
  if (!p) throw parameterNotFound();
  const labels: string[] = input.Labels ?? [];
  const target = p.versions.find((v) => v.version === input.ParameterVersion);
  if (!target)
    throw new AwsError(
      "ParameterVersionNotFound",
      `Systems Manager could not find version ${input.ParameterVersion} of ${p.name}. Verify the version and try again.`,
    );
  const removed = labels.filter((l) => target.labels.includes(l));
  tx.put("ssmParameter", {
    ...p,
    versions: p.versions.map((v) =>
      v === target ? { ...v, labels: v.labels.filter((l) => !labels.includes(l)) } : v,
    ),
  });
  return { RemovedLabels: removed, InvalidLabels: labels.filter((l) => !removed.includes(l)) };
}

function parameterResource(
  tx: Tx,
  ctx: Ctx,
  input: { ResourceType?: string; ResourceId?: string },
): SsmParameter {
  if (input.ResourceType !== "Parameter")
    throw new AwsError(
      "InvalidResourceType",
      "The resource type isn't supported by privlink's SSM (only Parameter).",
    );
  const name = nameOf(ctx, String(input.ResourceId ?? ""));
  check(ctx, name);
  const p = find(tx, ctx, name);
  if (!p)
    throw new AwsError(
      "InvalidResourceId",
      "The resource ID isn't valid. Verify that you entered the correct ID and try again.",
    );
  return p;
}

function addTagsToResource({ tx, ctx, input }: Call) {
  const p = parameterResource(tx, ctx, input);
  tx.put("ssmParameter", { ...p, tags: { ...p.tags, ...tagsOf(input.Tags) } });
  return {};
}

function removeTagsFromResource({ tx, ctx, input }: Call) {
  const p = parameterResource(tx, ctx, input);
  const drop = new Set<string>(input.TagKeys ?? []);
  tx.put("ssmParameter", {
    ...p,
    tags: Object.fromEntries(Object.entries(p.tags).filter(([k]) => !drop.has(k))),
  });
  return {};
}

function listTagsForResource({ tx, ctx, input }: Call) {
  const p = parameterResource(tx, ctx, input);
  return { TagList: Object.entries(p.tags).map(([Key, Value]) => ({ Key, Value })) };
}

// Every handler authorizes with its resource's ARN (and policy): the front passes endpoint requests on.
HANDLER_AUTHORIZED.add("ssm");

export const ssmHandlers: HandlerTable = {
  PutParameter: putParameter,
  GetParameter: getParameter,
  GetParameters: getParameters,
  GetParametersByPath: getParametersByPath,
  DeleteParameter: deleteParameter,
  DeleteParameters: deleteParameters,
  DescribeParameters: describeParameters,
  GetParameterHistory: getParameterHistory,
  LabelParameterVersion: labelParameterVersion,
  UnlabelParameterVersion: unlabelParameterVersion,
  AddTagsToResource: addTagsToResource,
  RemoveTagsFromResource: removeTagsFromResource,
  ListTagsForResource: listTagsForResource,
};
