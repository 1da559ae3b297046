import { cidrContains, parseCidr, parseIp } from "../cloud/cidr.js";
import type { State } from "../cloud/state.js";
import type { NetworkAcl, NetworkAclEntry } from "../cloud/types.js";
import { stateIndex } from "./index-cache.js";
import type { Hop } from "./types.js";

/** The client's ephemeral ports as Linux picks them: replies travel to one of these. */
export const EPHEMERAL = { from: 32768, to: 60999 } as const;

interface End {
  readonly subnetId?: string;
  readonly vpcId?: string;
  readonly ip: string;
}

function matches(e: NetworkAclEntry, ip: number, port: number): boolean {
  if (e.protocol !== "-1" && e.protocol !== "6") return false;
  const c = e.cidrBlock ? parseCidr(e.cidrBlock) : undefined;
  if (!c || !cidrContains(c, ip)) return false;
  return e.protocol === "-1" || (!!e.portRange && e.portRange.from <= port && port <= e.portRange.to);
}

/** Rules are read in rule-number order; the first that matches decides; none matching denies. */
function firstMatch(acl: NetworkAcl, egress: boolean, ip: number, port: number): NetworkAclEntry | undefined {
  for (const e of acl.entries) if (e.egress === egress && matches(e, ip, port)) return e;
  return undefined;
}

/** The ports where the verdict can change inside [from, to]: one representative per segment. */
function probes(acl: NetworkAcl, egress: boolean, from: number, to: number): number[] {
  const points = new Set([from]);
  for (const e of acl.entries)
    if (e.egress === egress && e.portRange)
      for (const p of [e.portRange.from, e.portRange.to + 1]) if (p > from && p <= to) points.add(p);
  return [...points].sort((a, b) => a - b);
}

/**
 * One subnet boundary in one direction. A port range (the replies' ephemeral ports) passes only
 * when every port in it does, since the client may pick any of them.
 */
function boundary(
  state: State,
  end: End,
  egress: boolean,
  peer: string,
  ports: { from: number; to: number },
): Hop | undefined {
  if (!end.subnetId || !end.vpcId) return undefined;
  const found = stateIndex(state).networkAclOf({ id: end.subnetId, vpcId: end.vpcId });
  const ip = parseIp(peer);
  if (!found || ip === undefined) return undefined;
  const { acl } = found;
  const dir = egress ? "outbound" : "inbound";
  const what = ports.from === ports.to ? `tcp/${ports.from}` : `tcp/${ports.from}-${ports.to} (replies)`;
  const toFrom = egress ? "to" : "from";
  for (const port of probes(acl, egress, ports.from, ports.to)) {
    const rule = firstMatch(acl, egress, ip, port);
    if (rule?.ruleAction === "allow") continue;
    const by = rule ? `rule ${rule.ruleNumber} denies` : "no rule allows it and the default rule (*) denies";
    return {
      kind: "network-acl",
      allowed: false,
      resource: acl.id,
      detail: `network ACL ${acl.id} of ${end.subnetId}: ${dir} ${what} ${toFrom} ${peer} is denied (${by} tcp/${port})`,
    };
  }
  return {
    kind: "network-acl",
    allowed: true,
    resource: acl.id,
    detail: `network ACL ${acl.id} of ${end.subnetId} allows ${dir} ${what} ${toFrom} ${peer}`,
  };
}

/**
 * Network ACLs are stateless: a flow crosses the source subnet's boundary out and the
 * destination's in, and its replies cross both again the other way. Traffic within one
 * subnet is not evaluated.
 */
export function naclHops(state: State, src: End, dst: End, port: number): Hop[] {
  if (src.subnetId && src.subnetId === dst.subnetId) return [];
  const service = { from: port, to: port };
  return [
    boundary(state, src, true, dst.ip, service),
    boundary(state, dst, false, src.ip, service),
    boundary(state, dst, true, src.ip, EPHEMERAL),
    boundary(state, src, false, dst.ip, EPHEMERAL),
  ].filter((h): h is Hop => h !== undefined);
}
