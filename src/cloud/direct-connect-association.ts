import { cidrOverlaps, isCanonicalCidr, parseCidr } from "./cidr.js";
import type { Ctx } from "./context.js";
import { dxError, dxGatewayUsers, dxUuid, getDxGateway } from "./direct-connect.js";
import { registerLifecycleStep, Watched } from "./lifecycle.js";
import { syncPropagatedRoutes } from "./propagation.js";
import { dxAdvertisedPrefixes, vgwVpcCidrs } from "./site-links.js";
import type { Tx } from "./state.js";
import type {
  DxAssociatedGatewayType,
  DxGateway,
  DxGatewayAssociation,
  DxGatewayAssociationProposal,
} from "./types.js";

/**
 * Direct Connect gateway associations with a virtual private gateway or a transit gateway, and
 * their allowed prefixes (what the AWS side advertises to on-premises: site-links.ts). In one
 * account the owner associates directly; across accounts the VGW/TGW owner proposes and the DX
 * gateway owner accepts, optionally overriding the prefixes. A transit gateway association needs
 * allowed prefixes; a VGW association defaults to its VPC's CIDRs. Associations move
 * associating → associated, updating → associated and disassociating → disassociated in a
 * lifecycle step, as AWS's do (in seconds rather than minutes).
 */

/** AWS quotas: gateways of each kind per DX gateway, prefixes per association. */
const MAX_VGWS = 20;
const MAX_TGWS = 6;
const MAX_PREFIXES = 200;

interface GatewayRef {
  readonly id: string;
  readonly type: DxAssociatedGatewayType;
  readonly region: string;
  readonly accountId: string;
}

type TransitGatewayLookup = (tx: Tx, tgwId: string) => { region: string; accountId: string } | undefined;
let transitGatewayOf: TransitGatewayLookup | undefined;
/** The TGW module names the available transit gateways (region and owner). */
export function registerDxTransitGateways(f: TransitGatewayLookup): void {
  transitGatewayOf = f;
}

/** The TGW module gives a DX gateway associated with a TGW its attachment, and takes it back. */
const associationHooks: ((tx: Tx, ctx: Ctx, a: DxGatewayAssociation) => void)[] = [];
export function onDxGatewayAssociationChanged(f: (tx: Tx, ctx: Ctx, a: DxGatewayAssociation) => void): void {
  associationHooks.push(f);
}

function changed(tx: Tx, ctx: Ctx, a: DxGatewayAssociation): DxGatewayAssociation {
  const next = tx.put("dxGatewayAssociation", a);
  for (const f of associationHooks) f(tx, ctx, next);
  syncPropagatedRoutes(tx);
  return next;
}

function gatewayRef(tx: Tx, gatewayId: string): GatewayRef | undefined {
  if (gatewayId.startsWith("vgw-")) {
    const g = tx.get("vpnGateway", gatewayId);
    return g && g.state !== "deleted"
      ? { id: g.id, type: "virtualPrivateGateway", region: g.region, accountId: g.accountId }
      : undefined;
  }
  const t = transitGatewayOf?.(tx, gatewayId);
  return t && { id: gatewayId, type: "transitGateway", ...t };
}

/** The caller's own VGW or TGW: another account's is as unknown as a missing one. */
function ownGateway(tx: Tx, ctx: Ctx, gatewayId: unknown): GatewayRef {
  if (typeof gatewayId !== "string" || !gatewayId) throw dxError("gatewayId is required");
  const g = gatewayRef(tx, gatewayId);
  if (!g || g.accountId !== ctx.accountId) throw dxError(`Gateway ${gatewayId} does not exist`);
  return g;
}

/** Another account's DX gateway, named with its owner (a proposal's target). */
function dxGatewayOf(tx: Tx, id: unknown, owner: unknown): DxGateway {
  if (typeof id !== "string" || !id) throw dxError("directConnectGatewayId is required");
  if (typeof owner !== "string" || !owner) throw dxError("directConnectGatewayOwnerAccount is required");
  const g = tx.get("dxGateway", id);
  if (!g || g.accountId !== owner || g.state === "deleted")
    throw dxError(`Direct Connect gateway ${id} does not exist in account ${owner}`);
  return g;
}

/** A prefix list as given: IPv4 CIDR blocks with zero host bits, duplicates dropped. */
export function checkPrefixes(prefixes: readonly string[] | undefined, member: string): string[] {
  const out: string[] = [];
  for (const p of prefixes ?? []) {
    if (!parseCidr(p))
      throw dxError(`Invalid ${member} prefix ${p}: use an IPv4 CIDR block such as 10.0.0.0/16`);
    if (!isCanonicalCidr(p)) throw dxError(`Invalid ${member} prefix ${p}: the host bits must be zero`);
    if (!out.includes(p)) out.push(p);
  }
  if (out.length > MAX_PREFIXES)
    throw dxError(`${member} has ${out.length} prefixes: an association allows at most ${MAX_PREFIXES}`);
  return out;
}

/** The AWS rules an association (new, or `current` updated) must keep on its DX gateway. */
function checkFits(
  tx: Tx,
  dxgw: DxGateway,
  gw: GatewayRef,
  prefixes: readonly string[],
  current?: DxGatewayAssociation,
): void {
  if (gw.type === "transitGateway" && prefixes.length === 0)
    throw dxError(
      `addAllowedPrefixesToDirectConnectGateway is required for a transit gateway association (${gw.id})`,
    );
  if (gw.type === "virtualPrivateGateway" && vgwVpcCidrs(tx, gw.id).length === 0)
    throw dxError(`Virtual private gateway ${gw.id} is not attached to a VPC`);
  if (!current) checkNewcomer(tx, dxgw, gw);
  const candidate = { ...(current ?? placeholder(dxgw, gw)), allowedPrefixes: prefixes };
  const mine = dxAdvertisedPrefixes(tx, candidate).map((p) => parseCidr(p)!);
  for (const other of tx.all("dxGatewayAssociation")) {
    if (other.dxGatewayId !== dxgw.id || other.state === "disassociated" || other.id === current?.id)
      continue;
    for (const p of dxAdvertisedPrefixes(tx, other))
      if (mine.some((m) => cidrOverlaps(m, parseCidr(p)!)))
        throw dxError(
          `Allowed prefix ${p} of ${other.gatewayId} on Direct Connect gateway ${dxgw.id} overlaps what ${gw.id} would advertise: prefixes advertised over one Direct Connect gateway must not overlap`,
        );
  }
}

/** A gateway joining a DX gateway: once, one kind per DX gateway, within the quotas. */
function checkNewcomer(tx: Tx, dxgw: DxGateway, gw: GatewayRef): void {
  const users = dxGatewayUsers(tx, dxgw.id);
  if (users.some((u) => u.id === gw.id))
    throw dxError(`Gateway ${gw.id} is already associated with Direct Connect gateway ${dxgw.id}`);
  const clash = users.find((u) => u.kind !== gw.type);
  if (clash)
    throw dxError(
      gw.type === "transitGateway"
        ? `Direct Connect gateway ${dxgw.id} is associated with a virtual private gateway or attached to a private virtual interface (${clash.id}): it cannot be associated with transit gateway ${gw.id}`
        : `Direct Connect gateway ${dxgw.id} is associated with a transit gateway or attached to a transit virtual interface (${clash.id}): it cannot be associated with virtual private gateway ${gw.id}`,
    );
  if (gw.type === "virtualPrivateGateway") {
    const elsewhere = [...tx.all("dxGatewayAssociation")].find(
      (a) => a.gatewayId === gw.id && a.state !== "disassociated",
    );
    if (elsewhere)
      throw dxError(
        `Virtual private gateway ${gw.id} is already associated with Direct Connect gateway ${elsewhere.dxGatewayId}`,
      );
  }
  const max = gw.type === "transitGateway" ? MAX_TGWS : MAX_VGWS;
  const same = [...tx.all("dxGatewayAssociation")].filter(
    (a) => a.dxGatewayId === dxgw.id && a.gatewayType === gw.type && a.state !== "disassociated",
  );
  if (same.length >= max)
    throw dxError(
      `Direct Connect gateway ${dxgw.id} already has ${same.length} ${gw.type === "transitGateway" ? "transit" : "virtual private"} gateway associations: the limit is ${max}`,
    );
}

function placeholder(dxgw: DxGateway, gw: GatewayRef): DxGatewayAssociation {
  return {
    id: "",
    accountId: dxgw.accountId,
    dxGatewayId: dxgw.id,
    gatewayId: gw.id,
    gatewayType: gw.type,
    gatewayRegion: gw.region,
    gatewayOwnerAccount: gw.accountId,
    allowedPrefixes: [],
    state: "associating",
  };
}

/** A new association, `associating` until the lifecycle step makes it `associated`. */
function associate(
  tx: Tx,
  ctx: Ctx,
  dxgw: DxGateway,
  gw: GatewayRef,
  prefixes: readonly string[],
): DxGatewayAssociation {
  // A VGW association advertises its VPC's CIDRs unless told otherwise.
  const allowed = prefixes.length || gw.type === "transitGateway" ? prefixes : vgwVpcCidrs(tx, gw.id);
  checkFits(tx, dxgw, gw, allowed);
  return changed(tx, ctx, {
    ...placeholder(dxgw, gw),
    id: dxUuid(ctx),
    allowedPrefixes: [...allowed],
  });
}

export function createDxGatewayAssociation(
  tx: Tx,
  ctx: Ctx,
  input: { directConnectGatewayId?: string; gatewayId?: string; allowedPrefixes?: readonly string[] },
): DxGatewayAssociation {
  const dxgw = getDxGateway(tx, ctx, input.directConnectGatewayId);
  const gw = ownGateway(tx, ctx, input.gatewayId);
  return associate(
    tx,
    ctx,
    dxgw,
    gw,
    checkPrefixes(input.allowedPrefixes, "addAllowedPrefixesToDirectConnectGateway"),
  );
}

/** An association the caller is a party to (owner of the DX gateway or of the VGW/TGW). */
export function getDxGatewayAssociation(tx: Tx, ctx: Ctx, id: string | undefined): DxGatewayAssociation {
  const a = id ? tx.get("dxGatewayAssociation", id) : undefined;
  if (
    !a ||
    a.state === "disassociated" ||
    (a.accountId !== ctx.accountId && a.gatewayOwnerAccount !== ctx.accountId)
  )
    throw dxError(`Direct Connect gateway association ${id ?? ""} does not exist`);
  return a;
}

/** Either party may disassociate. */
export function deleteDxGatewayAssociation(tx: Tx, ctx: Ctx, id: string | undefined): DxGatewayAssociation {
  const a = getDxGatewayAssociation(tx, ctx, id);
  if (a.state === "disassociating")
    throw dxError(`Direct Connect gateway association ${a.id} is already disassociating`);
  return changed(tx, ctx, { ...a, state: "disassociating" });
}

/** The DX gateway's owner adds or removes allowed prefixes (the other account proposes instead). */
export function updateDxGatewayAssociation(
  tx: Tx,
  ctx: Ctx,
  input: { associationId?: string; add?: readonly string[]; remove?: readonly string[] },
): DxGatewayAssociation {
  const a = getDxGatewayAssociation(tx, ctx, input.associationId);
  if (a.accountId !== ctx.accountId)
    throw dxError(
      `Direct Connect gateway association ${a.id} belongs to Direct Connect gateway ${a.dxGatewayId} of account ${a.accountId}: propose the change with CreateDirectConnectGatewayAssociationProposal`,
    );
  if (a.state !== "associated")
    throw dxError(
      `Direct Connect gateway association ${a.id} is ${a.state}: update it once it is associated`,
    );
  const next = applyPrefixChange(
    a.allowedPrefixes,
    checkPrefixes(input.add, "addAllowedPrefixesToDirectConnectGateway"),
    checkPrefixes(input.remove, "removeAllowedPrefixesToDirectConnectGateway"),
    a.id,
  );
  checkFits(tx, getDxGateway(tx, ctx, a.dxGatewayId), refOf(a), next, a);
  return changed(tx, ctx, { ...a, allowedPrefixes: next, state: "updating" });
}

function applyPrefixChange(
  current: readonly string[],
  add: readonly string[],
  remove: readonly string[],
  what: string,
): string[] {
  for (const p of remove)
    if (!current.includes(p)) throw dxError(`Prefix ${p} is not an allowed prefix of ${what}`);
  const next = [...current.filter((p) => !remove.includes(p)), ...add.filter((p) => !current.includes(p))];
  if (next.length === 0)
    throw dxError(`${what} would have no allowed prefixes left: an association keeps at least one`);
  return checkPrefixes(next, "allowedPrefixesToDirectConnectGateway");
}

function refOf(a: DxGatewayAssociation | DxGatewayAssociationProposal): GatewayRef {
  const accountId = "gatewayOwnerAccount" in a ? a.gatewayOwnerAccount : a.accountId;
  return { id: a.gatewayId, type: a.gatewayType, region: a.gatewayRegion, accountId };
}

function presentAssociation(tx: Tx, dxGatewayId: string, gatewayId: string) {
  for (const a of tx.all("dxGatewayAssociation"))
    if (a.dxGatewayId === dxGatewayId && a.gatewayId === gatewayId && a.state !== "disassociated") return a;
  return undefined;
}

/**
 * The VGW/TGW owner proposes an association with (or, when one exists, a prefix change of) a DX
 * gateway another account owns. The rules are checked now and again at acceptance.
 */
export function createProposal(
  tx: Tx,
  ctx: Ctx,
  input: {
    directConnectGatewayId?: string;
    directConnectGatewayOwnerAccount?: string;
    gatewayId?: string;
    add?: readonly string[];
    remove?: readonly string[];
  },
): DxGatewayAssociationProposal {
  const dxgw = dxGatewayOf(tx, input.directConnectGatewayId, input.directConnectGatewayOwnerAccount);
  const gw = ownGateway(tx, ctx, input.gatewayId);
  const add = checkPrefixes(input.add, "addAllowedPrefixesToDirectConnectGateway");
  const remove = checkPrefixes(input.remove, "removeAllowedPrefixesToDirectConnectGateway");
  const pending = [...tx.all("dxGatewayAssociationProposal")].find(
    (p) => p.dxGatewayId === dxgw.id && p.gatewayId === gw.id && p.state === "requested",
  );
  if (pending)
    throw dxError(
      `Proposal ${pending.id} to associate ${gw.id} with Direct Connect gateway ${dxgw.id} is already requested: delete it first`,
    );
  const existing = presentAssociation(tx, dxgw.id, gw.id);
  let requested: string[];
  if (existing) {
    requested = applyPrefixChange(existing.allowedPrefixes, add, remove, `association ${existing.id}`);
    checkFits(tx, dxgw, gw, requested, existing);
  } else {
    if (remove.length)
      throw dxError(
        `removeAllowedPrefixesToDirectConnectGateway applies to an existing association: ${gw.id} is not associated with ${dxgw.id}`,
      );
    requested = add;
    if (requested.length) checkFits(tx, dxgw, gw, requested);
    else checkNewcomer(tx, dxgw, gw);
  }
  return tx.put("dxGatewayAssociationProposal", {
    id: dxUuid(ctx),
    accountId: ctx.accountId,
    dxGatewayId: dxgw.id,
    dxGatewayOwnerAccount: dxgw.accountId,
    gatewayId: gw.id,
    gatewayType: gw.type,
    gatewayRegion: gw.region,
    existingAllowedPrefixes: [...(existing?.allowedPrefixes ?? [])],
    requestedAllowedPrefixes: requested,
    state: "requested",
  });
}

/** A proposal the caller made or may accept (not a deleted one). */
export function getProposal(tx: Tx, ctx: Ctx, id: string | undefined): DxGatewayAssociationProposal {
  const p = id ? tx.get("dxGatewayAssociationProposal", id) : undefined;
  if (
    !p ||
    p.state === "deleted" ||
    (p.accountId !== ctx.accountId && p.dxGatewayOwnerAccount !== ctx.accountId)
  )
    throw dxError(`Direct Connect gateway association proposal ${id ?? ""} does not exist`);
  return p;
}

/** Only the proposer deletes a proposal, and only while it is requested. */
export function deleteProposal(tx: Tx, ctx: Ctx, id: string | undefined): DxGatewayAssociationProposal {
  if (!id) throw dxError("proposalId is required");
  const p = getProposal(tx, ctx, id);
  if (p.accountId !== ctx.accountId)
    throw dxError(
      `Direct Connect gateway association proposal ${p.id} was made by account ${p.accountId}: only the proposer deletes it`,
    );
  if (p.state !== "requested")
    throw dxError(`Direct Connect gateway association proposal ${p.id} is ${p.state}: it cannot be deleted`);
  return tx.put("dxGatewayAssociationProposal", { ...p, state: "deleted" });
}

/**
 * The DX gateway's owner accepts: the association is made (or its prefixes changed) with the
 * requested prefixes, or with `override` when given.
 */
export function acceptProposal(
  tx: Tx,
  ctx: Ctx,
  input: {
    directConnectGatewayId?: string;
    proposalId?: string;
    associatedGatewayOwnerAccount?: string;
    override?: readonly string[];
  },
): DxGatewayAssociation {
  if (!input.proposalId) throw dxError("proposalId is required");
  if (!input.associatedGatewayOwnerAccount) throw dxError("associatedGatewayOwnerAccount is required");
  const dxgw = getDxGateway(tx, ctx, input.directConnectGatewayId);
  const p = getProposal(tx, ctx, input.proposalId);
  if (p.dxGatewayId !== dxgw.id || p.accountId !== input.associatedGatewayOwnerAccount)
    throw dxError(
      `Proposal ${p.id} is not a proposal of account ${input.associatedGatewayOwnerAccount} for Direct Connect gateway ${dxgw.id}`,
    );
  if (p.state !== "requested")
    throw dxError(`Proposal ${p.id} is ${p.state}: only a requested proposal is accepted`);
  const gw = gatewayRef(tx, p.gatewayId);
  if (!gw || gw.accountId !== p.accountId) throw dxError(`Gateway ${p.gatewayId} does not exist`);
  const prefixes =
    input.override !== undefined
      ? checkPrefixes(input.override, "overrideAllowedPrefixesToDirectConnectGateway")
      : p.requestedAllowedPrefixes;
  const existing = presentAssociation(tx, dxgw.id, gw.id);
  let a: DxGatewayAssociation;
  if (existing) {
    if (existing.state !== "associated")
      throw dxError(
        `Direct Connect gateway association ${existing.id} is ${existing.state}: accept once it is associated`,
      );
    if (prefixes.length === 0)
      throw dxError(`Proposal ${p.id} would leave association ${existing.id} no allowed prefixes`);
    checkFits(tx, dxgw, gw, prefixes, existing);
    a = changed(tx, ctx, { ...existing, allowedPrefixes: [...prefixes], state: "updating" });
  } else a = associate(tx, ctx, dxgw, gw, prefixes);
  tx.put("dxGatewayAssociationProposal", { ...p, state: "accepted" });
  return a;
}

/** Associations and proposals the caller is a party to. */
export function visibleAssociations(tx: Tx, ctx: Ctx): DxGatewayAssociation[] {
  return [...tx.all("dxGatewayAssociation")].filter(
    (a) =>
      a.state !== "disassociated" &&
      (a.accountId === ctx.accountId || a.gatewayOwnerAccount === ctx.accountId),
  );
}

export function visibleProposals(tx: Tx, ctx: Ctx): DxGatewayAssociationProposal[] {
  return [...tx.all("dxGatewayAssociationProposal")].filter(
    (p) =>
      p.state !== "deleted" && (p.accountId === ctx.accountId || p.dxGatewayOwnerAccount === ctx.accountId),
  );
}

const NEXT: Partial<Record<DxGatewayAssociation["state"], DxGatewayAssociation["state"]>> = {
  associating: "associated",
  updating: "associated",
  disassociating: "disassociated",
};

const moving = new Watched("dxGatewayAssociation", (a) => NEXT[a.state] !== undefined);

registerLifecycleStep((tx) => {
  let moved = false;
  for (const a of moving.in(tx)) {
    tx.put("dxGatewayAssociation", { ...a, state: NEXT[a.state]! });
    moved = true;
  }
  if (moved) syncPropagatedRoutes(tx);
});
