// The application of the seed's first scenario, as it would run on the instance: the AWS SDK v3
// with its default endpoint, region and credentials. `node secrets-app.mjs SECRET_ID` prints one
// JSON line: {"ok":true,"name":…,"secretString":…} or {"ok":false,"error":…,"message":…,"status":…}.
import { request } from "node:http";
import { Agent } from "node:https";
import { connect } from "node:tls";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { NodeHttpHandler } from "@smithy/node-http-handler";

/**
 * The SDK v3 does not read HTTPS_PROXY (botocore does): its Node handler dials the service
 * itself. This agent opens each connection as a CONNECT tunnel through the proxy, then speaks
 * TLS to the service's real name inside it (trusting NODE_EXTRA_CA_CERTS like any Node TLS).
 */
class ConnectProxyAgent extends Agent {
  constructor(proxyUrl) {
    super({ keepAlive: true });
    this.proxy = new URL(proxyUrl);
  }

  createConnection(options, done) {
    const authority = `${options.host}:${options.port ?? 443}`;
    const tunnel = request({
      host: this.proxy.hostname,
      port: this.proxy.port,
      method: "CONNECT",
      path: authority,
      headers: { host: authority },
      agent: false,
    });
    tunnel.once("connect", (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        done(new Error(`the proxy refused CONNECT ${authority}: ${res.statusCode} ${res.statusMessage}`));
        return;
      }
      done(null, connect({ ...options, socket, servername: options.servername || options.host }));
    });
    tunnel.once("error", done);
    tunnel.end();
  }
}

const proxy = process.env.HTTPS_PROXY || process.env.https_proxy;
const client = new SecretsManagerClient({
  ...(proxy ? { requestHandler: new NodeHttpHandler({ httpsAgent: new ConnectProxyAgent(proxy) }) } : {}),
});

try {
  const out = await client.send(new GetSecretValueCommand({ SecretId: process.argv[2] }));
  process.stdout.write(`${JSON.stringify({ ok: true, name: out.Name, secretString: out.SecretString })}\n`);
} catch (err) {
  const status = err.$metadata?.httpStatusCode;
  process.stdout.write(`${JSON.stringify({ ok: false, error: err.name, message: err.message, status })}\n`);
  process.exitCode = 1;
} finally {
  client.destroy();
}
