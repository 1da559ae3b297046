import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

/** The cookie the browser holds after a login link: a session ID, never the admin token itself. */
export const SESSION_COOKIE = "privlink_console";
/** Header every state-changing console call sends: a cross-site form cannot set it. */
export const CONSOLE_HEADER = "x-privlink-console";
/** How long an unused login link stays good. */
const LOGIN_TTL_MS = 10 * 60_000;
/** At most this many sessions live at once; the oldest is dropped first. */
const MAX_SESSIONS = 64;

/**
 * Browser access to the admin API. `privlink up` (or `privlink console`) prints a link with a
 * one-time login code; opening it trades the code for a session ID in an HttpOnly,
 * SameSite=Strict cookie, which the admin routes then accept in place of the bearer token.
 * Sessions live in memory: a restart asks for a new link.
 */
export class ConsoleSessions {
  private readonly logins = new Map<string, number>();
  private readonly sessions = new Set<string>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A fresh one-time login code. */
  mintLogin(): string {
    this.expire();
    const code = randomBytes(24).toString("base64url");
    this.logins.set(code, this.now() + LOGIN_TTL_MS);
    return code;
  }

  /** Spends a login code: the new session ID, or undefined when the code is unknown, used or stale. */
  redeem(code: string): string | undefined {
    this.expire();
    if (!this.logins.delete(code)) return undefined;
    const session = randomBytes(32).toString("base64url");
    this.sessions.add(session);
    if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.values().next().value!);
    return session;
  }

  /**
   * True when the request carries a live session cookie, and — for anything but GET/HEAD — the
   * console header too (SameSite=Strict already stops cross-site sends; the header is a second lock).
   */
  admits(method: string, headers: IncomingHttpHeaders): boolean {
    const given = cookieValue(headers.cookie, SESSION_COOKIE);
    if (!given || !this.knows(given)) return false;
    return method === "GET" || method === "HEAD" || headers[CONSOLE_HEADER] === "1";
  }

  private knows(given: string): boolean {
    const g = Buffer.from(given);
    for (const s of this.sessions) {
      const b = Buffer.from(s);
      if (b.length === g.length && timingSafeEqual(b, g)) return true;
    }
    return false;
  }

  private expire(): void {
    const t = this.now();
    for (const [code, until] of this.logins) if (until <= t) this.logins.delete(code);
  }
}

/** One cookie's value from a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(session: string): string {
  return `${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/`;
}
