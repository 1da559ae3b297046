/**
 * Route 53 as PrivateLink designs use it: public and private hosted zones, record sets (simple
 * routing, alias A/AAAA), VPC associations and cross-account association authorizations, and
 * change IDs. Pure: the resolvers (dns/records.ts) read these objects from the state.
 *
 * privlink choices where AWS is silent or unknown (documented, tested):
 * - A change is applied when its request commits and the resolvers serve it at once, so the
 *   mutating call answers PENDING (as AWS does) and GetChange answers INSYNC.
 * - CallerReference is unique per account for ever (AWS: "a unique string"): a reused one is
 *   HostedZoneAlreadyExists even after the zone was deleted.
 * - Only simple routing: SetIdentifier, weights, geo and failover are refused (InvalidInput).
 * - Alias targets: another record set in one of the caller's zones, or an interface endpoint's
 *   regional/zonal DNS name in the vpce zone of its region (`Z7HUB22UULQXV` in us-east-1).
 * - A VPC may be deleted while zones are associated with it; the association stays listed and
 *   resolves nowhere.
 */
import { VPCE_HOSTED_ZONE_IDS } from "./catalog.js";
import { parseIp } from "./cidr.js";
import { type Ctx, isoNow } from "./context.js";
import { endpointDnsNames, endpointDomainClaims } from "./endpoint-dns.js";
import { AwsError } from "./errors.js";
import type { State, Tx } from "./state.js";
import type {
  AliasTargetValue,
  HostedZone,
  HostedZoneVpc,
  RecordSet,
  Route53Change,
  Vpc,
  VpcAssociationAuthorization,
  VpcEndpoint,
} from "./types.js";

export const RECORD_TYPES = ["A", "AAAA", "CNAME", "TXT", "MX", "NS", "SOA", "SRV", "CAA", "PTR"] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

/** The name servers Route 53 puts in every private hosted zone's NS record. */
export const PRIVATE_ZONE_NAME_SERVERS = Object.freeze([
  "ns-1536.awsdns-00.co.uk",
  "ns-0.awsdns-00.com",
  "ns-1024.awsdns-00.org",
  "ns-512.awsdns-00.net",
]);

export const SOA_TTL = 900;
export const NS_TTL = 172800;

// ---------------------------------------------------------------------------------------------
// Names

/** Route 53 spelling → canonical: lower case, no final dot, `\052` → `*`, other octal escapes decoded. */
export function canonicalDnsName(name: string): string {
  const decoded = name.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  return decoded.toLowerCase().replace(/\.$/, "");
}

/** Canonical → how Route 53 lists a name: final dot, a wildcard label as `\052`. */
export function route53Name(name: string): string {
  return `${name.replace(/(^|\.)\*(?=\.|$)/g, "$1\\052")}.`;
}

export function isValidDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split(".");
  return labels.every(
    (l, i) => l.length > 0 && l.length <= 63 && (l === "*" ? i === 0 : /^[a-z0-9_-]+$/.test(l)),
  );
}

export function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/** Route 53 sorts by name with its labels reversed (com.example.www), then by type. */
export function reversedName(name: string): string {
  return name.split(".").reverse().join(".");
}

function stripPrefix(id: string, prefix: string): string {
  return id.startsWith(prefix) ? id.slice(prefix.length) : id;
}

export const zoneIdOf = (id: string) => stripPrefix(stripPrefix(id, "/hostedzone/"), "hostedzone/");
export const changeIdOf = (id: string) => stripPrefix(stripPrefix(id, "/change/"), "change/");

function upperId(ctx: Ctx, lead: string): string {
  return `${lead}0${ctx.rt.alnum(19).toUpperCase()}`;
}

// ---------------------------------------------------------------------------------------------
// Lookups

const noSuchZone = (id: string) =>
  new AwsError("NoSuchHostedZone", `No hosted zone found with ID: ${id}`, 404);

/** A zone the caller owns. */
export function getOwnZone(tx: Tx, ctx: Ctx, id: string | undefined): HostedZone {
  const zid = zoneIdOf(id ?? "");
  const z = tx.get("hostedZone", zid);
  if (!z || z.accountId !== ctx.accountId) throw noSuchZone(zid);
  return z;
}

export function recordsOf(state: State | Tx, zoneId: string): RecordSet[] {
  return [...state.all("recordSet")].filter((r) => r.zoneId === zoneId);
}

export function recordCounts(state: State | Tx): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of state.all("recordSet")) counts.set(r.zoneId, (counts.get(r.zoneId) ?? 0) + 1);
  return counts;
}

const recordId = (zoneId: string, name: string, type: string) => `${zoneId}|${name}|${type}`;

function findVpc(tx: Tx, vpcId: string, region: string): Vpc | undefined {
  const v = tx.get("vpc", vpcId);
  return v && v.region === region ? v : undefined;
}

function invalidVpc(vpcId: string): AwsError {
  return new AwsError("InvalidVPCId", `The VPC ID '${vpcId}' is not valid or does not exist.`); // privlink
}

/** The caller's own VPC named by a Route 53 `VPC` element. */
function ownVpc(tx: Tx, ctx: Ctx, vpc: HostedZoneVpc): Vpc {
  const v = findVpc(tx, vpc.vpcId, vpc.vpcRegion);
  if (!v || v.accountId !== ctx.accountId) throw invalidVpc(vpc.vpcId);
  return v;
}

export function needVpc(input: { VPCId?: string; VPCRegion?: string } | undefined): HostedZoneVpc {
  if (!input?.VPCId) throw new AwsError("InvalidInput", "Invalid request: Missing field 'VPCId'"); // privlink
  if (!input.VPCRegion) throw new AwsError("InvalidInput", "Invalid request: Missing field 'VPCRegion'"); // privlink
  return { vpcId: input.VPCId, vpcRegion: input.VPCRegion };
}

// ---------------------------------------------------------------------------------------------
// Private domains in a VPC: one owner per domain (spec §4.2)

/** Private hosted zones associated with a VPC. */
export function zonesOfVpc(state: State | Tx, vpcId: string): HostedZone[] {
  return [...state.all("hostedZone")].filter((z) => z.privateZone && z.vpcs.some((v) => v.vpcId === vpcId));
}

/** What endpoint.ts asks before it turns private DNS on: the PHZ names a VPC already has. */
export function hostedZoneDomainClaims(tx: Tx, vpcId: string): { domain: string; by: string }[] {
  return zonesOfVpc(tx, vpcId).map((z) => ({ domain: z.name, by: z.id }));
}

function conflict(vpc: HostedZoneVpc, zoneId: string): AwsError {
  return new AwsError(
    "ConflictingDomainExists",
    `The VPC ${vpc.vpcId} in ${vpc.vpcRegion} region has already been associated with the hosted zone ${zoneId} with the same domain name.`,
  );
}

/** Refuses a private zone named `name` in `vpc` when the name is already served privately there. */
function checkDomainFree(tx: Tx, name: string, vpc: HostedZoneVpc, self?: string): void {
  for (const z of zonesOfVpc(tx, vpc.vpcId)) if (z.name === name && z.id !== self) throw conflict(vpc, z.id);
  for (const c of endpointDomainClaims(tx, vpc.vpcId)) {
    if (c.domain !== name) continue;
    const e = tx.get("vpcEndpoint", c.by);
    const hidden = e && endpointDnsNames(tx, e).find((n) => n.kind === "private");
    throw conflict(vpc, hidden?.hostedZoneId ?? c.by);
  }
}

// ---------------------------------------------------------------------------------------------
// Hosted zones

export interface CreateZoneInput {
  name?: string;
  callerReference?: string;
  comment?: string;
  privateZone?: boolean;
  vpc?: HostedZoneVpc;
}

function publicNameServers(ctx: Ctx): string[] {
  const n = () => Number.parseInt(ctx.rt.hex(3), 16) % 512;
  const d = () => String(Number.parseInt(ctx.rt.hex(2), 16) % 64).padStart(2, "0");
  return [
    `ns-${n()}.awsdns-${d()}.com`,
    `ns-${512 + n()}.awsdns-${d()}.net`,
    `ns-${1024 + n()}.awsdns-${d()}.org`,
    `ns-${1536 + n()}.awsdns-${d()}.co.uk`,
  ];
}

export function createHostedZone(
  tx: Tx,
  ctx: Ctx,
  input: CreateZoneInput,
): { zone: HostedZone; change: Route53Change } {
  if (!input.name) throw new AwsError("InvalidInput", "Invalid request: Missing field 'Name'"); // privlink
  if (!input.callerReference)
    throw new AwsError("InvalidInput", "Invalid request: Missing field 'CallerReference'"); // privlink
  const name = canonicalDnsName(input.name);
  if (!isValidDnsName(name) || name.startsWith("*"))
    throw new AwsError("InvalidDomainName", `${input.name} is not a valid domain name.`); // privlink
  const isPrivate = input.vpc !== undefined || input.privateZone === true;
  if (input.privateZone === true && !input.vpc)
    throw new AwsError(
      "InvalidInput",
      "When you're creating a private hosted zone (when you specify true for PrivateZone), you must also specify values for VPCId and VPCRegion.",
    ); // privlink
  if (!isPrivate && inZone(name, "amazonaws.com"))
    throw new AwsError("InvalidDomainName", `${name}. is reserved by AWS!`);
  const refKey = `${ctx.accountId}/CreateHostedZone/${input.callerReference}`;
  if (tx.get("idempotency", refKey))
    throw new AwsError(
      "HostedZoneAlreadyExists",
      "A hosted zone has already been created with the specified caller reference.",
      409,
    );
  if (input.vpc) {
    ownVpc(tx, ctx, input.vpc);
    checkDomainFree(tx, name, input.vpc);
  }
  const zone = tx.put("hostedZone", {
    id: upperId(ctx, "Z"),
    accountId: ctx.accountId,
    name,
    callerReference: input.callerReference,
    comment: input.comment,
    privateZone: isPrivate,
    vpcs: input.vpc ? [input.vpc] : [],
    nameServers: isPrivate ? [...PRIVATE_ZONE_NAME_SERVERS] : publicNameServers(ctx),
    createdAt: isoNow(ctx),
    tags: {},
  });
  tx.put("idempotency", { id: refKey, fingerprint: "", resourceId: zone.id });
  putApexRecords(tx, zone);
  return { zone, change: newChange(tx, ctx, input.comment) };
}

function putApexRecords(tx: Tx, zone: HostedZone): void {
  const soa = `${zone.nameServers[0]}. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400`;
  tx.put("recordSet", {
    id: recordId(zone.id, zone.name, "SOA"),
    zoneId: zone.id,
    name: zone.name,
    type: "SOA",
    ttl: SOA_TTL,
    values: [soa],
  });
  tx.put("recordSet", {
    id: recordId(zone.id, zone.name, "NS"),
    zoneId: zone.id,
    name: zone.name,
    type: "NS",
    ttl: NS_TTL,
    values: zone.nameServers.map((n) => `${n}.`),
  });
}

export function newChange(tx: Tx, ctx: Ctx, comment?: string): Route53Change {
  return tx.put("route53Change", { id: upperId(ctx, "C"), submittedAt: isoNow(ctx), comment });
}

export function getChange(tx: Tx, id: string | undefined): Route53Change {
  const cid = changeIdOf(id ?? "");
  const c = tx.get("route53Change", cid);
  if (!c) throw new AwsError("NoSuchChange", `A change with the specified change ID does not exist.`, 404);
  return c;
}

export function deleteHostedZone(tx: Tx, ctx: Ctx, id: string | undefined): Route53Change {
  const zone = getOwnZone(tx, ctx, id);
  const records = recordsOf(tx, zone.id);
  if (records.some((r) => !(r.name === zone.name && (r.type === "SOA" || r.type === "NS"))))
    throw new AwsError(
      "HostedZoneNotEmpty",
      "The specified hosted zone contains non-required resource record sets and so cannot be deleted.",
    );
  for (const r of records) tx.delete("recordSet", r.id);
  for (const a of tx.all("vpcAssociationAuthorization"))
    if (a.zoneId === zone.id) tx.delete("vpcAssociationAuthorization", a.id);
  tx.delete("hostedZone", zone.id);
  return newChange(tx, ctx);
}

// ---------------------------------------------------------------------------------------------
// VPC associations

/** Only private zones have VPCs; associating and disassociating refuse a public one alike. */
function checkPrivateZone(zone: HostedZone): void {
  if (!zone.privateZone)
    throw new AwsError("PublicZoneVPCAssociation", "Public hosted zone can not be associated with VPC."); // privlink
}

export function associateVpc(
  tx: Tx,
  ctx: Ctx,
  zoneId: string | undefined,
  vpc: HostedZoneVpc,
): Route53Change {
  const zid = zoneIdOf(zoneId ?? "");
  const zone = tx.get("hostedZone", zid);
  if (!zone) throw noSuchZone(zid);
  const own = zone.accountId === ctx.accountId;
  const authorized = tx.get("vpcAssociationAuthorization", `${zone.id}|${vpc.vpcId}`) !== undefined;
  if (!own && !authorized)
    throw new AwsError(
      "NotAuthorizedException",
      `The VPC: ${vpc.vpcId} in region ${vpc.vpcRegion} is not authorized to associate with the hosted zone: ${zone.id}. Ask the owner of the hosted zone to call CreateVPCAssociationAuthorization first.`, // privlink
      401,
    );
  checkPrivateZone(zone);
  ownVpc(tx, ctx, vpc);
  checkDomainFree(tx, zone.name, vpc);
  tx.put("hostedZone", { ...zone, vpcs: [...zone.vpcs, vpc] });
  return newChange(tx, ctx);
}

export function disassociateVpc(
  tx: Tx,
  ctx: Ctx,
  zoneId: string | undefined,
  vpc: HostedZoneVpc,
): Route53Change {
  const zid = zoneIdOf(zoneId ?? "");
  const zone = tx.get("hostedZone", zid);
  const vpcOwner = tx.get("vpc", vpc.vpcId)?.accountId;
  if (!zone || (zone.accountId !== ctx.accountId && vpcOwner !== ctx.accountId)) throw noSuchZone(zid);
  checkPrivateZone(zone);
  const rest = zone.vpcs.filter((v) => !(v.vpcId === vpc.vpcId && v.vpcRegion === vpc.vpcRegion));
  if (rest.length === zone.vpcs.length)
    throw new AwsError(
      "VPCAssociationNotFound",
      `The specified VPC ${vpc.vpcId} and hosted zone ${zone.id} are not currently associated.`,
      404,
    );
  if (rest.length === 0)
    throw new AwsError(
      "LastVPCAssociation",
      "The VPC that you're trying to disassociate from the private hosted zone is the last VPC that is associated with the hosted zone. Amazon Route 53 doesn't support disassociating the last VPC from a hosted zone.",
    );
  tx.put("hostedZone", { ...zone, vpcs: rest });
  return newChange(tx, ctx);
}

const authId = (zoneId: string, vpcId: string) => `${zoneId}|${vpcId}`;

export function createAssociationAuthorization(
  tx: Tx,
  ctx: Ctx,
  zoneId: string | undefined,
  vpc: HostedZoneVpc,
): VpcAssociationAuthorization {
  const zone = getOwnZone(tx, ctx, zoneId);
  if (!zone.privateZone)
    throw new AwsError("InvalidInput", "Public hosted zones cannot be associated with VPCs."); // privlink
  if (!findVpc(tx, vpc.vpcId, vpc.vpcRegion)) throw invalidVpc(vpc.vpcId);
  const count = [...tx.all("vpcAssociationAuthorization")].filter((a) => a.zoneId === zone.id).length;
  const id = authId(zone.id, vpc.vpcId);
  if (!tx.get("vpcAssociationAuthorization", id) && count >= 100)
    throw new AwsError(
      "TooManyVPCAssociationAuthorizations",
      "You've created the maximum number of authorizations that can be created for the specified hosted zone.",
    );
  return tx.put("vpcAssociationAuthorization", {
    id,
    zoneId: zone.id,
    vpcId: vpc.vpcId,
    vpcRegion: vpc.vpcRegion,
  });
}

export function deleteAssociationAuthorization(
  tx: Tx,
  ctx: Ctx,
  zoneId: string | undefined,
  vpc: HostedZoneVpc,
): void {
  const zone = getOwnZone(tx, ctx, zoneId);
  const id = authId(zone.id, vpc.vpcId);
  if (!tx.get("vpcAssociationAuthorization", id))
    throw new AwsError(
      "VPCAssociationAuthorizationNotFound",
      `The VPC ${vpc.vpcId} is not authorized to be associated with the hosted zone ${zone.id}.`, // privlink
      404,
    );
  tx.delete("vpcAssociationAuthorization", id);
}

export function listAssociationAuthorizations(
  tx: Tx,
  ctx: Ctx,
  zoneId: string | undefined,
): VpcAssociationAuthorization[] {
  const zone = getOwnZone(tx, ctx, zoneId);
  return [...tx.all("vpcAssociationAuthorization")]
    .filter((a) => a.zoneId === zone.id)
    .sort((a, b) => (a.vpcId < b.vpcId ? -1 : 1));
}

// ---------------------------------------------------------------------------------------------
// Record values: Route 53 text → structured data (the same shapes dns-packet encodes)

export type RecordData = string | string[] | Record<string, unknown>;

class BadValue extends Error {}

function fatal(code: string, why: string, value: string): never {
  throw new BadValue(
    `Invalid Resource Record: 'FATAL problem: ${code} (${why}) encountered with '${value}''`,
  );
}

function hostName(value: string, code: string): string {
  const n = canonicalDnsName(value);
  if (!isValidDnsName(n)) fatal(code, "Value is not a valid domain name", value);
  return n;
}

function uint(text: string | undefined, max: number, code: string, value: string): number {
  if (text === undefined || !/^\d+$/.test(text) || Number(text) > max)
    fatal(code, "Value is not a valid number", value);
  return Number(text);
}

/** `"a" "b\"c"` → ["a", 'b"c']; every string must be quoted, as Route 53 requires. */
export function parseCharacterStrings(value: string): string[] {
  const out: string[] = [];
  let i = 0;
  const s = value.trim();
  while (i < s.length) {
    if (s[i] === " ") {
      i++;
      continue;
    }
    if (s[i] !== '"') fatal("InvalidCharacterString", "Value should be enclosed in quotation marks", value);
    let cur = "";
    i++;
    for (;;) {
      if (i >= s.length)
        fatal("InvalidCharacterString", "Value should be enclosed in quotation marks", value);
      const c = s[i]!;
      if (c === "\\" && /^[0-7]{3}/.test(s.slice(i + 1, i + 4))) {
        cur += String.fromCharCode(Number.parseInt(s.slice(i + 1, i + 4), 8));
        i += 4;
      } else if (c === "\\" && i + 1 < s.length) {
        cur += s[i + 1];
        i += 2;
      } else if (c === '"') {
        i++;
        break;
      } else {
        cur += c;
        i++;
      }
    }
    if (Buffer.byteLength(cur) > 255) fatal("CharacterStringTooLong", "Value is too long", value);
    out.push(cur);
  }
  if (out.length === 0) fatal("InvalidCharacterString", "Value should be enclosed in quotation marks", value);
  return out;
}

/** The structured value of one Route 53 record; throws a message in Route 53's words when it is invalid. */
export function parseRecordValue(type: string, value: string): RecordData {
  const f = value.trim().split(/\s+/);
  switch (type) {
    case "A":
      if (parseIp(value) === undefined || !/^\d+\.\d+\.\d+\.\d+$/.test(value))
        fatal("ARRDATAIllegalIPv4Address", "Value is not a valid IPv4 address", value);
      return value;
    case "AAAA":
      if (!/^[0-9a-fA-F:.]+$/.test(value) || !value.includes(":") || !isIpv6(value))
        fatal("AAAARRDATAIllegalIPv6Address", "Value is not a valid IPv6 address", value);
      return value.toLowerCase();
    case "CNAME":
    case "NS":
    case "PTR":
      if (f.length !== 1) fatal("DomainLabelEmpty", "Value is not a valid domain name", value);
      return hostName(f[0]!, "DomainLabelEmpty");
    case "TXT":
      return parseCharacterStrings(value);
    case "MX":
      if (f.length !== 2) fatal("InvalidMXRecord", "Value must be a preference and a mail server", value);
      return {
        preference: uint(f[0], 65535, "InvalidMXRecord", value),
        exchange: hostName(f[1]!, "InvalidMXRecord"),
      };
    case "SRV":
      if (f.length !== 4) fatal("InvalidSRVRecord", "Value must be priority weight port target", value);
      return {
        priority: uint(f[0], 65535, "InvalidSRVRecord", value),
        weight: uint(f[1], 65535, "InvalidSRVRecord", value),
        port: uint(f[2], 65535, "InvalidSRVRecord", value),
        target: hostName(f[3]!, "InvalidSRVRecord"),
      };
    case "CAA": {
      const m = /^(\d+)\s+([a-zA-Z0-9]+)\s+(".*")$/.exec(value.trim());
      if (!m) fatal("InvalidCAARecord", 'Value must be flags tag "value"', value);
      return {
        flags: uint(m[1], 255, "InvalidCAARecord", value),
        tag: m[2]!,
        value: parseCharacterStrings(m[3]!).join(""),
      };
    }
    case "SOA": {
      if (f.length !== 7) fatal("InvalidSOARecord", "Value must have 7 fields", value);
      const n = (i: number) => uint(f[i], 0xffffffff, "InvalidSOARecord", value);
      return {
        mname: hostName(f[0]!, "InvalidSOARecord"),
        rname: hostName(f[1]!, "InvalidSOARecord"),
        serial: n(2),
        refresh: n(3),
        retry: n(4),
        expire: n(5),
        minimum: n(6),
      };
    }
    default:
      fatal("UnsupportedType", `privlink does not serve ${type} records`, value);
  }
}

function isIpv6(v: string): boolean {
  const parts = v.split("::");
  if (parts.length > 2) return false;
  const groups = parts.flatMap((p) => (p === "" ? [] : p.split(":")));
  const ok = groups.every(
    (g, i) => /^[0-9a-fA-F]{1,4}$/.test(g) || (i === groups.length - 1 && /^\d+\.\d+\.\d+\.\d+$/.test(g)),
  );
  const width = groups.reduce((n, g) => n + (g.includes(".") ? 2 : 1), 0);
  return ok && (parts.length === 2 ? width < 8 : width === 8);
}

// ---------------------------------------------------------------------------------------------
// ChangeResourceRecordSets

export interface RecordChange {
  action?: string;
  name?: string;
  type?: string;
  ttl?: number;
  values?: string[];
  alias?: { hostedZoneId?: string; dnsName?: string; evaluateTargetHealth?: boolean };
  /** Any routing-policy field (SetIdentifier, Weight, …) the caller set. */
  routing?: string;
}

const sameValues = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

function sameAlias(a?: AliasTargetValue, b?: AliasTargetValue): boolean {
  if (!a || !b) return a === b;
  return (
    a.hostedZoneId === b.hostedZoneId &&
    a.dnsName === b.dnsName &&
    a.evaluateTargetHealth === b.evaluateTargetHealth
  );
}

/**
 * Applies a batch in order inside the transaction (a DELETE then a CREATE of the same set is
 * one valid batch) and fails as a whole, with every problem listed, as Route 53 does.
 */
export function changeRecordSets(
  tx: Tx,
  ctx: Ctx,
  zoneId: string | undefined,
  changes: readonly RecordChange[],
  comment?: string,
): Route53Change {
  const zone = getOwnZone(tx, ctx, zoneId);
  if (changes.length === 0) throw new AwsError("InvalidInput", "Invalid request: Missing field 'Changes'"); // privlink
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const c of changes) {
    try {
      const key = `${c.type} ${canonicalDnsName(c.name ?? "")}`;
      if (seen.has(`${c.action} ${key}`))
        throw new BadValue(
          `The request contains an invalid set of changes for a resource record set '${c.type} ${route53Name(canonicalDnsName(c.name ?? ""))}'`,
        );
      seen.add(`${c.action} ${key}`);
      applyChange(tx, zone, c);
    } catch (e) {
      if (e instanceof BadValue) problems.push(e.message);
      else throw e;
    }
  }
  if (problems.length > 0) throw new AwsError("InvalidChangeBatch", `[${problems.join(", ")}]`);
  return newChange(tx, ctx, comment);
}

function applyChange(tx: Tx, zone: HostedZone, c: RecordChange): void {
  if (c.routing)
    throw new AwsError(
      "InvalidInput",
      `privlink supports simple routing only; ${c.routing} is not supported`,
    ); // privlink
  const action = c.action;
  if (action !== "CREATE" && action !== "DELETE" && action !== "UPSERT")
    throw new AwsError(
      "InvalidInput",
      `Invalid XML ; cvc-enumeration-valid: Value '${action ?? ""}' is not facet-valid with respect to enumeration '[CREATE, DELETE, UPSERT]'.`,
    );
  const set = buildRecordSet(tx, zone, c);
  const existing = tx.get("recordSet", set.id);
  const label = `[name='${route53Name(set.name)}', type='${set.type}']`;
  if (action === "DELETE") {
    if (!existing) throw new BadValue(`Tried to delete resource record set ${label} but it was not found`);
    if (
      existing.ttl !== set.ttl ||
      !sameValues(existing.values, set.values) ||
      !sameAlias(existing.alias, set.alias)
    )
      throw new BadValue(
        `Tried to delete resource record set ${label} but the values provided do not match the current values`,
      );
    if (set.name === zone.name && set.type === "SOA")
      throw new BadValue("A HostedZone must contain exactly one SOA record.");
    if (set.name === zone.name && set.type === "NS")
      throw new BadValue("A HostedZone must contain at least one NS record for the zone itself.");
    tx.delete("recordSet", set.id);
    return;
  }
  if (action === "CREATE" && existing)
    throw new BadValue(`Tried to create resource record set ${label} but it already exists`);
  checkCnameRules(tx, zone, set);
  tx.put("recordSet", set);
}

function buildRecordSet(tx: Tx, zone: HostedZone, c: RecordChange): RecordSet {
  const name = canonicalDnsName(c.name ?? "");
  const type = c.type ?? "";
  if (!(RECORD_TYPES as readonly string[]).includes(type))
    throw new AwsError(
      "InvalidInput",
      `Invalid XML ; cvc-enumeration-valid: Value '${type}' is not facet-valid with respect to enumeration '[${RECORD_TYPES.join(", ")}]'.`,
    );
  if (!isValidDnsName(name)) throw new BadValue(`${c.name ?? ""} is not a valid DNS name`); // privlink
  if (!inZone(name, zone.name))
    throw new BadValue(
      `RRSet with DNS name ${route53Name(name)} is not permitted in zone ${route53Name(zone.name)}`,
    );
  const hasValues = c.ttl !== undefined || (c.values?.length ?? 0) > 0;
  if (c.alias ? hasValues : !(c.ttl !== undefined && (c.values?.length ?? 0) > 0))
    throw new AwsError(
      "InvalidInput",
      `Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found ${c.alias ? "more than one" : "none"} in Change with [Action=${c.action}, Name=${route53Name(name)}, Type=${type}, SetIdentifier=null]`,
    );
  const id = recordId(zone.id, name, type);
  if (c.alias)
    return { id, zoneId: zone.id, name, type, values: [], alias: aliasTarget(tx, zone, name, type, c.alias) };
  if (c.ttl! < 0 || c.ttl! > 2147483647) throw new BadValue(`TTL ${c.ttl} is out of range`); // privlink
  const values = c.values!;
  for (const v of values) parseRecordValue(type, v);
  const dup = values.find((v, i) => values.indexOf(v) !== i);
  if (dup !== undefined) throw new BadValue(`Duplicate Resource Record: '${dup}'`);
  if ((type === "CNAME" || type === "SOA") && values.length > 1)
    throw new BadValue(
      `RRSet of type ${type} with DNS name ${route53Name(name)} has more than one resource record`,
    ); // privlink
  return { id, zoneId: zone.id, name, type, ttl: c.ttl, values: [...values] };
}

function checkCnameRules(tx: Tx, zone: HostedZone, set: RecordSet): void {
  if (set.type === "CNAME" && set.name === zone.name)
    throw new BadValue(
      `RRSet of type CNAME with DNS name ${route53Name(set.name)} is not permitted at apex in zone ${route53Name(zone.name)}`,
    );
  const others = recordsOf(tx, zone.id).filter((r) => r.name === set.name && r.type !== set.type);
  if (set.type === "CNAME" && others.length > 0)
    throw new BadValue(
      `RRSet of type CNAME with DNS name ${route53Name(set.name)} is not permitted as it conflicts with other records with the same DNS name in zone ${route53Name(zone.name)}`,
    );
  if (set.type !== "CNAME" && others.some((r) => r.type === "CNAME"))
    throw new BadValue(
      `RRSet of type ${set.type} with DNS name ${route53Name(set.name)} is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone ${route53Name(zone.name)}`,
    );
}

const VPCE_ZONES = new Set(Object.values(VPCE_HOSTED_ZONE_IDS));

function aliasTarget(
  tx: Tx,
  zone: HostedZone,
  name: string,
  type: string,
  input: NonNullable<RecordChange["alias"]>,
): AliasTargetValue {
  const hostedZoneId = zoneIdOf(input.hostedZoneId ?? "");
  const dnsName = canonicalDnsName(input.dnsName ?? "");
  const target: AliasTargetValue = {
    hostedZoneId,
    dnsName,
    evaluateTargetHealth: input.evaluateTargetHealth ?? false,
  };
  const where = `${route53Name(dnsName)}, type ${type} in zone ${hostedZoneId}`;
  if (type !== "A" && type !== "AAAA")
    throw new BadValue(`privlink supports alias records of type A and AAAA only, not ${type}`); // privlink
  if (hostedZoneId === zone.id && dnsName === name)
    throw new BadValue(`Alias target ${route53Name(dnsName)} refers to itself`); // privlink
  if (VPCE_ZONES.has(hostedZoneId)) {
    if (!endpointNameExists(tx, hostedZoneId, dnsName))
      throw new BadValue(
        `Tried to create an alias that targets ${where}, but the alias target name does not lie within the target zone`,
      );
    return target;
  }
  const targetZone = tx.get("hostedZone", hostedZoneId);
  if (!targetZone || targetZone.accountId !== zone.accountId || !inZone(dnsName, targetZone.name))
    throw new BadValue(
      `Tried to create an alias that targets ${where}, but the alias target name does not lie within the target zone`,
    );
  if (!tx.get("recordSet", recordId(targetZone.id, dnsName, type)))
    throw new BadValue(`Tried to create an alias that targets ${where}, but that target was not found`);
  return target;
}

/** True when an interface endpoint's regional or zonal name in that vpce zone is `name` (wildcards: under it). */
function endpointNameExists(tx: Tx, zoneId: string, name: string): boolean {
  for (const e of tx.all("vpcEndpoint")) {
    if (!endpointServesDns(e)) continue;
    for (const n of endpointDnsNames(tx, e)) {
      if (n.kind === "private" || n.hostedZoneId !== zoneId) continue;
      const own = n.name.startsWith("*.") ? n.name.slice(2) : n.name;
      if (own === name || (n.name.startsWith("*.") && name.endsWith(`.${own}`))) return true;
    }
  }
  return false;
}

/** Endpoints whose DNS records exist: those holding (or about to hold) their ENIs. */
export function endpointServesDns(e: VpcEndpoint): boolean {
  return e.type === "Interface" && (e.state === "available" || e.state === "pending");
}

// ---------------------------------------------------------------------------------------------
// Listing

export function listableZones(state: State | Tx, accountId: string): HostedZone[] {
  return [...state.all("hostedZone")].filter((z) => z.accountId === accountId);
}

/** ListHostedZonesByName order: the name with its labels reversed, then the ID. */
export function byReversedName(a: HostedZone, b: HostedZone): number {
  const ra = reversedName(a.name);
  const rb = reversedName(b.name);
  if (ra !== rb) return ra < rb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function byRecordOrder(a: RecordSet, b: RecordSet): number {
  const ra = reversedName(a.name);
  const rb = reversedName(b.name);
  if (ra !== rb) return ra < rb ? -1 : 1;
  return a.type < b.type ? -1 : a.type > b.type ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Public TXT lookups (endpoint-service private DNS verification)

/**
 * The TXT strings at `name` in privlink's public hosted zones: those of the most specific public
 * zone that contains the name (the oldest when two share a name), as a public resolver would
 * see them. Each record's character-strings are joined, as verification compares whole values.
 */
export function publicTxtRecords(state: State | Tx, name: string): string[] {
  const n = canonicalDnsName(name);
  const zones = [...state.all("hostedZone")]
    .filter((z) => !z.privateZone && inZone(n, z.name))
    .sort((a, b) => b.name.length - a.name.length || (a.createdAt < b.createdAt ? -1 : 1));
  const zone = zones[0];
  if (!zone) return [];
  const rs = state.get("recordSet", recordId(zone.id, n, "TXT"));
  return rs ? rs.values.map((v) => parseCharacterStrings(v).join("")) : [];
}
