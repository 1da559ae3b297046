import type { Ctx } from "./context.js";
import { AwsError } from "./errors.js";
import type { Tx } from "./state.js";
import type { Kinds } from "./types.js";

/**
 * What the ELBv2 resources (load balancers, target groups, listeners: cloud/load-balancer.ts,
 * target-group.ts, elb-listener.ts) share: awsQuery's validation texts, ARN checks, ownership
 * lookups and the attribute rules.
 */

export const validation = (message: string) => new AwsError("ValidationError", message);

/** awsQuery services answer a missing required member with this ValidationError. */
export function required<T>(value: T | undefined | null, member: string): T {
  if (value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0))
    throw validation(
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  return value;
}

export function inRange(
  value: number | undefined,
  member: string,
  min: number,
  max: number,
): number | undefined {
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

export function oneOfEnum<T extends string>(
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

export const mine = (x: { accountId: string; region: string }, ctx: Ctx) =>
  x.accountId === ctx.accountId && x.region === ctx.region;

const LB_ARN =
  /^arn:aws:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer\/(net|gwy|app)\/[^/]+\/[0-9a-f]{16}$/;
const TG_ARN = /^arn:aws:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[^/]+\/[0-9a-f]{16}$/;
const LISTENER_ARN =
  /^arn:aws:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/(net|gwy|app)\/[^/]+\/[0-9a-f]{16}\/[0-9a-f]{16}$/;

export function arnPrefix(ctx: Ctx): string {
  return `arn:aws:elasticloadbalancing:${ctx.region}:${ctx.accountId}`;
}

export const NAME = /^[A-Za-z0-9-]+$/;

/** The three ELBv2 resources share ARN checks, lookup and errors; the API names follow the kind. */
export type ElbKind = "loadBalancer" | "targetGroup" | "listener";
const ELB_KINDS: Record<ElbKind, { arn: RegExp; noun: string }> = {
  loadBalancer: { arn: LB_ARN, noun: "load balancer" },
  targetGroup: { arn: TG_ARN, noun: "target group" },
  listener: { arn: LISTENER_ARN, noun: "listener" },
};

export function checkElbArn(kind: ElbKind, arn: string): void {
  if (!ELB_KINDS[kind].arn.test(arn)) throw validation(`'${arn}' is not a valid ${ELB_KINDS[kind].noun} ARN`);
}

/** Delete* succeeds on absent ARNs, so lookup and the not-found error are separate steps. */
export function findOwned<K extends ElbKind>(
  tx: Tx,
  ctx: Ctx,
  kind: K,
  arn: string | undefined,
): Kinds[K] | undefined {
  checkElbArn(kind, required(arn, `${kind}Arn`));
  const obj = tx.get(kind, arn!);
  return obj && mine(obj, ctx) ? obj : undefined;
}

export function getOwned<K extends ElbKind>(tx: Tx, ctx: Ctx, kind: K, arn: string | undefined): Kinds[K] {
  const obj = findOwned(tx, ctx, kind, arn);
  if (!obj) {
    const code = `${kind[0]!.toUpperCase()}${kind.slice(1)}NotFound`;
    throw new AwsError(code, `One or more ${ELB_KINDS[kind].noun}s not found`);
  }
  return obj;
}

/** Describe* lists in creation order, as ELBv2 does. */
export function ownedByAge<K extends "loadBalancer" | "targetGroup">(tx: Tx, ctx: Ctx, kind: K): Kinds[K][] {
  return [...tx.all(kind)]
    .filter((x) => mine(x, ctx))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

// ---- attributes ----

export type Check = (value: string) => boolean;
export const BOOL: Check = (v) => v === "true" || v === "false";
export const ANY: Check = () => true;
const int =
  (min: number, max: number): Check =>
  (v) =>
    /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max;
export const oneOf =
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
export function changedAttributes(
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
