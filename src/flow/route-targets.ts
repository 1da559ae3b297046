import type { Crossing, RouteContext } from "./cross-vpc.js";
import { peeringHops } from "./peering.js";
import { transitHops } from "./transit-gateway.js";

/**
 * Route targets that take a flow out of its VPC to another network, one function per kind.
 * Returns undefined for targets that are not such a way out (local, internet, NAT).
 */
export function crossingFor(c: RouteContext): Crossing | undefined {
  switch (c.route.target.kind) {
    case "peering":
      return peeringHops(c);
    case "transit":
      return transitHops(c);
    default:
      return undefined;
  }
}
