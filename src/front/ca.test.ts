import "reflect-metadata";
import { execFile, spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { promisify } from "node:util";
import * as x509 from "@peculiar/x509";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCa } from "./ca.js";
import { combinedBundle } from "./trust.js";

const run = promisify(execFile);
const NOW = new Date("2026-03-01T10:00:00Z");
const DAY = 86_400_000;
const SM = "secretsmanager.us-east-1.amazonaws.com";
const has = (cmd: string) => spawnSync(cmd, ["--version"], { timeout: 30_000 }).status === 0;

let home = "";
let ca: LocalCa;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "privlink-ca-"));
  ca = await LocalCa.loadOrCreate(home, new Date());
});
afterAll(() => rm(home, { recursive: true, force: true }));

/** An HTTPS server on loopback presenting `leaf`; closed by the caller. */
async function serve(leaf: { certPem: string; keyPem: string }): Promise<{ port: number; server: Server }> {
  const server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (_req, res) =>
    res.end("hello privlink"),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, server };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Handshakes with Node's tls client; resolves "ok" or the verification error code. */
function nodeHandshake(
  port: number,
  servername: string | undefined,
  ca: string[] | undefined,
): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, servername, ca }, () => {
      socket.end();
      resolve("ok");
    });
    socket.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe("LocalCa files", () => {
  it("creates ca.pem and a 0600 ca-key.pem under <dir>/ca, and reuses them", async () => {
    expect(ca.certPath).toBe(join(home, "ca", "ca.pem"));
    expect((await stat(join(home, "ca", "ca-key.pem"))).mode & 0o777).toBe(0o600);
    const again = await LocalCa.loadOrCreate(home, new Date());
    expect(again.certPem).toBe(ca.certPem);
  });

  it("agrees on one CA when several loaders race on a fresh directory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "privlink-ca-race-"));
    try {
      const cas = await Promise.all([1, 2, 3, 4].map(() => LocalCa.loadOrCreate(dir, NOW)));
      expect(new Set(cas.map((c) => c.certPem)).size).toBe(1);
      const leaf = await cas[3]!.leaf([SM], NOW);
      expect(new X509Certificate(leaf.certPem).verify(new X509Certificate(cas[0]!.certPem).publicKey)).toBe(
        true,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("issues a ten-year CA with critical basicConstraints CA:true and keyCertSign", async () => {
    const dir = await mkdtemp(join(tmpdir(), "privlink-ca-props-"));
    try {
      const fixed = await LocalCa.loadOrCreate(dir, NOW);
      const cert = new x509.X509Certificate(fixed.certPem);
      const bc = cert.getExtension(x509.BasicConstraintsExtension)!;
      expect({ ca: bc.ca, critical: bc.critical }).toEqual({ ca: true, critical: true });
      const ku = cert.getExtension(x509.KeyUsagesExtension)!;
      expect(ku.usages & x509.KeyUsageFlags.keyCertSign).toBeTruthy();
      const years = (cert.notAfter.getTime() - NOW.getTime()) / (365 * DAY);
      expect(years).toBeGreaterThan(9.9);
      expect(years).toBeLessThan(10.1);
      expect(cert.publicKey.algorithm).toMatchObject({ name: "ECDSA", namedCurve: "P-256" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("LocalCa leaves", () => {
  it("issues a one-year serverAuth leaf signed by the CA, with DNS, wildcard and IP SANs", async () => {
    const leaf = await ca.leaf([SM, "*.s3.us-east-1.amazonaws.com", "127.0.0.5"], NOW);
    const cert = new X509Certificate(leaf.certPem);
    const caCert = new X509Certificate(ca.certPem);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toContain("1.3.6.1.5.5.7.3.1");
    expect(cert.subjectAltName?.split(", ").sort()).toEqual(
      ["DNS:*.s3.us-east-1.amazonaws.com", `DNS:${SM}`, "IP Address:127.0.0.5"].sort(),
    );
    const days = (Date.parse(cert.validTo) - NOW.getTime()) / DAY;
    expect(Math.round(days)).toBe(365);
  });

  it("writes IPv6 SANs as their 16 bytes and key identifiers an independent parser reads back", async () => {
    const leaf = await ca.leaf(["::1", "fd00::7:10.0.1.5"], NOW);
    const cert = new X509Certificate(leaf.certPem);
    expect(cert.subjectAltName?.split(", ").sort()).toEqual(
      ["IP Address:0:0:0:0:0:0:0:1", "IP Address:FD00:0:0:0:0:7:A00:105"].sort(),
    );
    const parsed = new x509.X509Certificate(leaf.certPem);
    const issuer = new x509.X509Certificate(ca.certPem);
    const ski = issuer.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
    expect(parsed.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId).toBe(ski);
    expect(parsed.issuer).toBe(issuer.subject);
    expect(await parsed.verify({ publicKey: issuer.publicKey, date: NOW })).toBe(true);
  });

  it("caches per sorted name set, renews near expiry, and uses random serials", async () => {
    const a = await ca.leaf(["b.example", "a.example"], NOW);
    const b = await ca.leaf(["a.example", "b.example", "A.example"], NOW);
    expect(b.certPem).toBe(a.certPem);
    const other = await ca.leaf(["c.example"], NOW);
    const renewed = await ca.leaf(["a.example", "b.example"], new Date(NOW.getTime() + 365 * DAY));
    const serials = [a, other, renewed].map((l) => new X509Certificate(l.certPem).serialNumber);
    expect(new Set(serials).size).toBe(3);
  });

  it("keeps the CN within 64 characters for long endpoint names", async () => {
    const long = "vpce-0123456789abcdef0-abcdefgh.secretsmanager.us-east-1.vpce.amazonaws.com";
    const cert = new X509Certificate((await ca.leaf([long], NOW)).certPem);
    const cn = /CN=([^\n]*)/.exec(cert.subject)![1]!;
    expect(cn.length).toBeLessThanOrEqual(64);
    expect(cert.subjectAltName).toBe(`DNS:${long}`);
  });
});

describe("TLS clients accept the leaves", () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    ({ server, port } = await serve(await ca.leaf([SM], new Date())));
  });
  afterAll(() => close(server));

  const cases: { name: string; servername: string; trust: "ca" | "system"; expect: string }[] = [
    { name: "right name, CA trusted", servername: SM, trust: "ca", expect: "ok" },
    {
      name: "other name",
      servername: "logs.us-east-1.amazonaws.com",
      trust: "ca",
      expect: "ERR_TLS_CERT_ALTNAME_INVALID",
    },
    { name: "CA not trusted", servername: SM, trust: "system", expect: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" },
  ];
  for (const c of cases) {
    it(`node:tls — ${c.name}`, async () => {
      expect(await nodeHandshake(port, c.servername, c.trust === "ca" ? [ca.certPem] : undefined)).toBe(
        c.expect,
      );
    });
  }

  it("node:tls — wildcard leaf matches exactly one label", async () => {
    const wild = await serve(await ca.leaf(["*.s3.us-east-1.amazonaws.com"], new Date()));
    try {
      const table: [string, string][] = [
        ["bucket.s3.us-east-1.amazonaws.com", "ok"],
        ["a.b.s3.us-east-1.amazonaws.com", "ERR_TLS_CERT_ALTNAME_INVALID"],
        ["s3.us-east-1.amazonaws.com", "ERR_TLS_CERT_ALTNAME_INVALID"],
      ];
      for (const [servername, expected] of table)
        expect(await nodeHandshake(wild.port, servername, [ca.certPem]), servername).toBe(expected);
    } finally {
      await close(wild.server);
    }
  });

  it("node:tls — IP SAN verifies a connection by address", async () => {
    const ip = await serve(await ca.leaf(["127.0.0.1"], new Date()));
    try {
      expect(await nodeHandshake(ip.port, undefined, [ca.certPem])).toBe("ok");
    } finally {
      await close(ip.server);
    }
  });

  it.skipIf(!has("python3"))("Python ssl (the AWS CLI's TLS), strict X.509 checks on", async () => {
    const script = [
      "import socket, ssl, sys",
      "ctx = ssl.create_default_context(cafile=sys.argv[1])",
      "ctx.verify_flags |= getattr(ssl, 'VERIFY_X509_STRICT', 0)",
      "for name in sys.argv[3:]:",
      "    try:",
      "        with socket.create_connection(('127.0.0.1', int(sys.argv[2])), timeout=20) as s:",
      "            with ctx.wrap_socket(s, server_hostname=name) as t:",
      "                print(name, 'ok', t.version())",
      "    except ssl.SSLError as e:",
      "        print(name, 'fail', e.reason)",
    ].join("\n");
    const { stdout } = await run(
      "python3",
      ["-c", script, ca.certPath!, String(port), SM, "logs.us-east-1.amazonaws.com"],
      { timeout: 60_000 },
    );
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(new RegExp(`^${SM} ok TLSv1\\.[23]$`));
    expect(lines[1]).toBe("logs.us-east-1.amazonaws.com fail CERTIFICATE_VERIFY_FAILED");
  });

  it.skipIf(!has("curl"))("curl with the combined bundle as its CA file", async () => {
    const bundlePath = join(home, "bundle.pem");
    await writeFile(bundlePath, combinedBundle(ca.certPem));
    const { stdout } = await run(
      "curl",
      [
        "--silent",
        "--show-error",
        "--cacert",
        bundlePath,
        "--resolve",
        `${SM}:${port}:127.0.0.1`,
        `https://${SM}:${port}/`,
      ],
      { timeout: 60_000 },
    );
    expect(stdout).toBe("hello privlink");
  });
});

describe("combinedBundle", () => {
  it("is the system bundle followed by our CA", () => {
    const bundle = combinedBundle(ca.certPem);
    expect(bundle.endsWith(`${ca.certPem.trim()}\n`)).toBe(true);
    const certs = bundle.match(/-----BEGIN CERTIFICATE-----/g) ?? [];
    expect(certs.length).toBeGreaterThan(10);
  });
});
