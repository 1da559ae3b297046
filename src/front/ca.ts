/**
 * The local certificate authority behind privlink's TLS service fronts. One CA per
 * PRIVLINK_HOME signs short-lived-enough leaves for the AWS names a front answers; clients
 * trust it through trust.ts's combinedBundle (SSL_CERT_FILE / AWS_CA_BUNDLE).
 *
 * Keys are ECDSA P-256: generation takes milliseconds, and Node's tls, curl and Python's ssl
 * (the AWS CLI) all accept them, including Python 3.13's VERIFY_X509_STRICT default, which is
 * why both certificates carry key identifiers and the CA's basicConstraints is critical.
 */
import { createPrivateKey, generateKeyPair, type KeyObject, randomBytes, X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, link, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { certificatePem, distinguishedName, extensions, KeyUsage, keyIdentifier, subjectOf } from "./der.js";

const generateEcKeys = promisify(generateKeyPair);

export interface CaFiles {
  certPath: string;
  keyPath: string;
}

export interface LeafPem {
  certPem: string;
  keyPem: string;
}

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
const CA_SUBJECT = { cn: "privlink local CA", o: "privlink" };

export class LocalCa {
  private readonly leaves = new Map<string, Promise<LeafPem & { notAfter: number }>>();
  /** The CA certificate's subject (every leaf's issuer) and key identifier, read on first issue. */
  private issuer: { name: Buffer; keyId: Buffer } | undefined;

  private constructor(
    readonly certPem: string,
    /** Where the certificate and key are kept; undefined for a CA held in memory only (an agent's). */
    readonly certPath: string | undefined,
    readonly keyPath: string | undefined,
    private readonly key: KeyObject,
  ) {}

  /** The certificate and key, as the shared store keeps them (src/store/shared-ca.ts). */
  get pem(): LeafPem {
    return { certPem: this.certPem, keyPem: privateKeyPem(this.key) };
  }

  /** A CA from its PEMs, held in memory: an agent's copy of the shared store's CA. */
  static fromPem(pem: LeafPem): LocalCa {
    return new LocalCa(pem.certPem, undefined, undefined, createPrivateKey(pem.keyPem));
  }

  /** A new CA's certificate and key, written nowhere (what a node proposes to the shared store). */
  static async createPem(now: Date): Promise<LeafPem> {
    return createCaPem(now);
  }

  /**
   * Makes `pem` the CA of `dir` (the shared store's CA replaces a home's own): written over the
   * files, key then certificate, each by an atomic rename, then loaded.
   */
  static async adopt(dir: string, pem: LeafPem): Promise<LocalCa> {
    const caDir = join(dir, "ca");
    const files = { certPath: join(caDir, "ca.pem"), keyPath: join(caDir, "ca-key.pem") };
    await mkdir(caDir, { recursive: true, mode: 0o700 });
    const suffix = `.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    await writeFile(files.keyPath + suffix, pem.keyPem, { mode: 0o600 });
    await chmod(files.keyPath + suffix, 0o600);
    await writeFile(files.certPath + suffix, pem.certPem, { mode: 0o644 });
    await rename(files.keyPath + suffix, files.keyPath);
    await rename(files.certPath + suffix, files.certPath);
    return LocalCa.load(files);
  }

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
    return new LocalCa(certPem, files.certPath, files.keyPath, createPrivateKey(keyPem));
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
    if (!this.issuer) {
      const ca = new X509Certificate(this.certPem);
      this.issuer = { name: subjectOf(ca), keyId: keyIdentifier(ca.publicKey) };
    }
    const keys = await generateKeys();
    const notAfter = new Date(now.getTime() + LEAF_LIFETIME_MS);
    const certPem = certificatePem({
      serial: randomSerial(),
      subject: distinguishedName(commonNameFor(names[0]!)),
      issuer: this.issuer.name,
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter,
      publicKey: keys.publicKey,
      signingKey: this.key,
      extensions: [
        extensions.basicConstraints(false),
        extensions.keyUsage([KeyUsage.digitalSignature]),
        extensions.serverAuth(),
        extensions.subjectAltName(names),
        extensions.subjectKeyIdentifier(keyIdentifier(keys.publicKey)),
        extensions.authorityKeyIdentifier(this.issuer.keyId),
      ],
    });
    return { certPem, keyPem: privateKeyPem(keys.privateKey), notAfter: notAfter.getTime() };
  }
}

async function createCaFiles(files: CaFiles, now: Date): Promise<void> {
  const { keyPem, certPem } = await createCaPem(now);
  await publish(files, keyPem, certPem);
}

async function createCaPem(now: Date): Promise<LeafPem> {
  const keys = await generateKeys();
  const name = distinguishedName(CA_SUBJECT.cn, CA_SUBJECT.o);
  const keyId = keyIdentifier(keys.publicKey);
  const certPem = certificatePem({
    serial: randomSerial(),
    subject: name,
    issuer: name,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + CA_LIFETIME_MS),
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    extensions: [
      extensions.basicConstraints(true, 0),
      extensions.keyUsage([KeyUsage.digitalSignature, KeyUsage.keyCertSign, KeyUsage.cRLSign]),
      extensions.subjectKeyIdentifier(keyId),
      extensions.authorityKeyIdentifier(keyId),
    ],
  });
  return { certPem, keyPem: privateKeyPem(keys.privateKey) };
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

function generateKeys(): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  return generateEcKeys("ec", { namedCurve: "P-256" });
}

function privateKeyPem(key: KeyObject): string {
  return key.export({ type: "pkcs8", format: "pem" }) as string;
}

/** 16 random bytes with the top bit clear: a positive DER INTEGER, unique without a counter. */
function randomSerial(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes;
}

/** RFC 5280 caps the CN at 64 characters; clients match on the SAN anyway. */
function commonNameFor(name: string): string {
  return name.length <= 64 ? name : name.slice(name.length - 64).replace(/^[^.]*\./, "");
}

function pemOnly(leaf: LeafPem): LeafPem {
  return { certPem: leaf.certPem, keyPem: leaf.keyPem };
}
