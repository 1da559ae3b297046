// An HTTPS agent for the AWS SDK v3 run as a workload. The SDK v3 does not read HTTPS_PROXY
// (botocore does): its Node handler dials the service itself. This agent opens each connection
// as a CONNECT tunnel through the proxy, then speaks TLS to the service's real name inside it
// (trusting NODE_EXTRA_CA_CERTS like any Node TLS, or the `ca` given).
import { request } from "node:http";
import { Agent } from "node:https";
import { connect } from "node:tls";

export class ConnectProxyAgent extends Agent {
  /** @param {string} proxyUrl @param {{ ca?: string }} [tls] */
  constructor(proxyUrl, tls = {}) {
    super({ keepAlive: true });
    this.proxy = new URL(proxyUrl);
    this.tls = tls;
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
      done(
        null,
        connect({ ...options, ...this.tls, socket, servername: options.servername || options.host }),
      );
    });
    tunnel.once("error", done);
    tunnel.end();
  }
}
