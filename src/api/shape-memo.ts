import type { State, Tx } from "../cloud/state.js";
import { keepingXml } from "./protocols/xml.js";

/**
 * Output shapes built once per state version. A Describe that lists fifty endpoints builds fifty
 * shapes (DNS names, group names, tags) and the XML encoder writes each one out; between two
 * commits the answer for the same object cannot change, so `perVersion(shape)` keeps each shape
 * for the version it was built at and forgets them all at the next commit (the state's version
 * is part of the key: nothing stale can be served).
 *
 * Only for shape functions that read nothing but the transaction and the object (not the
 * caller, not the clock). A transaction that has written builds afresh (its reads are not the
 * committed version). Shapes come back deep-frozen and marked for the XML encoder to keep the
 * text of each one with it (`keepingXml`), which makes a caller that would edit a shared shape
 * fail loudly.
 */
export function perVersion<T extends object, S extends object>(
  shape: (tx: Tx, value: T) => S,
): (tx: Tx, value: T) => S {
  let state: State | undefined;
  let version = -1;
  let built = new WeakMap<T, S>();
  return (tx, value) => {
    if (tx.written) return shape(tx, value);
    if (tx.state !== state || tx.state.version !== version) {
      state = tx.state;
      version = tx.state.version;
      built = new WeakMap();
    }
    let s = built.get(value);
    if (s === undefined) {
      s = keepingXml(shape(tx, value));
      built.set(value, s);
    }
    return s;
  };
}
