import { describe, expect, it } from "vitest";
import { runChaos } from "../../bench/chaos.js";
import { testPublicDns, workerSlots } from "../helpers/server.js";

describe("crash consistency (npm run chaos, short)", () => {
  it("loses no acknowledged write, half-makes nothing and rebuilds the same listeners and DNS across 5 kill -9", async () => {
    const s = workerSlots();
    const r = await runChaos({
      rounds: 5,
      clients: 3,
      seed: 16,
      slots: `${s.min}-${s.max}`,
      publicDns: testPublicDns(),
    });
    console.log(
      `rounds ${r.rounds}, acknowledged writes ${r.acknowledged}, lost ${r.lost}, half-made ${r.halfMade}, mismatches ${r.mismatches}`,
    );
    expect(r.problems).toEqual([]);
    expect(r.rounds).toBe(5);
    expect(r.acknowledged).toBeGreaterThan(0);
  }, 240_000);
});
