import { ensureSlot, hostAddressOf } from "./addressing.js";
import { parseIp } from "./cidr.js";
import { type Ctx, isoNow } from "./context.js";
import { AwsError } from "./errors.js";
import { newId } from "./ids.js";
import { checkGroupsInVpc, defaultGroupOf } from "./security-group.js";
import type { State, Tx } from "./state.js";
import { allocateIp } from "./subnet.js";
import { registerTaggable } from "./tags.js";
import type { Eni, Subnet, Tags } from "./types.js";
import { getVpc } from "./vpc.js";

registerTaggable("eni", "eni", "network-interface");

export function getEni(tx: Tx, ctx: Ctx, id: string | undefined): Eni {
  const e = id ? tx.get("eni", id) : undefined;
  if (!e || e.accountId !== ctx.accountId || e.region !== ctx.region)
    throw new AwsError(
      "InvalidNetworkInterfaceID.NotFound",
      `The networkInterface ID '${id ?? ""}' does not exist`,
    );
  return e;
}

export interface EniInput {
  subnet: Subnet;
  securityGroupIds?: readonly string[];
  description?: string;
  privateIp?: string;
  interfaceType?: Eni["interfaceType"];
  requesterId?: string;
  tags?: Tags;
}

/**
 * Makes an ENI with an address from its subnet and gives the VPC block a host-address slot,
 * so that the address is a real listening address on this host from the start.
 */
export function createEni(tx: Tx, ctx: Ctx, input: EniInput): Eni {
  const { subnet } = input;
  const groups = input.securityGroupIds?.length
    ? [...input.securityGroupIds]
    : [defaultGroupOf(tx, subnet.vpcId).id];
  checkGroupsInVpc(tx, ctx, groups, subnet.vpcId);
  const privateIp = allocateIp(tx, subnet, input.privateIp);
  ensureSlot(tx, ctx, getVpc(tx, ctx, subnet.vpcId), parseIp(privateIp)!);
  const requesterManaged = input.requesterId !== undefined;
  return tx.put("eni", {
    id: newId(ctx.rt, "eni"),
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    vpcId: subnet.vpcId,
    subnetId: subnet.id,
    az: subnet.az,
    privateIp,
    securityGroupIds: groups,
    interfaceType: input.interfaceType ?? "interface",
    requesterManaged,
    requesterId: input.requesterId,
    description: input.description ?? "",
    macAddress: macFor(ctx),
    status: requesterManaged ? "in-use" : "available",
  });
}

function macFor(ctx: Ctx): string {
  const h = ctx.rt.hex(10);
  return `0e:${h.match(/../g)!.join(":")}`;
}

export function attachEni(tx: Tx, ctx: Ctx, eni: Eni, instanceId: string, deviceIndex: number): Eni {
  return tx.put("eni", {
    ...eni,
    status: "in-use",
    attachment: { id: newId(ctx.rt, "eni-attach"), instanceId, deviceIndex, attachedAt: isoNow(ctx) },
  });
}

export function deleteEniRecord(tx: Tx, id: string): void {
  tx.delete("eni", id);
}

/** The host address an ENI listens and connects on. */
export function eniHostAddress(state: State | Tx, eni: Eni): string | undefined {
  const vpc = state.get("vpc", eni.vpcId);
  return vpc ? hostAddressOf(vpc, eni.privateIp) : undefined;
}
