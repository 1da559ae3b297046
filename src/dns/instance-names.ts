/**
 * Instances' DNS names, as Route 53 Resolver answers them:
 *
 * - `ip-10-0-1-5.ec2.internal` (private name): in the instance's own VPC, its private address;
 * - `ec2-198-18-0-5.compute-1.amazonaws.com` (public name, when the instance has a public IPv4
 *   and its VPC has DNS hostnames on): from the public resolver and other VPCs, the public
 *   address; inside its own VPC, the private address; and from a VPC peered with it, the
 *   private address only when the peering side of the instance's VPC has
 *   `AllowDnsResolutionFromRemoteVpc` (AWS: "the public DNS hostnames of instances in the
 *   specified VPC resolve to private IP addresses when queried from instances in the peer VPC")
 *   and the querying VPC has DNS hostnames on too (AWS needs both VPCs' DNS attributes).
 *
 * Private addresses are given as host addresses (records.ts's module comment). This index is
 * kept from the change feed, and says which views a change touches, so that an instance costs
 * its VPC's view (and the public one when it has a public address), not every view.
 */
import { hostAddressOf } from "../cloud/addressing.js";
import { instancePublicName, privateDnsName } from "../cloud/instance-address.js";
import type { State } from "../cloud/state.js";
import type { Instance, PeeringSide, Vpc, VpcPeeringConnection } from "../cloud/types.js";
import { ENDPOINT_RECORD_TTL, type RR } from "./view.js";

/** The public view's id (records.ts PUBLIC_MAIN; repeated to keep this module below records.ts). */
const PUBLIC = "public";

/** What a change touches: views to assemble again, and dependents' tokens to follow. */
export interface Touched {
  readonly views: string[];
  readonly tokens: string[];
}

/** A view depending on `instancesOf(vpc)` copies that VPC's instances' names. */
export const instancesOf = (vpcId: string) => `instances:${vpcId}`;

function addTo(m: Map<string, Set<string>>, k: string, v: string): void {
  const s = m.get(k) ?? new Set<string>();
  m.set(k, s);
  s.add(v);
}

function removeFrom(m: Map<string, Set<string>>, k: string, v: string): void {
  const s = m.get(k);
  s?.delete(v);
  if (s?.size === 0) m.delete(k);
}

const record = (name: string, address: string): RR => ({
  name,
  type: "A",
  ttl: ENDPOINT_RECORD_TTL,
  data: address,
});

export class InstanceNames {
  private readonly byVpc = new Map<string, Set<string>>();
  private readonly vpcOf = new Map<string, string>();
  private readonly withPublicIp = new Set<string>();
  private readonly peeringVpcs = new Map<string, readonly string[]>();
  private readonly peeringsByVpc = new Map<string, Set<string>>();
  private readonly hostnames = new Map<string, boolean>();

  constructor(private readonly state: State) {}

  load(): void {
    for (const m of [this.byVpc, this.vpcOf, this.peeringVpcs, this.peeringsByVpc, this.hostnames]) m.clear();
    this.withPublicIp.clear();
    for (const v of this.state.all("vpc")) this.hostnames.set(v.id, v.dnsHostnames);
    for (const i of this.state.all("instance")) this.onInstance(i.id, i);
    for (const p of this.state.all("vpcPeeringConnection")) this.onPeering(p.id, p);
  }

  onInstance(id: string, i: Instance | undefined): Touched {
    const before = this.vpcOf.get(id);
    const hadPublic = this.withPublicIp.delete(id);
    if (before) removeFrom(this.byVpc, before, id);
    this.vpcOf.delete(id);
    const live = i && i.state !== "terminated" ? i : undefined;
    if (live) {
      this.vpcOf.set(id, live.vpcId);
      addTo(this.byVpc, live.vpcId, id);
      if (live.publicIp) this.withPublicIp.add(id);
    }
    const vpcs = [...new Set([before, live?.vpcId].filter((v) => v !== undefined))];
    const publicNow = hadPublic || this.withPublicIp.has(id);
    return {
      views: publicNow ? [...vpcs, PUBLIC] : vpcs,
      tokens: publicNow ? vpcs.map(instancesOf) : [],
    };
  }

  onPeering(id: string, p: VpcPeeringConnection | undefined): Touched {
    const before = this.peeringVpcs.get(id) ?? [];
    for (const v of before) removeFrom(this.peeringsByVpc, v, id);
    this.peeringVpcs.delete(id);
    const now = p ? [p.requester.vpcId, p.accepter.vpcId] : [];
    if (p && p.status !== "deleted") {
      this.peeringVpcs.set(id, now);
      for (const v of now) addTo(this.peeringsByVpc, v, id);
    }
    return { views: [...new Set([...before, ...now])], tokens: [] };
  }

  /**
   * A VPC's DNS hostnames attribute names its instances with public addresses publicly: the
   * public view and its peers'. A VPC without such instances (a new one) touches neither.
   */
  onVpc(id: string, vpc: Vpc | undefined): Touched {
    const before = this.hostnames.get(id);
    if (vpc) this.hostnames.set(id, vpc.dnsHostnames);
    else this.hostnames.delete(id);
    if (before === vpc?.dnsHostnames) return { views: [], tokens: [] };
    const named = [...(this.byVpc.get(id) ?? [])].some((i) => this.withPublicIp.has(i));
    return named ? { views: [PUBLIC], tokens: [instancesOf(id)] } : { views: [], tokens: [] };
  }

  /** The names a VPC's view answers: its instances' own, then peers' public names it may resolve privately. */
  vpcRecords(vpc: Vpc, deps: Set<string>, shadowed: (name: string) => boolean): RR[] {
    const out: RR[] = [];
    for (const i of this.instancesIn(vpc.id)) {
      const eni = this.state.get("eni", i.eniId);
      const host = eni && hostAddressOf(vpc, eni.privateIp);
      if (!eni || !host) continue;
      const names = [privateDnsName(i.region, eni.privateIp), instancePublicName(this.state, i)];
      for (const n of names) if (n && !shadowed(n)) out.push(record(n, host));
    }
    if (!vpc.dnsHostnames) return out;
    for (const remote of this.peersResolvable(vpc.id)) {
      const peer = this.state.get("vpc", remote.vpcId);
      if (!peer) continue;
      deps.add(instancesOf(peer.id));
      deps.add(`vpc:${peer.id}`);
      for (const i of this.instancesIn(peer.id)) {
        const name = instancePublicName(this.state, i);
        const eni = this.state.get("eni", i.eniId);
        const host = eni && hostAddressOf(peer, eni.privateIp);
        if (name && host && !shadowed(name)) out.push(record(name, host));
      }
    }
    return out;
  }

  /** The public view: every public name with its public address. */
  publicRecords(): RR[] {
    const out: RR[] = [];
    for (const id of [...this.withPublicIp].sort()) {
      const i = this.state.get("instance", id);
      const name = i && instancePublicName(this.state, i);
      if (name) out.push(record(name, i.publicIp!));
    }
    return out;
  }

  private instancesIn(vpcId: string): Instance[] {
    const out: Instance[] = [];
    for (const id of [...(this.byVpc.get(vpcId) ?? [])].sort()) {
      const i = this.state.get("instance", id);
      if (i && i.state !== "terminated") out.push(i);
    }
    return out;
  }

  /** The remote sides of the VPC's active peerings whose owners let this VPC resolve their names privately. */
  private peersResolvable(vpcId: string): PeeringSide[] {
    const out: PeeringSide[] = [];
    for (const id of [...(this.peeringsByVpc.get(vpcId) ?? [])].sort()) {
      const p = this.state.get("vpcPeeringConnection", id);
      if (p?.status !== "active") continue;
      const remote = p.requester.vpcId === vpcId ? p.accepter : p.requester;
      if (remote.allowDnsResolutionFromRemoteVpc) out.push(remote);
    }
    return out;
  }
}
