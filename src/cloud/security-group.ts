import { isCanonicalCidr, parseCidr } from "./cidr.js";
import type { Ctx } from "./context.js";
import { AwsError, invalidParameterValue } from "./errors.js";
import { isIdOf, newId } from "./ids.js";
import type { Tx } from "./state.js";
import { registerTaggable } from "./tags.js";
import type { SecurityGroup, SgRule, Tags } from "./types.js";
import { defaultEgressRules, getVpc } from "./vpc.js";

registerTaggable("sg", "securityGroup", "security-group");
registerTaggable("sgr", "securityGroup", "security-group-rule");

export function getSecurityGroup(tx: Tx, ctx: Ctx, id: string | undefined): SecurityGroup {
  if (id !== undefined && !isIdOf("sg", id))
    throw new AwsError("InvalidGroupId.Malformed", `Invalid id: "${id}" (expecting "sg-...")`);
  const g = id ? tx.get("securityGroup", id) : undefined;
  if (!g || g.accountId !== ctx.accountId || g.region !== ctx.region)
    throw new AwsError("InvalidGroup.NotFound", `The security group '${id ?? ""}' does not exist`);
  return g;
}

/** Checks a list of group IDs for a VPC (as CreateVpcEndpoint and RunInstances need). */
export function checkGroupsInVpc(tx: Tx, ctx: Ctx, ids: readonly string[], vpcId: string): void {
  for (const id of ids) {
    const g = tx.get("securityGroup", id);
    if (!g || g.accountId !== ctx.accountId || g.region !== ctx.region)
      throw new AwsError("InvalidSecurityGroupID.NotFound", `The securityGroup ID '${id}' does not exist`);
    if (g.vpcId !== vpcId)
      throw new AwsError("InvalidParameter", `Security group ${id} and subnet belong to different networks.`);
  }
}

export function defaultGroupOf(tx: Tx, vpcId: string): SecurityGroup {
  return [...tx.where("securityGroup", "vpcId", vpcId)].find((g) => g.name === "default")!;
}

export function createSecurityGroup(
  tx: Tx,
  ctx: Ctx,
  input: { name?: string; description?: string; vpcId?: string; tags?: Tags },
): SecurityGroup {
  if (!input.name) throw new AwsError("MissingParameter", "The request must contain the parameter groupName");
  if (!input.description)
    throw new AwsError("MissingParameter", "The request must contain the parameter groupDescription");
  if (input.name.length > 255 || input.description.length > 255)
    throw invalidParameterValue("Security group name and description are limited to 255 characters");
  if (input.name.toLowerCase().startsWith("sg-"))
    throw invalidParameterValue(`Group names may not be in the format sg-*.`);
  const vpc = input.vpcId
    ? getVpc(tx, ctx, input.vpcId)
    : [...tx.all("vpc")].find((v) => v.isDefault && v.accountId === ctx.accountId && v.region === ctx.region);
  if (!vpc) throw new AwsError("VPCIdNotSpecified", "No default VPC for this user");
  if ([...tx.where("securityGroup", "vpcId", vpc.id)].some((g) => g.name === input.name))
    throw new AwsError(
      "InvalidGroup.Duplicate",
      `The security group '${input.name}' already exists for VPC '${vpc.id}'`,
    );
  return tx.put("securityGroup", {
    id: newId(ctx.rt, "sg"),
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    vpcId: vpc.id,
    name: input.name,
    description: input.description,
    ingress: [],
    egress: defaultEgressRules(ctx),
  });
}

export function deleteSecurityGroup(tx: Tx, ctx: Ctx, id: string | undefined): void {
  const g = getSecurityGroup(tx, ctx, id);
  if (g.name === "default")
    throw new AwsError(
      "CannotDelete",
      `the specified group: "${g.id}" name: "default" cannot be deleted by a user`,
    );
  const usedByEni = [...tx.all("eni")].some((e) => e.securityGroupIds.includes(g.id));
  const referenced = [...tx.all("securityGroup")].some(
    (o) => o.id !== g.id && [...o.ingress, ...o.egress].some((r) => r.groupId === g.id),
  );
  if (usedByEni || referenced)
    throw new AwsError("DependencyViolation", `resource ${g.id} has a dependent object`);
  tx.delete("securityGroup", g.id);
}

/** One IpPermission as the API gives it, already decoded from the wire. */
export interface Permission {
  protocol?: string;
  fromPort?: number;
  toPort?: number;
  cidrs?: { cidr?: string; description?: string }[];
  ipv6Cidrs?: { cidr?: string; description?: string }[];
  prefixLists?: { id?: string; description?: string }[];
  groups?: { groupId?: string; userId?: string; description?: string }[];
}

const PROTOCOLS: Record<string, string> = {
  "-1": "-1",
  all: "-1",
  tcp: "tcp",
  "6": "tcp",
  udp: "udp",
  "17": "udp",
  icmp: "icmp",
  "1": "icmp",
  icmpv6: "icmpv6",
  "58": "icmpv6",
};

function normalizeProtocol(p: string | undefined): string {
  if (p === undefined)
    throw new AwsError("MissingParameter", "The request must contain the parameter ipProtocol");
  const known = PROTOCOLS[p.toLowerCase()];
  if (known) return known;
  if (/^\d+$/.test(p) && Number(p) <= 255) return p;
  throw invalidParameterValue(`Invalid value '${p}' for IP protocol. Unknown protocol.`);
}

function ports(protocol: string, from?: number, to?: number): [number, number] {
  if (protocol === "-1" || !["tcp", "udp", "icmp", "icmpv6"].includes(protocol)) return [-1, -1];
  if (protocol === "icmp" || protocol === "icmpv6") return [from ?? -1, to ?? -1];
  if (from === undefined || to === undefined)
    throw invalidParameterValue(
      `Invalid value for portRange. Must specify both from and to ports with TCP/UDP.`,
    );
  if (from < 0 || to > 65535 || from > to)
    throw invalidParameterValue(`Invalid TCP/UDP port range: ${from}-${to}`);
  return [from, to];
}

/** Expands permissions into one rule per source, as DescribeSecurityGroupRules shows them. */
export function rulesFromPermissions(tx: Tx, ctx: Ctx, perms: readonly Permission[]): SgRule[] {
  const out: SgRule[] = [];
  for (const p of perms) {
    const protocol = normalizeProtocol(p.protocol);
    const [fromPort, toPort] = ports(protocol, p.fromPort, p.toPort);
    const base = { protocol, fromPort, toPort };
    for (const c of p.cidrs ?? []) {
      if (!c.cidr || !parseCidr(c.cidr))
        throw invalidParameterValue(`CIDR block ${c.cidr ?? ""} is malformed`);
      if (!isCanonicalCidr(c.cidr)) throw invalidParameterValue(`CIDR block ${c.cidr} is malformed`);
      out.push({ ruleId: newId(ctx.rt, "sgr"), ...base, cidrIpv4: c.cidr, description: c.description });
    }
    for (const c of p.ipv6Cidrs ?? []) {
      if (!c.cidr || !/^[0-9a-fA-F:]+\/\d{1,3}$/.test(c.cidr))
        throw invalidParameterValue(`CIDR block ${c.cidr ?? ""} is malformed`);
      out.push({ ruleId: newId(ctx.rt, "sgr"), ...base, cidrIpv6: c.cidr, description: c.description });
    }
    for (const pl of p.prefixLists ?? []) {
      if (!pl.id || !prefixListExists(tx, ctx, pl.id))
        throw new AwsError(
          "InvalidPrefixListId.NotFound",
          `The prefix list '${pl.id ?? ""}' does not exist.`,
        );
      out.push({ ruleId: newId(ctx.rt, "sgr"), ...base, prefixListId: pl.id, description: pl.description });
    }
    for (const g of p.groups ?? []) {
      const ref = g.groupId ? tx.get("securityGroup", g.groupId) : undefined;
      if (!ref || (g.userId === undefined && ref.accountId !== ctx.accountId))
        throw new AwsError("InvalidGroup.NotFound", `The security group '${g.groupId ?? ""}' does not exist`);
      out.push({
        ruleId: newId(ctx.rt, "sgr"),
        ...base,
        groupId: ref.id,
        groupOwnerId: ref.accountId,
        description: g.description,
      });
    }
    if (!p.cidrs?.length && !p.ipv6Cidrs?.length && !p.prefixLists?.length && !p.groups?.length)
      throw new AwsError(
        "MissingParameter",
        "No source or destination was specified for the rule (CIDR, prefix list or security group).",
      );
  }
  return out;
}

/** Prefix lists come from the catalog (AWS-managed) and later from customer-managed lists. */
const prefixListResolvers: ((tx: Tx, ctx: Ctx, id: string) => boolean)[] = [];
export function registerPrefixLists(f: (tx: Tx, ctx: Ctx, id: string) => boolean): void {
  prefixListResolvers.push(f);
}
function prefixListExists(tx: Tx, ctx: Ctx, id: string): boolean {
  return prefixListResolvers.some((f) => f(tx, ctx, id));
}

function sameRule(a: SgRule, b: SgRule): boolean {
  return (
    a.protocol === b.protocol &&
    a.fromPort === b.fromPort &&
    a.toPort === b.toPort &&
    a.cidrIpv4 === b.cidrIpv4 &&
    a.cidrIpv6 === b.cidrIpv6 &&
    a.prefixListId === b.prefixListId &&
    a.groupId === b.groupId
  );
}

export function authorize(
  tx: Tx,
  ctx: Ctx,
  id: string | undefined,
  direction: "ingress" | "egress",
  perms: readonly Permission[],
): SgRule[] {
  const g = getSecurityGroup(tx, ctx, id);
  const rules = rulesFromPermissions(tx, ctx, perms);
  for (const r of rules)
    if (g[direction].some((e) => sameRule(e, r)))
      throw new AwsError(
        "InvalidPermission.Duplicate",
        `the specified rule "peer: ${r.cidrIpv4 ?? r.groupId ?? r.prefixListId ?? r.cidrIpv6}, ${r.protocol.toUpperCase()}, from port: ${r.fromPort}, to port: ${r.toPort}, ALLOW" already exists`,
      );
  if (g[direction].length + rules.length > 60)
    throw new AwsError(
      "RulesPerSecurityGroupLimitExceeded",
      "The maximum number of rules per security group has been reached.",
    );
  tx.put("securityGroup", { ...g, [direction]: [...g[direction], ...rules] });
  return rules;
}

export function revoke(
  tx: Tx,
  ctx: Ctx,
  id: string | undefined,
  direction: "ingress" | "egress",
  perms: readonly Permission[],
  ruleIds: readonly string[],
): { unknown: SgRule[] } {
  const g = getSecurityGroup(tx, ctx, id);
  for (const rid of ruleIds)
    if (!g[direction].some((r) => r.ruleId === rid))
      throw new AwsError(
        "InvalidSecurityGroupRuleId.NotFound",
        `The security group rule ID '${rid}' does not exist`,
      );
  const targets = perms.length ? rulesFromPermissions(tx, ctx, perms) : [];
  const unknown = targets.filter((t) => !g[direction].some((r) => sameRule(r, t)));
  if (targets.length > 0 && unknown.length === targets.length)
    throw new AwsError(
      "InvalidPermission.NotFound",
      "The specified rule does not exist in this security group.",
    );
  const keep = g[direction].filter(
    (r) => !ruleIds.includes(r.ruleId) && !targets.some((t) => sameRule(r, t)),
  );
  tx.put("securityGroup", { ...g, [direction]: keep });
  return { unknown };
}
