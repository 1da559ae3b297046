/**
 * `privlink impact CHANGE`: the flows `access` finds allowed today that a change would break.
 * The change runs through the same cloud/ functions the API uses, on an unpersisted copy of the
 * state; then every flow is decided again by flow/ on the copy.
 */

import { DEFAULT_HOST } from "../cloud/context.js";
import { deleteVpcEndpoints } from "../cloud/endpoint-connections.js";

import { AwsError } from "../cloud/errors.js";
import { deleteRoute } from "../cloud/route-table.js";
import type { Runtime } from "../cloud/runtime.js";
import { revoke } from "../cloud/security-group.js";
import type { State } from "../cloud/state.js";
import {
  type AccessRow,
  decideCase,
  endpointPolicyKind,
  flowCases,
  pathOf,
  workloadColumns,
} from "./access.js";
import { BadInput } from "./subjects.js";

export type Change =
  | { readonly kind: "delete-route"; readonly routeTableId: string; readonly cidr: string }
  | { readonly kind: "delete-endpoint"; readonly endpointId: string }
  | { readonly kind: "revoke"; readonly ruleId: string };

export interface BrokenFlow extends AccessRow {
  /** Why the flow would be refused after the change (the first refusing hop). */
  readonly reason: string;
  readonly hop: string;
}

export interface ImpactReport {
  readonly change: Change;
  readonly broken: readonly BrokenFlow[];
  /** Allowed flows that keep working. */
  readonly unaffected: number;
}

function ownerCtx(rt: Runtime, accountId: string, region: string) {
  return { accountId, region, principalArn: `arn:aws:iam::${accountId}:root`, rt, host: DEFAULT_HOST };
}

/** Applies `change` to `state` (a copy) as its resource's owner would through the API. */
export function applyChange(state: State, rt: Runtime, change: Change): void {
  state.transact((tx) => {
    switch (change.kind) {
      case "delete-route": {
        const table = tx.get("routeTable", change.routeTableId);
        if (!table) throw new BadInput(`no route table ${change.routeTableId}`);
        deleteRoute(tx, ownerCtx(rt, table.accountId, table.region), table.id, {
          destinationCidr: change.cidr,
        });
        return;
      }
      case "delete-endpoint": {
        const ep = tx.get("vpcEndpoint", change.endpointId);
        if (!ep) throw new BadInput(`no VPC endpoint ${change.endpointId}`);
        const failed = deleteVpcEndpoints(tx, ownerCtx(rt, ep.accountId, ep.region), [ep.id]);
        if (failed.length) throw new BadInput(`${ep.id} cannot be deleted: ${JSON.stringify(failed[0])}`);
        return;
      }
      case "revoke": {
        for (const g of tx.all("securityGroup"))
          for (const direction of ["ingress", "egress"] as const)
            if (g[direction].some((r) => r.ruleId === change.ruleId)) {
              revoke(tx, ownerCtx(rt, g.accountId, g.region), g.id, direction, [], [change.ruleId]);
              return;
            }
        throw new BadInput(`no security group rule ${change.ruleId}`);
      }
    }
  });
}

export function impact(state: State, rt: Runtime, change: Change, account?: string): ImpactReport {
  const after = state.copy();
  try {
    applyChange(after, rt, change);
  } catch (err) {
    if (err instanceof AwsError && !(err instanceof BadInput)) throw new BadInput(err.message);
    throw err;
  }
  const broken: BrokenFlow[] = [];
  let unaffected = 0;
  for (const c of flowCases(state, account)) {
    const before = decideCase(state, c);
    if (!before.allowed) continue;
    // The same question on the copy: the workload may be gone too (its ENI deleted with the change).
    const d = decideCase(after, c);
    if (d.allowed) {
      unaffected++;
      continue;
    }
    const hop = d.hops.find((h) => !h.allowed)!;
    broken.push({
      ...workloadColumns(c.workload),
      name: c.workload.name,
      endpointId: c.endpoint.id,
      endpointAccount: c.endpoint.accountId,
      service: c.endpoint.serviceName,
      port: c.port,
      path: pathOf(before),
      endpointPolicy: endpointPolicyKind(c.endpoint.policyDocument),
      reason: d.reason,
      hop: hop.kind,
    });
  }
  return { change, broken, unaffected };
}
