import { AwsError } from "../../cloud/errors.js";

/**
 * Checks the framing of a CBOR body before @smithy/core's decoder reads it: every string length
 * and every array or map count fits in the bytes that are left; map keys are definite text
 * strings (Smithy RPC v2 CBOR); the chunks of an indefinite string are definite strings of its
 * type and a bignum tag (2, 3) holds a definite byte string (RFC 8949); no reserved additional
 * information; breaks only inside indefinite-length items; nesting bounded. Smithy's decoder reads
 * any key, chunk or bignum content as a length: past 2^53 it prints a warning to the console (a
 * client could fill the server's log with it) and a bignum of a large count loops that many
 * times. AWS answers such a body with a SerializationException, and so does this check.
 */
const MAX_DEPTH = 64;
const INDEFINITE = -1;
const TEXT = 3;
const BYTES = 2;

/** An item being read: how many items it still holds (INDEFINITE: until a break) and what it is. */
interface Open {
  left: number;
  /** Items read in it so far (a map's keys are the even ones). */
  seen: number;
  /** What each item in it must be: a definite string of this major type (keys, chunks, bignums). */
  only?: number;
  map: boolean;
}

export function checkCborFraming(body: Uint8Array): void {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let at = 0;
  const open: Open[] = [{ left: 1, seen: 0, map: false }];
  while (open.length > 0) {
    const top = open[open.length - 1]!;
    if (top.left === 0) {
      open.pop();
      continue;
    }
    if (at >= body.length) bad("the body ends inside an item");
    const initial = body[at++]!;
    if (initial === 0xff) {
      if (top.left !== INDEFINITE) bad(`a break outside an indefinite-length item at byte ${at - 1}`);
      if (top.map && top.seen % 2 === 1) bad(`a map key without its value at byte ${at - 1}`);
      open.pop();
      continue;
    }
    const major = initial >> 5;
    const info = initial & 0x1f;
    const must = top.map && top.seen % 2 === 0 ? TEXT : top.only;
    if (must !== undefined && (major !== must || info === 31))
      bad(
        `major type ${major} where a definite ${must === TEXT ? "text" : "byte"} string belongs, at byte ${at - 1}`,
      );
    top.seen++;
    if (top.left > 0) top.left--;
    if (info === 31) {
      if (major < 2 || major > 5) bad(`an indefinite length on major type ${major} at byte ${at - 1}`);
      open.push({ left: INDEFINITE, seen: 0, map: major === 5, only: major <= TEXT ? major : undefined });
    } else {
      if (info >= 28) bad(`reserved additional information ${info} at byte ${at - 1}`);
      const size = info < 24 ? 0 : 1 << (info - 24);
      if (at + size > body.length) bad("the body ends inside an item's head");
      const arg = info < 24 ? info : readArgument(view, at, size);
      at += size;
      const left = body.length - at;
      if (major === BYTES || major === TEXT) {
        if (arg > left) bad(`a string of ${arg} bytes with ${left} left`);
        at += arg;
      } else if (major === 4 || major === 5) {
        const items = major === 5 ? arg * 2 : arg;
        if (items > left) bad(`${arg} entries with ${left} bytes left`);
        open.push({ left: items, seen: 0, map: major === 5 });
      } else if (major === 6)
        open.push({ left: 1, seen: 0, map: false, only: arg === 2 || arg === 3 ? BYTES : undefined });
    }
    if (open.length > MAX_DEPTH) bad(`items nested deeper than ${MAX_DEPTH}`);
  }
}

function readArgument(view: DataView, at: number, size: number): number {
  if (size === 1) return view.getUint8(at);
  if (size === 2) return view.getUint16(at);
  if (size === 4) return view.getUint32(at);
  // Beyond 2^53 the number is inexact, but still far larger than any body.
  return Number(view.getBigUint64(at));
}

function bad(why: string): never {
  throw new AwsError("SerializationException", `Cannot read the CBOR body: ${why}`);
}
