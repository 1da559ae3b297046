import type { Ctx } from "./context.js";
import { findOwned, getOwned, inRange, mine, oneOfEnum, required, validation } from "./elb-common.js";
import { AwsError } from "./errors.js";
import { getLoadBalancer } from "./load-balancer.js";
import type { Tx } from "./state.js";
import { TG_PROTOCOLS, targetGroupLoadBalancers } from "./target-group.js";
import type { Listener, LoadBalancer, Tags, TargetGroup } from "./types.js";

/** ELBv2 listeners: for NLBs and GWLBs, a port that forwards to exactly one target group. */

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
