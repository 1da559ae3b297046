import { formatTimestamp, toBase64 } from "./scalars.js";
import type { ListShape, MapShape, Member, ScalarShape, Shape, StructShape } from "./schema.js";
import { smithySerde } from "./sdk-serde.js";

/**
 * Output shapes → XML, shared by the EC2, awsQuery and restXml encoders. Element names follow the
 * SDK's XML deserializer (the member's own xmlName, else the member name) which is also what
 * botocore reads (`locationName`). Members come out in schema order; undefined members are left
 * out; an empty list or structure is an empty element (`<tagSet/>`), which both clients read as
 * `[]` / `{}` just as they do for AWS.
 *
 * Each (shape, tag) pair is compiled once into a writer closure that appends text to a parts
 * array: open and close tags are precomputed strings, only text that can hold a markup character
 * is escaped, and the document is joined once at the end. A Describe* returning a thousand items
 * otherwise spends most of its time building and collecting nested intermediate strings.
 */

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
const BY_CODE = new Map(Object.entries(ENTITIES).map(([c, ref]) => [c.charCodeAt(0), ref]));

/** Which character codes below 0x86 need a reference (U+2028 is checked apart). */
const NEEDS_ESCAPE = new Uint8Array(0x86);
for (const code of BY_CODE.keys()) if (code < 0x86) NEEDS_ESCAPE[code] = 1;

function needsEscape(c: number): boolean {
  return c < 0x86 ? NEEDS_ESCAPE[c] === 1 : c === 0x2028;
}

/**
 * Texts that needed escaping, escaped: the few that do (policy documents, descriptions) repeat
 * across the items of a Describe and cost a rebuild per character reference. A pure function of
 * the text, so nothing here can go stale; bounded by entries and by length.
 */
const escaped = new Map<string, string>();
const MAX_ESCAPED = 1024;
const MAX_ESCAPED_LENGTH = 4096;

// A character loop, not a regular expression: most values need no escaping, and this is the
// innermost step of every element the encoders write.
export function xmlEscape(text: string): string {
  const n = text.length;
  let i = 0;
  while (i < n && !needsEscape(text.charCodeAt(i))) i++;
  if (i === n) return text;
  if (n > MAX_ESCAPED_LENGTH) return escapeFrom(text, i);
  let out = escaped.get(text);
  if (out === undefined) {
    if (escaped.size >= MAX_ESCAPED) escaped.clear();
    out = escapeFrom(text, i);
    escaped.set(text, out);
  }
  return out;
}

/** `text` with every character from `first` on that needs a reference replaced by it. */
function escapeFrom(text: string, first: number): string {
  const n = text.length;
  let i = first;
  let out = "";
  let last = 0;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (!needsEscape(c)) continue;
    out += text.slice(last, i) + BY_CODE.get(c)!;
    last = i + 1;
  }
  return out + text.slice(last);
}

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/**
 * Text pieces of a document in order. Writers never append "": an element whose content wrote
 * nothing is recognised by the length of the array and becomes `<tag/>`.
 */
export type XmlParts = string[];

/**
 * Pieces of a document written as bytes (`writeStructXmlBytes`): text, and the UTF-8 bytes kept
 * for each frozen shape, so that an answer listing fifty memoised items encodes none of them
 * again and is never one big string to join and encode. Only the sink being written by that
 * entry point (`byteSink`) ever receives a Buffer; every other sink holds strings alone.
 */
export type XmlBytes = (string | Buffer)[];

type Sink = XmlParts | XmlBytes;
/** The byte sink being written now (writing is synchronous); a nested text build is another sink. */
let byteSink: XmlBytes | undefined;

type Write = (value: unknown, out: Sink) => void;

interface Attribute {
  readonly name: string;
  readonly tag: string;
  readonly shape: ScalarShape;
}

interface StructPlan {
  /** Member names and writers of the element members, in schema order. */
  readonly names: readonly string[];
  readonly writers: readonly Write[];
  readonly attributes: readonly Attribute[];
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

/** Closes the element opened at `start`: `<tag/>` when nothing was written inside it. */
function close(out: Sink, start: number, empty: string, closeTag: string): void {
  if (out.length === start + 1) out[start] = empty;
  else out.push(closeTag);
}

// ---------------------------------------------------------------------------------------------
// Plans (built lazily: shapes are recursive, so a plan's writers may refer back to its shape)

const plans = new WeakMap<StructShape, StructPlan>();

function isScalar(shape: Shape): shape is ScalarShape {
  return shape.kind !== "struct" && shape.kind !== "list" && shape.kind !== "map";
}

function memberWriter(member: Member, tag: string): Write {
  const s = member.shape;
  const flat = !!member.traits.xmlFlattened;
  if (flat && s.kind === "list") {
    const item = elementWriter(s.member.shape, tag);
    return (v, out) => {
      const items = expectArray(v, member.name);
      for (let i = 0; i < items.length; i++) if (items[i] != null) item(items[i], out);
    };
  }
  if (flat && s.kind === "map") {
    const entries = entriesWriter(s, tag);
    return (v, out) => entries(expectObject(v, member.name), out);
  }
  return elementWriter(s, tag);
}

function planOf(shape: StructShape): StructPlan {
  let plan = plans.get(shape);
  if (plan) return plan;
  const names: string[] = [];
  const writers: Write[] = [];
  const attributes: Attribute[] = [];
  for (const member of shape.members) {
    const tag = member.memberTraits.xmlName ?? member.name;
    if (member.traits.xmlAttribute) {
      // Attributes carry scalars only; a structured attribute member is left out entirely.
      if (isScalar(member.shape)) attributes.push({ name: member.name, tag, shape: member.shape });
      continue;
    }
    names.push(member.name);
    writers.push(memberWriter(member, tag));
  }
  plan = { names, writers, attributes };
  plans.set(shape, plan);
  return plan;
}

function writeMembersOf(plan: StructPlan, value: Record<string, unknown>, out: Sink): void {
  const { names, writers } = plan;
  for (let i = 0; i < names.length; i++) {
    const v = value[names[i]!];
    if (v != null) writers[i]!(v, out);
  }
}

function attributesOf(plan: StructPlan, value: Record<string, unknown>): string {
  let text = "";
  for (const a of plan.attributes) {
    const v = value[a.name];
    if (v != null) text += ` ${a.tag}="${xmlEscape(scalarText(a.shape, v))}"`;
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// Writers

const writers = new WeakMap<Shape, Map<string, Write>>();

/** The writer of one element `<tag>…</tag>` holding a value of `shape`, compiled once. */
function elementWriter(shape: Shape, tag: string): Write {
  let byTag = writers.get(shape);
  if (!byTag) {
    byTag = new Map();
    writers.set(shape, byTag);
  }
  let w = byTag.get(tag);
  if (!w) {
    w = compileElement(shape, tag);
    byTag.set(tag, w);
  }
  return w;
}

function compileElement(shape: Shape, tag: string): Write {
  switch (shape.kind) {
    case "struct":
      return structWriter(shape, tag);
    case "list":
      return listWriter(shape, tag);
    case "map": {
      const entries = entriesWriter(shape, "entry");
      const [open, empty, closeTag] = [`<${tag}>`, `<${tag}/>`, `</${tag}>`];
      return (v, out) => {
        const map = expectObject(v, tag);
        const start = out.length;
        out.push(open);
        entries(map, out);
        close(out, start, empty, closeTag);
      };
    }
    default:
      return scalarWriter(shape, tag);
  }
}

/**
 * Where a value marked by `keepingXml` keeps its XML text (and that text's UTF-8 bytes once a
 * byte sink asked for them): on the value itself, one property read per item instead of an
 * integrity check and a map lookup. The first writer to write the value keeps it; another
 * writer of the same value writes it afresh.
 */
const KEPT = Symbol("kept XML");

interface KeptXml {
  by?: Write;
  text?: string;
  bytes?: Buffer;
}

/**
 * Deep-freezes `value` and lets the encoder keep its XML with it (api/shape-memo.ts: a shape per
 * object and state version). It cannot change, so its text cannot go stale; the next commit's
 * answer is made of new shapes and new texts, and nothing kept outlives its shape.
 */
export function keepingXml<T extends object>(value: T): T {
  Object.defineProperty(value, KEPT, { value: {} satisfies KeptXml });
  return deepFreeze(value);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function structWriter(shape: StructShape, tag: string): Write {
  const [open, empty, closeTag] = [`<${tag}>`, `<${tag}/>`, `</${tag}>`];
  let plan: StructPlan | undefined;
  const write = (obj: Record<string, unknown>, out: Sink) => {
    plan ??= planOf(shape);
    const attrs = plan.attributes.length > 0 ? attributesOf(plan, obj) : "";
    const start = out.length;
    out.push(attrs === "" ? open : `<${tag}${attrs}>`);
    writeMembersOf(plan, obj, out);
    close(out, start, attrs === "" ? empty : `<${tag}${attrs}/>`, closeTag);
  };
  const writer: Write = (v, out) => {
    const obj = expectObject(v, tag);
    const k = (obj as { [KEPT]?: KeptXml })[KEPT];
    if (k === undefined || (k.by !== undefined && k.by !== writer)) return write(obj, out);
    if (k.text === undefined) {
      // Built in a sink of its own: text only, whatever `out` is.
      const parts: XmlParts = [];
      write(obj, parts);
      k.text = parts.join("");
      k.by = writer;
    }
    if (out !== byteSink) {
      out.push(k.text);
      return;
    }
    k.bytes ??= Buffer.from(k.text, "utf8");
    byteSink.push(k.bytes);
  };
  return writer;
}

function listWriter(shape: ListShape, tag: string): Write {
  const itemTag = shape.member.memberTraits.xmlName ?? shape.member.traits.xmlName ?? "member";
  const [open, empty, closeTag] = [`<${tag}>`, `<${tag}/>`, `</${tag}>`];
  let item: Write | undefined;
  return (v, out) => {
    const items = expectArray(v, tag);
    item ??= elementWriter(shape.member.shape, itemTag);
    const start = out.length;
    out.push(open);
    let from = start + 1;
    for (let i = 0; i < items.length; i++) {
      if (items[i] != null) item(items[i], out);
      if (out.length - from > CHUNK) from = compact(out, from);
    }
    close(out, start, empty, closeTag);
  };
}

/**
 * Parts written inside a long list are joined into one string every few thousand: a Describe*
 * of a thousand items would otherwise keep a hundred thousand small strings alive until the end,
 * and the young-generation collector copies every one of them.
 */
const CHUNK = 2048;

/**
 * Replaces the parts from `from` on with their concatenation (a byte sink: with its chunks,
 * `xmlByteChunks`; earlier indices stay valid); returns where the next chunk starts.
 */
function compact(out: Sink, from: number): number {
  if (out === byteSink) {
    const chunks = xmlByteChunks(out.slice(from));
    out.length = from;
    byteSink.push(...chunks);
    return from + chunks.length;
  }
  const piece = out.slice(from).join("");
  out.length = from;
  out.push(piece);
  return from + 1;
}

/**
 * A kept piece at least this long is written as it is; shorter ones are joined with their
 * neighbours. Writing a piece costs the edge a `write` call, joining it a copy into a new buffer
 * the size of the answer: for the items of a Describe (~0.5–1.5 KB each) fifty writes cost less
 * than the allocation and copy of one 30–80 KB buffer (and the collector's work on it).
 */
const ALONE = 256;

/**
 * The pieces of a byte sink as buffers to write in order: runs of text encoded once, stored
 * bytes of at least `ALONE` bytes as they are (not copied), shorter stored bytes joined with the
 * text around them.
 */
export function xmlByteChunks(parts: XmlBytes): Buffer[] {
  const buffers: Buffer[] = [];
  let run: string[] = [];
  let small: Buffer[] = [];
  const flushRun = () => {
    if (run.length > 0) small.push(Buffer.from(run.join(""), "utf8"));
    run = [];
  };
  const flushSmall = () => {
    flushRun();
    if (small.length > 0) buffers.push(small.length === 1 ? small[0]! : Buffer.concat(small));
    small = [];
  };
  for (const p of parts) {
    if (typeof p === "string") run.push(p);
    else if (p.length >= ALONE) {
      flushSmall();
      buffers.push(p);
    } else {
      flushRun();
      small.push(p);
    }
  }
  flushSmall();
  return buffers;
}

/** Map entries, each `<entryTag><key>…</key><value>…</value></entryTag>`. */
function entriesWriter(shape: MapShape, entryTag: string): (map: Record<string, unknown>, out: Sink) => void {
  const keyTag = shape.key.memberTraits.xmlName ?? shape.key.traits.xmlName ?? "key";
  const valueTag = shape.value.memberTraits.xmlName ?? shape.value.traits.xmlName ?? "value";
  const [open, closeTag] = [`<${entryTag}>`, `</${entryTag}>`];
  let key: Write | undefined;
  let value: Write | undefined;
  return (map, out) => {
    key ??= elementWriter(shape.key.shape, keyTag);
    value ??= elementWriter(shape.value.shape, valueTag);
    for (const k of Object.keys(map)) {
      const v = map[k];
      if (v == null) continue;
      out.push(open);
      key(k, out);
      value(v, out);
      out.push(closeTag);
    }
  };
}

/** A scalar as element text, unescaped (what formatScalar gives with date-time timestamps). */
function scalarText(shape: ScalarShape, value: unknown): string {
  switch (shape.kind) {
    case "timestamp":
      return value instanceof Date && shape.timestampFormat === "default"
        ? value.toISOString()
        : formatTimestamp(value, shape.timestampFormat, "date-time");
    case "blob":
      return toBase64(value);
    case "bigDecimal":
      return value instanceof smithySerde().NumericValue ? value.string : String(value);
    default:
      return typeof value === "string" ? value : String(value);
  }
}

function scalarWriter(shape: ScalarShape, tag: string): Write {
  const [open, empty, closeTag] = [`<${tag}>`, `<${tag}/>`, `</${tag}>`];
  // Timestamps and base64 are made of characters XML never escapes; everything else may not be.
  const safe = shape.kind === "timestamp" || shape.kind === "blob";
  return (v, out) => {
    const text = scalarText(shape, v);
    if (text === "") out.push(empty);
    else out.push(open + (safe ? text : xmlEscape(text)) + closeTag);
  };
}

// ---------------------------------------------------------------------------------------------
// Entry points

/** Appends the member elements of a structure (no wrapper), in schema order. */
export function writeStructXml(shape: StructShape, value: Record<string, unknown>, out: XmlParts): void {
  writeMembersOf(planOf(shape), value, out);
}

/**
 * Appends the member elements of a structure (no wrapper) to a byte sink: what `writeStructXml`
 * writes, with each frozen shape as the UTF-8 bytes it keeps (`xmlByteChunks` makes the buffers).
 */
export function writeStructXmlBytes(shape: StructShape, value: Record<string, unknown>, out: XmlBytes): void {
  const outer = byteSink;
  byteSink = out;
  try {
    writeMembersOf(planOf(shape), value, out);
  } finally {
    byteSink = outer;
  }
}

/** Appends one element `<tag>…</tag>` holding `value` of `shape`. */
export function writeElementXml(tag: string, shape: Shape, value: unknown, out: XmlParts): void {
  elementWriter(shape, tag)(value, out);
}

/** The member elements of a structure (no wrapper), in schema order. */
export function structXml(shape: StructShape, value: Record<string, unknown>): string {
  const out: XmlParts = [];
  writeStructXml(shape, value, out);
  return out.join("");
}

/** One element `<tag>…</tag>` holding `value` of `shape`. */
export function elementXml(tag: string, shape: Shape, value: unknown): string {
  const out: XmlParts = [];
  writeElementXml(tag, shape, value, out);
  return out.join("");
}
