import { type Ctx, isoNow } from "./context.js";
import { DNS_RECORD_TYPES, type EndpointType, IP_TYPES, TYPES, UNSUPPORTED_TYPES } from "./endpoint.js";
import {
  addGatewayRoutes,
  checkCanEnablePrivateDns,
  checkInboundOnly,
  checkIpTypes,
  checkLatticeDnsOptions,
  checkPolicy,
  checkPrivateDns,
  checkRouteTables,
  checkSubnets,
  countQuota,
  type DnsOptionsInput,
  defaultDnsRecordType,
  defaultPolicy,
  inboundOnlyApplies,
  makeEni,
  NOT_FOR_TYPE,
  oneOf,
  type SubnetConfigurationInput,
  servedNames,
  subnetConfigs,
} from "./endpoint-checks.js";
import { idempotent } from "./endpoint-service.js";
import { resolveService, type ServiceView } from "./endpoint-service-view.js";
import { AwsError, invalidParameter } from "./errors.js";
import { newId } from "./ids.js";
import { emitConnectionEvent } from "./notifications.js";
import { checkGroupsInVpc, defaultGroupOf } from "./security-group.js";
import type { Tx } from "./state.js";
import type { Tags, Vpc, VpcEndpoint } from "./types.js";
import { ensureRegion, getVpc } from "./vpc.js";

// ---------------------------------------------------------------------------------------------
// Create

export interface CreateEndpointInput {
  readonly vpcId?: string;
  readonly type?: string;
  readonly serviceName?: string;
  readonly policyDocument?: string;
  readonly routeTableIds?: readonly string[];
  readonly subnetIds?: readonly string[];
  readonly securityGroupIds?: readonly string[];
  readonly ipAddressType?: string;
  readonly dnsOptions?: DnsOptionsInput;
  readonly privateDnsEnabled?: boolean;
  readonly subnetConfigurations?: readonly SubnetConfigurationInput[];
  readonly serviceNetworkArn?: string;
  readonly resourceConfigurationArn?: string;
  readonly serviceRegion?: string;
  readonly clientToken?: string;
  readonly tags?: Tags;
}

export interface CreateEndpointResult {
  readonly endpoint: VpcEndpoint;
  readonly clientToken?: string;
}

/**
 * CreateVpcEndpoint. With a ClientToken, a retry with the same parameters returns the endpoint
 * the first call made (as it is now); other parameters give IdempotentParameterMismatch. The
 * region is part of the parameters, so a token reused in another region mismatches.
 */
export function createVpcEndpoint(tx: Tx, ctx: Ctx, input: CreateEndpointInput): CreateEndpointResult {
  const type = endpointType(input.type);
  const params = { ...input, clientToken: undefined, region: ctx.region };
  const endpoint = idempotent(
    tx,
    ctx,
    "CreateVpcEndpoint",
    input.clientToken,
    params,
    (id) => tx.get("vpcEndpoint", id),
    () => {
      const created = createNew(tx, ctx, type, input);
      return { result: created, resourceId: created.id };
    },
  );
  return { endpoint, clientToken: input.clientToken };
}

function endpointType(value: string | undefined): EndpointType {
  const type = value ?? "Gateway";
  if (UNSUPPORTED_TYPES.includes(type))
    throw invalidParameter(
      `privlink does not support VpcEndpointType ${type} yet; use Interface, Gateway or GatewayLoadBalancer.`,
    );
  if (!TYPES.includes(type))
    throw new AwsError(
      "InvalidVpcEndpointType",
      `Value (${type}) for parameter VpcEndpointType is invalid. Valid values are: Interface, Gateway, GatewayLoadBalancer, Resource, ServiceNetwork`,
    );
  return type as EndpointType;
}

function createNew(tx: Tx, ctx: Ctx, type: EndpointType, input: CreateEndpointInput): VpcEndpoint {
  ensureRegion(tx, ctx);
  if (input.serviceNetworkArn !== undefined || input.resourceConfigurationArn !== undefined)
    throw invalidParameter(
      "ServiceNetworkArn and ResourceConfigurationArn are only supported for ServiceNetwork and Resource type VPC Endpoints.",
    );
  if (!input.vpcId) throw new AwsError("MissingParameter", "The request must contain the parameter VpcId");
  if (!input.serviceName)
    throw new AwsError("MissingParameter", "The request must contain the parameter ServiceName");
  const vpc = getVpc(tx, ctx, input.vpcId);
  const serviceRegion = input.serviceRegion ?? ctx.region;
  const view = resolveService(tx, ctx, input.serviceName, type, serviceRegion);
  const crossRegion = serviceRegion !== ctx.region;
  if (crossRegion && type !== "Interface")
    throw invalidParameter("Cross-Region VPC endpoints must be of type Interface."); // privlink
  const configs = subnetConfigs(input.subnetConfigurations);
  const subnetIds = [...new Set([...(input.subnetIds ?? []), ...configs.keys()])];
  checkTypeParams(type, input, subnetIds.length);
  countQuota(tx, ctx, vpc, type);
  const subnets = checkSubnets(tx, ctx, vpc, view, subnetIds, [], crossRegion);
  const groups = type === "Interface" ? securityGroups(tx, ctx, vpc, input.securityGroupIds) : [];
  const ipAddressType = oneOf(input.ipAddressType, IP_TYPES, "IpAddressType") ?? "ipv4";
  const dnsRecordIpType =
    oneOf(input.dnsOptions?.dnsRecordIpType, DNS_RECORD_TYPES, "DnsRecordIpType") ??
    defaultDnsRecordType(ipAddressType);
  checkIpTypes(view, ipAddressType, dnsRecordIpType, subnets);
  checkLatticeDnsOptions(input.dnsOptions);
  if (input.policyDocument !== undefined) checkPolicy(input.policyDocument);

  const privateDnsEnabled = input.privateDnsEnabled ?? defaultPrivateDns(view, type);
  if (input.privateDnsEnabled) checkCanEnablePrivateDns(view, type);
  if (privateDnsEnabled) checkPrivateDns(tx, vpc, servedNames(view));
  const inboundOnly =
    privateDnsEnabled && inboundOnlyApplies(view, type)
      ? (input.dnsOptions?.privateDnsOnlyForInboundResolverEndpoint ?? true)
      : input.dnsOptions?.privateDnsOnlyForInboundResolverEndpoint;
  checkInboundOnly(tx, vpc, view, type, inboundOnly, privateDnsEnabled);
  const tables = type === "Gateway" ? checkRouteTables(tx, ctx, vpc, input.routeTableIds ?? []) : [];

  const now = isoNow(ctx);
  const id = newId(ctx.rt, "vpce");
  const customer = view.customer;
  const needsAcceptance = customer?.acceptanceRequired === true && customer.accountId !== ctx.accountId;
  const enis = subnets.map((s) => ({
    subnetId: s.id,
    eniId: makeEni(tx, ctx, { id, type }, s, groups, configs.get(s.id)).id,
  }));
  const endpoint: VpcEndpoint = {
    id,
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    type,
    vpcId: vpc.id,
    serviceName: view.serviceName,
    serviceId: customer?.id,
    serviceRegion,
    state: type === "Gateway" ? "available" : needsAcceptance ? "pendingAcceptance" : "pending",
    policyDocument: input.policyDocument ?? defaultPolicy(type),
    routeTableIds: tables.map((t) => t.id),
    subnetIds: subnets.map((s) => s.id),
    enis,
    securityGroupIds: groups,
    ipAddressType,
    dnsRecordIpType,
    privateDnsOnlyForInboundResolverEndpoint: inboundOnly,
    privateDnsEnabled,
    dnsSuffix: ctx.rt.alnum(8),
    connectionId: newId(ctx.rt, "vpce-con"),
    createdAt: now,
    stateChangedAt: now,
    clientToken: input.clientToken,
  };
  if (type === "Gateway") addGatewayRoutes(tx, endpoint, tables);
  tx.put("vpcEndpoint", endpoint);
  if (customer) emitConnectionEvent(tx, ctx, endpoint, "Connect");
  return endpoint;
}

function checkTypeParams(type: EndpointType, input: CreateEndpointInput, subnets: number): void {
  if (type === "Gateway") {
    if (subnets > 0) throw invalidParameter(NOT_FOR_TYPE.subnets);
    if (input.securityGroupIds?.length) throw invalidParameter(NOT_FOR_TYPE.securityGroups);
    return;
  }
  if (input.routeTableIds?.length) throw invalidParameter(NOT_FOR_TYPE.routeTables);
  if (type === "GatewayLoadBalancer") {
    if (subnets !== 1)
      throw invalidParameter("A GatewayLoadBalancer type VPC Endpoint needs exactly one subnet."); // privlink
    if (input.securityGroupIds?.length) throw invalidParameter(NOT_FOR_TYPE.securityGroups);
    if (input.policyDocument !== undefined)
      throw invalidParameter(
        "Policy documents are not supported for GatewayLoadBalancer type VPC Endpoints.",
      ); // privlink
  }
}

function defaultPrivateDns(view: ServiceView, type: EndpointType): boolean {
  return (
    type === "Interface" &&
    view.aws !== undefined &&
    view.privateDnsNames.length > 0 &&
    !inboundOnlyApplies(view, type)
  );
}

function securityGroups(tx: Tx, ctx: Ctx, vpc: Vpc, ids: readonly string[] | undefined): string[] {
  const groups = ids?.length ? [...new Set(ids)] : [defaultGroupOf(tx, vpc.id).id];
  checkGroupsInVpc(tx, ctx, groups, vpc.id);
  return groups;
}
