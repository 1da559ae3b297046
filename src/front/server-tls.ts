import type { Socket } from "node:net";
import { createSecureContext, DEFAULT_CIPHERS, type SecureContext, TLSSocket } from "node:tls";

export interface ServerTlsOptions {
  readonly secureContext: SecureContext;
  /** The handshake must finish within this. */
  readonly handshakeTimeoutMs: number;
  /** Written in clear before TLS takes the socket over (a CONNECT tunnel's 200). */
  readonly preface?: string;
}

/**
 * The context for a leaf privlink serves (service fronts, workload proxies). The server picks
 * the cipher, AES-128-GCM first, as AWS's endpoints do (their TLS policies list AES128 before
 * AES256); it is also the cheapest of the suites for both ends of a bulk S3 transfer.
 */
export function serverSecureContext(leaf: { certPem: string; keyPem: string }): SecureContext {
  return createSecureContext({
    cert: leaf.certPem,
    key: leaf.keyPem,
    minVersion: "TLSv1.2",
    ciphers: `TLS_AES_128_GCM_SHA256:${DEFAULT_CIPHERS}`,
    honorCipherOrder: true,
  });
}

/**
 * Speaks TLS as the server on an accepted socket (an endpoint ENI's, a CONNECT tunnel's);
 * `secure` gets the TLS socket once the handshake is done. Undefined (the socket destroyed) when
 * the client can no longer finish a handshake: its FIN came first. One place for the service
 * front and the workload proxies, so both end such a connection at once.
 */
export function acceptServerTls(
  socket: Socket,
  opts: ServerTlsOptions,
  secure: (tls: TLSSocket) => void,
): TLSSocket | undefined {
  if (finBeforeHandshake(socket)) {
    socket.destroy();
    return undefined;
  }
  if (opts.preface !== undefined) socket.write(opts.preface);
  const tls = new TLSSocket(socket, {
    isServer: true,
    secureContext: opts.secureContext,
    ALPNProtocols: ["http/1.1"],
  });
  const handshake = setTimeout(() => tls.destroy(), opts.handshakeTimeoutMs);
  tls.once("close", () => {
    clearTimeout(handshake);
    socket.destroy();
  });
  tls.on("error", () => tls.destroy());
  // Endpoint listeners accept half-open sockets: a FIN before the handshake ends it (found by
  // `npm run fuzz -- tls`: else the connection waited out the handshake timeout).
  let secured = false;
  tls.once("end", () => {
    if (!secured) tls.destroy();
  });
  tls.once("secure", () => {
    secured = true;
    clearTimeout(handshake);
    secure(tls);
  });
  return tls;
}

/**
 * Whether the client's FIN arrived before TLS took the socket over: a TLSSocket never sees an
 * EOF read before it wraps the socket, and a client that half-closed before the handshake can
 * never finish it, so the connection would wait out the handshake timeout (found by
 * `npm run fuzz -- tls`). Node exposes the read side's end only once its data is consumed
 * (`readableEnded`); an EOF read but still buffered shows only in the stream's internal state.
 */
export function finBeforeHandshake(socket: Socket): boolean {
  return (
    socket.readableEnded ||
    (socket as unknown as { _readableState?: { ended?: boolean } })._readableState?.ended === true
  );
}
