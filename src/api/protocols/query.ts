import { AwsError } from "../../cloud/errors.js";
import { invalidValue, parseScalar } from "./scalars.js";
import type { ListShape, MapShape, Member, OperationSchema, Shape, StructShape } from "./schema.js";
import { xmlNamespaceOf } from "./schema.js";
import {
  writeStructXml,
  writeStructXmlBytes,
  XML_DECLARATION,
  type XmlBytes,
  type XmlParts,
  xmlByteChunks,
  xmlEscape,
} from "./xml.js";

/**
 * The EC2 Query and awsQuery protocols: flat `Name.N.Sub=value` parameters in, XML out.
 *
 * Decoding is the exact inverse of the SDK's QueryShapeSerializer:
 * - EC2: a member's wire name is its ec2QueryName, else its xmlName (or name) capitalised; every
 *   list is flattened (`SubnetId.1`), 1-based.
 * - awsQuery: a member's wire name is its xmlName, else its name; lists are `Name.member.N`
 *   (the item's xmlName replaces `member`) unless xmlFlattened; maps are
 *   `Name.entry.N.key` / `Name.entry.N.value`; an empty list is sent as `Name=`.
 *
 * Unknown parameters: EC2 rejects them as AWS does (`UnknownParameter`, "The parameter X is not
 * recognized", naming the first path segment it cannot place). awsQuery services (STS, ELBv2)
 * ignore them, so clients built against a newer model keep working.
 */

export type QueryFlavor = "ec2" | "awsQuery";

// Parameters that belong to the transport (action routing, SigV2/SigV4 query signing), never to
// the operation: skipped when the operation's schema does not claim them.
const TRANSPORT_PARAMS = new Set([
  "AWSAccessKeyId",
  "Signature",
  "SignatureMethod",
  "SignatureVersion",
  "Timestamp",
  "Expires",
  "SecurityToken",
]);

const tables: Record<QueryFlavor, WeakMap<StructShape, ReadonlyMap<string, Member>>> = {
  ec2: new WeakMap(),
  awsQuery: new WeakMap(),
};

function capitalise(s: string): string {
  return s.length === 0 ? s : s[0]!.toUpperCase() + s.slice(1);
}

function memberWireName(m: Member, flavor: QueryFlavor): string {
  if (flavor === "ec2") return m.traits.ec2QueryName ?? capitalise(m.traits.xmlName ?? m.name);
  return m.traits.xmlName ?? m.name;
}

function tableOf(shape: StructShape, flavor: QueryFlavor): ReadonlyMap<string, Member> {
  let table = tables[flavor].get(shape);
  if (!table) {
    const t = new Map<string, Member>();
    for (const m of shape.members) {
      const wire = memberWireName(m, flavor);
      if (!t.has(wire)) t.set(wire, m);
    }
    table = t;
    tables[flavor].set(shape, table);
  }
  return table;
}

/** The name a non-flat collection puts before the index (`member`, `entry`) or after it (`key`). */
function collectionName(m: Member, flavor: QueryFlavor, fallback: string): string {
  return (flavor === "ec2" ? m.traits.ec2QueryName : undefined) ?? m.traits.xmlName ?? fallback;
}

function isFlat(member: Member | undefined, flavor: QueryFlavor): boolean {
  return flavor === "ec2" || !!member?.traits.xmlFlattened;
}

const INDEX = /^[1-9]\d{0,5}$/;

// Accumulators while parameters arrive in any order; turned into arrays/objects at the end.
class ListAcc {
  readonly items = new Map<number, unknown>();
}
class MapAcc {
  readonly entries = new Map<number, [unknown, unknown]>();
}

type StepKind = "member" | "item" | "key" | "value";
interface Step {
  readonly kind: StepKind;
  readonly key: string | number;
  readonly shape: Shape;
}

interface Resolved {
  readonly steps: readonly Step[];
  readonly leaf: Shape;
}

/** Places a parameter path in the schema, or returns the first segment it cannot place. */
function resolve(root: StructShape, segs: readonly string[], flavor: QueryFlavor): Resolved | string {
  const steps: Step[] = [];
  let shape: Shape = root;
  let member: Member | undefined;
  let i = 0;
  while (i < segs.length) {
    const seg = segs[i]!;
    if (shape.kind === "struct") {
      const m = tableOf(shape, flavor).get(seg);
      if (!m) return seg;
      steps.push({ kind: "member", key: m.name, shape: m.shape });
      member = m;
      shape = m.shape;
      i += 1;
    } else if (shape.kind === "list") {
      const r = resolveList(shape, member, segs, i, flavor);
      if (typeof r === "string") return r;
      steps.push({ kind: "item", key: r.index, shape: shape.member.shape });
      member = shape.member;
      shape = shape.member.shape;
      i = r.next;
    } else if (shape.kind === "map") {
      const r = resolveMap(shape, member, segs, i, flavor);
      if (typeof r === "string") return r;
      const m: Member = r.part === "key" ? shape.key : shape.value;
      steps.push({ kind: r.part, key: r.index, shape: m.shape });
      member = m;
      shape = m.shape;
      i = r.next;
    } else {
      return seg;
    }
  }
  return { steps, leaf: shape };
}

/**
 * Where each parameter name of an operation's input lands, by name: a client sends the same
 * names request after request (`Filter.1.Name`, `MaxResults`). A pure function of the schema and
 * the name, so nothing here can go stale; bounded per input shape (names are the client's).
 */
const placed: Record<QueryFlavor, WeakMap<StructShape, Map<string, Resolved | string>>> = {
  ec2: new WeakMap(),
  awsQuery: new WeakMap(),
};
const MAX_PLACED = 1024;

function resolved(root: StructShape, key: string, flavor: QueryFlavor): Resolved | string {
  let byName = placed[flavor].get(root);
  if (byName === undefined) {
    byName = new Map();
    placed[flavor].set(root, byName);
  }
  let r = byName.get(key);
  if (r === undefined) {
    r = resolve(root, key.split("."), flavor);
    if (byName.size >= MAX_PLACED) byName.clear();
    byName.set(key, r);
  }
  return r;
}

function resolveList(
  shape: ListShape,
  member: Member | undefined,
  segs: readonly string[],
  i: number,
  flavor: QueryFlavor,
): { index: number; next: number } | string {
  let j = i;
  if (!isFlat(member, flavor)) {
    if (segs[j] !== collectionName(shape.member, flavor, "member")) return segs[j]!;
    j += 1;
  }
  const idx = segs[j];
  if (idx === undefined || !INDEX.test(idx)) return idx ?? segs[j - 1]!;
  return { index: Number(idx), next: j + 1 };
}

function resolveMap(
  shape: MapShape,
  member: Member | undefined,
  segs: readonly string[],
  i: number,
  flavor: QueryFlavor,
): { index: number; part: "key" | "value"; next: number } | string {
  let j = i;
  // Maps flatten only on xmlFlattened, even in EC2 (the SDK's rule, unlike lists).
  if (!member?.traits.xmlFlattened) {
    if (segs[j] !== "entry") return segs[j]!;
    j += 1;
  }
  const idx = segs[j];
  if (idx === undefined || !INDEX.test(idx)) return idx ?? segs[j - 1]!;
  const part = segs[j + 1];
  if (part === collectionName(shape.key, flavor, "key"))
    return { index: Number(idx), part: "key", next: j + 2 };
  if (part === collectionName(shape.value, flavor, "value"))
    return { index: Number(idx), part: "value", next: j + 2 };
  return part ?? idx;
}

function newContainer(shape: Shape): unknown {
  if (shape.kind === "list") return new ListAcc();
  if (shape.kind === "map") return new MapAcc();
  return {};
}

function fits(value: unknown, shape: Shape): boolean {
  if (shape.kind === "list") return value instanceof ListAcc;
  if (shape.kind === "map") return value instanceof MapAcc;
  return isPlainObject(value);
}

function getIn(container: unknown, step: Step): unknown {
  if (container instanceof ListAcc) return container.items.get(step.key as number);
  if (container instanceof MapAcc)
    return container.entries.get(step.key as number)?.[step.kind === "key" ? 0 : 1];
  return (container as Record<string, unknown>)[step.key as string];
}

function setIn(container: unknown, step: Step, value: unknown): void {
  if (container instanceof ListAcc) container.items.set(step.key as number, value);
  else if (container instanceof MapAcc) {
    let entry = container.entries.get(step.key as number);
    if (!entry) {
      entry = [undefined, undefined];
      container.entries.set(step.key as number, entry);
    }
    entry[step.kind === "key" ? 0 : 1] = value;
  } else (container as Record<string, unknown>)[step.key as string] = value;
}

/** The value a parameter ending on `leaf` stands for; `undefined` means "ensure the container". */
function leafValue(leaf: Shape, raw: string, param: string): unknown {
  if (leaf.kind === "struct" || leaf.kind === "list" || leaf.kind === "map") {
    if (raw === "") return undefined;
    const what = leaf.kind === "list" ? `a list (${param}.1, ${param}.2, …)` : `members (${param}.Name)`;
    throw invalidValue(raw, param, what);
  }
  return parseScalar(leaf, raw, param);
}

function place(root: Record<string, unknown>, steps: readonly Step[], value: unknown): void {
  let container: unknown = root;
  for (let s = 0; s < steps.length; s++) {
    const step = steps[s]!;
    const last = s === steps.length - 1;
    if (last && value !== undefined) {
      setIn(container, step, value);
      return;
    }
    let child = getIn(container, step);
    if (!fits(child, step.shape)) {
      child = newContainer(step.shape);
      setIn(container, step, child);
    }
    container = child;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype;
}

function byIndex<T>(m: Map<number, T>): T[] {
  // Clients number items 1, 2, 3… in order; only anything else needs sorting.
  const inOrder: T[] = [];
  for (const [index, value] of m) {
    if (index !== inOrder.length + 1) return [...m.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
    inOrder.push(value);
  }
  return inOrder;
}

function finalize(v: unknown): unknown {
  if (v instanceof ListAcc) return byIndex(v.items).map(finalize);
  if (v instanceof MapAcc) {
    const out: Record<string, unknown> = {};
    for (const [k, val] of byIndex(v.entries)) {
      if (k === undefined || val === undefined) continue;
      Object.defineProperty(out, String(k), {
        value: finalize(val),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  if (isPlainObject(v)) for (const k of Object.keys(v)) v[k] = finalize(v[k]);
  return v;
}

function isTransportParam(key: string): boolean {
  return TRANSPORT_PARAMS.has(key) || key.startsWith("X-Amz-") || key.startsWith("x-amz-");
}

/** Query parameters → the SDK input shape of `op`. */
export function decodeQuery(
  op: OperationSchema,
  params: URLSearchParams,
  flavor: QueryFlavor,
): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, raw] of params) {
    if (key === "Action" || key === "Version") continue;
    const r = resolved(op.input, key, flavor);
    if (typeof r === "string") {
      if (flavor === "awsQuery" || isTransportParam(key)) continue;
      throw new AwsError("UnknownParameter", `The parameter ${r} is not recognized`);
    }
    if (r.steps.length === 0) continue;
    place(root, r.steps, leafValue(r.leaf, raw, key));
  }
  return finalize(root) as Record<string, unknown>;
}

/** An EC2 answer's bytes before its request ID, per operation (a pure function of it; never written to). */
const ec2Heads = new WeakMap<OperationSchema, Buffer>();

function ec2Head(op: OperationSchema): Buffer {
  let head = ec2Heads.get(op);
  if (head === undefined) {
    head = Buffer.from(
      `${XML_DECLARATION}<${op.name}Response xmlns="${xmlNamespaceOf(op.service)}"><requestId>`,
      "utf8",
    );
    ec2Heads.set(op, head);
  }
  return head;
}

/** Output shape → the XML body of a successful response. */
export function encodeQuery(
  op: OperationSchema,
  output: unknown,
  flavor: QueryFlavor,
  requestId: string,
): string {
  const value = (output ?? {}) as Record<string, unknown>;
  const ns = xmlNamespaceOf(op.service);
  const root = `${op.name}Response`;
  const id = xmlEscape(requestId);
  const out: XmlParts = [];
  if (flavor === "ec2") {
    out.push(`${XML_DECLARATION}<${root} xmlns="${ns}"><requestId>${id}</requestId>`);
    // Actions without an output shape still answer `<return>true</return>`, as EC2 does.
    if (op.output.unit) out.push("<return>true</return>");
    else writeStructXml(op.output, value, out);
    out.push(`</${root}>`);
    return out.join("");
  }
  out.push(`<${root} xmlns="${ns}">`);
  if (!op.output.unit) {
    out.push(`<${op.name}Result>`);
    writeStructXml(op.output, value, out);
    out.push(`</${op.name}Result>`);
  }
  out.push(`<ResponseMetadata><RequestId>${id}</RequestId></ResponseMetadata></${root}>`);
  return out.join("");
}

/**
 * The body `encodeQuery` gives, as the bytes before and after its request ID (which the caller
 * puts between them: an ID with no character to escape, as the edge's UUIDs), each as buffers to
 * write in order: the memoised shapes of a Describe are written as the UTF-8 bytes they keep,
 * and the answer is never one string to join, encode and search for its ID, nor one buffer to
 * copy them all into.
 */
export function encodeQuerySplit(
  op: OperationSchema,
  output: unknown,
  flavor: QueryFlavor,
): { before: readonly Buffer[]; after: readonly Buffer[] } {
  const value = (output ?? {}) as Record<string, unknown>;
  const root = `${op.name}Response`;
  const out: XmlBytes = [];
  if (flavor === "ec2") {
    out.push("</requestId>");
    if (op.output.unit) out.push("<return>true</return>");
    else writeStructXmlBytes(op.output, value, out);
    out.push(`</${root}>`);
    return { before: [ec2Head(op)], after: xmlByteChunks(out) };
  }
  const ns = xmlNamespaceOf(op.service);
  out.push(`<${root} xmlns="${ns}">`);
  if (!op.output.unit) {
    out.push(`<${op.name}Result>`);
    writeStructXmlBytes(op.output, value, out);
    out.push(`</${op.name}Result>`);
  }
  out.push("<ResponseMetadata><RequestId>");
  return {
    before: xmlByteChunks(out),
    after: [Buffer.from(`</RequestId></ResponseMetadata></${root}>`, "utf8")],
  };
}
