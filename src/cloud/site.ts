import { freeSlot, hostAddress } from "./addressing.js";
import { cidrContains, cidrOverlaps, formatIp, isCanonicalCidr, parseCidr, parseIp } from "./cidr.js";
import type { HostConfig } from "./context.js";
import { AwsError } from "./errors.js";
import type { State, Tx } from "./state.js";
import type { Site, SiteDnsForward } from "./types.js";

/**
 * On-premises sites: a network with its own CIDR outside AWS, living on its own host-address
 * slot exactly as a VPC block does (site IP = base + offset ↔ 127.S.(offset>>8).(offset&255)).
 * A site is privlink's object, managed with `privlink site …`; the AWS objects that connect it
 * (CustomerGateway with the site's public IP, a Direct Connect connection at the site's location)
 * live in vpn.ts and direct-connect.ts.
 */

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
/** Documentation range (TEST-NET-3): site public IPs default to 203.0.113.<slot>. */
const PUBLIC_IP_BASE = "203.0.113.";
export const DEFAULT_SITE_ASN = 65000;

export interface SiteInput {
  name: string;
  cidr: string;
  publicIp?: string;
  bgpAsn?: number;
  internet?: boolean;
}

const bad = (message: string) => new AwsError("InvalidParameterValue", message);

export function getSite(tx: Tx | State, name: string): Site {
  const s = tx.get("site", name);
  if (!s) throw new AwsError("InvalidSite.NotFound", `no site named '${name}'`, 404);
  return s;
}

export function createSite(tx: Tx, host: HostConfig, now: Date, input: SiteInput): Site {
  if (!NAME.test(input.name))
    throw bad(
      `a site name is 1-63 lower-case letters, digits and hyphens starting with a letter, not '${input.name}'`,
    );
  if (tx.get("site", input.name))
    throw new AwsError("SiteAlreadyExists", `a site named '${input.name}' exists`, 409);
  const cidr = parseCidr(input.cidr);
  if (!cidr || !isCanonicalCidr(input.cidr))
    throw bad(`'${input.cidr}' is not a CIDR block (e.g. 192.168.0.0/16)`);
  if (cidr.prefix < 16 || cidr.prefix > 28)
    throw bad(`a site's CIDR block is between /16 and /28, as a VPC's is, not /${cidr.prefix}`);
  for (const other of tx.all("site"))
    if (cidrOverlaps(cidr, parseCidr(other.cidr)!))
      throw bad(`${input.cidr} overlaps site '${other.id}' (${other.cidr})`);
  const asn = input.bgpAsn ?? DEFAULT_SITE_ASN;
  if (!Number.isInteger(asn) || asn < 1 || asn > 4294967294)
    throw bad(`BGP ASN ${asn} is not in 1-4294967294`);
  const slot = freeSlot(tx, host);
  const publicIp = input.publicIp ?? `${PUBLIC_IP_BASE}${slot}`;
  if (parseIp(publicIp) === undefined) throw bad(`public IP '${publicIp}' is not an IPv4 address`);
  if ([...tx.all("site")].some((s) => s.publicIp === publicIp))
    throw bad(`another site already speaks from public IP ${publicIp}`);
  return tx.put("site", {
    id: input.name,
    cidr: input.cidr,
    slot,
    publicIp,
    bgpAsn: asn,
    internet: input.internet ?? false,
    tunnelsDown: false,
    dnsForwards: [],
    createdAt: now.toISOString(),
  });
}

/** A site still referenced by a customer gateway or a Direct Connect connection stays. */
export function deleteSite(tx: Tx, name: string): void {
  const site = getSite(tx, name);
  const users = [
    ...[...tx.all("customerGateway")]
      .filter((c) => c.state !== "deleted" && c.ipAddress === site.publicIp)
      .map((c) => c.id),
    ...[...tx.all("dxConnection")]
      .filter((c) => c.state !== "deleted" && c.location === site.id)
      .map((c) => c.id),
  ];
  if (users.length)
    throw new AwsError(
      "DependencyViolation",
      `site '${name}' is still connected (${users.join(", ")}): delete those first`,
      409,
    );
  tx.delete("site", name);
}

export function setTunnels(tx: Tx, name: string, up: boolean): Site {
  const site = getSite(tx, name);
  return tx.put("site", { ...site, tunnelsDown: !up });
}

/** Sets (or, with no targets, removes) the forwarder for `zone` on the site's DNS server. */
export function setDnsForward(tx: Tx, name: string, zone: string, targets: readonly string[]): Site {
  const site = getSite(tx, name);
  const z = zone.toLowerCase().replace(/\.$/, "");
  if (!/^([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/.test(z))
    throw bad(`'${zone}' is not a domain name`);
  for (const t of targets)
    if (parseIp(t) === undefined) throw bad(`forwarder target '${t}' is not an IPv4 address`);
  const rest = site.dnsForwards.filter((f) => f.zone !== z);
  const next: SiteDnsForward[] = targets.length ? [...rest, { zone: z, targets: [...targets] }] : rest;
  return tx.put("site", { ...site, dnsForwards: next });
}

/** The site's own DNS server: base + 2 of its CIDR (as a VPC's resolver). */
export function siteResolverIp(site: Site): string {
  return formatIp(parseCidr(site.cidr)!.base + 2);
}

export function siteHostAddress(site: Site, ip: string): string | undefined {
  const n = parseIp(ip);
  const c = parseCidr(site.cidr)!;
  if (n === undefined || !cidrContains(c, n)) return undefined;
  return hostAddress(site.slot, n - c.base);
}

/** Maps a host address back to its site and the site address. */
export function siteOfHost(state: State | Tx, host: string): { site: Site; ip: string } | undefined {
  const m = /^127\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
  if (!m) return undefined;
  const slot = Number(m[1]);
  const offset = (Number(m[2]) << 8) | Number(m[3]);
  for (const site of state.all("site")) {
    if (site.slot !== slot) continue;
    const c = parseCidr(site.cidr)!;
    return offset < c.size ? { site, ip: formatIp(c.base + offset) } : undefined;
  }
  return undefined;
}

/** The site whose CIDR holds `ip`, if any. */
export function siteOfIp(state: State | Tx, ip: number): Site | undefined {
  for (const site of state.all("site")) if (cidrContains(parseCidr(site.cidr)!, ip)) return site;
  return undefined;
}

/** A workload of a site: `site:NAME` acts from the site's host .10 unless an address is given. */
export const SITE_WORKLOAD_OFFSET = 10;

export function siteWorkloadIp(site: Site, ip?: string): string {
  if (ip === undefined) return formatIp(parseCidr(site.cidr)!.base + SITE_WORKLOAD_OFFSET);
  const n = parseIp(ip);
  if (n === undefined || !cidrContains(parseCidr(site.cidr)!, n))
    throw bad(`${ip} is not an address of site '${site.id}' (${site.cidr})`);
  return ip;
}
