import type { Ctx } from "./context.js";
import { AwsError, invalidParameterValue, missingParameter } from "./errors.js";
import { isIdOf } from "./ids.js";
import type { State, Tx } from "./state.js";
import type { TgwFlag, TransitGateway, TransitGatewayAttachment, TransitGatewayRouteTable } from "./types.js";

/** What the transit gateway rules read: a transaction, or the committed state (flow/). */
export type Reader = Pick<State, "get" | "all"> | Pick<Tx, "get" | "all">;

const GONE = new Set(["deleted"]);

/**
 * Who sees a transit gateway: its owner, and an account with an attachment to it (AWS shares
 * a TGW through RAM; privlink lets any account in the region attach by ID, see
 * docs/transit-gateway.md).
 */
export function getTransitGateway(
  tx: Tx,
  ctx: Ctx,
  id: string | undefined,
  opts: { anyAccount?: boolean } = {},
): TransitGateway {
  if (!id) throw missingParameter("TransitGatewayId");
  if (!isIdOf("tgw", id))
    throw new AwsError("InvalidTransitGatewayID.Malformed", `Invalid id: "${id}" (expecting "tgw-...")`);
  const t = tx.get("transitGateway", id);
  if (
    !t ||
    t.region !== ctx.region ||
    GONE.has(t.state) ||
    (!opts.anyAccount && !seesTransitGateway(tx, ctx, t))
  )
    throw new AwsError(
      "InvalidTransitGatewayID.NotFound",
      `Transit Gateway ${id} was deleted or does not exist.`,
    );
  return t;
}

export function seesTransitGateway(tx: Reader, ctx: Pick<Ctx, "accountId">, t: TransitGateway): boolean {
  if (t.accountId === ctx.accountId) return true;
  for (const a of tx.all("transitGatewayAttachment"))
    if (a.transitGatewayId === t.id && a.accountId === ctx.accountId && a.state !== "deleted") return true;
  return false;
}

/** An attachment is the business of its resource's owner and of the TGW's owner. */
export function seesAttachment(a: TransitGatewayAttachment, ctx: Pick<Ctx, "accountId" | "region">): boolean {
  return (
    a.region === ctx.region && (a.accountId === ctx.accountId || a.transitGatewayOwnerId === ctx.accountId)
  );
}

export function getAttachment(tx: Tx, ctx: Ctx, id: string | undefined): TransitGatewayAttachment {
  if (!id) throw missingParameter("TransitGatewayAttachmentId");
  if (!isIdOf("tgw-attach", id))
    throw new AwsError(
      "InvalidTransitGatewayAttachmentID.Malformed",
      `Invalid id: "${id}" (expecting "tgw-attach-...")`,
    );
  const a = tx.get("transitGatewayAttachment", id);
  if (!a || !seesAttachment(a, ctx) || a.state === "deleted")
    throw new AwsError(
      "InvalidTransitGatewayAttachmentID.NotFound",
      `Transit Gateway Attachment ${id} was deleted or does not exist.`,
    );
  return a;
}

/** Route tables belong to the TGW's owner alone. */
export function getTgwRouteTable(tx: Tx, ctx: Ctx, id: string | undefined): TransitGatewayRouteTable {
  if (!id) throw missingParameter("TransitGatewayRouteTableId");
  if (!isIdOf("tgw-rtb", id))
    throw new AwsError("InvalidRouteTableID.Malformed", `Invalid id: "${id}" (expecting "tgw-rtb-...")`);
  const r = tx.get("transitGatewayRouteTable", id);
  if (!r || r.accountId !== ctx.accountId || r.region !== ctx.region || r.state === "deleted")
    throw new AwsError(
      "InvalidRouteTableID.NotFound",
      `Transit Gateway Route Table ${id} was deleted or does not exist.`,
    );
  return r;
}

export function incorrectState(message: string): AwsError {
  return new AwsError("IncorrectState", message);
}

/** An `enable|disable` option of a transit gateway or attachment. */
export function tgwFlag(value: string | undefined, name: string, fallback: TgwFlag): TgwFlag {
  if (value === undefined) return fallback;
  if (value !== "enable" && value !== "disable")
    throw invalidParameterValue(
      `Value (${value}) for parameter ${name} is invalid. Valid values are: enable, disable`,
    );
  return value;
}
