import { describe, expect, it } from "vitest";
import {
  encodeQuery,
  findOperation,
  type Member,
  operationNames,
  type ScalarShape,
  type Shape,
  type StructShape,
  type WireService,
} from "../../src/api/protocols/index.js";
import { elementXml, structXml, xmlEscape } from "../../src/api/protocols/xml.js";
import { generate } from "./gen.js";
import { legacyElementXml, legacyEncodeQuery, legacyStructXml, legacyXmlEscape } from "./legacy-xml.js";

/**
 * The compiled XML encoder against the string-building one it replaced (legacy-xml.ts): every
 * output of every XML operation, random values, long lists (which the compiled encoder joins in
 * chunks), attributes, flattened collections and the errors for values of the wrong type must
 * come out byte for byte the same.
 */

const SEEDS = [1, 2, 3];
const REQUEST_ID = "req-<&>\"'";

function outcome(f: () => string): string {
  try {
    return f();
  } catch (e) {
    return `throws: ${(e as Error).message}`;
  }
}

const QUERY_SERVICES: readonly [WireService, "ec2" | "awsQuery"][] = [
  ["ec2", "ec2"],
  ["sts", "awsQuery"],
  ["elasticloadbalancing", "awsQuery"],
];

describe("the compiled XML encoder writes what the string-building one wrote", () => {
  for (const [service, flavor] of QUERY_SERVICES) {
    it(`every ${service} output, ${SEEDS.length} random values each`, () => {
      const diffs: string[] = [];
      for (const name of operationNames(service)) {
        const op = findOperation(service, name)!;
        for (const seed of SEEDS) {
          const out = generate(op.output, seed, { protocol: flavor, direction: "output", maxDepth: 5 });
          const got = encodeQuery(op, out, flavor, REQUEST_ID);
          if (got !== legacyEncodeQuery(op, out, flavor, REQUEST_ID)) diffs.push(`${name}#${seed}`);
        }
      }
      expect(diffs).toEqual([]);
    });
  }

  it("every route53 output, as members and as a root element", () => {
    const diffs: string[] = [];
    for (const name of operationNames("route53")) {
      const op = findOperation("route53", name)!;
      for (const seed of SEEDS) {
        const out = generate(op.output, seed, { protocol: "restXml", direction: "output", maxDepth: 5 });
        if (structXml(op.output, out) !== legacyStructXml(op.output, out)) diffs.push(`${name}#${seed}`);
        const root = `${op.name}Response`;
        if (elementXml(root, op.output, out) !== legacyElementXml(root, op.output, out))
          diffs.push(`${name}#${seed} (element)`);
      }
    }
    expect(diffs).toEqual([]);
  });

  it("long lists, joined in chunks, with empty and null items", () => {
    const op = findOperation("ec2", "DescribeVpcEndpoints")!;
    const item = (op.output.member("VpcEndpoints")!.shape as { member: Member }).member.shape as StructShape;
    const opts = { protocol: "ec2", direction: "output", maxDepth: 4 } as const;
    const cases: unknown[][] = [
      Array.from({ length: 1500 }, (_, i) => generate(item, i, opts)),
      Array.from({ length: 3000 }, (_, i) =>
        i % 7 === 0 ? null : i % 5 === 0 ? {} : generate(item, i, opts),
      ),
      Array.from({ length: 2500 }, () => ({ VpcEndpointId: "", RouteTableIds: [], Tags: [null] })),
      [],
      [null, undefined],
    ];
    for (const list of cases) {
      const out = { VpcEndpoints: list, NextToken: "" };
      expect(encodeQuery(op, out, "ec2", REQUEST_ID)).toBe(legacyEncodeQuery(op, out, "ec2", REQUEST_ID));
    }
  });

  const scalar = (kind: ScalarShape["kind"], timestampFormat: ScalarShape["timestampFormat"] = "default") =>
    ({ kind, timestampFormat, streaming: false }) as ScalarShape;
  const member = (name: string, shape: Shape, traits: Record<string, unknown> = {}): Member => ({
    name,
    shape,
    traits,
    memberTraits: traits,
  });
  const struct = (name: string, members: Member[]): StructShape => ({
    kind: "struct",
    name,
    union: false,
    unit: false,
    traits: {},
    members,
    member: (n) => members.find((m) => m.name === n),
  });
  const str = scalar("string");
  const inner = struct("Inner", [
    member("Id", str, { xmlAttribute: true, xmlName: "id" }),
    member("When", scalar("timestamp", "http-date"), { xmlAttribute: true }),
    member("Nested", struct("Ignored", []), { xmlAttribute: true }),
    member("Name", str),
  ]);
  const synthetic = struct("Synthetic", [
    member(
      "Items",
      { kind: "list", member: member("member", str), sparse: false },
      { xmlFlattened: true, xmlName: "Item" },
    ),
    member(
      "Pairs",
      { kind: "map", key: member("key", str), value: member("value", scalar("number")), sparse: false },
      { xmlFlattened: true },
    ),
    member("Map", {
      kind: "map",
      key: member("key", str, { xmlName: "K" }),
      value: member("value", inner, { xmlName: "V" }),
      sparse: false,
    }),
    member("Inner", inner),
    member("Blob", scalar("blob")),
    member("At", scalar("timestamp")),
    member("Epoch", scalar("timestamp", "epoch-seconds")),
    member("Count", scalar("number")),
    member("Flag", scalar("boolean")),
    member("Big", scalar("bigInteger")),
    member("Doc", scalar("document")),
  ]);
  const values: [string, unknown][] = [
    [
      "everything",
      {
        Items: ["a", "", null, "<b>"],
        Pairs: { x: 1, y: null, "z&": 2.5 },
        Map: { k: { Id: 'i"d', When: new Date(0), Nested: { a: 1 }, Name: "n" }, e: {} },
        Inner: { Id: "only-attribute" },
        Blob: new Uint8Array([0, 255, 7]),
        At: "2026-01-02T03:04:05.678Z",
        Epoch: 1_700_000_000_123,
        Count: "12<",
        Flag: false,
        Big: 12345678901234567890n,
        Doc: "d'oc",
      },
    ],
    ["empty collections", { Items: [], Pairs: {}, Map: {}, Inner: {} }],
    ["a list where a structure belongs", { Inner: [] }],
    ["a string where a list belongs", { Items: "abc" }],
    ["a number where a map belongs", { Map: 3 }],
    ["an invalid date", { At: "not a date" }],
  ];
  for (const [name, value] of values)
    it(`synthetic shapes: ${name}`, () => {
      const v = value as Record<string, unknown>;
      expect(outcome(() => structXml(synthetic, v))).toBe(outcome(() => legacyStructXml(synthetic, v)));
      expect(outcome(() => elementXml("Root", synthetic, v))).toBe(
        outcome(() => legacyElementXml("Root", synthetic, v)),
      );
    });

  it("escapes text exactly as before", () => {
    const specials = [
      "&",
      "<",
      ">",
      '"',
      "'",
      "\r",
      "\n",
      "\u0085",
      "\u2028",
      "\u2029",
      "é",
      "😀",
      "a",
      "]]>",
      "\t",
    ];
    let rng = 7;
    const next = () => {
      rng = (Math.imul(rng, 1103515245) + 12345) >>> 0;
      return rng;
    };
    const texts = ["", "plain", "&&", "<x>", "\u2028\u0085", "tail&"];
    for (let i = 0; i < 500; i++)
      texts.push(Array.from({ length: next() % 12 }, () => specials[next() % specials.length]).join(""));
    for (const t of texts) expect(xmlEscape(t)).toBe(legacyXmlEscape(t));
  });
});
