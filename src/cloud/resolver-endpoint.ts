import { parseIp } from "./cidr.js";
import { type Ctx, isoNow } from "./context.js";
import { createEni, deleteEniRecord } from "./eni.js";
import { AwsError } from "./errors.js";
import { arn } from "./ids.js";
import type { State, Tx } from "./state.js";
import type {
  ResolverEndpoint,
  ResolverEndpointIp,
  ResolverRule,
  ResolverRuleAssociation,
  Tags,
} from "./types.js";
import { registerVpcDependents } from "./vpc.js";

/**
 * Route 53 Resolver endpoints and rules. An endpoint is a set of requester-managed ENIs (two to
 * six… up to 20 IPs, in subnets of one VPC, behind security groups): INBOUND ones are DNS servers
 * answering as the VPC's resolver (dns/ serves them), OUTBOUND ones are where the VPC's queries
 * for a FORWARD rule's domain leave from. Objects are OPERATIONAL / COMPLETE at once.
 */

registerVpcDependents((tx, vpc) =>
  [...tx.all("resolverEndpoint")].filter((e) => e.vpcId === vpc.id).map((e) => e.id),
);

const invalidParameter = (m: string) => new AwsError("InvalidParameterException", m);
const invalidRequest = (m: string) => new AwsError("InvalidRequestException", m);
const notFound = (m: string) => new AwsError("ResourceNotFoundException", m);

const mine = (o: { accountId: string; region: string }, ctx: Ctx) =>
  o.accountId === ctx.accountId && o.region === ctx.region;

function checkRequestId(id: string | undefined): string {
  if (!id || id.length > 255) throw invalidParameter("CreatorRequestId must be 1-255 characters");
  return id;
}

export function getResolverEndpoint(tx: Tx, ctx: Ctx, id: string | undefined): ResolverEndpoint {
  const e = id ? tx.get("resolverEndpoint", id) : undefined;
  if (!e || !mine(e, ctx)) throw notFound(`Resolver endpoint [${id ?? ""}] does not exist.`);
  return e;
}

export interface EndpointInput {
  creatorRequestId?: string;
  name?: string;
  direction?: string;
  securityGroupIds?: readonly string[];
  ipAddresses?: readonly { subnetId?: string; ip?: string }[];
  tags?: Tags;
}

function hex(ctx: Ctx, n: number) {
  return ctx.rt.hex(n);
}

/** The ENIs are made in the same transaction: a refused request leaves none behind. */
export function createResolverEndpoint(tx: Tx, ctx: Ctx, input: EndpointInput): ResolverEndpoint {
  const requestId = checkRequestId(input.creatorRequestId);
  const again = [...tx.all("resolverEndpoint")].find((e) => mine(e, ctx) && e.creatorRequestId === requestId);
  if (again) return again;
  if (input.direction !== "INBOUND" && input.direction !== "OUTBOUND")
    throw invalidParameter(`Direction must be INBOUND or OUTBOUND, not '${input.direction ?? ""}'`);
  if (!input.securityGroupIds?.length)
    throw invalidParameter("SecurityGroupIds must name at least one security group");
  const ips = input.ipAddresses ?? [];
  if (ips.length < 2 || ips.length > 20)
    throw invalidRequest(`A Resolver endpoint needs between 2 and 20 IP addresses; ${ips.length} given`);
  const subnets = ips.map((a) => {
    const s = a.subnetId ? tx.get("subnet", a.subnetId) : undefined;
    if (!s || !mine(s, ctx)) throw invalidParameter(`Subnet [${a.subnetId ?? ""}] does not exist.`);
    if (a.ip !== undefined && parseIp(a.ip) === undefined)
      throw invalidParameter(`IP address [${a.ip}] is not valid.`);
    return s;
  });
  const vpcId = subnets[0]!.vpcId;
  if (subnets.some((s) => s.vpcId !== vpcId))
    throw invalidRequest("All subnets of a Resolver endpoint must be in the same VPC.");
  const prefix = input.direction === "INBOUND" ? "rslvr-in" : "rslvr-out";
  const id = `${prefix}-${hex(ctx, 17)}`;
  const addresses: ResolverEndpointIp[] = subnets.map((subnet, i) => {
    const ipId = `rni-${hex(ctx, 17)}`;
    try {
      const eni = createEni(tx, ctx, {
        subnet,
        securityGroupIds: input.securityGroupIds,
        privateIp: ips[i]!.ip,
        description: `Route 53 Resolver: ${id}:${ipId}`,
        requesterId: "AROAJSNLFQW6VEXAMPLE:route53resolver",
      });
      return { ipId, subnetId: subnet.id, ip: eni.privateIp, eniId: eni.id };
    } catch (err) {
      if (err instanceof AwsError)
        throw (err.code.startsWith("InvalidSecurityGroup") ? invalidParameter : invalidRequest)(err.message);
      throw err;
    }
  });
  const now = isoNow(ctx);
  return tx.put("resolverEndpoint", {
    id,
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    arn: arn("route53resolver", ctx.region, ctx.accountId, `resolver-endpoint/${id}`),
    name: input.name,
    creatorRequestId: requestId,
    direction: input.direction,
    vpcId,
    securityGroupIds: [...input.securityGroupIds],
    ipAddresses: addresses,
    status: "OPERATIONAL",
    createdAt: now,
    modifiedAt: now,
  });
}

export function updateResolverEndpoint(
  tx: Tx,
  ctx: Ctx,
  id: string | undefined,
  name: string | undefined,
): ResolverEndpoint {
  const e = getResolverEndpoint(tx, ctx, id);
  return tx.put("resolverEndpoint", { ...e, name: name ?? e.name, modifiedAt: isoNow(ctx) });
}

export function deleteResolverEndpoint(tx: Tx, ctx: Ctx, id: string | undefined): ResolverEndpoint {
  const e = getResolverEndpoint(tx, ctx, id);
  const rules = [...tx.all("resolverRule")].filter((r) => r.resolverEndpointId === e.id);
  if (rules.length)
    throw invalidRequest(
      `Cannot delete resolver endpoint ${e.id} because it is used by resolver rules: ${rules.map((r) => r.id).join(", ")}`,
    );
  for (const a of e.ipAddresses) deleteEniRecord(tx, a.eniId);
  tx.delete("resolverEndpoint", e.id);
  return e;
}

// ---- rules ----

export function getResolverRule(tx: Tx, ctx: Ctx, id: string | undefined): ResolverRule {
  const r = id ? tx.get("resolverRule", id) : undefined;
  if (!r || !mine(r, ctx)) throw notFound(`Resolver rule [${id ?? ""}] does not exist.`);
  return r;
}

function domainOf(name: string | undefined): string {
  if (name === undefined || name.length < 1 || name.length > 256)
    throw invalidParameter("DomainName must be 1-256 characters");
  const d = name.toLowerCase().replace(/\.$/, "");
  if (
    d !== "" &&
    !/^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/.test(d)
  )
    throw invalidParameter(`[RSLVR-00600] The domain name ${name} is not valid.`);
  return d;
}

export interface RuleInput {
  creatorRequestId?: string;
  name?: string;
  ruleType?: string;
  domainName?: string;
  targetIps?: readonly { Ip?: string; Port?: number }[];
  resolverEndpointId?: string;
  tags?: Tags;
}

export function createResolverRule(tx: Tx, ctx: Ctx, input: RuleInput): ResolverRule {
  const requestId = checkRequestId(input.creatorRequestId);
  const again = [...tx.all("resolverRule")].find((r) => mine(r, ctx) && r.creatorRequestId === requestId);
  if (again) return again;
  const type = input.ruleType;
  if (type !== "FORWARD" && type !== "SYSTEM" && type !== "RECURSIVE")
    throw invalidParameter(`RuleType must be FORWARD, SYSTEM or RECURSIVE, not '${type ?? ""}'`);
  const domain = domainOf(input.domainName);
  const targets = (input.targetIps ?? []).map((t) => {
    if (!t.Ip || parseIp(t.Ip) === undefined)
      throw invalidParameter(`Target IP [${t.Ip ?? ""}] is not valid.`);
    const port = t.Port ?? 53;
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw invalidParameter(`Target port [${port}] is not valid.`);
    return { ip: t.Ip, port };
  });
  if (type === "FORWARD") {
    if (targets.length === 0) throw invalidRequest("A FORWARD rule needs TargetIps.");
    if (!input.resolverEndpointId)
      throw invalidRequest("A FORWARD rule needs a ResolverEndpointId (an OUTBOUND endpoint).");
    const e = getResolverEndpoint(tx, ctx, input.resolverEndpointId);
    if (e.direction !== "OUTBOUND")
      throw invalidRequest(
        `Resolver endpoint ${e.id} is INBOUND: a rule forwards through an OUTBOUND endpoint.`,
      );
  } else if (targets.length || input.resolverEndpointId) {
    throw invalidRequest(`A ${type} rule takes neither TargetIps nor ResolverEndpointId.`);
  }
  const id = `rslvr-rr-${hex(ctx, 17)}`;
  const now = isoNow(ctx);
  return tx.put("resolverRule", {
    id,
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    arn: arn("route53resolver", ctx.region, ctx.accountId, `resolver-rule/${id}`),
    name: input.name,
    creatorRequestId: requestId,
    ruleType: type,
    domainName: domain,
    targetIps: targets,
    resolverEndpointId: input.resolverEndpointId,
    status: "COMPLETE",
    createdAt: now,
    modifiedAt: now,
  });
}

export function deleteResolverRule(tx: Tx, ctx: Ctx, id: string | undefined): ResolverRule {
  const r = getResolverRule(tx, ctx, id);
  const used = [...tx.all("resolverRuleAssociation")].filter((a) => a.ruleId === r.id);
  if (used.length)
    throw new AwsError(
      "ResourceInUseException",
      `Resolver rule ${r.id} is associated with ${used.map((a) => a.vpcId).join(", ")}; disassociate it first.`,
    );
  tx.delete("resolverRule", r.id);
  return r;
}

export function associateResolverRule(
  tx: Tx,
  ctx: Ctx,
  input: { ruleId?: string; vpcId?: string; name?: string },
): ResolverRuleAssociation {
  const rule = getResolverRule(tx, ctx, input.ruleId);
  const vpc = input.vpcId ? tx.get("vpc", input.vpcId) : undefined;
  if (!vpc || !mine(vpc, ctx)) throw invalidParameter(`VPC [${input.vpcId ?? ""}] does not exist.`);
  for (const a of tx.all("resolverRuleAssociation")) {
    if (a.vpcId !== vpc.id) continue;
    if (a.ruleId === rule.id)
      throw new AwsError(
        "ResourceExistsException",
        `Resolver rule ${rule.id} is already associated with ${vpc.id}.`,
      );
    if (tx.get("resolverRule", a.ruleId)?.domainName === rule.domainName)
      throw invalidRequest(
        `[RSLVR-00400] ${vpc.id} already has a rule for ${rule.domainName} (${a.ruleId}); a VPC takes one rule per domain name.`,
      );
  }
  return tx.put("resolverRuleAssociation", {
    id: `rslvr-rrassoc-${hex(ctx, 17)}`,
    accountId: ctx.accountId,
    region: ctx.region,
    ruleId: rule.id,
    vpcId: vpc.id,
    name: input.name,
    status: "COMPLETE",
  });
}

export function disassociateResolverRule(
  tx: Tx,
  ctx: Ctx,
  input: { ruleId?: string; vpcId?: string },
): ResolverRuleAssociation {
  const rule = getResolverRule(tx, ctx, input.ruleId);
  const a = [...tx.all("resolverRuleAssociation")].find(
    (x) => x.ruleId === rule.id && x.vpcId === input.vpcId,
  );
  if (!a) throw notFound(`Resolver rule ${rule.id} is not associated with VPC [${input.vpcId ?? ""}].`);
  tx.delete("resolverRuleAssociation", a.id);
  return a;
}

export function getRuleAssociation(tx: Tx, ctx: Ctx, id: string | undefined): ResolverRuleAssociation {
  const a = id ? tx.get("resolverRuleAssociation", id) : undefined;
  if (!a || !mine(a, ctx)) throw notFound(`Resolver rule association [${id ?? ""}] does not exist.`);
  return a;
}

/**
 * The FORWARD rule for a name in a VPC: the associated rule with the longest matching domain.
 * A SYSTEM rule that matches longer wins and stops forwarding (undefined).
 */
export function forwardRuleFor(state: State | Tx, vpcId: string, name: string): ResolverRule | undefined {
  let best: ResolverRule | undefined;
  for (const a of state.all("resolverRuleAssociation")) {
    if (a.vpcId !== vpcId) continue;
    const r = state.get("resolverRule", a.ruleId);
    if (!r || r.ruleType === "RECURSIVE") continue;
    const d = r.domainName;
    const matches = d === "" || name === d || name.endsWith(`.${d}`);
    if (matches && (!best || d.length > best.domainName.length)) best = r;
  }
  return best?.ruleType === "FORWARD" ? best : undefined;
}
