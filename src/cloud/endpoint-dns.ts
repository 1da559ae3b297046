import { awsServiceByName, VPCE_HOSTED_ZONE_IDS } from "./catalog.js";
import type { State, Tx } from "./state.js";
import type { EndpointService, VpcEndpoint } from "./types.js";

/**
 * The DNS names of an interface endpoint, exactly as AWS formats them (spec §4.1): the
 * regional name first, then one zonal name per AZ, then the private names when private DNS is
 * on. The EC2 API (DnsEntries) and the resolvers (records) both read them from here.
 */
export interface EndpointDnsName {
  readonly name: string;
  readonly hostedZoneId: string;
  readonly kind: "regional" | "zonal" | "private";
  /** For zonal names: the AZ whose ENI the name resolves to. */
  readonly az?: string;
}

/** A privlink-made ID for the hidden private hosted zone behind a private DNS name. */
function privateZoneId(name: string): string {
  let h = 0;
  for (const c of name) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  return `Z${h.toString(36).toUpperCase().padStart(7, "0")}PRIVLINK`.slice(0, 21);
}

export function vpceZoneId(region: string): string {
  return VPCE_HOSTED_ZONE_IDS[region] ?? "Z7HUB22UULQXV";
}

/** The service's base DNS name(s): `<svc>.<region>.vpce.amazonaws.com` or `vpce-svc-….<region>.vpce.amazonaws.com`. */
export function baseDnsNames(
  state: State | Tx,
  endpoint: Pick<VpcEndpoint, "serviceName" | "serviceId" | "serviceRegion" | "region" | "type">,
): string[] {
  if (endpoint.serviceId) {
    const svc = state.get("endpointService", endpoint.serviceId);
    return svc ? [serviceBaseDnsName(svc)] : [];
  }
  return (
    awsServiceByName(endpoint.serviceName, {
      type: endpoint.type === "Gateway" ? "Gateway" : "Interface",
      region: endpoint.serviceRegion,
    })?.baseEndpointDnsNames ?? []
  );
}

export function serviceBaseDnsName(svc: Pick<EndpointService, "id" | "region">): string {
  return `${svc.id}.${svc.region}.vpce.amazonaws.com`;
}

/** The private DNS names an endpoint serves when PrivateDnsEnabled (customer names only once verified). */
export function privateDnsNames(state: State | Tx, endpoint: VpcEndpoint): string[] {
  if (endpoint.type !== "Interface") return [];
  if (endpoint.serviceId) {
    const svc = state.get("endpointService", endpoint.serviceId);
    return svc?.privateDnsName && svc.privateDnsVerification?.state === "verified"
      ? [svc.privateDnsName]
      : [];
  }
  return (
    awsServiceByName(endpoint.serviceName, { type: "Interface", region: endpoint.serviceRegion })
      ?.privateDnsNames ?? []
  );
}

/**
 * S3 interface endpoints name buckets, access points and control under the endpoint's names,
 * so AWS lists them as wildcards (`*.vpce-….s3.<region>.vpce.amazonaws.com`, spec §4.1) although
 * the service's base name has no wildcard.
 */
function wildcardEndpointNames(endpoint: VpcEndpoint): boolean {
  return (
    endpoint.serviceId === undefined && endpoint.serviceName === `com.amazonaws.${endpoint.serviceRegion}.s3`
  );
}

export function endpointDnsNames(state: State | Tx, endpoint: VpcEndpoint): EndpointDnsName[] {
  if (endpoint.type !== "Interface") return [];
  const zone = vpceZoneId(endpoint.region);
  const prefix = `${endpoint.id}-${endpoint.dnsSuffix}`;
  const azs = [
    ...new Set(endpoint.enis.map((e) => state.get("subnet", e.subnetId)?.az).filter((a): a is string => !!a)),
  ].sort();
  const out: EndpointDnsName[] = [];
  const s3 = wildcardEndpointNames(endpoint);
  for (const base of baseDnsNames(state, endpoint)) {
    // Wildcard base names, and every S3 interface endpoint, give names with a leading "*.".
    const wild = s3 || base.startsWith("*.");
    const b = base.startsWith("*.") ? base.slice(2) : base;
    const lead = wild ? "*." : "";
    out.push({ name: `${lead}${prefix}.${b}`, hostedZoneId: zone, kind: "regional" });
    for (const az of azs)
      out.push({ name: `${lead}${prefix}-${az}.${b}`, hostedZoneId: zone, kind: "zonal", az });
  }
  if (endpoint.privateDnsEnabled)
    for (const name of privateDnsNames(state, endpoint))
      out.push({ name, hostedZoneId: privateZoneId(name), kind: "private" });
  return out;
}

/**
 * The names an endpoint answers to (DNS records, TLS certificate): its DNS entries, and for S3
 * the regional name itself. AWS lists S3's private name as `*.s3.<region>.amazonaws.com` only,
 * yet private DNS also answers `s3.<region>.amazonaws.com` (ListBuckets, path-style requests,
 * the CLI with the regional endpoint).
 */
export function endpointAnsweredNames(state: State | Tx, endpoint: VpcEndpoint): EndpointDnsName[] {
  const names = endpointDnsNames(state, endpoint);
  if (!wildcardEndpointNames(endpoint)) return names;
  const wildcard = `*.s3.${endpoint.serviceRegion}.amazonaws.com`;
  return names.flatMap((n) =>
    n.kind === "private" && n.name === wildcard ? [{ ...n, name: wildcard.slice(2) }, n] : [n],
  );
}

/**
 * The names under an S3 interface endpoint's wildcard that hold one more label: buckets
 * (`<bucket>.bucket.vpce-….`), access points and S3 Control. DNS answers them from the
 * wildcard; a TLS certificate needs each spelled out (a wildcard covers one label only).
 */
export function s3EndpointSubdomainNames(endpoint: VpcEndpoint, names: readonly string[]): string[] {
  if (endpoint.type !== "Interface" || !wildcardEndpointNames(endpoint)) return [];
  return names
    .filter((n) => n.startsWith("*.vpce-"))
    .flatMap((n) => ["bucket", "accesspoint", "control"].map((sub) => `*.${sub}.${n.slice(2)}`));
}

// Private DNS: one private domain per VPC (endpoint.ts refuses a second claimant)

/** A domain already served privately in a VPC, and by what (for messages and other claimants). */
export interface DomainClaim {
  readonly domain: string;
  readonly by: string;
}

/** `*.execute-api.…` claims the domain `execute-api.…`; case and a final dot do not matter. */
export function domainOf(name: string): string {
  return name.toLowerCase().replace(/\.$/, "").replace(/^\*\./, "");
}

/**
 * The claims of an endpoint of an AWS service, by endpoint object: they read nothing but the
 * endpoint (a change is a new object), and every create in a VPC reads those of all its
 * endpoints. A customer service's name reads the service's verification: never kept.
 */
const AWS_CLAIMS = new WeakMap<VpcEndpoint, readonly DomainClaim[]>();

/** The private domains endpoints with private DNS hold in a VPC. */
export function endpointDomainClaims(tx: Tx, vpcId: string): DomainClaim[] {
  const out: DomainClaim[] = [];
  for (const e of tx.where("vpcEndpoint", "vpcId", vpcId)) {
    if (!e.privateDnsEnabled || !holdsDns(e)) continue;
    let claims = e.serviceId ? undefined : AWS_CLAIMS.get(e);
    if (!claims) {
      claims = privateDnsNames(tx, e).map((n) => ({ domain: domainOf(n), by: e.id }));
      if (!e.serviceId) AWS_CLAIMS.set(e, claims);
    }
    out.push(...claims);
  }
  return out;
}

/** An endpoint being deleted, or never admitted, serves no name. */
function holdsDns(e: VpcEndpoint): boolean {
  return !["deleting", "deleted", "rejected", "failed"].includes(e.state);
}
