/** Longest chunk a spool grows to; a window's lines beyond it go to further chunks. */
const SPOOL_CHUNK_MAX = 64 * 1024;

/**
 * Rendered lines waiting for the end of their window, kept in Buffers (outside the V8 heap):
 * the GC neither copies nor marks anything per closed flow while thousands a second wait out
 * a 60 or 600 s window (issue 12: metering at most 5 % of a connection's cost).
 *
 * A line is either appended whole (`append`) or written value by value (`open`, `str`, `num`,
 * `close`), which builds no string at all: young garbage, not the flow log's own CPU, was most
 * of what a flow log cost a connection (a line built as a template left ~0.8 KB of strings,
 * and a tap that only allocated as much cost the process as much as the flow log).
 */
export class Spool {
  private readonly full: Buffer[] = [];
  private chunk = Buffer.allocUnsafe(256);
  private used = 0;
  /** Where the line being written by values started in `chunk` (`used` between lines). */
  private lineStart = 0;
  /** No value of the line being written yet (an empty first value writes no byte). */
  private first = true;

  append(line: string): void {
    // A UTF-16 unit is at most 3 bytes of UTF-8: with that much room left the line is copied
    // without being measured first.
    if (this.chunk.length - this.used < 3 * line.length + 1) this.room(Buffer.byteLength(line) + 1);
    this.used += this.chunk.write(line, this.used);
    this.chunk[this.used++] = 0x0a;
    this.lineStart = this.used;
  }

  /** Starts a line written value by value. */
  open(): void {
    this.lineStart = this.used;
    this.first = true;
  }

  /** A string value of the line (after a space unless it is the first), as `${s}` prints it. */
  str(s: string): void {
    this.separate();
    this.text(s);
  }

  /** Values already encoded (UTF-8, separated by spaces), copied as they are. */
  bytes(b: Uint8Array): void {
    this.separate();
    if (this.chunk.length - this.used < b.length) this.room(b.length);
    const chunk = this.chunk;
    let at = this.used;
    for (let i = 0; i < b.length; i++) chunk[at++] = b[i]!;
    this.used = at;
  }

  /** A number value of the line, as `${n}` prints it. */
  num(n: number): void {
    this.separate();
    if (n >= 0 && n <= 0x7fffffff && n === Math.floor(n)) this.digits(n);
    else this.text(`${n}`);
  }

  /** Ends the line written by values. */
  close(): void {
    this.byte(0x0a);
    this.lineStart = this.used;
  }

  /** The lines as UTF-8, each ending in a newline; no chunk is empty and none splits a line. */
  chunks(): Buffer[] {
    const out = this.full.slice();
    if (this.used > 0) out.push(this.chunk.subarray(0, this.used));
    return out;
  }

  lines(): string[] {
    return linesOf(this.chunks());
  }

  private byte(b: number): void {
    if (this.used === this.chunk.length) this.room(1);
    this.chunk[this.used++] = b;
  }

  /** ASCII byte by byte (IDs, addresses, names), anything else through the UTF-8 encoder. */
  private text(s: string): void {
    if (this.chunk.length - this.used < s.length) this.room(s.length);
    // The chunk and position in locals: the loop then neither reloads nor stores them per byte.
    const chunk = this.chunk;
    let at = this.used;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        if (this.chunk.length - this.used < 3 * s.length) this.room(Buffer.byteLength(s));
        this.used += this.chunk.write(s, this.used);
        return;
      }
      chunk[at++] = c;
    }
    this.used = at;
  }

  /** A non-negative 31-bit integer in decimal, as String(n) prints it, in integer arithmetic. */
  private digits(n: number): void {
    const len = decimalLength(n);
    if (this.chunk.length - this.used < len) this.room(len);
    const chunk = this.chunk;
    let x = n | 0;
    for (let i = this.used + len - 1; i >= this.used; i--) {
      const q = (x / 10) | 0;
      chunk[i] = 0x30 + x - q * 10;
      x = q;
    }
    this.used += len;
  }

  private separate(): void {
    if (this.first) this.first = false;
    else this.byte(0x20);
  }

  /**
   * Room for `n` more bytes in the current chunk; a line is never split between two, so the
   * part of the line being written by values moves to the new chunk with it.
   */
  private room(n: number): void {
    const partial = this.used - this.lineStart;
    if (this.chunk.length - this.used >= n) return;
    const next = Buffer.allocUnsafe(Math.max(partial + n, Math.min(this.chunk.length * 2, SPOOL_CHUNK_MAX)));
    this.chunk.copy(next, 0, this.lineStart, this.used);
    if (this.lineStart > 0) this.full.push(this.chunk.subarray(0, this.lineStart));
    this.chunk = next;
    this.used = partial;
    this.lineStart = 0;
  }
}

/** How many decimal digits a non-negative 31-bit integer has. */
function decimalLength(n: number): number {
  if (n < 100_000) return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10_000 ? 4 : 5;
  return n < 1_000_000 ? 6 : n < 10_000_000 ? 7 : n < 100_000_000 ? 8 : n < 1_000_000_000 ? 9 : 10;
}

/** Lines out of spooled chunks, chunk by chunk (a line never spans two), so no string grows with the window. */
export function linesOf(chunks: readonly Buffer[]): string[] {
  const out: string[] = [];
  for (const c of chunks) for (const line of c.toString("utf8", 0, c.length - 1).split("\n")) out.push(line);
  return out;
}
