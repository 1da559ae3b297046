import { AwsError } from "../../cloud/errors.js";
import { checkCborFraming } from "./cbor-frame.js";
import { decodeJson, encodeJson } from "./json.js";
import { toBase64 } from "./scalars.js";
import type { OperationSchema, Shape } from "./schema.js";
import { smithyCbor } from "./sdk-serde.js";

/**
 * Smithy RPC v2 CBOR (aws-sdk-go-v2 CloudWatch, newer SDKs): the body is the input shape in
 * CBOR, timestamps as tag 1 (epoch seconds), blobs as byte strings. The shape rules are the JSON
 * protocols', so a CBOR body is read as its JSON twin and a response written as JSON is turned
 * into CBOR with timestamps tagged; one set of shape checks serves all three CloudWatch wires.
 */

/** CBOR → the JSON value the JSON decoder reads: tags unwrapped, byte strings as base64. */
function jsonTwin(v: unknown): unknown {
  if (v === null || typeof v !== "object") return typeof v === "bigint" ? Number(v) : v;
  if (v instanceof Uint8Array) return toBase64(v);
  if (v instanceof Date) return v.getTime() / 1000;
  if (Array.isArray(v)) return v.map(jsonTwin);
  const o = v as Record<string, unknown>;
  if ("tag" in o && "value" in o && Object.keys(o).length === 2) return jsonTwin(o.value);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) out[k] = jsonTwin(x);
  return out;
}

export function decodeCbor(op: OperationSchema, body: Uint8Array): Record<string, unknown> {
  if (body.length === 0) return decodeJson(op, "{}");
  checkCborFraming(body);
  const { cbor } = smithyCbor(); // outside the try: a load failure is not the body's fault
  let value: unknown;
  try {
    value = cbor.deserialize(body);
  } catch (err) {
    throw new AwsError("SerializationException", `Cannot read the CBOR body: ${(err as Error).message}`);
  }
  return decodeJson(op, JSON.stringify(jsonTwin(value)));
}

/** Timestamps (epoch seconds in the JSON twin) become CBOR tag 1, as the protocol requires. */
function tagTimestamps(shape: Shape, v: unknown): unknown {
  if (v === undefined || v === null) return v;
  switch (shape.kind) {
    case "timestamp":
      return smithyCbor().dateToTag(new Date(Number(v) * 1000));
    case "blob":
      return Buffer.from(String(v), "base64");
    case "list":
      return (v as unknown[]).map((x) => tagTimestamps(shape.member.shape, x));
    case "map": {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as object)) out[k] = tagTimestamps(shape.value.shape, x);
      return out;
    }
    case "struct": {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as object)) {
        const m = shape.member(k);
        out[k] = m ? tagTimestamps(m.shape, x) : x;
      }
      return out;
    }
    default:
      return v;
  }
}

export function encodeCbor(op: OperationSchema, output: unknown): Uint8Array {
  const twin = JSON.parse(encodeJson(op, output));
  return smithyCbor().cbor.serialize(tagTimestamps(op.output, twin));
}

export function cborError(type: string, message: string): Uint8Array {
  return smithyCbor().cbor.serialize({ __type: type, message });
}
