import { cidrContains, parseCidr } from "../cloud/cidr.js";
import type { State } from "../cloud/state.js";
import { lookupTgwRoute } from "../cloud/transit-gateway-route-table.js";
import type { Subnet, Vpc } from "../cloud/types.js";
import { longestMatch, routeTableOf } from "./route.js";

function holds(vpc: Vpc, ip: number): boolean {
  return vpc.cidrBlocks.some((b) => b.state === "associated" && cidrContains(parseCidr(b.cidr)!, ip));
}

/**
 * The VPC a VPC's flow to another VPC's private address ends in, as its routes lead it there:
 * the peer of the peering its route names, or the VPC attachment its transit gateway's route
 * table sends it to — when that VPC holds the address. Undefined otherwise (no route, a peer
 * that does not hold it: the decision's route hops then say why). Addresses are dialled as AWS
 * workloads dial them (10.1.1.5), so the same private address in several VPCs is told apart by
 * the path, as on AWS.
 */
export function routedDestinationVpc(state: State, src: Vpc, subnet: Subnet, ip: number): Vpc | undefined {
  const table = routeTableOf(state, subnet);
  const route = table && longestMatch(table, ip);
  if (route?.target.kind === "peering") {
    const p = state.get("vpcPeeringConnection", route.target.id);
    const peerId = p && (p.requester.vpcId === src.id ? p.accepter.vpcId : p.requester.vpcId);
    const peer = peerId ? state.get("vpc", peerId) : undefined;
    return peer && holds(peer, ip) ? peer : undefined;
  }
  if (route?.target.kind !== "transit") return undefined;
  for (const a of state.all("transitGatewayAttachment")) {
    if (a.transitGatewayId !== route.target.id || a.resourceType !== "vpc" || a.resourceId !== src.id)
      continue;
    if (a.state !== "available" || !a.associatedRouteTableId) continue;
    const rtb = state.get("transitGatewayRouteTable", a.associatedRouteTableId);
    const r = rtb && lookupTgwRoute(state, rtb, ip);
    const next = r?.attachmentId ? state.get("transitGatewayAttachment", r.attachmentId) : undefined;
    const vpc = next?.resourceType === "vpc" ? state.get("vpc", next.resourceId) : undefined;
    return vpc && holds(vpc, ip) ? vpc : undefined;
  }
  return undefined;
}
