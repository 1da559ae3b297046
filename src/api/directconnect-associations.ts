import { dxError } from "../cloud/direct-connect.js";
import * as assoc from "../cloud/direct-connect-association.js";
import type { DxGatewayAssociation, DxGatewayAssociationProposal } from "../cloud/types.js";
import type { HandlerTable } from "./handler.js";

/**
 * Direct Connect gateway associations, their allowed prefixes and cross-account proposals
 * (JSON 1.1, camelCase members; the rules are in cloud/direct-connect-association.ts).
 */

/** A RouteFilterPrefixList (`[{cidr}]`) as CIDR strings; undefined when the member is absent. */
function prefixList(value: unknown, member: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw dxError(`${member} must be a list of {cidr} objects`);
  return value.map((p: { cidr?: unknown } | null) =>
    typeof p?.cidr === "string" ? p.cidr : String(p?.cidr),
  );
}

const cidrs = (list: readonly string[]) => list.map((cidr) => ({ cidr }));

function gatewayShape(a: { gatewayId: string; gatewayType: string; gatewayRegion: string; owner: string }) {
  return { id: a.gatewayId, type: a.gatewayType, ownerAccount: a.owner, region: a.gatewayRegion };
}

export function associationShape(a: DxGatewayAssociation) {
  const vgw = a.gatewayType === "virtualPrivateGateway";
  return {
    directConnectGatewayId: a.dxGatewayId,
    directConnectGatewayOwnerAccount: a.accountId,
    associationState: a.state,
    associationId: a.id,
    // Associations stored before cross-account ones existed have no gateway owner: their own.
    associatedGateway: gatewayShape({ ...a, owner: a.gatewayOwnerAccount ?? a.accountId }),
    allowedPrefixesToDirectConnectGateway: cidrs(a.allowedPrefixes),
    ...(vgw
      ? {
          virtualGatewayId: a.gatewayId,
          virtualGatewayRegion: a.gatewayRegion,
          virtualGatewayOwnerAccount: a.gatewayOwnerAccount ?? a.accountId,
        }
      : {}),
  };
}

function proposalShape(p: DxGatewayAssociationProposal) {
  return {
    proposalId: p.id,
    directConnectGatewayId: p.dxGatewayId,
    directConnectGatewayOwnerAccount: p.dxGatewayOwnerAccount,
    proposalState: p.state,
    associatedGateway: gatewayShape({ ...p, owner: p.accountId }),
    existingAllowedPrefixesToDirectConnectGateway: cidrs(p.existingAllowedPrefixes),
    requestedAllowedPrefixesToDirectConnectGateway: cidrs(p.requestedAllowedPrefixes),
  };
}

const ADD = "addAllowedPrefixesToDirectConnectGateway";
const REMOVE = "removeAllowedPrefixesToDirectConnectGateway";
const OVERRIDE = "overrideAllowedPrefixesToDirectConnectGateway";

export const directConnectAssociationHandlers: HandlerTable = {
  CreateDirectConnectGatewayAssociation: ({ tx, ctx, input }) => ({
    directConnectGatewayAssociation: associationShape(
      assoc.createDxGatewayAssociation(tx, ctx, {
        directConnectGatewayId: input.directConnectGatewayId,
        gatewayId: input.gatewayId ?? input.virtualGatewayId,
        allowedPrefixes: prefixList(input[ADD], ADD),
      }),
    ),
  }),
  DescribeDirectConnectGatewayAssociations: ({ tx, ctx, input }) => {
    const gw = input.associatedGatewayId ?? input.virtualGatewayId;
    const all = assoc
      .visibleAssociations(tx, ctx)
      .filter(
        (a) =>
          (!input.associationId || a.id === input.associationId) &&
          (!input.directConnectGatewayId || a.dxGatewayId === input.directConnectGatewayId) &&
          (!gw || a.gatewayId === gw),
      );
    return { directConnectGatewayAssociations: all.map(associationShape) };
  },
  UpdateDirectConnectGatewayAssociation: ({ tx, ctx, input }) => ({
    directConnectGatewayAssociation: associationShape(
      assoc.updateDxGatewayAssociation(tx, ctx, {
        associationId: input.associationId,
        add: prefixList(input[ADD], ADD),
        remove: prefixList(input[REMOVE], REMOVE),
      }),
    ),
  }),
  DeleteDirectConnectGatewayAssociation: ({ tx, ctx, input }) => {
    let id: string | undefined = input.associationId;
    if (!id && input.directConnectGatewayId && input.virtualGatewayId)
      id = assoc
        .visibleAssociations(tx, ctx)
        .find(
          (a) => a.dxGatewayId === input.directConnectGatewayId && a.gatewayId === input.virtualGatewayId,
        )?.id;
    return {
      directConnectGatewayAssociation: associationShape(assoc.deleteDxGatewayAssociation(tx, ctx, id)),
    };
  },
  CreateDirectConnectGatewayAssociationProposal: ({ tx, ctx, input }) => ({
    directConnectGatewayAssociationProposal: proposalShape(
      assoc.createProposal(tx, ctx, {
        directConnectGatewayId: input.directConnectGatewayId,
        directConnectGatewayOwnerAccount: input.directConnectGatewayOwnerAccount,
        gatewayId: input.gatewayId,
        add: prefixList(input[ADD], ADD),
        remove: prefixList(input[REMOVE], REMOVE),
      }),
    ),
  }),
  DescribeDirectConnectGatewayAssociationProposals: ({ tx, ctx, input }) => {
    const all = assoc
      .visibleProposals(tx, ctx)
      .filter(
        (p) =>
          (!input.proposalId || p.id === input.proposalId) &&
          (!input.directConnectGatewayId || p.dxGatewayId === input.directConnectGatewayId) &&
          (!input.associatedGatewayId || p.gatewayId === input.associatedGatewayId),
      );
    return { directConnectGatewayAssociationProposals: all.map(proposalShape) };
  },
  AcceptDirectConnectGatewayAssociationProposal: ({ tx, ctx, input }) => ({
    directConnectGatewayAssociation: associationShape(
      assoc.acceptProposal(tx, ctx, {
        directConnectGatewayId: input.directConnectGatewayId,
        proposalId: input.proposalId,
        associatedGatewayOwnerAccount: input.associatedGatewayOwnerAccount,
        override: prefixList(input[OVERRIDE], OVERRIDE),
      }),
    ),
  }),
  DeleteDirectConnectGatewayAssociationProposal: ({ tx, ctx, input }) => ({
    directConnectGatewayAssociationProposal: proposalShape(assoc.deleteProposal(tx, ctx, input.proposalId)),
  }),
};
