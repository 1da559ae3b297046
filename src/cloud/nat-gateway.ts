import { type Ctx, isoNow } from "./context.js";
import { createEni } from "./eni.js";
import { AwsError, invalidParameterValue } from "./errors.js";
import { isIdOf, newId } from "./ids.js";
import { allocatePublicIp } from "./instance-address.js";
import { registerLifecycleStep } from "./lifecycle.js";
import { registerRouteTargets } from "./route-table.js";
import type { Tx } from "./state.js";
import { getSubnet } from "./subnet.js";
import { registerTaggable } from "./tags.js";
import type { NatGateway, Tags } from "./types.js";
import { registerVpcDependents } from "./vpc.js";

registerTaggable("nat", "natGateway", "natgateway");

/** Deleted NAT gateways stay visible for about an hour, as on AWS. */
export const DELETED_NAT_RETENTION_MS = 60 * 60 * 1000;

registerRouteTargets((tx, ctx, target, vpcId) => {
  if (target.kind !== "nat") return false;
  const nat = tx.get("natGateway", target.id);
  if (!nat || nat.accountId !== ctx.accountId || nat.state === "deleted" || nat.state === "deleting")
    throw new AwsError("InvalidNatGatewayID.NotFound", `The natGateway ID '${target.id}' does not exist`);
  if (nat.vpcId !== vpcId)
    throw new AwsError(
      "InvalidParameterValue",
      `route table and NAT gateway ${nat.id} belong to different networks`,
    );
  return true;
});

registerVpcDependents((tx, vpc) =>
  [...tx.all("natGateway")].filter((n) => n.vpcId === vpc.id && n.state !== "deleted").map((n) => n.id),
);

export function getNatGateway(tx: Tx, ctx: Ctx, id: string | undefined): NatGateway {
  if (id !== undefined && !isIdOf("nat", id))
    throw new AwsError("InvalidNatGatewayID.Malformed", `Invalid id: "${id}" (expecting "nat-...")`);
  const n = id ? tx.get("natGateway", id) : undefined;
  if (!n || n.accountId !== ctx.accountId || n.region !== ctx.region)
    throw new AwsError("NatGatewayNotFound", `The Nat Gateway ${id ?? ""} was not found`);
  return n;
}

export interface NatGatewayInput {
  subnetId?: string;
  connectivityType?: string;
  allocationId?: string;
  privateIp?: string;
  clientToken?: string;
  tags?: Tags;
}

/**
 * A NAT gateway: an ENI in its subnet, `pending` until the next lifecycle run, then
 * `available`. privlink models no Elastic IPs, so a public gateway's AllocationId is optional
 * and its public address is made up from 198.18.0.0/15 (the benchmarking range, never routed).
 */
export function createNatGateway(tx: Tx, ctx: Ctx, input: NatGatewayInput): NatGateway {
  if (!input.subnetId)
    throw new AwsError("MissingParameter", "The request must contain the parameter SubnetId");
  const connectivityType = input.connectivityType ?? "public";
  if (connectivityType !== "public" && connectivityType !== "private")
    throw invalidParameterValue(
      `Value (${connectivityType}) for parameter connectivityType is invalid. Valid values are: public, private`,
    );
  if (connectivityType === "private" && input.allocationId)
    throw new AwsError(
      "InvalidParameterCombination",
      "AllocationId cannot be specified for a private NAT gateway",
    );
  if (input.clientToken) {
    const same = [...tx.all("natGateway")].find(
      (n) => n.accountId === ctx.accountId && n.clientToken === input.clientToken,
    );
    if (same) return same;
  }
  const subnet = getSubnet(tx, ctx, input.subnetId);
  const id = newId(ctx.rt, "nat");
  const eni = createEni(tx, ctx, {
    subnet,
    privateIp: input.privateIp,
    interfaceType: "nat_gateway",
    requesterId: "amazon-nat",
    description: `Interface for NAT Gateway ${id}`,
  });
  const publicIp = connectivityType === "public" ? allocatePublicIp(tx, ctx.rt) : undefined;
  return tx.put("natGateway", {
    id,
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    vpcId: subnet.vpcId,
    subnetId: subnet.id,
    eniId: eni.id,
    connectivityType,
    state: "pending",
    allocationId:
      connectivityType === "public" ? (input.allocationId ?? newId(ctx.rt, "eipalloc")) : undefined,
    publicIp,
    createdAt: isoNow(ctx),
    clientToken: input.clientToken,
  });
}

/** Deleting frees the interface at once; routes through the gateway turn into blackholes. */
export function deleteNatGateway(tx: Tx, ctx: Ctx, id: string | undefined): NatGateway {
  const n = getNatGateway(tx, ctx, id);
  if (n.state === "deleted" || n.state === "deleting") return n;
  tx.delete("eni", n.eniId);
  for (const rt of tx.all("routeTable")) {
    if (!rt.routes.some((r) => r.target.kind === "nat" && r.target.id === n.id)) continue;
    tx.put("routeTable", {
      ...rt,
      routes: rt.routes.map((r) =>
        r.target.kind === "nat" && r.target.id === n.id ? { ...r, state: "blackhole" as const } : r,
      ),
    });
  }
  return tx.put("natGateway", { ...n, state: "deleting", deletedAt: isoNow(ctx) });
}

registerLifecycleStep((tx, rt) => {
  const now = rt.now();
  for (const n of [...tx.all("natGateway")]) {
    if (n.state === "pending") tx.put("natGateway", { ...n, state: "available" });
    else if (n.state === "deleting") tx.put("natGateway", { ...n, state: "deleted" });
    else if (
      n.state === "deleted" &&
      n.deletedAt &&
      now.getTime() - Date.parse(n.deletedAt) >= DELETED_NAT_RETENTION_MS
    )
      tx.delete("natGateway", n.id);
  }
});
