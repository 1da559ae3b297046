import type { Ctx } from "./context.js";
import { AwsError } from "./errors.js";
import { getRouteTable } from "./route-table.js";
import { vgwLearnedPrefixes } from "./site-links.js";
import type { Tx } from "./state.js";
import type { Route, RouteTable } from "./types.js";

/**
 * Route propagation (EnableVgwRoutePropagation): a route table that propagates a virtual private
 * gateway holds, as routes with origin EnableVgwRoutePropagation, every prefix that gateway
 * learns from on-premises while it is attached to the table's VPC. The routes are kept in the
 * table (DescribeRouteTables shows them) and recomputed after every change that moves them.
 */

const PROPAGATED: Route["origin"] = "EnableVgwRoutePropagation";

function vgwOf(tx: Tx, ctx: Ctx, id: string | undefined) {
  const g = id ? tx.get("vpnGateway", id) : undefined;
  if (!g || g.accountId !== ctx.accountId || g.state === "deleted")
    throw new AwsError("InvalidVpnGatewayID.NotFound", `The vpnGateway ID '${id ?? ""}' does not exist`);
  return g;
}

export function enableVgwRoutePropagation(
  tx: Tx,
  ctx: Ctx,
  rtbId: string | undefined,
  vgwId: string | undefined,
): void {
  const table = getRouteTable(tx, ctx, rtbId);
  const g = vgwOf(tx, ctx, vgwId);
  if (!g.attachments.some((a) => a.vpcId === table.vpcId && a.state === "attached"))
    throw new AwsError("Gateway.NotAttached", `resource ${g.id} is not attached to network ${table.vpcId}`);
  const vgws = table.propagatingVgws ?? [];
  if (!vgws.includes(g.id)) tx.put("routeTable", { ...table, propagatingVgws: [...vgws, g.id] });
  syncPropagatedRoutes(tx);
}

export function disableVgwRoutePropagation(
  tx: Tx,
  ctx: Ctx,
  rtbId: string | undefined,
  vgwId: string | undefined,
): void {
  const table = getRouteTable(tx, ctx, rtbId);
  const g = vgwOf(tx, ctx, vgwId);
  const vgws = table.propagatingVgws ?? [];
  if (!vgws.includes(g.id))
    throw new AwsError(
      "InvalidParameterValue",
      `route propagation from ${g.id} is not enabled on ${table.id}`,
    );
  tx.put("routeTable", { ...table, propagatingVgws: vgws.filter((v) => v !== g.id) });
  syncPropagatedRoutes(tx);
}

function desired(tx: Tx, table: RouteTable): Route[] {
  const out: Route[] = [];
  const local = new Set(table.routes.filter((r) => r.target.kind === "local").map((r) => r.destinationCidr));
  for (const vgwId of table.propagatingVgws ?? []) {
    const g = tx.get("vpnGateway", vgwId);
    if (!g?.attachments.some((a) => a.vpcId === table.vpcId && a.state === "attached")) continue;
    for (const cidr of vgwLearnedPrefixes(tx, vgwId)) {
      // A propagated route never replaces the local route, nor a prefix another gateway gave first.
      if (local.has(cidr) || out.some((r) => r.destinationCidr === cidr)) continue;
      out.push({
        destinationCidr: cidr,
        target: { kind: "gateway", id: vgwId },
        origin: PROPAGATED,
        state: "active",
      });
    }
  }
  return out;
}

/** Puts every route table whose propagated routes changed (cheap when none did). */
export function syncPropagatedRoutes(tx: Tx): void {
  for (const table of [...tx.all("routeTable")]) {
    const had = table.routes.filter((r) => r.origin === PROPAGATED);
    if (had.length === 0 && !table.propagatingVgws?.length) continue;
    const want = desired(tx, table);
    if (JSON.stringify(had) === JSON.stringify(want)) continue;
    tx.put("routeTable", {
      ...table,
      routes: [...table.routes.filter((r) => r.origin !== PROPAGATED), ...want],
    });
  }
}
