import { decode, encode, Token, Type } from "cborg";

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
