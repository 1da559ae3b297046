/** ModifyVpcEndpoint and the payer responsibility of an endpoint's charges. */

import type { Ctx } from "./context.js";
import { DNS_RECORD_TYPES, getVpcEndpoint, IP_TYPES, isGone } from "./endpoint.js";
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
import { type ServiceView, serviceNotFound, serviceOf } from "./endpoint-service-view.js";
import { deleteEniRecord } from "./eni.js";
import { AwsError, invalidParameter } from "./errors.js";
import { removeRoutesTo } from "./route-table.js";
import { checkGroupsInVpc } from "./security-group.js";
import type { State, Tx } from "./state.js";
import { getSubnet } from "./subnet.js";
import type { Subnet, Vpc, VpcEndpoint } from "./types.js";
import { getVpc } from "./vpc.js";

// ---------------------------------------------------------------------------------------------
// Modify

export interface ModifyEndpointInput {
  readonly resetPolicy?: boolean;
  readonly policyDocument?: string;
  readonly addRouteTableIds?: readonly string[];
  readonly removeRouteTableIds?: readonly string[];
  readonly addSubnetIds?: readonly string[];
  readonly removeSubnetIds?: readonly string[];
  readonly addSecurityGroupIds?: readonly string[];
  readonly removeSecurityGroupIds?: readonly string[];
  readonly ipAddressType?: string;
  readonly dnsOptions?: DnsOptionsInput;
  readonly privateDnsEnabled?: boolean;
  readonly subnetConfigurations?: readonly SubnetConfigurationInput[];
}

export function modifyVpcEndpoint(
  tx: Tx,
  ctx: Ctx,
  id: string | undefined,
  input: ModifyEndpointInput,
): VpcEndpoint {
  const e = getVpcEndpoint(tx, ctx, id);
  if (isGone(e) || e.state === "failed")
    throw new AwsError(
      "IncorrectState",
      `The VPC endpoint ${e.id} is in the state ${e.state} and cannot be modified.`,
    ); // privlink
  const view = serviceOf(tx, ctx, e);
  if (!view) throw serviceNotFound(e.serviceName);
  const vpc = getVpc(tx, ctx, e.vpcId);
  let next: VpcEndpoint = { ...e, policyDocument: modifiedPolicy(e, input) };
  next = modifyRouteTables(tx, ctx, vpc, next, input);
  next = modifySecurityGroups(tx, ctx, vpc, next, input);
  next = modifySubnets(tx, ctx, vpc, view, next, input);
  next = modifyDns(tx, vpc, view, next, input);
  return tx.put("vpcEndpoint", next);
}

function modifiedPolicy(e: VpcEndpoint, input: ModifyEndpointInput): string | undefined {
  if (!input.resetPolicy && input.policyDocument === undefined) return e.policyDocument;
  if (e.type === "GatewayLoadBalancer")
    throw invalidParameter("Policy documents are not supported for GatewayLoadBalancer type VPC Endpoints."); // privlink
  if (input.resetPolicy && input.policyDocument !== undefined)
    throw new AwsError(
      "InvalidParameterCombination",
      "ResetPolicy and PolicyDocument cannot be given together.",
    ); // privlink
  if (input.resetPolicy) return defaultPolicy(e.type);
  checkPolicy(input.policyDocument!);
  return input.policyDocument;
}

/** Removing something the endpoint does not have is an error, not a no-op. */
function checkRemovable(
  e: VpcEndpoint,
  noun: string,
  current: readonly string[],
  remove: readonly string[],
): void {
  for (const id of remove)
    if (!current.includes(id))
      throw invalidParameter(`The ${noun} ${id} is not associated with the VPC endpoint ${e.id}.`); // privlink
}

function modifyRouteTables(
  tx: Tx,
  ctx: Ctx,
  vpc: Vpc,
  e: VpcEndpoint,
  input: ModifyEndpointInput,
): VpcEndpoint {
  const add = input.addRouteTableIds ?? [];
  const remove = input.removeRouteTableIds ?? [];
  if (add.length === 0 && remove.length === 0) return e;
  if (e.type !== "Gateway") throw invalidParameter(NOT_FOR_TYPE.routeTables);
  checkRemovable(e, "route table", e.routeTableIds, remove);
  if (remove.length > 0) removeRoutesTo(tx, e.id, remove);
  const kept = e.routeTableIds.filter((r) => !remove.includes(r));
  const added = checkRouteTables(tx, ctx, vpc, add).filter((t) => !kept.includes(t.id));
  addGatewayRoutes(tx, e, added);
  return { ...e, routeTableIds: [...kept, ...added.map((t) => t.id)] };
}

function modifySecurityGroups(
  tx: Tx,
  ctx: Ctx,
  vpc: Vpc,
  e: VpcEndpoint,
  input: ModifyEndpointInput,
): VpcEndpoint {
  const add = input.addSecurityGroupIds ?? [];
  const remove = input.removeSecurityGroupIds ?? [];
  if (add.length === 0 && remove.length === 0) return e;
  if (e.type !== "Interface") throw invalidParameter(NOT_FOR_TYPE.securityGroups);
  checkRemovable(e, "security group", e.securityGroupIds, remove);
  checkGroupsInVpc(tx, ctx, add, vpc.id);
  const groups = [...new Set([...e.securityGroupIds.filter((g) => !remove.includes(g)), ...add])];
  if (groups.length === 0)
    throw invalidParameter(`The VPC endpoint ${e.id} must keep at least one security group.`); // privlink
  for (const { eniId } of e.enis) {
    const eni = tx.get("eni", eniId);
    if (eni) tx.put("eni", { ...eni, securityGroupIds: groups });
  }
  return { ...e, securityGroupIds: groups };
}

/**
 * Add/RemoveSubnetId and SubnetConfiguration: an added subnet gets a new ENI; a configuration
 * naming an address for a subnet the endpoint already uses replaces that subnet's ENI.
 */
function modifySubnets(
  tx: Tx,
  ctx: Ctx,
  vpc: Vpc,
  view: ServiceView,
  e: VpcEndpoint,
  input: ModifyEndpointInput,
): VpcEndpoint {
  const configs = subnetConfigs(input.subnetConfigurations);
  const remove = input.removeSubnetIds ?? [];
  const requested = [...new Set([...(input.addSubnetIds ?? []), ...configs.keys()])];
  if (requested.length === 0 && remove.length === 0) return e;
  if (e.type === "Gateway") throw invalidParameter(NOT_FOR_TYPE.subnets);
  checkRemovable(e, "subnet", e.subnetIds, remove);
  const replaced = requested.filter(
    (s) =>
      e.subnetIds.includes(s) &&
      !remove.includes(s) &&
      configs.get(s) !== undefined &&
      eniIpOf(tx, e, s) !== configs.get(s),
  );
  const added = requested.filter((s) => !e.subnetIds.includes(s) || remove.includes(s));
  const dropped = new Set([...remove, ...replaced]);
  for (const { subnetId, eniId } of e.enis) if (dropped.has(subnetId)) deleteEniRecord(tx, eniId);
  let enis = e.enis.filter((x) => !dropped.has(x.subnetId));
  const replacedSubnets = replaced.map((id) => getSubnet(tx, ctx, id));
  const occupied = [
    ...enis.map((x) => tx.get("subnet", x.subnetId)).filter((s): s is Subnet => s !== undefined),
    ...replacedSubnets,
  ];
  if (e.type === "GatewayLoadBalancer" && occupied.length + added.length !== 1)
    throw invalidParameter("A GatewayLoadBalancer type VPC Endpoint needs exactly one subnet."); // privlink
  const newSubnets = checkSubnets(tx, ctx, vpc, view, added, occupied, e.serviceRegion !== e.region);
  checkIpTypes(view, e.ipAddressType, e.dnsRecordIpType, newSubnets);
  for (const s of [...replacedSubnets, ...newSubnets])
    enis = [
      ...enis,
      { subnetId: s.id, eniId: makeEni(tx, ctx, e, s, e.securityGroupIds, configs.get(s.id)).id },
    ];
  const order = [...e.subnetIds.filter((s) => !remove.includes(s)), ...newSubnets.map((s) => s.id)];
  enis.sort((a, b) => order.indexOf(a.subnetId) - order.indexOf(b.subnetId));
  return { ...e, subnetIds: order, enis };
}

function eniIpOf(tx: Tx, e: VpcEndpoint, subnetId: string): string | undefined {
  const ref = e.enis.find((x) => x.subnetId === subnetId);
  return ref ? tx.get("eni", ref.eniId)?.privateIp : undefined;
}

function modifyDns(
  tx: Tx,
  vpc: Vpc,
  view: ServiceView,
  e: VpcEndpoint,
  input: ModifyEndpointInput,
): VpcEndpoint {
  checkLatticeDnsOptions(input.dnsOptions);
  const ipAddressType = oneOf(input.ipAddressType, IP_TYPES, "IpAddressType") ?? e.ipAddressType;
  const askedDns = oneOf(input.dnsOptions?.dnsRecordIpType, DNS_RECORD_TYPES, "DnsRecordIpType");
  const dnsRecordIpType =
    askedDns ?? (input.ipAddressType !== undefined ? defaultDnsRecordType(ipAddressType) : e.dnsRecordIpType);
  if (input.ipAddressType !== undefined || askedDns !== undefined) {
    const subnets = e.subnetIds.map((s) => tx.get("subnet", s)).filter((s): s is Subnet => s !== undefined);
    checkIpTypes(view, ipAddressType, dnsRecordIpType, subnets);
  }
  const privateDnsEnabled = input.privateDnsEnabled ?? e.privateDnsEnabled;
  if (input.privateDnsEnabled === true) {
    checkCanEnablePrivateDns(view, e.type);
    if (!e.privateDnsEnabled) checkPrivateDns(tx, vpc, servedNames(view), e.id);
  }
  const askedInbound = input.dnsOptions?.privateDnsOnlyForInboundResolverEndpoint;
  let inboundOnly = askedInbound ?? e.privateDnsOnlyForInboundResolverEndpoint;
  const enabling = privateDnsEnabled && !e.privateDnsEnabled;
  if (askedInbound === undefined && inboundOnlyApplies(view, e.type)) {
    // Turning private DNS on defaults to inbound-only, as at creation; turning it off ends it.
    if (enabling) inboundOnly = true;
    else if (!privateDnsEnabled && inboundOnly) inboundOnly = false;
  }
  if (askedInbound !== undefined || enabling)
    checkInboundOnly(tx, vpc, view, e.type, inboundOnly, privateDnsEnabled);
  return {
    ...e,
    ipAddressType,
    dnsRecordIpType,
    privateDnsEnabled,
    privateDnsOnlyForInboundResolverEndpoint: inboundOnly,
  };
}

// ---------------------------------------------------------------------------------------------
// Payer responsibility

const PAYER_SCOPES = ["vpc-endpoint-charges", "resource-gateway-charges"] as const;
const PAYER_TYPES = [
  "vpc-endpoint-account",
  "vpc-endpoint-service-account",
  "resource-gateway-account",
] as const;

/** The effective payer settings of an endpoint: explicit ones, else the service's. */
export function payerResponsibilitiesOf(
  state: State | Tx,
  e: VpcEndpoint,
): { scope: string; type: string }[] | undefined {
  if (e.payerResponsibilities?.length) return [...e.payerResponsibilities];
  const svc = e.serviceId ? state.get("endpointService", e.serviceId) : undefined;
  return svc?.payerResponsibility === "ServiceOwner"
    ? [{ scope: "vpc-endpoint-charges", type: "vpc-endpoint-service-account" }]
    : undefined;
}

export function modifyPayerResponsibility(
  tx: Tx,
  ctx: Ctx,
  id: string | undefined,
  input: { payer?: string; scope?: string; serviceId?: string },
): VpcEndpoint {
  const e = getVpcEndpoint(tx, ctx, id);
  if (!input.payer)
    throw new AwsError("MissingParameter", "The request must contain the parameter PayerResponsibility");
  if (!input.scope) throw new AwsError("MissingParameter", "The request must contain the parameter Scope");
  const scope = oneOf(input.scope, PAYER_SCOPES, "Scope")!;
  const payer = oneOf(input.payer, PAYER_TYPES, "PayerResponsibility")!;
  if (isGone(e))
    throw new AwsError(
      "IncorrectState",
      `The VPC endpoint ${e.id} is in the state ${e.state} and cannot be modified.`,
    ); // privlink
  if (input.serviceId !== undefined && input.serviceId !== e.serviceId)
    throw invalidParameter(`The VPC endpoint ${e.id} is not connected to the service ${input.serviceId}.`); // privlink
  // Only Resource endpoints have resource-gateway charges, and privlink has none of those yet.
  if (scope === "resource-gateway-charges" || payer === "resource-gateway-account")
    throw invalidParameter("Resource gateway charges apply only to Resource type VPC Endpoints."); // privlink
  if (payer === "vpc-endpoint-service-account" && !e.serviceId)
    throw invalidParameter(
      `The endpoint service of ${e.id} is owned by AWS and cannot pay for the endpoint.`,
    ); // privlink
  const rest = (e.payerResponsibilities ?? []).filter((p) => p.scope !== scope);
  return tx.put("vpcEndpoint", { ...e, payerResponsibilities: [...rest, { scope, type: payer }] });
}
