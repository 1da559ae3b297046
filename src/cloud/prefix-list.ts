/**
 * AWS-managed prefix lists (the address ranges of S3 and DynamoDB in a region). They are
 * read-only catalog data: gateway endpoints route them, security group rules reference them,
 * and DescribePrefixLists / DescribeManagedPrefixLists list them.
 */
import { awsPrefixLists, type ManagedPrefixList } from "./catalog.js";
import type { Ctx } from "./context.js";
import { AwsError } from "./errors.js";
import { registerPrefixLists } from "./security-group.js";

export type { ManagedPrefixList } from "./catalog.js";

/** AWS-managed lists carry this owner instead of an account ID. */
export const AWS_PREFIX_LIST_OWNER = "AWS";

export function prefixListsOf(ctx: Pick<Ctx, "region">): readonly ManagedPrefixList[] {
  return awsPrefixLists(ctx.region);
}

export function findPrefixList(ctx: Pick<Ctx, "region">, id: string): ManagedPrefixList | undefined {
  return prefixListsOf(ctx).find((p) => p.id === id);
}

/** The prefix list a gateway endpoint routes: the one named like its service. */
export function prefixListForService(region: string, serviceName: string): ManagedPrefixList | undefined {
  return awsPrefixLists(region).find((p) => p.name === serviceName);
}

export function getPrefixList(ctx: Pick<Ctx, "region">, id: string | undefined): ManagedPrefixList {
  if (id !== undefined && !/^pl-[0-9a-f]{8}([0-9a-f]{9})?$/.test(id))
    throw new AwsError("InvalidPrefixListID.Malformed", `The prefix list ID '${id}' is malformed`);
  const found = id === undefined ? undefined : findPrefixList(ctx, id);
  if (!found)
    throw new AwsError("InvalidPrefixListID.NotFound", `The prefix list ID '${id ?? ""}' does not exist`);
  return found;
}

export function prefixListArn(p: ManagedPrefixList): string {
  return `arn:aws:ec2:${p.region}:aws:prefix-list/${p.id}`;
}

registerPrefixLists((_tx, ctx, id) => findPrefixList(ctx, id) !== undefined);
