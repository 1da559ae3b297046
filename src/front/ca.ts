/**
 * The local certificate authority behind privlink's TLS service fronts. One CA per
 * PRIVLINK_HOME signs short-lived-enough leaves for the AWS names a front answers; clients
 * trust it through trust.ts's combinedBundle (SSL_CERT_FILE / AWS_CA_BUNDLE).
 *
 * Keys are ECDSA P-256: generation takes milliseconds, and Node's tls, curl and Python's ssl
 * (the AWS CLI) all accept them, including Python 3.13's VERIFY_X509_STRICT default, which is
 * why both certificates carry key identifiers and the CA's basicConstraints is critical.
 */
import { randomBytes, webcrypto } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, link, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";
import type * as X509 from "@peculiar/x509";
import { x509Lib } from "./x509.js";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

export interface CaFiles {
  certPath: string;
  keyPath: string;
}

export interface LeafPem {
  certPem: string;
  keyPem: string;
}

const EC_KEY = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING = { name: "ECDSA", hash: "SHA-256" } as const;
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const CA_LIFETIME_MS = 3650 * DAY;
const LEAF_LIFETIME_MS = 365 * DAY;
/** Back-dating tolerates clients whose clock runs a little behind ours. */
const BACKDATE_MS = HOUR;
/** A cached leaf this close to expiry is re-issued instead of served. */
const RENEW_BEFORE_MS = DAY;
/** How long a loser of a creation race waits for the winner's certificate (20 × 50 ms). */
const RACE_POLLS = 20;
const CA_SUBJECT = "CN=privlink local CA, O=privlink";

export class LocalCa implements CaFiles {
  private readonly leaves = new Map<string, Promise<LeafPem & { notAfter: number }>>();
  private cert: X509.X509Certificate | undefined;

  private constructor(
    readonly certPem: string,
    readonly certPath: string,
    readonly keyPath: string,
    private readonly key: CryptoKey,
  ) {}

  /** Loads `<dir>/ca/ca.pem` and `ca-key.pem`, creating them (key mode 0600) on first use. */
  static async loadOrCreate(dir: string, now: Date): Promise<LocalCa> {
    const caDir = join(dir, "ca");
    const files = { certPath: join(caDir, "ca.pem"), keyPath: join(caDir, "ca-key.pem") };
    await mkdir(caDir, { recursive: true, mode: 0o700 });
    if (!existsSync(files.keyPath)) await createCaFiles(files, now);
    return LocalCa.load(files);
  }

  private static async load(files: CaFiles): Promise<LocalCa> {
    const keyPem = await readFile(files.keyPath, "utf8");
    const certPem = await waitForFile(files.certPath);
    const key = await webcrypto.subtle.importKey("pkcs8", pemBody(keyPem), EC_KEY, false, ["sign"]);
    return new LocalCa(certPem, files.certPath, files.keyPath, key);
  }

  /**
   * A server certificate for `names` (DNS names, `*.` wildcards, IPv4/IPv6 literals), signed
   * by this CA. Cached per set of names, so a front asking on every handshake pays once.
   */
  async leaf(names: string[], now: Date): Promise<LeafPem> {
    const unique = [...new Set(names.map((n) => n.toLowerCase()))].sort();
    if (unique.length === 0) throw new Error("a leaf certificate needs at least one name");
    const cacheKey = unique.join(",");
    const cached = this.leaves.get(cacheKey);
    if (cached) {
      const leaf = await cached.catch(() => undefined);
      if (leaf && leaf.notAfter - RENEW_BEFORE_MS > now.getTime()) return pemOnly(leaf);
    }
    const issuing = this.issue(unique, now);
    this.leaves.set(cacheKey, issuing);
    issuing.catch(() => this.leaves.delete(cacheKey));
    return pemOnly(await issuing);
  }

  private async issue(names: string[], now: Date): Promise<LeafPem & { notAfter: number }> {
    const x509 = await x509Lib();
    this.cert ??= new x509.X509Certificate(this.certPem);
    const keys = await generateKeys();
    const notAfter = new Date(now.getTime() + LEAF_LIFETIME_MS);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: [{ CN: [commonNameFor(names[0]!)] }],
      issuer: this.cert.subject,
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter,
      signingAlgorithm: SIGNING,
      publicKey: keys.publicKey,
      signingKey: this.key,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(names.map(generalName)),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert.publicKey),
      ],
    });
    return {
      certPem: cert.toString("pem"),
      keyPem: await privateKeyPem(keys.privateKey),
      notAfter: notAfter.getTime(),
    };
  }
}

async function createCaFiles(files: CaFiles, now: Date): Promise<void> {
  const x509 = await x509Lib();
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: CA_SUBJECT,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + CA_LIFETIME_MS),
    signingAlgorithm: SIGNING,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  await publish(files, await privateKeyPem(keys.privateKey), cert.toString("pem"));
}

/**
 * Publishes key then certificate without ever exposing a mismatched pair: the key appears by an
 * exclusive hard link, so when two processes race on a fresh directory exactly one wins and the
 * other drops its pair and reads the winner's.
 */
async function publish(files: CaFiles, keyPem: string, certPem: string): Promise<void> {
  const suffix = `.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const tmpKey = files.keyPath + suffix;
  const tmpCert = files.certPath + suffix;
  await writeFile(tmpKey, keyPem, { mode: 0o600 });
  await chmod(tmpKey, 0o600);
  await writeFile(tmpCert, certPem, { mode: 0o644 });
  try {
    await link(tmpKey, files.keyPath);
    await rename(tmpCert, files.certPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    await rm(tmpKey, { force: true });
    await rm(tmpCert, { force: true });
  }
}

async function waitForFile(path: string): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      return await readFile(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT" || i >= RACE_POLLS) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey("pkcs8", key);
  return (await x509Lib()).PemConverter.encode(der, "PRIVATE KEY");
}

/** The DER of a PEM file's first block (base64 between its BEGIN and END lines). */
function pemBody(pem: string): ArrayBuffer {
  const m = /-----BEGIN [^-]+-----([\s\S]*?)-----END [^-]+-----/.exec(pem);
  if (!m) throw new Error("not a PEM file");
  const der = Buffer.from(m[1]!.replace(/\s+/g, ""), "base64");
  return der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer;
}

/** 16 random bytes with the top bit clear: a positive DER INTEGER, unique without a counter. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString("hex");
}

function generalName(name: string): X509.JsonGeneralName {
  return isIP(name) ? { type: "ip", value: name } : { type: "dns", value: name };
}

/** RFC 5280 caps the CN at 64 characters; clients match on the SAN anyway. */
function commonNameFor(name: string): string {
  return name.length <= 64 ? name : name.slice(name.length - 64).replace(/^[^.]*\./, "");
}

function pemOnly(leaf: LeafPem): LeafPem {
  return { certPem: leaf.certPem, keyPem: leaf.keyPem };
}
