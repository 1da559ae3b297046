import { hostAddressOf } from "../cloud/addressing.js";
import { cidrContains, parseCidr, parseIp } from "../cloud/cidr.js";
import type { State } from "../cloud/state.js";
import type { Eni, Subnet, Vpc, VpcEndpoint } from "../cloud/types.js";
import type { Crossing } from "./cross-vpc.js";
import {
  gatewayEndpointHops,
  gatewayEndpointTarget,
  isGatewayEndpointRoute,
  publicServiceAddress,
} from "./gateway-endpoint.js";
import { type StateIndex, stateIndex } from "./index-cache.js";
import { naclHops } from "./nacl.js";
import { blackhole, describeTarget, internetHops, longestMatch, routeTableOf } from "./route.js";
import { crossingFor } from "./route-targets.js";
import { routedDestinationVpc } from "./routed-destination.js";
import { type Peer, securityGroupHop } from "./sg.js";
import {
  siteDestinationVpc,
  siteEndOf,
  siteEndOfHost,
  siteOutsideHops,
  siteSourceHop,
  siteToVpcHops,
  vgwRouteHops,
} from "./site.js";
import { proxyProtocolV2, takesNewFlows, targetHost } from "./targets.js";
import {
  ASSUME_HEALTHY,
  type Decision,
  type Flow,
  type FlowTarget,
  type HealthView,
  type Hop,
  type ResolvedTarget,
  type SiteEnd,
} from "./types.js";

const LOOPBACK = parseCidr("127.0.0.0/8")!;

interface SourceSide {
  eni?: Eni;
  vpc?: Vpc;
  subnet?: Subnet;
  /** The address the flow comes from as the destination sees it (private IP or outside). */
  ip: string;
  host?: string;
  /** An on-premises site's workload. */
  site?: SiteEnd;
}

interface DestSide {
  vpc?: Vpc;
  privateIp?: string;
  eni?: Eni;
  host: string;
  /** An address on an on-premises site. */
  site?: SiteEnd;
  /** A public AWS name's address as AWS would answer it (S3, DynamoDB: in their prefix list). */
  publicIp?: string;
}

/**
 * May this TCP flow pass, and why? Pure: reads the state (and the data plane's target health)
 * and returns every hop with its verdict. The data plane enforces the answer, the analyzer
 * prints it; the reason is the first refusing hop's detail.
 */
export function decide(state: State, flow: Flow, health: HealthView = ASSUME_HEALTHY): Decision {
  const index = stateIndex(state);
  const hops: Hop[] = [];
  const src = resolveSource(state, flow, hops);
  const dst = resolveDestination(state, index, flow, src);
  const label = flow.name ?? dst.privateIp ?? flow.destination;
  let target: FlowTarget | undefined;

  const path = routeHops(state, src, dst, label);
  if (src.eni)
    hops.push(
      securityGroupHop(
        state,
        "source-sg-egress",
        src.eni.id,
        src.eni.securityGroupIds,
        flow.port,
        peerOf(dst, src, state, path.groupReferences),
        label,
      ),
    );
  hops.push(...path.hops);
  hops.push(
    ...naclHops(
      state,
      { subnetId: src.eni?.subnetId, vpcId: src.vpc?.id, ip: src.ip },
      { subnetId: dst.eni?.subnetId, vpcId: dst.vpc?.id, ip: addressOf(dst) },
      flow.port,
    ),
  );
  const onSite = dst.site;

  if (dst.vpc) {
    if (!dst.eni) {
      hops.push({
        kind: "destination",
        allowed: false,
        detail: `nothing at ${label}: no network interface has ${dst.privateIp} in ${dst.vpc.id}`,
      });
    } else {
      const srcLabel = src.eni ? `${src.ip} (${src.eni.id})` : src.ip;
      const srcGroups = path.groupReferences ? (src.eni?.securityGroupIds ?? []) : [];
      const srcPeer: Peer = { ip: src.ip, groupIds: srcGroups, region: dst.eni.region };
      hops.push(
        securityGroupHop(
          state,
          "destination-sg-ingress",
          dst.eni.id,
          dst.eni.securityGroupIds,
          flow.port,
          srcPeer,
          srcLabel,
        ),
      );
      const endpoint = index.endpointOfEni(dst.eni.id);
      if (endpoint) target = endpointHops(state, index, health, endpoint, dst.eni, flow.port, hops);
      else target = { kind: "eni", eniId: dst.eni.id, host: dst.host };
    }
  } else if (onSite) {
    target = { kind: "site", site: onSite.site.id, host: onSite.host };
  } else if (path.hops.some((h) => h.kind === "gateway-endpoint" && h.allowed)) {
    target = gatewayEndpointTarget(state, path.hops);
  } else {
    const ip = parseIp(dst.host);
    if (ip === undefined || !cidrContains(LOOPBACK, ip))
      hops.push({
        kind: "destination",
        allowed: false,
        detail: `${label} is outside 127.0.0.0/8: privlink reaches the outside world only on loopback`,
      });
    else target = { kind: "external", host: dst.host };
  }

  const refused = hops.find((h) => !h.allowed);
  return {
    allowed: !refused,
    hops,
    reason: refused ? refused.detail : "allowed",
    source: {
      vpcId: src.vpc?.id,
      privateIp: src.eni?.privateIp ?? src.site?.ip,
      eniId: src.eni?.id,
      host: src.host,
    },
    destination: { vpcId: dst.vpc?.id, privateIp: dst.privateIp, host: dst.host, eniId: dst.eni?.id },
    target: refused ? undefined : target,
  };
}

function resolveSource(state: State, flow: Flow, hops: Hop[]): SourceSide {
  let eniId = flow.source.kind === "eni" ? flow.source.eniId : undefined;
  if (flow.source.kind === "outside") {
    // A connection from a host address is that interface's flow, whoever opened the socket.
    const hit = stateIndex(state).privateIpOfHost(flow.source.address);
    const eni = hit && stateIndex(state).eniAt(hit.vpc.id, hit.privateIp);
    if (!eni) {
      const site = siteEndOfHost(state, flow.source.address);
      if (site) {
        hops.push(siteSourceHop(site));
        return { ip: site.ip, host: site.host, site };
      }
      hops.push({ kind: "source", allowed: true, detail: `${flow.source.address} is outside every VPC` });
      return { ip: flow.source.address };
    }
    eniId = eni.id;
  }
  const eni = eniId ? state.get("eni", eniId) : undefined;
  if (!eni) {
    hops.push({
      kind: "source",
      allowed: false,
      resource: eniId,
      detail: `network interface ${eniId} does not exist`,
    });
    return { ip: "0.0.0.0" };
  }
  const vpc = state.get("vpc", eni.vpcId);
  const subnet = state.get("subnet", eni.subnetId);
  const instanceId = eni.attachment?.instanceId;
  const instance = instanceId ? state.get("instance", instanceId) : undefined;
  if (instance && instance.state !== "running")
    hops.push({
      kind: "source",
      allowed: false,
      resource: instance.id,
      detail: `instance ${instance.id} is ${instance.state}`,
    });
  else
    hops.push({
      kind: "source",
      allowed: true,
      resource: eni.id,
      detail: `${eni.id} (${eni.privateIp}) in ${eni.subnetId}, ${eni.vpcId}`,
    });
  return { eni, vpc, subnet, ip: eni.privateIp, host: vpc && hostAddressOf(vpc, eni.privateIp) };
}

function resolveDestination(state: State, index: StateIndex, flow: Flow, src: SourceSide): DestSide {
  const hit = index.privateIpOfHost(flow.destination);
  if (hit)
    return {
      vpc: hit.vpc,
      privateIp: hit.privateIp,
      eni: index.eniAt(hit.vpc.id, hit.privateIp),
      host: flow.destination,
    };
  const ip = parseIp(flow.destination);
  // From inside a VPC, an address in one of its blocks is local, whatever else it might be.
  if (src.vpc && ip !== undefined && inVpc(src.vpc, ip)) {
    const host = hostAddressOf(src.vpc, flow.destination);
    return {
      vpc: src.vpc,
      privateIp: flow.destination,
      eni: index.eniAt(src.vpc.id, flow.destination),
      host: host ?? flow.destination,
    };
  }
  const site = siteEndOf(state, flow.destination);
  if (site) return { host: site.host, privateIp: site.ip, site };
  // From a site, a private address is in the VPC its links (VGW or TGW routes) lead to; from a
  // VPC, in the one its route (a peering, a TGW route) leads to.
  const into =
    ip === undefined
      ? undefined
      : src.site
        ? siteDestinationVpc(state, src.site.site, ip)
        : src.vpc && src.subnet
          ? routedDestinationVpc(state, src.vpc, src.subnet, ip)
          : undefined;
  if (into)
    return {
      vpc: into,
      privateIp: flow.destination,
      eni: index.eniAt(into.id, flow.destination),
      host: hostAddressOf(into, flow.destination) ?? flow.destination,
    };
  return { host: flow.destination, publicIp: publicServiceAddress(flow.name, flow.destination) };
}

/** The address the destination has on the path (private, public as AWS would answer, or as dialled). */
function addressOf(dst: DestSide): string {
  return dst.privateIp ?? dst.publicIp ?? dst.host;
}

function inVpc(vpc: Vpc, ip: number): boolean {
  return vpc.cidrBlocks.some((b) => b.state === "associated" && cidrContains(parseCidr(b.cidr)!, ip));
}

function peerOf(dst: DestSide, src: SourceSide, state: State, groupReferences: boolean): Peer {
  return {
    ip: addressOf(dst),
    groupIds: groupReferences ? (dst.eni?.securityGroupIds ?? []) : [],
    region: src.eni?.region ?? state.get("vpc", dst.vpc?.id ?? "")?.region ?? "us-east-1",
  };
}

/** Same VPC, or both ends' groups visible over a peering: rules may match groups. */
function routeHops(state: State, src: SourceSide, dst: DestSide, label: string): Crossing {
  const local = (hops: Hop[]): Crossing => ({ hops, groupReferences: true });
  if (src.site)
    return local(
      dst.vpc
        ? siteToVpcHops(state, src.site, dst.vpc, dst.eni, label)
        : siteOutsideHops(state, src.site, addressOf(dst), label),
    );
  if (!src.eni) {
    if (!dst.vpc)
      return local([
        { kind: "route", allowed: true, detail: `${src.ip} to ${label} stays outside privlink's VPCs` },
      ]);
    return local([
      {
        kind: "route",
        allowed: false,
        detail: `no route to ${label}: ${src.ip} is outside every VPC (connect from a workload: privlink exec/connect --from)`,
      },
    ]);
  }
  const table = src.subnet && routeTableOf(state, src.subnet);
  if (!table || !src.vpc)
    return local([
      {
        kind: "route",
        allowed: false,
        detail: `no route to ${label}: ${src.eni.subnetId} has no route table`,
      },
    ]);
  const ip = parseIp(addressOf(dst));
  if (ip === undefined)
    return local([{ kind: "route", allowed: false, detail: `no route to ${label}: not an IPv4 address` }]);
  const route = longestMatch(table, ip);
  if (route?.state === "blackhole") return local([blackhole(route, label)]);
  if (route?.target.kind === "gateway" && route.target.id.startsWith("vgw-"))
    return local(vgwRouteHops(state, route, src.vpc.id, dst.site, label, src.eni.privateIp));
  if (!dst.vpc && !dst.site && isGatewayEndpointRoute(route))
    return local(gatewayEndpointHops(state, route, table, label));
  if (dst.site && route?.target.kind !== "transit")
    return local([
      {
        kind: "route",
        allowed: false,
        resource: table.id,
        detail: `no route to ${label} (site ${dst.site.site.id}): ${table.id} sends it to ${route ? describeTarget(route) : "nowhere"}, and a site is reached only through a virtual private gateway`,
      },
    ]);
  const crossing =
    route &&
    crossingFor({
      state,
      route,
      table,
      src: { eni: src.eni, vpc: src.vpc, subnet: src.subnet, ip: src.ip },
      dst,
      ip,
      label,
    });
  if (crossing) return crossing;
  if (!dst.vpc) return local(internetHops(state, route, src.vpc.id, ip, label));
  if (route?.target.kind === "local" && dst.vpc.id === src.vpc.id)
    return local([
      {
        kind: "route",
        allowed: true,
        resource: table.id,
        detail: `${table.id}: local route ${route.destinationCidr}`,
      },
    ]);
  const why = route
    ? `${table.id} sends ${route.destinationCidr ?? route.destinationPrefixListId} to ${describeTarget(route)}`
    : `${table.id} has no route for it`;
  return local([
    {
      kind: "route",
      allowed: false,
      resource: table.id,
      detail: `no route to ${label} in ${dst.vpc.id} from ${src.vpc.id}: ${why}`,
    },
  ]);
}

function endpointHops(
  state: State,
  index: StateIndex,
  health: HealthView,
  endpoint: VpcEndpoint,
  eni: Eni,
  port: number,
  hops: Hop[],
): FlowTarget | undefined {
  const e = endpoint.id;
  if (endpoint.state === "pendingAcceptance") {
    hops.push({
      kind: "acceptance",
      allowed: false,
      resource: e,
      detail: `endpoint ${e} is pendingAcceptance: the owner of ${endpoint.serviceId ?? endpoint.serviceName} has not accepted it`,
    });
    return undefined;
  }
  if (endpoint.state === "rejected") {
    hops.push({
      kind: "acceptance",
      allowed: false,
      resource: e,
      detail: `endpoint ${e} was rejected by the owner of ${endpoint.serviceId ?? endpoint.serviceName}`,
    });
    return undefined;
  }
  if (endpoint.state !== "available") {
    hops.push({
      kind: "endpoint-state",
      allowed: false,
      resource: e,
      detail: `endpoint ${e} is ${endpoint.state}: only an available endpoint carries traffic`,
    });
    return undefined;
  }
  hops.push({ kind: "endpoint-state", allowed: true, resource: e, detail: `endpoint ${e} is available` });
  if (!endpoint.serviceId) {
    if (port !== 443) {
      hops.push({
        kind: "service",
        allowed: false,
        resource: endpoint.serviceName,
        detail: `${endpoint.serviceName} listens on tcp/443 only, not tcp/${port}`,
      });
      return undefined;
    }
    hops.push({
      kind: "service",
      allowed: true,
      resource: endpoint.serviceName,
      detail: `${endpoint.serviceName} (AWS service front)`,
    });
    return { kind: "aws-service", endpointId: e, eniId: eni.id, serviceName: endpoint.serviceName };
  }
  const service = state.get("endpointService", endpoint.serviceId);
  if (service?.state !== "Available") {
    hops.push({
      kind: "service",
      allowed: false,
      resource: endpoint.serviceId,
      detail: `endpoint service ${endpoint.serviceId} is ${service?.state ?? "gone"}`,
    });
    return undefined;
  }
  for (const lbArn of service.networkLoadBalancerArns) {
    const listener = index.listenersOf(lbArn).find((l) => l.port === port);
    if (!listener) continue;
    hops.push({
      kind: "nlb-listener",
      allowed: true,
      resource: listener.id,
      detail: `${state.get("loadBalancer", lbArn)?.name ?? lbArn} listens on tcp/${port}, forwarding to ${listener.targetGroupArn}`,
    });
    return targetsHop(state, health, endpoint, eni, lbArn, listener.id, listener.targetGroupArn, hops);
  }
  hops.push({
    kind: "nlb-listener",
    allowed: false,
    resource: service.networkLoadBalancerArns[0],
    detail: `no listener on tcp/${port} of the load balancer behind ${service.id}`,
  });
  return undefined;
}

function targetsHop(
  state: State,
  health: HealthView,
  endpoint: VpcEndpoint,
  eni: Eni,
  lbArn: string,
  listenerArn: string,
  tgArn: string,
  hops: Hop[],
): FlowTarget | undefined {
  const tg = state.get("targetGroup", tgArn);
  const resolved: (ResolvedTarget & { healthy: boolean })[] = [];
  for (const t of tg?.targets ?? []) {
    if (!takesNewFlows(t)) continue;
    const where = targetHost(state, tg!, t);
    if ("error" in where) continue;
    resolved.push({
      id: t.id,
      port: t.port,
      host: where.host,
      dialPort: t.port,
      healthy: health.state(tgArn, t) === "healthy",
    });
  }
  if (!tg || resolved.length === 0) {
    hops.push({
      kind: "target-health",
      allowed: false,
      resource: tgArn,
      detail: `target group ${tg?.name ?? tgArn} has no registered target privlink can reach`,
    });
    return undefined;
  }
  const healthy = resolved.filter((t) => t.healthy);
  // An NLB whose targets are all unhealthy fails open: it sends to all of them (AWS ELB guide).
  const chosen = healthy.length > 0 ? healthy : resolved;
  hops.push({
    kind: "target-health",
    allowed: true,
    resource: tgArn,
    detail:
      healthy.length > 0
        ? `${healthy.length} of ${resolved.length} targets of ${tg.name} healthy`
        : `no healthy target in ${tg.name}: failing open to all ${resolved.length}`,
  });
  return {
    kind: "nlb",
    endpointId: endpoint.id,
    eniId: eni.id,
    loadBalancerArn: lbArn,
    listenerArn,
    targetGroupArn: tgArn,
    targets: chosen.map(({ healthy: _h, ...t }) => t),
    proxyProtocolV2: proxyProtocolV2(tg),
  };
}

/**
 * Per-connection admission is a cached lookup (DESIGN.md principle 5): decisions are kept per
 * (source, destination, port) until the state or the target health changes.
 */
export class FlowDecider {
  private cache = new Map<string, Decision>();
  private version = -1;
  private healthVersion = -1;

  constructor(
    private readonly state: State,
    private readonly health: HealthView = ASSUME_HEALTHY,
    private readonly maxEntries = 100_000,
  ) {}

  decide(flow: Flow): Decision {
    if (
      this.version !== this.state.version ||
      this.healthVersion !== this.health.version ||
      this.cache.size >= this.maxEntries
    ) {
      this.cache = new Map();
      this.version = this.state.version;
      this.healthVersion = this.health.version;
    }
    const s = flow.source.kind === "eni" ? flow.source.eniId : flow.source.address;
    const key = `${s}|${flow.destination}|${flow.port}|${flow.name ?? ""}`;
    let d = this.cache.get(key);
    if (!d) {
      d = decide(this.state, flow, this.health);
      this.cache.set(key, d);
    }
    return d;
  }
}
