import { Agent } from "node:https";

/** An HTTPS agent that tunnels each connection through an HTTP proxy's CONNECT (see the .mjs). */
export declare class ConnectProxyAgent extends Agent {
  constructor(proxyUrl: string, tls?: { ca?: string });
}
