import { formatIp, parseCidr } from "../cloud/cidr.js";
import { implicitAssociationId } from "../cloud/network-acl.js";
import type { State } from "../cloud/state.js";
import type { Eni, Listener, NetworkAcl, RouteTable, Subnet, Vpc, VpcEndpoint } from "../cloud/types.js";

/**
 * Lookups the decision needs on every flow, built once per state version: finding an
 * interface by address, the endpoint behind an interface, a subnet's route table or network
 * ACL, or the VPC behind a host address would otherwise scan every table on every flow.
 *
 * Exactness: state objects are immutable (a change puts a new object) and every commit bumps
 * `state.version`, so an index built at one version answers exactly what a scan of that version
 * would; a new version throws the whole index away. Each lookup table is built lazily, on its
 * first use at a version, so a write-heavy server pays only for the tables flows read.
 */
export interface StateIndex {
  readonly version: number;
  eniAt(vpcId: string, privateIp: string): Eni | undefined;
  endpointOfEni(eniId: string): VpcEndpoint | undefined;
  listenersOf(loadBalancerArn: string): readonly Listener[];
  /** The route table that governs a subnet: its explicit association, else its VPC's main table. */
  routeTableOf(subnet: Pick<Subnet, "id" | "vpcId">): RouteTable | undefined;
  /** The network ACL that governs a subnet (cloud/network-acl.ts networkAclOf, indexed). */
  networkAclOf(subnet: Pick<Subnet, "id" | "vpcId">): { acl: NetworkAcl; associationId: string } | undefined;
  /** A host address (127.S.x.y) back to its VPC and private IP (cloud/addressing.ts privateIpOfHost, indexed). */
  privateIpOfHost(host: string): { vpc: Vpc; privateIp: string } | undefined;
}

const built = new WeakMap<State, StateIndex>();

export function stateIndex(state: State): StateIndex {
  const cached = built.get(state);
  if (cached && cached.version === state.version) return cached;
  const index = buildIndex(state);
  built.set(state, index);
  return index;
}

/** `build()` once, on first use. */
function lazy<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= build();
    return value;
  };
}

function groupBy<T>(items: Iterable<T>, key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

interface SubnetTables<T> {
  /** subnet ID → the first table (in state order) that lists it explicitly, with the association. */
  readonly explicit: Map<string, { value: T; associationId: string }>;
  /** VPC ID → its fallback table (the last main/default one in state order, as the scans pick). */
  readonly fallback: Map<string, T>;
}

function routeTables(state: State): SubnetTables<RouteTable> {
  const explicit = new Map<string, { value: RouteTable; associationId: string }>();
  const fallback = new Map<string, RouteTable>();
  for (const t of state.all("routeTable"))
    for (const a of t.associations) {
      const key = a.subnetId && `${t.vpcId}|${a.subnetId}`;
      if (key && !explicit.has(key)) explicit.set(key, { value: t, associationId: a.id });
      if (a.main) fallback.set(t.vpcId, t);
    }
  return { explicit, fallback };
}

function networkAcls(state: State): SubnetTables<NetworkAcl> {
  const explicit = new Map<string, { value: NetworkAcl; associationId: string }>();
  const fallback = new Map<string, NetworkAcl>();
  for (const a of state.all("networkAcl")) {
    for (const x of a.associations) {
      const key = `${a.vpcId}|${x.subnetId}`;
      if (!explicit.has(key)) explicit.set(key, { value: a, associationId: x.id });
    }
    if (a.isDefault) fallback.set(a.vpcId, a);
  }
  return { explicit, fallback };
}

/** slot → the first VPC block (in state order) holding it: base and size. */
function slots(state: State): Map<number, { vpc: Vpc; base: number; size: number }> {
  const out = new Map<number, { vpc: Vpc; base: number; size: number }>();
  for (const vpc of state.all("vpc"))
    for (const b of vpc.cidrBlocks) {
      if (b.slot === undefined || out.has(b.slot)) continue;
      const c = parseCidr(b.cidr)!;
      out.set(b.slot, { vpc, base: c.base, size: c.size });
    }
  return out;
}

const HOST = /^127\.(\d+)\.(\d+)\.(\d+)$/;

function buildIndex(state: State): StateIndex {
  const enis = lazy(() => {
    const m = new Map<string, Eni>();
    for (const e of state.all("eni")) m.set(`${e.vpcId}|${e.privateIp}`, e);
    return m;
  });
  const endpoints = lazy(() => {
    const m = new Map<string, VpcEndpoint>();
    for (const ep of state.all("vpcEndpoint")) for (const n of ep.enis) m.set(n.eniId, ep);
    return m;
  });
  const listeners = lazy(() => groupBy(state.all("listener"), (l) => l.loadBalancerArn));
  const rtbs = lazy(() => routeTables(state));
  const acls = lazy(() => networkAcls(state));
  const hosts = lazy(() => slots(state));
  return {
    version: state.version,
    eniAt: (vpcId, ip) => enis().get(`${vpcId}|${ip}`),
    endpointOfEni: (id) => endpoints().get(id),
    listenersOf: (arn) => listeners().get(arn) ?? [],
    routeTableOf: (subnet) => {
      const t = rtbs();
      return t.explicit.get(`${subnet.vpcId}|${subnet.id}`)?.value ?? t.fallback.get(subnet.vpcId);
    },
    networkAclOf: (subnet) => {
      const t = acls();
      const hit = t.explicit.get(`${subnet.vpcId}|${subnet.id}`);
      if (hit) return { acl: hit.value, associationId: hit.associationId };
      const acl = t.fallback.get(subnet.vpcId);
      return acl && { acl, associationId: implicitAssociationId(subnet.id) };
    },
    privateIpOfHost: (host) => {
      const m = HOST.exec(host);
      if (!m) return undefined;
      const slot = Number(m[1]);
      const offset = (Number(m[2]) << 8) | Number(m[3]);
      if (slot === 0) return undefined;
      const block = hosts().get(slot);
      if (!block || offset >= block.size) return undefined;
      return { vpc: block.vpc, privateIp: formatIp(block.base + offset) };
    },
  };
}
