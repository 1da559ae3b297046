import { type Ctx, isoNow } from "./context.js";
import { createEni, deleteEniRecord } from "./eni.js";
import { AwsError, invalidParameterValue, missingParameter } from "./errors.js";
import { newId } from "./ids.js";
import { registerLifecycleStep, Watched } from "./lifecycle.js";
import type { Tx } from "./state.js";
import { getSubnet } from "./subnet.js";
import { registerTaggable } from "./tags.js";
import {
  getAttachment,
  getTransitGateway,
  incorrectState,
  seesAttachment,
  tgwFlag,
} from "./transit-gateway-lookup.js";
import { forgetAttachment } from "./transit-gateway-route-table.js";
import type {
  Tags,
  TgwAttachmentResourceType,
  TgwVpcAttachmentDetails,
  TransitGateway,
  TransitGatewayAttachment,
} from "./types.js";
import { getVpc, registerVpcDependents } from "./vpc.js";

registerTaggable("tgw-attach", "transitGatewayAttachment", "transit-gateway-attachment");

const PURGE_AFTER_MS = 2 * 86_400_000;

export function attachmentsOf(
  tx: Tx,
  ctx: Ctx,
  type?: TgwAttachmentResourceType,
): TransitGatewayAttachment[] {
  return [...tx.all("transitGatewayAttachment")].filter(
    (a) => seesAttachment(a, ctx) && (type === undefined || a.resourceType === type),
  );
}

/**
 * Makes an attachment of any kind (VPC here; VPN and Direct Connect gateway attachments in
 * their own modules). Another account's attachment waits for the TGW owner's acceptance unless
 * the TGW auto-accepts; the rest start `pending` and get the TGW's default association and
 * propagation when they become available.
 */
export function newAttachment(
  tx: Tx,
  ctx: Ctx,
  tgw: TransitGateway,
  input: {
    resourceType: TgwAttachmentResourceType;
    resourceId: string;
    vpc?: TgwVpcAttachmentDetails;
    tags?: Tags;
  },
): TransitGatewayAttachment {
  if (tgw.state !== "available")
    throw incorrectState(`Transit Gateway ${tgw.id} is in invalid state ${tgw.state}.`);
  const crossAccount = tgw.accountId !== ctx.accountId;
  return tx.put("transitGatewayAttachment", {
    id: newId(ctx.rt, "tgw-attach"),
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    transitGatewayId: tgw.id,
    transitGatewayOwnerId: tgw.accountId,
    resourceType: input.resourceType,
    resourceId: input.resourceId,
    state:
      crossAccount && tgw.options.autoAcceptSharedAttachments !== "enable" ? "pendingAcceptance" : "pending",
    vpc: input.vpc,
    createdAt: isoNow(ctx),
  });
}

export interface VpcAttachmentInput {
  transitGatewayId?: string;
  vpcId?: string;
  subnetIds?: readonly string[];
  options?: {
    dnsSupport?: string;
    ipv6Support?: string;
    applianceModeSupport?: string;
    securityGroupReferencingSupport?: string;
  };
  tags?: Tags;
}

/** One subnet per AZ of the attachment's VPC, each given the attachment's ENI. */
function attachmentSubnets(
  tx: Tx,
  ctx: Ctx,
  vpcId: string,
  subnetIds: readonly string[],
  attachmentId: string,
) {
  const seen = new Map<string, string>();
  const out: TgwVpcAttachmentDetails["subnets"][number][] = [];
  for (const id of subnetIds) {
    const s = getSubnet(tx, ctx, id);
    if (s.vpcId !== vpcId) throw invalidParameterValue(`Subnet ${s.id} does not belong to ${vpcId}.`);
    const other = seen.get(s.az);
    if (other)
      throw new AwsError(
        "DuplicateSubnetsInSameZone",
        `Duplicate Subnets for same AvailabilityZone: ${other} and ${s.id} are both in ${s.az}.`,
      );
    seen.set(s.az, s.id);
    const eni = createEni(tx, ctx, {
      subnet: s,
      interfaceType: "transit_gateway",
      requesterId: "amazon-tgw",
      description: `Network Interface for Transit Gateway Attachment ${attachmentId}`,
    });
    out.push({ subnetId: s.id, az: s.az, eniId: eni.id });
  }
  return out;
}

export function createVpcAttachment(tx: Tx, ctx: Ctx, input: VpcAttachmentInput): TransitGatewayAttachment {
  const tgw = getTransitGateway(tx, ctx, input.transitGatewayId, { anyAccount: true });
  if (!input.vpcId) throw missingParameter("VpcId");
  const vpc = getVpc(tx, ctx, input.vpcId);
  if (!input.subnetIds?.length) throw missingParameter("SubnetIds");
  const existing = [...tx.all("transitGatewayAttachment")].find(
    (a) =>
      a.transitGatewayId === tgw.id &&
      a.vpc?.vpcId === vpc.id &&
      !["deleted", "rejected", "failed"].includes(a.state),
  );
  if (existing)
    throw new AwsError(
      "DuplicateTransitGatewayAttachment",
      `${tgw.id} has non-deleted Transit Gateway Attachments with same VPC ID: ${existing.id}.`,
    );
  const o = input.options ?? {};
  const att = newAttachment(tx, ctx, tgw, { resourceType: "vpc", resourceId: vpc.id, tags: input.tags });
  const details: TgwVpcAttachmentDetails = {
    vpcId: vpc.id,
    subnets: attachmentSubnets(tx, ctx, vpc.id, input.subnetIds, att.id),
    dnsSupport: tgwFlag(o.dnsSupport, "dnsSupport", "enable"),
    ipv6Support: tgwFlag(o.ipv6Support, "ipv6Support", "disable"),
    applianceModeSupport: tgwFlag(o.applianceModeSupport, "applianceModeSupport", "disable"),
    securityGroupReferencingSupport: tgwFlag(
      o.securityGroupReferencingSupport,
      "securityGroupReferencingSupport",
      tgw.options.securityGroupReferencingSupport,
    ),
  };
  return tx.put("transitGatewayAttachment", { ...att, vpc: details });
}

/** ModifyTransitGatewayVpcAttachment: add and remove subnets (still one per AZ), change options. */
export function modifyVpcAttachment(
  tx: Tx,
  ctx: Ctx,
  id: string | undefined,
  input: { add?: readonly string[]; remove?: readonly string[]; options?: VpcAttachmentInput["options"] },
): TransitGatewayAttachment {
  const a = getAttachment(tx, ctx, id);
  if (!a.vpc) throw invalidParameterValue(`${a.id} is not a VPC attachment.`);
  if (a.accountId !== ctx.accountId)
    throw new AwsError(
      "OperationNotPermitted",
      `Transit Gateway Attachment ${a.id} belongs to ${a.accountId}.`,
    );
  if (a.state !== "available")
    throw incorrectState(`Transit Gateway Attachment ${a.id} is in invalid state ${a.state}.`);
  for (const r of input.remove ?? [])
    if (!a.vpc.subnets.some((s) => s.subnetId === r))
      throw invalidParameterValue(`Subnet ${r} is not part of Transit Gateway Attachment ${a.id}.`);
  const kept = a.vpc.subnets.filter((s) => !(input.remove ?? []).includes(s.subnetId));
  if (kept.length === 0 && !input.add?.length)
    throw invalidParameterValue(`Transit Gateway Attachment ${a.id} must keep at least one subnet.`);
  for (const s of a.vpc.subnets) if (!kept.includes(s)) deleteEniRecord(tx, s.eniId);
  const added = attachmentSubnets(tx, ctx, a.vpc.vpcId, input.add ?? [], a.id);
  const azs = new Set<string>();
  for (const s of [...kept, ...added]) {
    if (azs.has(s.az))
      throw new AwsError(
        "DuplicateSubnetsInSameZone",
        `Duplicate Subnets for same AvailabilityZone: ${s.az}.`,
      );
    azs.add(s.az);
  }
  const o = input.options ?? {};
  return tx.put("transitGatewayAttachment", {
    ...a,
    vpc: {
      ...a.vpc,
      subnets: [...kept, ...added],
      dnsSupport: tgwFlag(o.dnsSupport, "dnsSupport", a.vpc.dnsSupport),
      ipv6Support: tgwFlag(o.ipv6Support, "ipv6Support", a.vpc.ipv6Support),
      applianceModeSupport: tgwFlag(
        o.applianceModeSupport,
        "applianceModeSupport",
        a.vpc.applianceModeSupport,
      ),
      securityGroupReferencingSupport: tgwFlag(
        o.securityGroupReferencingSupport,
        "securityGroupReferencingSupport",
        a.vpc.securityGroupReferencingSupport,
      ),
    },
  });
}

/** Only the TGW's owner accepts or rejects another account's attachment. */
function asTgwOwner(tx: Tx, ctx: Ctx, id: string | undefined, verb: string): TransitGatewayAttachment {
  const a = getAttachment(tx, ctx, id);
  if (a.transitGatewayOwnerId !== ctx.accountId)
    throw new AwsError(
      "OperationNotPermitted",
      `User ${ctx.accountId} cannot ${verb} ${a.id}: only the owner of ${a.transitGatewayId} (${a.transitGatewayOwnerId}) can.`,
    );
  if (a.state !== "pendingAcceptance")
    throw incorrectState(`Transit Gateway Attachment ${a.id} is in invalid state ${a.state}.`);
  return a;
}

export function acceptAttachment(tx: Tx, ctx: Ctx, id: string | undefined): TransitGatewayAttachment {
  const a = asTgwOwner(tx, ctx, id, "accept");
  return tx.put("transitGatewayAttachment", { ...a, state: "pending" });
}

export function rejectAttachment(tx: Tx, ctx: Ctx, id: string | undefined): TransitGatewayAttachment {
  const a = asTgwOwner(tx, ctx, id, "reject");
  releaseAttachment(tx, a);
  return tx.put("transitGatewayAttachment", { ...a, state: "rejected", deletedAt: isoNow(ctx) });
}

/** Either side deletes; its ENIs go at once, static routes to it turn into blackholes. */
export function deleteAttachment(tx: Tx, ctx: Ctx, id: string | undefined): TransitGatewayAttachment {
  const a = getAttachment(tx, ctx, id);
  if (a.state === "deleting")
    throw incorrectState(`Transit Gateway Attachment ${a.id} is in invalid state ${a.state}.`);
  releaseAttachment(tx, a);
  return tx.put("transitGatewayAttachment", {
    ...a,
    state: "deleting",
    associatedRouteTableId: undefined,
    deletedAt: isoNow(ctx),
  });
}

function releaseAttachment(tx: Tx, a: TransitGatewayAttachment): void {
  for (const s of a.vpc?.subnets ?? []) deleteEniRecord(tx, s.eniId);
  forgetAttachment(tx, a.id);
}

/** The TGW's default association and propagation, applied when an attachment comes up. */
function applyDefaults(tx: Tx, a: TransitGatewayAttachment): TransitGatewayAttachment {
  const tgw = tx.get("transitGateway", a.transitGatewayId);
  const o = tgw?.options;
  let next: TransitGatewayAttachment = { ...a, state: "available" };
  if (
    o?.defaultRouteTableAssociation === "enable" &&
    o.associationDefaultRouteTableId &&
    !a.associatedRouteTableId
  )
    next = { ...next, associatedRouteTableId: o.associationDefaultRouteTableId };
  const prop = o?.defaultRouteTablePropagation === "enable" && o.propagationDefaultRouteTableId;
  const table = prop ? tx.get("transitGatewayRouteTable", prop) : undefined;
  if (table && table.state !== "deleted" && !table.propagations.includes(a.id))
    tx.put("transitGatewayRouteTable", { ...table, propagations: [...table.propagations, a.id] });
  return next;
}

registerVpcDependents((tx, vpc) =>
  [...tx.all("transitGatewayAttachment")]
    .filter((a) => a.vpc?.vpcId === vpc.id && !["deleted", "rejected", "failed"].includes(a.state))
    .map((a) => a.id),
);

const moving = new Watched("transitGatewayAttachment", (a) =>
  ["pending", "deleting", "deleted", "rejected"].includes(a.state),
);

registerLifecycleStep((tx, rt) => {
  const now = rt.now().getTime();
  for (const a of moving.in(tx)) {
    if (a.state === "pending") tx.put("transitGatewayAttachment", applyDefaults(tx, a));
    else if (a.state === "deleting") tx.put("transitGatewayAttachment", { ...a, state: "deleted" });
    else if (a.deletedAt && now - Date.parse(a.deletedAt) >= PURGE_AFTER_MS)
      tx.delete("transitGatewayAttachment", a.id);
  }
});
