import { createHash } from "node:crypto";
import { formatIp, parseCidr, parseIp } from "../../cloud/cidr.js";
import type { State } from "../../cloud/state.js";
import type { Eni } from "../../cloud/types.js";

/**
 * What namespace mode builds from the state: one namespace per VPC (its router: the subnets'
 * base + 1, the resolver at base + 2 and every interface that is not an instance's, on its
 * loopback) and one per instance (its interfaces' private IPs on eth0, a veth to its VPC's
 * namespace, default route via its subnet's base + 1). A pure function, so that it is tested
 * without root and the lifecycle only diffs.
 */

/** Where privlink's transparent listener sits in each VPC namespace (on its own loopback). */
export const TRANSPARENT_PORT = 15001;

/** Every namespace privlink makes starts with this, then the home's tag. */
export const NAMESPACE_PREFIX = "privlink-";

export interface VpcNamespace {
  readonly name: string;
  readonly vpcId: string;
  /** /32 addresses on the namespace's loopback. */
  readonly addresses: readonly string[];
  /** The resolver addresses (base + 2 of each CIDR block) among them. */
  readonly resolvers: readonly string[];
}

export interface InstanceNamespace {
  readonly name: string;
  readonly instanceId: string;
  readonly vpcNamespace: string;
  /** The veth end in the VPC's namespace (the instance's end is eth0). */
  readonly link: string;
  /** ip/prefix on eth0, the primary interface first. */
  readonly addresses: readonly string[];
  readonly gateway: string;
  readonly nameserver: string;
}

export interface Topology {
  readonly vpcs: readonly VpcNamespace[];
  readonly instances: readonly InstanceNamespace[];
}

/** A short tag of the state directory: two privlink servers on one machine never share a name. */
export function homeTag(home: string): string {
  return createHash("sha256").update(home).digest("hex").slice(0, 8);
}

export const namespaceName = (tag: string, id: string): string => `${NAMESPACE_PREFIX}${tag}-${id}`;

/** Interface names are at most 15 bytes; a hash keeps them unique within a VPC's namespace. */
export const linkName = (instanceId: string): string =>
  `v${createHash("sha256").update(instanceId).digest("hex").slice(0, 12)}`;

function offset(cidr: string, n: number): string | undefined {
  const c = parseCidr(cidr);
  return c ? formatIp(c.base + n) : undefined;
}

const LIVE = new Set(["pending", "running"]);

export function topologyOf(state: State, tag: string): Topology {
  const vpcs = new Map<string, { addresses: Set<string>; resolvers: string[] }>();
  for (const vpc of state.all("vpc")) {
    const resolvers: string[] = [];
    for (const b of vpc.cidrBlocks)
      if (b.state === "associated" && b.slot !== undefined) {
        const r = offset(b.cidr, 2);
        if (r) resolvers.push(r);
      }
    if (resolvers.length) vpcs.set(vpc.id, { addresses: new Set(resolvers), resolvers });
  }
  const enisOf = new Map<string, Eni[]>();
  for (const eni of state.all("eni")) {
    const id = eni.attachment?.instanceId;
    if (id) enisOf.set(id, [...(enisOf.get(id) ?? []), eni]);
  }
  const instances: InstanceNamespace[] = [];
  for (const i of state.all("instance")) {
    const vpc = vpcs.get(i.vpcId);
    const subnet = state.get("subnet", i.subnetId);
    const primary = state.get("eni", i.eniId);
    const gateway = subnet && offset(subnet.cidr, 1);
    if (!vpc || !LIVE.has(i.state) || !primary || !gateway) continue;
    vpc.addresses.add(gateway);
    const addresses: string[] = [];
    const enis = enisOf.get(i.id) ?? [];
    for (const eni of enis.some((e) => e.id === i.eniId) ? enis : [primary, ...enis]) {
      const s = state.get("subnet", eni.subnetId);
      const prefix = s && parseCidr(s.cidr)?.prefix;
      if (prefix === undefined || parseIp(eni.privateIp) === undefined) continue;
      const a = `${eni.privateIp}/${prefix}`;
      if (eni.id === i.eniId) addresses.unshift(a);
      else addresses.push(a);
    }
    instances.push({
      name: namespaceName(tag, i.id),
      instanceId: i.id,
      vpcNamespace: namespaceName(tag, i.vpcId),
      link: linkName(i.id),
      addresses,
      gateway,
      nameserver: vpc.resolvers[0]!,
    });
  }
  const onInstances = new Set(instances.flatMap((i) => i.addresses.map((a) => a.split("/")[0]!)));
  for (const eni of state.all("eni")) {
    const vpc = vpcs.get(eni.vpcId);
    if (vpc && !onInstances.has(eni.privateIp) && parseIp(eni.privateIp) !== undefined)
      vpc.addresses.add(eni.privateIp);
  }
  return {
    vpcs: [...vpcs].map(([vpcId, v]) => ({
      name: namespaceName(tag, vpcId),
      vpcId,
      addresses: [...v.addresses].sort(),
      resolvers: v.resolvers,
    })),
    instances,
  };
}
