import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { State } from "./state.js";
import type { Eni, Vpc } from "./types.js";

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

/** A VPC-shaped record with tags: only the id and the tags matter to the tag index. */
const vpc = (id: number, tags: Record<string, string> | undefined) =>
  ({ id: `vpc-${id}`, ...(tags === undefined ? {} : { tags }) }) as unknown as Vpc;

/** Tags drawn from a few keys and values (`constructor` too: own tags only, never the prototype). */
const tags = fc.option(
  fc.dictionary(fc.constantFrom("a", "b", "constructor", "a=b"), fc.constantFrom("1", "2", "", "=b"), {
    maxKeys: 3,
  }),
  { nil: undefined },
);

const tagOp = fc.oneof(
  fc.record({ put: fc.nat(12), tags }),
  // A retag keeping the object's other fields: the same tags object or a changed copy.
  fc.record({ retag: fc.nat(12), key: fc.constantFrom("a", "b"), value: fc.constantFrom("1", "2") }),
  fc.record({ untag: fc.nat(12), key: fc.constantFrom("a", "b", "constructor") }),
  fc.record({ del: fc.nat(12) }),
);

const slots: [string, string][] = [];
for (const k of ["a", "b", "constructor", "a=b", "a=", "zz"])
  for (const v of ["1", "2", "", "=b", "b=1"]) slots.push([k, v]);

const scanTagged = (all: Iterable<Vpc>, k: string, v: string) =>
  [...all].filter((x) => x.tags !== undefined && Object.hasOwn(x.tags, k) && x.tags[k] === v);

describe("State tag index", () => {
  it("tagged() answers what a scan answers, in the same order, through tags, retags, untags, deletes and aborts", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(tagOp, { maxLength: 6 }), { maxLength: 25 }),
        fc.boolean(),
        (batches, abortSome) => {
          const state = new State();
          batches.forEach((batch, i) => {
            const run = (tx: Parameters<Parameters<State["transact"]>[0]>[0]) => {
              for (const o of batch) {
                if ("put" in o) tx.put("vpc", vpc(o.put, o.tags));
                else if ("del" in o) tx.delete("vpc", `vpc-${o.del}`);
                else {
                  const id = "retag" in o ? o.retag : o.untag;
                  const was = tx.get("vpc", `vpc-${id}`);
                  if (!was) continue;
                  const next = { ...(was.tags ?? {}) };
                  if ("retag" in o) next[o.key] = o.value;
                  else delete next[o.key];
                  tx.put("vpc", { ...was, tags: next });
                }
              }
              for (const [k, v] of slots)
                expect([...tx.tagged("vpc", k, v)]).toEqual(scanTagged(tx.all("vpc"), k, v));
              if (abortSome && i % 3 === 2) throw new Error("abort");
            };
            try {
              state.transact(run);
            } catch {}
            // Read after every commit (a bucket put back in order), or only at the end: both.
            if (i % 2 === 0)
              for (const [k, v] of slots)
                expect([...state.tagged("vpc", k, v)]).toEqual(scanTagged(state.all("vpc"), k, v));
          });
          for (const [k, v] of slots)
            expect([...state.tagged("vpc", k, v)]).toEqual(scanTagged(state.all("vpc"), k, v));
          const copy = state.copy();
          for (const [k, v] of slots)
            expect([...copy.tagged("vpc", k, v)]).toEqual(scanTagged(state.all("vpc"), k, v));
          state.clear();
          for (const [k, v] of slots) expect([...state.tagged("vpc", k, v)]).toEqual([]);
        },
      ),
      { numRuns: 400 },
    );
  });
});
