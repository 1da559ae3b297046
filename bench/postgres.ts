import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/**
 * A private PostgreSQL server for tests: Debian's `postgresql` binaries, a fresh data directory
 * under /tmp, a free port on 127.0.0.1, trust authentication for the `privlink` role. PostgreSQL
 * refuses to run as root, so under root it runs as the `postgres` user the package creates.
 */
export interface TestPostgres {
  readonly port: number;
  /** The URL of a database on this server (default: the `postgres` database). */
  url(database?: string): string;
  /**
   * The same database through the server's Unix socket: a process in another network namespace
   * (an agent's "host" in the agent tests) reaches it through the file system, not the network.
   */
  socketUrl(url: string): string;
  /** A new empty database; its URL. */
  createDatabase(): Promise<string>;
  /** Kills every process of the server at once (a crash: no shutdown, no checkpoint). */
  kill(): Promise<void>;
  /** Starts the server again on the same data directory and port. */
  restart(): Promise<void>;
  /** Stops the server and removes its data directory. */
  stop(): Promise<void>;
}

const BIN_ROOT = "/usr/lib/postgresql";

/** Why PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresMissing(): string | undefined {
  if (binDir() === undefined)
    return `PostgreSQL is not installed (${BIN_ROOT}/*/bin/initdb missing): apt-get install postgresql`;
  if (process.getuid?.() === 0 && !userExists("postgres"))
    return "running as root and there is no 'postgres' user to run PostgreSQL as";
  return undefined;
}

function binDir(): string | undefined {
  if (!existsSync(BIN_ROOT)) return undefined;
  const versions = readdirSync(BIN_ROOT)
    .filter((v) => existsSync(join(BIN_ROOT, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(BIN_ROOT, versions[0], "bin") : undefined;
}

function userExists(name: string): boolean {
  try {
    execFileSync("id", ["-u", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** The command line that runs a PostgreSQL binary as a user PostgreSQL accepts. */
function asServerUser(bin: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, args];
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = binDir();
  if (!bin) throw new Error(postgresMissing());
  const dir = mkdtempSync(join(tmpdir(), "privlink-pg-"));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, "data");
  const [initdb, initArgs] = asServerUser(join(bin, "initdb"), [
    "-D",
    data,
    "-U",
    "privlink",
    "--auth=trust",
    "-E",
    "UTF8",
    "--no-sync",
  ]);
  execFileSync(initdb, initArgs, { stdio: "ignore" });
  const port = await freePort();
  let server: ChildProcess | undefined;
  const url = (database = "postgres") => `postgres://privlink@127.0.0.1:${port}/${database}`;

  const start = async () => {
    // Its own process group, so that kill() takes the postmaster and every backend at once.
    const [cmd, args] = asServerUser(join(bin, "postgres"), [
      "-D",
      data,
      "-p",
      String(port),
      "-k",
      dir,
      "-c",
      "listen_addresses=127.0.0.1",
      // A test server: a process crash keeps what the OS has; only a power cut would not.
      "-c",
      "fsync=off",
      "-c",
      "max_connections=200",
    ]);
    server = spawn(cmd, args, { detached: true, stdio: "ignore" });
    await ready(url(), 30_000);
  };
  const killGroup = async (signal: NodeJS.Signals) => {
    const child = server;
    server = undefined;
    if (!child?.pid || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    try {
      process.kill(-child.pid, signal);
    } catch {
      return;
    }
    await exited;
    // Backends outlive a killed postmaster by a moment; the next start needs them gone.
    await waitGone(child.pid, 10_000);
  };
  const onExit = () => {
    if (server?.pid) {
      try {
        process.kill(-server.pid, "SIGKILL");
      } catch {}
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", onExit);
  await start();
  let databases = 0;
  return {
    port,
    url,
    socketUrl: (u) =>
      `postgres://privlink@/${new URL(u).pathname.slice(1)}?host=${encodeURIComponent(dir)}&port=${port}`,
    async createDatabase() {
      const name = `t${process.pid}_${++databases}`;
      const c = new pg.Client({ connectionString: url() });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return url(name);
    },
    kill: () => killGroup("SIGKILL"),
    restart: start,
    async stop() {
      // SIGINT is PostgreSQL's fast shutdown.
      await killGroup("SIGINT");
      process.removeListener("exit", onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function ready(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    c.on("error", () => {});
    try {
      await c.connect();
      await c.end();
      return;
    } catch (err) {
      await c.end().catch(() => {});
      if (Date.now() > until) throw new Error(`PostgreSQL did not start: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Waits until no process of the server's process group is left. */
async function waitGone(group: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      execFileSync("pgrep", ["-g", String(group)], { stdio: "ignore" });
    } catch {
      return; // pgrep exits 1 when nothing matches
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
