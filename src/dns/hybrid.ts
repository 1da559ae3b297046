/**
 * DNS across the hybrid network, reconciled from the state:
 *
 * - each site's own DNS server (site base + 2), which forwards the zones the user named
 *   (`privlink site dns forward`) to their targets and asks the public resolver for the rest,
 *   like an on-premises DNS server with conditional forwarders;
 * - each Resolver inbound endpoint IP: a DNS server answering as its VPC's resolver (with the
 *   private names of PrivateDnsOnlyForInboundResolverEndpoint endpoints), to clients the flow
 *   decision lets reach the endpoint's ENI on port 53 (security groups, VPN, routes back);
 * - FORWARD rules associated with a VPC: its resolver sends queries for the rule's domain from
 *   the rule's outbound endpoint ENI to the target IPs, when the flow decision lets it.
 *
 * Every forwarded query is a real UDP (TCP on truncation) exchange between host addresses.
 */
import { hostAddressOf as hostOfVpcIp } from "../cloud/addressing.js";
import { siteUnit } from "../cloud/placement.js";
import { forwardRuleFor } from "../cloud/resolver-endpoint.js";
import { siteHostAddress, siteOfHost, siteResolverIp } from "../cloud/site.js";
import type { State } from "../cloud/state.js";
import type { Site } from "../cloud/types.js";
import { decide, type FlowSource } from "../flow/index.js";
import { forwarder } from "./records.js";
import { type DnsServer, startDnsServer } from "./server.js";
import { TtlCache } from "./ttl-cache.js";
import { type Answer, guarded, View, type Zone } from "./view.js";

const FORWARD_TIMEOUT_MS = 1500;

/** Whether any FORWARD rule is associated with the VPC (else its resolver forwards nothing). */
export function hasForwardRules(state: State, vpcId: string): boolean {
  for (const a of state.all("resolverRuleAssociation"))
    if (a.vpcId === vpcId && state.get("resolverRule", a.ruleId)?.ruleType === "FORWARD") return true;
  return false;
}

export interface HybridDnsOptions {
  state: State;
  /** The port every privlink resolver listens on. */
  port: number;
  /** The public resolver's answer, with the freshness of a prepared copy of it. */
  publicQuery: (name: string, type: string) => Promise<Answer>;
  /** The VPC's zones as an inbound endpoint answers (undefined: VPC gone). */
  inboundZones: (vpcId: string) => Zone[] | undefined;
  /**
   * Several hosts: whether this node serves a unit's servers (`site:ID` for a site's DNS server,
   * the VPC ID for its inbound endpoints), as placed. Default: every unit.
   */
  serves?: (unit: string) => boolean;
}

interface Served {
  key: string;
  server?: DnsServer;
  error?: string;
}

function servfail(): Answer {
  return { rcode: "SERVFAIL", answers: [], authority: [], authoritative: false, cacheable: false };
}

export class HybridDns {
  private readonly servers = new Map<string, Served>();
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private inbound = new Map<string, { version: number; view: View }>();
  private sites = new Map<string, { version: number; site: Site; view: View }>();
  /**
   * Forwarded answers, kept for their TTL under the state version they were forwarded at: a
   * commit may change the rule, its endpoints or the flow decision, so it forwards again.
   */
  private readonly forwarded = new TtlCache();
  /** Inbound endpoint admission by client address, for one state version. */
  private admitted = { version: -1, byClient: new Map<string, boolean>() };

  constructor(private readonly opts: HybridDnsOptions) {}

  /** Where a target address (as AWS or the site sees it) listens on this host. */
  private hostOf(ip: string): string {
    const { state } = this.opts;
    for (const site of state.all("site")) {
      const h = siteHostAddress(site, ip);
      if (h) return h;
    }
    // A Resolver endpoint's ENI first (that is what DNS targets name), then any one ENI.
    const enis = [...state.all("eni")].filter((e) => e.privateIp === ip);
    const eni = enis.find((e) => e.description.startsWith("Route 53 Resolver")) ?? enis[0];
    const vpc = eni && state.get("vpc", eni.vpcId);
    return (vpc && hostOfVpcIp(vpc, ip)) ?? ip;
  }

  /**
   * Forwards one query (see {@link forwardOnce}) unless an answer forwarded under this state
   * version for the same `scope` (a VPC or site) is still within its TTL. The answer's
   * freshness ends with its TTL second or the next commit.
   */
  private async forward(
    scope: string,
    source: FlowSource,
    local: string,
    targets: readonly { ip: string; port: number }[],
    name: string,
    type: string,
  ): Promise<Answer> {
    const { state } = this.opts;
    const version = state.version;
    const key = `${scope} ${version} ${type} ${name}`;
    const a = await this.forwarded.through(key, () => this.forwardOnce(source, local, targets, name, type));
    return guarded(a ?? servfail(), () => state.version === version);
  }

  /** Forwards one query from `source` (leaving from `local`) to the first admitted target. */
  private async forwardOnce(
    source: FlowSource,
    local: string,
    targets: readonly { ip: string; port: number }[],
    name: string,
    type: string,
  ): Promise<Answer> {
    for (const t of targets) {
      const host = this.hostOf(t.ip);
      const d = decide(this.opts.state, { source, destination: host, port: t.port, name: t.ip });
      if (!d.allowed) continue;
      // Every privlink resolver listens on the one DNS port, whatever port AWS would use.
      const port = host.startsWith("127.") ? this.opts.port : t.port;
      const answer = await forwarder([{ host, port, localAddress: local }], FORWARD_TIMEOUT_MS)(name, type);
      if (answer && answer.rcode !== "SERVFAIL") return answer;
    }
    return servfail();
  }

  /** The view of a site's DNS server: its forwarders, then the public resolver. */
  private siteView(site: Site): View {
    const local = siteHostAddress(site, siteResolverIp(site))!;
    const { state } = this.opts;
    const hit = this.sites.get(site.id);
    if (hit && hit.version === state.version && hit.site === site) return hit.view;
    const view = new View([], {
      outside: "NXDOMAIN",
      fallback: async (name, type) => {
        const zone = bestZone(site.dnsForwards, name);
        if (!zone) return this.opts.publicQuery(name, type);
        const targets = zone.targets.map((ip) => ({ ip, port: 53 }));
        return this.forward(
          `site:${site.id}`,
          { kind: "outside", address: local },
          local,
          targets,
          name,
          type,
        );
      },
    });
    this.sites.set(site.id, { version: state.version, site, view });
    return view;
  }

  /** Resolves as a site's workload does (through its DNS server's logic, without a socket). */
  resolveSite(siteName: string, name: string, type: string): Promise<Answer> {
    const site = this.opts.state.get("site", siteName);
    if (!site) return Promise.resolve({ rcode: "REFUSED", answers: [], authority: [], authoritative: false });
    return this.siteView(site).query(name, type);
  }

  private inboundView(vpcId: string): View {
    const { state } = this.opts;
    const hit = this.inbound.get(vpcId);
    if (hit && hit.version === state.version) return hit.view;
    const zones = this.opts.inboundZones(vpcId) ?? [];
    const view = new View(zones, {
      outside: "NXDOMAIN",
      fallback: (name, type) => this.vpcForward(vpcId, name, type) ?? this.opts.publicQuery(name, type),
    });
    this.inbound.set(vpcId, { version: state.version, view });
    return view;
  }

  /**
   * A VPC query for a domain a FORWARD rule associated with the VPC covers: forwarded from the
   * rule's outbound endpoint to its targets. Undefined when no rule applies.
   */
  vpcForward(vpcId: string, name: string, type: string): Promise<Answer> | undefined {
    const { state } = this.opts;
    const rule = forwardRuleFor(state, vpcId, name.toLowerCase().replace(/\.$/, ""));
    const out = rule?.resolverEndpointId ? state.get("resolverEndpoint", rule.resolverEndpointId) : undefined;
    const ip = out?.ipAddresses[0];
    const eni = ip && state.get("eni", ip.eniId);
    const vpc = eni && state.get("vpc", eni.vpcId);
    const local = vpc && hostOfVpcIp(vpc, eni.privateIp);
    if (!rule || !eni || !local) return undefined;
    return this.forward(vpcId, { kind: "eni", eniId: eni.id }, local, rule.targetIps, name, type);
  }

  /** Site servers and inbound endpoint servers for the current state. */
  private desired(): Map<string, { key: string; start: () => Promise<DnsServer> }> {
    const { state, port } = this.opts;
    const serves = this.opts.serves ?? (() => true);
    const want = new Map<string, { key: string; start: () => Promise<DnsServer> }>();
    for (const site of state.all("site")) {
      if (!serves(siteUnit(site.id))) continue;
      const host = siteHostAddress(site, siteResolverIp(site))!;
      want.set(host, {
        key: `site:${site.id}`,
        start: () =>
          startDnsServer({ host, port, view: () => this.siteView(state.get("site", site.id) ?? site) }),
      });
    }
    for (const e of state.all("resolverEndpoint")) {
      if (e.direction !== "INBOUND" || !serves(e.vpcId)) continue;
      const vpc = state.get("vpc", e.vpcId);
      for (const a of e.ipAddresses) {
        const host = vpc && hostOfVpcIp(vpc, a.ip);
        if (!host) continue;
        want.set(host, {
          key: `${e.id}:${a.eniId}`,
          start: () =>
            startDnsServer({
              host,
              port,
              view: () => this.inboundView(e.vpcId),
              admit: (client) => this.admits(client, host),
            }),
        });
      }
    }
    return want;
  }

  /**
   * A client may query an inbound endpoint IP when a TCP flow to it on 53 would pass: decided
   * once per client and state version, not per packet.
   */
  private admits(client: string, host: string): boolean {
    const { state } = this.opts;
    if (this.admitted.version !== state.version)
      this.admitted = { version: state.version, byClient: new Map() };
    const key = `${client} ${host}`;
    let ok = this.admitted.byClient.get(key);
    if (ok === undefined) {
      ok = this.decideAdmission(client, host);
      if (this.admitted.byClient.size < 10_000) this.admitted.byClient.set(key, ok);
    }
    return ok;
  }

  private decideAdmission(client: string, host: string): boolean {
    const { state } = this.opts;
    const source: FlowSource = { kind: "outside", address: client };
    // A site's DNS server and its workloads are sites; VPC workloads map to their ENI by address.
    if (!siteOfHost(state, client) && !client.startsWith("127.")) return false;
    return decide(state, { source, destination: host, port: 53 }).allowed;
  }

  sync(): void {
    this.chain = this.chain.then(() => this.apply()).catch(() => {});
  }

  private async apply(): Promise<void> {
    if (this.closed) return;
    const want = this.desired();
    for (const [host, s] of [...this.servers]) {
      if (want.get(host)?.key === s.key) continue;
      this.servers.delete(host);
      await s.server?.close();
    }
    for (const [host, w] of want) {
      if (this.servers.has(host)) continue;
      const s: Served = { key: w.key };
      this.servers.set(host, s);
      try {
        s.server = await w.start();
      } catch (err) {
        s.error = (err as Error).message;
        process.emitWarning(`privlink dns: cannot listen on ${host}:${this.opts.port}: ${s.error}`);
      }
    }
  }

  settled(): Promise<void> {
    return this.chain;
  }

  info(): { address: string; serves: string; error?: string }[] {
    return [...this.servers].map(([address, s]) => ({
      address,
      serves: s.key,
      ...(s.error ? { error: s.error } : {}),
    }));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.chain;
    await Promise.all([...this.servers.values()].map((s) => s.server?.close()));
    this.servers.clear();
  }
}

function bestZone<T extends { zone: string }>(zones: readonly T[], rawName: string): T | undefined {
  const name = rawName.toLowerCase().replace(/\.$/, "");
  let best: T | undefined;
  for (const z of zones)
    if ((name === z.zone || name.endsWith(`.${z.zone}`)) && (!best || z.zone.length > best.zone.length))
      best = z;
  return best;
}
