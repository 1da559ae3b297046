import { cidrOverlaps, parseCidr } from "./cidr.js";
import { type Ctx, isoNow } from "./context.js";
import { AwsError, invalidParameterValue, missingParameter } from "./errors.js";
import { isIdOf, newId } from "./ids.js";
import { registerLifecycleStep, Watched } from "./lifecycle.js";
import { regionInfo } from "./regions.js";
import { registerRouteState, registerRouteTargets } from "./route-table.js";
import type { Tx } from "./state.js";
import { registerTaggable } from "./tags.js";
import type { PeeringSide, PeeringStatus, Tags, Vpc, VpcPeeringConnection } from "./types.js";
import { getVpc, registerVpcDependents } from "./vpc.js";

registerTaggable("pcx", "vpcPeeringConnection", "vpc-peering-connection");

const DAY_MS = 86_400_000;
/** A request nobody answers expires after 7 days (AWS). */
export const PEERING_EXPIRY_MS = 7 * DAY_MS;
/** Rejected, expired, failed and deleted connections stay visible this long, then go. */
const TERMINAL_VISIBLE_MS = 2 * DAY_MS;
export const ACTIVE_PEERINGS_PER_VPC = 50;
export const PENDING_PEERINGS_PER_ACCOUNT = 25;
const LIVE: readonly PeeringStatus[] = ["initiating-request", "pending-acceptance", "provisioning", "active"];
const FAILED_MESSAGE = "Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range.";

function notFound(id: string): AwsError {
  return new AwsError(
    "InvalidVpcPeeringConnectionID.NotFound",
    `The vpcPeeringConnection ID '${id}' does not exist`,
  );
}

/** True when the caller (account and region) is one side of the connection. */
export function seesPeering(p: VpcPeeringConnection, ctx: Pick<Ctx, "accountId" | "region">): boolean {
  return [p.requester, p.accepter].some((s) => s.ownerId === ctx.accountId && s.region === ctx.region);
}

/**
 * The connection as the caller may see it. `anyRegion` finds it for an owner calling from the
 * wrong region, so that Accept/Reject can say "incorrect region" as AWS does.
 */
export function getPeering(
  tx: Tx,
  ctx: Ctx,
  id: string | undefined,
  opts: { anyRegion?: boolean } = {},
): VpcPeeringConnection {
  if (!id) throw missingParameter("vpcPeeringConnectionId");
  if (!isIdOf("pcx", id))
    throw new AwsError(
      "InvalidVpcPeeringConnectionId.Malformed",
      `Invalid id: "${id}" (expecting "pcx-...")`,
    );
  const p = tx.get("vpcPeeringConnection", id);
  const owns = p && [p.requester, p.accepter].some((s) => s.ownerId === ctx.accountId);
  if (!p || !owns || (!opts.anyRegion && !seesPeering(p, ctx))) throw notFound(id);
  return p;
}

export function peeringsOf(tx: Tx, ctx: Ctx): VpcPeeringConnection[] {
  return [...tx.all("vpcPeeringConnection")].filter((p) => seesPeering(p, ctx));
}

function sideOf(vpc: Vpc): PeeringSide {
  return {
    vpcId: vpc.id,
    ownerId: vpc.accountId,
    region: vpc.region,
    cidrBlocks: vpc.cidrBlocks.filter((b) => b.state === "associated").map((b) => b.cidr),
    allowDnsResolutionFromRemoteVpc: false,
  };
}

function overlaps(a: readonly string[], b: readonly string[]): boolean {
  return a.some((x) => b.some((y) => cidrOverlaps(parseCidr(x)!, parseCidr(y)!)));
}

export interface CreatePeeringInput {
  vpcId?: string;
  peerVpcId?: string;
  peerOwnerId?: string;
  peerRegion?: string;
  tags?: Tags;
}

/**
 * CreateVpcPeeringConnection. A peer VPC that does not exist (for that owner and region) or
 * whose blocks overlap the requester's does not fail the call: AWS creates the connection and
 * it shows `failed`.
 */
export function createPeering(tx: Tx, ctx: Ctx, input: CreatePeeringInput): VpcPeeringConnection {
  if (!input.vpcId) throw missingParameter("vpcId");
  const vpc = getVpc(tx, ctx, input.vpcId);
  if (!input.peerVpcId) throw missingParameter("peerVpcId");
  if (!isIdOf("vpc", input.peerVpcId))
    throw new AwsError("InvalidVpcID.Malformed", `Invalid id: "${input.peerVpcId}"`);
  const peerOwnerId = input.peerOwnerId ?? ctx.accountId;
  if (!/^\d{12}$/.test(peerOwnerId))
    throw invalidParameterValue(`Value (${peerOwnerId}) for parameter peerOwnerId is invalid.`);
  const peerRegion = input.peerRegion ?? ctx.region;
  if (!regionInfo(peerRegion))
    throw invalidParameterValue(`Value (${peerRegion}) for parameter peerRegion is invalid.`);
  if (input.peerVpcId === vpc.id)
    throw invalidParameterValue(`The requester VPC and accepter VPC cannot be the same: ${vpc.id}`);
  const peer = tx.get("vpc", input.peerVpcId);
  const peerFound = peer && peer.accountId === peerOwnerId && peer.region === peerRegion;
  const existing = peerFound && livePeeringBetween(tx, vpc.id, peer.id);
  if (existing)
    throw new AwsError(
      "VpcPeeringConnectionAlreadyExists",
      `A VPC peering connection already exists between ${vpc.id} and ${peer.id}: ${existing.id}`,
    );
  const pending = [...tx.all("vpcPeeringConnection")].filter(
    (p) => p.requester.ownerId === ctx.accountId && p.status === "pending-acceptance",
  ).length;
  if (pending >= PENDING_PEERINGS_PER_ACCOUNT)
    throw new AwsError(
      "OutstandingVpcPeeringConnectionLimitExceeded",
      `You have reached the limit of ${PENDING_PEERINGS_PER_ACCOUNT} outstanding VPC peering connection requests.`,
    );
  const requester = sideOf(vpc);
  const accepter: PeeringSide = peerFound
    ? sideOf(peer)
    : {
        vpcId: input.peerVpcId,
        ownerId: peerOwnerId,
        region: peerRegion,
        cidrBlocks: [],
        allowDnsResolutionFromRemoteVpc: false,
      };
  const failed = !peerFound || overlaps(requester.cidrBlocks, accepter.cidrBlocks);
  const now = isoNow(ctx);
  return tx.put("vpcPeeringConnection", {
    id: newId(ctx.rt, "pcx"),
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    requester,
    accepter,
    status: failed ? "failed" : "initiating-request",
    message: failed ? FAILED_MESSAGE : `Initiating Request to ${peerOwnerId}`,
    createdAt: now,
    statusChangedAt: now,
    expiresAt: failed ? undefined : new Date(ctx.rt.now().getTime() + PEERING_EXPIRY_MS).toISOString(),
  });
}

/** The connection between two VPCs that is not over yet, whichever side asked. */
export function livePeeringBetween(tx: Tx, a: string, b: string): VpcPeeringConnection | undefined {
  return [...tx.all("vpcPeeringConnection")].find(
    (p) =>
      LIVE.includes(p.status) &&
      ((p.requester.vpcId === a && p.accepter.vpcId === b) ||
        (p.requester.vpcId === b && p.accepter.vpcId === a)),
  );
}

function wrongState(p: VpcPeeringConnection): AwsError {
  return new AwsError(
    "InvalidStateTransition",
    `Invalid state transition for pcx ${p.id}, attempted to transition from ${p.status} (VpcPeeringConnectionID ${p.id} is not in the correct state for the request).`,
  );
}

/** Only the accepter's owner answers a request, and only from the accepter's region. */
function asAccepter(tx: Tx, ctx: Ctx, id: string | undefined, verb: string): VpcPeeringConnection {
  const p = getPeering(tx, ctx, id, { anyRegion: true });
  if (p.accepter.ownerId !== ctx.accountId)
    throw new AwsError(
      "OperationNotPermitted",
      `User ${ctx.accountId} cannot ${verb} peering ${p.id}: only the owner of the accepter VPC (${p.accepter.ownerId}) can.`,
    );
  if (p.accepter.region !== ctx.region)
    throw new AwsError(
      "OperationNotPermitted",
      `Incorrect region (${ctx.region}) specified for this request. VPC peering connection ${p.id} must be ${verb}ed in region ${p.accepter.region}.`,
    );
  return p;
}

function setStatus(tx: Tx, ctx: Ctx, p: VpcPeeringConnection, status: PeeringStatus, message: string) {
  const next: VpcPeeringConnection = {
    ...p,
    status,
    message,
    statusChangedAt: isoNow(ctx),
    expiresAt: status === "pending-acceptance" ? p.expiresAt : undefined,
  };
  tx.put("vpcPeeringConnection", next);
  syncPeeringRoutes(tx, next);
  return next;
}

function activeCount(tx: Tx, vpcId: string): number {
  return [...tx.all("vpcPeeringConnection")].filter(
    (p) => p.status === "active" && (p.requester.vpcId === vpcId || p.accepter.vpcId === vpcId),
  ).length;
}

export function acceptPeering(tx: Tx, ctx: Ctx, id: string | undefined): VpcPeeringConnection {
  const p = asAccepter(tx, ctx, id, "accept");
  if (p.status !== "pending-acceptance") throw wrongState(p);
  for (const vpcId of [p.requester.vpcId, p.accepter.vpcId])
    if (activeCount(tx, vpcId) >= ACTIVE_PEERINGS_PER_VPC)
      throw new AwsError(
        "ActiveVpcPeeringConnectionPerVpcLimitExceeded",
        `The VPC ${vpcId} has reached the limit of ${ACTIVE_PEERINGS_PER_VPC} active VPC peering connections.`,
      );
  return setStatus(tx, ctx, p, "provisioning", "Provisioning");
}

export function rejectPeering(tx: Tx, ctx: Ctx, id: string | undefined): void {
  const p = asAccepter(tx, ctx, id, "reject");
  if (p.status !== "pending-acceptance") throw wrongState(p);
  setStatus(tx, ctx, p, "rejected", `Rejected by ${ctx.accountId}`);
}

/**
 * Either owner deletes an active connection; a pending request is withdrawn by its requester
 * (the accepter rejects it instead). Inter-region connections pass through `deleting`.
 */
export function deletePeering(tx: Tx, ctx: Ctx, id: string | undefined): void {
  const p = getPeering(tx, ctx, id);
  const requester = p.requester.ownerId === ctx.accountId && p.requester.region === ctx.region;
  const deletable =
    p.status === "active" ||
    p.status === "provisioning" ||
    (requester && (p.status === "pending-acceptance" || p.status === "initiating-request"));
  if (!deletable) throw wrongState(p);
  const interRegion = p.requester.region !== p.accepter.region;
  if (interRegion && p.status === "active") setStatus(tx, ctx, p, "deleting", `Deleting by ${ctx.accountId}`);
  else setStatus(tx, ctx, p, "deleted", `Deleted by ${ctx.accountId}`);
}

export interface PeeringOptionsInput {
  allowDnsResolutionFromRemoteVpc?: boolean;
}

/** ModifyVpcPeeringConnectionOptions: each owner sets its own side's options, on an active connection. */
export function modifyPeeringOptions(
  tx: Tx,
  ctx: Ctx,
  id: string | undefined,
  input: { requester?: PeeringOptionsInput; accepter?: PeeringOptionsInput },
): VpcPeeringConnection {
  const p = getPeering(tx, ctx, id);
  if (!input.requester && !input.accepter)
    throw missingParameter("accepterPeeringConnectionOptions or requesterPeeringConnectionOptions");
  if (p.status !== "active") throw wrongState(p);
  const check = (side: PeeringSide, label: string) => {
    if (side.ownerId !== ctx.accountId || side.region !== ctx.region)
      throw new AwsError(
        "OperationNotPermitted",
        `User ${ctx.accountId} cannot modify the ${label} options of ${p.id}: they belong to ${side.ownerId} in ${side.region}.`,
      );
  };
  if (input.requester) check(p.requester, "requester");
  if (input.accepter) check(p.accepter, "accepter");
  const apply = (side: PeeringSide, o?: PeeringOptionsInput): PeeringSide =>
    o?.allowDnsResolutionFromRemoteVpc === undefined
      ? side
      : { ...side, allowDnsResolutionFromRemoteVpc: o.allowDnsResolutionFromRemoteVpc };
  return tx.put("vpcPeeringConnection", {
    ...p,
    requester: apply(p.requester, input.requester),
    accepter: apply(p.accepter, input.accepter),
  });
}

/** The other side of an active connection, seen from `vpcId` (undefined when it is not one side). */
export function otherSide(p: VpcPeeringConnection, vpcId: string): PeeringSide | undefined {
  if (p.requester.vpcId === vpcId) return p.accepter;
  if (p.accepter.vpcId === vpcId) return p.requester;
  return undefined;
}

/** Routes through a connection carry traffic only while it is active; otherwise they are blackholes. */
function syncPeeringRoutes(tx: Tx, p: VpcPeeringConnection): void {
  const state = p.status === "active" ? "active" : "blackhole";
  for (const t of tx.all("routeTable")) {
    if (!t.routes.some((r) => r.target.kind === "peering" && r.target.id === p.id && r.state !== state))
      continue;
    tx.put("routeTable", {
      ...t,
      routes: t.routes.map((r) =>
        r.target.kind === "peering" && r.target.id === p.id ? { ...r, state } : r,
      ),
    });
  }
}

registerRouteTargets((tx, ctx, target, vpcId) => {
  if (target.kind !== "peering") return false;
  if (!isIdOf("pcx", target.id))
    throw new AwsError(
      "InvalidVpcPeeringConnectionId.Malformed",
      `Invalid id: "${target.id}" (expecting "pcx-...")`,
    );
  const p = tx.get("vpcPeeringConnection", target.id);
  if (!p || !seesPeering(p, ctx) || !otherSide(p, vpcId)) throw notFound(target.id);
  return true;
});

registerRouteState((tx, target) => {
  if (target.kind !== "peering") return undefined;
  return tx.get("vpcPeeringConnection", target.id)?.status === "active" ? "active" : "blackhole";
});

registerVpcDependents((tx, vpc) =>
  [...tx.all("vpcPeeringConnection")]
    .filter((p) => (p.status === "active" || p.status === "pending-acceptance") && otherSide(p, vpc.id))
    .map((p) => p.id),
);

const moving = new Watched("vpcPeeringConnection", (p) =>
  [
    "initiating-request",
    "pending-acceptance",
    "provisioning",
    "deleting",
    "rejected",
    "expired",
    "failed",
    "deleted",
  ].includes(p.status),
);

/** Requests reach the accepter, accepted ones become active, pending ones expire, old ones go. */
registerLifecycleStep((tx, rt) => {
  const now = rt.now();
  const ctx = { rt } as Ctx;
  for (const p of moving.in(tx)) {
    if (p.status === "initiating-request")
      setStatus(tx, ctx, p, "pending-acceptance", `Pending Acceptance by ${p.accepter.ownerId}`);
    else if (p.status === "provisioning") setStatus(tx, ctx, p, "active", "Active");
    else if (p.status === "deleting")
      setStatus(tx, ctx, p, "deleted", p.message.replace("Deleting", "Deleted"));
    else if (p.status === "pending-acceptance" && p.expiresAt && now.getTime() >= Date.parse(p.expiresAt))
      setStatus(tx, ctx, p, "expired", "Expired");
    else if (
      p.status !== "pending-acceptance" &&
      now.getTime() - Date.parse(p.statusChangedAt) >= TERMINAL_VISIBLE_MS
    )
      tx.delete("vpcPeeringConnection", p.id);
  }
});
