import { existsSync, readFileSync } from "node:fs";
import { adminAuthHeader, readAdminToken } from "../api/admin-auth.js";
import { defaultHome, type ServerFile, serverFilePath } from "../privlink.js";

/** Where the CLI finds the running server: PRIVLINK_URL, the server file in PRIVLINK_HOME, or the default port. */
export function serverUrl(): string {
  if (process.env.PRIVLINK_URL) return process.env.PRIVLINK_URL;
  const file = serverFilePath(defaultHome());
  if (existsSync(file)) {
    try {
      return (JSON.parse(readFileSync(file, "utf8")) as ServerFile).url;
    } catch {}
  }
  return `http://127.0.0.1:${process.env.PRIVLINK_PORT ?? 4599}`;
}

/**
 * Calls an admin route of the running server with the home's admin token (PRIVLINK_ADMIN_TOKEN
 * overrides it); a clear message when none is running.
 */
export async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
  const url = `${serverUrl()}${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { "content-type": "application/json", ...adminAuthHeader(readAdminToken(defaultHome())) },
    });
  } catch {
    throw new Error(`no privlink server answers at ${serverUrl()} (start one with 'privlink up')`);
  }
  const data = (await res.json()) as T & { error?: string; message?: string };
  if (!res.ok) throw new Error(`${data.error ?? res.status}: ${data.message ?? ""}`);
  return data;
}
