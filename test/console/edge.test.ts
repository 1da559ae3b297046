import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runCli, spawnPrivlink } from "../helpers/spawn.js";

/**
 * The console at `/` on the edge: the built bundle with its content types, the one-time login
 * link that trades for an HttpOnly session cookie, admin routes open to that cookie (and, for
 * changes, only with the console's header), and the event stream.
 */
let srv: TestServer;

beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv?.stop();
});

async function login(): Promise<string> {
  const { path } = await srv.admin<{ path: string }>("POST", "/_privlink/console/login");
  expect(path).toMatch(/^\/\?login=[\w-]{20,}$/);
  const res = await fetch(`${srv.url}${path}`, { redirect: "manual" });
  expect(res.status).toBe(303);
  expect(res.headers.get("location")).toBe("/");
  const cookie = res.headers.get("set-cookie") ?? "";
  expect(cookie).toMatch(/^privlink_console=[\w-]+; HttpOnly; SameSite=Strict; Path=\/$/);
  // The link is spent: a second visit gets no session.
  const again = await fetch(`${srv.url}${path}`, { redirect: "manual" });
  expect(again.status).toBe(401);
  expect(await again.text()).toContain("privlink console");
  return cookie.split(";")[0]!;
}

describe("the console on the edge", () => {
  it("serves the built bundle at / with its content types and no outside sources", async () => {
    const res = await fetch(`${srv.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
    const html = await res.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(3);
    // Offline: every script, stylesheet and icon is the edge's own.
    for (const a of assets) expect(a.startsWith("/")).toBe(true);
    const types = new Map<string, string>();
    for (const a of assets) {
      const r = await fetch(`${srv.url}${a}`);
      expect(r.status).toBe(200);
      types.set(a.split(".").pop()!, r.headers.get("content-type") ?? "");
      await r.arrayBuffer();
    }
    expect(types.get("js")).toBe("text/javascript; charset=utf-8");
    expect(types.get("css")).toBe("text/css; charset=utf-8");
    expect(types.get("svg")).toBe("image/svg+xml");
    // Nothing outside the bundle is read, however the path is spelled.
    expect((await fetch(`${srv.url}/assets/../../package.json`)).status).not.toBe(200);
    expect((await fetch(`${srv.url}/assets/nope.js`)).status).toBe(404);
  });

  it("keeps AWS requests on the AWS path", async () => {
    // An unsigned POST to / is the AWS wire's, not the console's.
    const res = await fetch(`${srv.url}/`, {
      method: "POST",
      body: "Action=DescribeVpcs&Version=2016-11-15",
    });
    expect(res.headers.get("content-type")).not.toContain("text/html");
  });

  it("lets a logged-in browser read admin routes, and change state only with the console header", async () => {
    expect((await fetch(`${srv.url}/_privlink/console/state`)).status).toBe(401);
    const cookie = await login();
    const state = await fetch(`${srv.url}/_privlink/console/state`, { headers: { cookie } });
    expect(state.status).toBe(200);
    const snap = (await state.json()) as { accounts: { id: string }[]; vpcs: unknown[] };
    expect(snap.accounts.map((a) => a.id)).toContain("000000000000");
    expect(JSON.stringify(snap)).not.toContain("secretAccessKey");
    // A cross-site form could send the cookie's POST without the header: refused.
    const bare = await fetch(`${srv.url}/_privlink/console/connections`, {
      method: "POST",
      headers: { cookie },
      body: JSON.stringify({ serviceId: "vpce-svc-0", endpointIds: ["vpce-0"], action: "accept" }),
    });
    expect(bare.status).toBe(401);
    const marked = await fetch(`${srv.url}/_privlink/console/connections`, {
      method: "POST",
      headers: { cookie, "x-privlink-console": "1" },
      body: JSON.stringify({
        serviceId: "vpce-svc-00000000000000000",
        endpointIds: ["vpce-0"],
        action: "accept",
      }),
    });
    expect(marked.status).toBe(400);
    expect(((await marked.json()) as { error: string }).error).toBe("InvalidVpcEndpointServiceId.NotFound");
    // A made-up session is nobody's.
    const forged = await fetch(`${srv.url}/_privlink/console/state`, {
      headers: { cookie: "privlink_console=abc" },
    });
    expect(forged.status).toBe(401);
  });

  it("streams counters and state versions as Server-Sent Events", async () => {
    const cookie = await login();
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(`${srv.url}/_privlink/console/stream`, { headers: { cookie } }, (res) => {
        expect(res.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
        let body = "";
        res.on("data", (d) => {
          body += d;
          if (body.includes("event: stats") && body.includes("event: state")) {
            req.destroy();
            resolve(body);
          }
        });
      });
      req.on("error", (e) => (e.message.includes("socket hang up") ? undefined : reject(e)));
      req.end();
    });
    expect(text).toMatch(/event: hello\ndata: \{"stateVersion":\d+/);
    const stats = /event: stats\ndata: (.*)\n/.exec(text)![1]!;
    expect(Object.keys(JSON.parse(stats))).toEqual(["time", "endpoints", "enis", "natGateways"]);
  });

  it("`privlink up` prints a one-time console link and `privlink console` mints another", async () => {
    const home = mkdtempSync(join(tmpdir(), "privlink-console-"));
    const p = await spawnPrivlink(home);
    try {
      let line: RegExpExecArray | null = null;
      for (let i = 0; i < 100 && !line; i++) {
        line = /^ {2}console {5}(http:\/\/\S+\/\?login=\S+)$/m.exec(p.output());
        if (!line) await sleep(50);
      }
      expect(line, p.output()).not.toBeNull();
      const first = await fetch(line![1]!, { redirect: "manual" });
      expect(first.status).toBe(303);
      expect(first.headers.get("set-cookie")).toContain("HttpOnly");
      const cli = await runCli(["console"], { ...process.env, PRIVLINK_HOME: home });
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stdout.trim()).toMatch(new RegExp(`^${p.url.replace(/[.]/g, "\\.")}/\\?login=`));
      expect(cli.stdout.trim()).not.toBe(line![1]);
      expect((await fetch(cli.stdout.trim(), { redirect: "manual" })).status).toBe(303);
    } finally {
      p.child.kill("SIGKILL");
      rmSync(home, { recursive: true, force: true });
    }
  });
});
