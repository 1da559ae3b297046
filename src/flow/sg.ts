import { awsPrefixLists } from "../cloud/catalog.js";
import { cidrContains, parseCidr, parseIp } from "../cloud/cidr.js";
import type { State } from "../cloud/state.js";
import type { SecurityGroup, SgRule } from "../cloud/types.js";
import type { Hop } from "./types.js";

/** The other end of a flow as a security group rule sees it. */
export interface Peer {
  /** The peer's IPv4 address as the VPC sees it (a private IP, or an outside address). */
  readonly ip: string;
  /** The peer interface's groups, for rules that reference a group; empty outside VPCs. */
  readonly groupIds: readonly string[];
  readonly region: string;
}

function protocolAndPortMatch(rule: SgRule, port: number): boolean {
  if (rule.protocol === "-1") return true;
  if (rule.protocol !== "tcp" && rule.protocol !== "6") return false;
  return rule.fromPort <= port && port <= rule.toPort;
}

function inPrefixList(id: string, region: string, ip: number): boolean {
  const list = awsPrefixLists(region).find((p) => p.id === id);
  return !!list?.cidrs.some((c) => {
    const cidr = parseCidr(c);
    return !!cidr && cidrContains(cidr, ip);
  });
}

function peerMatches(rule: SgRule, peer: Peer, ip: number | undefined): boolean {
  if (rule.cidrIpv4 !== undefined) {
    const cidr = parseCidr(rule.cidrIpv4);
    return ip !== undefined && !!cidr && cidrContains(cidr, ip);
  }
  if (rule.groupId !== undefined) return peer.groupIds.includes(rule.groupId);
  if (rule.prefixListId !== undefined)
    return ip !== undefined && inPrefixList(rule.prefixListId, peer.region, ip);
  return false; // IPv6 rules never match an IPv4 flow
}

/** The first rule of `group` in `direction` that admits TCP `port` to or from `peer`. */
export function matchingRule(
  group: SecurityGroup,
  direction: "ingress" | "egress",
  port: number,
  peer: Peer,
): SgRule | undefined {
  const ip = parseIp(peer.ip);
  return group[direction].find((r) => protocolAndPortMatch(r, port) && peerMatches(r, peer, ip));
}

/**
 * Security groups allow when any rule of any group allows (they are stateful allow-lists), so
 * the hop names the group and rule that admitted, or every group that did not.
 */
export function securityGroupHop(
  state: State,
  kind: "source-sg-egress" | "destination-sg-ingress",
  eniId: string,
  groupIds: readonly string[],
  port: number,
  peer: Peer,
  peerLabel: string,
): Hop {
  const direction = kind === "source-sg-egress" ? "egress" : "ingress";
  for (const id of groupIds) {
    const g = state.get("securityGroup", id);
    if (!g) continue;
    const rule = matchingRule(g, direction, port, peer);
    if (rule)
      return {
        kind,
        allowed: true,
        resource: g.id,
        ruleId: rule.ruleId,
        detail: `${g.id} ${direction === "egress" ? "outbound" : "inbound"} rule ${rule.ruleId} allows tcp/${port} ${direction === "egress" ? "to" : "from"} ${peerLabel}`,
      };
  }
  const groups = groupIds.length ? groupIds.join(", ") : "(none)";
  return {
    kind,
    allowed: false,
    resource: groupIds[0],
    detail:
      direction === "ingress"
        ? `security group ${groups} of ${eniId} has no inbound rule allowing tcp/${port} from ${peerLabel}`
        : `security group ${groups} of ${eniId} has no outbound rule allowing tcp/${port} to ${peerLabel}`,
  };
}
