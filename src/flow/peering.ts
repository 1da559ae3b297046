import { otherSide } from "../cloud/peering.js";
import type { Vpc } from "../cloud/types.js";
import { type Crossing, passed, type RouteContext, refused } from "./cross-vpc.js";
import { returnRoute } from "./return-path.js";
import { longestMatch } from "./route.js";
import type { Hop } from "./types.js";

/**
 * A flow routed to a VPC peering connection: the connection must be active, the destination
 * must be in the peer VPC itself (no transitive peering), and nothing in the peer carries it
 * further (no edge-to-edge routing: the peer's internet gateway, NAT gateway, VPN, Direct
 * Connect or gateway endpoints). The peer's interface endpoints are ENIs in it, so they count.
 */
export function peeringHops(c: RouteContext): Crossing {
  const { state, route, table, src, dst, label } = c;
  const id = route.target.kind === "peering" ? route.target.id : "";
  const hops: Hop[] = [passed("route", table.id, `${table.id}: ${route.destinationCidr} via ${id}`)];
  const pcx = state.get("vpcPeeringConnection", id);
  const far = pcx && otherSide(pcx, src.vpc.id);
  if (pcx?.status !== "active" || !far) {
    hops.push(refused("peering", id, `no route to ${label}: peering ${id} is ${pcx?.status ?? "gone"}`));
    return { hops, groupReferences: false };
  }
  if (!dst.vpc || dst.vpc.id !== far.vpcId) {
    const farVpc = state.get("vpc", far.vpcId);
    hops.push(refused("peering", id, beyondPeer(c, id, far.vpcId, farVpc)));
    return { hops, groupReferences: false };
  }
  hops.push(passed("peering", id, `${id} connects ${src.vpc.id} and ${far.vpcId} (active)`));
  hops.push(...returnRoute(c, { kind: "peering", id }));
  // Security groups may reference a peer's groups within one region only.
  return { hops, groupReferences: pcx.requester.region === pcx.accepter.region };
}

/** Why a flow cannot go past the peer VPC: what the peer would have used, named. */
function beyondPeer(c: RouteContext, pcxId: string, farVpcId: string, farVpc: Vpc | undefined): string {
  if (c.dst.vpc)
    return `no route to ${c.label}: ${pcxId} reaches only ${farVpcId}, and ${c.label} is in ${c.dst.vpc.id} (VPC peering is not transitive)`;
  const edge = farVpc && edgeOf(c.state, farVpc, c.ip);
  if (edge)
    return `no route to ${c.label}: ${edge} in ${farVpcId} serves only flows that start in ${farVpcId}, not flows arriving over ${pcxId} (no edge-to-edge routing)`;
  return `no route to ${c.label}: ${pcxId} reaches only addresses in ${farVpcId} (no transitive routing)`;
}

/** The gateway a VPC's main route table would send `ip` to, described, if any. */
export function edgeOf(state: RouteContext["state"], vpc: Vpc, ip: number): string | undefined {
  const main = [...state.all("routeTable")].find(
    (t) => t.vpcId === vpc.id && t.associations.some((a) => a.main),
  );
  const r = main && longestMatch(main, ip);
  const t = r?.target;
  if (!t || t.kind === "local") return undefined;
  if (t.kind === "nat") return `NAT gateway ${t.id}`;
  if (t.id.startsWith("vpce-")) return `gateway endpoint ${t.id}`;
  if (t.id.startsWith("igw-")) return `internet gateway ${t.id}`;
  if (t.id.startsWith("vgw-")) return `virtual private gateway ${t.id}`;
  return `${t.id}`;
}
