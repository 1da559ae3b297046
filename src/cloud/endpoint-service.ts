import { type Ctx, isoNow } from "./context.js";
import { AwsError, invalidParameter, invalidParameterValue, missingParameter } from "./errors.js";
import { publicTxtRecords } from "./hosted-zone.js";
import { isIdOf, newId } from "./ids.js";
import { registerLifecycleStep, Watched } from "./lifecycle.js";
import { regionInfo } from "./regions.js";
import type { State, Tx } from "./state.js";
import { registerTaggable } from "./tags.js";
import type {
  EndpointService,
  EndpointState,
  LoadBalancer,
  PrivateDnsVerification,
  ServicePermission,
  Tags,
} from "./types.js";

/**
 * Endpoint services (the provider side of PrivateLink): a service fronts one kind of load
 * balancer (network → Interface endpoints, gateway → GatewayLoadBalancer endpoints), takes its
 * Availability Zones from those load balancers, decides who may see it through its allowed
 * principals, and may carry a private DNS name proven by a public TXT record.
 */

registerTaggable("vpce-svc", "endpointService", "vpc-endpoint-service");

/** Endpoint states that count as a live connection: they block deleting the service or its NLBs. */
const CONNECTED_STATES: readonly EndpointState[] = ["available", "pendingAcceptance", "pending"];

// ---- lookups shared with the consumer side ----

const SERVICE_NAME = /^com\.amazonaws\.vpce\.([a-z0-9-]+)\.(vpce-svc-[0-9a-f]{8}(?:[0-9a-f]{9})?)$/;

/** The customer service called `serviceName` (`com.amazonaws.vpce.<region>.vpce-svc-…`), if any. */
export function findServiceByName(state: State | Tx, serviceName: string): EndpointService | undefined {
  const m = SERVICE_NAME.exec(serviceName);
  if (!m) return undefined;
  const svc = state.get("endpointService", m[2]!);
  return svc && svc.serviceName === serviceName ? svc : undefined;
}

/**
 * Whether `caller` may see and connect to the service: its owner always; anyone when `*` is
 * allowed; an account through its root ARN; a user or role through its exact ARN (a role also
 * through its assumed-role sessions); an organizational unit by the caller's organization
 * (privlink models organizations, not the OUs inside them).
 */
export function serviceVisibleTo(
  service: EndpointService,
  caller: { accountId: string; principalArn: string; orgId?: string },
): boolean {
  if (caller.accountId === service.accountId) return true;
  const role = assumedRoleArn(caller.principalArn);
  return service.permissions.some((p) => allows(p, caller, role));
}

function allows(
  p: ServicePermission,
  caller: { accountId: string; principalArn: string; orgId?: string },
  role: string | undefined,
): boolean {
  switch (p.principalType) {
    case "All":
      return true;
    case "Account":
      return p.principal === `arn:aws:iam::${caller.accountId}:root`;
    case "User":
      return p.principal === caller.principalArn;
    case "Role":
      return p.principal === caller.principalArn || p.principal === role;
    case "OrganizationUnit":
      return caller.orgId !== undefined && p.principal.includes(`/${caller.orgId}/`);
    default:
      // Service principals name AWS services, never a customer's caller.
      return false;
  }
}

/** `arn:aws:sts::<acct>:assumed-role/<name>/<session>` → `arn:aws:iam::<acct>:role/<name>`. */
function assumedRoleArn(principalArn: string): string | undefined {
  const m = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(principalArn);
  return m ? `arn:aws:iam::${m[1]}:role/${m[2]}` : undefined;
}

function loadBalancersOf(state: State | Tx, service: EndpointService): LoadBalancer[] {
  return [...service.networkLoadBalancerArns, ...service.gatewayLoadBalancerArns]
    .map((arn) => state.get("loadBalancer", arn))
    .filter((lb): lb is LoadBalancer => lb !== undefined);
}

/** The AZ IDs the service is offered in: those of its load balancers' subnets, sorted. */
export function serviceAzIds(state: State | Tx, service: EndpointService): string[] {
  return [...new Set(loadBalancersOf(state, service).flatMap((lb) => lb.subnets.map((s) => s.azId)))].sort();
}

/** The same zones by the owner's AZ names (the provider's view in ServiceConfiguration). */
export function serviceAzNames(state: State | Tx, service: EndpointService): string[] {
  return [...new Set(loadBalancersOf(state, service).flatMap((lb) => lb.subnets.map((s) => s.az)))].sort();
}

export function serviceNotFound(id: string): AwsError {
  return new AwsError(
    "InvalidVpcEndpointServiceId.NotFound",
    `The VpcEndpointService Id '${id}' does not exist`,
  );
}

/** The caller's own service in this region, or AWS's NotFound/Malformed error. */
export function getServiceForOwner(tx: Tx, ctx: Ctx, serviceId: string | undefined): EndpointService {
  if (serviceId === undefined || serviceId === "") throw missingParameter("ServiceId");
  if (!isIdOf("vpce-svc", serviceId))
    // The doubled "IdId" is AWS's own spelling of this code.
    throw new AwsError(
      "InvalidVpcEndpointServiceIdId.Malformed",
      `Invalid Id: '${serviceId}' (expecting 'vpce-svc-...')`,
    );
  const svc = tx.get("endpointService", serviceId);
  if (!svc || svc.accountId !== ctx.accountId || svc.region !== ctx.region) throw serviceNotFound(serviceId);
  return svc;
}

export function servicesOf(tx: Tx, ctx: Ctx): EndpointService[] {
  return [...tx.all("endpointService")]
    .filter((s) => s.accountId === ctx.accountId && s.region === ctx.region)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

/** Endpoints that hold a live connection to the service. */
export function activeConnections(state: State | Tx, serviceId: string): number {
  let n = 0;
  for (const e of state.all("vpcEndpoint"))
    if (e.serviceId === serviceId && CONNECTED_STATES.includes(e.state)) n++;
  return n;
}

// ---- ClientToken idempotency ----

/** Canonical JSON: object keys sorted, so that equal parameters give equal fingerprints. */
export function fingerprint(params: unknown): string {
  return JSON.stringify(params, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * Runs `create` at most once per (account, action, ClientToken): a retry with the same
 * parameters gets the resource the first call made (found again by `find`); different
 * parameters are `IdempotentParameterMismatch`.
 */
export function idempotent<T>(
  tx: Tx,
  ctx: Ctx,
  action: string,
  clientToken: string | undefined,
  params: unknown,
  find: (resourceId: string) => T | undefined,
  create: () => { result: T; resourceId: string },
): T {
  if (clientToken === undefined) return create().result;
  if (clientToken.length > 64 || !/^[\x20-\x7e]+$/.test(clientToken))
    throw invalidParameterValue(
      `Value (${clientToken}) for parameter clientToken is invalid. It must be at most 64 ASCII characters.`,
    );
  const id = `${ctx.accountId}/${action}/${clientToken}`;
  const print = fingerprint(params);
  const record = tx.get("idempotency", id);
  if (record) {
    if (record.fingerprint !== print)
      throw new AwsError(
        "IdempotentParameterMismatch",
        `The client token '${clientToken}' has already been used with different parameters.`,
      );
    const found = find(record.resourceId);
    if (found !== undefined) return found;
  }
  const { result, resourceId } = create();
  tx.put("idempotency", { id, fingerprint: print, resourceId });
  return result;
}

// ---- creating and changing services ----

export interface ServiceInput {
  acceptanceRequired?: boolean;
  privateDnsName?: string;
  networkLoadBalancerArns?: readonly string[];
  gatewayLoadBalancerArns?: readonly string[];
  supportedIpAddressTypes?: readonly string[];
  supportedRegions?: readonly string[];
  tags?: Tags;
  clientToken?: string;
}

type LbKind = "network" | "gateway";

const LB_ARN =
  /^arn:aws:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer\/(net|gwy|app)\/[^/]+\/[0-9a-f]{16}$/;

function lbCode(kind: LbKind): string {
  return kind === "network" ? "InvalidNetworkLoadBalancerArn" : "InvalidGatewayLoadBalancerArn";
}

/** A load balancer the caller owns, of the kind the list is for, not fronted by another service. */
function checkLoadBalancer(tx: Tx, ctx: Ctx, arn: string, kind: LbKind, serviceId?: string): LoadBalancer {
  if (!LB_ARN.test(arn))
    throw new AwsError(`${lbCode(kind)}.Malformed`, `Invalid load balancer ARN: '${arn}'`);
  const lb = tx.get("loadBalancer", arn);
  if (!lb || lb.accountId !== ctx.accountId || lb.region !== ctx.region)
    throw new AwsError(`${lbCode(kind)}.NotFound`, `The load balancer ARN '${arn}' does not exist`);
  if (lb.type !== kind)
    throw invalidParameter(`Load balancer '${arn}' is of type '${lb.type}', not '${kind}'.`);
  const other = [...tx.all("endpointService")].find(
    (s) =>
      s.id !== serviceId &&
      (s.networkLoadBalancerArns.includes(arn) || s.gatewayLoadBalancerArns.includes(arn)),
  );
  if (other)
    throw invalidParameter(
      `Load balancer '${arn}' is already associated with the VPC endpoint service ${other.id}.`,
    );
  return lb;
}

function checkLoadBalancers(
  tx: Tx,
  ctx: Ctx,
  arns: readonly string[],
  kind: LbKind,
  serviceId?: string,
): LoadBalancer[] {
  const unique = [...new Set(arns)];
  return unique.map((arn) => checkLoadBalancer(tx, ctx, arn, kind, serviceId));
}

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A DNS name, optionally with a leading `*.` wildcard, lowercased as AWS stores it. */
function checkPrivateDnsName(name: string): string {
  const lower = name.toLowerCase().replace(/\.$/, "");
  const body = lower.startsWith("*.") ? lower.slice(2) : lower;
  const labels = body.split(".");
  if (lower.length > 255 || labels.length < 2 || !labels.every((l) => DNS_LABEL.test(l)))
    throw invalidParameterValue(`The private DNS name '${name}' is not a valid domain name.`);
  return lower;
}

function newVerification(ctx: Ctx): PrivateDnsVerification {
  return {
    state: "pendingVerification",
    type: "TXT",
    name: `_${ctx.rt.alnum(20)}`,
    value: `vpce:${ctx.rt.alnum(20)}`,
  };
}

const IP_TYPES = ["ipv4", "ipv6"] as const;

function checkIpTypes(types: readonly string[], lbs: readonly LoadBalancer[]): ("ipv4" | "ipv6")[] {
  for (const t of types)
    if (!(IP_TYPES as readonly string[]).includes(t))
      throw invalidParameterValue(
        `Value (${t}) for parameter SupportedIpAddressType is invalid. Valid values are: ipv4, ipv6`,
      );
  if (types.length === 0) throw invalidParameter("The service must support at least one IP address type.");
  if (types.includes("ipv6"))
    for (const lb of lbs)
      if (lb.ipAddressType !== "dualstack")
        throw invalidParameter(
          `Load balancer '${lb.id}' does not support IPv6: its IP address type must be dualstack.`,
        );
  return IP_TYPES.filter((t) => types.includes(t));
}

function checkRegions(regions: readonly string[]): void {
  for (const r of regions)
    if (!regionInfo(r))
      throw invalidParameterValue(`Value (${r}) for parameter SupportedRegion is invalid. Unknown region.`);
}

/** The load balancer kind of a create call: exactly one of the two lists. */
function kindOf(input: ServiceInput): { kind: LbKind; arns: readonly string[] } {
  const nlbs = input.networkLoadBalancerArns ?? [];
  const gwlbs = input.gatewayLoadBalancerArns ?? [];
  if (nlbs.length > 0 && gwlbs.length > 0)
    throw new AwsError(
      "InvalidParameterCombination",
      "Specify either NetworkLoadBalancerArns or GatewayLoadBalancerArns, not both.",
    );
  // AWS answers InvalidParameter here, not MissingParameter: neither list is required on its own.
  if (nlbs.length === 0 && gwlbs.length === 0)
    throw invalidParameter(
      "Must specify at least one of NetworkLoadBalancerArns or GatewayLoadBalancerArns.",
    );
  return nlbs.length > 0 ? { kind: "network", arns: nlbs } : { kind: "gateway", arns: gwlbs };
}

export function createService(tx: Tx, ctx: Ctx, input: ServiceInput): EndpointService {
  const { kind, arns } = kindOf(input);
  const lbs = checkLoadBalancers(tx, ctx, arns, kind);
  if (kind === "gateway" && input.privateDnsName !== undefined)
    throw invalidParameter(
      "Private DNS names are not supported for Gateway Load Balancer endpoint services.",
    );
  const privateDnsName =
    input.privateDnsName === undefined ? undefined : checkPrivateDnsName(input.privateDnsName);
  checkRegions(input.supportedRegions ?? []);
  const id = newId(ctx.rt, "vpce-svc");
  return tx.put("endpointService", {
    id,
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    serviceName: `com.amazonaws.vpce.${ctx.region}.${id}`,
    serviceType: kind === "network" ? "Interface" : "GatewayLoadBalancer",
    // AWS's create response already says Available, for network and gateway load balancers alike;
    // only a load balancer still provisioning (created in the same instant) keeps it Pending.
    state: lbs.every((lb) => lb.state === "active") ? "Available" : "Pending",
    acceptanceRequired: input.acceptanceRequired ?? true,
    networkLoadBalancerArns: kind === "network" ? lbs.map((l) => l.id) : [],
    gatewayLoadBalancerArns: kind === "gateway" ? lbs.map((l) => l.id) : [],
    supportedIpAddressTypes: checkIpTypes(input.supportedIpAddressTypes ?? ["ipv4"], lbs),
    // The host region is always supported; the others open cross-region access.
    supportedRegions: [...new Set([ctx.region, ...(input.supportedRegions ?? [])])],
    privateDnsName,
    privateDnsVerification: privateDnsName ? newVerification(ctx) : undefined,
    permissions: [],
    createdAt: isoNow(ctx),
    clientToken: input.clientToken,
  });
}

export interface ServiceChanges {
  privateDnsName?: string;
  removePrivateDnsName?: boolean;
  acceptanceRequired?: boolean;
  addNetworkLoadBalancerArns?: readonly string[];
  removeNetworkLoadBalancerArns?: readonly string[];
  addGatewayLoadBalancerArns?: readonly string[];
  removeGatewayLoadBalancerArns?: readonly string[];
  addSupportedIpAddressTypes?: readonly string[];
  removeSupportedIpAddressTypes?: readonly string[];
  addSupportedRegions?: readonly string[];
  removeSupportedRegions?: readonly string[];
}

/**
 * New load balancer list: adding is always allowed (providers scale out that way), removing is
 * refused while endpoints are connected, as they may be served by the load balancer removed.
 */
function changedLbs(
  tx: Tx,
  ctx: Ctx,
  svc: EndpointService,
  kind: LbKind,
  add: readonly string[],
  remove: readonly string[],
): string[] {
  const current = kind === "network" ? svc.networkLoadBalancerArns : svc.gatewayLoadBalancerArns;
  const own = svc.serviceType === "Interface" ? "network" : "gateway";
  if (add.length > 0 && kind !== own)
    throw invalidParameter(
      `The service ${svc.id} is backed by ${own} load balancers; it cannot also use ${kind} load balancers.`,
    );
  for (const arn of remove)
    if (!current.includes(arn))
      throw invalidParameter(`Load balancer '${arn}' is not associated with the service ${svc.id}.`);
  if (remove.length > 0 && activeConnections(tx, svc.id) > 0)
    throw new AwsError(
      "ExistingVpcEndpointConnections",
      `Service ${svc.id} has existing active VPC Endpoint connections! Reject them before removing its load balancers.`,
    );
  const added = checkLoadBalancers(
    tx,
    ctx,
    add.filter((a) => !current.includes(a)),
    kind,
    svc.id,
  ).map((l) => l.id);
  return [...current.filter((a) => !remove.includes(a)), ...added];
}

function changedPrivateDns(ctx: Ctx, svc: EndpointService, c: ServiceChanges): Partial<EndpointService> {
  if (c.removePrivateDnsName && c.privateDnsName !== undefined)
    throw new AwsError(
      "InvalidParameterCombination",
      "You cannot specify both PrivateDnsName and RemovePrivateDnsName.",
    );
  if (c.removePrivateDnsName) return { privateDnsName: undefined, privateDnsVerification: undefined };
  if (c.privateDnsName === undefined) return {};
  if (svc.serviceType === "GatewayLoadBalancer")
    throw invalidParameter(
      "Private DNS names are not supported for Gateway Load Balancer endpoint services.",
    );
  const name = checkPrivateDnsName(c.privateDnsName);
  if (name === svc.privateDnsName) return {};
  return { privateDnsName: name, privateDnsVerification: newVerification(ctx) };
}

function changedList<T extends string>(
  current: readonly T[],
  add: readonly string[],
  remove: readonly string[],
): string[] {
  return [...new Set([...current.filter((x) => !remove.includes(x)), ...add])];
}

export function modifyService(
  tx: Tx,
  ctx: Ctx,
  serviceId: string | undefined,
  c: ServiceChanges,
): EndpointService {
  const svc = getServiceForOwner(tx, ctx, serviceId);
  const nlbs = changedLbs(
    tx,
    ctx,
    svc,
    "network",
    c.addNetworkLoadBalancerArns ?? [],
    c.removeNetworkLoadBalancerArns ?? [],
  );
  const gwlbs = changedLbs(
    tx,
    ctx,
    svc,
    "gateway",
    c.addGatewayLoadBalancerArns ?? [],
    c.removeGatewayLoadBalancerArns ?? [],
  );
  if (nlbs.length + gwlbs.length === 0)
    throw invalidParameter(`The service ${svc.id} must keep at least one load balancer.`);
  const lbs = [...nlbs, ...gwlbs].map((a) => tx.get("loadBalancer", a)!).filter(Boolean);
  const ipTypes = checkIpTypes(
    changedList(
      svc.supportedIpAddressTypes,
      c.addSupportedIpAddressTypes ?? [],
      c.removeSupportedIpAddressTypes ?? [],
    ),
    lbs,
  );
  checkRegions(c.addSupportedRegions ?? []);
  if ((c.removeSupportedRegions ?? []).includes(svc.region))
    throw invalidParameter(`The service Region ${svc.region} cannot be removed from the supported Regions.`);
  return tx.put("endpointService", {
    ...svc,
    ...changedPrivateDns(ctx, svc, c),
    acceptanceRequired: c.acceptanceRequired ?? svc.acceptanceRequired,
    networkLoadBalancerArns: nlbs,
    gatewayLoadBalancerArns: gwlbs,
    supportedIpAddressTypes: ipTypes,
    supportedRegions: changedList(
      svc.supportedRegions,
      c.addSupportedRegions ?? [],
      c.removeSupportedRegions ?? [],
    ),
  });
}

export interface UnsuccessfulItem {
  readonly resourceId: string;
  readonly code: string;
  readonly message: string;
}

/** Deletes what it can; each service that cannot go is reported, as AWS reports per ID. */
export function deleteServices(tx: Tx, ctx: Ctx, ids: readonly string[]): UnsuccessfulItem[] {
  const failed: UnsuccessfulItem[] = [];
  for (const id of new Set(ids)) {
    const svc = tx.get("endpointService", id);
    if (!svc || svc.accountId !== ctx.accountId || svc.region !== ctx.region) {
      failed.push({
        resourceId: id,
        code: "InvalidVpcEndpointService.NotFound",
        message: `The VpcEndpointService Id '${id}' does not exist`,
      });
      continue;
    }
    if (activeConnections(tx, id) > 0) {
      failed.push({
        resourceId: id,
        code: "ExistingVpcEndpointConnections",
        message: `Service ${id} has existing active VPC Endpoint connections!`,
      });
      continue;
    }
    for (const n of tx.all("connectionNotification"))
      if (n.serviceId === id) tx.delete("connectionNotification", n.id);
    tx.delete("endpointService", id);
  }
  return failed;
}

export function setPayerResponsibility(
  tx: Tx,
  ctx: Ctx,
  serviceId: string | undefined,
  payer: string | undefined,
): void {
  const svc = getServiceForOwner(tx, ctx, serviceId);
  if (payer === undefined || payer === "") throw missingParameter("PayerResponsibility");
  if (payer !== "ServiceOwner")
    throw invalidParameterValue(
      `Value (${payer}) for parameter PayerResponsibility is invalid. Valid values are: ServiceOwner`,
    );
  // One way only: once the owner pays there is no value to go back to.
  if (svc.payerResponsibility !== "ServiceOwner")
    tx.put("endpointService", { ...svc, payerResponsibility: "ServiceOwner" });
}

// ---- allowed principals ----

const IAM_NAME = "[\\w+=,.@-]{1,128}";
const PRINCIPAL_PATTERNS: readonly [RegExp, ServicePermission["principalType"]][] = [
  [/^\*$/, "All"],
  [/^arn:aws:iam::\d{12}:root$/, "Account"],
  [new RegExp(`^arn:aws:iam::\\d{12}:user/${IAM_NAME}$`), "User"],
  [new RegExp(`^arn:aws:iam::\\d{12}:role/${IAM_NAME}$`), "Role"],
  [
    /^arn:aws:organizations::\d{12}:ou\/o-[a-z0-9]{10,32}\/ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$/,
    "OrganizationUnit",
  ],
  [/^[a-z0-9][a-z0-9.-]*\.amazonaws\.com$/, "Service"],
];

/** The PrincipalType of an allowed principal, or AWS's refusal. */
export function principalTypeOf(principal: string): ServicePermission["principalType"] {
  for (const [re, type] of PRINCIPAL_PATTERNS) if (re.test(principal)) return type;
  if (/^arn:aws:iam::\d{12}:(user|role)\/.+\/.+$/.test(principal))
    throw new AwsError(
      "UnknownPrincipalType.Unsupported",
      `Principal ARNs with paths are not supported: '${principal}'. Use the ARN without its path.`,
    );
  throw new AwsError(
    "UnknownPrincipalType.Unsupported",
    `The principal type of '${principal}' is not supported.`,
  );
}

/** Adds and removes allowed principals; returns the permissions named by `add`. */
export function modifyPermissions(
  tx: Tx,
  ctx: Ctx,
  serviceId: string | undefined,
  add: readonly string[],
  remove: readonly string[],
): ServicePermission[] {
  const svc = getServiceForOwner(tx, ctx, serviceId);
  if (add.length === 0 && remove.length === 0)
    throw missingParameter("AddAllowedPrincipals or RemoveAllowedPrincipals");
  const types = add.map((p) => [p, principalTypeOf(p)] as const);
  const kept = svc.permissions.filter((p) => !remove.includes(p.principal));
  const added: ServicePermission[] = [];
  for (const [principal, principalType] of types) {
    const existing =
      kept.find((p) => p.principal === principal) ?? added.find((p) => p.principal === principal);
    if (existing) {
      if (!added.includes(existing)) added.push(existing);
      continue;
    }
    added.push({ id: newId(ctx.rt, "vpce-svc-perm"), principal, principalType, tags: {} });
  }
  const permissions = [...kept, ...added.filter((a) => !kept.includes(a))];
  tx.put("endpointService", { ...svc, permissions });
  return added;
}

// ---- private DNS verification ----

/** `api.example.com` → ["api.example.com", "example.com"]: the domains a TXT record may prove. */
function verificationDomains(privateDnsName: string): string[] {
  const labels = privateDnsName.replace(/^\*\./, "").split(".");
  const out: string[] = [];
  for (let i = 0; i <= labels.length - 2; i++) out.push(labels.slice(i).join("."));
  return out;
}

const unquote = (t: string) => t.replace(/^"(.*)"$/s, "$1");

/**
 * True when a public TXT record proves the name: the record `<name>.<domain>` (or, for DNS
 * hosts that refuse underscores, the domain apex itself) holds the verification value, for the
 * private DNS name's domain or any parent domain of it.
 */
export function privateDnsProven(state: State | Tx, svc: EndpointService): boolean {
  const v = svc.privateDnsVerification;
  if (!svc.privateDnsName || !v) return false;
  for (const domain of verificationDomains(svc.privateDnsName))
    for (const name of [`${v.name}.${domain}`, domain])
      if (publicTxtRecords(state, name).some((t) => unquote(t) === v.value)) return true;
  return false;
}

/**
 * StartVpcEndpointServicePrivateDnsVerification checks at once: verified when the record is
 * there, failed when it is not (privlink's choice: AWS answers after a while; the record is
 * in privlink's own DNS, so the answer is already known). A failed name stays failed until
 * the provider publishes the record and runs Start again; only pending names are re-checked
 * in the background.
 */
export function startPrivateDnsVerification(
  tx: Tx,
  ctx: Ctx,
  serviceId: string | undefined,
): EndpointService {
  const svc = getServiceForOwner(tx, ctx, serviceId);
  if (!svc.privateDnsName || !svc.privateDnsVerification)
    throw invalidParameter(`The service ${svc.id} has no private DNS name to verify.`);
  if (svc.privateDnsVerification.state === "verified") return svc;
  const state = privateDnsProven(tx, svc) ? "verified" : "failed";
  return tx.put("endpointService", {
    ...svc,
    privateDnsVerification: { ...svc.privateDnsVerification, state },
  });
}

/** Services the lifecycle moves: Pending ones and names pending verification. */
export const movingServices = new Watched(
  "endpointService",
  (svc) => svc.state === "Pending" || svc.privateDnsVerification?.state === "pendingVerification",
);

/**
 * The service lifecycle: Pending → Available once every load balancer is active, and names
 * pending verification become verified as soon as their TXT record is published. Looks only at
 * {@link movingServices}.
 */
function serviceStep(tx: Tx): void {
  const puts: EndpointService[] = [];
  for (const svc of movingServices.in(tx)) {
    let next = svc;
    if (svc.state === "Pending") {
      const lbs = [...svc.networkLoadBalancerArns, ...svc.gatewayLoadBalancerArns].map((a) =>
        tx.get("loadBalancer", a),
      );
      if (lbs.every((lb) => lb?.state === "active")) next = { ...next, state: "Available" };
    }
    if (svc.privateDnsVerification?.state === "pendingVerification" && privateDnsProven(tx, svc))
      next = { ...next, privateDnsVerification: { ...svc.privateDnsVerification, state: "verified" } };
    if (next !== svc) puts.push(next);
  }
  for (const svc of puts) tx.put("endpointService", svc);
}

registerLifecycleStep((tx) => serviceStep(tx));

// ---- connection notifications ----

export const CONNECTION_EVENTS = ["Accept", "Connect", "Delete", "Reject"] as const;

const SNS_ARN = /^arn:aws:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}(\.fifo)?$/;

function checkNotificationTarget(arn: string | undefined): string {
  if (arn === undefined || arn === "") throw missingParameter("ConnectionNotificationArn");
  if (!SNS_ARN.test(arn)) throw invalidParameter(`Invalid SNS topic ARN: '${arn}'.`);
  return arn;
}

function checkEvents(events: readonly string[] | undefined): ("Accept" | "Connect" | "Delete" | "Reject")[] {
  if (!events || events.length === 0) throw missingParameter("ConnectionEvents");
  for (const e of events)
    if (!(CONNECTION_EVENTS as readonly string[]).includes(e))
      throw invalidParameterValue(
        `Value (${e}) for parameter ConnectionEvents is invalid. Valid values are: Accept, Connect, Delete, Reject`,
      );
  return CONNECTION_EVENTS.filter((e) => events.includes(e));
}

export function notificationNotFound(id: string): AwsError {
  return new AwsError("InvalidConnectionNotification", `The connection notification '${id}' does not exist`);
}

export function notificationsOf(tx: Tx, ctx: Ctx) {
  return [...tx.all("connectionNotification")]
    .filter((n) => n.accountId === ctx.accountId && n.region === ctx.region)
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** The caller's own interface endpoint, for a notification scoped to one endpoint. */
function notifiableEndpoint(tx: Tx, ctx: Ctx, id: string): string {
  if (!isIdOf("vpce", id))
    throw new AwsError(
      "InvalidVpcEndpointId.Malformed",
      `Invalid Id: '${id}' (expecting 'vpce-xxxxxxxxxxxxxxxxx')`,
    );
  const e = tx.get("vpcEndpoint", id);
  if (!e || e.accountId !== ctx.accountId || e.region !== ctx.region)
    throw new AwsError("InvalidVpcEndpointId.NotFound", `The Vpc Endpoint Id '${id}' does not exist`);
  if (e.type !== "Interface")
    throw invalidParameter(
      `Connection notifications are supported for interface endpoints only; ${id} is a ${e.type} endpoint.`,
    );
  return e.id;
}

export function createNotification(
  tx: Tx,
  ctx: Ctx,
  input: {
    arn?: string;
    events?: readonly string[];
    serviceId?: string;
    vpcEndpointId?: string;
    clientToken?: string;
  },
) {
  const arn = checkNotificationTarget(input.arn);
  const events = checkEvents(input.events);
  if (input.serviceId !== undefined && input.vpcEndpointId !== undefined)
    throw new AwsError("InvalidParameterCombination", "Specify either ServiceId or VpcEndpointId, not both.");
  if (input.serviceId === undefined && input.vpcEndpointId === undefined)
    throw missingParameter("ServiceId or VpcEndpointId");
  const serviceId =
    input.serviceId === undefined ? undefined : getServiceForOwner(tx, ctx, input.serviceId).id;
  const vpcEndpointId =
    input.vpcEndpointId === undefined ? undefined : notifiableEndpoint(tx, ctx, input.vpcEndpointId);
  return tx.put("connectionNotification", {
    id: newId(ctx.rt, "vpce-nfn"),
    accountId: ctx.accountId,
    region: ctx.region,
    tags: {},
    serviceId,
    vpcEndpointId,
    arn,
    events,
    state: "Enabled",
    clientToken: input.clientToken,
  });
}

export function getNotification(tx: Tx, ctx: Ctx, id: string | undefined) {
  if (id === undefined || id === "") throw missingParameter("ConnectionNotificationId");
  const n = tx.get("connectionNotification", id);
  if (!n || n.accountId !== ctx.accountId || n.region !== ctx.region) throw notificationNotFound(id);
  return n;
}

export function modifyNotification(
  tx: Tx,
  ctx: Ctx,
  id: string | undefined,
  input: { arn?: string; events?: readonly string[] },
): void {
  const n = getNotification(tx, ctx, id);
  tx.put("connectionNotification", {
    ...n,
    arn: input.arn === undefined ? n.arn : checkNotificationTarget(input.arn),
    events: input.events === undefined || input.events.length === 0 ? n.events : checkEvents(input.events),
  });
}

export function deleteNotifications(tx: Tx, ctx: Ctx, ids: readonly string[]): UnsuccessfulItem[] {
  const failed: UnsuccessfulItem[] = [];
  for (const id of new Set(ids)) {
    const n = tx.get("connectionNotification", id);
    if (!n || n.accountId !== ctx.accountId || n.region !== ctx.region) {
      const e = notificationNotFound(id);
      failed.push({ resourceId: id, code: e.code, message: e.message });
    } else tx.delete("connectionNotification", id);
  }
  return failed;
}
