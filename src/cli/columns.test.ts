import { expect, it } from "vitest";
import { alignColumns } from "./columns.js";

it("alignColumns: each column as wide as its widest cell, numbers to the right", () => {
  expect(
    alignColumns(
      [
        ["id", "bytes", "note"],
        ["vpce-1", "7", "a"],
        ["e", "12345", "longer"],
      ],
      (i) => i === 1,
    ),
  ).toEqual(["id      bytes  note  ", "vpce-1      7  a     ", "e       12345  longer"]);
  expect(alignColumns([], () => false)).toEqual([]);
});
