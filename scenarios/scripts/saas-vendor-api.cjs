// The SaaS vendor's API: HTTPS for api.vendor.example behind its NLB, with PROXY protocol v2
// on. Every connection starts with the PROXY v2 header the load balancer writes; this process
// reads it (the consumer's private address and, in AWS's TLV 0xEA/0x01, the consumer's endpoint
// ID), prints it, then serves HTTPS on the rest of the stream. The certificate is its own,
// self-signed for api.vendor.example, written to a file its customers pin (curl --cacert).
require("reflect-metadata");
const { webcrypto } = require("node:crypto");
const { mkdtempSync, writeFileSync } = require("node:fs");
const https = require("node:https");
const net = require("node:net");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const x509 = require("@peculiar/x509");

const NAME = "api.vendor.example";
const SIGNATURE = Buffer.from("\r\n\r\n\0\r\nQUIT\n", "binary");
const AWS_TLV = 0xea;
const AWS_VPCE_ID = 0x01;

x509.cryptoProvider.set(webcrypto);

async function selfSigned() {
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"]);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: `CN=${NAME}`,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 24 * 3600_000),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: "dns", value: NAME }]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString("base64").replace(/(.{64})/g, "$1\n")}\n-----END PRIVATE KEY-----\n`;
  return { cert: cert.toString("pem"), key };
}

/** The PROXY v2 header at the start of `buf`: undefined while incomplete, null when not one. */
function parseProxyV2(buf) {
  if (buf.length < 16) return buf.subarray(0, 12).equals(SIGNATURE.subarray(0, Math.min(12, buf.length))) ? undefined : null;
  if (!buf.subarray(0, 12).equals(SIGNATURE)) return null;
  const end = 16 + buf.readUInt16BE(14);
  if (buf.length < end) return undefined;
  const header = { command: buf[12] & 0x0f ? "PROXY" : "LOCAL", rest: buf.subarray(end) };
  if (buf[13] >> 4 === 1) {
    header.source = `${[...buf.subarray(16, 20)].join(".")}:${buf.readUInt16BE(24)}`;
    header.destination = `${[...buf.subarray(20, 24)].join(".")}:${buf.readUInt16BE(26)}`;
  }
  for (let at = buf[13] >> 4 === 1 ? 28 : 16; at + 3 <= end; ) {
    const type = buf[at];
    const len = buf.readUInt16BE(at + 1);
    const value = buf.subarray(at + 3, at + 3 + len);
    if (type === AWS_TLV && value[0] === AWS_VPCE_ID) header.vpce = value.subarray(1).toString("ascii");
    at += 3 + len;
  }
  return header;
}

/** A long-lived answer (a line every 250 ms, for at most 10 minutes): a connection to hold open. */
function stream(res) {
  res.setHeader("content-type", "text/plain");
  let n = 0;
  const timer = setInterval(() => {
    res.write(`tick ${++n}\n`);
    if (n >= 2400) res.end();
  }, 250);
  res.on("close", () => {
    clearInterval(timer);
    console.log(`stream closed after ${n} ticks`);
  });
}

async function main() {
  const { cert, key } = await selfSigned();
  const dir = mkdtempSync(join(tmpdir(), "saas-vendor-"));
  const certFile = join(dir, "api.vendor.example.pem");
  writeFileSync(certFile, cert);

  /** Who each connection is, by the load balancer's source port (what the TLS socket sees). */
  const clients = new Map();
  const api = https.createServer({ key, cert }, (req, res) => {
    const who = clients.get(req.socket.remotePort) ?? {};
    console.log(`${req.method} ${req.url} for ${who.source ?? "?"} through ${who.vpce ?? "?"}`);
    if (req.url === "/stream") return stream(res);
    res.setHeader("content-type", "application/json");
    res.end(`${JSON.stringify({ service: NAME, client: who.source, vpcEndpointId: who.vpce })}\n`);
  });

  const server = net.createServer((socket) => {
    let seen = Buffer.alloc(0);
    socket.on("error", () => {});
    const onData = (chunk) => {
      seen = Buffer.concat([seen, chunk]);
      const header = parseProxyV2(seen);
      if (header === undefined) return;
      socket.removeListener("data", onData);
      socket.pause();
      if (header === null) {
        console.log("a connection without a PROXY v2 header: closed");
        socket.destroy();
        return;
      }
      console.log(`PROXY v2 ${header.command} from ${header.source} to ${header.destination} vpce=${header.vpce}`);
      const port = socket.remotePort;
      clients.set(port, header);
      socket.once("close", () => clients.delete(port));
      if (header.rest.length) socket.unshift(header.rest);
      api.emit("connection", socket);
    };
    socket.on("data", onData);
  });
  server.listen(0, "127.0.0.1", () => {
    console.log(`listening on ${server.address().port} cert ${certFile}`);
  });
}

process.on("SIGTERM", () => process.exit(0));
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
