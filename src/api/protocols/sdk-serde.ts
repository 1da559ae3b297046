import { createRequire } from "node:module";
import type * as AwsProtocols from "@aws-sdk/core/protocols";
import type * as SmithyCbor from "@smithy/core/cbor";
import type * as SmithySchema from "@smithy/core/schema";
import type * as SmithySerde from "@smithy/core/serde";

/**
 * The SDK serde modules the codecs use, each loaded on its first use instead of imported.
 *
 * Why: each is one large CommonJS file (@smithy/core's cbor 83 KB, serde 62 KB, @aws-sdk/core's
 * protocols 61 KB and the @smithy/core submodules it pulls in). An ESM `import` of CommonJS makes
 * Node read and lex the whole file for its export names before V8 compiles it, at every start —
 * for protocols a server may never be asked to speak. `require` on first use compiles it once,
 * when the first request that needs it arrives, and skips the lexing. The SDK clients' own
 * schemas are loaded the same way, per service (schema.ts).
 */
const requireCjs = createRequire(import.meta.url);

function onFirstUse<T>(id: string): () => T {
  let mod: T | undefined;
  return () => {
    mod ??= requireCjs(id) as T;
    return mod;
  };
}

/** CBOR encode/decode and the timestamp tag (RPC v2 CBOR only). */
export const smithyCbor = onFirstUse<typeof SmithyCbor>("@smithy/core/cbor");
/** NumericValue (big decimals) and the HTTP-date formatter. */
export const smithySerde = onFirstUse<typeof SmithySerde>("@smithy/core/serde");
/** NormalizedSchema and the trait decoder, to compile an operation's shapes (schema.ts). */
export const smithySchema = onFirstUse<typeof SmithySchema>("@smithy/core/schema");
/** The SDK's XML deserializer, whose parser the restXml decoder reads bodies with. */
export const awsProtocols = onFirstUse<typeof AwsProtocols>("@aws-sdk/core/protocols");
