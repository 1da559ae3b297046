import { awsPrefixLists } from "../cloud/catalog.js";
import { cidrContains, parseCidr } from "../cloud/cidr.js";
import { PrefixIndex } from "../cloud/prefix-index.js";
import type { State } from "../cloud/state.js";
import type { Route, RouteTable, Subnet } from "../cloud/types.js";
import { stateIndex } from "./index-cache.js";
import type { Hop } from "./types.js";

/** The route table that governs a subnet: its explicit association, else the VPC's main table. */
export function routeTableOf(state: State, subnet: Subnet): RouteTable | undefined {
  return stateIndex(state).routeTableOf(subnet);
}

function prefixOf(route: Route, region: string, ip: number): number | undefined {
  if (route.destinationCidr !== undefined) {
    const c = parseCidr(route.destinationCidr);
    return c && cidrContains(c, ip) ? c.prefix : undefined;
  }
  if (route.destinationPrefixListId !== undefined) {
    const list = awsPrefixLists(region).find((p) => p.id === route.destinationPrefixListId);
    let best: number | undefined;
    for (const text of list?.cidrs ?? []) {
      const c = parseCidr(text);
      if (c && cidrContains(c, ip) && (best === undefined || c.prefix > best)) best = c.prefix;
    }
    return best;
  }
  return undefined;
}

interface CompiledTable {
  readonly cidrs: PrefixIndex<Route>;
  readonly prefixLists: readonly Route[];
}

// Route tables are immutable objects: a compiled form per object is exact until the table changes.
const compiledTables = new WeakMap<RouteTable, CompiledTable>();

function compiled(table: RouteTable): CompiledTable {
  let c = compiledTables.get(table);
  if (c) return c;
  const cidrs = new PrefixIndex<Route>();
  const prefixLists: Route[] = [];
  for (const r of table.routes) {
    const p = r.destinationCidr !== undefined ? parseCidr(r.destinationCidr) : undefined;
    if (p) cidrs.add(p.base, p.prefix, r);
    else if (r.destinationPrefixListId !== undefined) prefixLists.push(r);
  }
  c = { cidrs, prefixLists };
  compiledTables.set(table, c);
  return c;
}

/**
 * Longest-prefix match, as the VPC router does. Blackhole routes take part: a packet that
 * matches one most specifically is dropped, not sent down a shorter route.
 */
export function longestMatch(table: RouteTable, ip: number): Route | undefined {
  const c = compiled(table);
  const hit = c.cidrs.match(ip);
  let best = hit?.value;
  let bestPrefix = hit?.prefix ?? -1;
  for (const r of c.prefixLists) {
    const p = prefixOf(r, table.region, ip);
    // Same prefix: a static route wins over a propagated one (AWS's VPC route priority).
    const beats =
      p === bestPrefix && best?.origin === "EnableVgwRoutePropagation" && r.origin !== best.origin;
    if (p !== undefined && (p > bestPrefix || beats)) {
      best = r;
      bestPrefix = p;
    }
  }
  return best;
}

export function describeTarget(route: Route): string {
  const t = route.target;
  return t.kind === "local" ? "local" : t.id;
}

/**
 * Whether `route` takes a flow out of privlink's world (to an outside address): an internet
 * gateway attached to the VPC, or an available public NAT gateway whose own subnet reaches one.
 */
export function internetHops(
  state: State,
  route: Route | undefined,
  vpcId: string,
  ip: number,
  label: string,
): Hop[] {
  const none: Hop = {
    kind: "route",
    allowed: false,
    detail: `no route to ${label}: subnet has no internet or NAT route`,
  };
  if (!route) return [none];
  const t = route.target;
  if (route.state === "blackhole") return [blackhole(route, label)];
  const via = `${route.destinationCidr ?? route.destinationPrefixListId} via ${describeTarget(route)}`;
  if (t.kind === "gateway" && t.id.startsWith("igw-")) {
    const igw = state.get("internetGateway", t.id);
    const attached = !!igw?.attachments.some((a) => a.vpcId === vpcId && a.state === "available");
    return [
      { kind: "route", allowed: true, resource: t.id, detail: `route ${via}` },
      attached
        ? {
            kind: "internet-gateway",
            allowed: true,
            resource: t.id,
            detail: `${t.id} is attached to ${vpcId}`,
          }
        : {
            kind: "internet-gateway",
            allowed: false,
            resource: t.id,
            detail: `no route to ${label}: ${t.id} is not attached to ${vpcId}`,
          },
    ];
  }
  if (t.kind === "nat")
    return [
      { kind: "route", allowed: true, resource: t.id, detail: `route ${via}` },
      natHop(state, t.id, ip, label),
    ];
  if (t.kind === "local") return [none];
  return [
    {
      kind: "route",
      allowed: false,
      resource: t.id,
      detail: `no route to ${label}: route ${via} does not lead to the internet`,
    },
  ];
}

export function natHop(state: State, natId: string, ip: number, label: string): Hop {
  const nat = state.get("natGateway", natId);
  if (nat?.state !== "available")
    return {
      kind: "nat-gateway",
      allowed: false,
      resource: natId,
      detail: `no route to ${label}: NAT gateway ${natId} is ${nat?.state ?? "gone"} (blackhole)`,
    };
  if (nat.connectivityType !== "public")
    return {
      kind: "nat-gateway",
      allowed: false,
      resource: natId,
      detail: `no route to ${label}: ${natId} is a private NAT gateway`,
    };
  const subnet = state.get("subnet", nat.subnetId);
  const table = subnet && routeTableOf(state, subnet);
  const onward = table && longestMatch(table, ip);
  const t = onward?.target;
  const igw =
    t?.kind === "gateway" && t.id.startsWith("igw-") ? state.get("internetGateway", t.id) : undefined;
  if (!igw?.attachments.some((a) => a.vpcId === nat.vpcId))
    return {
      kind: "nat-gateway",
      allowed: false,
      resource: natId,
      detail: `no route to ${label}: NAT gateway ${natId} is in ${nat.subnetId}, which has no internet gateway route`,
    };
  return {
    kind: "nat-gateway",
    allowed: true,
    resource: natId,
    detail: `${natId} translates to its public address and leaves by ${igw.id}`,
  };
}

export function blackhole(route: Route, label: string): Hop {
  const t = route.target;
  return {
    kind: "route",
    allowed: false,
    resource: t.kind === "local" ? undefined : t.id,
    detail: `no route to ${label}: the route ${route.destinationCidr ?? route.destinationPrefixListId} via ${describeTarget(route)} is a blackhole`,
  };
}
