/**
 * The whole life of a VPC endpoint (spec §2.1, §3.2, §4, §10): which service it reaches, the
 * ENIs it owns, the routes it adds, its DNS and policy, the quotas it counts against, and every
 * state it passes through.
 *
 *   CreateVpcEndpoint ─► pendingAcceptance ─Accept─► pending ─(data plane serves)─► available
 *          │                    └──────Reject──────► rejected ◄───────Reject──────────┘
 *          └─(AWS service, owner, or no acceptance)─► pending        Gateway ─► available
 *   DeleteVpcEndpoints (any state) ─► deleting ─(next reconcile)─► deleted ─(10 min)─► purged
 *   a customer service that disappears under a pending endpoint ─► failed (lastError)
 *
 * ENIs, their addresses and gateway routes are made in the creating transaction and released
 * by DeleteVpcEndpoints itself, so a failed request leaves nothing behind and a deleted
 * endpoint's subnet can be deleted at once. Rejected endpoints keep their ENIs (the consumer
 * still has to delete them); the data plane serves only `available` endpoints.
 *
 * privlink choices where AWS is silent or unknown (documented, tested):
 * - PrivateDnsEnabled defaults to true for AWS Interface services that have a private DNS name,
 *   except s3 and dynamodb (whose private DNS needs a gateway endpoint, spec §4.2, and which the
 *   AWS CLI example shows created with it off); false for every other service and type.
 * - An Interface endpoint may be created without subnets (it then has no ENIs and only its
 *   regional DNS name), as the API allows.
 * - Endpoints to customer services store a policy like any other but nothing enforces it
 *   (spec §5.1: NLB services ignore endpoint policies).
 * - `deleted` endpoints stay visible for DELETED_RETENTION_MS (10 minutes) of the injected
 *   clock, then are purged by the lifecycle step.
 * - Texts marked "privlink" below are privlink's own where no AWS text is known.
 */

import { parsePolicy } from "../iam/index.js";
import { type AwsService, awsServiceByName, awsServices } from "./catalog.js";
import { type Ctx, isoNow } from "./context.js";
import { type DomainClaim, domainOf, endpointDomainClaims } from "./endpoint-dns.js";
import {
  findServiceByName,
  getServiceForOwner,
  idempotent,
  serviceAzIds,
  serviceVisibleTo,
} from "./endpoint-service.js";
import { createEni, deleteEniRecord } from "./eni.js";
import { AwsError, invalidParameter, invalidParameterValue } from "./errors.js";
import { isIdOf, newId } from "./ids.js";
import { registerLifecycleStep, Watched } from "./lifecycle.js";
import { emitConnectionEvent } from "./notifications.js";
import { prefixListForService } from "./prefix-list.js";
import { azById, regionInfo } from "./regions.js";
import { getRouteTable, registerRouteTargets, removeRoutesTo } from "./route-table.js";
import type { Runtime } from "./runtime.js";
import { checkGroupsInVpc, defaultGroupOf } from "./security-group.js";
import type { State, Tx } from "./state.js";
import { getSubnet } from "./subnet.js";
import { registerTaggable } from "./tags.js";
import type { EndpointService, EndpointState, RouteTable, Subnet, Tags, Vpc, VpcEndpoint } from "./types.js";
import { ensureRegion, getVpc, registerVpcDependents } from "./vpc.js";

registerTaggable("vpce", "vpcEndpoint", "vpc-endpoint");

// ---------------------------------------------------------------------------------------------
// Constants

export const ENDPOINT_QUOTAS = Object.freeze({
  /** Interface and GatewayLoadBalancer endpoints per VPC, combined (spec §7). */
  interfacePerVpc: 50,
  /** Gateway endpoints per region and account (spec §7). */
  gatewayPerRegion: 20,
});

export const DELETED_RETENTION_MS = 10 * 60 * 1000;

/** The AWS account that appears as RequesterId on endpoint ENIs (spec §3.1). */
export const ENDPOINT_ENI_REQUESTER_ID = "727180483921";

/** What AWS returns for an interface endpoint created without a policy (spec §5.1), verbatim. */
export const DEFAULT_INTERFACE_POLICY =
  '{\n  "Statement": [\n    {\n      "Action": "*", \n      "Effect": "Allow", \n      "Principal": "*", \n      "Resource": "*"\n    }\n  ]\n}';

/** The gateway endpoint default, exactly as AWS returns it (no `Sid`, unlike older doc examples). */
export const DEFAULT_GATEWAY_POLICY =
  '{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}';

export type EndpointType = VpcEndpoint["type"];
const TYPES: readonly string[] = ["Interface", "Gateway", "GatewayLoadBalancer"];
const UNSUPPORTED_TYPES: readonly string[] = ["Resource", "ServiceNetwork", "Tunnel"];
const IP_TYPES = ["ipv4", "dualstack", "ipv6"] as const;
const DNS_RECORD_TYPES = ["ipv4", "dualstack", "ipv6", "service-defined"] as const;
/** Which IpAddressType each DnsRecordIpType needs (spec §4.2). */
const DNS_RECORD_NEEDS: Record<VpcEndpoint["dnsRecordIpType"], readonly VpcEndpoint["ipAddressType"][]> = {
  ipv4: ["ipv4", "dualstack"],
  ipv6: ["ipv6", "dualstack"],
  dualstack: ["dualstack"],
  "service-defined": ["dualstack"],
};
/** States in which an endpoint no longer holds anything (ENIs, routes, DNS, quota). */
const GONE: readonly EndpointState[] = ["deleting", "deleted"];

export function isGone(e: Pick<VpcEndpoint, "state">): boolean {
  return GONE.includes(e.state);
}

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

const serviceNotFound = (name: string) =>
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
  const named = awsServices(serviceRegion).filter((s) => s.serviceName === name);
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
function serviceOf(tx: Tx, ctx: Ctx, e: VpcEndpoint): ServiceView | undefined {
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

// ---------------------------------------------------------------------------------------------
// Lookups

/**
 * Any ID that is not a `vpce-` ID — another resource's (`rtb-…`) included — is Malformed, not
 * NotFound, in AWS's words (observed: hashicorp/terraform-provider-aws#9693; docs/api.md).
 */
const malformed = (id: string) =>
  new AwsError(
    "InvalidVpcEndpointId.Malformed",
    `Invalid Id: '${id}' (expecting 'vpce-...; the Id may only contain lowercase alphanumeric characters and a single dash')`,
  );
export const endpointNotFound = (id: string) =>
  new AwsError("InvalidVpcEndpointId.NotFound", `The Vpc Endpoint Id '${id}' does not exist`);

export function checkEndpointId(id: string): void {
  if (!isIdOf("vpce", id)) throw malformed(id);
}

/** Deleted endpoints are visible only until the retention runs out, even between reconciles. */
function visible(e: VpcEndpoint, now: number): boolean {
  return e.state !== "deleted" || now - Date.parse(e.stateChangedAt) < DELETED_RETENTION_MS;
}

/** The caller's endpoint, in any visible state. */
export function getVpcEndpoint(tx: Tx, ctx: Ctx, id: string | undefined): VpcEndpoint {
  if (id === undefined || id === "")
    throw new AwsError("MissingParameter", "The request must contain the parameter VpcEndpointId");
  checkEndpointId(id);
  const e = tx.get("vpcEndpoint", id);
  if (!e || e.accountId !== ctx.accountId || e.region !== ctx.region || !visible(e, ctx.rt.now().getTime()))
    throw endpointNotFound(id);
  return e;
}

/**
 * The caller's endpoints in its region, oldest first (DescribeVpcEndpoints); only those `where`
 * accepts, when given, so that a filtered Describe sorts its matches rather than every endpoint.
 */
export function endpointsOf(
  tx: Tx,
  ctx: Ctx,
  where?: (e: VpcEndpoint) => boolean,
  vpcId?: string,
): VpcEndpoint[] {
  const now = ctx.rt.now().getTime();
  const out: VpcEndpoint[] = [];
  // A pinned VPC reads its index bucket; `where` still decides, so the answer is the scan's.
  for (const e of vpcId === undefined ? tx.all("vpcEndpoint") : tx.where("vpcEndpoint", "vpcId", vpcId))
    if (e.accountId === ctx.accountId && e.region === ctx.region && visible(e, now) && (!where || where(e))) {
      out.push(e);
      // A deleted endpoint leaves the answer when its retention runs out, with no commit.
      if (e.state === "deleted" && ctx.answerHolds)
        ctx.answerHolds.until = Math.min(
          ctx.answerHolds.until,
          Date.parse(e.stateChangedAt) + DELETED_RETENTION_MS,
        );
    }
  return out.sort(byCreation);
}

/** The provider's view: every endpoint of the caller's services in its region, from any region. */
export function connectionsOf(tx: Tx, ctx: Ctx): VpcEndpoint[] {
  const mine = new Set<string>();
  for (const s of tx.all("endpointService"))
    if (s.accountId === ctx.accountId && s.region === ctx.region) mine.add(s.id);
  const now = ctx.rt.now().getTime();
  const out: VpcEndpoint[] = [];
  if (mine.size === 0) return out;
  for (const e of tx.all("vpcEndpoint"))
    if (e.serviceId && mine.has(e.serviceId) && visible(e, now)) out.push(e);
  return out.sort(byCreation);
}

function byCreation(a: VpcEndpoint, b: VpcEndpoint): number {
  return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1;
}

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

function checkPrivateDns(tx: Tx, vpc: Vpc, names: readonly string[], self?: string): void {
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
function servedNames(view: ServiceView): string[] {
  if (view.aws) return [...view.privateDnsNames];
  return view.privateDnsVerificationState === "verified" ? [...view.privateDnsNames] : [];
}

function checkCanEnablePrivateDns(view: ServiceView, type: EndpointType): void {
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
function inboundOnlyApplies(view: ServiceView, type: EndpointType): boolean {
  return type === "Interface" && view.aws !== undefined && ["s3", "dynamodb"].includes(view.aws.shortName);
}

function checkInboundOnly(
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

function checkPolicy(text: string): void {
  parsePolicy(text, { kind: "endpoint" });
}

function defaultPolicy(type: EndpointType): string | undefined {
  if (type === "GatewayLoadBalancer") return undefined;
  return type === "Gateway" ? DEFAULT_GATEWAY_POLICY : DEFAULT_INTERFACE_POLICY;
}

function oneOf<T extends string>(
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

function checkIpTypes(
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

function defaultDnsRecordType(ipType: VpcEndpoint["ipAddressType"]): VpcEndpoint["dnsRecordIpType"] {
  return ipType;
}

/**
 * Subnets for an endpoint's ENIs: in the VPC, one per AZ (counting the subnets it already
 * has), in an AZ the service offers (matched on AZ IDs, which are the same in every account).
 */
function checkSubnets(
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

function checkRouteTables(tx: Tx, ctx: Ctx, vpc: Vpc, ids: readonly string[]): RouteTable[] {
  return [...new Set(ids)].map((id) => {
    const r = getRouteTable(tx, ctx, id);
    if (r.vpcId !== vpc.id)
      throw invalidParameter(`The route table ${r.id} does not belong to the VPC ${vpc.id}.`); // privlink
    return r;
  });
}

function addGatewayRoutes(
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

function makeEni(
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

function countQuota(tx: Tx, ctx: Ctx, vpc: Vpc, type: EndpointType): void {
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

// ---------------------------------------------------------------------------------------------
// Create

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

/** Create and Modify refuse a parameter the endpoint type does not take in the same words. */
const NOT_FOR_TYPE = {
  subnets: "Subnet IDs are only supported for Interface and GatewayLoadBalancer type VPC Endpoints.",
  securityGroups: "Security group IDs are only supported for Interface type VPC Endpoints.", // privlink
  routeTables: "Route table IDs are only supported for Gateway type VPC Endpoint.",
};

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

function checkLatticeDnsOptions(dns: DnsOptionsInput | undefined): void {
  if (dns?.privateDnsPreference !== undefined || dns?.privateDnsSpecifiedDomains?.length)
    throw invalidParameter(
      "PrivateDnsPreference and PrivateDnsSpecifiedDomains are supported only for Resource and ServiceNetwork type VPC Endpoints.",
    ); // privlink
}

function defaultPrivateDns(view: ServiceView, type: EndpointType): boolean {
  return (
    type === "Interface" &&
    view.aws !== undefined &&
    view.privateDnsNames.length > 0 &&
    !inboundOnlyApplies(view, type)
  );
}

function subnetConfigs(
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

function securityGroups(tx: Tx, ctx: Ctx, vpc: Vpc, ids: readonly string[] | undefined): string[] {
  const groups = ids?.length ? [...new Set(ids)] : [defaultGroupOf(tx, vpc.id).id];
  checkGroupsInVpc(tx, ctx, groups, vpc.id);
  return groups;
}

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

// ---------------------------------------------------------------------------------------------
// Delete, accept, reject: bulk actions that report per-ID failures

export interface Unsuccessful {
  readonly resourceId: string;
  readonly code: string;
  readonly message: string;
}

function failure(id: string, err: AwsError): Unsuccessful {
  return { resourceId: id, code: err.code, message: err.message };
}

/** Releases what an endpoint holds: its ENIs (and so their addresses) and its gateway routes. */
function release(tx: Tx, e: VpcEndpoint): void {
  for (const { eniId } of e.enis) deleteEniRecord(tx, eniId);
  if (e.type === "Gateway" && e.routeTableIds.length > 0) removeRoutesTo(tx, e.id, e.routeTableIds);
}

function moveTo(
  tx: Tx,
  ctx: Ctx,
  e: VpcEndpoint,
  state: EndpointState,
  extra: Partial<VpcEndpoint> = {},
): VpcEndpoint {
  return tx.put("vpcEndpoint", { ...e, ...extra, state, stateChangedAt: isoNow(ctx) });
}

export function deleteVpcEndpoints(tx: Tx, ctx: Ctx, ids: readonly string[]): Unsuccessful[] {
  const out: Unsuccessful[] = [];
  for (const id of new Set(ids)) {
    if (!isIdOf("vpce", id)) {
      out.push(failure(id, malformed(id)));
      continue;
    }
    const e = tx.get("vpcEndpoint", id);
    if (!e || e.accountId !== ctx.accountId || e.region !== ctx.region || e.state === "deleted") {
      out.push(failure(id, endpointNotFound(id)));
      continue;
    }
    if (e.state === "deleting") continue;
    release(tx, e);
    const gone = moveTo(tx, ctx, e, "deleting", { enis: [], routeTableIds: [] });
    emitConnectionEvent(tx, ctx, gone, "Delete");
  }
  return out;
}

function connectionOf(tx: Tx, serviceId: string, id: string): VpcEndpoint | AwsError {
  if (!isIdOf("vpce", id)) return malformed(id);
  const e = tx.get("vpcEndpoint", id);
  if (!e || e.serviceId !== serviceId || isGone(e))
    return new AwsError(
      "InvalidVpcEndpoint.NotFound",
      `The VPC endpoint ${id} does not exist or is not connected to the service ${serviceId}.`,
    ); // privlink
  return e;
}

const ACCEPTABLE: readonly EndpointState[] = ["pendingAcceptance", "rejected"];
const REJECTABLE: readonly EndpointState[] = ["pendingAcceptance", "pending", "available"];

/** AcceptVpcEndpointConnections: the service owner lets waiting (or rejected) endpoints in. */
export function acceptConnections(
  tx: Tx,
  ctx: Ctx,
  serviceId: string | undefined,
  ids: readonly string[],
): Unsuccessful[] {
  const svc = getServiceForOwner(tx, ctx, serviceId);
  return decide(tx, ctx, svc.id, ids, ACCEPTABLE, "pending", "Accept");
}

/** RejectVpcEndpointConnections: the owner refuses or cuts off endpoints (spec §3.2). */
export function rejectConnections(
  tx: Tx,
  ctx: Ctx,
  serviceId: string | undefined,
  ids: readonly string[],
): Unsuccessful[] {
  const svc = getServiceForOwner(tx, ctx, serviceId);
  return decide(tx, ctx, svc.id, ids, REJECTABLE, "rejected", "Reject");
}

function decide(
  tx: Tx,
  ctx: Ctx,
  serviceId: string,
  ids: readonly string[],
  from: readonly EndpointState[],
  to: EndpointState,
  event: "Accept" | "Reject",
): Unsuccessful[] {
  const out: Unsuccessful[] = [];
  for (const id of new Set(ids)) {
    const e = connectionOf(tx, serviceId, id);
    if (e instanceof AwsError) {
      out.push(failure(id, e));
      continue;
    }
    if (!from.includes(e.state)) {
      const verb = event === "Accept" ? "accepted" : "rejected";
      out.push(
        failure(
          id,
          new AwsError(
            "IncorrectState",
            `The VPC endpoint ${id} is in the state ${e.state} and cannot be ${verb}.`,
          ),
        ),
      ); // privlink
      continue;
    }
    emitConnectionEvent(tx, ctx, moveTo(tx, ctx, e, to, { lastError: undefined }), event);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reconcile: the states that move on their own

/** Endpoints the lifecycle moves: everything else waits for an API call. */
export const movingEndpoints = new Watched(
  "vpcEndpoint",
  (e) => e.state === "pending" || e.state === "deleting" || e.state === "deleted",
);

/**
 * pending → available once the data plane serves the endpoint (or failed when its customer
 * service is gone); deleting → deleted; deleted → purged after the retention time. Looks only
 * at {@link movingEndpoints}.
 */
export function reconcileEndpoints(
  tx: Tx,
  rt: Runtime,
  ready: { endpointServing(id: string): boolean },
): void {
  const now = rt.now();
  const iso = now.toISOString();
  // Decide while reading, write after: the store is not changed under its own iterator.
  const puts: VpcEndpoint[] = [];
  const purged: string[] = [];
  for (const e of movingEndpoints.in(tx)) {
    if (e.state === "pending") {
      const lost = serviceLost(tx, e);
      if (lost) puts.push({ ...e, state: "failed", stateChangedAt: iso, lastError: lost });
      else if (ready.endpointServing(e.id)) puts.push({ ...e, state: "available", stateChangedAt: iso });
    } else if (e.state === "deleting") {
      puts.push({ ...e, state: "deleted", stateChangedAt: iso });
    } else if (
      e.state === "deleted" &&
      now.getTime() - Date.parse(e.stateChangedAt) >= DELETED_RETENTION_MS
    ) {
      purged.push(e.id);
    }
  }
  for (const e of puts) tx.put("vpcEndpoint", e);
  for (const id of purged) tx.delete("vpcEndpoint", id);
}

function serviceLost(tx: Tx, e: VpcEndpoint): { code: string; message: string } | undefined {
  if (!e.serviceId) return undefined;
  const svc = tx.get("endpointService", e.serviceId);
  if (svc && (svc.state === "Available" || svc.state === "Pending")) return undefined;
  return {
    code: "InvalidServiceName",
    message: `The Vpc Endpoint Service '${e.serviceName}' does not exist`,
  };
}

registerLifecycleStep(reconcileEndpoints);

// ---------------------------------------------------------------------------------------------
// What endpoints mean to the rest of the network

registerVpcDependents((tx, vpc) => {
  const out: string[] = [];
  for (const e of tx.where("vpcEndpoint", "vpcId", vpc.id)) if (!isGone(e)) out.push(e.id);
  return out;
});

/**
 * CreateRoute may target a GatewayLoadBalancer endpoint (VpcEndpointId=vpce-…). Gateway
 * endpoints manage their own prefix-list routes through ModifyVpcEndpoint.
 */
registerRouteTargets((tx, ctx, target, vpcId) => {
  if (target.kind !== "gateway" || !target.id.startsWith("vpce-")) return false;
  const e = tx.get("vpcEndpoint", target.id);
  if (!e || e.accountId !== ctx.accountId || e.region !== ctx.region || isGone(e)) return false;
  if (e.vpcId !== vpcId)
    throw invalidParameterValue(`route table and VPC endpoint ${e.id} belong to different networks`);
  if (e.type !== "GatewayLoadBalancer")
    throw invalidParameterValue(
      `The VPC endpoint ${e.id} is a ${e.type} endpoint; only GatewayLoadBalancer endpoints can be route targets.`,
    ); // privlink
  return true;
});
