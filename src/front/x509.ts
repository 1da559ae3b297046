import { webcrypto } from "node:crypto";
import type * as X509 from "@peculiar/x509";

let loaded: Promise<typeof X509> | undefined;

/**
 * @peculiar/x509 (some 200 modules with its ASN.1 schemas), loaded on the first certificate
 * made: a server starting on a home that has its CA and SNS key then starts without it.
 */
export function x509Lib(): Promise<typeof X509> {
  loaded ??= (async () => {
    await import("reflect-metadata");
    const m = await import("@peculiar/x509");
    m.cryptoProvider.set(webcrypto);
    return m;
  })();
  return loaded;
}
