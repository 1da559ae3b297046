import { type Ctx, DEFAULT_HOST } from "../../src/cloud/context.js";
import { fixedRuntime } from "../../src/cloud/runtime.js";

/**
 * The default account's root in us-east-1 on a clock the test moves: the caller of tests that
 * drive cloud/ functions directly.
 */
export function rootOnFixedClock(seed: number, start = new Date("2026-03-01T00:00:00Z")) {
  const rt = fixedRuntime(start, seed);
  const ctx: Ctx = {
    accountId: "000000000000",
    region: "us-east-1",
    principalArn: "arn:aws:iam::000000000000:root",
    rt,
    host: DEFAULT_HOST,
  };
  return { rt, ctx };
}
