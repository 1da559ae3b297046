/** The services a VPC endpoint can reach: AWS's catalog and customer endpoint services, behind one view. */

import { type AwsService, awsServiceByName, awsServices, awsServicesNamed } from "./catalog.js";
import type { Ctx } from "./context.js";
import type { EndpointType } from "./endpoint.js";
import { findServiceByName, serviceAzIds, serviceVisibleTo } from "./endpoint-service.js";
import { AwsError, invalidParameter, invalidParameterValue } from "./errors.js";
import { azById, regionInfo } from "./regions.js";
import type { State, Tx } from "./state.js";
import type { EndpointService, Tags, VpcEndpoint } from "./types.js";

// ---------------------------------------------------------------------------------------------
// Services: the AWS catalog and customer endpoint services behind one view

/** An endpoint service as a consumer sees it, whoever owns it. */
export interface ServiceView {
  readonly serviceName: string;
  readonly serviceId: string;
  readonly types: readonly EndpointType[];
  readonly region: string;
  readonly azIds: readonly string[];
  /** "amazon" for AWS services, else the owner's account ID. */
  readonly owner: string;
  readonly baseEndpointDnsNames: readonly string[];
  /** The names the service declares (customer names whatever their verification state). */
  readonly privateDnsNames: readonly string[];
  readonly privateDnsVerificationState?: "pendingVerification" | "verified" | "failed";
  readonly policySupported: boolean;
  readonly acceptanceRequired: boolean;
  readonly supportedIpAddressTypes: readonly ("ipv4" | "ipv6")[];
  readonly payerResponsibility?: "ServiceOwner";
  readonly tags: Tags;
  readonly aws?: AwsService;
  readonly customer?: EndpointService;
}

function awsView(s: AwsService): ServiceView {
  return {
    serviceName: s.serviceName,
    serviceId: s.serviceId,
    types: [s.type],
    region: s.region,
    azIds: s.azIds,
    owner: "amazon",
    baseEndpointDnsNames: s.baseEndpointDnsNames,
    privateDnsNames: s.privateDnsNames,
    privateDnsVerificationState: s.privateDnsNames.length > 0 ? "verified" : undefined,
    policySupported: s.vpcEndpointPolicySupported,
    acceptanceRequired: false,
    supportedIpAddressTypes: s.supportedIpAddressTypes,
    tags: {},
    aws: s,
  };
}

function customerView(state: State | Tx, svc: EndpointService, viewer: string): ServiceView {
  return {
    serviceName: svc.serviceName,
    serviceId: svc.id,
    types: [svc.serviceType],
    region: svc.region,
    azIds: serviceAzIds(state, svc),
    owner: svc.accountId,
    baseEndpointDnsNames: [`${svc.id}.${svc.region}.vpce.amazonaws.com`],
    privateDnsNames: svc.privateDnsName ? [svc.privateDnsName] : [],
    privateDnsVerificationState: svc.privateDnsName ? svc.privateDnsVerification?.state : undefined,
    policySupported: false,
    acceptanceRequired: svc.acceptanceRequired,
    supportedIpAddressTypes: svc.supportedIpAddressTypes,
    payerResponsibility: svc.payerResponsibility,
    // Tags are the owner's business.
    tags: svc.accountId === viewer ? svc.tags : {},
    customer: svc,
  };
}

export const serviceNotFound = (name: string) =>
  new AwsError("InvalidServiceName", `The Vpc Endpoint Service '${name}' does not exist`);

function canSee(ctx: Ctx, svc: EndpointService): boolean {
  return (
    svc.state === "Available" &&
    serviceVisibleTo(svc, { accountId: ctx.accountId, principalArn: ctx.principalArn, orgId: ctx.orgId })
  );
}

/** Customer services in `region` the caller may see (and, cross-region, reach from its region). */
function customerServicesIn(tx: Tx, ctx: Ctx, region: string): EndpointService[] {
  const out: EndpointService[] = [];
  for (const svc of tx.all("endpointService")) {
    if (svc.region !== region || !canSee(ctx, svc)) continue;
    if (region !== ctx.region && !svc.supportedRegions.includes(ctx.region)) continue;
    out.push(svc);
  }
  return out;
}

/**
 * What DescribeVpcEndpointServices lists: the services of the caller's region, or of the
 * regions asked for (other regions only with the services that accept cross-region consumers).
 */
export function servicesVisibleTo(tx: Tx, ctx: Ctx, regions?: readonly string[]): ServiceView[] {
  const wanted = regions && regions.length > 0 ? [...new Set(regions)] : [ctx.region];
  const out: ServiceView[] = [];
  for (const region of wanted) {
    const local = region === ctx.region;
    const aws = awsServices(region).filter((s) => local || (s.crossRegion && s.type === "Interface"));
    const views = [
      ...aws.map(awsView),
      ...customerServicesIn(tx, ctx, region).map((s) => customerView(tx, s, ctx.accountId)),
    ];
    out.push(
      ...views.sort((a, b) => (a.serviceName < b.serviceName ? -1 : a.serviceName > b.serviceName ? 1 : 0)),
    );
  }
  return out;
}

/** AZ names as the caller's account calls them (AZ names differ per account, IDs do not). */
export function azNamesFor(ctx: Pick<Ctx, "accountId">, region: string, azIds: readonly string[]): string[] {
  return azIds
    .map((id) => azById(ctx.accountId, region, id)?.name)
    .filter((n): n is string => n !== undefined);
}

/** The service an endpoint of `type` would reach, or the error AWS gives. */
export function resolveService(
  tx: Tx,
  ctx: Ctx,
  name: string,
  type: EndpointType,
  serviceRegion: string,
): ServiceView {
  const crossRegion = serviceRegion !== ctx.region;
  if (crossRegion && !regionInfo(serviceRegion))
    throw invalidParameterValue(
      `Value (${serviceRegion}) for parameter ServiceRegion is invalid. It is not a known region.`,
    );
  const customer = findServiceByName(tx, name);
  if (customer && customer.region === serviceRegion && canSee(ctx, customer)) {
    if (crossRegion && !customer.supportedRegions.includes(ctx.region)) throw serviceNotFound(name);
    const view = customerView(tx, customer, ctx.accountId);
    checkType(view.types, type);
    return view;
  }
  // Global names (com.amazonaws.iam) are in every region's list; regional names carry theirs.
  const named = awsServicesNamed(serviceRegion, name);
  if (named.length === 0) throw serviceNotFound(name);
  checkType(
    named.map((s) => s.type),
    type,
  );
  const match = named.find((s) => s.type === type)!;
  if (crossRegion && !match.crossRegion)
    throw invalidParameter(`The Vpc Endpoint Service '${name}' does not support cross-Region access.`); // privlink
  return awsView(match);
}

function checkType(types: readonly string[], type: EndpointType): void {
  if (!types.includes(type))
    throw invalidParameter(
      `Endpoint type (${type}) does not match available service types ([${types.join(", ")}]).`,
    );
}

/** Re-reads an endpoint's service (for checks on Modify). */
export function serviceOf(tx: Tx, ctx: Ctx, e: VpcEndpoint): ServiceView | undefined {
  if (e.serviceId) {
    const svc = tx.get("endpointService", e.serviceId);
    return svc ? customerView(tx, svc, ctx.accountId) : undefined;
  }
  const s = awsServiceByName(e.serviceName, {
    type: e.type === "Gateway" ? "Gateway" : "Interface",
    region: e.serviceRegion,
  });
  return s ? awsView(s) : undefined;
}
