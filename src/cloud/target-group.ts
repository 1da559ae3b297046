import { hostAddressOf } from "./addressing.js";
import { cidrContains, parseCidr, parseIp } from "./cidr.js";
import { type Ctx, isoNow } from "./context.js";
import {
  arnPrefix,
  type Check,
  changedAttributes,
  findOwned,
  getOwned,
  inRange,
  mine,
  NAME,
  oneOf,
  oneOfEnum,
  ownedByAge,
  required,
  validation,
} from "./elb-common.js";
import { AwsError } from "./errors.js";
import { isIdOf } from "./ids.js";
import { registerLifecycleStep } from "./lifecycle.js";
import { availabilityZones } from "./regions.js";
import type { State, Tx } from "./state.js";
import type { HealthCheck, LoadBalancer, Subnet, Tags, Target, TargetGroup, Vpc } from "./types.js";

/**
 * ELBv2 target groups: their settings and health checks, the targets registered in them, and
 * the health DescribeTargetHealth reports (from the data plane's checks once it runs them).
 */

function checkTargetGroupName(name: string): void {
  if (name.length > 32) throw validation(`Target group name '${name}' cannot be longer than '32' characters`);
  if (!NAME.test(name))
    throw validation(
      `Target group name '${name}' can only contain characters that are alphanumeric characters or hyphens(-)`,
    );
  if (name.startsWith("-") || name.endsWith("-"))
    throw validation(`Target group name '${name}' cannot begin or end with '-'`);
}

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

// ---- lifecycle ----

/** Drained targets leave after their deregistration delay. */
registerLifecycleStep((tx, rt) => {
  const now = rt.now().getTime();
  for (const tg of tx.all("targetGroup")) {
    const delayMs = deregistrationDelay(tg) * 1000;
    const kept = tg.targets.filter(
      (t) => t.deregisteredAt === undefined || Date.parse(t.deregisteredAt) + delayMs > now,
    );
    if (kept.length !== tg.targets.length) tx.put("targetGroup", { ...tg, targets: kept });
  }
});
