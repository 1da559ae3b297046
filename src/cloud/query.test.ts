import { describe, expect, it } from "vitest";
import { compileFilters } from "./query.js";
import type { Tags } from "./types.js";

describe("compileFilters tag:KEY", () => {
  it("reads an item's own tags only, never Object's prototype (as the tag index does)", () => {
    const item = (tags: Tags) => ({ tags });
    for (const key of ["constructor", "toString", "hasOwnProperty"]) {
      const match = compileFilters(
        [{ name: `tag:${key}`, values: ["*"] }],
        {},
        (t: { tags: Tags }) => t.tags,
      );
      expect(match(item({}))).toBe(false);
      expect(match(item({ [key]: "v" }))).toBe(true);
    }
  });
});
