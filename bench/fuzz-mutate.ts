/** The mutation engine of `npm run fuzz`: a replayable PRNG and byte/token-level mutations. */

/** mulberry32: a seed replays a run exactly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [
  "",
  "0",
  "-1",
  "4294967296",
  "1e309",
  "NaN",
  "%",
  "%zz",
  "\u0000",
  "null",
  "[]",
  "{}",
  "<",
  "]]>",
  "a".repeat(5000),
  "..",
  "Filter.1.Name",
  "&&&",
  "=",
  "\ud800",
];

/** A few byte- and token-level mutations of `b`. */
export function mutateBytes(b: Buffer, rand: () => number): Buffer {
  let out = Buffer.from(b);
  const n = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) {
    const pos = Math.floor(rand() * (out.length + 1));
    switch (Math.floor(rand() * 6)) {
      case 0:
        if (out.length) out[pos % out.length] = Math.floor(rand() * 256);
        break;
      case 1:
        out = Buffer.concat([out.subarray(0, pos), out.subarray(pos + 1 + Math.floor(rand() * 16))]);
        break;
      case 2: {
        const token = Buffer.from(INTERESTING[Math.floor(rand() * INTERESTING.length)]!);
        out = Buffer.concat([out.subarray(0, pos), token, out.subarray(pos)]);
        break;
      }
      case 3: {
        const len = Math.floor(rand() * 32);
        out = Buffer.concat([out.subarray(0, pos), out.subarray(pos, pos + len), out.subarray(pos)]);
        break;
      }
      case 4:
        out = out.subarray(0, pos);
        break;
      default: {
        // Numbers in the text become other numbers (indexes, counts, lengths).
        const s = out
          .toString("latin1")
          .replace(/\d+/, () => String(Math.floor(rand() * 2 ** (rand() * 40))));
        out = Buffer.from(s, "latin1");
      }
    }
  }
  return out;
}

/** Values that break length fields, counts and pointers in binary protocols. */
const U16 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x3fff, 0x7fff, 0x8000, 0xc000, 0xc00c, 0xfffe, 0xffff];

/**
 * Mutations for binary wire formats (DNS, TLS records, PROXY v2): `mutateBytes`'s, plus 16-bit
 * fields overwritten with boundary values (lengths, counts), compression-pointer-like pairs that
 * point back at themselves or past the end, and bit flips in the first bytes (headers, flags).
 */
export function mutateBinary(b: Buffer, rand: () => number): Buffer {
  let out = rand() < 0.4 ? mutateBytes(b, rand) : Buffer.from(b);
  const n = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < n && out.length >= 2; i++) {
    const pos = Math.floor(rand() * (out.length - 1));
    switch (Math.floor(rand() * 4)) {
      case 0:
        out.writeUInt16BE(U16[Math.floor(rand() * U16.length)]!, pos);
        break;
      case 1:
        // A pointer to itself, to its neighbour, or beyond the message.
        out.writeUInt16BE(0xc000 | ((pos + Math.floor(rand() * 3) - 1) & 0x3fff), pos);
        break;
      case 2:
        out[Math.floor(rand() * Math.min(out.length, 24))]! ^= 1 << Math.floor(rand() * 8);
        break;
      default: {
        // A length one off from what follows it.
        const rest = out.length - pos - 2;
        out.writeUInt16BE(Math.max(0, Math.min(0xffff, rest + Math.floor(rand() * 5) - 2)), pos);
        out = rand() < 0.3 ? out.subarray(0, out.length - 1) : out;
      }
    }
  }
  return out;
}

/** What a fuzz run counts: inputs, answers by class, and findings (capped, with what caused them). */
export interface Tally {
  inputs: number;
  statuses: Record<string, number>;
  findings: string[];
}

export function tally(r: Tally, cls: string): void {
  r.statuses[cls] = (r.statuses[cls] ?? 0) + 1;
}

const MAX_FINDINGS = 20;

export function finding(r: Tally, text: string): void {
  if (r.findings.length < MAX_FINDINGS) r.findings.push(text);
  else if (r.findings.length === MAX_FINDINGS) r.findings.push("… more findings left off");
}
