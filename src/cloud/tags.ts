import { AwsError, invalidParameterValue } from "./errors.js";
import type { Tx } from "./state.js";
import type { Kind, Tags } from "./types.js";

/**
 * Which kinds can be tagged, by ID prefix. Issues register their kinds here so that CreateTags,
 * DeleteTags and DescribeTags serve every taggable resource.
 */
interface Taggable {
  readonly prefix: string;
  readonly kind: Kind;
  readonly resourceType: string; // as in TagSpecification.ResourceType and DescribeTags
}

const taggables: Taggable[] = [];

export function registerTaggable(prefix: string, kind: Kind, resourceType: string): void {
  if (taggables.some((t) => t.prefix === prefix)) return;
  taggables.push({ prefix, kind, resourceType });
  // Longest prefix first: "vpce-svc-" must win over "vpce-".
  taggables.sort((a, b) => b.prefix.length - a.prefix.length);
}

export function taggableOf(id: string): Taggable | undefined {
  return taggables.find((t) => id.startsWith(`${t.prefix}-`));
}

export function taggableByType(resourceType: string): Taggable | undefined {
  return taggables.find((t) => t.resourceType === resourceType);
}

export interface TagSpec {
  readonly resourceType?: string;
  readonly tags: readonly { key?: string; value?: string }[];
}

export function validateTags(tags: readonly { key?: string; value?: string }[]): Tags {
  const out: Tags = {};
  for (const t of tags) {
    const key = t.key ?? "";
    if (key.length === 0) throw invalidParameterValue("Tag keys must not be empty");
    if (key.length > 128)
      throw invalidParameterValue(
        `Tag key exceeds the maximum length of 128 characters: ${key.slice(0, 20)}…`,
      );
    if (key.toLowerCase().startsWith("aws:"))
      throw invalidParameterValue(`Tag keys starting with 'aws:' are reserved for internal use`);
    const value = t.value ?? "";
    if (value.length > 256)
      throw invalidParameterValue(`Tag value exceeds the maximum length of 256 characters for key ${key}`);
    out[key] = value;
  }
  if (Object.keys(out).length > 50)
    throw new AwsError("TagLimitExceeded", "The maximum number of tags per resource (50) would be exceeded");
  return out;
}

/** The tags of a create call's TagSpecification for `resourceType`; others are an error as on AWS. */
export function tagsFromSpecs(specs: readonly TagSpec[] | undefined, resourceType: string): Tags {
  let tags: Tags = {};
  for (const s of specs ?? []) {
    if (s.resourceType !== resourceType)
      throw invalidParameterValue(
        `'${s.resourceType ?? ""}' is not a valid taggable resource type for this operation.`,
      );
    tags = { ...tags, ...validateTags(s.tags) };
  }
  return tags;
}

type TaggedObject = { id: string; accountId?: string; tags: Tags };

function taggedObject(tx: Tx, accountId: string, id: string): { t: Taggable; obj: TaggedObject } {
  const t = taggableOf(id);
  const obj = t && (tx.get(t.kind, id) as unknown as TaggedObject | undefined);
  if (!t || !obj || (obj.accountId !== undefined && obj.accountId !== accountId)) {
    const kindName = t ? t.resourceType : "resource";
    throw new AwsError(t ? notFoundCode(t.prefix) : "InvalidID", `The ${kindName} ID '${id}' does not exist`);
  }
  return { t, obj };
}

function notFoundCode(prefix: string): string {
  const codes: Record<string, string> = {
    vpc: "InvalidVpcID.NotFound",
    subnet: "InvalidSubnetID.NotFound",
    sg: "InvalidGroup.NotFound",
    rtb: "InvalidRouteTableID.NotFound",
    eni: "InvalidNetworkInterfaceID.NotFound",
    i: "InvalidInstanceID.NotFound",
    vpce: "InvalidVpcEndpointId.NotFound",
    "vpce-svc": "InvalidVpcEndpointServiceId.NotFound",
  };
  return codes[prefix] ?? "InvalidID";
}

export function createTags(tx: Tx, accountId: string, ids: readonly string[], tags: Tags): void {
  const found = ids.map((id) => taggedObject(tx, accountId, id));
  for (const { t, obj } of found) tx.put(t.kind, { ...obj, tags: { ...obj.tags, ...tags } } as never);
}

/** DeleteTags: a tag given with a value is removed only when the value matches; without, always. */
export function deleteTags(
  tx: Tx,
  accountId: string,
  ids: readonly string[],
  tags: readonly { key?: string; value?: string }[] | undefined,
): void {
  const found = ids.map((id) => taggedObject(tx, accountId, id));
  for (const { t, obj } of found) {
    const next: Tags = {};
    for (const [k, v] of Object.entries(obj.tags)) {
      const drop =
        tags === undefined ||
        tags.length === 0 ||
        tags.some((d) => d.key === k && (d.value === undefined || d.value === v));
      if (!drop) next[k] = v;
    }
    tx.put(t.kind, { ...obj, tags: next } as never);
  }
}

export interface TagDescription {
  readonly resourceId: string;
  readonly resourceType: string;
  readonly key: string;
  readonly value: string;
}

export function describeTags(tx: Tx, accountId: string, region: string): TagDescription[] {
  const out: TagDescription[] = [];
  for (const t of taggables) {
    for (const obj of tx.all(t.kind) as Iterable<TaggedObject & { region?: string }>) {
      if (obj.accountId !== accountId || (obj.region !== undefined && obj.region !== region)) continue;
      for (const [key, value] of Object.entries(obj.tags ?? {}))
        out.push({ resourceId: obj.id, resourceType: t.resourceType, key, value });
    }
  }
  return out.sort((a, b) => a.resourceId.localeCompare(b.resourceId) || a.key.localeCompare(b.key));
}
