import { describe, expect, it } from "vitest";
import type { State } from "../cloud/state.js";
import { joinParts, type Prepared, PreparedAnswers } from "./prepared.js";

const ID = "6f1c2a4e-0000-4000-8000-00000000abcd";
const OTHER = "0b9d7e21-1111-4111-8111-11111111ef01";

function preparedOf(body: string, requestId: string): Prepared {
  return {
    action: "DescribeVpcs",
    status: 200,
    contentType: "text/xml;charset=UTF-8",
    headers: {},
    ...PreparedAnswers.split(body, requestId),
    until: Number.POSITIVE_INFINITY,
  };
}

describe("prepared answers written as pieces", () => {
  const body = `<?xml version="1.0"?><DescribeVpcsResponse><requestId>${ID}</requestId><vpcSet>${"<item>é</item>".repeat(500)}</vpcSet></DescribeVpcsResponse>`;

  it("joins to the answer with the new request ID, byte for byte, from the stored bytes", () => {
    const p = preparedOf(body, ID);
    const parts = PreparedAnswers.parts(p, OTHER);
    expect(parts).toHaveLength(3);
    // The stored bytes themselves, not copies of them.
    expect(parts[0]).toBe(p.before[0]);
    expect(parts[2]).toBe(p.after![0]);
    const expected = Buffer.from(body.replace(ID, OTHER), "utf8");
    expect(joinParts(parts).equals(expected)).toBe(true);
    expect(PreparedAnswers.body(p, OTHER).equals(expected)).toBe(true);
  });

  it("writes a body that holds no request ID as its one stored piece", () => {
    const json = '{"Vpcs":[]}';
    const p = preparedOf(json, ID);
    const parts = PreparedAnswers.parts(p, OTHER);
    expect(parts).toEqual(p.before);
    expect(joinParts(parts).toString("utf8")).toBe(json);
  });

  it("keeps an ID at the very end as an empty last piece", () => {
    const p = preparedOf(`<a>${ID}`, ID);
    const parts = PreparedAnswers.parts(p, OTHER);
    expect(parts.map((x) => x.length)).toEqual([3, OTHER.length, 0]);
    expect(joinParts(parts).toString("latin1")).toBe(`<a>${OTHER}`);
  });
});

describe("a prepared answer asked again", () => {
  it("is written from one buffer each side of the ID, the same bytes as its pieces", () => {
    const state = { version: 7 } as unknown as State;
    const answers = new PreparedAnswers(state);
    const items = ["<item>a</item>", "<item>é</item>", "<item>c</item>"].map((t) => Buffer.from(t, "utf8"));
    const p: Prepared = {
      action: "DescribeVpcs",
      status: 200,
      contentType: "text/xml;charset=UTF-8",
      headers: {},
      before: [Buffer.from("<r><requestId>")],
      after: [Buffer.from("</requestId><set>"), ...items, Buffer.from("</set></r>")],
      until: Number.POSITIVE_INFINITY,
    };
    answers.set("k", 7, p);
    const hit = answers.get("k", 0)!;
    expect(hit.after).toHaveLength(1);
    expect(PreparedAnswers.body(hit, OTHER).equals(PreparedAnswers.body(p, OTHER))).toBe(true);
    expect(answers.get("k", 0)).toBe(hit);
  });
});
