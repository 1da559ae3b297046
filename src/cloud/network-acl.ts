import { isCanonicalCidr, parseCidr } from "./cidr.js";
import type { Ctx } from "./context.js";
import { AwsError, dependencyViolation, invalidParameterValue, missingParameter } from "./errors.js";
import { isIdOf, newId } from "./ids.js";
import type { State, Tx } from "./state.js";
import { registerTaggable } from "./tags.js";
import type { NetworkAcl, NetworkAclEntry, Subnet, Tags, Vpc } from "./types.js";
import { getVpc, registerVpcDefaults, registerVpcDependents } from "./vpc.js";

registerTaggable("acl", "networkAcl", "network-acl");

export const RULES_PER_DIRECTION = 20;
export const ACLS_PER_VPC = 200;

function allowAll(egress: boolean): NetworkAclEntry {
  return { ruleNumber: 100, egress, protocol: "-1", ruleAction: "allow", cidrBlock: "0.0.0.0/0" };
}

/** A VPC's default ACL: rule 100 allows everything both ways (the `*` deny is implicit). */
export function createDefaultNetworkAcl(tx: Tx, ctx: Ctx, vpc: Vpc): NetworkAcl {
  return tx.put("networkAcl", {
    id: newId(ctx.rt, "acl"),
    accountId: vpc.accountId,
    region: vpc.region,
    tags: {},
    vpcId: vpc.id,
    isDefault: true,
    entries: [allowAll(false), allowAll(true)],
    associations: [],
  });
}

export function getNetworkAcl(tx: Tx, ctx: Ctx, id: string | undefined): NetworkAcl {
  if (!id) throw missingParameter("networkAclId");
  const a = isIdOf("acl", id) ? tx.get("networkAcl", id) : undefined;
  if (!a || a.accountId !== ctx.accountId || a.region !== ctx.region)
    throw new AwsError("InvalidNetworkAclID.NotFound", `The network acl ID '${id}' does not exist`);
  return a;
}

export function networkAclsOf(tx: Tx, ctx: Ctx): NetworkAcl[] {
  return [...tx.all("networkAcl")].filter((a) => a.accountId === ctx.accountId && a.region === ctx.region);
}

/**
 * The ACL that governs a subnet: the one that lists it, else its VPC's default. A subnet that
 * was never moved has an implicit association whose ID derives from the subnet's, so that it
 * is stable across calls (ReplaceNetworkAclAssociation takes it).
 */
export function networkAclOf(
  state: Pick<State, "all">,
  subnet: Pick<Subnet, "id" | "vpcId">,
): { acl: NetworkAcl; associationId: string } | undefined {
  let fallback: NetworkAcl | undefined;
  for (const a of state.all("networkAcl")) {
    if (a.vpcId !== subnet.vpcId) continue;
    const hit = a.associations.find((x) => x.subnetId === subnet.id);
    if (hit) return { acl: a, associationId: hit.id };
    if (a.isDefault) fallback = a;
  }
  return fallback && { acl: fallback, associationId: implicitAssociationId(subnet.id) };
}

export function implicitAssociationId(subnetId: string): string {
  return `aclassoc-${subnetId.slice("subnet-".length)}`;
}

/** Every subnet the ACL governs, with its association ID (as DescribeNetworkAcls lists them). */
export function associationsOf(tx: Tx, acl: NetworkAcl): { id: string; subnetId: string }[] {
  const out: { id: string; subnetId: string }[] = [];
  for (const s of tx.all("subnet")) {
    if (s.vpcId !== acl.vpcId) continue;
    const cur = networkAclOf(tx, s);
    if (cur?.acl.id === acl.id) out.push({ id: cur.associationId, subnetId: s.id });
  }
  return out;
}

export function createNetworkAcl(tx: Tx, ctx: Ctx, input: { vpcId?: string; tags?: Tags }): NetworkAcl {
  if (!input.vpcId) throw missingParameter("vpcId");
  const vpc = getVpc(tx, ctx, input.vpcId);
  if ([...tx.all("networkAcl")].filter((a) => a.vpcId === vpc.id).length >= ACLS_PER_VPC)
    throw new AwsError(
      "NetworkAclLimitExceeded",
      `You have reached the limit of ${ACLS_PER_VPC} network ACLs for ${vpc.id}.`,
    );
  return tx.put("networkAcl", {
    id: newId(ctx.rt, "acl"),
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    vpcId: vpc.id,
    isDefault: false,
    entries: [],
    associations: [],
  });
}

export function deleteNetworkAcl(tx: Tx, ctx: Ctx, id: string | undefined): void {
  const a = getNetworkAcl(tx, ctx, id);
  if (a.isDefault) throw new AwsError("InvalidParameterValue", `cannot delete default network ACL ${a.id}`);
  if (associationsOf(tx, a).length > 0)
    throw dependencyViolation(`The networkAcl '${a.id}' has dependencies and cannot be deleted.`);
  tx.delete("networkAcl", a.id);
}

export interface EntryInput {
  ruleNumber?: number;
  egress?: boolean;
  protocol?: string;
  ruleAction?: string;
  cidrBlock?: string;
  ipv6CidrBlock?: string;
  portRange?: { from?: number; to?: number };
  icmpTypeCode?: { type?: number; code?: number };
}

const PROTOCOL_NAMES: Record<string, string> = { all: "-1", tcp: "6", udp: "17", icmp: "1", icmpv6: "58" };

function entryFrom(input: EntryInput): NetworkAclEntry {
  const n = input.ruleNumber;
  if (n === undefined) throw missingParameter("ruleNumber");
  if (!Number.isInteger(n) || n < 1 || n > 32766)
    throw invalidParameterValue(
      `Value (${n}) for parameter ruleNumber is invalid. It must be between 1 and 32766.`,
    );
  if (input.egress === undefined) throw missingParameter("egress");
  if (input.protocol === undefined) throw missingParameter("protocol");
  const protocol = PROTOCOL_NAMES[input.protocol.toLowerCase()] ?? input.protocol;
  if (!/^(-1|\d{1,3})$/.test(protocol) || Number(protocol) > 255)
    throw invalidParameterValue(`Value (${input.protocol}) for parameter protocol is invalid.`);
  if (input.ruleAction !== "allow" && input.ruleAction !== "deny")
    throw invalidParameterValue(
      `Value (${input.ruleAction ?? ""}) for parameter ruleAction is invalid. Valid values are: allow, deny`,
    );
  if (!input.cidrBlock && !input.ipv6CidrBlock) throw missingParameter("cidrBlock or ipv6CidrBlock");
  if (input.cidrBlock && (!parseCidr(input.cidrBlock) || !isCanonicalCidr(input.cidrBlock)))
    throw invalidParameterValue(
      `Value (${input.cidrBlock}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`,
    );
  let portRange: NetworkAclEntry["portRange"];
  if (protocol === "6" || protocol === "17") {
    const { from, to } = input.portRange ?? {};
    if (from === undefined || to === undefined) throw missingParameter("portRange");
    if (from < 0 || to > 65535 || from > to)
      throw invalidParameterValue(`Value (${from}-${to}) for parameter portRange is invalid.`);
    portRange = { from, to };
  }
  let icmpTypeCode: NetworkAclEntry["icmpTypeCode"];
  if (protocol === "1" || protocol === "58") {
    if (input.icmpTypeCode?.type === undefined) throw missingParameter("icmpTypeCode");
    icmpTypeCode = { type: input.icmpTypeCode.type, code: input.icmpTypeCode.code ?? -1 };
  }
  return {
    ruleNumber: n,
    egress: input.egress,
    protocol,
    ruleAction: input.ruleAction,
    cidrBlock: input.cidrBlock,
    ipv6CidrBlock: input.ipv6CidrBlock,
    portRange,
    icmpTypeCode,
  };
}

const sameSlot = (a: NetworkAclEntry, n: number | undefined, egress: boolean | undefined) =>
  a.ruleNumber === n && a.egress === egress;

export function createNetworkAclEntry(tx: Tx, ctx: Ctx, id: string | undefined, input: EntryInput): void {
  const a = getNetworkAcl(tx, ctx, id);
  const e = entryFrom(input);
  if (a.entries.some((x) => sameSlot(x, e.ruleNumber, e.egress)))
    throw new AwsError(
      "NetworkAclEntryAlreadyExists",
      `The network acl entry identified by ${e.ruleNumber} already exists.`,
    );
  if (a.entries.filter((x) => x.egress === e.egress).length >= RULES_PER_DIRECTION)
    throw new AwsError(
      "NetworkAclEntryLimitExceeded",
      `The maximum number of network acl entries (${RULES_PER_DIRECTION}) has been reached.`,
    );
  tx.put("networkAcl", { ...a, entries: sortEntries([...a.entries, e]) });
}

function entryNotFound(n: number | undefined, egress: boolean | undefined): AwsError {
  return new AwsError(
    "InvalidNetworkAclEntry.NotFound",
    `The network acl entry identified by ${n ?? ""} (${egress ? "egress" : "ingress"}) does not exist.`,
  );
}

export function replaceNetworkAclEntry(tx: Tx, ctx: Ctx, id: string | undefined, input: EntryInput): void {
  const a = getNetworkAcl(tx, ctx, id);
  const e = entryFrom(input);
  if (!a.entries.some((x) => sameSlot(x, e.ruleNumber, e.egress)))
    throw entryNotFound(e.ruleNumber, e.egress);
  tx.put("networkAcl", {
    ...a,
    entries: a.entries.map((x) => (sameSlot(x, e.ruleNumber, e.egress) ? e : x)),
  });
}

export function deleteNetworkAclEntry(
  tx: Tx,
  ctx: Ctx,
  id: string | undefined,
  input: { ruleNumber?: number; egress?: boolean },
): void {
  const a = getNetworkAcl(tx, ctx, id);
  if (input.ruleNumber === undefined) throw missingParameter("ruleNumber");
  if (input.egress === undefined) throw missingParameter("egress");
  if (!a.entries.some((x) => sameSlot(x, input.ruleNumber, input.egress)))
    throw entryNotFound(input.ruleNumber, input.egress);
  tx.put("networkAcl", {
    ...a,
    entries: a.entries.filter((x) => !sameSlot(x, input.ruleNumber, input.egress)),
  });
}

function sortEntries(entries: NetworkAclEntry[]): NetworkAclEntry[] {
  return entries.sort((x, y) => Number(x.egress) - Number(y.egress) || x.ruleNumber - y.ruleNumber);
}

/** ReplaceNetworkAclAssociation: moves one subnet to another ACL of its VPC, under a new association ID. */
export function replaceNetworkAclAssociation(
  tx: Tx,
  ctx: Ctx,
  associationId: string | undefined,
  aclId: string | undefined,
): string {
  if (!associationId) throw missingParameter("associationId");
  const target = getNetworkAcl(tx, ctx, aclId);
  const subnet = [...tx.all("subnet")].find(
    (s) =>
      s.accountId === ctx.accountId &&
      s.region === ctx.region &&
      networkAclOf(tx, s)?.associationId === associationId,
  );
  if (!subnet)
    throw new AwsError(
      "InvalidAssociationID.NotFound",
      `The association ID '${associationId}' does not exist`,
    );
  if (subnet.vpcId !== target.vpcId)
    throw invalidParameterValue(
      `Network ACL ${target.id} and subnet ${subnet.id} belong to different networks`,
    );
  for (const a of tx.all("networkAcl"))
    if (a.associations.some((x) => x.subnetId === subnet.id))
      tx.put("networkAcl", { ...a, associations: a.associations.filter((x) => x.subnetId !== subnet.id) });
  const id = newId(ctx.rt, "aclassoc");
  const fresh = tx.get("networkAcl", target.id)!;
  tx.put("networkAcl", { ...fresh, associations: [...fresh.associations, { id, subnetId: subnet.id }] });
  return id;
}

registerVpcDefaults(createDefaultNetworkAcl, (tx, vpc) => {
  for (const a of tx.all("networkAcl")) if (a.vpcId === vpc.id) tx.delete("networkAcl", a.id);
});
registerVpcDependents((tx, vpc) =>
  [...tx.all("networkAcl")].filter((a) => a.vpcId === vpc.id && !a.isDefault).map((a) => a.id),
);
