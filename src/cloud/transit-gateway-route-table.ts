import { cidrContains, isCanonicalCidr, parseCidr } from "./cidr.js";
import { type Ctx, isoNow } from "./context.js";
import { AwsError, invalidParameterValue, missingParameter } from "./errors.js";
import { newId } from "./ids.js";
import { PrefixIndex } from "./prefix-index.js";
import type { State, Tx } from "./state.js";
import { registerTaggable } from "./tags.js";
import { getAttachment, getTgwRouteTable, incorrectState, type Reader } from "./transit-gateway-lookup.js";
import type {
  Tags,
  TgwAttachmentResourceType,
  TgwStaticRoute,
  TransitGateway,
  TransitGatewayAttachment,
  TransitGatewayRouteTable,
} from "./types.js";

registerTaggable("tgw-rtb", "transitGatewayRouteTable", "transit-gateway-route-table");

/** A route as a TGW route table holds it: static ones as written, propagated ones derived. */
export interface TgwRoute {
  readonly destinationCidr: string;
  readonly type: "static" | "propagated";
  readonly state: "active" | "blackhole";
  readonly attachmentId?: string;
  readonly resourceType?: TgwAttachmentResourceType;
  readonly resourceId?: string;
}

/**
 * The CIDRs an attachment propagates, per resource type. VPC attachments propagate the VPC's
 * blocks; the on-premises attachments (VPN, Direct Connect gateway) register their own.
 */
const propagatedCidrs = new Map<
  TgwAttachmentResourceType,
  (r: Reader, a: TransitGatewayAttachment) => string[]
>();
export function registerPropagatedCidrs(
  type: TgwAttachmentResourceType,
  f: (r: Reader, a: TransitGatewayAttachment) => string[],
): void {
  propagatedCidrs.set(type, f);
}

registerPropagatedCidrs("vpc", (r, a) => {
  const vpc = a.vpc && r.get("vpc", a.vpc.vpcId);
  return vpc ? vpc.cidrBlocks.filter((b) => b.state === "associated").map((b) => b.cidr) : [];
});

/**
 * AWS's order for routes to the same prefix: static first, then propagated routes by where they
 * came from (VPC, Direct Connect gateway, Connect, VPN, TGW peering).
 */
const PROPAGATED_RANK: Record<TgwAttachmentResourceType, number> = {
  vpc: 1,
  "direct-connect-gateway": 2,
  connect: 3,
  vpn: 4,
  peering: 5,
};

export function routeRank(r: TgwRoute): number {
  return r.type === "static" ? 0 : PROPAGATED_RANK[r.resourceType ?? "peering"];
}

export function tgwRoutes(reader: Reader, table: TransitGatewayRouteTable): TgwRoute[] {
  const out: TgwRoute[] = [];
  for (const s of table.staticRoutes) {
    const a = s.attachmentId ? reader.get("transitGatewayAttachment", s.attachmentId) : undefined;
    out.push({
      destinationCidr: s.destinationCidr,
      type: "static",
      state: !s.blackhole && a?.state === "available" ? "active" : "blackhole",
      attachmentId: s.attachmentId,
      resourceType: a?.resourceType,
      resourceId: a?.resourceId,
    });
  }
  for (const id of table.propagations) {
    const a = reader.get("transitGatewayAttachment", id);
    if (a?.state !== "available") continue;
    for (const cidr of propagatedCidrs.get(a.resourceType)?.(reader, a) ?? [])
      out.push({
        destinationCidr: cidr,
        type: "propagated",
        state: "active",
        attachmentId: a.id,
        resourceType: a.resourceType,
        resourceId: a.resourceId,
      });
  }
  return out;
}

interface Compiled {
  readonly version: number;
  readonly index: PrefixIndex<TgwRoute>;
}

const compiled = new WeakMap<TransitGatewayRouteTable, Compiled>();

/** Added in AWS's tie-break order, so that the index keeps the winner for each prefix. */
function compile(reader: Reader, table: TransitGatewayRouteTable): PrefixIndex<TgwRoute> {
  const index = new PrefixIndex<TgwRoute>();
  const routes = tgwRoutes(reader, table).sort(
    (a, b) => routeRank(a) - routeRank(b) || (a.attachmentId ?? "").localeCompare(b.attachmentId ?? ""),
  );
  for (const r of routes) {
    const c = parseCidr(r.destinationCidr)!;
    index.add(c.base, c.prefix, r);
  }
  return index;
}

/**
 * Longest-prefix match with AWS's tie-break. Against the committed state the compiled table is
 * kept per state version, so that a flow decision costs a few hash lookups.
 */
export function lookupTgwRoute(
  reader: Reader,
  table: TransitGatewayRouteTable,
  ip: number,
): TgwRoute | undefined {
  const version = "version" in reader ? (reader as State).version : -1;
  let c = compiled.get(table);
  if (!c || c.version !== version || version === -1) {
    c = { version, index: compile(reader, table) };
    if (version !== -1) compiled.set(table, c);
  }
  return c.index.match(ip)?.value;
}

export function newTgwRouteTable(
  tx: Tx,
  ctx: Ctx,
  tgw: TransitGateway,
  opts: { isDefault?: boolean; tags?: Tags } = {},
): TransitGatewayRouteTable {
  return tx.put("transitGatewayRouteTable", {
    id: newId(ctx.rt, "tgw-rtb"),
    accountId: tgw.accountId,
    region: tgw.region,
    tags: opts.tags ?? {},
    transitGatewayId: tgw.id,
    state: "available",
    defaultAssociationRouteTable: !!opts.isDefault,
    defaultPropagationRouteTable: !!opts.isDefault,
    staticRoutes: [],
    propagations: [],
    createdAt: isoNow(ctx),
  });
}

export function tgwRouteTablesOf(tx: Tx, ctx: Ctx): TransitGatewayRouteTable[] {
  return [...tx.all("transitGatewayRouteTable")].filter(
    (r) => r.accountId === ctx.accountId && r.region === ctx.region && r.state !== "deleted",
  );
}

export function deleteTgwRouteTable(tx: Tx, ctx: Ctx, id: string | undefined): TransitGatewayRouteTable {
  const r = getTgwRouteTable(tx, ctx, id);
  if (associationsOf(tx, r).length > 0)
    throw incorrectState(`Transit Gateway Route Table ${r.id} has associations and cannot be deleted.`);
  const tgw = tx.get("transitGateway", r.transitGatewayId);
  if (
    tgw &&
    (tgw.options.associationDefaultRouteTableId === r.id ||
      tgw.options.propagationDefaultRouteTableId === r.id)
  )
    tx.put("transitGateway", {
      ...tgw,
      options: {
        ...tgw.options,
        associationDefaultRouteTableId:
          tgw.options.associationDefaultRouteTableId === r.id
            ? undefined
            : tgw.options.associationDefaultRouteTableId,
        propagationDefaultRouteTableId:
          tgw.options.propagationDefaultRouteTableId === r.id
            ? undefined
            : tgw.options.propagationDefaultRouteTableId,
      },
    });
  return tx.put("transitGatewayRouteTable", { ...r, state: "deleted", propagations: [], staticRoutes: [] });
}

export function associationsOf(tx: Reader, r: TransitGatewayRouteTable): TransitGatewayAttachment[] {
  return [...tx.all("transitGatewayAttachment")].filter(
    (a) => a.associatedRouteTableId === r.id && a.state !== "deleted",
  );
}

/** Attachment and table must belong to the same TGW, and the attachment must be up. */
function pair(tx: Tx, ctx: Ctx, tableId?: string, attachmentId?: string) {
  const table = getTgwRouteTable(tx, ctx, tableId);
  const att = getAttachment(tx, ctx, attachmentId);
  if (att.transitGatewayId !== table.transitGatewayId)
    throw invalidParameterValue(
      `Transit Gateway Attachment ${att.id} and Transit Gateway Route Table ${table.id} belong to different transit gateways.`,
    );
  if (att.state !== "available" && att.state !== "modifying")
    throw incorrectState(`Transit Gateway Attachment ${att.id} is in invalid state ${att.state}.`);
  return { table, att };
}

export function associateTgwRouteTable(tx: Tx, ctx: Ctx, tableId?: string, attachmentId?: string) {
  const { table, att } = pair(tx, ctx, tableId, attachmentId);
  if (att.associatedRouteTableId)
    throw new AwsError(
      "Resource.AlreadyAssociated",
      `Transit Gateway Attachment ${att.id} is already associated to a route table.`,
    );
  tx.put("transitGatewayAttachment", { ...att, associatedRouteTableId: table.id });
  return { table, att };
}

export function disassociateTgwRouteTable(tx: Tx, ctx: Ctx, tableId?: string, attachmentId?: string) {
  const table = getTgwRouteTable(tx, ctx, tableId);
  const att = getAttachment(tx, ctx, attachmentId);
  if (att.associatedRouteTableId !== table.id)
    throw new AwsError(
      "InvalidAssociation.NotFound",
      `Transit Gateway Attachment ${att.id} is not associated with Transit Gateway Route Table ${table.id}.`,
    );
  tx.put("transitGatewayAttachment", { ...att, associatedRouteTableId: undefined });
  return { table, att };
}

export function enableTgwPropagation(tx: Tx, ctx: Ctx, tableId?: string, attachmentId?: string) {
  const { table, att } = pair(tx, ctx, tableId, attachmentId);
  if (table.propagations.includes(att.id))
    throw new AwsError(
      "TransitGatewayRouteTablePropagation.Duplicate",
      `Transit Gateway Attachment ${att.id} already propagates to Transit Gateway Route Table ${table.id}.`,
    );
  tx.put("transitGatewayRouteTable", { ...table, propagations: [...table.propagations, att.id] });
  return { table, att };
}

export function disableTgwPropagation(tx: Tx, ctx: Ctx, tableId?: string, attachmentId?: string) {
  const table = getTgwRouteTable(tx, ctx, tableId);
  const att = getAttachment(tx, ctx, attachmentId);
  if (!table.propagations.includes(att.id))
    throw new AwsError(
      "TransitGatewayRouteTablePropagation.NotFound",
      `Transit Gateway Attachment ${att.id} does not propagate to Transit Gateway Route Table ${table.id}.`,
    );
  tx.put("transitGatewayRouteTable", {
    ...table,
    propagations: table.propagations.filter((p) => p !== att.id),
  });
  return { table, att };
}

/** Every route table stops hearing of an attachment that goes away. */
export function forgetAttachment(tx: Tx, attachmentId: string): void {
  for (const t of tx.all("transitGatewayRouteTable"))
    if (t.propagations.includes(attachmentId))
      tx.put("transitGatewayRouteTable", {
        ...t,
        propagations: t.propagations.filter((p) => p !== attachmentId),
      });
}

export interface TgwRouteInput {
  destinationCidr?: string;
  attachmentId?: string;
  blackhole?: boolean;
}

function checkRouteInput(tx: Tx, ctx: Ctx, table: TransitGatewayRouteTable, input: TgwRouteInput) {
  if (!input.destinationCidr) throw missingParameter("DestinationCidrBlock");
  if (!parseCidr(input.destinationCidr) || !isCanonicalCidr(input.destinationCidr))
    throw invalidParameterValue(
      `Value (${input.destinationCidr}) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block.`,
    );
  if (input.blackhole && input.attachmentId)
    throw new AwsError(
      "InvalidParameterCombination",
      "Transit Gateway Attachment ID and Blackhole cannot both be specified.",
    );
  if (!input.blackhole && !input.attachmentId)
    throw missingParameter("TransitGatewayAttachmentId or Blackhole");
  if (input.attachmentId) {
    const att = getAttachment(tx, ctx, input.attachmentId);
    if (att.transitGatewayId !== table.transitGatewayId)
      throw invalidParameterValue(
        `Transit Gateway Attachment ${att.id} does not belong to ${table.transitGatewayId}.`,
      );
  }
}

function staticRoute(input: TgwRouteInput): TgwStaticRoute {
  return {
    destinationCidr: input.destinationCidr!,
    attachmentId: input.attachmentId,
    blackhole: !!input.blackhole,
  };
}

function putStatic(
  tx: Tx,
  table: TransitGatewayRouteTable,
  routes: TgwStaticRoute[],
  cidr: string,
): TgwRoute {
  const next = tx.put("transitGatewayRouteTable", { ...table, staticRoutes: routes });
  return tgwRoutes(tx, next).find((r) => r.type === "static" && r.destinationCidr === cidr)!;
}

export function createTgwRoute(
  tx: Tx,
  ctx: Ctx,
  tableId: string | undefined,
  input: TgwRouteInput,
): TgwRoute {
  const table = getTgwRouteTable(tx, ctx, tableId);
  checkRouteInput(tx, ctx, table, input);
  if (table.staticRoutes.some((s) => s.destinationCidr === input.destinationCidr))
    throw new AwsError(
      "RouteAlreadyExists",
      `Route ${input.destinationCidr} already exists in Transit Gateway Route Table ${table.id}.`,
    );
  return putStatic(tx, table, [...table.staticRoutes, staticRoute(input)], input.destinationCidr!);
}

function routeNotFound(table: TransitGatewayRouteTable, cidr?: string): AwsError {
  return new AwsError(
    "InvalidRoute.NotFound",
    `No route with destination-cidr-block ${cidr ?? ""} in Transit Gateway Route Table ${table.id}.`,
  );
}

export function replaceTgwRoute(
  tx: Tx,
  ctx: Ctx,
  tableId: string | undefined,
  input: TgwRouteInput,
): TgwRoute {
  const table = getTgwRouteTable(tx, ctx, tableId);
  checkRouteInput(tx, ctx, table, input);
  if (!table.staticRoutes.some((s) => s.destinationCidr === input.destinationCidr))
    throw routeNotFound(table, input.destinationCidr);
  const routes = table.staticRoutes.map((s) =>
    s.destinationCidr === input.destinationCidr ? staticRoute(input) : s,
  );
  return putStatic(tx, table, routes, input.destinationCidr!);
}

export function deleteTgwRoute(
  tx: Tx,
  ctx: Ctx,
  tableId: string | undefined,
  cidr: string | undefined,
): TgwRoute {
  const table = getTgwRouteTable(tx, ctx, tableId);
  if (!cidr) throw missingParameter("DestinationCidrBlock");
  const route = tgwRoutes(tx, table).find((r) => r.type === "static" && r.destinationCidr === cidr);
  if (!route) throw routeNotFound(table, cidr);
  tx.put("transitGatewayRouteTable", {
    ...table,
    staticRoutes: table.staticRoutes.filter((s) => s.destinationCidr !== cidr),
  });
  return { ...route, state: "blackhole" };
}

/** SearchTransitGatewayRoutes' route-search filters, on top of the plain field filters. */
export function routeSearchMatches(
  route: TgwRoute,
  name: string,
  values: readonly string[],
): boolean | undefined {
  const r = parseCidr(route.destinationCidr)!;
  const any = (f: (c: { base: number; size: number; prefix: number }) => boolean) =>
    values.some((v) => {
      const c = parseCidr(v);
      return !!c && f(c);
    });
  if (name === "route-search.exact-match") return values.includes(route.destinationCidr);
  if (name === "route-search.subnet-of-match")
    return any((c) => r.prefix >= c.prefix && cidrContains(c, r.base));
  if (name === "route-search.supernet-of-match")
    return any((c) => r.prefix <= c.prefix && cidrContains(r, c.base));
  if (name === "route-search.longest-prefix-match") return undefined; // needs the whole table
  return undefined;
}

/** The one route (or routes, on a tie) longest-prefix-matching each value: route-search.longest-prefix-match. */
export function longestPrefixMatches(routes: readonly TgwRoute[], values: readonly string[]): Set<TgwRoute> {
  const out = new Set<TgwRoute>();
  for (const v of values) {
    const c = parseCidr(v);
    if (!c) continue;
    let best = -1;
    let hits: TgwRoute[] = [];
    for (const r of routes) {
      const rc = parseCidr(r.destinationCidr)!;
      if (rc.prefix > c.prefix || !cidrContains(rc, c.base)) continue;
      if (rc.prefix > best) {
        best = rc.prefix;
        hits = [r];
      } else if (rc.prefix === best) hits.push(r);
    }
    for (const h of hits) out.add(h);
  }
  return out;
}

export { getTgwRouteTable };
