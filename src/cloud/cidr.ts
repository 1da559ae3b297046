import { Address4 } from "ip-address";

/** An IPv4 CIDR block as two 32-bit numbers; the small arithmetic every VPC rule needs. */
export interface Cidr4 {
  readonly base: number; // network address as an unsigned 32-bit number
  readonly prefix: number;
  readonly size: number;
}

// Rules compare every new block with existing ones: parse each distinct text once.
const cidrCache = new Map<string, Cidr4 | undefined>();

/** Parses "a.b.c.d/n"; returns undefined for anything else (callers raise their own AWS error). */
export function parseCidr(text: string): Cidr4 | undefined {
  let c = cidrCache.get(text);
  if (c === undefined && !cidrCache.has(text)) {
    c = parseCidrUncached(text);
    if (cidrCache.size > 100_000) cidrCache.clear();
    cidrCache.set(text, c);
  }
  return c;
}

function parseCidrUncached(text: string): Cidr4 | undefined {
  if (typeof text !== "string" || !/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(text) || !Address4.isValid(text))
    return undefined;
  const a = new Address4(text);
  const prefix = a.subnetMask;
  const size = 2 ** (32 - prefix);
  const base = Number(a.startAddress().bigInt());
  return { base, prefix, size };
}

/** True when `text` is a CIDR whose host bits are zero (AWS rejects 10.0.0.1/16). */
export function isCanonicalCidr(text: string): boolean {
  const c = parseCidr(text);
  return !!c && formatCidr(c) === text;
}

/** Dotted-quad IPv4 to a number; parsed by hand because every flow decision parses several. */
export function parseIp(text: string): number | undefined {
  if (typeof text !== "string" || !/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) return undefined;
  let n = 0;
  for (const part of text.split(".")) {
    const octet = Number(part);
    if (octet > 255 || (part.length > 1 && part[0] === "0")) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export function formatCidr(c: Cidr4): string {
  return `${formatIp(c.base)}/${c.prefix}`;
}

export function cidrContains(outer: Cidr4, ip: number): boolean {
  return ip >= outer.base && ip < outer.base + outer.size;
}

export function cidrWithin(inner: Cidr4, outer: Cidr4): boolean {
  return inner.base >= outer.base && inner.base + inner.size <= outer.base + outer.size;
}

export function cidrOverlaps(a: Cidr4, b: Cidr4): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

/** `ipText` within the CIDR text (false for malformed input). */
export function ipInCidr(ipText: string, cidrText: string): boolean {
  const ip = parseIp(ipText);
  const c = parseCidr(cidrText);
  return ip !== undefined && !!c && cidrContains(c, ip);
}
