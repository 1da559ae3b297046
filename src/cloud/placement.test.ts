import { describe, expect, it } from "vitest";
import { type AgentLease, liveAgents, type Placement, place } from "./placement.js";

const T = 1_000_000;
const lease = (name: string, expiresAt: number): AgentLease => ({ name, expiresAt });
const on = (entries: [string, string, number][]): Map<string, Placement> =>
  new Map(entries.map(([unit, agent, since]) => [unit, { unit, agent, since }]));
const agentsOf = (plan: ReturnType<typeof place>) =>
  Object.fromEntries([...plan.placements].map(([u, p]) => [u, p.agent]));

describe("placement of VPCs and sites on agents", () => {
  it("counts a lease as ended at its expiry instant", () => {
    expect(liveAgents([lease("b", T + 1), lease("a", T), lease("c", T + 5)], T)).toEqual(["b", "c"]);
  });

  it("spreads new units over live agents, fewest first, ties by name", () => {
    const plan = place(
      ["vpc-3", "vpc-1", "vpc-2", "site:s1"],
      [lease("b", T + 10), lease("a", T + 10)],
      new Map(),
      T,
    );
    expect(agentsOf(plan)).toEqual({ "site:s1": "a", "vpc-1": "b", "vpc-2": "a", "vpc-3": "b" });
    expect(plan.moved).toEqual(["site:s1", "vpc-1", "vpc-2", "vpc-3"]);
    expect(plan.placements.get("vpc-1")!.since).toBe(T);
  });

  it("leaves a dead agent's units alone while the mover may not take over, and still places new units", () => {
    const current = on([
      ["vpc-1", "a", T - 50],
      ["vpc-2", "b", T - 50],
    ]);
    const agents = [lease("a", T - 1), lease("b", T + 1)];
    const held = place(["vpc-1", "vpc-2", "vpc-3"], agents, current, T, false);
    expect(agentsOf(held)).toEqual({ "vpc-1": "a", "vpc-2": "b", "vpc-3": "b" });
    expect(held.moved).toEqual(["vpc-3"]);
    expect(held.placements.get("vpc-1")!.since).toBe(T - 50);
    // One lease later, with a still silent, the same pass may take over.
    const taken = place(["vpc-1", "vpc-2", "vpc-3"], agents, current, T, true);
    expect(agentsOf(taken)).toEqual({ "vpc-1": "b", "vpc-2": "b", "vpc-3": "b" });
  });

  it("keeps a unit on its live agent even when the load is uneven", () => {
    const current = on([
      ["vpc-1", "a", T - 50],
      ["vpc-2", "a", T - 50],
    ]);
    const plan = place(["vpc-1", "vpc-2", "vpc-3"], [lease("a", T + 1), lease("b", T + 1)], current, T);
    expect(agentsOf(plan)).toEqual({ "vpc-1": "a", "vpc-2": "a", "vpc-3": "b" });
    expect(plan.moved).toEqual(["vpc-3"]);
    expect(plan.placements.get("vpc-1")!.since).toBe(T - 50);
  });

  it("moves a dead agent's units to the live ones the instant its lease ends, not before", () => {
    const current = on([
      ["vpc-1", "b", T - 50],
      ["vpc-2", "b", T - 50],
      ["vpc-3", "a", T - 50],
    ]);
    const agents = [lease("a", T + 30), lease("b", T)];
    expect(place(["vpc-1", "vpc-2", "vpc-3"], agents, current, T - 1).moved).toEqual([]);
    const plan = place(["vpc-1", "vpc-2", "vpc-3"], agents, current, T);
    expect(agentsOf(plan)).toEqual({ "vpc-1": "a", "vpc-2": "a", "vpc-3": "a" });
    expect(plan.moved).toEqual(["vpc-1", "vpc-2"]);
  });

  it("leaves units where they are while no agent is alive, and drops units that are gone", () => {
    const current = on([
      ["vpc-1", "b", T - 50],
      ["vpc-9", "b", T - 50],
    ]);
    const plan = place(["vpc-1", "vpc-2"], [lease("b", T - 1)], current, T);
    expect(agentsOf(plan)).toEqual({ "vpc-1": "b" });
    expect(plan.moved).toEqual([]);
    expect(plan.dropped).toEqual(["vpc-9"]);
  });
});
