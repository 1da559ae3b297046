/** DeleteVpcEndpoints and the provider's Accept/RejectVpcEndpointConnections: bulk actions that report per-ID failures. */

import { type Ctx, isoNow } from "./context.js";
import { endpointNotFound, isGone, malformed } from "./endpoint.js";
import { getServiceForOwner } from "./endpoint-service.js";
import { deleteEniRecord } from "./eni.js";
import { AwsError } from "./errors.js";
import { isIdOf } from "./ids.js";
import { emitConnectionEvent } from "./notifications.js";
import { removeRoutesTo } from "./route-table.js";
import type { Tx } from "./state.js";
import type { EndpointState, VpcEndpoint } from "./types.js";

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
