import type { State } from "../cloud/state.js";
import { targetHostAddress } from "../cloud/target-group.js";
import type { Target, TargetGroup } from "../cloud/types.js";

/**
 * Where a target lives on this host: an IP target in 127.0.0.0/8 is a local process as is; an
 * IP target inside a VPC is that address's host address; an instance target is its primary
 * interface's host address (the load balancer module owns the mapping, so that
 * DescribeTargetHealth and the data plane agree).
 */
export function targetHost(
  state: State,
  tg: TargetGroup,
  target: Target,
): { host: string } | { error: string } {
  const host = targetHostAddress(state, tg, target);
  if (host) return { host };
  if (tg.targetType === "instance") return { error: `instance ${target.id} is not running in ${tg.vpcId}` };
  return {
    error: `target ${target.id} is neither in 127.0.0.0/8 nor in ${tg.vpcId ?? "a VPC"} with a host address`,
  };
}

/** Draining targets finish their connections but take no new ones. */
export function takesNewFlows(target: Target): boolean {
  return target.deregisteredAt === undefined;
}

/** The health-check port: "traffic-port" is the target's own port. */
export function healthCheckPort(tg: TargetGroup, target: Target): number {
  const p = tg.healthCheck.port;
  return p === "traffic-port" || p === undefined ? target.port : Number(p);
}

/** The target group attribute that turns PROXY protocol v2 on. */
export function proxyProtocolV2(tg: TargetGroup): boolean {
  return tg.attributes["proxy_protocol_v2.enabled"] === "true";
}
