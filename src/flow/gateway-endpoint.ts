/**
 * Gateway endpoints (S3, DynamoDB) as a hop of the one decision. On AWS the public names of S3
 * and DynamoDB resolve into the region's AWS-managed prefix list, so a subnet whose route table
 * has the gateway endpoint's prefix-list route sends them to the endpoint, and security groups
 * and network ACLs see an address of that list. privlink's DNS answers every public AWS name
 * with its own edge (AWS_PUBLIC_ADDRESS); the decision therefore reads such a flow at an address
 * of the prefix list ({@link publicServiceAddress}) and routes it as AWS would.
 */
import { AWS_PUBLIC_ADDRESS } from "../cloud/addressing.js";
import { awsPrefixLists } from "../cloud/catalog.js";
import { formatIp, parseCidr } from "../cloud/cidr.js";
import type { State } from "../cloud/state.js";
import type { Route, RouteTable } from "../cloud/types.js";
import { passed, refused } from "./cross-vpc.js";
import type { FlowTarget, Hop } from "./types.js";

/** `s3.us-east-1…`, `bucket.s3.dualstack.eu-west-1…`, `s3-us-west-2…`, `dynamodb.us-east-1…`. */
const REGIONAL = /(?:^|\.)(s3|dynamodb)(?:[.-]dualstack)?[.-]([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com$/;
/** us-east-1's legacy global S3 names, which clients still use. */
const GLOBAL_S3 = /(?:^|\.)s3(?:-external-1)?\.amazonaws\.com$/;

/** An AWS service with a gateway endpoint, as a public name of it says. */
export interface GatewayServiceName {
  readonly service: "s3" | "dynamodb";
  readonly region: string;
  /** `com.amazonaws.REGION.SERVICE`: the gateway (and interface) service's name. */
  readonly serviceName: string;
}

/**
 * The one place that knows which public names belong to a gateway service (S3 and DynamoDB,
 * their bucket virtual-host, dual-stack, legacy dash-region and global forms): the VPC resolver
 * answers them (dns/records.ts), the decision routes them by prefix list (below), and the
 * service front serves them (front/front.ts). `.vpce.amazonaws.com` names are endpoint names,
 * never these.
 */
export function gatewayServiceOfName(name: string): GatewayServiceName | undefined {
  const host = name.toLowerCase().replace(/\.$/, "");
  if (host.endsWith(".vpce.amazonaws.com")) return undefined;
  const m = REGIONAL.exec(host);
  const [service, region] = m
    ? [m[1] as "s3" | "dynamodb", m[2]!]
    : GLOBAL_S3.test(host)
      ? (["s3", "us-east-1"] as const)
      : [];
  if (!service || !region) return undefined;
  return { service, region, serviceName: `com.amazonaws.${region}.${service}` };
}

/**
 * The address AWS would have answered for `name` when privlink's DNS gave its edge: the first
 * host of the service's prefix list in the name's region. Undefined for every other flow.
 */
export function publicServiceAddress(name: string | undefined, destination: string): string | undefined {
  if (!name || destination !== AWS_PUBLIC_ADDRESS) return undefined;
  const gw = gatewayServiceOfName(name);
  if (!gw) return undefined;
  const list = awsPrefixLists(gw.region).find((p) => p.name === gw.serviceName);
  const first = list && parseCidr(list.cidrs[0] ?? "");
  return first ? formatIp(first.base + 1) : undefined;
}

/** Whether the route that matched sends the flow to a gateway endpoint (`pl-…` via `vpce-…`). */
export function isGatewayEndpointRoute(route: Route | undefined): route is Route {
  return route?.target.kind === "gateway" && route.target.id.startsWith("vpce-");
}

/**
 * A flow that starts in the endpoint's VPC and matches its prefix-list route: the endpoint
 * carries it when it is available (the endpoint policy is the service front's, per request).
 */
export function gatewayEndpointHops(state: State, route: Route, table: RouteTable, label: string): Hop[] {
  const id = route.target.kind === "gateway" ? route.target.id : "";
  const dest = route.destinationPrefixListId ?? route.destinationCidr;
  const hops: Hop[] = [passed("route", table.id, `${table.id}: ${dest} via ${id}`)];
  const ep = state.get("vpcEndpoint", id);
  if (ep?.type !== "Gateway" || ep.state !== "available" || route.state === "blackhole") {
    hops.push(
      refused(
        "gateway-endpoint",
        id,
        `no route to ${label}: gateway endpoint ${id} is ${ep?.state ?? "gone"} (the route ${dest} via ${id} is a blackhole)`,
      ),
    );
    return hops;
  }
  hops.push(
    passed(
      "gateway-endpoint",
      id,
      `gateway endpoint ${id} (${ep.serviceName}) carries it from ${table.vpcId} to the service, without the internet`,
    ),
  );
  return hops;
}

/** The target of a flow the gateway endpoint admitted: privlink's own service, no endpoint ENI. */
export function gatewayEndpointTarget(state: State, hops: readonly Hop[]): FlowTarget | undefined {
  const hop = hops.find((h) => h.kind === "gateway-endpoint" && h.allowed);
  const ep = hop?.resource ? state.get("vpcEndpoint", hop.resource) : undefined;
  if (!ep) return undefined;
  return {
    kind: "gateway-endpoint",
    endpointId: ep.id,
    vpcId: ep.vpcId,
    serviceName: ep.serviceName,
    host: AWS_PUBLIC_ADDRESS,
  };
}
