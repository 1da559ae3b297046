import { formatIp, parseCidr, parseIp } from "./cidr.js";
import type { Runtime } from "./runtime.js";
import type { State, Tx } from "./state.js";
import type { Instance, Vpc } from "./types.js";

/**
 * Public IPv4 addresses privlink hands out (instances, NAT gateways): 198.18.0.0/15, the
 * benchmarking range (RFC 2544), documented as never routed, so a made-up public address can
 * never be mistaken for a real host on the Internet.
 */
export const PUBLIC_IP_POOL = "198.18.0.0/15";

/** The public IPv4 addresses in use: instances' and NAT gateways'. */
function publicIpsInUse(tx: Tx): Set<number> {
  const used = new Set<number>();
  for (const i of tx.all("instance"))
    if (i.publicIp && i.state !== "terminated") used.add(parseIp(i.publicIp)!);
  for (const n of tx.all("natGateway"))
    if (n.publicIp && n.state !== "deleted") used.add(parseIp(n.publicIp)!);
  return used;
}

/**
 * A free address of the pool: a random start (as AWS's are random), then the next free one,
 * skipping the pool's network and broadcast-looking .0 and .255 addresses.
 */
export function allocatePublicIp(tx: Tx, rt: Runtime): string {
  const pool = parseCidr(PUBLIC_IP_POOL)!;
  const used = publicIpsInUse(tx);
  const start = Number.parseInt(rt.hex(5), 16) % pool.size;
  for (let k = 0; k < pool.size; k++) {
    const ip = pool.base + ((start + k) % pool.size);
    const last = ip & 255;
    if (last !== 0 && last !== 255 && !used.has(ip)) return formatIp(ip);
  }
  // 130,000 public addresses in use is far beyond any one-machine design.
  throw new Error("privlink: the public IPv4 pool 198.18.0.0/15 is exhausted");
}

/** `ip-10-0-1-5.ec2.internal` (us-east-1) or `ip-10-0-1-5.REGION.compute.internal`. */
export function privateDnsName(region: string, ip: string): string {
  const host = `ip-${ip.replaceAll(".", "-")}`;
  return region === "us-east-1" ? `${host}.ec2.internal` : `${host}.${region}.compute.internal`;
}

/** `ec2-198-18-0-5.compute-1.amazonaws.com` (us-east-1) or `ec2-….REGION.compute.amazonaws.com`. */
export function publicDnsName(region: string, ip: string): string {
  const host = `ec2-${ip.replaceAll(".", "-")}`;
  return region === "us-east-1"
    ? `${host}.compute-1.amazonaws.com`
    : `${host}.${region}.compute.amazonaws.com`;
}

/**
 * The instance's public DNS name: AWS gives one only to an instance with a public address in a
 * VPC with DNS hostnames enabled (DescribeInstances shows "" otherwise).
 */
export function instancePublicName(state: State | Tx, i: Instance): string | undefined {
  if (!i.publicIp || i.state === "terminated") return undefined;
  const vpc: Vpc | undefined = state.get("vpc", i.vpcId);
  return vpc?.dnsHostnames ? publicDnsName(i.region, i.publicIp) : undefined;
}
