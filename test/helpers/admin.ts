import { adminAuthHeader, readAdminToken } from "../../src/api/admin-auth.js";

/** A running privlink: the URL it answers at and the home whose admin token it checks. */
export interface AdminTarget {
  readonly url: string;
  readonly home: string;
}

/**
 * `fetch` for the admin API (`/_privlink/*`): sends the home's admin token, as the CLI does.
 * Every test calls admin routes through this (or `srv.admin`), never a bare fetch.
 */
export function adminFetch(target: AdminTarget, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  for (const [k, v] of Object.entries(adminAuthHeader(readAdminToken(target.home)))) headers.set(k, v);
  return fetch(`${target.url}${path}`, { ...init, headers });
}

/** The JSON an admin route answers; throws with the body when the status is not 2xx. */
export async function adminJson<T = any>(
  target: AdminTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await adminFetch(target, path, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}
