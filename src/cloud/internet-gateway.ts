import type { Ctx } from "./context.js";
import { AwsError } from "./errors.js";
import { newId } from "./ids.js";
import { registerRouteTargets, removeRoutesTo } from "./route-table.js";
import type { Tx } from "./state.js";
import { registerTaggable } from "./tags.js";
import type { InternetGateway, Tags } from "./types.js";
import { getVpc } from "./vpc.js";

registerTaggable("igw", "internetGateway", "internet-gateway");

registerRouteTargets((tx, ctx, target, vpcId) => {
  if (target.kind !== "gateway" || !target.id.startsWith("igw-")) return false;
  const g = tx.get("internetGateway", target.id);
  if (!g || g.accountId !== ctx.accountId) return false;
  if (!g.attachments.some((a) => a.vpcId === vpcId))
    throw new AwsError(
      "InvalidParameterValue",
      `route table and network gateway ${g.id} belong to different networks`,
    );
  return true;
});

export function getInternetGateway(tx: Tx, ctx: Ctx, id: string | undefined): InternetGateway {
  const g = id ? tx.get("internetGateway", id) : undefined;
  if (!g || g.accountId !== ctx.accountId || g.region !== ctx.region)
    throw new AwsError(
      "InvalidInternetGatewayID.NotFound",
      `The internetGateway ID '${id ?? ""}' does not exist`,
    );
  return g;
}

export function createInternetGateway(tx: Tx, ctx: Ctx, tags: Tags): InternetGateway {
  return tx.put("internetGateway", {
    id: newId(ctx.rt, "igw"),
    accountId: ctx.accountId,
    region: ctx.region,
    tags,
    attachments: [],
  });
}

export function attachInternetGateway(
  tx: Tx,
  ctx: Ctx,
  id: string | undefined,
  vpcId: string | undefined,
): void {
  const g = getInternetGateway(tx, ctx, id);
  const vpc = getVpc(tx, ctx, vpcId);
  if (g.attachments.length > 0)
    throw new AwsError(
      "Resource.AlreadyAssociated",
      `resource ${g.id} is already attached to network ${g.attachments[0]!.vpcId}`,
    );
  if ([...tx.all("internetGateway")].some((o) => o.attachments.some((a) => a.vpcId === vpc.id)))
    throw new AwsError("InvalidParameterValue", `Network ${vpc.id} already has an internet gateway attached`);
  tx.put("internetGateway", { ...g, attachments: [{ vpcId: vpc.id, state: "available" }] });
}

export function detachInternetGateway(
  tx: Tx,
  ctx: Ctx,
  id: string | undefined,
  vpcId: string | undefined,
): void {
  const g = getInternetGateway(tx, ctx, id);
  if (!g.attachments.some((a) => a.vpcId === vpcId))
    throw new AwsError("Gateway.NotAttached", `resource ${g.id} is not attached to network ${vpcId ?? ""}`);
  // AWS refuses while routes use it (as blackholes would confuse); privlink drops them with it.
  removeRoutesTo(tx, g.id);
  tx.put("internetGateway", { ...g, attachments: [] });
}

export function deleteInternetGateway(tx: Tx, ctx: Ctx, id: string | undefined): void {
  const g = getInternetGateway(tx, ctx, id);
  if (g.attachments.length > 0)
    throw new AwsError(
      "DependencyViolation",
      `The internetGateway '${g.id}' has dependencies and cannot be deleted.`,
    );
  tx.delete("internetGateway", g.id);
}
