import { isCanonicalCidr, parseCidr } from "./cidr.js";
import type { Ctx } from "./context.js";
import { AwsError, invalidParameterValue } from "./errors.js";
import { newId } from "./ids.js";
import type { Tx } from "./state.js";
import { getSubnet } from "./subnet.js";
import { registerTaggable } from "./tags.js";
import type { Route, RouteTable, RouteTarget, Tags } from "./types.js";
import { getVpc } from "./vpc.js";

registerTaggable("rtb", "routeTable", "route-table");

export function getRouteTable(tx: Tx, ctx: Ctx, id: string | undefined): RouteTable {
  const r = id ? tx.get("routeTable", id) : undefined;
  if (!r || r.accountId !== ctx.accountId || r.region !== ctx.region)
    throw new AwsError("InvalidRouteTableID.NotFound", `The routeTable ID '${id ?? ""}' does not exist`);
  return r;
}

export function mainRouteTable(tx: Tx, vpcId: string): RouteTable {
  return [...tx.all("routeTable")].find((r) => r.vpcId === vpcId && r.associations.some((a) => a.main))!;
}

/** The route table that governs a subnet: its explicit association, else the VPC's main table. */
export function routeTableForSubnet(tx: Tx, subnetId: string, vpcId: string): RouteTable {
  return (
    [...tx.all("routeTable")].find((r) => r.associations.some((a) => a.subnetId === subnetId)) ??
    mainRouteTable(tx, vpcId)
  );
}

export function createRouteTable(tx: Tx, ctx: Ctx, input: { vpcId?: string; tags?: Tags }): RouteTable {
  if (!input.vpcId) throw new AwsError("MissingParameter", "The request must contain the parameter vpcId");
  const vpc = getVpc(tx, ctx, input.vpcId);
  return tx.put("routeTable", {
    id: newId(ctx.rt, "rtb"),
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    vpcId: vpc.id,
    associations: [],
    routes: vpc.cidrBlocks
      .filter((b) => b.state === "associated")
      .map((b) => ({
        destinationCidr: b.cidr,
        target: { kind: "local" as const },
        origin: "CreateRouteTable" as const,
        state: "active" as const,
      })),
  });
}

export function deleteRouteTable(tx: Tx, ctx: Ctx, id: string | undefined): void {
  const r = getRouteTable(tx, ctx, id);
  if (r.associations.length > 0)
    throw new AwsError(
      "DependencyViolation",
      `The routeTable '${r.id}' has dependencies and cannot be deleted.`,
    );
  tx.delete("routeTable", r.id);
}

export function associateRouteTable(
  tx: Tx,
  ctx: Ctx,
  id: string | undefined,
  subnetId: string | undefined,
): string {
  const r = getRouteTable(tx, ctx, id);
  if (!subnetId)
    throw new AwsError("MissingParameter", "The request must contain the parameter subnetId or gatewayId");
  const s = getSubnet(tx, ctx, subnetId);
  if (s.vpcId !== r.vpcId)
    throw new AwsError(
      "InvalidParameterValue",
      `Route table ${r.id} and subnet ${s.id} belong to different networks`,
    );
  const current = [...tx.all("routeTable")].find((t) => t.associations.some((a) => a.subnetId === s.id));
  if (current)
    throw new AwsError(
      "Resource.AlreadyAssociated",
      `the specified association for route table ${current.id} conflicts with an existing association`,
    );
  const assocId = newId(ctx.rt, "rtbassoc");
  tx.put("routeTable", {
    ...r,
    associations: [...r.associations, { id: assocId, subnetId: s.id, main: false }],
  });
  return assocId;
}

export function disassociateRouteTable(tx: Tx, ctx: Ctx, associationId: string | undefined): void {
  const r = [...tx.all("routeTable")].find(
    (t) =>
      t.accountId === ctx.accountId &&
      t.region === ctx.region &&
      t.associations.some((a) => a.id === associationId),
  );
  if (!r)
    throw new AwsError(
      "InvalidAssociationID.NotFound",
      `The association ID '${associationId ?? ""}' does not exist`,
    );
  if (r.associations.find((a) => a.id === associationId)!.main)
    throw new AwsError("InvalidParameterValue", "Cannot disassociate the main route table association");
  tx.put("routeTable", { ...r, associations: r.associations.filter((a) => a.id !== associationId) });
}

export interface RouteInput {
  destinationCidr?: string;
  destinationPrefixListId?: string;
  target?: RouteTarget;
}

/** Route targets are checked by the modules that own them (gateways, NAT, peering, TGW). */
const targetCheckers: ((tx: Tx, ctx: Ctx, target: RouteTarget, vpcId: string) => boolean)[] = [];
export function registerRouteTargets(
  f: (tx: Tx, ctx: Ctx, target: RouteTarget, vpcId: string) => boolean,
): void {
  targetCheckers.push(f);
}

/** A new route's state: targets that can be down (peerings, …) say so; the rest are active. */
const routeStates: ((tx: Tx, target: RouteTarget) => Route["state"] | undefined)[] = [];
export function registerRouteState(f: (tx: Tx, target: RouteTarget) => Route["state"] | undefined): void {
  routeStates.push(f);
}

function routeStateOf(tx: Tx, target: RouteTarget): Route["state"] {
  for (const f of routeStates) {
    const s = f(tx, target);
    if (s) return s;
  }
  return "active";
}

/** Propagated routes (EnableVgwRoutePropagation) live beside static ones of the same prefix. */
function sameDestination(a: Route, b: RouteInput): boolean {
  if (a.origin === "EnableVgwRoutePropagation") return false;
  return (
    (a.destinationCidr !== undefined && a.destinationCidr === b.destinationCidr) ||
    (a.destinationPrefixListId !== undefined && a.destinationPrefixListId === b.destinationPrefixListId)
  );
}

export function createRoute(
  tx: Tx,
  ctx: Ctx,
  id: string | undefined,
  input: RouteInput,
  origin: Route["origin"] = "CreateRoute",
): void {
  const r = getRouteTable(tx, ctx, id);
  if (input.destinationCidr === undefined && input.destinationPrefixListId === undefined)
    throw new AwsError(
      "MissingParameter",
      "The request must contain the parameter destinationCidrBlock or destinationPrefixListId",
    );
  if (
    input.destinationCidr !== undefined &&
    (!parseCidr(input.destinationCidr) || !isCanonicalCidr(input.destinationCidr))
  )
    throw invalidParameterValue(
      `Value (${input.destinationCidr}) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block.`,
    );
  if (!input.target)
    throw new AwsError(
      "MissingParameter",
      "The request must contain a route target (gatewayId, natGatewayId, vpcPeeringConnectionId, transitGatewayId, networkInterfaceId or vpcEndpointId)",
    );
  if (!targetCheckers.some((f) => f(tx, ctx, input.target!, r.vpcId)))
    throw new AwsError(
      "InvalidGatewayID.NotFound",
      `The gateway ID '${"id" in input.target ? input.target.id : ""}' does not exist`,
    );
  if (r.routes.some((x) => sameDestination(x, input)))
    throw new AwsError(
      "RouteAlreadyExists",
      `The route identified by ${input.destinationCidr ?? input.destinationPrefixListId} already exists.`,
    );
  const route: Route = {
    destinationCidr: input.destinationCidr,
    destinationPrefixListId: input.destinationPrefixListId,
    target: input.target,
    origin,
    state: routeStateOf(tx, input.target),
  };
  tx.put("routeTable", { ...r, routes: [...r.routes, route] });
}

export function deleteRoute(tx: Tx, ctx: Ctx, id: string | undefined, input: RouteInput): void {
  const r = getRouteTable(tx, ctx, id);
  const route = r.routes.find((x) => sameDestination(x, input));
  if (!route)
    throw new AwsError(
      "InvalidRoute.NotFound",
      `no route with destination-cidr-block ${input.destinationCidr ?? input.destinationPrefixListId} in route table ${r.id}`,
    );
  if (route.target.kind === "local")
    throw new AwsError(
      "InvalidParameterValue",
      `cannot remove local route ${route.destinationCidr} in route table ${r.id}`,
    );
  tx.put("routeTable", { ...r, routes: r.routes.filter((x) => x !== route) });
}

/** Removes every route through a target (a deleted gateway endpoint, a detached gateway). */
export function removeRoutesTo(tx: Tx, targetId: string, routeTableIds?: readonly string[]): void {
  for (const r of tx.all("routeTable")) {
    if (routeTableIds && !routeTableIds.includes(r.id)) continue;
    if (!r.routes.some((x) => "id" in x.target && x.target.id === targetId)) continue;
    tx.put("routeTable", {
      ...r,
      routes: r.routes.filter((x) => !("id" in x.target && x.target.id === targetId)),
    });
  }
}
