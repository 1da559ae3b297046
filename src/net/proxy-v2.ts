import { isIPv4, isIPv6, SocketAddress } from "node:net";

/** One side of a proxied connection. */
export interface ProxyAddress {
  address: string;
  port: number;
}

export interface ProxyV2Header {
  source: ProxyAddress;
  destination: ProxyAddress;
  /** When set, the AWS TLV carrying the endpoint ID is appended (what an NLB sends for PrivateLink). */
  vpceId?: string;
}

/** The 12-byte signature that opens every PROXY protocol v2 header. */
export const PROXY_V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
export const PP2_TYPE_AWS = 0xea;
export const PP2_SUBTYPE_AWS_VPCE_ID = 0x01;

const VERSION_2_PROXY = 0x21;
const AF_INET_STREAM = 0x11;
const AF_INET6_STREAM = 0x21;
const FIXED_LENGTH = 16;

/**
 * Encodes a PROXY protocol v2 header. When one side is IPv4 and the other IPv6, both are sent as
 * IPv6 (the IPv4 one mapped to ::ffff:a.b.c.d), since one header carries one address family.
 */
export function encodeProxyV2(header: ProxyV2Header): Buffer {
  const src = addressBytes(header.source.address);
  const dst = addressBytes(header.destination.address);
  const v4 = src.length === 4 && dst.length === 4;
  const srcBytes = v4 ? src : toV6(src);
  const dstBytes = v4 ? dst : toV6(dst);
  const tlv = header.vpceId === undefined ? undefined : awsVpceTlv(header.vpceId);
  const addrLength = 2 * srcBytes.length + 4;
  const bodyLength = addrLength + (tlv?.length ?? 0);
  const out = Buffer.allocUnsafe(FIXED_LENGTH + bodyLength);
  PROXY_V2_SIGNATURE.copy(out, 0);
  out[12] = VERSION_2_PROXY;
  out[13] = v4 ? AF_INET_STREAM : AF_INET6_STREAM;
  out.writeUInt16BE(bodyLength, 14);
  let at = FIXED_LENGTH;
  at += srcBytes.copy(out, at);
  at += dstBytes.copy(out, at);
  at = out.writeUInt16BE(checkPort(header.source.port), at);
  at = out.writeUInt16BE(checkPort(header.destination.port), at);
  tlv?.copy(out, at);
  return out;
}

function awsVpceTlv(vpceId: string): Buffer {
  // 0xEA also carries other AWS subtypes in principle, so the ID is ASCII after a subtype byte.
  if (!/^[\x20-\x7e]*$/.test(vpceId)) throw new TypeError(`vpceId must be printable ASCII: ${vpceId}`);
  const valueLength = 1 + vpceId.length;
  const tlv = Buffer.allocUnsafe(3 + valueLength);
  tlv[0] = PP2_TYPE_AWS;
  tlv.writeUInt16BE(valueLength, 1);
  tlv[3] = PP2_SUBTYPE_AWS_VPCE_ID;
  tlv.write(vpceId, 4, "latin1");
  return tlv;
}

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`invalid port: ${port}`);
  return port;
}

/** 4 bytes for IPv4 and IPv4-mapped IPv6 (what dual-stack sockets report), else 16. */
export function addressBytes(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split(".").map(Number));
  const plain = address.replace(/%.*$/, "");
  if (!isIPv6(plain)) throw new TypeError(`not an IP address: ${address}`);
  const bytes = ipv6Bytes(plain);
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? Buffer.from(bytes.subarray(12)) : bytes;
}

function toV6(bytes: Buffer): Buffer {
  if (bytes.length === 16) return bytes;
  const out = Buffer.alloc(16);
  out[10] = 0xff;
  out[11] = 0xff;
  bytes.copy(out, 12);
  return out;
}

/** Parses a syntactically valid IPv6 literal (checked by isIPv6) into 16 bytes. */
function ipv6Bytes(address: string): Buffer {
  const out = Buffer.alloc(16);
  const [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
  const groups = (part: string | undefined): number[] => {
    if (!part) return [];
    return part.split(":").flatMap((g) => {
      if (!g.includes(".")) return [Number.parseInt(g, 16)];
      const [a, b, c, d] = g.split(".").map(Number) as [number, number, number, number];
      return [(a << 8) | b, (c << 8) | d];
    });
  };
  const front = groups(head);
  const back = groups(tail);
  for (const [i, g] of front.entries()) out.writeUInt16BE(g, i * 2);
  for (const [i, g] of back.entries()) out.writeUInt16BE(g, 16 - (back.length - i) * 2);
  return out;
}

export interface DecodedProxyV2 {
  command: "LOCAL" | "PROXY";
  family: "UNSPEC" | "INET" | "INET6" | "UNIX";
  source?: ProxyAddress;
  destination?: ProxyAddress;
  /** The AWS endpoint ID from a 0xEA/0x01 TLV, when present. */
  vpceId?: string;
  tlvs: { type: number; value: Buffer }[];
  /** Bytes the header occupies; the application stream starts right after. */
  length: number;
}

/**
 * Decodes a PROXY v2 header at the start of `buf`, for targets (the built-in services) that
 * accept it. Returns undefined while `buf` is still too short, throws on a malformed header.
 */
export function decodeProxyV2(buf: Buffer): DecodedProxyV2 | undefined {
  const probe = Math.min(buf.length, PROXY_V2_SIGNATURE.length);
  if (!buf.subarray(0, probe).equals(PROXY_V2_SIGNATURE.subarray(0, probe))) {
    throw new TypeError("not a PROXY protocol v2 header");
  }
  if (buf.length < FIXED_LENGTH) return undefined;
  const length = FIXED_LENGTH + buf.readUInt16BE(14);
  if (buf.length < length) return undefined;
  if (buf[12]! >> 4 !== 2) throw new TypeError(`unsupported PROXY version ${buf[12]! >> 4}`);
  // Receivers must drop other commands (the spec, 2.2); found by `npm run fuzz -- proxy-v2`.
  if ((buf[12]! & 0x0f) > 1) throw new TypeError(`unknown PROXY command ${buf[12]! & 0x0f}`);
  const command = (buf[12]! & 0x0f) === 1 ? "PROXY" : "LOCAL";
  const family = (["UNSPEC", "INET", "INET6", "UNIX"] as const)[buf[13]! >> 4];
  if (!family) throw new TypeError(`unknown address family ${buf[13]! >> 4}`);
  const addrLength = { UNSPEC: 0, INET: 12, INET6: 36, UNIX: 216 }[family];
  if (length - FIXED_LENGTH < addrLength) throw new TypeError("PROXY header shorter than its addresses");
  const decoded: DecodedProxyV2 = {
    command,
    family,
    tlvs: readTlvs(buf, FIXED_LENGTH + addrLength, length),
    length,
  };
  if (family === "INET" || family === "INET6") Object.assign(decoded, readAddresses(buf, family));
  const aws = decoded.tlvs.find((t) => t.type === PP2_TYPE_AWS && t.value[0] === PP2_SUBTYPE_AWS_VPCE_ID);
  if (aws) decoded.vpceId = aws.value.toString("latin1", 1);
  return decoded;
}

function readAddresses(buf: Buffer, family: "INET" | "INET6") {
  const size = family === "INET" ? 4 : 16;
  const text = (at: number) =>
    size === 4
      ? Array.from(buf.subarray(at, at + 4)).join(".")
      : canonicalV6(Array.from({ length: 8 }, (_, i) => buf.readUInt16BE(at + i * 2).toString(16)).join(":"));
  const ports = FIXED_LENGTH + 2 * size;
  return {
    source: { address: text(FIXED_LENGTH), port: buf.readUInt16BE(ports) },
    destination: { address: text(FIXED_LENGTH + size), port: buf.readUInt16BE(ports + 2) },
  };
}

/** SocketAddress normalises through inet_ntop, so decoded text matches what sockets report. */
const canonicalV6 = (address: string) => new SocketAddress({ address, family: "ipv6" }).address;

function readTlvs(buf: Buffer, from: number, end: number): { type: number; value: Buffer }[] {
  const tlvs: { type: number; value: Buffer }[] = [];
  let at = from;
  while (at < end) {
    if (at + 3 > end) throw new TypeError("truncated TLV");
    const valueEnd = at + 3 + buf.readUInt16BE(at + 1);
    if (valueEnd > end) throw new TypeError("TLV overruns the PROXY header");
    tlvs.push({ type: buf[at]!, value: buf.subarray(at + 3, valueEnd) });
    at = valueEnd;
  }
  return tlvs;
}
