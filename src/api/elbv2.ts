import type * as elb from "@aws-sdk/client-elastic-load-balancing-v2";
import type { Ctx } from "../cloud/context.js";
import { checkElbArn, required } from "../cloud/elb-common.js";
import * as listeners from "../cloud/elb-listener.js";
import * as elbTags from "../cloud/elb-tags.js";
import { AwsError } from "../cloud/errors.js";
import * as lbs from "../cloud/load-balancer.js";
import type { Tx } from "../cloud/state.js";
import { validateTags } from "../cloud/tags.js";
import * as tgs from "../cloud/target-group.js";
import type { Listener, LoadBalancer, Tags, Target, TargetGroup } from "../cloud/types.js";
import type { HandlerTable } from "./handler.js";

/**
 * ELBv2 (awsQuery, SigV4 service `elasticloadbalancing`): the provider's load balancers, target
 * groups, targets and listeners. Handlers map SDK input shapes to cloud/load-balancer.ts and its
 * objects back to SDK output shapes.
 */

const validation = (message: string) => new AwsError("ValidationError", message);

type TagIn = { Key?: string; Value?: string };
const tagsOf = (tags: TagIn[] | undefined): Tags =>
  validateTags((tags ?? []).map((t) => ({ key: t.Key, value: t.Value })));
/** Tags and attributes go over the wire as the same Key/Value list. */
const keyValues = (record: Readonly<Record<string, string>>) =>
  Object.entries(record).map(([Key, Value]) => ({ Key, Value }));
const attributeChanges = (attrs: { Key?: string; Value?: string }[] | undefined) =>
  (attrs ?? []).map((a) => ({ key: a.Key, value: a.Value }));

// ---- Marker/PageSize ----

function markerStart(marker: string | undefined): number {
  if (marker === undefined || marker === "") return 0;
  const m = /^m1\.(\d+)$/.exec(Buffer.from(marker, "base64url").toString("latin1"));
  if (!m) throw validation(`Invalid marker '${marker}'`);
  return Number(m[1]);
}

/**
 * ELBv2 pages with an opaque Marker and PageSize 1-400; every Describe* answers one page of
 * shapes under its own member name, plus NextMarker.
 */
function page<K extends string, T, S>(
  member: K,
  items: readonly T[],
  { Marker, PageSize }: { Marker?: string; PageSize?: number },
  shape: (item: T) => S,
): Record<K, S[]> & { NextMarker?: string } {
  const start = markerStart(Marker);
  if (PageSize !== undefined && (!Number.isInteger(PageSize) || PageSize < 1 || PageSize > 400))
    throw validation(
      `1 validation error detected: Value '${PageSize}' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and 400`,
    );
  const end = PageSize === undefined ? items.length : start + PageSize;
  const NextMarker =
    end < items.length ? Buffer.from(`m1.${end}`, "latin1").toString("base64url") : undefined;
  return { [member]: items.slice(start, end).map(shape), NextMarker } as Record<K, S[]> & {
    NextMarker?: string;
  };
}

// ---- shapes ----

function loadBalancerShape(lb: LoadBalancer): elb.LoadBalancer {
  const gateway = lb.type === "gateway";
  return {
    LoadBalancerArn: lb.id,
    DNSName: lb.dnsName,
    CanonicalHostedZoneId: lbs.canonicalHostedZoneId(lb.region),
    CreatedTime: new Date(lb.createdAt),
    LoadBalancerName: lb.name,
    Scheme: gateway ? undefined : lb.scheme,
    VpcId: lb.vpcId,
    State: { Code: lb.state },
    Type: lb.type,
    AvailabilityZones: lb.subnets.map((s) => ({
      ZoneName: s.az,
      SubnetId: s.subnetId,
      LoadBalancerAddresses: s.privateIpv4Address ? [{ PrivateIPv4Address: s.privateIpv4Address }] : [],
    })),
    SecurityGroups: lb.securityGroupIds.length > 0 ? [...lb.securityGroupIds] : undefined,
    IpAddressType: lb.ipAddressType,
    EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: lb.securityGroupIds.length > 0 ? "on" : undefined,
  };
}

function targetGroupShape(tx: Tx, tg: TargetGroup): elb.TargetGroup {
  const hc = tg.healthCheck;
  const http = hc.protocol !== "TCP";
  return {
    TargetGroupArn: tg.id,
    TargetGroupName: tg.name,
    Protocol: tg.protocol,
    Port: tg.port,
    VpcId: tg.vpcId,
    HealthCheckProtocol: hc.protocol,
    HealthCheckPort: hc.port,
    HealthCheckEnabled: true,
    HealthCheckIntervalSeconds: hc.intervalSeconds,
    HealthCheckTimeoutSeconds: hc.timeoutSeconds,
    HealthyThresholdCount: hc.healthyThreshold,
    UnhealthyThresholdCount: hc.unhealthyThreshold,
    HealthCheckPath: http ? hc.path : undefined,
    Matcher: http ? { HttpCode: hc.matcher } : undefined,
    LoadBalancerArns: tgs.targetGroupLoadBalancers(tx, tg.id),
    TargetType: tg.targetType,
    ProtocolVersion: tg.protocol === "HTTP" || tg.protocol === "HTTPS" ? "HTTP1" : undefined,
    IpAddressType: "ipv4",
  };
}

function listenerShape(l: Listener): elb.Listener {
  const gateway = l.protocol === "GENEVE";
  return {
    ListenerArn: l.id,
    LoadBalancerArn: l.loadBalancerArn,
    Port: gateway ? undefined : l.port,
    Protocol: gateway ? undefined : (l.protocol as elb.ProtocolEnum),
    DefaultActions: [
      {
        Type: "forward",
        TargetGroupArn: l.targetGroupArn,
        ForwardConfig: {
          TargetGroups: [{ TargetGroupArn: l.targetGroupArn, Weight: 1 }],
          TargetGroupStickinessConfig: { Enabled: false },
        },
      },
    ],
  };
}

function targetShape(
  tg: TargetGroup,
  t: Pick<Target, "id" | "port" | "availabilityZone">,
): elb.TargetDescription {
  return {
    Id: t.id,
    Port: t.port,
    AvailabilityZone: tg.targetType === "ip" ? t.availabilityZone : undefined,
  };
}

function healthDescription(
  tx: Tx,
  ctx: Ctx,
  tg: TargetGroup,
  t: Target | undefined,
  asked: elb.TargetDescription,
) {
  const health = t ? tgs.targetHealth(tx, tg, t, ctx.rt.now()) : tgs.NOT_REGISTERED;
  const port = t?.port ?? asked.Port ?? tg.port;
  return {
    Target: t ? targetShape(tg, t) : { Id: asked.Id, Port: port, AvailabilityZone: asked.AvailabilityZone },
    HealthCheckPort: tg.healthCheck.port === "traffic-port" ? String(port) : tg.healthCheck.port,
    TargetHealth: { State: health.state, Reason: health.reason, Description: health.description },
  } as elb.TargetHealthDescription;
}

// ---- lookups for Describe* ----

function describeLoadBalancers(tx: Tx, ctx: Ctx, input: elb.DescribeLoadBalancersInput): LoadBalancer[] {
  const all = lbs.loadBalancersOf(tx, ctx);
  const arns = input.LoadBalancerArns ?? [];
  const names = input.Names ?? [];
  if (arns.length > 0 && names.length > 0)
    throw validation("Load balancer names and load balancer ARNs cannot be specified at the same time");
  if (arns.length === 0 && names.length === 0) return all;
  for (const a of arns) checkElbArn("loadBalancer", a);
  const key = arns.length > 0 ? (lb: LoadBalancer) => lb.id : (lb: LoadBalancer) => lb.name;
  const wanted = arns.length > 0 ? arns : names;
  const missing = wanted.filter((w) => !all.some((lb) => key(lb) === w));
  if (missing.length > 0)
    throw new AwsError("LoadBalancerNotFound", `Load balancers '[${missing.join(", ")}]' not found`);
  return all.filter((lb) => wanted.includes(key(lb)));
}

function describeTargetGroups(tx: Tx, ctx: Ctx, input: elb.DescribeTargetGroupsInput): TargetGroup[] {
  const all = tgs.targetGroupsOf(tx, ctx);
  const arns = input.TargetGroupArns ?? [];
  const names = input.Names ?? [];
  const given = [input.LoadBalancerArn !== undefined, arns.length > 0, names.length > 0].filter(
    Boolean,
  ).length;
  if (given > 1)
    throw validation(
      "Only one of load balancer ARN, target group ARNs or target group names can be specified",
    );
  if (input.LoadBalancerArn !== undefined) {
    const lb = lbs.getLoadBalancer(tx, ctx, input.LoadBalancerArn);
    return all.filter((tg) => tgs.targetGroupLoadBalancers(tx, tg.id).includes(lb.id));
  }
  for (const a of arns) checkElbArn("targetGroup", a);
  const wanted = arns.length > 0 ? arns : names;
  if (wanted.length === 0) return all;
  const key = arns.length > 0 ? (tg: TargetGroup) => tg.id : (tg: TargetGroup) => tg.name;
  if (wanted.some((w) => !all.some((tg) => key(tg) === w)))
    throw new AwsError("TargetGroupNotFound", "One or more target groups not found");
  return all.filter((tg) => wanted.includes(key(tg)));
}

function describeListeners(tx: Tx, ctx: Ctx, input: elb.DescribeListenersInput): Listener[] {
  const arns = input.ListenerArns ?? [];
  if (input.LoadBalancerArn !== undefined && arns.length > 0)
    throw validation("Listener ARNs and a load balancer ARN cannot be specified at the same time");
  if (input.LoadBalancerArn !== undefined) {
    const lb = lbs.getLoadBalancer(tx, ctx, input.LoadBalancerArn);
    return listeners.listenersOf(tx, ctx).filter((l) => l.loadBalancerArn === lb.id);
  }
  if (arns.length === 0) throw validation("You must specify either listener ARNs or a load balancer ARN");
  return [...new Set(arns)].map((a) => listeners.getListener(tx, ctx, a));
}

function healthCheckInput(
  input: elb.CreateTargetGroupInput | elb.ModifyTargetGroupInput,
): tgs.HealthCheckInput {
  return {
    protocol: input.HealthCheckProtocol,
    port: input.HealthCheckPort,
    enabled: input.HealthCheckEnabled,
    path: input.HealthCheckPath,
    intervalSeconds: input.HealthCheckIntervalSeconds,
    timeoutSeconds: input.HealthCheckTimeoutSeconds,
    healthyThreshold: input.HealthyThresholdCount,
    unhealthyThreshold: input.UnhealthyThresholdCount,
    matcher: input.Matcher?.HttpCode,
  };
}

const targetInputs = (targets: elb.TargetDescription[] | undefined): tgs.TargetInput[] =>
  (targets ?? []).map((t) => ({ id: t.Id, port: t.Port, availabilityZone: t.AvailabilityZone }));

// ---- the table ----

export const elbv2Handlers: HandlerTable = {
  CreateLoadBalancer: ({ tx, ctx, input }) => {
    const i = input as elb.CreateLoadBalancerInput;
    const lb = lbs.createLoadBalancer(tx, ctx, {
      name: i.Name,
      type: i.Type,
      scheme: i.Scheme,
      subnets: i.Subnets,
      subnetMappings: i.SubnetMappings?.map((m) => ({
        subnetId: m.SubnetId,
        privateIpv4Address: m.PrivateIPv4Address,
      })),
      securityGroups: i.SecurityGroups,
      ipAddressType: i.IpAddressType,
      tags: tagsOf(i.Tags),
    });
    return { LoadBalancers: [loadBalancerShape(lb)] };
  },
  DescribeLoadBalancers: ({ tx, ctx, input }) =>
    page("LoadBalancers", describeLoadBalancers(tx, ctx, input), input, loadBalancerShape),
  DeleteLoadBalancer: ({ tx, ctx, input }) => {
    lbs.deleteLoadBalancer(tx, ctx, input.LoadBalancerArn);
    return {};
  },
  DescribeLoadBalancerAttributes: ({ tx, ctx, input }) => ({
    Attributes: keyValues(lbs.loadBalancerAttributes(lbs.getLoadBalancer(tx, ctx, input.LoadBalancerArn))),
  }),
  ModifyLoadBalancerAttributes: ({ tx, ctx, input }) => {
    const lb = lbs.modifyLoadBalancerAttributes(
      tx,
      ctx,
      input.LoadBalancerArn,
      attributeChanges(input.Attributes),
    );
    return { Attributes: keyValues(lbs.loadBalancerAttributes(lb)) };
  },

  CreateTargetGroup: ({ tx, ctx, input }) => {
    const i = input as elb.CreateTargetGroupInput;
    const tg = tgs.createTargetGroup(tx, ctx, {
      name: i.Name,
      protocol: i.Protocol,
      port: i.Port,
      vpcId: i.VpcId,
      targetType: i.TargetType,
      healthCheck: healthCheckInput(i),
      tags: tagsOf(i.Tags),
    });
    return { TargetGroups: [targetGroupShape(tx, tg)] };
  },
  DescribeTargetGroups: ({ tx, ctx, input }) =>
    page("TargetGroups", describeTargetGroups(tx, ctx, input), input, (tg) => targetGroupShape(tx, tg)),
  ModifyTargetGroup: ({ tx, ctx, input }) => ({
    TargetGroups: [
      targetGroupShape(tx, tgs.modifyTargetGroup(tx, ctx, input.TargetGroupArn, healthCheckInput(input))),
    ],
  }),
  DeleteTargetGroup: ({ tx, ctx, input }) => {
    tgs.deleteTargetGroup(tx, ctx, input.TargetGroupArn);
    return {};
  },
  DescribeTargetGroupAttributes: ({ tx, ctx, input }) => ({
    Attributes: keyValues(tgs.getTargetGroup(tx, ctx, input.TargetGroupArn).attributes),
  }),
  ModifyTargetGroupAttributes: ({ tx, ctx, input }) => {
    const tg = tgs.modifyTargetGroupAttributes(
      tx,
      ctx,
      input.TargetGroupArn,
      attributeChanges(input.Attributes),
    );
    return { Attributes: keyValues(tg.attributes) };
  },

  RegisterTargets: ({ tx, ctx, input }) => {
    tgs.registerTargets(tx, ctx, input.TargetGroupArn, targetInputs(input.Targets));
    return {};
  },
  DeregisterTargets: ({ tx, ctx, input }) => {
    tgs.deregisterTargets(tx, ctx, input.TargetGroupArn, targetInputs(input.Targets));
    return {};
  },
  DescribeTargetHealth: ({ tx, ctx, input }) => {
    const tg = tgs.getTargetGroup(tx, ctx, input.TargetGroupArn);
    const asked: elb.TargetDescription[] | undefined = input.Targets;
    const rows = asked?.length
      ? asked.map((a) => {
          const id = required(a.Id, "targets.member.id");
          const t = tg.targets.find((x) => x.id === id && x.port === (a.Port ?? x.port));
          return healthDescription(tx, ctx, tg, t, a);
        })
      : tg.targets.map((t) => healthDescription(tx, ctx, tg, t, { Id: t.id }));
    return { TargetHealthDescriptions: rows };
  },

  CreateListener: ({ tx, ctx, input }) => {
    const i = input as elb.CreateListenerInput;
    const l = listeners.createListener(tx, ctx, {
      loadBalancerArn: i.LoadBalancerArn,
      protocol: i.Protocol,
      port: i.Port,
      actions: i.DefaultActions?.map((a) => ({
        type: a.Type,
        targetGroupArn: a.TargetGroupArn,
        forwardTargetGroupArns: a.ForwardConfig?.TargetGroups?.map((t) => t.TargetGroupArn).filter(
          (x): x is string => !!x,
        ),
      })),
      tags: tagsOf(i.Tags),
    });
    return { Listeners: [listenerShape(l)] };
  },
  DescribeListeners: ({ tx, ctx, input }) =>
    page("Listeners", describeListeners(tx, ctx, input), input, listenerShape),
  DeleteListener: ({ tx, ctx, input }) => {
    listeners.deleteListener(tx, ctx, input.ListenerArn);
    return {};
  },

  AddTags: ({ tx, ctx, input }) => {
    const tags: TagIn[] = required(input.Tags, "tags");
    elbTags.addElbTags(
      tx,
      ctx,
      required(input.ResourceArns, "resourceArns"),
      tags.map((t) => ({ key: t.Key, value: t.Value })),
    );
    return {};
  },
  RemoveTags: ({ tx, ctx, input }) => {
    elbTags.removeElbTags(
      tx,
      ctx,
      required(input.ResourceArns, "resourceArns"),
      required(input.TagKeys, "tagKeys"),
    );
    return {};
  },
  DescribeTags: ({ tx, ctx, input }) => {
    const arns: string[] = required(input.ResourceArns, "resourceArns");
    if (arns.length > 20)
      throw validation(
        "1 validation error detected: Value at 'resourceArns' failed to satisfy constraint: Member must have length less than or equal to 20",
      );
    return {
      TagDescriptions: arns.map((a) => ({
        ResourceArn: a,
        Tags: keyValues(elbTags.elbResource(tx, ctx, a).obj.tags),
      })),
    };
  },
};
