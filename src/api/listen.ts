import { isIP } from "node:net";

/** True for 127.0.0.0/8 and ::1 — the only addresses privlink binds by default. */
export function isLoopback(addr: string): boolean {
  if (addr === "::1" || addr === "localhost") return true;
  return isIP(addr) === 4 && addr.startsWith("127.");
}

/**
 * The edge address to bind. privlink emulates security boundaries but is not one: binding off
 * loopback exposes every account's state to the network, so it takes `--listen-any` and warns.
 */
export function checkListenAddress(addr: string, listenAny: boolean): string {
  if (isIP(addr) === 0 && addr !== "localhost")
    throw new Error(`--listen takes an IP address, not '${addr}'`);
  if (isLoopback(addr)) return addr === "localhost" ? "127.0.0.1" : addr;
  if (!listenAny)
    throw new Error(
      `refusing to listen on ${addr}: it is not a loopback address (pass --listen-any to expose privlink to the network)`,
    );
  process.emitWarning(
    `privlink listens on ${addr}: anyone who reaches it can call the AWS APIs with the default keys`,
  );
  return addr;
}
