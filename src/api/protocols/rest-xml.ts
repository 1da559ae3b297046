import { AwsError } from "../../cloud/errors.js";
import { formatScalar, parseScalar } from "./scalars.js";
import type { Member, OperationSchema, ScalarShape, Shape, StructShape, WireService } from "./schema.js";
import { findOperation, operationNames, xmlNamespaceOf } from "./schema.js";
import { awsProtocols } from "./sdk-serde.js";
import { elementXml, structXml, XML_DECLARATION } from "./xml.js";

/**
 * restXml (Route 53): the operation is found by method and URI pattern (the `http` trait, e.g.
 * `GET /2013-04-01/hostedzone/{Id}`); input members come from URI labels (httpLabel), the query
 * string (httpQuery), headers (httpHeader) and an XML body whose root is the input structure.
 * Outputs are XML in the service namespace; httpHeader members become headers (Location) and
 * the http trait gives the success status (201 for the Create* actions).
 */

// ---------------------------------------------------------------------------------------------
// Routing

type Segment = { readonly literal: string } | { readonly label: string; readonly greedy: boolean };

interface Route {
  readonly op: OperationSchema;
  readonly method: string;
  readonly segments: readonly Segment[];
  readonly staticQuery: readonly [string, string][];
  readonly literals: number;
}

const routeTables = new Map<WireService, readonly Route[]>();

function compileRoute(op: OperationSchema): Route | undefined {
  if (!op.http) return undefined;
  const [path = "", search] = op.http.uri.split("?");
  const segments: Segment[] = path
    .split("/")
    .slice(1)
    .map((s) => {
      const m = /^\{([^{}+]+)(\+)?\}$/.exec(s);
      return m ? { label: m[1]!, greedy: !!m[2] } : { literal: s };
    });
  return {
    op,
    method: op.http.method.toUpperCase(),
    segments,
    staticQuery: search ? [...new URLSearchParams(search)] : [],
    literals: segments.filter((s) => "literal" in s).length,
  };
}

function routesOf(service: WireService): readonly Route[] {
  let routes = routeTables.get(service);
  if (!routes) {
    routes = operationNames(service)
      .map((name) => compileRoute(findOperation(service, name)!))
      .filter((r): r is Route => r !== undefined)
      // A literal segment beats a label in the same place (…/trafficpolicyinstances/hostedzone).
      .sort((a, b) => b.literals - a.literals);
    routeTables.set(service, routes);
  }
  return routes;
}

function matchSegments(route: Route, parts: readonly string[]): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  const segs = route.segments;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    if ("literal" in seg) {
      if (parts[i] !== seg.literal) return undefined;
      continue;
    }
    if (seg.greedy) {
      const rest = parts.slice(i);
      if (rest.length === 0 || rest.some((p) => p === "")) return undefined;
      labels[seg.label] = rest.map(decodeURIComponent).join("/");
      return labels;
    }
    const part = parts[i];
    if (part === undefined || part === "") return undefined;
    labels[seg.label] = decodeURIComponent(part);
  }
  return parts.length === segs.length ? labels : undefined;
}

export interface RestXmlMatch {
  readonly op: OperationSchema;
  /** URI labels, percent-decoded. */
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * The operation whose http trait matches `method` and `path`. `path` is the raw request path
 * (still percent-encoded, no query string): labels are split on `/` before they are decoded.
 */
export function matchRestXmlOperation(
  service: WireService,
  method: string,
  path: string,
  query?: URLSearchParams,
): RestXmlMatch | undefined {
  const trimmed = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  const parts = trimmed.split("/").slice(1);
  const verb = method.toUpperCase();
  for (const route of routesOf(service)) {
    if (route.method !== verb) continue;
    if (route.staticQuery.some(([k, v]) => query?.get(k) !== v)) continue;
    let labels: Record<string, string> | undefined;
    try {
      labels = matchSegments(route, parts);
    } catch {
      return undefined; // malformed percent-encoding
    }
    if (labels) return { op: route.op, labels };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Decoding

export interface RestXmlRequest {
  readonly labels: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Lower-case header names, as node:http gives them. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body: string | Uint8Array;
}

type Binding =
  | "label"
  | "query"
  | "queryParams"
  | "header"
  | "prefixHeaders"
  | "payload"
  | "statusCode"
  | "body";

function bindingOf(m: Member): Binding {
  const t = m.traits;
  if (t.httpLabel) return "label";
  if (t.httpQuery !== undefined) return "query";
  if (t.httpQueryParams) return "queryParams";
  if (t.httpHeader !== undefined) return "header";
  if (t.httpPrefixHeaders !== undefined) return "prefixHeaders";
  if (t.httpPayload) return "payload";
  if (t.httpResponseCode) return "statusCode";
  return "body";
}

interface Bindings {
  readonly members: readonly (readonly [Member, Binding])[];
  /** The structure restricted to its body members (what the XML body holds). */
  readonly body: StructShape | undefined;
}

const bindingCache = new WeakMap<StructShape, Bindings>();

function bindingsOf(shape: StructShape): Bindings {
  let b = bindingCache.get(shape);
  if (!b) {
    const members = shape.members.map((m) => [m, bindingOf(m)] as const);
    const bodyMembers = members.filter(([, k]) => k === "body").map(([m]) => m);
    const byName = new Map(bodyMembers.map((m) => [m.name, m]));
    const body: StructShape | undefined = bodyMembers.length
      ? {
          kind: "struct",
          name: shape.name,
          union: false,
          unit: false,
          traits: shape.traits,
          members: bodyMembers,
          member: (n) => byName.get(n),
        }
      : undefined;
    b = { members, body };
    bindingCache.set(shape, b);
  }
  return b;
}

let treeReader: { tree(xml: string): unknown } | undefined;

/** The SDK's own XML parser (the one its deserializer uses) as a generic tree, made on first use. */
function xmlTreeReader(): { tree(xml: string): unknown } {
  if (!treeReader) {
    class XmlTreeReader extends awsProtocols().XmlShapeDeserializer {
      tree(text: string): unknown {
        return this.parseXml(text);
      }
    }
    treeReader = new XmlTreeReader({
      timestampFormat: { useTrait: true, default: 5 },
      httpBindings: true,
      xmlNamespace: "",
      serviceNamespace: "",
    });
  }
  return treeReader;
}

function invalidInput(message: string): AwsError {
  return new AwsError("InvalidInput", message);
}

function xmlTag(m: Member): string {
  // The SDK's XML serializer names structure members by their own xmlName, others by merged traits.
  return (m.shape.kind === "struct" ? m.memberTraits.xmlName : m.traits.xmlName) ?? m.name;
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [v];
}

function readXml(shape: Shape, node: unknown, path: string): unknown {
  switch (shape.kind) {
    case "struct":
      return readXmlStruct(shape, node, path);
    case "list": {
      if (node === "" || node == null) return [];
      const holder = Array.isArray(node) ? node[0] : node;
      if (typeof holder !== "object" || holder === null) throw invalidInput(`${path} must be a list`);
      const items = (holder as Record<string, unknown>)[shape.member.traits.xmlName ?? "member"];
      if (items === undefined) return [];
      return asArray(items).map((item, i) => readXml(shape.member.shape, item, `${path}.${i + 1}`));
    }
    case "map": {
      if (node === "" || node == null) return {};
      if (typeof node !== "object") throw invalidInput(`${path} must be a map`);
      const entries = (node as Record<string, unknown>).entry;
      return readEntries(
        shape.key.traits.xmlName ?? "key",
        shape.value,
        entries === undefined ? [] : asArray(entries),
        path,
      );
    }
    default:
      if (typeof node !== "string") throw invalidInput(`${path} must be a simple value`);
      return parseScalar(shape, node, path);
  }
}

function readEntries(
  keyTag: string,
  value: Member,
  entries: unknown[],
  path: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const valueTag = value.traits.xmlName ?? "value";
  for (const e of entries) {
    if (typeof e !== "object" || e === null) continue;
    const k = (e as Record<string, unknown>)[keyTag];
    const v = (e as Record<string, unknown>)[valueTag];
    if (typeof k !== "string" || v === undefined) continue;
    Object.defineProperty(out, k, {
      value: readXml(value.shape, v, `${path}.${k}`),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function readXmlStruct(shape: StructShape, node: unknown, path: string): Record<string, unknown> {
  if (node === "" || node == null) return {};
  if (typeof node !== "object" || Array.isArray(node))
    throw invalidInput(`${path || shape.name} must be a structure`);
  const obj = node as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const m of shape.members) {
    const tag = xmlTag(m);
    const v = obj[tag];
    if (v === undefined) continue;
    const where = path ? `${path}.${tag}` : tag;
    if (m.traits.xmlFlattened && m.shape.kind === "list") {
      const items = m.shape.member.shape;
      out[m.name] = asArray(v).map((item, i) => readXml(items, item, `${where}.${i + 1}`));
    } else if (m.traits.xmlFlattened && m.shape.kind === "map") {
      out[m.name] = readEntries(m.shape.key.traits.xmlName ?? "key", m.shape.value, asArray(v), where);
    } else {
      out[m.name] = readXml(m.shape, v, where);
    }
  }
  return out;
}

function bodyText(body: string | Uint8Array): string {
  return typeof body === "string"
    ? body
    : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
}

function parseTree(text: string): unknown {
  // Loaded outside the try: a module that fails to load is privlink's fault, not the body's.
  const reader = xmlTreeReader();
  try {
    return reader.tree(text);
  } catch {
    throw invalidInput("Could not parse the request body as XML");
  }
}

function headerValue(headers: RestXmlRequest["headers"], name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(", ") : (v as string | undefined);
}

function readText(m: Member, raw: string, param: string): unknown {
  if (m.shape.kind === "list") {
    const item = m.shape.member.shape as ScalarShape;
    return raw.split(",").map((s) => parseScalar(item, s.trim(), param));
  }
  return parseScalar(m.shape as ScalarShape, raw, param);
}

function decodeMember(
  m: Member,
  binding: Binding,
  req: RestXmlRequest,
  input: Record<string, unknown>,
): void {
  const t = m.traits;
  if (binding === "label") {
    const raw = req.labels[m.name];
    if (raw !== undefined) input[m.name] = parseScalar(m.shape as ScalarShape, raw, m.name);
  } else if (binding === "query") {
    const values = req.query.getAll(t.httpQuery);
    if (values.length === 0) return;
    input[m.name] =
      m.shape.kind === "list"
        ? values.map((v) =>
            parseScalar((m.shape as { member: Member }).member.shape as ScalarShape, v, t.httpQuery),
          )
        : parseScalar(m.shape as ScalarShape, values[0]!, t.httpQuery);
  } else if (binding === "header") {
    const raw = headerValue(req.headers, t.httpHeader);
    if (raw !== undefined) input[m.name] = readText(m, raw, t.httpHeader);
  } else if (binding === "prefixHeaders") {
    const prefix = String(t.httpPrefixHeaders).toLowerCase();
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (k.startsWith(prefix) && v !== undefined)
        out[k.slice(prefix.length)] = Array.isArray(v) ? v.join(", ") : String(v);
    input[m.name] = out;
  } else if (binding === "queryParams") {
    const out: Record<string, unknown> = {};
    const listValued = m.shape.kind === "map" && m.shape.value.shape.kind === "list";
    for (const k of new Set(req.query.keys())) out[k] = listValued ? req.query.getAll(k) : req.query.get(k);
    input[m.name] = out;
  } else if (binding === "payload") {
    decodePayload(m, req.body, input);
  }
}

function decodePayload(m: Member, body: string | Uint8Array, input: Record<string, unknown>): void {
  if (m.shape.kind === "struct") {
    const text = bodyText(body);
    if (text.trim() !== "") input[m.name] = readXmlStruct(m.shape, parseTree(text), "");
  } else if (m.shape.kind === "string") {
    input[m.name] = bodyText(body);
  } else {
    input[m.name] = typeof body === "string" ? new Uint8Array(Buffer.from(body, "utf8")) : body;
  }
}

/** A Route 53 request → the SDK input shape of `op`. */
export function decodeRestXml(op: OperationSchema, req: RestXmlRequest): Record<string, unknown> {
  const { members, body } = bindingsOf(op.input);
  const input: Record<string, unknown> = {};
  try {
    for (const [m, binding] of members) if (binding !== "body") decodeMember(m, binding, req, input);
    const text = body ? bodyText(req.body) : "";
    if (body && text.trim() !== "") Object.assign(input, readXmlStruct(body, parseTree(text), ""));
  } catch (e) {
    // Route 53 reports every unreadable value as InvalidInput.
    if (e instanceof AwsError && e.code === "InvalidParameterValue") throw invalidInput(e.message);
    throw e;
  }
  return input;
}

// ---------------------------------------------------------------------------------------------
// Encoding

export interface WireResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string | Buffer;
}

function headerText(m: Member, v: unknown): string {
  if (m.shape.kind === "list") {
    const item = m.shape.member.shape as ScalarShape;
    return (v as unknown[]).map((x) => formatScalar(item, x, "http-date")).join(", ");
  }
  return formatScalar(m.shape as ScalarShape, v, "http-date");
}

/** Output shape → status, headers and XML body of a Route 53 response. */
export function encodeRestXml(op: OperationSchema, output: unknown, requestId: string): WireResponse {
  const value = (output ?? {}) as Record<string, unknown>;
  const headers: Record<string, string> = { "x-amzn-requestid": requestId };
  let status = op.http?.code ?? 200;
  let body: string | Buffer = "";
  const ns = xmlNamespaceOf(op.service);
  const { members, body: bodyShape } = bindingsOf(op.output);
  for (const [m, binding] of members) {
    const v = value[m.name];
    if (v == null) continue;
    if (binding === "header") headers[String(m.traits.httpHeader).toLowerCase()] = headerText(m, v);
    else if (binding === "prefixHeaders") {
      for (const [k, x] of Object.entries(v as Record<string, unknown>))
        headers[`${String(m.traits.httpPrefixHeaders)}${k}`.toLowerCase()] = String(x);
    } else if (binding === "statusCode") status = Number(v);
    else if (binding === "payload") body = payloadBody(m, v, ns);
  }
  if (bodyShape) {
    const root = op.output.traits.xmlName ?? op.output.name;
    body = `${XML_DECLARATION}<${root} xmlns="${ns}">${structXml(bodyShape, value)}</${root}>`;
  }
  if (body !== "")
    headers["content-type"] = typeof body === "string" ? "text/xml" : "application/octet-stream";
  return { status, headers, body };
}

function payloadBody(m: Member, v: unknown, ns: string): string | Buffer {
  if (m.shape.kind === "struct") {
    const root = m.traits.xmlName ?? m.shape.name;
    const xml = elementXml(root, m.shape, v);
    // The namespace goes on the root element: after the tag name, before `>` or `/>`.
    return XML_DECLARATION + xml.replace(/^<([^\s/>]+)/, `<$1 xmlns="${ns}"`);
  }
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return String(v);
}
