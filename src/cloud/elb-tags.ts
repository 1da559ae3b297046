import type { Ctx } from "./context.js";
import { validation } from "./elb-common.js";
import { getListener } from "./elb-listener.js";
import { AwsError } from "./errors.js";
import { getLoadBalancer } from "./load-balancer.js";
import type { Tx } from "./state.js";
import { validateTags } from "./tags.js";
import { getTargetGroup } from "./target-group.js";
import type { Listener, LoadBalancer, Tags, TargetGroup } from "./types.js";

/** Tags on any ELBv2 resource by ARN (AddTags, RemoveTags, DescribeTags). */

export type ElbResource =
  | { kind: "loadBalancer"; obj: LoadBalancer }
  | { kind: "targetGroup"; obj: TargetGroup }
  | { kind: "listener"; obj: Listener };

/** Any ELBv2 resource the caller owns, by ARN (AddTags, RemoveTags, DescribeTags). */
export function elbResource(tx: Tx, ctx: Ctx, arn: string): ElbResource {
  if (arn.includes(":loadbalancer/")) return { kind: "loadBalancer", obj: getLoadBalancer(tx, ctx, arn) };
  if (arn.includes(":targetgroup/")) return { kind: "targetGroup", obj: getTargetGroup(tx, ctx, arn) };
  if (arn.includes(":listener/")) return { kind: "listener", obj: getListener(tx, ctx, arn) };
  throw validation(`'${arn}' is not a valid load balancer, target group or listener ARN`);
}

const MAX_TAGS = 50;

export function addElbTags(
  tx: Tx,
  ctx: Ctx,
  arns: readonly string[],
  tags: readonly { key?: string; value?: string }[],
): void {
  const keys = tags.map((t) => t.key ?? "");
  const dup = keys.find((k, i) => keys.indexOf(k) !== i);
  if (dup !== undefined)
    throw new AwsError("DuplicateTagKeys", `Tag key was specified more than once: ${dup}`);
  const add = validateTags(tags);
  for (const r of arns.map((a) => elbResource(tx, ctx, a))) {
    const next = { ...r.obj.tags, ...add };
    if (Object.keys(next).length > MAX_TAGS)
      throw new AwsError(
        "TooManyTags",
        `The quota for the number of tags that can be assigned to a resource (${MAX_TAGS}) has been reached`,
      );
    putTags(tx, r, next);
  }
}

export function removeElbTags(tx: Tx, ctx: Ctx, arns: readonly string[], keys: readonly string[]): void {
  for (const r of arns.map((a) => elbResource(tx, ctx, a)))
    putTags(tx, r, Object.fromEntries(Object.entries(r.obj.tags).filter(([k]) => !keys.includes(k))));
}

function putTags(tx: Tx, r: ElbResource, tags: Tags): void {
  if (r.kind === "loadBalancer") tx.put("loadBalancer", { ...r.obj, tags });
  else if (r.kind === "targetGroup") tx.put("targetGroup", { ...r.obj, tags });
  else tx.put("listener", { ...r.obj, tags });
}
