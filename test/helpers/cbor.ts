import { decode, encode, Token, Type } from "cborg";
import { signedResponse } from "./sign.js";

/** cborg with CBOR tag 1 (epoch-based date/time) both ways, as Smithy RPC v2 CBOR uses it. */
const tags: ((v: unknown) => unknown)[] = [];
tags[1] = (v) => new Date(Number(v) * 1000);

export const cborEncode = (v: unknown): Uint8Array =>
  encode(v, {
    typeEncoders: {
      Date: (d: Date) => [new Token(Type.tag, 1), new Token(Type.float, d.getTime() / 1000)],
    },
  });

export const cborDecode = (b: Uint8Array) => decode(b, { tags }) as Record<string, any>;

/**
 * A signed CloudWatch call in Smithy RPC v2 CBOR, as the Java and Go SDKs send it (with
 * `x-amzn-query-mode`, as a query-compatible client does): the answer's body decoded.
 */
export async function cborCall(
  url: string,
  op: string,
  input: unknown,
  creds?: { accessKeyId: string; secretAccessKey: string },
): Promise<{ status: number; headers: Headers; body: Record<string, any> }> {
  const res = await signedResponse(url, {
    service: "monitoring",
    creds,
    path: `/service/GraniteServiceVersion20100801/operation/${op}`,
    headers: {
      "smithy-protocol": "rpc-v2-cbor",
      "content-type": "application/cbor",
      accept: "application/cbor",
      "x-amzn-query-mode": "true",
    },
    body: cborEncode(input),
  });
  return {
    status: res.status,
    headers: res.headers,
    body: cborDecode(new Uint8Array(await res.arrayBuffer())),
  };
}
