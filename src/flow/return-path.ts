import { parseIp } from "../cloud/cidr.js";
import { passed, type RouteContext, refused } from "./cross-vpc.js";
import { describeTarget, longestMatch, routeTableOf } from "./route.js";
import type { Hop } from "./types.js";

/**
 * The reply must find its way back: the destination subnet's route table has to send the
 * source's address to the same peering connection or transit gateway, or the SYN-ACK is lost.
 */
export function returnRoute(
  c: Pick<RouteContext, "state" | "dst"> & { readonly src: { readonly ip: string } },
  via: { kind: "peering" | "transit"; id: string },
): Hop[] {
  const { state, dst, src } = c;
  if (!dst.eni) return [];
  const subnet = state.get("subnet", dst.eni.subnetId);
  const table = subnet && routeTableOf(state, subnet);
  const route = table && longestMatch(table, parseIp(src.ip)!);
  const where = `return path: ${table?.id ?? "no route table"} of ${dst.eni.subnetId} in ${dst.eni.vpcId}`;
  if (!table || !route)
    return [refused("route", table?.id, `${where} has no route back to ${src.ip} (via ${via.id})`)];
  const t = route.target;
  if (t.kind !== via.kind || t.id !== via.id)
    return [
      refused(
        "route",
        table.id,
        `${where} sends ${src.ip} to ${describeTarget(route)} (${route.destinationCidr ?? route.destinationPrefixListId}), not back via ${via.id}`,
      ),
    ];
  if (route.state === "blackhole")
    return [
      refused(
        "route",
        table.id,
        `${where}: the route back ${route.destinationCidr} via ${via.id} is a blackhole`,
      ),
    ];
  return [
    passed("route", table.id, `${where} routes ${src.ip} back via ${via.id} (${route.destinationCidr})`),
  ];
}
