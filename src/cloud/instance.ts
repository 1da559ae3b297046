import { type Ctx, isoNow } from "./context.js";
import { attachEni, createEni } from "./eni.js";
import { AwsError, invalidParameterValue } from "./errors.js";
import { newId } from "./ids.js";
import { allocatePublicIp } from "./instance-address.js";
import type { Tx } from "./state.js";
import { getSubnet } from "./subnet.js";
import { registerTaggable } from "./tags.js";
import type { Instance, Tags } from "./types.js";

registerTaggable("i", "instance", "instance");

/**
 * An instance in privlink is an identity with a network interface: no compute runs. Workloads
 * act as it through `privlink exec --from i-…`.
 */
export function getInstance(tx: Tx, ctx: Ctx, id: string | undefined): Instance {
  const i = id ? tx.get("instance", id) : undefined;
  if (!i || i.accountId !== ctx.accountId || i.region !== ctx.region)
    throw new AwsError("InvalidInstanceID.NotFound", `The instance ID '${id ?? ""}' does not exist`);
  return i;
}

export interface RunInput {
  imageId?: string;
  instanceType?: string;
  minCount?: number;
  maxCount?: number;
  subnetId?: string;
  securityGroupIds?: string[];
  privateIp?: string;
  keyName?: string;
  iamRoleArn?: string;
  tags?: Tags;
  eniTags?: Tags;
  /** The launch's AssociatePublicIpAddress; undefined takes the subnet's MapPublicIpOnLaunch. */
  associatePublicIp?: boolean;
}

export function runInstances(tx: Tx, ctx: Ctx, input: RunInput): Instance[] {
  if (!input.imageId)
    throw new AwsError("MissingParameter", "The request must contain the parameter ImageId");
  const min = input.minCount ?? 1;
  const max = input.maxCount ?? min;
  if (min < 1 || max < min)
    throw invalidParameterValue(`Invalid value '${min}' for minCount. Must be between 1 and maxCount.`);
  if (max > 20)
    throw new AwsError(
      "InstanceLimitExceeded",
      `You have requested more instances (${max}) than your current instance limit of 20 allows for the specified instance type.`,
    );
  if (input.privateIp !== undefined && max > 1)
    throw new AwsError(
      "InvalidParameterCombination",
      "Cannot specify a private IP address when launching more than one instance",
    );
  const subnet = input.subnetId
    ? getSubnet(tx, ctx, input.subnetId)
    : [...tx.all("subnet")].find(
        (s) => s.defaultForAz && s.accountId === ctx.accountId && s.region === ctx.region,
      );
  if (!subnet) throw new AwsError("VPCIdNotSpecified", "No default VPC for this user");
  const out: Instance[] = [];
  const reservationId = newId(ctx.rt, "r");
  for (let n = 0; n < max; n++) {
    const id = newId(ctx.rt, "i");
    const eni = createEni(tx, ctx, {
      subnet,
      securityGroupIds: input.securityGroupIds,
      privateIp: input.privateIp,
      description: "",
      tags: input.eniTags,
    });
    attachEni(tx, ctx, eni, id, 0);
    const publicIp =
      (input.associatePublicIp ?? subnet.mapPublicIpOnLaunch) ? allocatePublicIp(tx, ctx.rt) : undefined;
    out.push(
      tx.put("instance", {
        id,
        accountId: ctx.accountId,
        region: ctx.region,
        tags: input.tags ?? {},
        vpcId: subnet.vpcId,
        subnetId: subnet.id,
        eniId: eni.id,
        reservationId,
        imageId: input.imageId,
        instanceType: input.instanceType ?? "m1.small",
        state: "running",
        launchTime: isoNow(ctx),
        keyName: input.keyName,
        iamRoleArn: input.iamRoleArn,
        publicIp,
      }),
    );
  }
  return out;
}

/** Terminated instances stay visible (as on AWS) but release their interface and addresses. */
export function terminateInstances(
  tx: Tx,
  ctx: Ctx,
  ids: readonly string[],
): { instance: Instance; previous: Instance["state"] }[] {
  const found = ids.map((id) => getInstance(tx, ctx, id));
  return found.map((i) => {
    if (i.state !== "terminated") tx.delete("eni", i.eniId);
    const next = tx.put("instance", {
      ...i,
      state: "terminated",
      terminatedAt: i.terminatedAt ?? isoNow(ctx),
    });
    return { instance: next, previous: i.state };
  });
}
