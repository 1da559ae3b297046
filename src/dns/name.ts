/**
 * Domain names in presentation form. Inside the DNS engine every name is *canonical*: ASCII
 * lowercased (RFC 4343: only ASCII letters fold), no trailing dot, the root is "". Bytes that
 * cannot stand in a plain label ('.', '\\', non-printables, non-ASCII) are escaped as in zone
 * files (`\.`, `\\`, `\DDD`), so a name read from the wire round-trips exactly.
 */

const MAX_LABEL = 63;
const MAX_WIRE_NAME = 255;

/** Lowercases ASCII letters and drops a trailing (unescaped) dot; "." and "" are the root. */
export function canonicalName(name: string): string {
  let n = name.toLowerCase();
  if (n.endsWith(".") && !n.endsWith("\\.")) n = n.slice(0, -1);
  return n;
}

/** The name one label up, or undefined for the root. Skips escaped dots. */
export function parentOf(name: string): string | undefined {
  if (name === "") return undefined;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 92 /* \ */) i++;
    else if (c === 46 /* . */) return name.slice(i + 1);
  }
  return "";
}

/** The name with one more label in front. */
export function childOf(parent: string, label: string): string {
  return parent === "" ? label : `${label}.${parent}`;
}

/** True when `name` is `origin` or below it. */
export function isSubdomain(name: string, origin: string): boolean {
  if (origin === "") return true;
  if (name === origin) return true;
  if (!name.endsWith(origin) || name.charCodeAt(name.length - origin.length - 1) !== 46) return false;
  // "a\.example.com" ends with ".example.com" only through an escaped dot: not a subdomain.
  return parentChainReaches(name, origin);
}

function parentChainReaches(name: string, origin: string): boolean {
  let n: string | undefined = name;
  for (let guard = 0; n !== undefined && guard < 128; guard++) {
    if (n === origin) return true;
    if (n.length < origin.length) return false;
    n = parentOf(n);
  }
  return false;
}

/** Wire bytes of each label of a presentation name, unescaping `\.`, `\\` and `\DDD`. */
export function labelBytes(name: string): Buffer[] {
  const out: Buffer[] = [];
  if (name === "" || name === ".") return out;
  let cur: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 92 && i + 1 < name.length) {
      const d = name.slice(i + 1, i + 4);
      if (/^\d{3}$/.test(d)) {
        cur.push(Number(d) & 0xff);
        i += 3;
      } else {
        cur.push(name.charCodeAt(i + 1) & 0xff);
        i += 1;
      }
    } else if (c === 46) {
      out.push(Buffer.from(cur));
      cur = [];
    } else if (c < 128) {
      cur.push(c);
    } else {
      for (const b of Buffer.from(name[i]!, "utf8")) cur.push(b);
    }
  }
  if (cur.length > 0 || !name.endsWith(".")) out.push(Buffer.from(cur));
  return out;
}

/**
 * Names already found legal: a view rebuilt after a commit checks mostly the same origins and
 * owners again. A pure function of the name (nothing can go stale); bounded.
 */
const VALID_NAMES = new Set<string>();
const MAX_VALID_NAMES = 200_000;

/** Throws unless the name is a legal domain name (labels 1-63 bytes, at most 255 bytes on the wire). */
export function assertValidName(name: string, what: string): void {
  if (VALID_NAMES.has(name)) return;
  const len = plainWireLength(name) ?? wireLength(labelBytes(name));
  if (len === 0) throw new Error(`${what}: bad label in name "${name}"`);
  if (len > MAX_WIRE_NAME) throw new Error(`${what}: name "${name}" is longer than 255 bytes`);
  if (VALID_NAMES.size >= MAX_VALID_NAMES) VALID_NAMES.clear();
  VALID_NAMES.add(name);
}

/** Wire length of a name's labels; 0 when a label is empty or longer than 63 bytes. */
function wireLength(labels: readonly Buffer[]): number {
  let len = 1;
  for (const l of labels) {
    if (l.length === 0 || l.length > MAX_LABEL) return 0;
    len += l.length + 1;
  }
  return len;
}

/**
 * {@link wireLength} of `labelBytes(name)` read off the text when each character is one byte
 * and nothing is escaped (every name a create brings is new): no label buffers. Undefined
 * otherwise.
 */
function plainWireLength(name: string): number | undefined {
  if (name === "" || name === ".") return 1;
  const end = name.endsWith(".") ? name.length - 1 : name.length;
  let len = 1;
  let label = 0;
  for (let i = 0; i < end; i++) {
    const c = name.charCodeAt(i);
    if (c === 92 || c >= 128) return undefined;
    if (c !== 46) label++;
    else if (label === 0 || label > MAX_LABEL) return 0;
    else {
      len += label + 1;
      label = 0;
    }
  }
  return label === 0 || label > MAX_LABEL ? 0 : len + label + 1;
}

/** Uncompressed wire form of a presentation name. */
export function encodeName(name: string): Buffer {
  const labels = labelBytes(name);
  const parts: Buffer[] = [];
  for (const l of labels) parts.push(Buffer.from([l.length]), l);
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Presentation form of one wire label (escaping what a plain label cannot hold). */
export function labelToText(buf: Buffer, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b === 46 || b === 92) s += `\\${String.fromCharCode(b)}`;
    else if (b > 32 && b < 127) s += String.fromCharCode(b);
    else s += `\\${b.toString().padStart(3, "0")}`;
  }
  return s;
}
