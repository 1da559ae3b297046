import { randomUUID } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";

/**
 * One server per state directory. `server.lock` is created exclusively (O_EXCL) before anything
 * binds a port; a second server on the same home is refused with the first one's PID and URL.
 * A lock whose process is gone is stale and taken over. Every file a server removes on exit
 * carries its own token, so a server never removes a file another server wrote.
 */

export interface LockOwner {
  pid: number;
  token: string;
  startedAt: string;
}

export class HomeLockedError extends Error {
  constructor(
    readonly home: string,
    readonly owner: LockOwner,
    readonly url: string | undefined,
  ) {
    super(
      `privlink is already running on ${home}: PID ${owner.pid}${url ? ` at ${url}` : " (still starting)"}. ` +
        `Stop it first, or give this server its own state directory (--home DIR or PRIVLINK_HOME=DIR).`,
    );
    this.name = "HomeLockedError";
  }
}

export function lockFilePath(home: string): string {
  return join(home, "server.lock");
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

/** Whether a process with this PID exists (EPERM: it exists but belongs to someone else). */
function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function tryCreate(path: string, owner: LockOwner): boolean {
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(owner));
  } finally {
    closeSync(fd);
  }
  return true;
}

export interface HomeLock {
  readonly owner: LockOwner;
  /** Whether `path` holds a JSON file this server wrote (it carries this lock's token). */
  owns(path: string): boolean;
  /** Removes the lock if it is still this server's. */
  release(): void;
}

/**
 * Takes the lock on `home`, or throws {@link HomeLockedError} naming the running server (its URL
 * read from `serverFile` when that file is the same server's).
 */
export function lockHome(home: string, serverFile: string): HomeLock {
  const path = lockFilePath(home);
  const owner: LockOwner = { pid: process.pid, token: randomUUID(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path, owner)) break;
    const held = readJson<LockOwner>(path);
    if (held && alive(held.pid)) {
      const info = readJson<{ pid?: number; url?: string }>(serverFile);
      throw new HomeLockedError(home, held, info?.pid === held.pid ? info.url : undefined);
    }
    // The holder is gone (or the file is torn): the lock is stale. Another starter may race us
    // here; O_EXCL on the retry decides, and the read-back below confirms.
    try {
      unlinkSync(path);
    } catch {}
  }
  const now = readJson<LockOwner>(path);
  if (now?.token !== owner.token) {
    const holder = now ?? { pid: 0, token: "", startedAt: "" };
    throw new HomeLockedError(home, holder, undefined);
  }
  const owns = (file: string) => readJson<{ token?: string }>(file)?.token === owner.token;
  return {
    owner,
    owns,
    release() {
      if (existsSync(path) && owns(path)) unlinkSync(path);
    },
  };
}
