import { formatScalar } from "./scalars.js";
import type { ListShape, MapShape, Member, Shape, StructShape } from "./schema.js";

/**
 * Output shapes → XML, shared by the EC2, awsQuery and restXml encoders. Element names follow the
 * SDK's XML deserializer (the member's own xmlName, else the member name) which is also what
 * botocore reads (`locationName`). Members come out in schema order; undefined members are left
 * out; an empty list or structure is an empty element (`<tagSet/>`), which both clients read as
 * `[]` / `{}` just as they do for AWS.
 */

const ESCAPE = /[&<>"'\r\n\u0085\u2028]/;
const ESCAPE_ALL = /[&<>"'\r\n\u0085\u2028]/g;
const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  // Character references keep CR/LF through parsers that normalise line ends.
  "\r": "&#x0D;",
  "\n": "&#x0A;",
  "\u0085": "&#x85;",
  "\u2028": "&#x2028;",
};

export function xmlEscape(text: string): string {
  return ESCAPE.test(text) ? text.replace(ESCAPE_ALL, (c) => ENTITIES[c]!) : text;
}

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

interface MemberPlan {
  readonly member: Member;
  readonly tag: string;
  readonly attribute: boolean;
  readonly flat: boolean;
}

const plans = new WeakMap<StructShape, readonly MemberPlan[]>();

function planOf(shape: StructShape): readonly MemberPlan[] {
  let plan = plans.get(shape);
  if (!plan) {
    plan = shape.members.map((member) => ({
      member,
      tag: member.memberTraits.xmlName ?? member.name,
      attribute: !!member.traits.xmlAttribute,
      flat: !!member.traits.xmlFlattened,
    }));
    plans.set(shape, plan);
  }
  return plan;
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
  for (const item of items) if (item != null) out += elementXml(tag, shape.member.shape, item);
  return out;
}

function entryXml(shape: MapShape, key: string, value: unknown): string {
  const keyTag = shape.key.memberTraits.xmlName ?? shape.key.traits.xmlName ?? "key";
  const valueTag = shape.value.memberTraits.xmlName ?? shape.value.traits.xmlName ?? "value";
  return elementXml(keyTag, shape.key.shape, key) + elementXml(valueTag, shape.value.shape, value);
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
    out += ` ${p.tag}="${xmlEscape(formatScalar(p.member.shape, v, "date-time"))}"`;
  }
  return out;
}

/** The member elements of a structure (no wrapper), in schema order. */
export function structXml(shape: StructShape, value: Record<string, unknown>): string {
  let out = "";
  for (const p of planOf(shape)) {
    const v = value[p.member.name];
    if (v == null || p.attribute) continue;
    const s = p.member.shape;
    if (p.flat && s.kind === "list") out += itemsXml(s, expectArray(v, p.member.name), p.tag);
    else if (p.flat && s.kind === "map") out += entriesXml(s, expectObject(v, p.member.name), p.tag);
    else out += elementXml(p.tag, s, v);
  }
  return out;
}

/** One element `<tag>…</tag>` holding `value` of `shape`. */
export function elementXml(tag: string, shape: Shape, value: unknown): string {
  switch (shape.kind) {
    case "struct": {
      const obj = expectObject(value, tag);
      return wrap(tag, structXml(shape, obj), attributesXml(shape, obj));
    }
    case "list": {
      const itemTag = shape.member.memberTraits.xmlName ?? shape.member.traits.xmlName ?? "member";
      return wrap(tag, itemsXml(shape, expectArray(value, tag), itemTag));
    }
    case "map":
      return wrap(tag, entriesXml(shape, expectObject(value, tag), "entry"));
    default:
      return wrap(tag, xmlEscape(formatScalar(shape, value, "date-time")));
  }
}
