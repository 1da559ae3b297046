/** The checks CreateVpcEndpoint and ModifyVpcEndpoint share: private DNS, policy, addressing, subnets, route tables, quotas. */

import { parsePolicy } from "../iam/index.js";
import type { Ctx } from "./context.js";
import {
  DEFAULT_GATEWAY_POLICY,
  DEFAULT_INTERFACE_POLICY,
  DNS_RECORD_NEEDS,
  ENDPOINT_ENI_REQUESTER_ID,
  ENDPOINT_QUOTAS,
  type EndpointType,
  isGone,
} from "./endpoint.js";
import { type DomainClaim, domainOf, endpointDomainClaims } from "./endpoint-dns.js";
import type { ServiceView } from "./endpoint-service-view.js";
import { createEni } from "./eni.js";
import { AwsError, invalidParameter, invalidParameterValue } from "./errors.js";
import { prefixListForService } from "./prefix-list.js";
import { getRouteTable } from "./route-table.js";
import type { Tx } from "./state.js";
import { getSubnet } from "./subnet.js";
import type { RouteTable, Subnet, Vpc, VpcEndpoint } from "./types.js";

// ---------------------------------------------------------------------------------------------
// Private DNS: one private domain per VPC

type ClaimSource = (tx: Tx, vpcId: string) => Iterable<DomainClaim>;
const claimSources: ClaimSource[] = [];

/**
 * Other owners of private domains in a VPC (private hosted zones associated with it) register
 * here, so that private DNS on an endpoint conflicts with them as on AWS (spec §4.2).
 */
export function registerPrivateDomainClaims(fn: ClaimSource): void {
  claimSources.push(fn);
}

registerPrivateDomainClaims(endpointDomainClaims);

export function checkPrivateDns(tx: Tx, vpc: Vpc, names: readonly string[], self?: string): void {
  if (!vpc.dnsSupport || !vpc.dnsHostnames)
    throw invalidParameter(
      `Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC attributes set to true for ${vpc.id}`,
    );
  const wanted = new Set(names.map(domainOf));
  for (const source of claimSources)
    for (const c of source(tx, vpc.id))
      if (c.by !== self && wanted.has(c.domain))
        throw invalidParameter(
          `private-dns-enabled cannot be set because there is already a conflicting DNS domain for ${c.domain} in the VPC ${vpc.id}`,
        );
}

/** The names the endpoint would serve privately: AWS names, or a customer's verified name. */
export function servedNames(view: ServiceView): string[] {
  if (view.aws) return [...view.privateDnsNames];
  return view.privateDnsVerificationState === "verified" ? [...view.privateDnsNames] : [];
}

export function checkCanEnablePrivateDns(view: ServiceView, type: EndpointType): void {
  if (type !== "Interface")
    throw invalidParameter("Private DNS can only be enabled for Interface type VPC Endpoints."); // privlink
  if (view.privateDnsNames.length === 0)
    throw invalidParameter(
      `Private DNS can't be enabled because the service ${view.serviceName} does not provide a private DNS name.`,
    );
  if (servedNames(view).length === 0)
    throw invalidParameter(
      `Private DNS can't be enabled because the private DNS name of the service ${view.serviceName} is not verified.`,
    ); // privlink
}

/** s3 and dynamodb interface endpoints may keep VPC queries on the gateway path (spec §4.2). */
export function inboundOnlyApplies(view: ServiceView, type: EndpointType): boolean {
  return type === "Interface" && view.aws !== undefined && ["s3", "dynamodb"].includes(view.aws.shortName);
}

export function checkInboundOnly(
  tx: Tx,
  vpc: Vpc,
  view: ServiceView,
  type: EndpointType,
  inboundOnly: boolean | undefined,
  privateDns: boolean,
): void {
  if (inboundOnly === undefined) return;
  if (!inboundOnlyApplies(view, type)) {
    if (inboundOnly)
      throw invalidParameter(
        "PrivateDnsOnlyForInboundResolverEndpoint is supported only for Amazon S3 and Amazon DynamoDB Interface VPC Endpoints.",
      ); // privlink
    return;
  }
  if (inboundOnly && !privateDns)
    throw invalidParameter(
      "PrivateDnsOnlyForInboundResolverEndpoint can be set to true only when private DNS is enabled.",
    ); // privlink
  if (!inboundOnly) return;
  const hasGateway = [...tx.where("vpcEndpoint", "vpcId", vpc.id)].some(
    (e) => e.type === "Gateway" && e.serviceName === view.serviceName && !isGone(e),
  );
  if (!hasGateway)
    throw invalidParameter(
      `To set PrivateDnsOnlyForInboundResolverEndpoint to true, the VPC ${vpc.id} must have a Gateway endpoint for the service.`,
    );
}

// ---------------------------------------------------------------------------------------------
// Validation helpers shared by Create and Modify

export function checkPolicy(text: string): void {
  parsePolicy(text, { kind: "endpoint" });
}

export function defaultPolicy(type: EndpointType): string | undefined {
  if (type === "GatewayLoadBalancer") return undefined;
  return type === "Gateway" ? DEFAULT_GATEWAY_POLICY : DEFAULT_INTERFACE_POLICY;
}

export function oneOf<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  wire: string,
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw invalidParameterValue(
      `Value (${value}) for parameter ${wire} is invalid. Valid values are: ${allowed.join(", ")}`,
    );
  return value as T;
}

export function checkIpTypes(
  view: ServiceView,
  ipType: VpcEndpoint["ipAddressType"],
  dnsType: VpcEndpoint["dnsRecordIpType"],
  subnets: readonly Subnet[],
): void {
  if (ipType !== "ipv4") {
    if (!view.supportedIpAddressTypes.includes("ipv6"))
      throw invalidParameter(
        `The VPC endpoint service ${view.serviceName} does not support the IP address type ${ipType}.`,
      ); // privlink
    // privlink subnets are IPv4-only, so no subnet can hold an IPv6 endpoint address yet.
    const s = subnets[0];
    if (s)
      throw invalidParameter(
        `Subnet ${s.id} does not have an IPv6 CIDR block, which IpAddressType ${ipType} requires.`,
      ); // privlink
  }
  if (!DNS_RECORD_NEEDS[dnsType].includes(ipType))
    throw invalidParameter(`DnsRecordIpType ${dnsType} is not supported for IpAddressType ${ipType}.`); // privlink
}

export function defaultDnsRecordType(ipType: VpcEndpoint["ipAddressType"]): VpcEndpoint["dnsRecordIpType"] {
  return ipType;
}

/**
 * Subnets for an endpoint's ENIs: in the VPC, one per AZ (counting the subnets it already
 * has), in an AZ the service offers (matched on AZ IDs, which are the same in every account).
 */
export function checkSubnets(
  tx: Tx,
  ctx: Ctx,
  vpc: Vpc,
  view: ServiceView,
  ids: readonly string[],
  existing: readonly Subnet[],
  crossRegion: boolean,
): Subnet[] {
  const taken = new Map(existing.map((s) => [s.azId, s]));
  const out: Subnet[] = [];
  for (const id of ids) {
    const s = getSubnet(tx, ctx, id);
    if (s.vpcId !== vpc.id)
      throw invalidParameter(`The subnet ID '${s.id}' does not belong to the VPC ${vpc.id}.`); // privlink
    if (!crossRegion && !view.azIds.includes(s.azId))
      throw invalidParameter(
        `The VPC endpoint service ${view.serviceName} does not support the availability zone of the subnet: ${s.id}.`,
      );
    if (taken.has(s.azId))
      throw new AwsError(
        "DuplicateSubnetsInSameZone",
        `Found another VPC endpoint subnet in the availability zone of ${s.id}. VPC endpoint subnets should be in different availability zones supported by the VPC endpoint service.`,
      );
    taken.set(s.azId, s);
    out.push(s);
  }
  return out;
}

export function checkRouteTables(tx: Tx, ctx: Ctx, vpc: Vpc, ids: readonly string[]): RouteTable[] {
  return [...new Set(ids)].map((id) => {
    const r = getRouteTable(tx, ctx, id);
    if (r.vpcId !== vpc.id)
      throw invalidParameter(`The route table ${r.id} does not belong to the VPC ${vpc.id}.`); // privlink
    return r;
  });
}

export function addGatewayRoutes(
  tx: Tx,
  e: Pick<VpcEndpoint, "id" | "region" | "serviceName">,
  tables: readonly RouteTable[],
): void {
  const pl = prefixListForService(e.region, e.serviceName);
  if (!pl) throw new AwsError("InternalError", `No prefix list for ${e.serviceName}`, 500);
  for (const t of tables) {
    const r = tx.get("routeTable", t.id)!;
    if (r.routes.some((x) => x.destinationPrefixListId === pl.id))
      throw new AwsError(
        "RouteAlreadyExists",
        `route table ${r.id} already has a route with destination-prefix-list-id ${pl.id}`,
      );
    tx.put("routeTable", {
      ...r,
      routes: [
        ...r.routes,
        {
          destinationPrefixListId: pl.id,
          target: { kind: "gateway", id: e.id },
          origin: "CreateRoute",
          state: "active",
        },
      ],
    });
  }
}

export function makeEni(
  tx: Tx,
  ctx: Ctx,
  e: Pick<VpcEndpoint, "id" | "type">,
  subnet: Subnet,
  groups: readonly string[],
  ip?: string,
) {
  return createEni(tx, ctx, {
    subnet,
    securityGroupIds: groups,
    privateIp: ip,
    description: `VPC Endpoint Interface ${e.id}`,
    interfaceType: e.type === "GatewayLoadBalancer" ? "gateway_load_balancer_endpoint" : "vpc_endpoint",
    requesterId: ENDPOINT_ENI_REQUESTER_ID,
  });
}

export function countQuota(tx: Tx, ctx: Ctx, vpc: Vpc, type: EndpointType): void {
  let n = 0;
  if (type === "Gateway") {
    for (const e of tx.all("vpcEndpoint"))
      if (e.type === "Gateway" && e.accountId === ctx.accountId && e.region === ctx.region && !isGone(e)) n++;
    if (n >= ENDPOINT_QUOTAS.gatewayPerRegion)
      throw new AwsError(
        "VpcEndpointLimitExceeded",
        `The maximum number of VPC endpoints has been reached: ${ENDPOINT_QUOTAS.gatewayPerRegion} Gateway endpoints per Region.`,
      );
    return;
  }
  for (const e of tx.where("vpcEndpoint", "vpcId", vpc.id)) if (e.type !== "Gateway" && !isGone(e)) n++;
  if (n >= ENDPOINT_QUOTAS.interfacePerVpc)
    throw new AwsError(
      "VpcEndpointLimitExceeded",
      `The maximum number of VPC endpoints has been reached: ${ENDPOINT_QUOTAS.interfacePerVpc} Interface and GatewayLoadBalancer endpoints per VPC.`,
    );
}

export interface SubnetConfigurationInput {
  readonly subnetId?: string;
  readonly ipv4?: string;
  readonly ipv6?: string;
}

export interface DnsOptionsInput {
  readonly dnsRecordIpType?: string;
  readonly privateDnsOnlyForInboundResolverEndpoint?: boolean;
  readonly privateDnsPreference?: string;
  readonly privateDnsSpecifiedDomains?: readonly string[];
}

/** Create and Modify refuse a parameter the endpoint type does not take in the same words. */
export const NOT_FOR_TYPE = {
  subnets: "Subnet IDs are only supported for Interface and GatewayLoadBalancer type VPC Endpoints.",
  securityGroups: "Security group IDs are only supported for Interface type VPC Endpoints.", // privlink
  routeTables: "Route table IDs are only supported for Gateway type VPC Endpoint.",
};

export function checkLatticeDnsOptions(dns: DnsOptionsInput | undefined): void {
  if (dns?.privateDnsPreference !== undefined || dns?.privateDnsSpecifiedDomains?.length)
    throw invalidParameter(
      "PrivateDnsPreference and PrivateDnsSpecifiedDomains are supported only for Resource and ServiceNetwork type VPC Endpoints.",
    ); // privlink
}

export function subnetConfigs(
  configs: readonly SubnetConfigurationInput[] | undefined,
): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const c of configs ?? []) {
    if (!c.subnetId)
      throw new AwsError(
        "MissingParameter",
        "The request must contain the parameter SubnetConfiguration.SubnetId",
      );
    if (c.ipv6 !== undefined)
      throw invalidParameter(`Subnet ${c.subnetId} does not have an IPv6 CIDR block.`); // privlink
    out.set(c.subnetId, c.ipv4);
  }
  return out;
}
