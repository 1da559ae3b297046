/**
 * SNS message signatures: privlink's own RSA key and self-signed certificate, created on first
 * start: in PRIVLINK_HOME/sns on a node's own store, in the meta table of a shared PostgreSQL
 * store (one key for every node, so a message verifies whichever node delivered it and whichever
 * node serves the certificate). Messages carry SignatureVersion 2 (SHA256withRSA) over AWS's
 * string-to-sign, and SigningCertURL points at the certificate on the edge, so a subscriber that
 * verifies signatures the AWS way can verify privlink's (trusting privlink's certificate).
 */
import { createSign, generateKeyPair } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { certificatePem, distinguishedName } from "../../front/der.js";

const generateRsaKeys = promisify(generateKeyPair);

/** The meta-table key of a shared store's SNS signing certificate and key. */
export const SNS_SIGNING_KEY = "snsSigning";

interface KeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

export class SnsSigner {
  private constructor(
    readonly certPem: string,
    private readonly keyPem: string,
  ) {}

  static async loadOrCreate(home: string, now: Date): Promise<SnsSigner> {
    const { certPath, keyPath } = pathsIn(home);
    if (!existsSync(certPath) || !existsSync(keyPath)) {
      mkdirSync(join(home, "sns"), { recursive: true, mode: 0o700 });
      const pair = await createPair(now);
      writeFileSync(keyPath, pair.keyPem, { mode: 0o600 });
      writeFileSync(certPath, pair.certPem);
    }
    return new SnsSigner(readFileSync(certPath, "utf8"), readFileSync(keyPath, "utf8"));
  }

  /**
   * The shared store's signer. The first node proposes its home's key when it has one (subscribers
   * that pinned that certificate keep verifying), else a new one; every later node takes the stored one.
   */
  static async shared(store: string, home: string | undefined, now: Date): Promise<SnsSigner> {
    // Loaded only here: the pg driver stays out of a SQLite server's start-up.
    const { sharedKeyPair } = await import("../../store/shared-ca.js");
    const files = home === undefined ? undefined : pathsIn(home);
    const pair = await sharedKeyPair(store, SNS_SIGNING_KEY, async () =>
      files && existsSync(files.certPath) && existsSync(files.keyPath)
        ? { certPem: readFileSync(files.certPath, "utf8"), keyPem: readFileSync(files.keyPath, "utf8") }
        : createPair(now),
    );
    return new SnsSigner(pair.certPem, pair.keyPem);
  }

  /** Base64 SHA256withRSA signature of `text`. */
  sign(text: string): string {
    return createSign("RSA-SHA256").update(text, "utf8").sign(this.keyPem, "base64");
  }
}

/** AWS's string to sign: `Key\nValue\n` for the message type's keys, in order, present ones only. */
export function stringToSign(message: Record<string, string | undefined>): string {
  const keys =
    message.Type === "Notification"
      ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
      : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
  return keys
    .filter((k) => message[k] !== undefined)
    .map((k) => `${k}\n${message[k]}\n`)
    .join("");
}

function pathsIn(home: string): { certPath: string; keyPath: string } {
  const dir = join(home, "sns");
  return { certPath: join(dir, "SimpleNotificationService.pem"), keyPath: join(dir, "signing-key.pem") };
}

async function createPair(now: Date): Promise<KeyPair> {
  const keys = await generateRsaKeys("rsa", { modulusLength: 2048, publicExponent: 0x10001 });
  const name = distinguishedName("sns.amazonaws.com", "privlink");
  const certPem = certificatePem({
    serial: Buffer.from([1]),
    subject: name,
    issuer: name,
    notBefore: new Date(now.getTime() - 3600_000),
    notAfter: new Date(now.getTime() + 3650 * 86_400_000),
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
  });
  return { certPem, keyPem: keys.privateKey.export({ type: "pkcs8", format: "pem" }) as string };
}
