import { describe, expect, it } from "vitest";
import { clockMs, fixedRuntime, type Runtime, systemRuntime } from "./runtime.js";

describe("clockMs", () => {
  it("reads the system clock without a Date", () => {
    expect(clockMs(systemRuntime)).toBe(Date.now);
  });

  it("follows a runtime's own now, also one spread from the system runtime", () => {
    const fixed = fixedRuntime(new Date(5_000));
    const ms = clockMs(fixed);
    fixed.advance(250);
    expect(ms()).toBe(5_250);
    const shifted: Runtime = { ...systemRuntime, now: () => new Date(42) };
    expect(clockMs(shifted)()).toBe(42);
  });
});
