/**
 * X.509 v3 certificates (RFC 5280) written in DER with node:crypto's keys and signatures: the
 * handful of ASN.1 types a certificate needs, and a reader for the two fields read back from one
 * (its subject, the issuer of the leaves a CA signs). This replaces @peculiar/x509 on privlink's
 * start-up path, where loading its ASN.1 schemas (some 200 modules) cost more than a whole start.
 */
import { createHash, type KeyObject, sign, type X509Certificate } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";

const OID = {
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  sha256WithRsa: "1.2.840.113549.1.1.11",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
} as const;

function tlv(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const len =
    n < 0x80
      ? Buffer.from([n])
      : n < 0x100
        ? Buffer.from([0x81, n])
        : n < 0x10000
          ? Buffer.from([0x82, n >> 8, n & 0xff])
          : Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, body: Buffer) => tlv(0xa0 + n, body);
const octets = (b: Buffer) => tlv(0x04, b);
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const out = [a! * 40 + b!];
  for (const arc of rest) {
    const bytes = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) bytes.unshift((v & 0x7f) | 0x80);
    out.push(...bytes);
  }
  return tlv(0x06, Buffer.from(out));
}

/** A non-negative INTEGER from its big-endian bytes (a zero byte first when the top bit is set). */
function uint(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0 && bytes[i + 1]! < 0x80) i++;
  const b = bytes.subarray(i);
  return tlv(0x02, b[0]! >= 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5), to the second. */
function time(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "");
  return d.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, "latin1"))
    : tlv(0x18, Buffer.from(`${digits}Z`, "latin1"));
}

/** PrintableString when the text allows it, else UTF8String (what @peculiar/x509 wrote too). */
function text(s: string): Buffer {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s)
    ? tlv(0x13, Buffer.from(s, "latin1"))
    : tlv(0x0c, Buffer.from(s));
}

/** A distinguished name of common name and organization, in that order. */
export function distinguishedName(cn: string, o?: string): Buffer {
  const rdn = (type: string, value: string) => set(seq(oid(type), text(value)));
  return seq(rdn(OID.commonName, cn), ...(o === undefined ? [] : [rdn(OID.organization, o)]));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

/** Key usage bits in RFC 5280's order: digitalSignature is bit 0. */
export const KeyUsage = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

export const extensions = {
  basicConstraints(ca: boolean, pathLen?: number): Buffer {
    const body = ca ? [bool(true), ...(pathLen === undefined ? [] : [uint(Buffer.from([pathLen]))])] : [];
    return extension(OID.basicConstraints, true, seq(...body));
  },
  keyUsage(bits: number[]): Buffer {
    const bytes = Buffer.alloc(2);
    for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
    const used = bytes[1] ? 2 : 1;
    const last = bytes[used - 1]!;
    let unused = 0;
    while (unused < 7 && !(last & (1 << unused))) unused++;
    return extension(
      OID.keyUsage,
      true,
      tlv(0x03, Buffer.concat([Buffer.from([unused]), bytes.subarray(0, used)])),
    );
  },
  serverAuth(): Buffer {
    return extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth)));
  },
  /** DNS names ([2] IA5String) and IP addresses ([7] their 4 or 16 bytes). */
  subjectAltName(names: string[]): Buffer {
    const general = names.map((n) =>
      isIPv4(n) || isIPv6(n) ? tlv(0x87, ipBytes(n)) : tlv(0x82, Buffer.from(n, "latin1")),
    );
    return extension(OID.subjectAltName, false, seq(...general));
  },
  subjectKeyIdentifier(keyId: Buffer): Buffer {
    return extension(OID.subjectKeyIdentifier, false, octets(keyId));
  },
  authorityKeyIdentifier(keyId: Buffer): Buffer {
    return extension(OID.authorityKeyIdentifier, false, seq(tlv(0x80, keyId)));
  },
};

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits (what @peculiar/x509 computed). */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: "spki", format: "der" });
  const bitString = children(spki)[1]!;
  const { start } = header(bitString, 0);
  return createHash("sha1")
    .update(bitString.subarray(start + 1))
    .digest();
}

export interface CertificateSpec {
  /** Big-endian bytes of a positive serial number. */
  serial: Buffer;
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  /** The issuer's private key: ECDSA signs with SHA-256, RSA with SHA-256 and PKCS #1 v1.5. */
  signingKey: KeyObject;
  extensions?: Buffer[];
}

/** The certificate, signed, as PEM. */
export function certificatePem(c: CertificateSpec): string {
  const algorithm =
    c.signingKey.asymmetricKeyType === "ec"
      ? seq(oid(OID.ecdsaWithSha256))
      : seq(oid(OID.sha256WithRsa), Buffer.from([0x05, 0x00]));
  const tbs = seq(
    explicit(0, uint(Buffer.from([2]))),
    uint(c.serial),
    algorithm,
    c.issuer,
    seq(time(c.notBefore), time(c.notAfter)),
    c.subject,
    c.publicKey.export({ type: "spki", format: "der" }),
    ...(c.extensions?.length ? [explicit(3, seq(...c.extensions))] : []),
  );
  const signature = sign("sha256", tbs, c.signingKey);
  const der = seq(tbs, algorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const lines = der.toString("base64").match(/.{1,64}/g)!;
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

/** A certificate's subject exactly as encoded (a leaf's issuer must repeat it byte for byte). */
export function subjectOf(cert: X509Certificate): Buffer {
  const tbs = children(cert.raw)[0]!;
  const fields = children(tbs);
  // version [0] is optional (v1 certificates leave it out): serial, signature, issuer, validity, subject.
  return fields[fields[0]![0] === 0xa0 ? 5 : 4]!;
}

function header(der: Buffer, at: number): { start: number; end: number } {
  const first = der[at + 1]!;
  if (first < 0x80) return { start: at + 2, end: at + 2 + first };
  const n = first & 0x7f;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[at + 2 + i]!;
  return { start: at + 2 + n, end: at + 2 + n + len };
}

/** The elements (whole, header included) inside a constructed element. */
function children(der: Buffer): Buffer[] {
  const outer = header(der, 0);
  const out: Buffer[] = [];
  for (let at = outer.start; at < outer.end; ) {
    const { end } = header(der, at);
    out.push(der.subarray(at, end));
    at = end;
  }
  return out;
}

/** An IP literal's network bytes: 4 for IPv4, 16 for IPv6 (with `::` and a dotted tail). */
function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split(".").map(Number));
  let s = ip.replace(/%.*$/, "");
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = ipBytes(v4[1]!);
    s = `${s.slice(0, -v4[1]!.length)}${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const [head, tail] = s.split("::") as [string, string | undefined];
  const words = (part: string | undefined) =>
    part ? part.split(":").map((w) => Number.parseInt(w, 16)) : [];
  const [h, t] = [words(head), words(tail)];
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const out = Buffer.alloc(16);
  for (const [i, w] of all.entries()) out.writeUInt16BE(w, i * 2);
  return out;
}
