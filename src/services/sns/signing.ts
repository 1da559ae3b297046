/**
 * SNS message signatures: privlink's own RSA key and self-signed certificate (PRIVLINK_HOME/sns),
 * created on first start. Messages carry SignatureVersion 2 (SHA256withRSA) over AWS's
 * string-to-sign, and SigningCertURL points at the certificate on the edge, so a subscriber that
 * verifies signatures the AWS way can verify privlink's (trusting privlink's certificate).
 */
import { createSign, generateKeyPair } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { certificatePem, distinguishedName } from "../../front/der.js";

const generateRsaKeys = promisify(generateKeyPair);

export class SnsSigner {
  private constructor(
    readonly certPem: string,
    private readonly keyPem: string,
  ) {}

  static async loadOrCreate(home: string, now: Date): Promise<SnsSigner> {
    const dir = join(home, "sns");
    const certPath = join(dir, "SimpleNotificationService.pem");
    const keyPath = join(dir, "signing-key.pem");
    if (!existsSync(certPath) || !existsSync(keyPath)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
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
      writeFileSync(keyPath, keys.privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
      writeFileSync(certPath, certPem);
    }
    return new SnsSigner(readFileSync(certPath, "utf8"), readFileSync(keyPath, "utf8"));
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
