import { AwsError } from "../../cloud/errors.js";

/**
 * Checks the framing of a CBOR body before @smithy/core's decoder reads it: every string length
 * and every array or map count must fit in the bytes that are left, no reserved additional
 * information, breaks only inside indefinite-length items, nesting bounded. Smithy's decoder
 * prints a warning to the console for a length beyond 2^53 (it truncates it, then fails on the
 * buffer), which a client could use to fill the server's log; AWS answers such a body with a
 * SerializationException, and so does this check, before the decoder sees it.
 */
const MAX_DEPTH = 64;
const INDEFINITE = -1;

export function checkCborFraming(body: Uint8Array): void {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let at = 0;
  // Items still expected by each open item, innermost last (INDEFINITE: until a break).
  const open: number[] = [1];
  while (open.length > 0) {
    const top = open.length - 1;
    if (open[top] === 0) {
      open.pop();
      continue;
    }
    if (at >= body.length) bad("the body ends inside an item");
    const initial = body[at++]!;
    if (initial === 0xff) {
      if (open[top] !== INDEFINITE) bad(`a break outside an indefinite-length item at byte ${at - 1}`);
      open.pop();
      continue;
    }
    if (open[top]! > 0) open[top]!--;
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (info === 31) {
      if (major < 2 || major > 5) bad(`an indefinite length on major type ${major} at byte ${at - 1}`);
      open.push(INDEFINITE);
    } else {
      if (info >= 28) bad(`reserved additional information ${info} at byte ${at - 1}`);
      const size = info < 24 ? 0 : 1 << (info - 24);
      if (at + size > body.length) bad("the body ends inside an item's head");
      const arg = info < 24 ? info : readArgument(view, at, size);
      at += size;
      const left = body.length - at;
      if (major === 2 || major === 3) {
        if (arg > left) bad(`a string of ${arg} bytes with ${left} left`);
        at += arg;
      } else if (major === 4 || major === 5) {
        const items = major === 5 ? arg * 2 : arg;
        if (items > left) bad(`${arg} entries with ${left} bytes left`);
        open.push(items);
      } else if (major === 6) open.push(1);
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
