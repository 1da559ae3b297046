import { type Ctx, isoNow } from "./context.js";
import { AwsError, invalidParameterValue } from "./errors.js";
import { newId } from "./ids.js";
import { registerLifecycleStep, Watched } from "./lifecycle.js";
import { registerRouteTargets } from "./route-table.js";
import type { Tx } from "./state.js";
import { registerTaggable } from "./tags.js";
import { getTransitGateway, incorrectState, seesTransitGateway, tgwFlag } from "./transit-gateway-lookup.js";
import { newTgwRouteTable } from "./transit-gateway-route-table.js";
import "./transit-gateway-hybrid.js";
import type { Tags, TransitGateway, TransitGatewayOptions } from "./types.js";

registerTaggable("tgw", "transitGateway", "transit-gateway");

export const TGWS_PER_ACCOUNT = 5;
const PURGE_AFTER_MS = 2 * 86_400_000;

export interface TgwOptionsInput {
  amazonSideAsn?: number;
  autoAcceptSharedAttachments?: string;
  defaultRouteTableAssociation?: string;
  defaultRouteTablePropagation?: string;
  vpnEcmpSupport?: string;
  dnsSupport?: string;
  securityGroupReferencingSupport?: string;
  multicastSupport?: string;
}

function checkAsn(asn: number): number {
  const ok = (asn >= 64512 && asn <= 65534) || (asn >= 4_200_000_000 && asn <= 4_294_967_294);
  if (!Number.isInteger(asn) || !ok)
    throw invalidParameterValue(
      `Value (${asn}) for parameter amazonSideAsn is invalid. It must be in the range 64512-65534 or 4200000000-4294967294.`,
    );
  return asn;
}

function optionsFrom(input: TgwOptionsInput, base?: TransitGatewayOptions): TransitGatewayOptions {
  return {
    amazonSideAsn:
      input.amazonSideAsn !== undefined ? checkAsn(input.amazonSideAsn) : (base?.amazonSideAsn ?? 64512),
    autoAcceptSharedAttachments: tgwFlag(
      input.autoAcceptSharedAttachments,
      "autoAcceptSharedAttachments",
      base?.autoAcceptSharedAttachments ?? "disable",
    ),
    defaultRouteTableAssociation: tgwFlag(
      input.defaultRouteTableAssociation,
      "defaultRouteTableAssociation",
      base?.defaultRouteTableAssociation ?? "enable",
    ),
    defaultRouteTablePropagation: tgwFlag(
      input.defaultRouteTablePropagation,
      "defaultRouteTablePropagation",
      base?.defaultRouteTablePropagation ?? "enable",
    ),
    associationDefaultRouteTableId: base?.associationDefaultRouteTableId,
    propagationDefaultRouteTableId: base?.propagationDefaultRouteTableId,
    vpnEcmpSupport: tgwFlag(input.vpnEcmpSupport, "vpnEcmpSupport", base?.vpnEcmpSupport ?? "enable"),
    dnsSupport: tgwFlag(input.dnsSupport, "dnsSupport", base?.dnsSupport ?? "enable"),
    securityGroupReferencingSupport: tgwFlag(
      input.securityGroupReferencingSupport,
      "securityGroupReferencingSupport",
      base?.securityGroupReferencingSupport ?? "disable",
    ),
    multicastSupport: tgwFlag(
      input.multicastSupport,
      "multicastSupport",
      base?.multicastSupport ?? "disable",
    ),
  };
}

/**
 * CreateTransitGateway. With default association or propagation enabled, AWS makes one default
 * route table that serves as both.
 */
export function createTransitGateway(
  tx: Tx,
  ctx: Ctx,
  input: { description?: string; options?: TgwOptionsInput; tags?: Tags },
): TransitGateway {
  const mine = [...tx.all("transitGateway")].filter(
    (t) => t.accountId === ctx.accountId && t.region === ctx.region && t.state !== "deleted",
  );
  if (mine.length >= TGWS_PER_ACCOUNT)
    throw new AwsError(
      "TransitGatewayLimitExceeded",
      `You have reached the limit of ${TGWS_PER_ACCOUNT} transit gateways in ${ctx.region}.`,
    );
  let tgw: TransitGateway = {
    id: newId(ctx.rt, "tgw"),
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    description: input.description,
    state: "pending",
    options: optionsFrom(input.options ?? {}),
    createdAt: isoNow(ctx),
  };
  if (
    tgw.options.defaultRouteTableAssociation === "enable" ||
    tgw.options.defaultRouteTablePropagation === "enable"
  ) {
    const rtb = newTgwRouteTable(tx, ctx, tgw, { isDefault: true });
    tgw = {
      ...tgw,
      options: {
        ...tgw.options,
        associationDefaultRouteTableId:
          tgw.options.defaultRouteTableAssociation === "enable" ? rtb.id : undefined,
        propagationDefaultRouteTableId:
          tgw.options.defaultRouteTablePropagation === "enable" ? rtb.id : undefined,
      },
    };
  }
  return tx.put("transitGateway", tgw);
}

export function transitGatewaysOf(tx: Tx, ctx: Ctx): TransitGateway[] {
  return [...tx.all("transitGateway")].filter(
    (t) => t.region === ctx.region && seesTransitGateway(tx, ctx, t),
  );
}

function ownTgw(tx: Tx, ctx: Ctx, id: string | undefined): TransitGateway {
  const t = getTransitGateway(tx, ctx, id);
  if (t.accountId !== ctx.accountId)
    throw new AwsError("OperationNotPermitted", `Transit Gateway ${t.id} is owned by ${t.accountId}.`);
  return t;
}

export function modifyTransitGateway(
  tx: Tx,
  ctx: Ctx,
  id: string | undefined,
  input: {
    description?: string;
    options?: TgwOptionsInput & {
      associationDefaultRouteTableId?: string;
      propagationDefaultRouteTableId?: string;
    };
  },
): TransitGateway {
  const t = ownTgw(tx, ctx, id);
  if (t.state !== "available")
    throw incorrectState(`Transit Gateway ${t.id} is in invalid state ${t.state}.`);
  const o = input.options ?? {};
  const options = optionsFrom(o, t.options);
  for (const key of ["associationDefaultRouteTableId", "propagationDefaultRouteTableId"] as const) {
    const rtbId = o[key];
    if (rtbId === undefined) continue;
    const rtb = tx.get("transitGatewayRouteTable", rtbId);
    if (!rtb || rtb.transitGatewayId !== t.id || rtb.state === "deleted")
      throw new AwsError(
        "InvalidRouteTableID.NotFound",
        `Transit Gateway Route Table ${rtbId} was deleted or does not exist.`,
      );
    (options as { -readonly [k in typeof key]?: string })[key] = rtbId;
  }
  return tx.put("transitGateway", {
    ...t,
    description: input.description ?? t.description,
    options,
  });
}

/** DeleteTransitGateway: only once every attachment is gone; its route tables go with it. */
export function deleteTransitGateway(tx: Tx, ctx: Ctx, id: string | undefined): TransitGateway {
  const t = ownTgw(tx, ctx, id);
  const live = [...tx.all("transitGatewayAttachment")].filter(
    (a) =>
      a.transitGatewayId === t.id && a.state !== "deleted" && a.state !== "rejected" && a.state !== "failed",
  );
  if (live.length > 0)
    throw incorrectState(
      `Transit Gateway ${t.id} has non-deleted Transit Gateway Attachments: ${live.map((a) => a.id).join(", ")}.`,
    );
  for (const r of tx.all("transitGatewayRouteTable"))
    if (r.transitGatewayId === t.id && r.state !== "deleted")
      tx.put("transitGatewayRouteTable", { ...r, state: "deleted" });
  return tx.put("transitGateway", { ...t, state: "deleting", deletedAt: isoNow(ctx) });
}

registerRouteTargets((tx, ctx, target, vpcId) => {
  if (target.kind !== "transit") return false;
  const t = getTransitGateway(tx, ctx, target.id, { anyAccount: true });
  const attached = [...tx.all("transitGatewayAttachment")].some(
    (a) => a.transitGatewayId === t.id && a.vpc?.vpcId === vpcId && a.state !== "deleted",
  );
  if (t.accountId !== ctx.accountId && !attached)
    throw new AwsError(
      "InvalidTransitGatewayID.NotFound",
      `Transit Gateway ${t.id} was deleted or does not exist.`,
    );
  return true;
});

const moving = new Watched(
  "transitGateway",
  (t) => t.state === "pending" || t.state === "deleting" || t.state === "deleted",
);
const movingTables = new Watched("transitGatewayRouteTable", (t) => t.state === "deleted");

registerLifecycleStep((tx, rt) => {
  const now = rt.now().getTime();
  for (const t of moving.in(tx)) {
    if (t.state === "pending") tx.put("transitGateway", { ...t, state: "available" });
    else if (t.state === "deleting") tx.put("transitGateway", { ...t, state: "deleted" });
    else if (t.deletedAt && now - Date.parse(t.deletedAt) >= PURGE_AFTER_MS)
      tx.delete("transitGateway", t.id);
  }
  for (const r of movingTables.in(tx))
    if (now - Date.parse(r.createdAt) >= PURGE_AFTER_MS) tx.delete("transitGatewayRouteTable", r.id);
});
