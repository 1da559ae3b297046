import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, relative, sep } from "node:path";

/** The types the bundle ships; anything else is not served. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
  ".woff2": "font/woff2",
};

export interface StaticFile {
  readonly body: Buffer;
  readonly type: string;
}

/**
 * The built console (console/dist) as URL path -> file, read once. Only files present at load
 * are served: no path from a request ever reaches the file system.
 */
export function loadBundle(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  if (!existsSync(dir)) return files;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        const type = CONTENT_TYPES[extname(name)];
        if (type)
          files.set(`/${relative(dir, path).split(sep).join("/")}`, { body: readFileSync(path), type });
      }
    }
  };
  walk(dir);
  return files;
}

/** Security headers of every console response: nothing loads from elsewhere. */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

export function sendFile(res: ServerResponse, req: IncomingMessage, f: StaticFile, immutable: boolean): void {
  res.writeHead(200, {
    "content-type": f.type,
    "content-length": f.body.length,
    "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
    ...CONSOLE_HEADERS,
  });
  res.end(req.method === "HEAD" ? undefined : f.body);
}
