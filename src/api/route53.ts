/**
 * Route 53 (restXml, global, signed for us-east-1): the hosted-zone actions PrivateLink designs
 * use. Handlers decode SDK input shapes, call cloud/hosted-zone.ts, and return SDK output shapes.
 */

import { registerPrivateDomainClaims } from "../cloud/endpoint-checks.js";
import { endpointDnsNames } from "../cloud/endpoint-dns.js";
import { AwsError } from "../cloud/errors.js";
import {
  associateVpc,
  byRecordOrder,
  byReversedName,
  canonicalDnsName,
  changeRecordSets,
  createAssociationAuthorization,
  createHostedZone,
  deleteAssociationAuthorization,
  deleteHostedZone,
  disassociateVpc,
  endpointServesDns,
  getChange,
  getOwnZone,
  hostedZoneDomainClaims,
  listAssociationAuthorizations,
  listableZones,
  needVpc,
  type RecordChange,
  recordCounts,
  recordsOf,
  reversedName,
  route53Name,
  zoneIdOf,
  zonesOfVpc,
} from "../cloud/hosted-zone.js";
import type { State, Tx } from "../cloud/state.js";
import type { HostedZone, HostedZoneVpc, RecordSet, Route53Change } from "../cloud/types.js";
import type { Call, HandlerTable } from "./handler.js";

// Private hosted zones own their domain in each associated VPC, as endpoints' private DNS does.
registerPrivateDomainClaims(hostedZoneDomainClaims);

const API = "https://route53.amazonaws.com/2013-04-01";

function zoneShape(z: HostedZone, count: number) {
  return {
    Id: `/hostedzone/${z.id}`,
    Name: `${z.name}.`,
    CallerReference: z.callerReference,
    Config: { ...(z.comment !== undefined ? { Comment: z.comment } : {}), PrivateZone: z.privateZone },
    ResourceRecordSetCount: count,
  };
}

function changeShape(c: Route53Change, status: "PENDING" | "INSYNC") {
  return {
    Id: `/change/${c.id}`,
    Status: status,
    SubmittedAt: new Date(c.submittedAt),
    ...(c.comment !== undefined ? { Comment: c.comment } : {}),
  };
}

const vpcShape = (v: HostedZoneVpc) => ({ VPCId: v.vpcId, VPCRegion: v.vpcRegion });
const delegationSet = (z: HostedZone) => ({ NameServers: [...z.nameServers] });

function recordShape(r: RecordSet) {
  return {
    Name: route53Name(r.name),
    Type: r.type,
    ...(r.alias
      ? {
          AliasTarget: {
            HostedZoneId: r.alias.hostedZoneId,
            DNSName: `${r.alias.dnsName}.`,
            EvaluateTargetHealth: r.alias.evaluateTargetHealth,
          },
        }
      : { TTL: r.ttl, ResourceRecords: r.values.map((Value) => ({ Value })) }),
  };
}

function maxItems(raw: unknown, dflt: number): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new AwsError(
      "InvalidInput",
      `1 validation error detected: Value '${raw}' at 'maxItems' failed to satisfy constraint: Member must be greater than or equal to 1`,
    );
  return Math.min(n, 1000);
}

const ROUTING_FIELDS = [
  "SetIdentifier",
  "Weight",
  "Region",
  "GeoLocation",
  "Failover",
  "MultiValueAnswer",
  "HealthCheckId",
  "TrafficPolicyInstanceId",
  "CidrRoutingConfig",
  "GeoProximityLocation",
] as const;

function recordChange(c: any): RecordChange {
  const rrs = c?.ResourceRecordSet ?? {};
  const a = rrs.AliasTarget;
  return {
    action: c?.Action,
    name: rrs.Name,
    type: rrs.Type,
    ttl: rrs.TTL,
    values: (rrs.ResourceRecords ?? []).map((r: { Value?: string }) => r.Value ?? ""),
    alias: a
      ? { hostedZoneId: a.HostedZoneId, dnsName: a.DNSName, evaluateTargetHealth: a.EvaluateTargetHealth }
      : undefined,
    routing: ROUTING_FIELDS.find((f) => rrs[f] !== undefined),
  };
}

/** The page of `items` after `start` (an index), and whether more follow. */
function page<T>(items: readonly T[], start: number, max: number): { items: T[]; truncated: boolean } {
  return { items: items.slice(start, start + max), truncated: start + max < items.length };
}

function createZone({ tx, ctx, input }: Call) {
  const vpc = input.VPC ? needVpc(input.VPC) : undefined;
  const { zone, change } = createHostedZone(tx, ctx, {
    name: input.Name,
    callerReference: input.CallerReference,
    comment: input.HostedZoneConfig?.Comment,
    privateZone: input.HostedZoneConfig?.PrivateZone,
    vpc,
  });
  return {
    HostedZone: zoneShape(zone, 2),
    ChangeInfo: changeShape(change, "PENDING"),
    DelegationSet: delegationSet(zone),
    ...(vpc ? { VPC: vpcShape(vpc) } : {}),
    Location: `${API}/hostedzone/${zone.id}`,
  };
}

function getZone({ tx, ctx, input }: Call) {
  const z = getOwnZone(tx, ctx, input.Id);
  return {
    HostedZone: zoneShape(z, recordsOf(tx, z.id).length),
    ...(z.privateZone ? { VPCs: z.vpcs.map(vpcShape) } : { DelegationSet: delegationSet(z) }),
  };
}

function listZones({ tx, ctx, input }: Call) {
  const max = maxItems(input.MaxItems, 100);
  const counts = recordCounts(tx);
  const zones = listableZones(tx, ctx.accountId)
    .filter((z) => input.HostedZoneType !== "PrivateHostedZone" || z.privateZone)
    .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
  const start = input.Marker ? zones.findIndex((z) => z.id === zoneIdOf(input.Marker)) : 0;
  if (start < 0) throw new AwsError("InvalidInput", `Invalid marker: ${input.Marker}`); // privlink
  const p = page(zones, start, max);
  return {
    HostedZones: p.items.map((z) => zoneShape(z, counts.get(z.id) ?? 0)),
    Marker: input.Marker ?? "",
    IsTruncated: p.truncated,
    ...(p.truncated ? { NextMarker: zones[start + max]!.id } : {}),
    MaxItems: max,
  };
}

function listZonesByName({ tx, ctx, input }: Call) {
  const max = maxItems(input.MaxItems, 100);
  const counts = recordCounts(tx);
  const zones = listableZones(tx, ctx.accountId).sort(byReversedName);
  if (input.HostedZoneId && !input.DNSName)
    throw new AwsError(
      "InvalidInput",
      "If you specify a value for HostedZoneId, you must also specify a value for DNSName.",
    );
  const from = input.DNSName ? reversedName(canonicalDnsName(input.DNSName)) : "";
  const fromId = input.HostedZoneId ? zoneIdOf(input.HostedZoneId) : "";
  let start = zones.findIndex((z) => {
    const r = reversedName(z.name);
    return r > from || (r === from && z.id >= fromId);
  });
  if (start < 0) start = zones.length;
  const p = page(zones, start, max);
  const next = p.truncated ? zones[start + max]! : undefined;
  return {
    HostedZones: p.items.map((z) => zoneShape(z, counts.get(z.id) ?? 0)),
    ...(input.DNSName ? { DNSName: input.DNSName } : {}),
    ...(input.HostedZoneId ? { HostedZoneId: input.HostedZoneId } : {}),
    IsTruncated: p.truncated,
    ...(next ? { NextDNSName: `${next.name}.`, NextHostedZoneId: next.id } : {}),
    MaxItems: max,
  };
}

function changeRecords({ tx, ctx, input }: Call) {
  const batch = input.ChangeBatch ?? {};
  const changes: RecordChange[] = (batch.Changes ?? []).map(recordChange);
  const change = changeRecordSets(tx, ctx, input.HostedZoneId, changes, batch.Comment);
  return { ChangeInfo: changeShape(change, "PENDING") };
}

function listRecords({ tx, ctx, input }: Call) {
  const zone = getOwnZone(tx, ctx, input.HostedZoneId);
  const max = maxItems(input.MaxItems, 300);
  if (input.StartRecordType && !input.StartRecordName)
    throw new AwsError("InvalidInput", "The input is not valid: StartRecordType requires StartRecordName"); // privlink
  const records = recordsOf(tx, zone.id).sort(byRecordOrder);
  const fromName = input.StartRecordName ? reversedName(canonicalDnsName(input.StartRecordName)) : "";
  const fromType = input.StartRecordType ?? "";
  let start = records.findIndex((r) => {
    const n = reversedName(r.name);
    return n > fromName || (n === fromName && r.type >= fromType);
  });
  if (start < 0) start = records.length;
  const p = page(records, start, max);
  const next = p.truncated ? records[start + max]! : undefined;
  return {
    ResourceRecordSets: p.items.map(recordShape),
    IsTruncated: p.truncated,
    ...(next ? { NextRecordName: route53Name(next.name), NextRecordType: next.type } : {}),
    MaxItems: max,
  };
}

function associate({ tx, ctx, input }: Call) {
  const change = associateVpc(tx, ctx, input.HostedZoneId, needVpc(input.VPC));
  return { ChangeInfo: changeShape({ ...change, comment: input.Comment }, "PENDING") };
}

function disassociate({ tx, ctx, input }: Call) {
  const change = disassociateVpc(tx, ctx, input.HostedZoneId, needVpc(input.VPC));
  return { ChangeInfo: changeShape({ ...change, comment: input.Comment }, "PENDING") };
}

function createAuthorization({ tx, ctx, input }: Call) {
  const a = createAssociationAuthorization(tx, ctx, input.HostedZoneId, needVpc(input.VPC));
  return { HostedZoneId: a.zoneId, VPC: vpcShape(a) };
}

function deleteAuthorization({ tx, ctx, input }: Call) {
  deleteAssociationAuthorization(tx, ctx, input.HostedZoneId, needVpc(input.VPC));
  return {};
}

function listAuthorizations({ tx, ctx, input }: Call) {
  const all = listAssociationAuthorizations(tx, ctx, input.HostedZoneId);
  const max = maxItems(input.MaxResults, 50);
  const start = input.NextToken ? Number(input.NextToken) : 0;
  if (!Number.isInteger(start) || start < 0)
    throw new AwsError("InvalidPaginationToken", "The specified pagination token is not valid.");
  const p = page(all, start, max);
  return {
    HostedZoneId: zoneIdOf(input.HostedZoneId ?? ""),
    VPCs: p.items.map(vpcShape),
    ...(p.truncated ? { NextToken: String(start + max) } : {}),
  };
}

/** The AWS-managed zone an endpoint's private DNS name stands for, as ListHostedZonesByVPC shows it. */
function endpointZones(tx: Tx | State, vpcId: string) {
  const out: { HostedZoneId: string; Name: string; Owner: { OwningService: string } }[] = [];
  for (const e of tx.all("vpcEndpoint")) {
    if (e.vpcId !== vpcId || !endpointServesDns(e)) continue;
    for (const n of endpointDnsNames(tx, e))
      if (n.kind === "private")
        out.push({
          HostedZoneId: n.hostedZoneId,
          Name: `${n.name.replace(/^\*\./, "")}.`,
          Owner: { OwningService: "vpce.amazonaws.com" },
        });
  }
  return out;
}

function listByVpc({ tx, ctx, input }: Call) {
  const vpc = needVpc({ VPCId: input.VPCId, VPCRegion: input.VPCRegion });
  const v = tx.get("vpc", vpc.vpcId);
  if (!v || v.region !== vpc.vpcRegion || v.accountId !== ctx.accountId)
    throw new AwsError(
      "InvalidInput",
      `The VPC ${vpc.vpcId} in region ${vpc.vpcRegion} does not exist or is not owned by this account.`,
    ); // privlink
  const max = maxItems(input.MaxItems, 100);
  const summaries = [
    ...zonesOfVpc(tx, vpc.vpcId)
      .sort(byReversedName)
      .map((z) => ({ HostedZoneId: z.id, Name: `${z.name}.`, Owner: { OwningAccount: z.accountId } })),
    ...endpointZones(tx, vpc.vpcId),
  ];
  const start = input.NextToken ? Number(input.NextToken) : 0;
  if (!Number.isInteger(start) || start < 0)
    throw new AwsError("InvalidPaginationToken", "The specified pagination token is not valid.");
  const p = page(summaries, start, max);
  return {
    HostedZoneSummaries: p.items,
    MaxItems: max,
    ...(p.truncated ? { NextToken: String(start + max) } : {}),
  };
}

function zoneCount({ tx, ctx }: Call) {
  return { HostedZoneCount: listableZones(tx, ctx.accountId).length };
}

function deleteZone({ tx, ctx, input }: Call) {
  return { ChangeInfo: changeShape(deleteHostedZone(tx, ctx, input.Id), "PENDING") };
}

/** Every change is live when its request commits: GetChange is always INSYNC (see hosted-zone.ts). */
function getChangeInfo({ tx, input }: Call) {
  return { ChangeInfo: changeShape(getChange(tx, input.Id), "INSYNC") };
}

export const route53Handlers: HandlerTable = {
  CreateHostedZone: createZone,
  GetHostedZone: getZone,
  ListHostedZones: listZones,
  ListHostedZonesByName: listZonesByName,
  DeleteHostedZone: deleteZone,
  ChangeResourceRecordSets: changeRecords,
  ListResourceRecordSets: listRecords,
  GetChange: getChangeInfo,
  AssociateVPCWithHostedZone: associate,
  DisassociateVPCFromHostedZone: disassociate,
  CreateVPCAssociationAuthorization: createAuthorization,
  DeleteVPCAssociationAuthorization: deleteAuthorization,
  ListVPCAssociationAuthorizations: listAuthorizations,
  ListHostedZonesByVPC: listByVpc,
  GetHostedZoneCount: zoneCount,
};
