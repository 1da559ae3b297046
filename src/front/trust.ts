/**
 * What makes a workload trust privlink's fronts: where the CA and the bundle live, and the
 * environment that points tools at them. Apart from ca.ts (X.509) so that `privlink ca` starts
 * without loading the fronts.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { rootCertificates } from "node:tls";

/** Where `LocalCa.loadOrCreate(home)` keeps the CA certificate (what `privlink ca` prints). */
export function caCertPath(home: string): string {
  return join(home, "ca", "ca.pem");
}

export function caBundlePath(home: string): string {
  return join(home, "ca", "bundle.pem");
}

/**
 * The environment that makes a workload's tools trust privlink's fronts unchanged:
 * AWS_CA_BUNDLE (AWS CLI, boto3, SDKs), SSL_CERT_FILE / CURL_CA_BUNDLE / REQUESTS_CA_BUNDLE
 * (OpenSSL, curl, Python) all point at the system roots plus our CA, so real sites keep
 * working; NODE_EXTRA_CA_CERTS adds our CA alone (Node keeps its own roots).
 * Writes PRIVLINK_HOME/ca/bundle.pem; the CA must exist (the server creates it at start).
 */
export function workloadTlsEnv(home: string): Record<string, string> {
  const certPath = caCertPath(home);
  if (!existsSync(certPath))
    throw new Error(`privlink has no CA in ${join(home, "ca")} yet: start the server once ('privlink up')`);
  const bundle = combinedBundle(readFileSync(certPath, "utf8"));
  const bundlePath = caBundlePath(home);
  if (!existsSync(bundlePath) || readFileSync(bundlePath, "utf8") !== bundle) {
    const tmp = `${bundlePath}.${process.pid}.tmp`;
    writeFileSync(tmp, bundle, { mode: 0o644 });
    // rename is atomic: a concurrent reader sees the old or the new bundle, never half of one.
    renameSync(tmp, bundlePath);
  }
  return {
    AWS_CA_BUNDLE: bundlePath,
    SSL_CERT_FILE: bundlePath,
    CURL_CA_BUNDLE: bundlePath,
    REQUESTS_CA_BUNDLE: bundlePath,
    NODE_EXTRA_CA_CERTS: certPath,
  };
}

/**
 * The system trust store followed by our CA, for SSL_CERT_FILE / AWS_CA_BUNDLE: a process that
 * trusts it still reaches real sites while accepting privlink's fronts. Without a system bundle
 * file, Node's built-in Mozilla roots stand in.
 */
export function combinedBundle(caPem: string): string {
  const systemPath = SYSTEM_BUNDLES.find((p) => existsSync(p));
  const system = systemPath ? readFileSync(systemPath, "utf8") : rootCertificates.join("\n");
  return `${system.trimEnd()}\n${caPem.trim()}\n`;
}

const SYSTEM_BUNDLES = [
  "/etc/ssl/certs/ca-certificates.crt",
  "/etc/pki/tls/certs/ca-bundle.crt",
  "/etc/ssl/cert.pem",
];
