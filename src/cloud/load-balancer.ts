import { type Ctx, isoNow } from "./context.js";
import {
  arnPrefix,
  BOOL,
  changedAttributes,
  findOwned,
  getOwned,
  mine,
  NAME,
  oneOfEnum,
  ownedByAge,
  required,
  validation,
} from "./elb-common.js";
import { createEni } from "./eni.js";
import { AwsError } from "./errors.js";
import { isIdOf } from "./ids.js";
import { registerLifecycleStep } from "./lifecycle.js";
import type { Tx } from "./state.js";
import type { LoadBalancer, Subnet, Tags } from "./types.js";
import { registerVpcDependents } from "./vpc.js";

/**
 * ELBv2 load balancers for the provider side of PrivateLink: Network and Gateway Load
 * Balancers (their target groups are in target-group.ts, listeners in elb-listener.ts). Objects
 * are keyed by ARN as in the ELBv2 API. A load balancer has one node per Availability Zone, each a
 * requester-managed ENI in its subnet, so that its addresses show in DescribeNetworkInterfaces and
 * are real host addresses.
 */

export type LbType = LoadBalancer["type"];
const TYPE_PREFIX: Record<LbType, string> = { network: "net", gateway: "gwy", application: "app" };

/** `…:loadbalancer/net/<name>/<id>` → "net/<name>/<id>", as ENI descriptions and metrics name it. */
export function loadBalancerPath(arn: string): string {
  return arn.slice(arn.indexOf(":loadbalancer/") + ":loadbalancer/".length);
}

function checkLoadBalancerName(name: string): void {
  if (name.length > 32)
    throw validation(`The load balancer name '${name}' cannot be longer than '32' characters`);
  if (!NAME.test(name))
    throw validation(
      `The load balancer name '${name}' can only contain characters that are alphanumeric characters and hyphens(-)`,
    );
  if (name.startsWith("-") || name.endsWith("-"))
    throw validation(`The load balancer name '${name}' cannot begin or end with '-'`);
  if (name.toLowerCase().startsWith("internal-"))
    throw validation(`The load balancer name '${name}' cannot begin with 'internal-'`);
}

/** The Route 53 zone of NLB DNS names per region (used for alias records). */
const NLB_ZONES: Readonly<Record<string, string>> = {
  "us-east-1": "Z26RNL4JYFTOTI",
  "us-east-2": "ZLMOA37VPKANP",
  "us-west-1": "Z24FKFUX50B4VW",
  "us-west-2": "Z18D5FSROUN65G",
  "ca-central-1": "Z2EPGBW3API2WT",
  "ap-east-1": "Z12Y7K3UBGUAD1",
  "ap-south-1": "ZVDDRBQ08TROA",
  "ap-northeast-1": "Z31USIVHYNEOWT",
  "ap-northeast-2": "ZIBE1TIR4HY56",
  "ap-southeast-1": "ZKVM4W9LS7TM",
  "ap-southeast-2": "ZCT6FZBF4DROD",
  "eu-central-1": "Z3F0SRJ5LGBH90",
  "eu-west-1": "Z2IFOLAFXWLO4F",
  "eu-west-2": "ZD4D7Y8KGAS4G",
  "eu-west-3": "Z1CMS0P5QUZ6D5",
  "eu-north-1": "Z1UDT6IFJ4EJM",
  "eu-south-1": "Z23146JA1KNAFP",
  "sa-east-1": "ZTK26PT1VY4CU",
  "me-south-1": "Z3QSRYVP46NYYV",
  "af-south-1": "Z203XCE67M25HM",
};

/** Regions missing from the table (newer ones) answer us-east-1's zone: documented approximation. */
export function canonicalHostedZoneId(region: string): string {
  return NLB_ZONES[region] ?? "Z26RNL4JYFTOTI";
}

// ---- load balancers ----

export function loadBalancersOf(tx: Tx, ctx: Ctx): LoadBalancer[] {
  return ownedByAge(tx, ctx, "loadBalancer");
}

export function getLoadBalancer(tx: Tx, ctx: Ctx, arn: string | undefined): LoadBalancer {
  return getOwned(tx, ctx, "loadBalancer", arn);
}

export interface SubnetMapping {
  readonly subnetId?: string;
  readonly privateIpv4Address?: string;
}

export interface LoadBalancerInput {
  readonly name?: string;
  readonly type?: string;
  readonly scheme?: string;
  readonly subnets?: readonly string[];
  readonly subnetMappings?: readonly SubnetMapping[];
  readonly securityGroups?: readonly string[];
  readonly ipAddressType?: string;
  readonly tags?: Tags;
}

function lbSubnet(tx: Tx, ctx: Ctx, id: string | undefined): Subnet {
  const s = id && isIdOf("subnet", id) ? tx.get("subnet", id) : undefined;
  if (!s || !mine(s, ctx)) throw new AwsError("SubnetNotFound", `The subnet ID '${id ?? ""}' is not valid`);
  return s;
}

function resolveMappings(input: LoadBalancerInput): SubnetMapping[] {
  const hasSubnets = (input.subnets?.length ?? 0) > 0;
  const hasMappings = (input.subnetMappings?.length ?? 0) > 0;
  if (hasSubnets && hasMappings) throw validation("You can specify subnets or subnet mappings, not both");
  if (!hasSubnets && !hasMappings) throw validation("At least one subnet must be specified");
  return hasSubnets ? input.subnets!.map((subnetId) => ({ subnetId })) : [...input.subnetMappings!];
}

/** One subnet per AZ, all in one VPC: the load balancer's nodes. */
function checkSubnets(tx: Tx, ctx: Ctx, mappings: readonly SubnetMapping[]): Subnet[] {
  const subnets = mappings.map((m) => lbSubnet(tx, ctx, m.subnetId));
  const vpcs = new Set(subnets.map((s) => s.vpcId));
  if (vpcs.size > 1)
    throw new AwsError(
      "InvalidConfigurationRequest",
      `The subnets must all belong to one VPC; they belong to ${[...vpcs].join(", ")}`,
    );
  if (new Set(subnets.map((s) => s.az)).size < subnets.length)
    throw new AwsError(
      "InvalidConfigurationRequest",
      "A load balancer cannot be attached to multiple subnets in the same Availability Zone",
    );
  return subnets;
}

function checkSecurityGroups(
  tx: Tx,
  ctx: Ctx,
  type: LbType,
  vpcId: string,
  ids: readonly string[],
): string[] {
  if (type === "gateway" && ids.length > 0)
    throw validation("Security groups are not supported for load balancers with type 'gateway'");
  for (const id of ids) {
    const g = isIdOf("sg", id) ? tx.get("securityGroup", id) : undefined;
    if (!g || !mine(g, ctx))
      throw new AwsError("InvalidSecurityGroup", `Security group '${id}' does not exist`);
    if (g.vpcId !== vpcId)
      throw new AwsError("InvalidSecurityGroup", `Security group '${id}' does not belong to VPC '${vpcId}'`);
  }
  return [...new Set(ids)];
}

function hasInternetGateway(tx: Tx, vpcId: string): boolean {
  for (const g of tx.all("internetGateway")) if (g.attachments.some((a) => a.vpcId === vpcId)) return true;
  return false;
}

function lbType(type: string | undefined): LbType {
  const t = oneOfEnum(type ?? "application", ["application", "network", "gateway"] as const, "type")!;
  if (t === "application")
    throw new AwsError(
      "InvalidConfigurationRequest",
      "privlink models Network and Gateway Load Balancers only (the providers of PrivateLink services): pass Type=network (aws elbv2 create-load-balancer --type network) or Type=gateway",
    );
  return t;
}

function defaultLbAttributes(type: LbType, scheme: LoadBalancer["scheme"]): Record<string, string> {
  if (type === "gateway")
    return { "deletion_protection.enabled": "false", "load_balancing.cross_zone.enabled": "false" };
  return {
    "access_logs.s3.enabled": "false",
    "access_logs.s3.bucket": "",
    "access_logs.s3.prefix": "",
    "deletion_protection.enabled": "false",
    "ipv6.deny_all_igw_traffic": scheme === "internal" ? "true" : "false",
    "load_balancing.cross_zone.enabled": "false",
    "dns_record.client_routing_policy": "any_availability_zone",
    "zonal_shift.config.enabled": "false",
  };
}

function sameSettings(
  lb: LoadBalancer,
  type: LbType,
  scheme: string,
  subnets: Subnet[],
  sgs: string[],
  ipType: string,
): boolean {
  const key = (xs: readonly string[]) => [...xs].sort().join(",");
  return (
    lb.type === type &&
    lb.scheme === scheme &&
    lb.ipAddressType === ipType &&
    key(lb.subnets.map((s) => s.subnetId)) === key(subnets.map((s) => s.id)) &&
    key(lb.securityGroupIds) === key(sgs)
  );
}

/** The node ENI of a load balancer in one subnet; address errors in ELB's words. */
function nodeEni(
  tx: Tx,
  ctx: Ctx,
  lb: { type: LbType; path: string; sgs: string[] },
  subnet: Subnet,
  ip?: string,
): string {
  try {
    const eni = createEni(tx, ctx, {
      subnet,
      securityGroupIds: lb.sgs,
      description: `ELB ${lb.path}`,
      privateIp: ip,
      interfaceType: lb.type === "gateway" ? "gateway_load_balancer" : "network_load_balancer",
      requesterId: "amazon-elb",
    });
    // A load balancer without security groups has none on its nodes (createEni would default them).
    if (lb.sgs.length === 0) tx.put("eni", { ...eni, securityGroupIds: [] });
    return eni.id;
  } catch (err) {
    if (err instanceof AwsError && err.code === "InsufficientFreeAddressesInSubnet")
      throw new AwsError(
        "InvalidSubnet",
        `Not enough IP space available in ${subnet.id}. ELB requires at least 8 free IP addresses in each subnet.`,
      );
    if (err instanceof AwsError) throw new AwsError("InvalidConfigurationRequest", err.message);
    throw err;
  }
}

/**
 * CreateLoadBalancer. AWS makes it idempotent: the same name with the same settings answers the
 * existing load balancer; the same name with other settings is DuplicateLoadBalancerName.
 */
export function createLoadBalancer(tx: Tx, ctx: Ctx, input: LoadBalancerInput): LoadBalancer {
  const name = required(input.name, "name");
  checkLoadBalancerName(name);
  const type = lbType(input.type);
  const mappings = resolveMappings(input);
  const subnets = checkSubnets(tx, ctx, mappings);
  const vpcId = subnets[0]!.vpcId;
  const scheme =
    type === "gateway"
      ? "internal"
      : (oneOfEnum(input.scheme, ["internet-facing", "internal"] as const, "scheme") ?? "internet-facing");
  const ipAddressType =
    oneOfEnum(input.ipAddressType, ["ipv4", "dualstack"] as const, "ipAddressType") ?? "ipv4";
  const sgs = checkSecurityGroups(tx, ctx, type, vpcId, input.securityGroups ?? []);
  const existing = loadBalancersOf(tx, ctx).find((lb) => lb.name === name);
  if (existing) {
    if (sameSettings(existing, type, scheme, subnets, sgs, ipAddressType)) return existing;
    throw new AwsError(
      "DuplicateLoadBalancerName",
      `A load balancer with the same name '${name}' exists, but with different settings`,
    );
  }
  if (type === "network" && scheme === "internet-facing" && !hasInternetGateway(tx, vpcId))
    throw new AwsError("InvalidSubnet", `VPC ${vpcId} has no internet gateway`);
  if (scheme !== "internal" && mappings.some((m) => m.privateIpv4Address !== undefined))
    throw new AwsError(
      "InvalidConfigurationRequest",
      "Private IPv4 addresses can only be specified for internal load balancers",
    );
  return putLoadBalancer(tx, ctx, {
    name,
    type,
    scheme,
    subnets,
    mappings,
    sgs,
    ipAddressType,
    tags: input.tags ?? {},
  });
}

function putLoadBalancer(
  tx: Tx,
  ctx: Ctx,
  p: {
    name: string;
    type: LbType;
    scheme: LoadBalancer["scheme"];
    subnets: Subnet[];
    mappings: SubnetMapping[];
    sgs: string[];
    ipAddressType: LoadBalancer["ipAddressType"];
    tags: Tags;
  },
): LoadBalancer {
  const hex = ctx.rt.hex(16);
  const path = `${TYPE_PREFIX[p.type]}/${p.name}/${hex}`;
  const enis = p.subnets.map((s, i) => ({
    subnetId: s.id,
    eniId: nodeEni(tx, ctx, { type: p.type, path, sgs: p.sgs }, s, p.mappings[i]?.privateIpv4Address),
  }));
  return tx.put("loadBalancer", {
    id: `${arnPrefix(ctx)}:loadbalancer/${path}`,
    accountId: ctx.accountId,
    region: ctx.region,
    tags: p.tags,
    name: p.name,
    type: p.type,
    scheme: p.scheme,
    vpcId: p.subnets[0]!.vpcId,
    subnets: p.subnets.map((s, i) => ({
      subnetId: s.id,
      az: s.az,
      azId: s.azId,
      privateIpv4Address: p.mappings[i]?.privateIpv4Address,
    })),
    ipAddressType: p.ipAddressType,
    securityGroupIds: p.sgs,
    dnsName: `${p.name}-${hex}.elb.${ctx.region}.amazonaws.com`,
    state: "provisioning",
    createdAt: isoNow(ctx),
    enis,
    attributes: defaultLbAttributes(p.type, p.scheme),
  });
}

/** DeleteLoadBalancer: absent ARNs succeed (as on AWS); its listeners and node ENIs go with it. */
export function deleteLoadBalancer(tx: Tx, ctx: Ctx, arn: string | undefined): void {
  const lb = findOwned(tx, ctx, "loadBalancer", arn);
  if (!lb) return;
  if (lb.attributes?.["deletion_protection.enabled"] === "true")
    throw new AwsError(
      "OperationNotPermitted",
      `Load balancer '${lb.id}' cannot be deleted because deletion protection is enabled`,
    );
  for (const svc of tx.all("endpointService"))
    if (svc.networkLoadBalancerArns.includes(lb.id) || svc.gatewayLoadBalancerArns.includes(lb.id))
      throw new AwsError(
        "ResourceInUse",
        `Load balancer '${lb.id}' cannot be deleted because it is currently associated with another service`,
      );
  for (const l of tx.all("listener")) if (l.loadBalancerArn === lb.id) tx.delete("listener", l.id);
  for (const e of lb.enis ?? []) tx.delete("eni", e.eniId);
  tx.delete("loadBalancer", lb.id);
}

registerVpcDependents((tx, vpc) =>
  [...tx.all("loadBalancer")].filter((lb) => lb.vpcId === vpc.id).map((lb) => lb.id),
);

// ---- attributes ----

export function modifyLoadBalancerAttributes(
  tx: Tx,
  ctx: Ctx,
  arn: string | undefined,
  changes: readonly { key?: string; value?: string }[],
): LoadBalancer {
  const lb = getLoadBalancer(tx, ctx, arn);
  required(changes, "attributes");
  const extra = { "load_balancing.cross_zone.enabled": BOOL };
  const attributes = changedAttributes(
    lb.attributes ?? defaultLbAttributes(lb.type, lb.scheme),
    changes,
    "Load balancer",
    extra,
  );
  return tx.put("loadBalancer", { ...lb, attributes });
}

export function loadBalancerAttributes(lb: LoadBalancer): Readonly<Record<string, string>> {
  return lb.attributes ?? defaultLbAttributes(lb.type, lb.scheme);
}

// ---- lifecycle ----

/** Load balancers become active right after creation. */
registerLifecycleStep((tx) => {
  for (const lb of tx.all("loadBalancer"))
    if (lb.state === "provisioning") tx.put("loadBalancer", { ...lb, state: "active" });
});
