import type { Ctx } from "./context.js";
import { onDxGatewayAssociationChanged, registerDxTransitGateways } from "./direct-connect-association.js";
import { siteOfDxConnection, vpnPrefixes } from "./site-links.js";
import type { Tx } from "./state.js";
import { newAttachment } from "./transit-gateway-attachment.js";
import { getTransitGateway, type Reader } from "./transit-gateway-lookup.js";
import { forgetAttachment, registerPropagatedCidrs } from "./transit-gateway-route-table.js";
import type { TgwAttachmentResourceType, TransitGatewayAttachment } from "./types.js";
import { onVpnConnectionCreated, onVpnConnectionDeleted, registerVpnTransitGateways } from "./vpn.js";

/**
 * The on-premises attachments of a transit gateway. A VPN connection created with
 * TransitGatewayId gets a `vpn` attachment (resource: the vpn-…); a Direct Connect gateway
 * associated with a TGW gets a `direct-connect-gateway` attachment (resource: the DX gateway).
 * Both start `pending` and take the TGW's default association and propagation like a VPC
 * attachment; they go when their VPN connection or association does. What they propagate is what
 * BGP would advertise: the site's CIDR (a static-only TGW VPN propagates nothing: AWS wants TGW
 * static routes for it).
 */

const LIVE = new Set(["pendingAcceptance", "pending", "available", "modifying"]);

function liveAttachmentOf(tx: Reader, type: TgwAttachmentResourceType, resourceId: string, tgwId: string) {
  for (const a of tx.all("transitGatewayAttachment"))
    if (
      a.resourceType === type &&
      a.resourceId === resourceId &&
      a.transitGatewayId === tgwId &&
      LIVE.has(a.state)
    )
      return a;
  return undefined;
}

/** An attachment that lost its resource goes the way a deleted VPC attachment goes. */
function retire(tx: Tx, ctx: Ctx, a: TransitGatewayAttachment): void {
  forgetAttachment(tx, a.id);
  tx.put("transitGatewayAttachment", {
    ...a,
    state: "deleting",
    associatedRouteTableId: undefined,
    deletedAt: ctx.rt.now().toISOString(),
  });
}

registerVpnTransitGateways((tx, ctx, tgwId) => {
  getTransitGateway(tx, ctx, tgwId);
});

onVpnConnectionCreated((tx, ctx, v) => {
  if (!v.transitGatewayId) return;
  const tgw = getTransitGateway(tx, ctx, v.transitGatewayId);
  newAttachment(tx, ctx, tgw, { resourceType: "vpn", resourceId: v.id });
});

onVpnConnectionDeleted((tx, ctx, v) => {
  if (!v.transitGatewayId) return;
  const a = liveAttachmentOf(tx, "vpn", v.id, v.transitGatewayId);
  if (a) retire(tx, ctx, a);
});

/** DX gateways are global: a TGW association names the TGW's region and owner. */
registerDxTransitGateways((tx, tgwId) => {
  const t = tx.get("transitGateway", tgwId);
  return t?.state === "available" ? { region: t.region, accountId: t.accountId } : undefined;
});

/** The attachment is the TGW owner's, whichever account associated (or accepted) it. */
onDxGatewayAssociationChanged((tx, ctx, assoc) => {
  if (assoc.gatewayType !== "transitGateway") return;
  const tgw = tx.get("transitGateway", assoc.gatewayId);
  if (!tgw) return;
  const live = liveAttachmentOf(tx, "direct-connect-gateway", assoc.dxGatewayId, tgw.id);
  const present = assoc.state !== "disassociating" && assoc.state !== "disassociated";
  if (present && !live)
    newAttachment(tx, { ...ctx, accountId: tgw.accountId, region: tgw.region }, tgw, {
      resourceType: "direct-connect-gateway",
      resourceId: assoc.dxGatewayId,
    });
  else if (!present && live) retire(tx, ctx, live);
});

registerPropagatedCidrs("vpn", (r, a) => {
  const v = r.get("vpnConnection", a.resourceId);
  return v ? vpnPrefixes(r, v) : [];
});

/** A DX gateway attachment advertises the CIDR of every site with a live transit VIF on that DX gateway. */
registerPropagatedCidrs("direct-connect-gateway", (r, a) => {
  const out = new Set<string>();
  for (const vif of r.all("dxVirtualInterface")) {
    if (vif.state !== "available" || vif.type !== "transit" || vif.directConnectGatewayId !== a.resourceId)
      continue;
    const site = siteOfDxConnection(r, vif.connectionId);
    if (site) out.add(site.cidr);
  }
  return [...out].sort();
});
