import { formatScalar } from "../../src/api/protocols/scalars.js";
import type {
  ListShape,
  MapShape,
  Member,
  OperationSchema,
  Shape,
  StructShape,
} from "../../src/api/protocols/schema.js";
import { xmlNamespaceOf } from "../../src/api/protocols/schema.js";

/**
 * The XML encoder as it was before it was compiled into writer closures: a direct walk that
 * builds each element as a string. Kept frozen as the reference the compiled encoder must match
 * byte for byte (test/wire/golden.test.ts); not used by privlink itself.
 */

const ESCAPE = /[&<>"'\r\n\u0085\u2028]/;
const ESCAPE_ALL = /[&<>"'\r\n\u0085\u2028]/g;
const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  "\r": "&#x0D;",
  "\n": "&#x0A;",
  "\u0085": "&#x85;",
  "\u2028": "&#x2028;",
};

export function legacyXmlEscape(text: string): string {
  return ESCAPE.test(text) ? text.replace(ESCAPE_ALL, (c) => ENTITIES[c]!) : text;
}

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

interface MemberPlan {
  readonly member: Member;
  readonly tag: string;
  readonly attribute: boolean;
  readonly flat: boolean;
}

function planOf(shape: StructShape): readonly MemberPlan[] {
  return shape.members.map((member) => ({
    member,
    tag: member.memberTraits.xmlName ?? member.name,
    attribute: !!member.traits.xmlAttribute,
    flat: !!member.traits.xmlFlattened,
  }));
}

function wrap(tag: string, inner: string, attrs = ""): string {
  return inner === "" ? `<${tag}${attrs}/>` : `<${tag}${attrs}>${inner}</${tag}>`;
}

function expectObject(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new Error(`privlink wire: ${where} must be an object, got ${typeof value}`);
  return value as Record<string, unknown>;
}

function expectArray(value: unknown, where: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new Error(`privlink wire: ${where} must be a list, got ${typeof value}`);
  return value;
}

function itemsXml(shape: ListShape, items: readonly unknown[], tag: string): string {
  let out = "";
  for (const item of items) if (item != null) out += legacyElementXml(tag, shape.member.shape, item);
  return out;
}

function entryXml(shape: MapShape, key: string, value: unknown): string {
  const keyTag = shape.key.memberTraits.xmlName ?? shape.key.traits.xmlName ?? "key";
  const valueTag = shape.value.memberTraits.xmlName ?? shape.value.traits.xmlName ?? "value";
  return (
    legacyElementXml(keyTag, shape.key.shape, key) + legacyElementXml(valueTag, shape.value.shape, value)
  );
}

function entriesXml(shape: MapShape, map: Record<string, unknown>, entryTag: string): string {
  let out = "";
  for (const key of Object.keys(map)) {
    const v = map[key];
    if (v != null) out += `<${entryTag}>${entryXml(shape, key, v)}</${entryTag}>`;
  }
  return out;
}

function attributesXml(shape: StructShape, value: Record<string, unknown>): string {
  let out = "";
  for (const p of planOf(shape)) {
    const v = value[p.member.name];
    if (!p.attribute || v == null || p.member.shape.kind === "struct") continue;
    if (p.member.shape.kind === "list" || p.member.shape.kind === "map") continue;
    out += ` ${p.tag}="${legacyXmlEscape(formatScalar(p.member.shape, v, "date-time"))}"`;
  }
  return out;
}

export function legacyStructXml(shape: StructShape, value: Record<string, unknown>): string {
  let out = "";
  for (const p of planOf(shape)) {
    const v = value[p.member.name];
    if (v == null || p.attribute) continue;
    const s = p.member.shape;
    if (p.flat && s.kind === "list") out += itemsXml(s, expectArray(v, p.member.name), p.tag);
    else if (p.flat && s.kind === "map") out += entriesXml(s, expectObject(v, p.member.name), p.tag);
    else out += legacyElementXml(p.tag, s, v);
  }
  return out;
}

export function legacyElementXml(tag: string, shape: Shape, value: unknown): string {
  switch (shape.kind) {
    case "struct": {
      const obj = expectObject(value, tag);
      return wrap(tag, legacyStructXml(shape, obj), attributesXml(shape, obj));
    }
    case "list": {
      const itemTag = shape.member.memberTraits.xmlName ?? shape.member.traits.xmlName ?? "member";
      return wrap(tag, itemsXml(shape, expectArray(value, tag), itemTag));
    }
    case "map":
      return wrap(tag, entriesXml(shape, expectObject(value, tag), "entry"));
    default:
      return wrap(tag, legacyXmlEscape(formatScalar(shape, value, "date-time")));
  }
}

export function legacyEncodeQuery(
  op: OperationSchema,
  output: unknown,
  flavor: "ec2" | "awsQuery",
  requestId: string,
): string {
  const value = (output ?? {}) as Record<string, unknown>;
  const ns = xmlNamespaceOf(op.service);
  const root = `${op.name}Response`;
  const id = legacyXmlEscape(requestId);
  if (flavor === "ec2") {
    const body = op.output.unit ? "<return>true</return>" : legacyStructXml(op.output, value);
    return `${XML_DECLARATION}<${root} xmlns="${ns}"><requestId>${id}</requestId>${body}</${root}>`;
  }
  const result = op.output.unit
    ? ""
    : `<${op.name}Result>${legacyStructXml(op.output, value)}</${op.name}Result>`;
  return `<${root} xmlns="${ns}">${result}<ResponseMetadata><RequestId>${id}</RequestId></ResponseMetadata></${root}>`;
}
