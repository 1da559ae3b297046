/**
 * From the state to the zones each resolver answers from (spec §4, DESIGN.md "DNS").
 *
 * A VPC's view, in order of authority:
 *   1. the private hosted zones associated with the VPC;
 *   2. the private DNS names of the VPC's interface endpoints with PrivateDnsEnabled (one zone
 *      per domain, the AWS-managed hidden PHZ);
 *   3. copies of the VPC's own endpoints' regional and zonal names (the public answer, served
 *      from the VPC view so that the common case stays on the prepared-answer fast path);
 *   4. everything else: the public view, through the fallback.
 * The public view: public hosted zones, then `vpce.amazonaws.com` with every endpoint's regional
 * and zonal names, then (fallback) AWS public service names and, with `--dns-forward`, the
 * machine's resolver; other names are NXDOMAIN. The vpce.amazonaws.com names are held in
 * {@link VPCE_SHARDS} views by endpoint ({@link vpceShard}), so that one endpoint's change
 * rebuilds a small view rather than one holding every endpoint's names.
 *
 * Cost: {@link ZoneData} keeps every view's data from the change feed, so that a commit costs
 * the views it touches (the endpoint's VPC, its shards), not the whole state.
 *
 * Addresses (loopback mode): an endpoint ENI's address is given as its host address 127.S.x.y.
 * An A record a user wrote in a hosted zone is mapped when it lies in a privlink network: in a
 * VPC view, an address inside the querying VPC becomes its host address there; otherwise an
 * address held by ENIs of exactly one VPC becomes the host address in that VPC. Others are
 * returned as they are.
 *
 * AWS public service names (`secretsmanager.us-east-1.amazonaws.com` outside a VPC with the
 * endpoint) resolve to {@link AWS_PUBLIC_ADDRESS}, 127.0.0.1, privlink's own edge: the address
 * that stands for "the public AWS endpoint". The data plane's flow decision refuses it from
 * subnets without an internet or NAT route, as AWS would.
 */
import dgram from "node:dgram";
import { readFileSync } from "node:fs";
import net from "node:net";
import packet from "dns-packet";
import { AWS_PUBLIC_ADDRESS, hostAddressOf } from "../cloud/addressing.js";
import { awsServiceByPrivateDnsName } from "../cloud/catalog.js";
import { endpointAnsweredNames } from "../cloud/endpoint-dns.js";
import { endpointServesDns, inZone, parseRecordValue } from "../cloud/hosted-zone.js";
import type { Change, State } from "../cloud/state.js";
import type {
  EndpointService,
  Eni,
  HostedZone,
  Instance,
  RecordSet,
  Vpc,
  VpcEndpoint,
  VpcPeeringConnection,
} from "../cloud/types.js";
import { gatewayServiceOfName } from "../flow/gateway-endpoint.js";
import { InstanceNames, type Touched } from "./instance-names.js";
import { canonicalName } from "./name.js";
import type { TtlCache } from "./ttl-cache.js";
import {
  type Alias,
  type Answer,
  ENDPOINT_RECORD_TTL,
  type Fallback,
  type RR,
  type RRType,
  type Zone,
} from "./view.js";

/** Where AWS public service names point: privlink's edge (see the module comment). */
export { AWS_PUBLIC_ADDRESS };
export const VPCE_ORIGIN = "vpce.amazonaws.com";
const AWS_ORIGIN = "amazonaws.com";
const AWS_NAME_TTL = 60;

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

const byCreation = <T extends { createdAt: string; id: string }>(a: T, b: T) =>
  a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1;

// ---------------------------------------------------------------------------------------------
// Addresses

/** A user-written address → the address served (the module comment's rule; ZoneData's mapper). */
type Mapper = (ip: string) => string;

// ---------------------------------------------------------------------------------------------
// Endpoint records

interface NamedAddresses {
  readonly name: string;
  readonly kind: "regional" | "zonal" | "private";
  readonly addresses: string[];
}

/** The endpoint's names with the host addresses of the ENIs each resolves to. */
export function endpointAddresses(state: State, e: VpcEndpoint): NamedAddresses[] {
  const vpc = state.get("vpc", e.vpcId);
  const enis = e.enis.flatMap((ref) => {
    const eni = state.get("eni", ref.eniId);
    if (!eni) return [];
    const az = state.get("subnet", ref.subnetId)?.az ?? eni.az;
    return [{ az, address: (vpc && hostAddressOf(vpc, eni.privateIp)) ?? eni.privateIp }];
  });
  return endpointAnsweredNames(state, e).map((n) => ({
    name: n.name.toLowerCase(),
    kind: n.kind,
    addresses: enis.filter((x) => n.kind !== "zonal" || x.az === n.az).map((x) => x.address),
  }));
}

/**
 * DnsRecordIpType decides the record types (spec §4.2). privlink's ENIs have IPv4 addresses
 * only, so AAAA records (ipv6, dualstack) have nothing to point at and are left out.
 */
function endpointRRs(e: VpcEndpoint, n: NamedAddresses): RR[] {
  if (e.dnsRecordIpType === "ipv6") return [];
  return n.addresses.map((a) => ({ name: n.name, type: "A", ttl: ENDPOINT_RECORD_TTL, data: a }));
}

const originOf = (name: string) => (name.startsWith("*.") ? name.slice(2) : name);

/** One zone per origin: `x` and `*.x` share the zone `x`. */
function zonesByOrigin(rrs: readonly RR[]): Zone[] {
  const byOrigin = new Map<string, RR[]>();
  for (const r of rrs) push(byOrigin, originOf(r.name), r);
  return [...byOrigin].map(([origin, records]) => ({ origin, records }));
}

// ---------------------------------------------------------------------------------------------
// Hosted zones

function rrData(type: string, value: string, map: Mapper): unknown {
  const data = parseRecordValue(type, value);
  return type === "A" ? map(data as string) : data;
}

export function hostedZoneToZone(z: HostedZone, records: readonly RecordSet[], map: Mapper): Zone {
  const rrs: RR[] = [];
  const aliases: Alias[] = [];
  for (const r of records) {
    if (r.alias) {
      aliases.push({ name: r.name, type: r.type as "A" | "AAAA", target: r.alias.dnsName });
      continue;
    }
    for (const v of r.values) {
      try {
        rrs.push({ name: r.name, type: r.type as RRType, ttl: r.ttl ?? 300, data: rrData(r.type, v, map) });
      } catch {
        // Values are validated when written; one that no longer parses is left out, not fatal.
      }
    }
  }
  return { origin: z.name, records: rrs, aliases };
}

// ---------------------------------------------------------------------------------------------
// Zone data, kept from the change feed

/** Which view a zone list is for: {@link PUBLIC_MAIN}, a shard ({@link shardView}), or a VPC ID. */
export type ViewId = string;

/** The public hosted zones, with copies of the endpoint names their aliases and CNAMEs point at. */
export const PUBLIC_MAIN: ViewId = "public";

/** Public endpoint names are split into this many views by endpoint (see {@link vpceShard}). */
export const VPCE_SHARDS = 256;

/** The shard of names under vpce.amazonaws.com that carry no endpoint label (service names and above). */
export const SKELETON = -1;

export const shardView = (shard: number): ViewId => (shard === SKELETON ? "skeleton" : `shard:${shard}`);

/** Labels of {@link VPCE_ORIGIN}. */
const ORIGIN_LABELS = 3;

/**
 * The endpoint label a name under vpce.amazonaws.com hangs from: its rightmost label shaped
 * `vpce-<id>…` (not `vpce-svc-…`, part of a customer service's base name), keyed by `vpce-<id>`,
 * and the name above it. Endpoint names are `[*.]vpce-<id>-<suffix>[-<az>].<base>`, so every
 * record at or below a name shares that label with it: the label alone says which records the
 * name's answer can depend on.
 */
function endpointLabel(name: string): { key: string; parent: string } | undefined {
  const labels = name.split(".");
  for (let i = labels.length - 1 - ORIGIN_LABELS; i >= 0; i--) {
    const l = labels[i]!;
    if (!l.startsWith("vpce-") || l.startsWith("vpce-svc-")) continue;
    const dash = l.indexOf("-", 5);
    return { key: dash < 0 ? l : l.slice(0, dash), parent: labels.slice(i + 1).join(".") };
  }
  return undefined;
}

/**
 * The shard that answers a name under vpce.amazonaws.com: by its endpoint label (FNV-1a), or
 * {@link SKELETON} when it has none. A shard answers such a name exactly as one zone holding
 * every endpoint name would: the names the answer depends on all share the label, and the
 * skeleton keeps the empty non-terminals above the labels.
 */
export function vpceShard(name: string): number {
  const label = endpointLabel(name);
  if (!label) return SKELETON;
  let h = 0x811c9dc5;
  for (let i = 0; i < label.key.length; i++) h = Math.imul(h ^ label.key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % VPCE_SHARDS;
}

/**
 * Homes by name: a shard's rebuild asks it of every name of its ~40 endpoints, and a name's home
 * never changes (a pure function of the name, so nothing here can go stale). Bounded.
 */
const HOMES = new Map<string, number>();
/** {@link HOMES}' word for "the main view" (no shard): one lookup per name, not two. */
const MAIN_HOME = -2;
const MAX_HOMES = 200_000;

/** Where a public endpoint name goes: a shard under vpce.amazonaws.com, else the main view. */
function publicHome(name: string): number | undefined {
  const known = HOMES.get(name);
  if (known !== undefined) return known === MAIN_HOME ? undefined : known;
  const home = inZone(originOf(name), VPCE_ORIGIN) ? vpceShard(name) : undefined;
  if (HOMES.size >= MAX_HOMES) HOMES.clear();
  HOMES.set(name, home ?? MAIN_HOME);
  return home;
}

/** A placeholder below each endpoint label's parent, so that the skeleton knows those names exist. */
const SKELETON_LABEL = "vpce-skeleton";

interface NamedRRs {
  readonly name: string;
  readonly kind: "regional" | "zonal" | "private";
  readonly rrs: RR[];
}

/** An endpoint's records, derived again only when the endpoint or what its names read changes. */
interface EndpointEntry {
  readonly id: string;
  readonly vpcId: string;
  readonly createdAt: string;
  readonly names: readonly NamedRRs[];
  /** PrivateDnsOnlyForInboundResolverEndpoint: private names only through a Resolver inbound endpoint. */
  readonly inboundOnly: boolean;
}

/** Two derivations of an endpoint with the same names and records (a derivation that changed nothing). */
function sameEntry(a: EndpointEntry | undefined, b: EndpointEntry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.inboundOnly !== b.inboundOnly || a.vpcId !== b.vpcId || a.names.length !== b.names.length)
    return false;
  for (let i = 0; i < a.names.length; i++) {
    const x = a.names[i]!;
    const y = b.names[i]!;
    if (x.name !== y.name || x.kind !== y.kind || !sameRecords(x.rrs, y.rrs)) return false;
  }
  return true;
}

function endpointEntry(state: State, e: VpcEndpoint): EndpointEntry {
  const names = endpointAddresses(state, e).map((n) => ({
    name: n.name,
    kind: n.kind,
    rrs: endpointRRs(e, n),
  }));
  const inboundOnly = e.privateDnsOnlyForInboundResolverEndpoint === true;
  return {
    id: e.id,
    vpcId: e.vpcId,
    createdAt: e.createdAt,
    names,
    inboundOnly,
  };
}

/** What an endpoint's records read besides the endpoint: its VPC (slot), ENIs and service. */
function endpointTokens(e: VpcEndpoint): string[] {
  const out = [`vpc:${e.vpcId}`, ...e.enis.map((r) => `eni:${r.eniId}`)];
  if (e.serviceId) out.push(`svc:${e.serviceId}`);
  return out;
}

/**
 * Endpoint fields no record reads: a change of these alone (the lifecycle's pending → available,
 * tags, policy, security groups) derives nothing again. The state counts only through
 * endpointServesDns. Every other field, and any field added later, is read as it is.
 */
const NOT_READ_BY_DNS: ReadonlySet<string> = new Set([
  "state",
  "stateChangedAt",
  "lastError",
  "tags",
  "policyDocument",
  "securityGroupIds",
  "routeTableIds",
  "connectionId",
  "clientToken",
  "payerResponsibility",
  "payerResponsibilities",
]);

/** True when `b` gives the same records as `a`: the same value (by identity) in every field read. */
function sameDnsInputs(a: VpcEndpoint, b: VpcEndpoint): boolean {
  if (endpointServesDns(a) !== endpointServesDns(b)) return false;
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  for (const k in y) if (x[k] !== y[k] && !NOT_READ_BY_DNS.has(k)) return false;
  for (const k in x) if (!(k in y) && !NOT_READ_BY_DNS.has(k)) return false;
  return true;
}

/** What endpoint names read of a customer service. */
function serviceKey(svc: EndpointService | undefined): string | undefined {
  return svc && JSON.stringify([svc.region, svc.privateDnsName, svc.privateDnsVerification?.state]);
}

const NONE: ReadonlySet<string> = new Set();

/** Owners (views, endpoints) by the tokens of what they read (`ip:…`, `vpc:…`, `name:…`), and back. */
class Dependents {
  private readonly byToken = new Map<string, Set<string>>();
  private readonly byOwner = new Map<string, readonly string[]>();

  set(owner: string, tokens: Iterable<string>): void {
    const list = [...new Set(tokens)];
    const had = this.byOwner.get(owner);
    // An endpoint derived again reads what it read before: nothing to move in maps this large.
    if (had && had.length === list.length && had.every((t, i) => t === list[i])) return;
    this.delete(owner);
    if (list.length === 0) return;
    this.byOwner.set(owner, list);
    for (const t of list) {
      const s = this.byToken.get(t);
      if (s) s.add(owner);
      else this.byToken.set(t, new Set([owner]));
    }
  }

  delete(owner: string): void {
    for (const t of this.byOwner.get(owner) ?? []) {
      const s = this.byToken.get(t);
      s?.delete(owner);
      if (s?.size === 0) this.byToken.delete(t);
    }
    this.byOwner.delete(owner);
  }

  of(token: string): ReadonlySet<string> {
    return this.byToken.get(token) ?? NONE;
  }

  clear(): void {
    this.byToken.clear();
    this.byOwner.clear();
  }
}

function addTo<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const s = m.get(k);
  if (s) s.add(v);
  else m.set(k, new Set([v]));
}

function removeFrom<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const s = m.get(k);
  s?.delete(v);
  if (s?.size === 0) m.delete(k);
}

function count<K>(m: Map<K, number>, k: K, by: number): number {
  const n = (m.get(k) ?? 0) + by;
  if (n === 0) m.delete(k);
  else m.set(k, n);
  return n;
}

/** Work done so far, for tests that prove it proportional to what changed. */
export interface ZoneDataWork {
  /** Endpoints whose records were derived (again). */
  endpointsDerived: number;
  /** Views whose zones were assembled, to be compared with what they had. */
  zonesAssembled: number;
  /** Zones made again at one origin of a view (an endpoint's names) rather than the whole view assembled. */
  originsAssembled: number;
}

/**
 * The zone data of every view, kept from the change feed: {@link apply} turns a commit's
 * changes into the endpoints to derive again and the views to assemble again (it only marks:
 * O(changes)); {@link take} derives the marked endpoints and hands over the views; {@link zonesOf}
 * assembles one view from the indexes, at the cost of that view's own data. {@link load} starts
 * over from the whole state (start-up, the periodic safety net).
 *
 * What marks what: a VPC marks its view and, when its CIDR blocks (slots) change, its endpoints
 * and the views that mapped its addresses; an ENI marks its endpoint and the views that mapped
 * its IP; an endpoint whose records changed (one whose changed fields no record reads is not
 * even derived again) marks its names' shards, the zones at its names' origins in its VPC's
 * view and, for names outside vpce.amazonaws.com, in the main public view (patches, not
 * assemblies), and the views that copy its names; a service marks its endpoints when what their
 * names read of it changes; a hosted zone or record set marks the views of its zone (the VPCs
 * associated before and after, or the main public view). Subnets are not read: an ENI's AZ
 * never changes.
 */
export class ZoneData {
  readonly work: ZoneDataWork = { endpointsDerived: 0, zonesAssembled: 0, originsAssembled: 0 };
  private readonly dirtyViews = new Set<ViewId>();
  /**
   * Public endpoint names changed since the last {@link take}, by shard: each name's records
   * now (none: gone). A shard not also in {@link dirtyViews} is patched with these instead of
   * assembled again (a shard's names each belong to one endpoint: its label says which).
   */
  private readonly shardPatches = new Map<
    number,
    Map<string, { before: readonly RR[]; now: readonly RR[] }>
  >();
  /**
   * Origins of a VPC view or the main public view whose zone an endpoint's names made, and
   * changed since the last {@link take} (the endpoint's names came, changed or went). A view not
   * also in {@link dirtyViews} gets the zones at these origins made again ({@link originZones})
   * instead of all its zones assembled: a create costs the endpoint's own names, not its VPC's.
   */
  private readonly originPatches = new Map<ViewId, Set<string>>();
  private readonly dirtyEndpoints = new Set<string>();
  private vpcsChanged = false;
  /** Serving endpoints only (endpointServesDns). */
  private readonly endpoints = new Map<string, EndpointEntry>();
  /** The endpoint object each endpoint was last derived from (serving or not). */
  private readonly derivedFrom = new Map<string, VpcEndpoint>();
  private readonly endpointDeps = new Dependents();
  private readonly viewDeps = new Dependents();
  private readonly byVpc = new Map<string, Set<string>>();
  private readonly byShard = new Map<number, Set<string>>();
  /**
   * VPC ID → origin → the VPC's endpoints with a name there; {@link PUBLIC_MAIN} → origin → the
   * endpoints with a public name there outside vpce.amazonaws.com: what {@link originZones} reads.
   */
  private readonly byOrigin = new Map<ViewId, Map<string, Set<string>>>();
  /** Endpoints with public names outside vpce.amazonaws.com (served by the main view). */
  private readonly elsewhere = new Set<string>();
  /** Endpoint label parents → how many names hang from them (the skeleton's data). */
  private readonly parents = new Map<string, number>();
  private readonly publicNames = new Map<string, RR[]>();
  private readonly zones = new Map<string, HostedZone>();
  private readonly privateZonesByVpc = new Map<string, Set<string>>();
  private readonly publicZoneIds = new Set<string>();
  private readonly records = new Map<string, Map<string, RecordSet>>();
  private readonly recordZone = new Map<string, string>();
  private readonly enis = new Map<string, { ip: string; vpcId: string }>();
  /** Private IP → VPC → ENIs holding it there. */
  private readonly holders = new Map<string, Map<string, number>>();
  private readonly vpcBlocks = new Map<string, string>();
  private readonly serviceKeys = new Map<string, string>();
  /** Instances' private and public names (instance-names.ts). */
  private readonly instances: InstanceNames;
  /** The State version the indexes reflect. */
  private version = 0;

  constructor(readonly state: State) {
    this.instances = new InstanceNames(state);
    this.load();
  }

  /** Indexes the whole state again and marks every view and endpoint. */
  load(): void {
    for (const m of [this.endpoints, this.byVpc, this.byShard, this.parents, this.publicNames, this.zones])
      m.clear();
    this.byOrigin.clear();
    this.originPatches.clear();
    this.derivedFrom.clear();
    for (const m of [this.privateZonesByVpc, this.records, this.recordZone, this.enis, this.holders])
      m.clear();
    for (const m of [this.vpcBlocks, this.serviceKeys]) m.clear();
    this.elsewhere.clear();
    this.publicZoneIds.clear();
    this.endpointDeps.clear();
    this.viewDeps.clear();
    for (const vpc of this.state.all("vpc")) {
      this.vpcBlocks.set(vpc.id, JSON.stringify(vpc.cidrBlocks));
      this.dirtyViews.add(vpc.id);
    }
    for (const eni of this.state.all("eni")) this.indexEni(eni.id, eni);
    for (const z of this.state.all("hostedZone")) this.indexZone(z);
    for (const r of this.state.all("recordSet")) this.indexRecord(r);
    for (const svc of this.state.all("endpointService")) this.serviceKeys.set(svc.id, serviceKey(svc)!);
    for (const e of this.state.all("vpcEndpoint")) this.dirtyEndpoints.add(e.id);
    this.instances.load();
    this.dirtyViews.add(PUBLIC_MAIN);
    this.shardPatches.clear();
    for (let s = SKELETON; s < VPCE_SHARDS; s++) this.dirtyViews.add(shardView(s));
    this.vpcsChanged = true;
    this.version = this.state.version;
  }

  /** True when a change has not been taken yet. */
  get pending(): boolean {
    return (
      this.dirtyViews.size > 0 ||
      this.dirtyEndpoints.size > 0 ||
      this.shardPatches.size > 0 ||
      this.originPatches.size > 0 ||
      this.vpcsChanged
    );
  }

  /** Marks what a commit's changes touch; a commit out of sequence (one missed) loads everything. */
  apply(changes: readonly Change[], version: number): void {
    if (version !== this.version + 1) {
      this.load();
      return;
    }
    this.version = version;
    for (const c of changes) {
      switch (c.kind) {
        case "vpc":
          this.onVpc(c.id, c.value as Vpc | undefined);
          break;
        case "eni":
          this.onEni(c.id, c.value as Eni | undefined);
          break;
        case "vpcEndpoint":
          this.onEndpoint(c.id, c.value as VpcEndpoint | undefined);
          break;
        case "endpointService":
          this.onService(c.id, c.value as EndpointService | undefined);
          break;
        case "hostedZone":
          this.onZone(c.id, c.value as HostedZone | undefined);
          break;
        case "recordSet":
          this.onRecord(c.id, c.value as RecordSet | undefined);
          break;
        case "instance":
          this.mark(this.instances.onInstance(c.id, c.value as Instance | undefined));
          break;
        case "vpcPeeringConnection":
          this.mark(this.instances.onPeering(c.id, c.value as VpcPeeringConnection | undefined));
          break;
      }
    }
  }

  /**
   * Derives the marked endpoints; returns the views to assemble, the shards to patch (name →
   * its records now, none when gone; never a shard also in `views`), the VPC views and main
   * public view to patch (origin → its zone now, none when gone; never a view also in `views`)
   * and whether any VPC's blocks changed.
   */
  take(): {
    views: ViewId[];
    patches: Map<number, Map<string, readonly RR[]>>;
    zonePatches: Map<ViewId, Map<string, Zone | undefined>>;
    vpcsChanged: boolean;
  } {
    for (const id of this.dirtyEndpoints) this.derive(id);
    this.dirtyEndpoints.clear();
    const zonePatches = new Map<ViewId, Map<string, Zone | undefined>>();
    for (const [view, origins] of this.originPatches) {
      if (this.dirtyViews.has(view)) continue;
      const zones = this.originZones(view, origins);
      if (zones === undefined) this.dirtyViews.add(view);
      else if (zones.size > 0) zonePatches.set(view, zones);
    }
    this.originPatches.clear();
    const views = [...this.dirtyViews];
    const patches = new Map<number, Map<string, readonly RR[]>>();
    for (const [shard, names] of this.shardPatches) {
      if (this.dirtyViews.has(shardView(shard))) continue;
      // An endpoint derived again with the same public records (its private names changed) patches nothing.
      const changed = new Map<string, readonly RR[]>();
      for (const [name, { before, now }] of names) if (!sameRecords(before, now)) changed.set(name, now);
      if (changed.size > 0) patches.set(shard, changed);
    }
    const vpcsChanged = this.vpcsChanged;
    this.dirtyViews.clear();
    this.shardPatches.clear();
    this.vpcsChanged = false;
    return { views, patches, zonePatches, vpcsChanged };
  }

  /** The zones of a view (before its fallback), or undefined for a VPC that is gone. */
  zonesOf(view: ViewId): Zone[] | undefined {
    this.work.zonesAssembled++;
    const deps = new Set<string>();
    let zones: Zone[] | undefined;
    if (view === PUBLIC_MAIN) zones = this.mainZones(deps);
    else if (view === "skeleton") zones = this.skeletonZones();
    else if (view.startsWith("shard:")) zones = this.shardZones(Number(view.slice(6)));
    else {
      const vpc = this.state.get("vpc", view);
      zones = vpc && this.vpcZones(vpc, deps);
    }
    this.viewDeps.set(view, deps);
    return zones;
  }

  /** Public hosted zone names at or under vpce.amazonaws.com: they take those names from the shards. */
  vpceClaims(): string[] {
    const out: string[] = [];
    for (const id of this.publicZoneIds) {
      const name = this.zones.get(id)!.name;
      if (inZone(name, VPCE_ORIGIN)) out.push(name);
    }
    return out;
  }

  // ---- marking ----

  private mark(t: Touched): void {
    for (const v of t.views) this.dirtyViews.add(v);
    for (const token of t.tokens) for (const v of this.viewDeps.of(token)) this.dirtyViews.add(v);
  }

  /** An endpoint is derived again unless only fields no record reads changed. */
  private onEndpoint(id: string, e: VpcEndpoint | undefined): void {
    const from = this.derivedFrom.get(id);
    if (!from || !e || !sameDnsInputs(from, e)) this.dirtyEndpoints.add(id);
  }

  private onVpc(id: string, vpc: Vpc | undefined): void {
    this.dirtyViews.add(id);
    this.mark(this.instances.onVpc(id, vpc));
    const blocks = vpc && JSON.stringify(vpc.cidrBlocks);
    if (blocks === this.vpcBlocks.get(id)) return;
    if (blocks) this.vpcBlocks.set(id, blocks);
    else this.vpcBlocks.delete(id);
    // Slots moved: host addresses of its endpoints and of addresses mapped into it change.
    this.vpcsChanged = true;
    for (const e of this.endpointDeps.of(`vpc:${id}`)) this.dirtyEndpoints.add(e);
    for (const v of this.viewDeps.of(`vpc:${id}`)) this.dirtyViews.add(v);
  }

  private onEni(id: string, eni: Eni | undefined): void {
    const old = this.enis.get(id);
    if (old && eni && old.ip === eni.privateIp && old.vpcId === eni.vpcId) return;
    for (const ip of [old?.ip, eni?.privateIp])
      if (ip) for (const v of this.viewDeps.of(`ip:${ip}`)) this.dirtyViews.add(v);
    for (const e of this.endpointDeps.of(`eni:${id}`)) this.dirtyEndpoints.add(e);
    this.indexEni(id, eni);
  }

  private indexEni(id: string, eni: Eni | undefined): void {
    const old = this.enis.get(id);
    if (old) {
      const m = this.holders.get(old.ip)!;
      count(m, old.vpcId, -1);
      if (m.size === 0) this.holders.delete(old.ip);
      this.enis.delete(id);
    }
    if (!eni) return;
    this.enis.set(id, { ip: eni.privateIp, vpcId: eni.vpcId });
    const m = this.holders.get(eni.privateIp) ?? new Map<string, number>();
    this.holders.set(eni.privateIp, m);
    count(m, eni.vpcId, 1);
  }

  private onService(id: string, svc: EndpointService | undefined): void {
    const key = serviceKey(svc);
    if (key === this.serviceKeys.get(id)) return;
    if (key) this.serviceKeys.set(id, key);
    else this.serviceKeys.delete(id);
    for (const e of this.endpointDeps.of(`svc:${id}`)) this.dirtyEndpoints.add(e);
  }

  private markZone(zoneId: string | undefined): void {
    const z = zoneId === undefined ? undefined : this.zones.get(zoneId);
    if (!z) return;
    if (!z.privateZone) this.dirtyViews.add(PUBLIC_MAIN);
    else for (const v of z.vpcs) this.dirtyViews.add(v.vpcId);
  }

  private onZone(id: string, z: HostedZone | undefined): void {
    this.markZone(id);
    this.unindexZone(id);
    if (z) this.indexZone(z);
    this.markZone(id);
  }

  private indexZone(z: HostedZone): void {
    this.zones.set(z.id, z);
    if (!z.privateZone) this.publicZoneIds.add(z.id);
    else for (const v of z.vpcs) addTo(this.privateZonesByVpc, v.vpcId, z.id);
  }

  private unindexZone(id: string): void {
    const z = this.zones.get(id);
    if (!z) return;
    this.zones.delete(id);
    this.publicZoneIds.delete(id);
    for (const v of z.vpcs) removeFrom(this.privateZonesByVpc, v.vpcId, id);
  }

  private onRecord(id: string, r: RecordSet | undefined): void {
    const before = this.recordZone.get(id);
    this.markZone(before);
    if (before !== undefined) {
      const m = this.records.get(before);
      m?.delete(id);
      if (m?.size === 0) this.records.delete(before);
      this.recordZone.delete(id);
    }
    if (r) this.indexRecord(r);
    this.markZone(r?.zoneId);
  }

  private indexRecord(r: RecordSet): void {
    const m = this.records.get(r.zoneId) ?? new Map<string, RecordSet>();
    this.records.set(r.zoneId, m);
    m.set(r.id, r);
    this.recordZone.set(r.id, r.zoneId);
  }

  // ---- endpoints ----

  private derive(id: string): void {
    this.work.endpointsDerived++;
    const old = this.endpoints.get(id);
    const e = this.state.get("vpcEndpoint", id);
    if (e) this.derivedFrom.set(id, e);
    else this.derivedFrom.delete(id);
    const next = e && endpointServesDns(e) ? endpointEntry(this.state, e) : undefined;
    if (e && next) this.endpointDeps.set(id, endpointTokens(e));
    else this.endpointDeps.delete(id);
    if (sameEntry(old, next)) {
      if (next) this.endpoints.set(id, next);
      return;
    }
    if (old) this.unindexEndpoint(old);
    if (next) this.indexEndpoint(next);
  }

  /**
   * Marks the views an endpoint's records are in: the zones at its names' origins in its VPC's
   * view (and in the main public view for names outside vpce.amazonaws.com), the views that copy
   * its names; a shard hears of a name through its patch (indexNames).
   */
  private touch(en: EndpointEntry): void {
    for (const n of en.names) {
      const origin = originOf(n.name);
      addTo(this.originPatches, en.vpcId, origin);
      if (n.kind === "private") continue;
      if (publicHome(n.name) === undefined) addTo(this.originPatches, PUBLIC_MAIN, origin);
      for (const v of this.viewDeps.of(`name:${n.name}`)) this.dirtyViews.add(v);
    }
  }

  private indexEndpoint(en: EndpointEntry): void {
    this.endpoints.set(en.id, en);
    addTo(this.byVpc, en.vpcId, en.id);
    this.indexNames(en, 1);
    this.indexOrigins(en, 1);
    this.touch(en);
  }

  private unindexEndpoint(en: EndpointEntry): void {
    this.touch(en);
    this.endpoints.delete(en.id);
    removeFrom(this.byVpc, en.vpcId, en.id);
    this.indexNames(en, -1);
    this.indexOrigins(en, -1);
  }

  private indexOrigins(en: EndpointEntry, by: 1 | -1): void {
    const at = (view: ViewId, origin: string) => {
      let m = this.byOrigin.get(view);
      if (!m) {
        m = new Map();
        this.byOrigin.set(view, m);
      }
      if (by > 0) addTo(m, origin, en.id);
      else removeFrom(m, origin, en.id);
      if (m.size === 0) this.byOrigin.delete(view);
    };
    for (const n of en.names) {
      const origin = originOf(n.name);
      at(en.vpcId, origin);
      if (n.kind !== "private" && publicHome(n.name) === undefined) at(PUBLIC_MAIN, origin);
    }
  }

  private indexNames(en: EndpointEntry, by: 1 | -1): void {
    for (const n of en.names) {
      if (n.kind === "private") continue;
      const home = publicHome(n.name);
      if (home === undefined) {
        if (by > 0) this.elsewhere.add(en.id);
        else this.elsewhere.delete(en.id);
        continue;
      }
      if (by > 0) addTo(this.byShard, home, en.id);
      else removeFrom(this.byShard, home, en.id);
      if (by > 0) this.publicNames.set(n.name, n.rrs);
      else this.publicNames.delete(n.name);
      if (home === SKELETON) this.dirtyViews.add(shardView(SKELETON));
      else this.patch(home, n.name, n.rrs, by < 0);
      const parent = endpointLabel(n.name)?.parent;
      if (parent === undefined) continue;
      const now = count(this.parents, parent, by);
      // The skeleton changes only when a label parent appears or disappears.
      if ((by > 0 && now === 1) || (by < 0 && now === 0)) this.dirtyViews.add(shardView(SKELETON));
    }
  }

  /**
   * Notes a shard name's records now (and, the first time since the last take, what it had
   * before: an old entry is unindexed before the new one is indexed, so the last word stands).
   */
  private patch(shard: number, name: string, rrs: readonly RR[], removed: boolean): void {
    let patch = this.shardPatches.get(shard);
    if (!patch) {
      patch = new Map();
      this.shardPatches.set(shard, patch);
    }
    const seen = patch.get(name);
    patch.set(name, { before: seen ? seen.before : removed ? rrs : [], now: removed ? [] : rrs });
  }

  private sortedEntries(
    ids: Iterable<string> | undefined,
    order: (a: EndpointEntry, b: EndpointEntry) => number,
  ) {
    const out: EndpointEntry[] = [];
    for (const id of ids ?? []) {
      const en = this.endpoints.get(id);
      if (en) out.push(en);
    }
    return out.sort(order);
  }

  // ---- assembly ----

  /** Maps a user-written address to its host address when it lies in a privlink network. */
  private mapper(vpc: Vpc | undefined, deps: Set<string>): Mapper {
    return (ip) => {
      const own = vpc && hostAddressOf(vpc, ip);
      if (own) return own;
      deps.add(`ip:${ip}`);
      const holders = this.holders.get(ip);
      if (holders?.size !== 1) return ip;
      const holderId = holders.keys().next().value as string;
      deps.add(`vpc:${holderId}`);
      const holder = this.state.get("vpc", holderId);
      return (holder && hostAddressOf(holder, ip)) ?? ip;
    };
  }

  private zoneList(ids: Iterable<string> | undefined): HostedZone[] {
    const out: HostedZone[] = [];
    for (const id of ids ?? []) out.push(this.zones.get(id)!);
    return out.sort(byCreation);
  }

  private recordsOf(zoneId: string): RecordSet[] {
    return [...(this.records.get(zoneId)?.values() ?? [])].sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** A VPC's view: its private hosted zones, its endpoints' private names, copies of their public names. */
  /**
   * The zones a Resolver inbound endpoint of the VPC answers from: the VPC's, plus the private
   * names of endpoints whose private DNS is only for inbound endpoints.
   */
  inboundZones(vpcId: string): Zone[] | undefined {
    const vpc = this.state.get("vpc", vpcId);
    return vpc && this.vpcZones(vpc, new Set(), true);
  }

  private vpcZones(vpc: Vpc, deps: Set<string>, inbound = false): Zone[] {
    const map = this.mapper(vpc, deps);
    const phzs = this.zoneList(this.privateZonesByVpc.get(vpc.id));
    const zones = phzs.map((z) => hostedZoneToZone(z, this.recordsOf(z.id), map));
    const shadowed = (name: string) => phzs.some((z) => inZone(originOf(name), z.name));
    const privateRRs: RR[] = [];
    const publicRRs: RR[] = [];
    for (const en of this.sortedEntries(this.byVpc.get(vpc.id), byCreation))
      for (const n of en.names) {
        if (shadowed(n.name)) continue;
        // Inside the VPC such a name takes the public answer (the gateway endpoint's path).
        if (n.kind === "private" && en.inboundOnly && !inbound) continue;
        (n.kind === "private" ? privateRRs : publicRRs).push(...n.rrs);
      }
    const instanceRRs = this.instances.vpcRecords(vpc, deps, shadowed);
    // Each copied name gets a zone of its own, so that it never hides other endpoints' names.
    return [
      ...zones,
      ...zonesByOrigin(privateRRs),
      ...zonesByOrigin(publicRRs),
      ...zonesByOrigin(instanceRRs),
    ];
  }

  /**
   * The public hosted zones, then copies of the endpoint names their aliases and CNAMEs point
   * at (so that those answers stay authoritative and cacheable), then endpoint names outside
   * vpce.amazonaws.com.
   */
  private mainZones(deps: Set<string>): Zone[] {
    const map = this.mapper(undefined, deps);
    const zones: Zone[] = [];
    const targets = new Set<string>();
    for (const z of this.zoneList(this.publicZoneIds)) {
      const records = this.recordsOf(z.id);
      zones.push(hostedZoneToZone(z, records, map));
      for (const r of records) {
        const target = r.alias?.dnsName ?? (r.type === "CNAME" ? r.values[0] : undefined);
        if (target !== undefined && inZone(canonicalName(target), VPCE_ORIGIN))
          targets.add(canonicalName(target));
      }
    }
    const copies: RR[] = [];
    for (const t of targets) {
      deps.add(`name:${t}`);
      copies.push(...(this.publicNames.get(t) ?? []));
    }
    const elsewhere: RR[] = [];
    for (const en of this.sortedEntries(this.elsewhere, byId))
      for (const n of en.names)
        if (n.kind !== "private" && publicHome(n.name) === undefined) elsewhere.push(...n.rrs);
    const instances = this.instances.publicRecords();
    return [...zones, ...zonesByOrigin(copies), ...zonesByOrigin(elsewhere), ...zonesByOrigin(instances)];
  }

  private shardZones(shard: number): Zone[] {
    const records: RR[] = [];
    for (const en of this.sortedEntries(this.byShard.get(shard), byId))
      for (const n of en.names)
        if (n.kind !== "private" && publicHome(n.name) === shard) records.push(...n.rrs);
    return [{ origin: VPCE_ORIGIN, records }];
  }

  /**
   * The zone a VPC view (or the main public view) holds at each of `origins` now, as
   * {@link zonesOf} would list it first there (undefined: none), for a view whose other inputs
   * have not changed since it was assembled (its dependencies stay as they were: endpoint
   * records add none). An origin a hosted zone decides is left out: no endpoint or instance name
   * changes its answer there. Undefined when the VPC is gone.
   */
  private originZones(view: ViewId, origins: ReadonlySet<string>): Map<string, Zone | undefined> | undefined {
    this.work.originsAssembled += origins.size;
    const out = new Map<string, Zone | undefined>();
    const endpoints = this.byOrigin.get(view);
    if (view === PUBLIC_MAIN) {
      // A public hosted zone at the origin is listed first; one above it does not shadow.
      const claimed = new Set<string>();
      for (const id of this.publicZoneIds) claimed.add(canonicalName(this.zones.get(id)!.name));
      for (const o of origins) {
        if (claimed.has(o)) continue;
        const rrs: RR[] = [];
        for (const en of this.sortedEntries(endpoints?.get(o), byId))
          for (const n of en.names)
            if (n.kind !== "private" && originOf(n.name) === o && publicHome(n.name) === undefined)
              rrs.push(...n.rrs);
        out.set(
          o,
          zoneAt(o, rrs, () => this.instances.publicRecords()),
        );
      }
      return out;
    }
    const vpc = this.state.get("vpc", view);
    if (!vpc) return undefined;
    const phzs = this.zoneList(this.privateZonesByVpc.get(vpc.id));
    const shadowed = (name: string) => phzs.some((z) => inZone(originOf(name), z.name));
    for (const o of origins) {
      if (shadowed(o)) continue;
      const privateRRs: RR[] = [];
      const publicRRs: RR[] = [];
      for (const en of this.sortedEntries(endpoints?.get(o), byCreation))
        for (const n of en.names) {
          if (originOf(n.name) !== o || (n.kind === "private" && en.inboundOnly)) continue;
          (n.kind === "private" ? privateRRs : publicRRs).push(...n.rrs);
        }
      // vpcZones lists the private names' zones before the copies of public ones.
      const rrs = privateRRs.length > 0 ? privateRRs : publicRRs;
      out.set(
        o,
        zoneAt(o, rrs, () => this.instances.vpcRecords(vpc, new Set(), shadowed)),
      );
    }
    return out;
  }

  /** Names without an endpoint label, and one placeholder under each label parent. */
  private skeletonZones(): Zone[] {
    const [zone] = this.shardZones(SKELETON);
    const parents = [...this.parents.keys()].sort();
    for (const p of parents)
      zone!.records.push({ name: `${SKELETON_LABEL}.${p}`, type: "TXT", ttl: ENDPOINT_RECORD_TTL, data: "" });
    return [zone!];
  }
}

/**
 * The zone at `origin` made of the endpoint records given, else of the instance records there
 * (listed after every endpoint zone), else none.
 */
function zoneAt(origin: string, rrs: RR[], instances: () => RR[]): Zone | undefined {
  const records = rrs.length > 0 ? rrs : instances().filter((r) => originOf(r.name) === origin);
  return records.length > 0 ? { origin, records } : undefined;
}

/** The same records (owner, type, TTL, data) in the same order. */
function sameRecords(a: readonly RR[], b: readonly RR[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y && (x.name !== y.name || x.type !== y.type || x.ttl !== y.ttl || x.data !== y.data))
      return false;
  }
  return true;
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

// ---------------------------------------------------------------------------------------------
// AWS public service names

const REGION_IN_NAME = /\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com$/;

/**
 * Public AWS names that no interface service lists as a private DNS name but clients still call:
 * the global STS endpoint (botocore with `sts_regional_endpoints = legacy`, older SDKs).
 */
const GLOBAL_AWS_NAMES: ReadonlySet<string> = new Set(["sts.amazonaws.com"]);

const AWS_SOA: RR = {
  name: AWS_ORIGIN,
  type: "SOA",
  ttl: AWS_NAME_TTL,
  data: {
    mname: "dns-external-master.amazon.com",
    rname: "root.amazon.com",
    serial: 1,
    refresh: 3600,
    retry: 900,
    expire: 7776000,
    minimum: 60,
  },
};

/**
 * The public answer for an AWS service's default DNS name, or undefined when `name` is not one.
 * Names ending in `.vpce.amazonaws.com` belong to the endpoint zone, never to this.
 */
export function awsServiceAnswer(name: string, type: string): Answer | undefined {
  const n = canonicalName(name);
  if (!inZone(n, AWS_ORIGIN) || inZone(n, VPCE_ORIGIN)) return undefined;
  const region = REGION_IN_NAME.exec(n)?.[1] ?? "us-east-1";
  // The apex of a wildcard name is the service's own endpoint (`s3.us-east-1.amazonaws.com`, the
  // name SDK v3 calls for ListBuckets): public like the names under it.
  const known =
    GLOBAL_AWS_NAMES.has(n) ||
    gatewayServiceOfName(n) !== undefined ||
    awsServiceByPrivateDnsName(n, region) ||
    awsServiceByPrivateDnsName(`x.${n}`, region);
  if (!known) return undefined;
  if (type !== "A" && type !== "ANY")
    return { rcode: "NOERROR", answers: [], authority: [AWS_SOA], authoritative: false };
  return {
    rcode: "NOERROR",
    answers: [{ name: n, type: "A", ttl: AWS_NAME_TTL, data: AWS_PUBLIC_ADDRESS }],
    authority: [],
    authoritative: false,
  };
}

// ---------------------------------------------------------------------------------------------
// Forwarding (--dns-forward)

export interface Upstream {
  readonly host: string;
  readonly port: number;
  /** The address queries leave from (a site's DNS server, a Resolver outbound endpoint's ENI). */
  readonly localAddress?: string;
}

/** `host`, `host:port`, `[v6]:port`. */
export function parseUpstream(text: string): Upstream {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (v6) return { host: v6[1]!, port: Number(v6[2] ?? 53) };
  const m = /^([^:]+)(?::(\d+))?$/.exec(text);
  if (!m || !net.isIP(m[1]!)) throw new Error(`--dns-forward takes IP[:port] addresses, not '${text}'`);
  return { host: m[1]!, port: Number(m[2] ?? 53) };
}

/** The machine's resolvers from /etc/resolv.conf, minus privlink's own addresses. */
export function systemUpstreams(exclude: readonly string[] = [], path = "/etc/resolv.conf"): Upstream[] {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((h): h is string => h !== undefined && net.isIP(h) !== 0 && !exclude.includes(h))
    .map((host) => ({ host, port: 53 }));
}

const FORWARD_TYPES = new Set<string>(["A", "AAAA", "CNAME", "TXT", "MX", "NS", "SOA", "SRV", "PTR", "CAA"]);
const FORWARD_RCODES = new Set(["NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED"]);

function servfail(): Answer {
  return { rcode: "SERVFAIL", answers: [], authority: [], authoritative: false, cacheable: false };
}

/**
 * Asks the upstreams in turn (UDP, then TCP when truncated), each within `timeoutMs`. With a
 * `cache`, answers are kept there for their TTL (ttl-cache.ts) and carry its freshness.
 */
export function forwarder(upstreams: readonly Upstream[], timeoutMs = 2000, cache?: TtlCache): Fallback {
  const ask: Fallback = async (name, type) => {
    if (!FORWARD_TYPES.has(type)) return undefined;
    for (const u of upstreams) {
      const reply = await exchange(u, name, type, timeoutMs).catch(() => undefined);
      if (reply) return toAnswer(reply);
    }
    return servfail();
  };
  if (!cache) return ask;
  return (name, type) => cache.through(`${type} ${name}`, () => ask(name, type));
}

function toAnswer(p: packet.Packet): Answer {
  const rcode = String((p as { rcode?: string }).rcode ?? "NOERROR");
  const keep = (rrs: packet.Answer[] | undefined, types: Set<string>) =>
    (rrs ?? [])
      .filter((r) => types.has(r.type))
      .map((r) => ({
        name: canonicalName(r.name),
        type: r.type as RRType,
        ttl: (r as { ttl?: number }).ttl ?? 0,
        data: (r as { data: unknown }).data,
      }));
  return {
    rcode: FORWARD_RCODES.has(rcode) ? (rcode as Answer["rcode"]) : "SERVFAIL",
    answers: keep(p.answers, FORWARD_TYPES),
    authority: keep(p.authorities, new Set(["SOA"])),
    // No freshness of its own: only a TtlCache (forwarder's `cache`) makes it keepable.
    authoritative: false,
  };
}

let nextId = 1;

function exchange(u: Upstream, name: string, type: string, timeoutMs: number): Promise<packet.Packet> {
  nextId = (nextId + 1) & 0xffff;
  const query = packet.encode({
    type: "query",
    id: nextId,
    flags: packet.RECURSION_DESIRED,
    questions: [{ name, type: type as packet.RecordType, class: "IN" }],
    additionals: [{ type: "OPT", name: ".", udpPayloadSize: 1232 } as packet.Answer],
  });
  return udpExchange(u, query, nextId, timeoutMs).then((p) =>
    (p.flags ?? 0) & packet.TRUNCATED_RESPONSE ? tcpExchange(u, query, timeoutMs) : p,
  );
}

function udpExchange(u: Upstream, query: Buffer, id: number, timeoutMs: number): Promise<packet.Packet> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(u.host) ? "udp6" : "udp4");
    const done = (err?: Error, p?: packet.Packet) => {
      clearTimeout(timer);
      sock.close();
      if (p) resolve(p);
      else reject(err);
    };
    const timer = setTimeout(() => done(new Error("upstream timeout")), timeoutMs);
    sock.on("error", (e) => done(e));
    sock.on("message", (msg) => {
      try {
        const p = packet.decode(msg);
        if (p.id === id) done(undefined, p);
      } catch {
        // Not a DNS answer: keep waiting until the timeout.
      }
    });
    if (u.localAddress)
      sock.bind({ address: u.localAddress, port: 0 }, () => sock.send(query, u.port, u.host));
    else sock.send(query, u.port, u.host);
  });
}

function tcpExchange(u: Upstream, query: Buffer, timeoutMs: number): Promise<packet.Packet> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: u.host, port: u.port, localAddress: u.localAddress });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => sock.destroy(new Error("upstream timeout")), timeoutMs);
    sock.on("connect", () => sock.write(packet.streamEncode(packet.decode(query))));
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        sock.destroy();
        try {
          resolve(packet.streamDecode(buf));
        } catch (e) {
          reject(e);
        }
      }
    });
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on("close", () => {
      clearTimeout(timer);
      reject(new Error("upstream closed"));
    });
  });
}
