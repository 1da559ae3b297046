import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempHomes } from "../helpers/homes.js";
import { runCli, spawnPrivlink } from "../helpers/spawn.js";

/** What a new user meets first: one server per state directory, and CLI answers that say so. */

const homes = tempHomes("privlink-first-");
const newHome = homes.make;
afterAll(() => {
  homes.removeAll();
});

const envOf = (home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const { PRIVLINK_URL: _, ...rest } = process.env;
  return { ...rest, PRIVLINK_HOME: home, PRIVLINK_PORT: "9", ...extra };
};

describe("the state directory is locked", () => {
  it("refuses a second server on the same home, naming the first's PID and URL, and leaves its files alone", async () => {
    const home = newHome();
    const first = await spawnPrivlink(home);
    try {
      const serverFile = readFileSync(join(home, "server.json"), "utf8");
      const second = await runCli(["up", "--port", "0", "--home", home, "--slots", "250-250"], envOf(home));
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(
        `privlink is already running on ${home}: PID ${first.child.pid} at ${first.url}`,
      );
      expect(second.stderr).not.toContain("EADDRINUSE");
      // The refused server removed nothing: the first is still found by every command.
      expect(readFileSync(join(home, "server.json"), "utf8")).toBe(serverFile);
      const status = await runCli(["status"], envOf(home));
      expect([status.code, status.stdout]).toEqual([
        0,
        expect.stringContaining(`is running at ${first.url}`),
      ]);
      const env = await runCli(["env"], envOf(home));
      expect(env.stdout).toContain(`export AWS_ENDPOINT_URL=${first.url}`);
    } finally {
      first.child.kill("SIGTERM");
      await new Promise((r) => first.child.once("exit", r));
    }
    // A clean exit removes the server's own files.
    expect(existsSync(join(home, "server.json"))).toBe(false);
    expect(existsSync(join(home, "server.lock"))).toBe(false);
  }, 60_000);

  it("takes over the lock of a server that died, and never removes a server.json it did not write", async () => {
    const home = newHome();
    const first = await spawnPrivlink(home);
    first.child.kill("SIGKILL");
    await new Promise((r) => first.child.once("exit", r));
    expect(existsSync(join(home, "server.lock"))).toBe(true);
    const second = await spawnPrivlink(home);
    // Someone else's server.json replaces this server's: on exit it must be left in place.
    const foreign = JSON.stringify({
      pid: 1,
      url: "http://127.0.0.1:1",
      port: 1,
      startedAt: "x",
      token: "other",
    });
    writeFileSync(join(home, "server.json"), foreign);
    second.child.kill("SIGTERM");
    await new Promise((r) => second.child.once("exit", r));
    expect(readFileSync(join(home, "server.json"), "utf8")).toBe(foreign);
    expect(existsSync(join(home, "server.lock"))).toBe(false);
  }, 60_000);
});

describe("the CLI without a server", () => {
  it("privlink env says nothing is running and exits non-zero", async () => {
    const home = newHome();
    const out = await runCli(["env"], envOf(home));
    expect(out.code).toBe(3);
    expect(out.stdout).toBe("");
    expect(out.stderr).toContain("privlink is not running (looked at http://127.0.0.1:9)");
  });
});

describe("the CLI with a server", () => {
  it("privlink upstream list says when there is none", async () => {
    const home = newHome();
    const srv = await spawnPrivlink(home);
    try {
      const env = envOf(home);
      const none = await runCli(["upstream", "list"], env);
      expect([none.code, none.stdout]).toEqual([
        0,
        "no upstreams configured (add one with: privlink upstream set SERVICE URL)\n",
      ]);
      await runCli(["upstream", "set", "kms", "http://127.0.0.1:4566"], env);
      expect((await runCli(["upstream", "list"], env)).stdout).toBe("kms http://127.0.0.1:4566\n");
      // PRIVLINK_URL names the server directly, whatever the home says.
      const byUrl = await runCli(["status"], envOf(newHome(), { PRIVLINK_URL: srv.url }));
      expect(byUrl.stdout).toContain(`is running at ${srv.url}`);
    } finally {
      srv.child.kill("SIGTERM");
      await new Promise((r) => srv.child.once("exit", r));
    }
  }, 60_000);
});
