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
 *
 * This file holds the endpoint's constants, lookups and the states that move on their own;
 * its life stages are in endpoint-create.ts, endpoint-modify.ts (and payer responsibility),
 * endpoint-connections.ts (delete, accept, reject), with the checks they share in
 * endpoint-checks.ts and the services an endpoint can reach in endpoint-service-view.ts.
 */

import type { Ctx } from "./context.js";
import { AwsError, invalidParameterValue } from "./errors.js";
import { isIdOf } from "./ids.js";
import { registerLifecycleStep, Watched } from "./lifecycle.js";
import { registerRouteTargets } from "./route-table.js";
import type { Runtime } from "./runtime.js";
import type { Tx } from "./state.js";
import { registerTaggable } from "./tags.js";
import type { EndpointState, VpcEndpoint } from "./types.js";
import { registerVpcDependents } from "./vpc.js";

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
export const TYPES: readonly string[] = ["Interface", "Gateway", "GatewayLoadBalancer"];
export const UNSUPPORTED_TYPES: readonly string[] = ["Resource", "ServiceNetwork", "Tunnel"];
export const IP_TYPES = ["ipv4", "dualstack", "ipv6"] as const;
export const DNS_RECORD_TYPES = ["ipv4", "dualstack", "ipv6", "service-defined"] as const;
/** Which IpAddressType each DnsRecordIpType needs (spec §4.2). */
export const DNS_RECORD_NEEDS: Record<
  VpcEndpoint["dnsRecordIpType"],
  readonly VpcEndpoint["ipAddressType"][]
> = {
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
// Lookups

/**
 * Any ID that is not a `vpce-` ID — another resource's (`rtb-…`) included — is Malformed, not
 * NotFound, in AWS's words (observed: hashicorp/terraform-provider-aws#9693; docs/api.md).
 */
export const malformed = (id: string) =>
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
