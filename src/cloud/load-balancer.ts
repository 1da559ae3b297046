import { hostAddressOf } from "./addressing.js";
import { cidrContains, parseCidr, parseIp } from "./cidr.js";
import { type Ctx, isoNow } from "./context.js";
import { createEni } from "./eni.js";
import { AwsError } from "./errors.js";
import { isIdOf } from "./ids.js";
import { registerLifecycleStep } from "./lifecycle.js";
import { availabilityZones } from "./regions.js";
import type { State, Tx } from "./state.js";
import { validateTags } from "./tags.js";
import type {
  HealthCheck,
  Kinds,
  Listener,
  LoadBalancer,
  Subnet,
  Tags,
  Target,
  TargetGroup,
  Vpc,
} from "./types.js";
import { registerVpcDependents } from "./vpc.js";

/**
 * ELBv2 for the provider side of PrivateLink: Network and Gateway Load Balancers, their target
 * groups, targets and listeners. Objects are keyed by ARN as in the ELBv2 API. A load balancer
 * has one node per Availability Zone, each a requester-managed ENI in its subnet, so that its
 * addresses show in DescribeNetworkInterfaces and are real host addresses.
 */

const validation = (message: string) => new AwsError("ValidationError", message);

/** awsQuery services answer a missing required member with this ValidationError. */
export function required<T>(value: T | undefined | null, member: string): T {
  if (value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0))
    throw validation(
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  return value;
}

function inRange(value: number | undefined, member: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min)
    throw validation(
      `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: Member must have value greater than or equal to ${min}`,
    );
  if (value > max)
    throw validation(
      `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: Member must have value less than or equal to ${max}`,
    );
  return value;
}

function oneOfEnum<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  member: string,
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw validation(
      `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(", ")}]`,
    );
  return value as T;
}

const mine = (x: { accountId: string; region: string }, ctx: Ctx) =>
  x.accountId === ctx.accountId && x.region === ctx.region;

// ---- ARNs and names ----

export type LbType = LoadBalancer["type"];
const TYPE_PREFIX: Record<LbType, string> = { network: "net", gateway: "gwy", application: "app" };

const LB_ARN =
  /^arn:aws:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer\/(net|gwy|app)\/[^/]+\/[0-9a-f]{16}$/;
const TG_ARN = /^arn:aws:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[^/]+\/[0-9a-f]{16}$/;
const LISTENER_ARN =
  /^arn:aws:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/(net|gwy|app)\/[^/]+\/[0-9a-f]{16}\/[0-9a-f]{16}$/;

function arnPrefix(ctx: Ctx): string {
  return `arn:aws:elasticloadbalancing:${ctx.region}:${ctx.accountId}`;
}

/** `…:loadbalancer/net/<name>/<id>` → "net/<name>/<id>", as ENI descriptions and metrics name it. */
export function loadBalancerPath(arn: string): string {
  return arn.slice(arn.indexOf(":loadbalancer/") + ":loadbalancer/".length);
}

const NAME = /^[A-Za-z0-9-]+$/;

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

function checkTargetGroupName(name: string): void {
  if (name.length > 32) throw validation(`Target group name '${name}' cannot be longer than '32' characters`);
  if (!NAME.test(name))
    throw validation(
      `Target group name '${name}' can only contain characters that are alphanumeric characters or hyphens(-)`,
    );
  if (name.startsWith("-") || name.endsWith("-"))
    throw validation(`Target group name '${name}' cannot begin or end with '-'`);
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

/** The three ELBv2 resources share ARN checks, lookup and errors; the API names follow the kind. */
type ElbKind = "loadBalancer" | "targetGroup" | "listener";
const ELB_KINDS: Record<ElbKind, { arn: RegExp; noun: string }> = {
  loadBalancer: { arn: LB_ARN, noun: "load balancer" },
  targetGroup: { arn: TG_ARN, noun: "target group" },
  listener: { arn: LISTENER_ARN, noun: "listener" },
};

export function checkElbArn(kind: ElbKind, arn: string): void {
  if (!ELB_KINDS[kind].arn.test(arn)) throw validation(`'${arn}' is not a valid ${ELB_KINDS[kind].noun} ARN`);
}

/** Delete* succeeds on absent ARNs, so lookup and the not-found error are separate steps. */
function findOwned<K extends ElbKind>(
  tx: Tx,
  ctx: Ctx,
  kind: K,
  arn: string | undefined,
): Kinds[K] | undefined {
  checkElbArn(kind, required(arn, `${kind}Arn`));
  const obj = tx.get(kind, arn!);
  return obj && mine(obj, ctx) ? obj : undefined;
}

function getOwned<K extends ElbKind>(tx: Tx, ctx: Ctx, kind: K, arn: string | undefined): Kinds[K] {
  const obj = findOwned(tx, ctx, kind, arn);
  if (!obj) {
    const code = `${kind[0]!.toUpperCase()}${kind.slice(1)}NotFound`;
    throw new AwsError(code, `One or more ${ELB_KINDS[kind].noun}s not found`);
  }
  return obj;
}

/** Describe* lists in creation order, as ELBv2 does. */
function ownedByAge<K extends "loadBalancer" | "targetGroup">(tx: Tx, ctx: Ctx, kind: K): Kinds[K][] {
  return [...tx.all(kind)]
    .filter((x) => mine(x, ctx))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

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

type Check = (value: string) => boolean;
const BOOL: Check = (v) => v === "true" || v === "false";
const ANY: Check = () => true;
const int =
  (min: number, max: number): Check =>
  (v) =>
    /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max;
const oneOf =
  (...xs: string[]): Check =>
  (v) =>
    xs.includes(v);
const offOr =
  (check: Check): Check =>
  (v) =>
    v === "off" || check(v);

const ATTRIBUTE_CHECKS: Readonly<Record<string, Check>> = {
  "access_logs.s3.enabled": BOOL,
  "access_logs.s3.bucket": ANY,
  "access_logs.s3.prefix": ANY,
  "deletion_protection.enabled": BOOL,
  "ipv6.deny_all_igw_traffic": BOOL,
  "dns_record.client_routing_policy": oneOf(
    "availability_zone_affinity",
    "partial_availability_zone_affinity",
    "any_availability_zone",
  ),
  "zonal_shift.config.enabled": BOOL,
  "deregistration_delay.timeout_seconds": int(0, 3600),
  "deregistration_delay.connection_termination.enabled": BOOL,
  "proxy_protocol_v2.enabled": BOOL,
  "preserve_client_ip.enabled": BOOL,
  "stickiness.enabled": BOOL,
  "target_group_health.dns_failover.minimum_healthy_targets.count": offOr(int(1, 1000)),
  "target_group_health.dns_failover.minimum_healthy_targets.percentage": offOr(int(1, 100)),
  "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": int(1, 1000),
  "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": offOr(int(1, 100)),
  "target_health_state.unhealthy.connection_termination.enabled": BOOL,
  "target_health_state.unhealthy.draining_interval_seconds": int(0, 360000),
  "target_failover.on_deregistration": oneOf("rebalance", "no_rebalance"),
  "target_failover.on_unhealthy": oneOf("rebalance", "no_rebalance"),
};

/** Checks changes against the keys an object has (its defaults) and each key's value rule. */
function changedAttributes(
  current: Readonly<Record<string, string>>,
  changes: readonly { key?: string; value?: string }[],
  what: "Load balancer" | "Target group",
  extra: Readonly<Record<string, Check>> = {},
): Record<string, string> {
  const next = { ...current };
  for (const { key, value } of changes) {
    const k = required(key, "attributes.member.key");
    if (!Object.hasOwn(current, k)) throw validation(`${what} attribute key '${k}' is not recognized`);
    const v = value ?? "";
    const check = extra[k] ?? ATTRIBUTE_CHECKS[k] ?? ANY;
    if (!check(v)) throw validation(`${what} attribute value '${v}' is not valid for key '${k}'`);
    next[k] = v;
  }
  return next;
}

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

// ---- target groups ----

export const TG_PROTOCOLS = ["HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP", "GENEVE"] as const;
type TgProtocol = TargetGroup["protocol"];

export function getTargetGroup(tx: Tx, ctx: Ctx, arn: string | undefined): TargetGroup {
  return getOwned(tx, ctx, "targetGroup", arn);
}

export function targetGroupsOf(tx: Tx, ctx: Ctx): TargetGroup[] {
  return ownedByAge(tx, ctx, "targetGroup");
}

export interface HealthCheckInput {
  readonly protocol?: string;
  readonly port?: string;
  readonly enabled?: boolean;
  readonly path?: string;
  readonly intervalSeconds?: number;
  readonly timeoutSeconds?: number;
  readonly healthyThreshold?: number;
  readonly unhealthyThreshold?: number;
  readonly matcher?: string;
}

export interface TargetGroupInput {
  readonly name?: string;
  readonly protocol?: string;
  readonly port?: number;
  readonly vpcId?: string;
  readonly targetType?: string;
  readonly healthCheck: HealthCheckInput;
  readonly tags?: Tags;
}

/** AWS's defaults per target group protocol (CreateTargetGroup reference, 2026). */
function defaultHealthCheck(protocol: TgProtocol): HealthCheck {
  const http = protocol === "HTTP" || protocol === "HTTPS";
  if (protocol === "GENEVE")
    return {
      protocol: "TCP",
      port: "80",
      intervalSeconds: 10,
      timeoutSeconds: 5,
      healthyThreshold: 5,
      unhealthyThreshold: 2,
    };
  return {
    protocol: http ? protocol : "TCP",
    port: "traffic-port",
    intervalSeconds: 30,
    timeoutSeconds: protocol === "HTTP" ? 6 : 10,
    healthyThreshold: 5,
    unhealthyThreshold: 2,
    ...(http ? { path: "/", matcher: "200" } : {}),
  };
}

function checkHealthPort(port: string | undefined): string | undefined {
  if (port === undefined || port === "traffic-port") return port;
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535)
    throw validation(
      `Health check port '${port}' must be 'traffic-port' or a port number between 1 and 65535`,
    );
  return port;
}

/** The health check after applying `input` over `base`, with AWS's range and consistency rules. */
function healthCheckOf(
  base: HealthCheck,
  input: HealthCheckInput,
  tgProtocol: TgProtocol,
  targetType: string,
): HealthCheck {
  if (input.enabled === false && (targetType === "ip" || targetType === "instance"))
    throw validation(`Health check enabled must be true for target groups with target type '${targetType}'`);
  const protocol =
    oneOfEnum(input.protocol, ["HTTP", "HTTPS", "TCP"] as const, "healthCheckProtocol") ?? base.protocol;
  if (protocol === "TCP" && (tgProtocol === "HTTP" || tgProtocol === "HTTPS"))
    throw validation(
      `Health check protocol 'TCP' is not supported for target groups with the '${tgProtocol}' protocol`,
    );
  const http = protocol !== "TCP";
  const hc: HealthCheck = {
    protocol,
    port: checkHealthPort(input.port) ?? base.port,
    intervalSeconds:
      inRange(input.intervalSeconds, "healthCheckIntervalSeconds", 5, 300) ?? base.intervalSeconds,
    timeoutSeconds: inRange(input.timeoutSeconds, "healthCheckTimeoutSeconds", 2, 120) ?? base.timeoutSeconds,
    healthyThreshold:
      inRange(input.healthyThreshold, "healthyThresholdCount", 2, 10) ?? base.healthyThreshold,
    unhealthyThreshold:
      inRange(input.unhealthyThreshold, "unhealthyThresholdCount", 2, 10) ?? base.unhealthyThreshold,
    ...(http
      ? { path: input.path ?? base.path ?? "/", matcher: input.matcher ?? base.matcher ?? "200-399" }
      : {}),
  };
  if (!http && (input.path !== undefined || input.matcher !== undefined))
    throw validation("A health check path and matcher can only be set for HTTP and HTTPS health checks");
  if (hc.timeoutSeconds >= hc.intervalSeconds)
    throw validation(
      `Health check timeout '${hc.timeoutSeconds}' must be smaller than the interval '${hc.intervalSeconds}'`,
    );
  return hc;
}

function defaultTgAttributes(protocol: TgProtocol, targetType: string): Record<string, string> {
  if (protocol === "GENEVE")
    return {
      "deregistration_delay.timeout_seconds": "300",
      "stickiness.enabled": "false",
      "stickiness.type": "5-tuple",
      "target_failover.on_deregistration": "no_rebalance",
      "target_failover.on_unhealthy": "no_rebalance",
      "load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
    };
  return {
    "deregistration_delay.timeout_seconds": "300",
    "deregistration_delay.connection_termination.enabled": "false",
    "proxy_protocol_v2.enabled": "false",
    // AWS keeps client IPs for instance targets (and UDP); ip targets see the NLB's address.
    "preserve_client_ip.enabled": targetType === "instance" || protocol.includes("UDP") ? "true" : "false",
    "stickiness.enabled": "false",
    "stickiness.type": "source_ip",
    "load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
    "target_group_health.dns_failover.minimum_healthy_targets.count": "1",
    "target_group_health.dns_failover.minimum_healthy_targets.percentage": "off",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": "1",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
    "target_health_state.unhealthy.connection_termination.enabled": "true",
    "target_health_state.unhealthy.draining_interval_seconds": "0",
  };
}

function tgVpc(tx: Tx, ctx: Ctx, vpcId: string | undefined, targetType: string): Vpc {
  if (vpcId === undefined || vpcId === "")
    throw validation(`A VPC ID must be specified for target groups with target type '${targetType}'`);
  const vpc = isIdOf("vpc", vpcId) ? tx.get("vpc", vpcId) : undefined;
  if (!vpc || !mine(vpc, ctx)) throw validation(`The VPC ID '${vpcId}' is not found`);
  return vpc;
}

function tgSettings(tx: Tx, ctx: Ctx, input: TargetGroupInput) {
  const targetType = oneOfEnum(
    input.targetType ?? "instance",
    ["instance", "ip", "lambda", "alb"] as const,
    "targetType",
  )!;
  if (targetType === "lambda" || targetType === "alb")
    throw validation(
      `privlink supports target groups of target type 'instance' and 'ip'; '${targetType}' is not supported`,
    );
  const protocol = oneOfEnum(required(input.protocol, "protocol"), TG_PROTOCOLS, "protocol")!;
  const port = inRange(required(input.port, "port"), "port", 1, 65535)!;
  if (protocol === "GENEVE" && port !== 6081)
    throw validation("The port for target groups with the GENEVE protocol must be 6081");
  const vpc = tgVpc(tx, ctx, input.vpcId, targetType);
  const healthCheck = healthCheckOf(defaultHealthCheck(protocol), input.healthCheck, protocol, targetType);
  return { targetType, protocol, port, vpcId: vpc.id, healthCheck };
}

/** CreateTargetGroup; idempotent like CreateLoadBalancer (same name, same settings). */
export function createTargetGroup(tx: Tx, ctx: Ctx, input: TargetGroupInput): TargetGroup {
  const name = required(input.name, "name");
  checkTargetGroupName(name);
  const s = tgSettings(tx, ctx, input);
  const existing = targetGroupsOf(tx, ctx).find((tg) => tg.name === name);
  if (existing) {
    const same =
      existing.protocol === s.protocol &&
      existing.port === s.port &&
      existing.vpcId === s.vpcId &&
      existing.targetType === s.targetType &&
      JSON.stringify(existing.healthCheck) === JSON.stringify(s.healthCheck);
    if (same) return existing;
    throw new AwsError(
      "DuplicateTargetGroupName",
      `A target group with the same name '${name}' exists, but with different settings`,
    );
  }
  return tx.put("targetGroup", {
    id: `${arnPrefix(ctx)}:targetgroup/${name}/${ctx.rt.hex(16)}`,
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    name,
    ...s,
    attributes: defaultTgAttributes(s.protocol, s.targetType),
    targets: [],
    createdAt: isoNow(ctx),
  });
}

export function modifyTargetGroup(
  tx: Tx,
  ctx: Ctx,
  arn: string | undefined,
  input: HealthCheckInput,
): TargetGroup {
  const tg = getTargetGroup(tx, ctx, arn);
  return tx.put("targetGroup", {
    ...tg,
    healthCheck: healthCheckOf(tg.healthCheck, input, tg.protocol, tg.targetType),
  });
}

/** DeleteTargetGroup: refused while a listener forwards to it; absent ARNs succeed. */
export function deleteTargetGroup(tx: Tx, ctx: Ctx, arn: string | undefined): void {
  const tg = findOwned(tx, ctx, "targetGroup", arn);
  if (!tg) return;
  for (const l of tx.all("listener"))
    if (l.targetGroupArn === tg.id)
      throw new AwsError(
        "ResourceInUse",
        `Target group '${tg.id}' is currently in use by a listener or a rule`,
      );
  tx.delete("targetGroup", tg.id);
}

export function modifyTargetGroupAttributes(
  tx: Tx,
  ctx: Ctx,
  arn: string | undefined,
  changes: readonly { key?: string; value?: string }[],
): TargetGroup {
  const tg = getTargetGroup(tx, ctx, arn);
  required(changes, "attributes");
  const extra: Record<string, Check> =
    tg.protocol === "GENEVE"
      ? {
          "stickiness.type": oneOf("5-tuple", "3-tuple", "2-tuple"),
          "load_balancing.cross_zone.enabled": oneOf("true", "false", "use_load_balancer_configuration"),
        }
      : {
          "stickiness.type": oneOf("source_ip"),
          "load_balancing.cross_zone.enabled": oneOf("true", "false", "use_load_balancer_configuration"),
        };
  return tx.put("targetGroup", {
    ...tg,
    attributes: changedAttributes(tg.attributes, changes, "Target group", extra),
  });
}

/** The load balancers whose listeners forward to the target group. */
export function targetGroupLoadBalancers(state: State | Tx, tgArn: string): string[] {
  const out = new Set<string>();
  for (const l of state.all("listener")) if (l.targetGroupArn === tgArn) out.add(l.loadBalancerArn);
  return [...out].sort();
}

// ---- targets ----

export interface TargetInput {
  readonly id?: string;
  readonly port?: number;
  readonly availabilityZone?: string;
}

/** AWS accepts ip targets from the VPC's subnets, RFC 1918 and RFC 6598; privlink adds 127/8 (local processes). */
const OUTSIDE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8"].map(
  (c) => parseCidr(c)!,
);

function subnetOfIp(tx: Tx, vpcId: string, ip: number): Subnet | undefined {
  for (const s of tx.where("subnet", "vpcId", vpcId)) if (cidrContains(parseCidr(s.cidr)!, ip)) return s;
  return undefined;
}

function ipTarget(tx: Tx, ctx: Ctx, tg: TargetGroup, t: TargetInput, id: string): string | undefined {
  const ip = parseIp(id);
  if (ip === undefined)
    throw new AwsError("InvalidTarget", `The IP address '${id}' is not a valid IPv4 address`);
  const subnet = subnetOfIp(tx, tg.vpcId!, ip);
  if (subnet) {
    if (t.availabilityZone === "all")
      throw validation(
        `The IP address '${id}' is within the VPC, and cannot have its Availability Zone overridden to 'all' from '${subnet.az}'`,
      );
    if (t.availabilityZone !== undefined && t.availabilityZone !== subnet.az)
      throw validation(
        `The IP address '${id}' is in Availability Zone '${subnet.az}', not '${t.availabilityZone}'`,
      );
    return subnet.az;
  }
  if (!OUTSIDE_RANGES.some((r) => cidrContains(r, ip)))
    throw new AwsError(
      "InvalidTarget",
      `The IP address '${id}' is not valid: IP targets must be in the VPC's subnets, in RFC 1918 or RFC 6598 space, or (privlink) in 127.0.0.0/8 for a local process`,
    );
  if (t.availabilityZone === undefined)
    throw validation(`The Availability Zone is required for IP address '${id}' because it is not in the VPC`);
  const azs = availabilityZones(ctx.accountId, ctx.region);
  if (t.availabilityZone !== "all" && !azs.some((a) => a.name === t.availabilityZone))
    throw validation(
      `You must specify a valid Availability Zone or select 'all' for all enabled Availability zones, since the IP address '${id}' is outside the VPC`,
    );
  return t.availabilityZone;
}

function instanceTarget(tx: Tx, ctx: Ctx, tg: TargetGroup, t: TargetInput, id: string): undefined {
  if (t.availabilityZone !== undefined)
    throw validation("An Availability Zone cannot be specified for targets of type 'instance'");
  const i = isIdOf("i", id) ? tx.get("instance", id) : undefined;
  if (!i || !mine(i, ctx))
    throw new AwsError("InvalidTarget", `The following targets are not valid instances: '${id}'`);
  if (i.vpcId !== tg.vpcId)
    throw new AwsError(
      "InvalidTarget",
      `The following targets are not in the target group VPC '${tg.vpcId}': '${id}'`,
    );
  if (i.state !== "running")
    throw new AwsError(
      "InvalidTarget",
      `The following targets are not in a running state and cannot be registered: '${id}'`,
    );
  return undefined;
}

function checkTarget(tx: Tx, ctx: Ctx, tg: TargetGroup, t: TargetInput, now: string): Target {
  const id = required(t.id, "targets.member.id");
  const port = inRange(t.port, "targets.member.port", 1, 65535) ?? tg.port;
  if (tg.protocol === "GENEVE" && port !== 6081)
    throw validation("The port for targets of GENEVE target groups must be 6081");
  const availabilityZone =
    tg.targetType === "ip" ? ipTarget(tx, ctx, tg, t, id) : instanceTarget(tx, ctx, tg, t, id);
  return { id, port, availabilityZone, registeredAt: now };
}

const MAX_TARGETS = 1000;

/** RegisterTargets: new targets start their health checks; re-registering a draining one revives it. */
export function registerTargets(
  tx: Tx,
  ctx: Ctx,
  arn: string | undefined,
  inputs: readonly TargetInput[],
): TargetGroup {
  const tg = getTargetGroup(tx, ctx, arn);
  const now = isoNow(ctx);
  const checked = required(inputs, "targets").map((t) => checkTarget(tx, ctx, tg, t, now));
  let targets = [...tg.targets];
  for (const t of checked) {
    const i = targets.findIndex((x) => x.id === t.id && x.port === t.port);
    if (i < 0) targets.push(t);
    else if (targets[i]!.deregisteredAt !== undefined) targets[i] = t;
  }
  if (targets.length > MAX_TARGETS)
    throw new AwsError(
      "TooManyTargets",
      `You have reached the maximum number of targets per target group (${MAX_TARGETS})`,
    );
  targets = targets.sort((a, b) => a.id.localeCompare(b.id) || a.port - b.port);
  return tx.put("targetGroup", { ...tg, targets });
}

/**
 * DeregisterTargets: unknown targets are ignored (AWS succeeds). A target that receives traffic
 * drains for the deregistration delay (the lifecycle removes it afterwards); one that does not,
 * or with a delay of 0, goes at once.
 */
export function deregisterTargets(
  tx: Tx,
  ctx: Ctx,
  arn: string | undefined,
  inputs: readonly TargetInput[],
): TargetGroup {
  const tg = getTargetGroup(tx, ctx, arn);
  const wanted = required(inputs, "targets").map((t) => ({
    id: required(t.id, "targets.member.id"),
    port: t.port ?? tg.port,
  }));
  const drains = targetGroupLoadBalancers(tx, tg.id).length > 0 && deregistrationDelay(tg) > 0;
  const now = isoNow(ctx);
  const targets: Target[] = [];
  for (const t of tg.targets) {
    const hit = wanted.some((w) => w.id === t.id && w.port === t.port);
    if (!hit) targets.push(t);
    else if (drains) targets.push(t.deregisteredAt ? t : { ...t, deregisteredAt: now });
  }
  return tx.put("targetGroup", { ...tg, targets });
}

function deregistrationDelay(tg: TargetGroup): number {
  return Number(tg.attributes["deregistration_delay.timeout_seconds"] ?? "300");
}

// ---- target health ----

export type TargetHealthState = "initial" | "healthy" | "unhealthy" | "unused" | "draining" | "unavailable";

export interface TargetHealth {
  readonly state: TargetHealthState;
  readonly reason?: string;
  readonly description?: string;
}

/**
 * Where real health comes from: the data plane registers a source that runs the target
 * group's health checks and answers for the targets it watches (undefined for the others).
 * Sources are process-wide, so a source must answer only for target groups it knows.
 */
export type TargetHealthSource = (tg: TargetGroup, target: Target) => TargetHealth | undefined;

const healthSources = new Set<TargetHealthSource>();

export function registerTargetHealthSource(source: TargetHealthSource): () => void {
  healthSources.add(source);
  return () => healthSources.delete(source);
}

function unused(reason: string, description: string): TargetHealth {
  return { state: "unused", reason, description };
}

/** Why a target gets no traffic regardless of its checks, if it does not. */
function placementHealth(state: State | Tx, tg: TargetGroup, target: Target): TargetHealth | undefined {
  if (target.deregisteredAt !== undefined)
    return {
      state: "draining",
      reason: "Target.DeregistrationInProgress",
      description: "Target deregistration is in progress",
    };
  const lbs = targetGroupLoadBalancers(state, tg.id)
    .map((a) => state.get("loadBalancer", a))
    .filter((l): l is LoadBalancer => !!l);
  if (lbs.length === 0)
    return unused(
      "Target.NotInUse",
      "Target group is not configured to receive traffic from the load balancer",
    );
  if (tg.targetType === "instance") {
    const i = state.get("instance", target.id);
    if (i?.state !== "running")
      return unused("Target.InvalidState", `Target is in the ${i?.state ?? "terminated"} state`);
  }
  const az = targetAz(state, tg, target);
  if (az !== "all" && !lbs.some((lb) => lb.subnets.some((s) => s.az === az)))
    return unused(
      "Target.NotInUse",
      "Target is in an Availability Zone that is not enabled for the load balancer",
    );
  return undefined;
}

/** The AZ name a target serves from ("all" for addresses outside the VPC). */
export function targetAz(state: State | Tx, tg: TargetGroup, target: Target): string | undefined {
  if (target.availabilityZone !== undefined) return target.availabilityZone;
  const i = tg.targetType === "instance" ? state.get("instance", target.id) : undefined;
  return i ? state.get("subnet", i.subnetId)?.az : undefined;
}

/**
 * A target's health as DescribeTargetHealth reports it. Until a source answers (the data
 * plane), a target is `initial` for its first health-check interval after registration and
 * `healthy` afterwards, so that providers without a data plane still see the AWS sequence.
 */
export function targetHealth(state: State | Tx, tg: TargetGroup, target: Target, now: Date): TargetHealth {
  const placed = placementHealth(state, tg, target);
  if (placed) return placed;
  for (const source of healthSources) {
    const h = source(tg, target);
    if (h) return h;
  }
  const since = target.registeredAt
    ? now.getTime() - Date.parse(target.registeredAt)
    : Number.POSITIVE_INFINITY;
  if (since < tg.healthCheck.intervalSeconds * 1000)
    return {
      state: "initial",
      reason: "Elb.RegistrationInProgress",
      description: "Target registration is in progress",
    };
  return { state: "healthy" };
}

export const NOT_REGISTERED: TargetHealth = unused(
  "Target.NotRegistered",
  "Target is not registered to the target group",
);

/**
 * The host address the data plane dials for a target: an in-VPC address through its VPC's slot,
 * an instance through its ENI, a 127/8 address as itself; undefined when it has no host address
 * (e.g. an RFC 1918 address outside the VPC).
 */
export function targetHostAddress(state: State | Tx, tg: TargetGroup, target: Target): string | undefined {
  const vpc = tg.vpcId ? state.get("vpc", tg.vpcId) : undefined;
  if (tg.targetType === "instance") {
    const i = state.get("instance", target.id);
    const eni = i && i.state === "running" ? state.get("eni", i.eniId) : undefined;
    return eni && vpc ? hostAddressOf(vpc, eni.privateIp) : undefined;
  }
  if (target.id.startsWith("127.")) return target.id;
  return vpc ? hostAddressOf(vpc, target.id) : undefined;
}

// ---- listeners ----

export function getListener(tx: Tx, ctx: Ctx, arn: string | undefined): Listener {
  return getOwned(tx, ctx, "listener", arn);
}

export function listenersOf(tx: Tx, ctx: Ctx): Listener[] {
  return [...tx.all("listener")]
    .filter((l) => mine(l, ctx))
    .sort((a, b) => a.port - b.port || a.id.localeCompare(b.id));
}

export interface ListenerInput {
  readonly loadBalancerArn?: string;
  readonly protocol?: string;
  readonly port?: number;
  readonly actions?: readonly {
    type?: string;
    targetGroupArn?: string;
    forwardTargetGroupArns?: readonly string[];
  }[];
  readonly tags?: Tags;
}

/** The one target group a listener's default action forwards to (NLB and GWLB forward only). */
function forwardTarget(tx: Tx, ctx: Ctx, lb: LoadBalancer, actions: ListenerInput["actions"]): TargetGroup {
  const list = required(actions, "defaultActions");
  if (list.length !== 1)
    throw validation(`Load balancers of type '${lb.type}' support exactly one default action`);
  const a = list[0]!;
  if (required(a.type, "defaultActions.member.type") !== "forward")
    throw new AwsError(
      "InvalidLoadBalancerAction",
      `The action type '${a.type}' is not valid for load balancers of type '${lb.type}'`,
    );
  const arns = [
    ...new Set([...(a.targetGroupArn ? [a.targetGroupArn] : []), ...(a.forwardTargetGroupArns ?? [])]),
  ];
  if (arns.length !== 1)
    throw validation("A forward action must name exactly one target group for this load balancer");
  const arn = arns[0]!;
  const tg = findOwned(tx, ctx, "targetGroup", arn);
  if (!tg) throw new AwsError("TargetGroupNotFound", `Target group '${arn}' not found`);
  return tg;
}

const NLB_LISTENER_PROTOCOLS = ["TCP", "TLS", "UDP", "TCP_UDP"];

function listenerProtocol(
  lb: LoadBalancer,
  protocol: string | undefined,
  port: number | undefined,
): { protocol: string; port: number } {
  if (lb.type === "gateway") {
    if (protocol !== undefined || port !== undefined)
      throw validation("Protocol and port cannot be specified for listeners of Gateway Load Balancers");
    return { protocol: "GENEVE", port: 6081 };
  }
  const p = oneOfEnum(required(protocol, "protocol"), TG_PROTOCOLS, "protocol")!;
  if (!NLB_LISTENER_PROTOCOLS.includes(p))
    throw new AwsError(
      "UnsupportedProtocol",
      `Protocol '${p}' is not supported for load balancers of type 'network'`,
    );
  if (p !== "TCP")
    throw new AwsError(
      "UnsupportedProtocol",
      `privlink serves TCP listeners only; protocol '${p}' is not supported yet`,
    );
  return { protocol: p, port: inRange(required(port, "port"), "port", 1, 65535)! };
}

function checkListenerTarget(tx: Tx, lb: LoadBalancer, tg: TargetGroup, protocol: string): void {
  if (tg.vpcId !== lb.vpcId)
    throw new AwsError(
      "InvalidConfigurationRequest",
      `The target group '${tg.id}' is in VPC '${tg.vpcId}', not in the load balancer's VPC '${lb.vpcId}'`,
    );
  const compatible =
    protocol === "GENEVE" ? tg.protocol === "GENEVE" : tg.protocol === protocol || tg.protocol === "TCP_UDP";
  if (!compatible)
    throw new AwsError(
      "IncompatibleProtocols",
      `The listener protocol '${protocol}' is not compatible with the target group protocol '${tg.protocol}'`,
    );
  const others = targetGroupLoadBalancers(tx, tg.id).filter((a) => a !== lb.id);
  if (others.length > 0)
    throw new AwsError(
      "TargetGroupAssociationLimit",
      `The following target groups cannot be associated with more than one load balancer: ${tg.id}`,
    );
}

/** CreateListener; idempotent for the same port with the same settings. */
export function createListener(tx: Tx, ctx: Ctx, input: ListenerInput): Listener {
  const lb = getLoadBalancer(tx, ctx, input.loadBalancerArn);
  const { protocol, port } = listenerProtocol(lb, input.protocol, input.port);
  const tg = forwardTarget(tx, ctx, lb, input.actions);
  checkListenerTarget(tx, lb, tg, protocol);
  const existing = [...tx.all("listener")].find((l) => l.loadBalancerArn === lb.id && l.port === port);
  if (existing) {
    if (existing.protocol === protocol && existing.targetGroupArn === tg.id) return existing;
    throw new AwsError(
      "DuplicateListener",
      `A listener already exists on this port for this load balancer '${lb.id}'`,
    );
  }
  return tx.put("listener", {
    id: `${lb.id.replace(":loadbalancer/", ":listener/")}/${ctx.rt.hex(16)}`,
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    loadBalancerArn: lb.id,
    protocol,
    port,
    targetGroupArn: tg.id,
  });
}

export function deleteListener(tx: Tx, ctx: Ctx, arn: string | undefined): void {
  const l = getListener(tx, ctx, arn);
  tx.delete("listener", l.id);
}

// ---- tags by ARN ----

export type ElbResource =
  | { kind: "loadBalancer"; obj: LoadBalancer }
  | { kind: "targetGroup"; obj: TargetGroup }
  | { kind: "listener"; obj: Listener };

/** Any ELBv2 resource the caller owns, by ARN (AddTags, RemoveTags, DescribeTags). */
export function elbResource(tx: Tx, ctx: Ctx, arn: string): ElbResource {
  if (arn.includes(":loadbalancer/")) return { kind: "loadBalancer", obj: getLoadBalancer(tx, ctx, arn) };
  if (arn.includes(":targetgroup/")) return { kind: "targetGroup", obj: getTargetGroup(tx, ctx, arn) };
  if (arn.includes(":listener/")) return { kind: "listener", obj: getListener(tx, ctx, arn) };
  throw validation(`'${arn}' is not a valid load balancer, target group or listener ARN`);
}

const MAX_TAGS = 50;

export function addElbTags(
  tx: Tx,
  ctx: Ctx,
  arns: readonly string[],
  tags: readonly { key?: string; value?: string }[],
): void {
  const keys = tags.map((t) => t.key ?? "");
  const dup = keys.find((k, i) => keys.indexOf(k) !== i);
  if (dup !== undefined)
    throw new AwsError("DuplicateTagKeys", `Tag key was specified more than once: ${dup}`);
  const add = validateTags(tags);
  for (const r of arns.map((a) => elbResource(tx, ctx, a))) {
    const next = { ...r.obj.tags, ...add };
    if (Object.keys(next).length > MAX_TAGS)
      throw new AwsError(
        "TooManyTags",
        `The quota for the number of tags that can be assigned to a resource (${MAX_TAGS}) has been reached`,
      );
    putTags(tx, r, next);
  }
}

export function removeElbTags(tx: Tx, ctx: Ctx, arns: readonly string[], keys: readonly string[]): void {
  for (const r of arns.map((a) => elbResource(tx, ctx, a)))
    putTags(tx, r, Object.fromEntries(Object.entries(r.obj.tags).filter(([k]) => !keys.includes(k))));
}

function putTags(tx: Tx, r: ElbResource, tags: Tags): void {
  if (r.kind === "loadBalancer") tx.put("loadBalancer", { ...r.obj, tags });
  else if (r.kind === "targetGroup") tx.put("targetGroup", { ...r.obj, tags });
  else tx.put("listener", { ...r.obj, tags });
}

// ---- lifecycle ----

/** Load balancers become active right after creation; drained targets leave after their delay. */
function loadBalancerStep(tx: Tx, now: Date): void {
  for (const lb of tx.all("loadBalancer"))
    if (lb.state === "provisioning") tx.put("loadBalancer", { ...lb, state: "active" });
  for (const tg of tx.all("targetGroup")) {
    const delayMs = deregistrationDelay(tg) * 1000;
    const kept = tg.targets.filter(
      (t) => t.deregisteredAt === undefined || Date.parse(t.deregisteredAt) + delayMs > now.getTime(),
    );
    if (kept.length !== tg.targets.length) tx.put("targetGroup", { ...tg, targets: kept });
  }
}

registerLifecycleStep((tx, rt) => loadBalancerStep(tx, rt.now()));
