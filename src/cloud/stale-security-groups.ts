import type { Ctx } from "./context.js";
import { invalidParameterValue, missingParameter } from "./errors.js";
import type { Tx } from "./state.js";
import type { SecurityGroup, SgRule, VpcPeeringConnection } from "./types.js";
import { getVpc } from "./vpc.js";

/**
 * DescribeStaleSecurityGroups: rules of a VPC's groups that reference a security group across a
 * VPC peering connection that no longer carries them — the peering was deleted (or expired,
 * rejected…), or the referenced group itself was deleted. AWS keeps such rules and reports them;
 * so does privlink (the flow decision already ignores them: group references need an active
 * peering).
 */

export interface StaleReference {
  readonly rule: SgRule;
  /** The referenced group's VPC, when the group still exists. */
  readonly vpcId?: string;
  /** The latest peering between the two VPCs, if any is still on record. */
  readonly peering?: VpcPeeringConnection;
}

export interface StaleGroup {
  readonly group: SecurityGroup;
  readonly ingress: readonly StaleReference[];
  readonly egress: readonly StaleReference[];
}

function peeringsBetween(tx: Tx, a: string, b: string): VpcPeeringConnection[] {
  return [...tx.all("vpcPeeringConnection")].filter(
    (p) =>
      (p.requester.vpcId === a && p.accepter.vpcId === b) ||
      (p.requester.vpcId === b && p.accepter.vpcId === a),
  );
}

function staleOf(tx: Tx, group: SecurityGroup, rule: SgRule): StaleReference | undefined {
  if (!rule.groupId) return undefined;
  const ref = tx.get("securityGroup", rule.groupId);
  if (ref?.vpcId === group.vpcId) return undefined;
  const peerings = ref ? peeringsBetween(tx, group.vpcId, ref.vpcId) : [];
  if (ref && peerings.some((p) => p.status === "active")) return undefined;
  return { rule, vpcId: ref?.vpcId, peering: peerings.at(-1) };
}

export function staleSecurityGroups(
  tx: Tx,
  ctx: Ctx,
  input: { vpcId?: string; maxResults?: number },
): StaleGroup[] {
  if (!input.vpcId) throw missingParameter("VpcId");
  if (input.maxResults !== undefined && (input.maxResults < 5 || input.maxResults > 255))
    throw invalidParameterValue(
      `Value (${input.maxResults}) for parameter maxResults is invalid. Expecting a value between 5 and 255.`,
    );
  const vpc = getVpc(tx, ctx, input.vpcId);
  const out: StaleGroup[] = [];
  for (const g of tx.all("securityGroup")) {
    if (g.vpcId !== vpc.id || g.accountId !== ctx.accountId) continue;
    const pick = (rules: readonly SgRule[]) =>
      rules.map((r) => staleOf(tx, g, r)).filter((s): s is StaleReference => !!s);
    const ingress = pick(g.ingress);
    const egress = pick(g.egress);
    if (ingress.length || egress.length) out.push({ group: g, ingress, egress });
  }
  return out.sort((a, b) => (a.group.id < b.group.id ? -1 : 1));
}
