/**
 * The resolvers, reconciled from the state: one per VPC that has a host-address slot, on
 * `127.S.0.2` (the AmazonProvidedDNS at VPC base + 2), and the public resolver (default
 * 127.0.0.153), all on one port, UDP and TCP.
 *
 * Port: `port` when given, else PRIVLINK_DNS_PORT, else 53 when it can be bound, else
 * {@link FALLBACK_DNS_PORT} (5353) — /_privlink/health and the `privlink up` banner say which.
 *
 * Reconcile: every commit that touches a kind the views read marks the views dirty; the next
 * query (or a tick later, at the latest) rebuilds them. Each view is derived as plain zone data
 * and rebuilt into a new View only when that data changed, so an unrelated change keeps the
 * View object — and the server's prepared-answer cache — of every other VPC. A restart builds
 * everything from scratch through the same path.
 */
import { resolverAddress } from "../cloud/addressing.js";
import type { Change, State } from "../cloud/state.js";
import type { Kind, Vpc } from "../cloud/types.js";
import {
  awsServiceAnswer,
  forwarder,
  indexState,
  parseUpstream,
  publicZones,
  type StateIndex,
  systemUpstreams,
  type Upstream,
  vpcZones,
} from "./records.js";
import { type DnsServer, startDnsServer } from "./server.js";
import { type Answer, type Fallback, View, type Zone } from "./view.js";

export const DEFAULT_PUBLIC_DNS = "127.0.0.153";
export const FALLBACK_DNS_PORT = 5353;

export interface ResolverOptions {
  state: State;
  /** Public resolver address (`--public-dns`); default 127.0.0.153. */
  publicAddress?: string;
  /** One port for every resolver; default PRIVLINK_DNS_PORT, else 53 when bindable, else 5353. */
  port?: number;
  /** Forward unknown public names: true = /etc/resolv.conf's resolvers, or a list of IP[:port]. */
  forward?: boolean | readonly string[];
  forwardTimeoutMs?: number;
}

export interface ResolverInfo {
  port: number;
  /** Why this port: "option", "PRIVLINK_DNS_PORT", "default" (53) or "fallback" (53 not bindable). */
  portSource: string;
  publicResolver: string;
  publicResolverError?: string;
  resolvers: { vpcId: string; address: string; error?: string }[];
  forward: string[] | false;
}

export interface Resolvers {
  readonly port: number;
  readonly publicAddress: string;
  /** Resolves as the VPC's resolver does (or the public resolver for undefined), without a socket. */
  resolve(vpcId: string | undefined, name: string, type: string): Promise<Answer>;
  /** The current View of a VPC (or the public one): the same object until its inputs change. */
  view(vpcId?: string): View;
  info(): ResolverInfo;
  /** Resolves once listeners for the current state are started or stopped (tests, start-up). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** The kinds the views and the listener set are derived from. */
const INPUT_KINDS = new Set<Kind>([
  "vpc",
  "subnet",
  "eni",
  "vpcEndpoint",
  "endpointService",
  "hostedZone",
  "recordSet",
]);

const REFUSING = new View([], { outside: "REFUSED" });

interface Built {
  key: string;
  view: View;
}

interface Listener {
  vpcId: string;
  server?: DnsServer;
  error?: string;
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
  private readonly upstreams: Upstream[] | undefined;
  private readonly forwardTimeoutMs: number;
  private dirty = true;
  private publicBuilt?: Built;
  private readonly vpcBuilt = new Map<string, Built>();
  private publicServer?: DnsServer;
  private publicError?: string;
  private readonly listeners = new Map<string, Listener>();
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private unsubscribe?: () => void;
  private tick?: NodeJS.Immediate;

  constructor(private readonly opts: ResolverOptions) {
    this.state = opts.state;
    this.publicAddress = opts.publicAddress ?? DEFAULT_PUBLIC_DNS;
    this.forwardTimeoutMs = opts.forwardTimeoutMs ?? 2000;
    if (opts.forward === true) this.upstreams = systemUpstreams([this.publicAddress]);
    else if (Array.isArray(opts.forward)) this.upstreams = opts.forward.map(parseUpstream);
  }

  async start(): Promise<void> {
    // The port is chosen by the public resolver's bind; VPC resolvers start only after it.
    await this.bindPublic();
    this.unsubscribe = this.state.onCommit((changes) => this.onCommit(changes));
    this.refresh();
    await this.settled();
  }

  private async bindPublic(): Promise<void> {
    const env = process.env.PRIVLINK_DNS_PORT;
    const explicit = this.opts.port ?? (env ? Number(env) : undefined);
    if (explicit !== undefined) {
      if (!Number.isInteger(explicit) || explicit < 0 || explicit > 65535)
        throw new Error(`PRIVLINK_DNS_PORT must be a port number, not '${env}'`);
      this.portSource = this.opts.port !== undefined ? "option" : "PRIVLINK_DNS_PORT";
      this.port = explicit;
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

  private onCommit(changes: readonly Change[]): void {
    if (!changes.some((c) => INPUT_KINDS.has(c.kind))) return;
    this.dirty = true;
    // Rebuild and reconcile listeners a tick later even when nobody asks.
    if (!this.tick && !this.closed)
      this.tick = setImmediate(() => {
        this.tick = undefined;
        this.refresh();
      });
  }

  /** Rebuilds the views whose zone data changed; cheap when nothing did. */
  private refresh(): void {
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    const idx = indexState(this.state);
    this.publicBuilt = this.rebuild(this.publicBuilt, publicZones(idx), () => ({
      fallback: this.publicFallback(),
      outside: "NXDOMAIN",
    }));
    const seen = new Set<string>();
    for (const vpc of this.state.all("vpc")) {
      seen.add(vpc.id);
      this.vpcBuilt.set(vpc.id, this.buildVpc(idx, vpc));
    }
    for (const id of [...this.vpcBuilt.keys()]) if (!seen.has(id)) this.vpcBuilt.delete(id);
    this.syncListeners();
  }

  private buildVpc(idx: StateIndex, vpc: Vpc): Built {
    const prev = this.vpcBuilt.get(vpc.id);
    // enableDnsSupport=false turns the AmazonProvidedDNS off: privlink refuses rather than stays silent.
    if (!vpc.dnsSupport) return prev?.key === "off" ? prev : { key: "off", view: REFUSING };
    return this.rebuild(prev, vpcZones(idx, vpc), () => ({
      fallback: (name, type) => this.publicView().query(name, type),
      outside: "NXDOMAIN",
    }));
  }

  private rebuild(
    prev: Built | undefined,
    zones: Zone[],
    options: () => { fallback?: Fallback; outside: "NXDOMAIN" | "REFUSED" },
  ): Built {
    const key = JSON.stringify(zones);
    if (prev && prev.key === key) return prev;
    try {
      return { key, view: new View(zones, options()) };
    } catch (err) {
      process.emitWarning(`privlink dns: a view could not be built: ${(err as Error).message}`);
      return prev ?? { key, view: new View([], options()) };
    }
  }

  private publicFallback(): Fallback {
    const forward = this.upstreams ? forwarder(this.upstreams, this.forwardTimeoutMs) : undefined;
    return async (name, type) => awsServiceAnswer(name, type) ?? (forward ? forward(name, type) : undefined);
  }

  private publicView(): View {
    this.refresh();
    return this.publicBuilt!.view;
  }

  private vpcView(vpcId: string): View {
    this.refresh();
    return this.vpcBuilt.get(vpcId)?.view ?? REFUSING;
  }

  view(vpcId?: string): View {
    return vpcId === undefined ? this.publicView() : this.vpcView(vpcId);
  }

  async resolve(vpcId: string | undefined, name: string, type: string): Promise<Answer> {
    return this.view(vpcId).query(name, type);
  }

  /** 127.S.0.2 for every slotted CIDR block of every VPC. */
  private desiredListeners(): Map<string, string> {
    const want = new Map<string, string>();
    for (const vpc of this.state.all("vpc"))
      for (const b of vpc.cidrBlocks)
        if (b.state === "associated" && b.slot !== undefined) want.set(resolverAddress(b.slot), vpc.id);
    return want;
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
    return this.chain;
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
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    if (this.tick) clearImmediate(this.tick);
    await this.chain;
    await Promise.all([...this.listeners.values()].map((l) => l.server?.close()));
    this.listeners.clear();
    await this.publicServer?.close();
  }
}
