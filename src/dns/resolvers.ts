/**
 * The resolvers, reconciled from the state: one per VPC that has a host-address slot, on
 * `127.S.0.2` (the AmazonProvidedDNS at VPC base + 2), and the public resolver (default
 * 127.0.0.153), all on one port, UDP and TCP.
 *
 * Port: `port` when given, else PRIVLINK_DNS_PORT, else 53 when it can be bound, else
 * {@link FALLBACK_DNS_PORT} (5353) — /_privlink/health and the `privlink up` banner say which.
 *
 * Reconcile: each commit's changes mark the views they touch (records.ts ZoneData: O(changes));
 * the next query (or a tick later, at the latest) assembles those views' zone data again and
 * builds a new View only when it changed, so an unrelated change keeps the View object — and
 * the server's prepared-answer cache — of every other VPC, and a change to one endpoint costs
 * its own names, not the whole state. A shard is patched in place with the endpoint's changed
 * names (View `patched`); its VPC's view, and the main public view for names outside
 * vpce.amazonaws.com, get new zones at those names' origins and share every other zone's index
 * (View `replaced`). Any other change assembles a view again from its zones, reusing the index
 * of every zone that did not change. A full rebuild from the whole state runs at start-up (a
 * restart builds everything through the same path) and every {@link FULL_REBUILD_MS} as a safety
 * net; a view it finds changed is one the change feed missed, and is reported.
 */
import { resolverAddress } from "../cloud/addressing.js";
import { inZone } from "../cloud/hosted-zone.js";
import type { Change, State } from "../cloud/state.js";
import { HybridDns, hasForwardRules } from "./hybrid.js";
import { canonicalName } from "./name.js";
import {
  awsServiceAnswer,
  forwarder,
  PUBLIC_MAIN,
  parseUpstream,
  SKELETON,
  shardView,
  systemUpstreams,
  type Upstream,
  type ViewId,
  VPCE_ORIGIN,
  vpceShard,
  ZoneData,
} from "./records.js";
import { type DnsServer, startDnsServer } from "./server.js";
import { TtlCache } from "./ttl-cache.js";
import {
  ALWAYS_FRESH,
  type Answer,
  type Fallback,
  guarded,
  type RR,
  sameZone,
  View,
  type Zone,
} from "./view.js";

export const DEFAULT_PUBLIC_DNS = "127.0.0.153";
export const FALLBACK_DNS_PORT = 5353;
/** How often every view is rebuilt from the whole state, as a safety net. */
export const FULL_REBUILD_MS = 5 * 60 * 1000;

export interface ResolverOptions {
  state: State;
  /** Public resolver address (`--public-dns`); default 127.0.0.153. */
  publicAddress?: string;
  /** One port for every resolver; default PRIVLINK_DNS_PORT, else 53 when bindable, else 5353. */
  port?: number;
  /** Forward unknown public names: true = /etc/resolv.conf's resolvers, or a list of IP[:port]. */
  forward?: boolean | readonly string[];
  forwardTimeoutMs?: number;
  /** Period of the full rebuild (default {@link FULL_REBUILD_MS}); 0 turns it off. */
  fullRebuildMs?: number;
  /**
   * Several hosts: whether this node serves a placement unit's DNS servers (an agent serves
   * those placed on it): a VPC ID for its resolver and its Resolver inbound endpoints, `site:ID`
   * for a site's DNS server. Default: every unit. Call `relisten()` when the answer changes.
   */
  serves?: (unit: string) => boolean;
  /**
   * Whether the public resolver listens (default true). An API-only node (`--role api`) binds
   * no resolver at all: its host's agent serves the public resolver there.
   */
  listenPublic?: boolean;
}

export interface ResolverInfo {
  port: number;
  /** Why this port: "option", "PRIVLINK_DNS_PORT", "default" (53) or "fallback" (53 not bindable). */
  portSource: string;
  publicResolver: string;
  publicResolverError?: string;
  resolvers: { vpcId: string; address: string; error?: string }[];
  /** Site DNS servers and Resolver inbound endpoint servers. */
  hybrid: { address: string; serves: string; error?: string }[];
  forward: string[] | false;
}

/** Work done since start, for tests that prove it proportional to what changed. */
export interface ResolverWork {
  /** Endpoints whose records were derived (again). */
  endpointsDerived: number;
  /** Views whose zone data was assembled and compared with what they had. */
  zonesAssembled: number;
  /** Zones made again at one origin of a VPC view or the main public view (an endpoint's names). */
  originsAssembled: number;
  /** New VPC View objects built (data changed). */
  vpcViewsBuilt: number;
  /** New View objects built for parts of the public view (main, shards, skeleton). */
  publicViewsBuilt: number;
  /**
   * Views patched with one commit's changed names instead of built again: shards in place, VPC
   * views and the main public view by the zones at those names' origins.
   */
  viewsPatched: number;
  fullRebuilds: number;
  /** Views a full rebuild found changed: changes the incremental path missed (should stay 0). */
  drift: number;
}

export interface Resolvers {
  readonly port: number;
  readonly publicAddress: string;
  /** Resolves as the VPC's resolver does (or the public resolver for undefined), without a socket. */
  resolve(vpcId: string | undefined, name: string, type: string): Promise<Answer>;
  /** The current View of a VPC (or the public one): the same object until its inputs change. */
  view(vpcId?: string): View;
  info(): ResolverInfo;
  /** Queries answered per resolver ("public" or a VPC ID) and response code, since start. */
  rcodes(): { resolver: string; rcode: string; count: number }[];
  /** Counters of the work done so far. */
  work(): ResolverWork;
  /** Rebuilds every view from the whole state now (what the periodic safety net does); returns the drift found. */
  rebuildAll(): number;
  /** Resolves once listeners for the current state are started or stopped (tests, start-up). */
  settled(): Promise<void>;
  /** Starts and stops VPC resolvers after `serves` changed its answers (a placement moved). */
  relisten(): Promise<void>;
  close(): Promise<void>;
}

const REFUSING = new View([], { outside: "REFUSED" });

const EMPTY_VPCE = new View([{ origin: VPCE_ORIGIN, records: [] }], { outside: "NXDOMAIN" });

/** Two zone lists with the same data in the same order. */
function sameZones(a: readonly Zone[], b: readonly Zone[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameZone(a[i]!, b[i]!)) return false;
  return true;
}

interface Built {
  /** What the view was built from; undefined once it was patched (or for a fixed view). */
  zones?: Zone[];
  view: View;
}

interface Listener {
  vpcId: string;
  server?: DnsServer;
  error?: string;
}

/**
 * The public resolver's view: `main` (public hosted zones; fallback: AWS service names and the
 * forwarder) and the endpoint names under vpce.amazonaws.com, held in shards. A name under
 * vpce.amazonaws.com that no public hosted zone claims is answered by its shard, exactly as the
 * single zone holding every endpoint name would answer it (records.ts `vpceShard`); everything
 * else by `main`. A new PublicView is made whenever a part changes: the packet cache hangs off it.
 * It reads the resolvers' own table of shards, not a copy (256 entries per create): a PublicView
 * that is not the current one is never served again, like a patched View.
 */
class PublicView extends View {
  constructor(
    private readonly main: View,
    private readonly shards: ReadonlyMap<number, Built>,
    private readonly skeleton: View,
    private readonly claims: readonly string[],
  ) {
    super([]);
  }

  /** The part that answers `name` (canonical). */
  private part(name: string): View {
    if (!inZone(name, VPCE_ORIGIN) || this.claims.some((c) => inZone(name, c))) return this.main;
    return this.vpce(name);
  }

  /** The shard (or skeleton) for a name under vpce.amazonaws.com. */
  vpce(name: string): View {
    const shard = vpceShard(name);
    return shard === SKELETON ? this.skeleton : (this.shards.get(shard)?.view ?? EMPTY_VPCE);
  }

  override origins(): string[] {
    return [...this.main.origins(), VPCE_ORIGIN];
  }

  override resolve(name: string, type: string): Answer {
    const n = canonicalName(name);
    return this.part(n).resolve(n, type);
  }

  override lookup(name: string, type: string): Answer | Promise<Answer> {
    const n = canonicalName(name);
    return this.part(n).lookup(n, type);
  }

  override async query(name: string, type: string): Promise<Answer> {
    return this.lookup(name, type);
  }
}

/** Kinds whose changes move the site and inbound endpoint servers. */
const HYBRID_KINDS: ReadonlySet<string> = new Set(["site", "resolverEndpoint", "eni", "vpc"]);

/** A VPC's view with its FORWARD rules in front: a covered name is forwarded, the rest answered as before. */
class ForwardingView extends View {
  constructor(
    private readonly base: View,
    private readonly vpcId: string,
    private readonly hybrid: HybridDns,
  ) {
    super([]);
  }

  override origins(): string[] {
    return this.base.origins();
  }

  override resolve(name: string, type: string): Answer {
    return this.base.resolve(name, type);
  }

  override lookup(name: string, type: string): Answer | Promise<Answer> {
    return this.hybrid.vpcForward(this.vpcId, name, type) ?? this.base.lookup(name, type);
  }

  override async query(name: string, type: string): Promise<Answer> {
    return this.lookup(name, type);
  }
}

export async function startResolvers(opts: ResolverOptions): Promise<Resolvers> {
  const set = new ResolverSet(opts);
  await set.start();
  return set;
}

class ResolverSet implements Resolvers {
  readonly publicAddress: string;
  port = 0;
  private portSource = "";
  private readonly state: State;
  private readonly data: ZoneData;
  private readonly upstreams: Upstream[] | undefined;
  private readonly forwardTimeoutMs: number;
  private readonly vpcBuilt = new Map<string, Built>();
  private main?: Built;
  private skeleton?: Built;
  private readonly shards = new Map<number, Built>();
  private publicComposite?: PublicView;
  private readonly counters = {
    vpcViewsBuilt: 0,
    publicViewsBuilt: 0,
    viewsPatched: 0,
    fullRebuilds: 0,
    drift: 0,
  };
  private publicServer?: DnsServer;
  private publicError?: string;
  private readonly listeners = new Map<string, Listener>();
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private unsubscribe?: () => void;
  private tick?: NodeJS.Immediate;
  private fullTimer?: NodeJS.Timeout;
  private hybrid?: HybridDns;
  private readonly forwarding = new Map<string, { version: number; base: View; view: View }>();

  constructor(private readonly opts: ResolverOptions) {
    this.state = opts.state;
    this.data = new ZoneData(opts.state);
    this.publicAddress = opts.publicAddress ?? DEFAULT_PUBLIC_DNS;
    this.forwardTimeoutMs = opts.forwardTimeoutMs ?? 2000;
    if (opts.forward === true) this.upstreams = systemUpstreams([this.publicAddress]);
    else if (Array.isArray(opts.forward)) this.upstreams = opts.forward.map(parseUpstream);
  }

  async start(): Promise<void> {
    // The port is chosen by the public resolver's bind; VPC resolvers start only after it.
    if (this.opts.listenPublic === false) this.noPublic();
    else await this.bindPublic();
    this.hybrid = new HybridDns({
      state: this.state,
      port: this.port,
      serves: this.opts.serves,
      publicQuery: (name, type) => this.publicAnswer(name, type),
      inboundZones: (vpcId) => {
        this.refresh();
        return this.data.inboundZones(vpcId);
      },
    });
    this.hybrid.sync();
    this.unsubscribe = this.state.onCommit((changes, version) => this.onCommit(changes, version));
    this.refresh();
    const every = this.opts.fullRebuildMs ?? FULL_REBUILD_MS;
    if (every > 0) {
      this.fullTimer = setInterval(() => this.rebuildAll(), every);
      this.fullTimer.unref();
    }
    await this.settled();
  }

  /** The port given by the option or PRIVLINK_DNS_PORT, recorded with its source; else undefined. */
  private explicitPort(): number | undefined {
    const env = process.env.PRIVLINK_DNS_PORT;
    const explicit = this.opts.port ?? (env ? Number(env) : undefined);
    if (explicit === undefined) return undefined;
    if (!Number.isInteger(explicit) || explicit < 0 || explicit > 65535)
      throw new Error(`PRIVLINK_DNS_PORT must be a port number, not '${env}'`);
    this.portSource = this.opts.port !== undefined ? "option" : "PRIVLINK_DNS_PORT";
    this.port = explicit;
    return explicit;
  }

  private async bindPublic(): Promise<void> {
    const explicit = this.explicitPort();
    if (explicit !== undefined) {
      await this.tryPublic(explicit);
      return;
    }
    this.portSource = "default";
    this.port = 53;
    if (await this.tryPublic(53, true)) return;
    // Port 53 needs privileges (or is taken): the documented fallback keeps privlink usable.
    this.portSource = "fallback";
    this.port = FALLBACK_DNS_PORT;
    await this.tryPublic(FALLBACK_DNS_PORT);
  }

  /** No public resolver: the port is the one the agents would use, for what reports it. */
  private noPublic(): void {
    this.port = this.explicitPort() ?? 53;
    this.portSource = "none";
    this.publicError = "not listening on this node (--role api): the agents serve DNS";
  }

  /** A resolver that cannot bind is reported (health, warning), never fatal for privlink. */
  private async tryPublic(port: number, quiet = false): Promise<boolean> {
    try {
      this.publicServer = await startDnsServer({
        host: this.publicAddress,
        port,
        view: () => this.publicView(),
      });
      this.port = this.publicServer.port;
      this.publicError = undefined;
      return true;
    } catch (err) {
      this.publicError = (err as Error).message;
      if (!quiet)
        process.emitWarning(
          `privlink dns: cannot listen on ${this.publicAddress}:${port}: ${this.publicError}`,
        );
      return false;
    }
  }

  private onCommit(changes: readonly Change[], version: number): void {
    if (changes.some((c) => HYBRID_KINDS.has(c.kind))) this.hybrid?.sync();
    this.data.apply(changes, version);
    if (!this.data.pending) return;
    // Rebuild and reconcile listeners a tick later even when nobody asks.
    if (!this.tick && !this.closed)
      this.tick = setImmediate(() => {
        this.tick = undefined;
        this.refresh();
      });
  }

  /**
   * Rebuilds the views the changes since the last refresh touched; cheap when there are none.
   * Returns how many views got a new View (or none).
   */
  private refresh(): number {
    if (this.closed || !this.data.pending) return 0;
    const { views, patches, zonePatches, vpcsChanged } = this.data.take();
    let changed = 0;
    let publicChanged = !this.publicComposite;
    for (const id of views) {
      const r = this.rebuildView(id);
      if (r) changed++;
      if (r === "public") publicChanged = true;
    }
    for (const [id, zones] of zonePatches)
      if (this.patchZones(id, zones)) {
        changed++;
        if (id === PUBLIC_MAIN) publicChanged = true;
      }
    for (const [shard, names] of patches)
      if (this.patchShard(shard, names)) {
        changed++;
        publicChanged = true;
      }
    if (publicChanged) this.composePublic();
    if (vpcsChanged) this.syncListeners();
    return changed;
  }

  /** Rebuilds one view when its data changed: "public" or "vpc" when it did, else undefined. */
  private rebuildView(id: ViewId): "public" | "vpc" | undefined {
    if (id === PUBLIC_MAIN) {
      const prev = this.main;
      this.main = this.rebuild(prev, this.data.zonesOf(id)!, () => ({
        fallback: this.publicFallback(),
        outside: "NXDOMAIN",
      }));
      return this.publicPart(this.main.view !== prev?.view);
    }
    if (id === shardView(SKELETON)) {
      const prev = this.skeleton;
      this.skeleton = this.rebuild(prev, this.data.zonesOf(id)!, () => ({ outside: "NXDOMAIN" }));
      return this.publicPart(this.skeleton.view !== prev?.view);
    }
    if (id.startsWith("shard:")) return this.rebuildShard(Number(id.slice(6)));
    return this.rebuildVpc(id) ? "vpc" : undefined;
  }

  private publicPart(changed: boolean): "public" | undefined {
    if (!changed) return undefined;
    this.counters.publicViewsBuilt++;
    return "public";
  }

  private rebuildShard(shard: number): "public" | undefined {
    const prev = this.shards.get(shard);
    const zones = this.data.zonesOf(shardView(shard))!;
    // An empty shard answers like EMPTY_VPCE: no View of its own.
    if (zones.every((z) => z.records.length === 0)) {
      this.shards.delete(shard);
      return prev ? "public" : undefined;
    }
    const next = this.rebuild(prev, zones, () => ({ outside: "NXDOMAIN" }));
    this.shards.set(shard, next);
    return this.publicPart(next.view !== prev?.view);
  }

  /**
   * Applies one shard's changed names to its View in place (a new View object over the same
   * index, so its prepared answers start afresh): an endpoint's create, modify or delete costs
   * its own names, not the shard's ~40 endpoints. A shard with no View yet, or a patch that
   * cannot apply, takes the full path. True when the shard's View changed.
   */
  private patchShard(shard: number, names: ReadonlyMap<string, readonly RR[]>): boolean {
    const prev = this.shards.get(shard);
    let view: View;
    try {
      if (!prev) throw new Error("no view yet");
      view = prev.view.patched(VPCE_ORIGIN, names);
    } catch {
      return this.rebuildShard(shard) !== undefined;
    }
    this.counters.viewsPatched++;
    if (view.emptyZone(VPCE_ORIGIN)) this.shards.delete(shard);
    else this.shards.set(shard, { view });
    return true;
  }

  /**
   * Replaces the zones at some origins of a VPC view or the main public view (an endpoint's
   * names came, changed or went; View `replaced`): a new View sharing every other zone's index,
   * so a create costs its own names, not its VPC's ~150 zones. A view not built yet, a VPC
   * whose resolver refuses, or a zone that cannot be built takes the full path. True when the
   * View changed.
   */
  private patchZones(id: ViewId, zones: ReadonlyMap<string, Zone | undefined>): boolean {
    const main = id === PUBLIC_MAIN;
    const prev = main ? this.main : this.vpcBuilt.get(id);
    let view: View;
    try {
      if (!prev || prev.view === REFUSING) throw new Error("no view to patch");
      view = prev.view.replaced(zones);
    } catch {
      return main ? this.rebuildView(id) !== undefined : this.rebuildVpc(id);
    }
    this.counters.viewsPatched++;
    if (main) this.main = { view };
    else this.vpcBuilt.set(id, { view });
    return true;
  }

  /** True when the VPC's View changed. */
  private rebuildVpc(vpcId: string): boolean {
    const vpc = this.state.get("vpc", vpcId);
    const prev = this.vpcBuilt.get(vpcId);
    if (!vpc) {
      this.forwarding.delete(vpcId);
      this.data.zonesOf(vpcId);
      return this.vpcBuilt.delete(vpcId);
    }
    // enableDnsSupport=false turns the AmazonProvidedDNS off: privlink refuses rather than stays silent.
    const next = !vpc.dnsSupport
      ? prev?.view === REFUSING
        ? prev
        : { view: REFUSING }
      : this.rebuild(prev, this.data.zonesOf(vpcId)!, () => ({
          fallback: (name, type) => this.publicAnswer(name, type),
          outside: "NXDOMAIN",
        }));
    this.vpcBuilt.set(vpcId, next);
    if (next.view === prev?.view) return false;
    if (next.view !== REFUSING) this.counters.vpcViewsBuilt++;
    return true;
  }

  private composePublic(): void {
    this.publicComposite = new PublicView(
      this.main!.view,
      this.shards,
      this.skeleton!.view,
      this.data.vpceClaims(),
    );
  }

  /**
   * The view of `zones`: `prev` itself when its zones hold the same data, else a new View that
   * reuses `prev`'s index of every zone that did not change. A patched `prev` (no zones to
   * compare) is kept when the new view's data is the same (the full rebuild's drift check).
   */
  private rebuild(
    prev: Built | undefined,
    zones: Zone[],
    options: () => { fallback?: Fallback; outside: "NXDOMAIN" | "REFUSED" },
  ): Built {
    if (prev?.zones && sameZones(prev.zones, zones)) return prev;
    try {
      const view = new View(zones, options(), prev?.view);
      if (prev && !prev.zones && prev.view !== REFUSING && prev.view.signature() === view.signature())
        return { zones, view: prev.view };
      return { zones, view };
    } catch (err) {
      process.emitWarning(`privlink dns: a view could not be built: ${(err as Error).message}`);
      return prev ?? { zones, view: new View([], options()) };
    }
  }

  /**
   * AWS service names and the forwarder; endpoint names a public alias leads to, from the shards.
   * Shard and service answers stay right as long as the PublicView that asked (its prepared
   * answers hang off it); forwarded ones for their TTL.
   */
  private publicFallback(): Fallback {
    const forward = this.upstreams
      ? forwarder(this.upstreams, this.forwardTimeoutMs, new TtlCache())
      : undefined;
    return async (name, type) => {
      const n = canonicalName(name);
      const own = inZone(n, VPCE_ORIGIN)
        ? this.publicView().vpce(n).resolve(n, type)
        : awsServiceAnswer(n, type);
      if (own) return { ...own, fresh: ALWAYS_FRESH };
      return forward ? forward(n, type) : undefined;
    };
  }

  /** The public resolver's answer, for a VPC view's fallback: right while the public view is the same. */
  private async publicAnswer(name: string, type: string): Promise<Answer> {
    const pv = this.publicView();
    return guarded(await pv.query(name, type), () => this.publicComposite === pv);
  }

  private publicView(): PublicView {
    this.refresh();
    return this.publicComposite!;
  }

  /**
   * A VPC with FORWARD rules answers through a ForwardingView made for this state version and
   * base view: which names are forwarded, and how, depends on rules, associations, outbound
   * endpoints and the flow decision, so any commit starts its prepared answers afresh. A VPC
   * without rules serves its base view, whose prepared answers live as long as its data.
   */
  private vpcView(vpcId: string): View {
    this.refresh();
    const view = this.vpcBuilt.get(vpcId)?.view ?? REFUSING;
    if (view === REFUSING || !this.hybrid) return view;
    const version = this.state.version;
    let f = this.forwarding.get(vpcId);
    if (f?.version !== version || f.base !== view) {
      const wrapped = hasForwardRules(this.state, vpcId)
        ? new ForwardingView(view, vpcId, this.hybrid)
        : view;
      f = { version, base: view, view: wrapped };
      this.forwarding.set(vpcId, f);
    }
    return f.view;
  }

  view(vpcId?: string): View {
    return vpcId === undefined ? this.publicView() : this.vpcView(vpcId);
  }

  /** `scope` is a VPC ID, `site:NAME` (the site's DNS server) or undefined (the public resolver). */
  async resolve(scope: string | undefined, name: string, type: string): Promise<Answer> {
    if (scope?.startsWith("site:") && this.hybrid) return this.hybrid.resolveSite(scope.slice(5), name, type);
    return this.view(scope).query(name, type);
  }

  work(): ResolverWork {
    return { ...this.data.work, ...this.counters };
  }

  rebuildAll(): number {
    if (this.closed) return 0;
    this.refresh();
    this.data.load();
    const drift = this.refresh();
    this.counters.fullRebuilds++;
    this.counters.drift += drift;
    if (drift > 0)
      process.emitWarning(`privlink dns: a full rebuild changed ${drift} view(s) the change feed had missed`);
    return drift;
  }

  /** 127.S.0.2 for every slotted CIDR block of every VPC. */
  private desiredListeners(): Map<string, string> {
    const want = new Map<string, string>();
    const serves = this.opts.serves;
    for (const vpc of this.state.all("vpc"))
      if (!serves || serves(vpc.id))
        for (const b of vpc.cidrBlocks)
          if (b.state === "associated" && b.slot !== undefined) want.set(resolverAddress(b.slot), vpc.id);
    return want;
  }

  relisten(): Promise<void> {
    this.syncListeners();
    this.hybrid?.sync();
    return this.settled();
  }

  private syncListeners(): void {
    this.chain = this.chain.then(() => this.applyListeners()).catch(() => {});
  }

  private async applyListeners(): Promise<void> {
    if (this.closed) return;
    const want = this.desiredListeners();
    for (const [address, l] of [...this.listeners]) {
      if (want.get(address) === l.vpcId) continue;
      this.listeners.delete(address);
      await l.server?.close();
    }
    for (const [address, vpcId] of want) {
      if (this.listeners.has(address)) continue;
      const l: Listener = { vpcId };
      this.listeners.set(address, l);
      try {
        l.server = await startDnsServer({ host: address, port: this.port, view: () => this.vpcView(vpcId) });
      } catch (err) {
        l.error = (err as Error).message;
        process.emitWarning(`privlink dns: cannot listen on ${address}:${this.port}: ${l.error}`);
      }
    }
  }

  settled(): Promise<void> {
    return Promise.all([this.chain, this.hybrid?.settled()]).then(() => undefined);
  }

  rcodes(): { resolver: string; rcode: string; count: number }[] {
    const out: { resolver: string; rcode: string; count: number }[] = [];
    const add = (resolver: string, server?: DnsServer) => {
      for (const [rcode, count] of Object.entries(server?.stats().rcodes ?? {}))
        out.push({ resolver, rcode, count });
    };
    add("public", this.publicServer);
    for (const l of this.listeners.values()) add(l.vpcId, l.server);
    return out;
  }

  info(): ResolverInfo {
    return {
      port: this.port,
      portSource: this.portSource,
      publicResolver: this.publicAddress,
      ...(this.publicError ? { publicResolverError: this.publicError } : {}),
      resolvers: [...this.listeners]
        .map(([address, l]) => ({ vpcId: l.vpcId, address, ...(l.error ? { error: l.error } : {}) }))
        .sort((a, b) => (a.address < b.address ? -1 : 1)),
      forward: this.upstreams ? this.upstreams.map((u) => `${u.host}:${u.port}`) : false,
      hybrid: this.hybrid?.info() ?? [],
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    if (this.tick) clearImmediate(this.tick);
    if (this.fullTimer) clearInterval(this.fullTimer);
    await this.chain;
    await this.hybrid?.close();
    await Promise.all([...this.listeners.values()].map((l) => l.server?.close()));
    this.listeners.clear();
    await this.publicServer?.close();
  }
}
