/**
 * Several hosts (docs/agents.md): which agent serves which VPC or site. Pure: the store reads
 * the leases and placements in one transaction, calls {@link place} with its own clock, and
 * writes back what moved. One rule set, unit-tested with exact times.
 */

/** An agent's lease as the store holds it: alive until `expiresAt` (ms on the store's clock). */
export interface AgentLease {
  readonly name: string;
  readonly expiresAt: number;
}

/** A unit (a VPC ID, or `site:` + a site ID) and the agent serving it since `since`. */
export interface Placement {
  readonly unit: string;
  readonly agent: string;
  readonly since: number;
}

export interface PlacementPlan {
  /** Every unit's placement after the pass (units that no longer exist are gone). */
  readonly placements: ReadonlyMap<string, Placement>;
  /** Units whose agent changed (or that got their first one), in unit order. */
  readonly moved: readonly string[];
  /** Placements of units that no longer exist. */
  readonly dropped: readonly string[];
}

/** The unit a site is placed as (VPC IDs are units as they are). */
export const siteUnit = (siteId: string): string => `site:${siteId}`;

/**
 * The unit a workload belongs to: its interface's VPC, or for an on-premises workload (key
 * `site:ID:IP`, as the workload proxies name it) its site. The agent serving that unit runs the
 * workload's proxy. Undefined for an interface that does not exist.
 */
export function workloadUnit(
  key: string,
  vpcOfEni: (eniId: string) => string | undefined,
): string | undefined {
  if (key.startsWith("site:")) return siteUnit(key.split(":")[1]!);
  return vpcOfEni(key);
}

/** Agents whose lease runs past `now`, by name. A lease ending exactly at `now` has ended. */
export function liveAgents(agents: readonly AgentLease[], now: number): string[] {
  return agents
    .filter((a) => a.expiresAt > now)
    .map((a) => a.name)
    .sort();
}

/**
 * One placement pass at `now`:
 * - a unit on a live agent stays there (moving it would reset its flows for nothing);
 * - a unit without a placement, or on an agent whose lease has ended, goes to the live agent
 *   with the fewest units (ties by name), units taken in ID order so that every node computes
 *   the same plan;
 * - with no live agent at all nothing moves: the units keep their last agent until one renews;
 * - `takeOver` false: units of dead agents stay where they are too (only unplaced units are
 *   placed). The agent running the pass says false until it has itself held its lease without a
 *   break for one lease length: an agent that has just come back after the store was out of
 *   reach cannot tell a dead agent from one that was cut off by the same outage and has not
 *   renewed yet, and taking that one's VPCs would move them for nothing. After one lease with
 *   the other still silent it is dead (every live agent renews three times per lease).
 * Every live agent runs a pass at each renewal, so a dead agent's units move at most one renewal
 * period after its lease ends (or after the mover's first unbroken lease, if that is later).
 */
export function place(
  units: readonly string[],
  agents: readonly AgentLease[],
  current: ReadonlyMap<string, Placement>,
  now: number,
  takeOver = true,
): PlacementPlan {
  const wanted = new Set(units);
  const dropped = [...current.keys()].filter((u) => !wanted.has(u)).sort();
  const live = liveAgents(agents, now);
  const load = new Map<string, number>(live.map((name) => [name, 0]));
  const placements = new Map<string, Placement>();
  const homeless: string[] = [];
  for (const unit of [...wanted].sort()) {
    const p = current.get(unit);
    if (p && load.has(p.agent)) {
      placements.set(unit, p);
      load.set(p.agent, load.get(p.agent)! + 1);
    } else if (p && (live.length === 0 || !takeOver)) placements.set(unit, p);
    else if (live.length > 0) homeless.push(unit);
  }
  for (const unit of homeless) {
    let best = live[0]!;
    for (const name of live) if (load.get(name)! < load.get(best)!) best = name;
    load.set(best, load.get(best)! + 1);
    placements.set(unit, { unit, agent: best, since: now });
  }
  return { placements, moved: homeless, dropped };
}
