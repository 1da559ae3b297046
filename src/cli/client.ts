import { existsSync, readFileSync } from "node:fs";
import { adminAuthHeader, readAdminToken } from "../api/admin-auth.js";
import { defaultHome, type ServerFile, serverFilePath } from "../home.js";

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

/** The network mode of the server in the home's server file ("loopback" when it says nothing). */
export function serverNetwork(): "loopback" | "netns" {
  const file = serverFilePath(defaultHome());
  try {
    const f = JSON.parse(readFileSync(file, "utf8")) as ServerFile;
    if (!process.env.PRIVLINK_URL || process.env.PRIVLINK_URL === f.url) return f.network ?? "loopback";
  } catch {}
  return "loopback";
}

/** One HTTP exchange with node:http: the CLI's fetch alone would cost more start-up than the rest of a client command. */
async function exchange(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; text: string }> {
  const { request } = url.protocol === "https:" ? await import("node:https") : await import("node:http");
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * Calls an admin route of the running server with the home's admin token (PRIVLINK_ADMIN_TOKEN
 * overrides it); a clear message when none is running.
 */
export async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
  const base = serverUrl();
  let res: { status: number; text: string };
  try {
    res = await exchange(
      new URL(`${base}${path}`),
      method,
      { "content-type": "application/json", ...adminAuthHeader(readAdminToken(defaultHome())) },
      body === undefined ? undefined : JSON.stringify(body),
    );
  } catch {
    throw new Error(`no privlink server answers at ${base} (start one with 'privlink up')`);
  }
  let data: T & { error?: string; message?: string };
  try {
    data = JSON.parse(res.text) as T & { error?: string; message?: string };
  } catch {
    throw new Error(`${base} answered ${res.status} with something that is not privlink's JSON`);
  }
  if (res.status < 200 || res.status > 299)
    throw new Error(`${data.error ?? res.status}: ${data.message ?? ""}`);
  return data;
}
