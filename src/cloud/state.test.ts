import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { State } from "./state.js";
import type { Eni } from "./types.js";

/** An ENI-shaped record: only the indexed fields and the id matter to the index. */
const eni = (id: number, subnet: number, vpc: number) =>
  ({ id: `eni-${id}`, subnetId: `subnet-${subnet}`, vpcId: `vpc-${vpc}` }) as unknown as Eni;

const op = fc.oneof(
  fc.record({ put: fc.nat(20), subnet: fc.nat(3), vpc: fc.nat(2) }),
  fc.record({ del: fc.nat(20) }),
);

describe("State secondary indexes", () => {
  it("where() answers what a scan answers, in the same order, through puts, moves, deletes and aborted transactions", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(op, { maxLength: 8 }), { maxLength: 30 }),
        fc.boolean(),
        (batches, abortSome) => {
          const state = new State();
          batches.forEach((batch, i) => {
            const run = (tx: Parameters<Parameters<State["transact"]>[0]>[0]) => {
              for (const o of batch)
                if ("put" in o) tx.put("eni", eni(o.put, o.subnet, o.vpc));
                else tx.delete("eni", `eni-${o.del}`);
              // Read-your-writes: the transaction's view agrees with a scan of the same view.
              for (let s = 0; s < 4; s++)
                expect([...tx.where("eni", "subnetId", `subnet-${s}`)]).toEqual(
                  [...tx.all("eni")].filter((e) => e.subnetId === `subnet-${s}`),
                );
              if (abortSome && i % 3 === 2) throw new Error("abort");
            };
            try {
              state.transact(run);
            } catch {}
          });
          for (let s = 0; s < 4; s++)
            expect([...state.where("eni", "subnetId", `subnet-${s}`)]).toEqual(
              [...state.all("eni")].filter((e) => e.subnetId === `subnet-${s}`),
            );
          for (let v = 0; v < 3; v++)
            expect(new Set(state.where("eni", "vpcId", `vpc-${v}`))).toEqual(
              new Set([...state.all("eni")].filter((e) => e.vpcId === `vpc-${v}`)),
            );
          const copy = state.copy();
          expect([...copy.where("eni", "vpcId", "vpc-1")].length).toBe(
            [...state.all("eni")].filter((e) => e.vpcId === "vpc-1").length,
          );
          state.clear();
          expect([...state.where("eni", "subnetId", "subnet-0")]).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
