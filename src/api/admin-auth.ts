import { randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { IncomingHttpHeaders } from "node:http";
import { join } from "node:path";

/**
 * The admin API (`/_privlink/*`) can wipe every account's state, so under `--auth verify` it
 * asks for a bearer token only the owner of PRIVLINK_HOME can read (mode 0600). `--auth open`
 * keeps the old convenience: no token.
 */
export const ADMIN_TOKEN_FILE = "admin-token";

/** Admin routes anyone on loopback may call: liveness only, nothing that reads or changes state. */
export const OPEN_ADMIN_ROUTES: ReadonlySet<string> = new Set(["GET /_privlink/health"]);

export function adminTokenPath(home: string): string {
  return join(home, ADMIN_TOKEN_FILE);
}

/** Reads the home's token, creating it (0600) on first start. */
export function loadOrCreateAdminToken(home: string): string {
  const path = adminTokenPath(home);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  if (!existsSync(path))
    writeFileSync(path, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600);
  return readFileSync(path, "utf8").trim();
}

/** The token a client in this environment should send: PRIVLINK_ADMIN_TOKEN, else the home's file. */
export function readAdminToken(home: string): string | undefined {
  if (process.env.PRIVLINK_ADMIN_TOKEN) return process.env.PRIVLINK_ADMIN_TOKEN;
  try {
    return readFileSync(adminTokenPath(home), "utf8").trim();
  } catch {
    return undefined;
  }
}

export function adminAuthHeader(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** True when the request carries the expected token (constant-time compare). */
export function hasAdminToken(headers: IncomingHttpHeaders, expected: string): boolean {
  const m = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? "");
  const given = Buffer.from(m?.[1] ?? "");
  const want = Buffer.from(expected);
  return given.length === want.length && timingSafeEqual(given, want);
}

export const ADMIN_TOKEN_REQUIRED =
  "the admin API needs 'Authorization: Bearer <token>' with the token in PRIVLINK_HOME/admin-token " +
  "(the privlink CLI sends it; tests: adminFetch/srv.admin from test/helpers/admin.ts; or start with --auth open)";
