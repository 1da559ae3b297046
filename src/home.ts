import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Where a privlink server keeps its state and how clients find it. Apart from privlink.ts so
 * that the CLI's client commands find the server without loading it (or the AWS SDKs).
 */
export function defaultHome(): string {
  return process.env.PRIVLINK_HOME ?? join(homedir(), ".privlink");
}

/** What `privlink status` and `privlink env` read to find a running server. */
export interface ServerFile {
  pid: number;
  url: string;
  port: number;
  startedAt: string;
  /** The server's lock token: it removes this file on exit only while the token is its own. */
  token?: string;
  /** "loopback" or "netns" (`privlink up --network`); absent from servers before namespace mode. */
  network?: "loopback" | "netns";
  /** Idle flows through endpoints are reset after this (`privlink up --idle-timeout`; AWS: 350). */
  idleTimeoutSeconds?: number;
}

export function serverFilePath(home: string): string {
  return join(home, "server.json");
}
