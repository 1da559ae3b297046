import { describe, expect, it } from "vitest";
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
