import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeVpcsCommand } from "@aws-sdk/client-ec2";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Sha256 } from "../../src/api/sigv4.js";
import { startPrivlink } from "../../src/privlink.js";
import { adminFetch } from "../helpers/admin.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runCli, spawnPrivlink } from "../helpers/spawn.js";

/** An EC2 DescribeVpcs presigned URL, as `aws`/SDK presigners make it, signed at `at`. */
async function presignedDescribeVpcs(url: string, at: Date, expiresIn: number): Promise<string> {
  const u = new URL(url);
  const signer = new SignatureV4({
    service: "ec2",
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    sha256: Sha256,
  });
  const req = await signer.presign(
    new HttpRequest({
      method: "GET",
      protocol: "http:",
      hostname: u.hostname,
      port: Number(u.port),
      path: "/",
      query: { Action: "DescribeVpcs", Version: "2016-11-15" },
      headers: { host: u.host },
    }),
    { signingDate: at, expiresIn },
  );
  const q = new URLSearchParams(req.query as Record<string, string>).toString();
  return `${url}/?${q}`;
}

describe("admin API under --auth verify", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(() => srv.stop());

  it("refuses every admin route but health without the token, and serves them with it", async () => {
    for (const [method, path] of [
      ["POST", "/_privlink/reset"],
      ["POST", "/_privlink/accounts"],
      ["GET", "/_privlink/accounts"],
      ["GET", "/_privlink/stats"],
      ["GET", "/_privlink/events"],
      ["POST", "/_privlink/state/save"],
    ] as const) {
      const bare = await fetch(`${srv.url}${path}`, { method });
      expect(bare.status, path).toBe(401);
      expect(((await bare.json()) as { error: string }).error).toBe("AdminTokenRequired");
      const wrong = await fetch(`${srv.url}${path}`, { method, headers: { authorization: "Bearer nope" } });
      expect(wrong.status, path).toBe(401);
    }
    expect((await fetch(`${srv.url}/_privlink/health`)).status).toBe(200);
    expect((await adminFetch(srv, "/_privlink/stats")).status).toBe(200);
    expect((await srv.admin("GET", "/_privlink/accounts")).accounts).toHaveLength(1);
  });

  it("keeps the token, the database and the CA key readable by their owner only", () => {
    for (const f of ["admin-token", "state.db", "ca/ca-key.pem"])
      expect(statSync(join(srv.home, f)).mode & 0o777, f).toBe(0o600);
    expect(statSync(srv.home).mode & 0o077).toBe(0);
  });

  it("lets the CLI in with the home's token, and not with another", async () => {
    const ok = await runCli(["account", "list"], srv.cliEnv());
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("000000000000");
    const bad = await runCli(["account", "list"], { ...srv.cliEnv(), PRIVLINK_ADMIN_TOKEN: "forged" });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("AdminTokenRequired");
  });

  it("accepts a presigned URL until it expires (reuse included, as AWS does) and refuses it after", async () => {
    const fresh = await presignedDescribeVpcs(srv.url, new Date(), 60);
    expect((await fetch(fresh)).status).toBe(200);
    expect((await fetch(fresh)).status).toBe(200);
    const old = await presignedDescribeVpcs(srv.url, new Date(Date.now() - 20 * 60_000), 900);
    const r = await fetch(old);
    expect(r.status).toBe(400);
    expect(await r.text()).toContain("<Code>RequestExpired</Code>");
    const future = await presignedDescribeVpcs(srv.url, new Date(Date.now() + 16 * 60_000), 900);
    expect(await (await fetch(future)).text()).toContain("<Code>RequestExpired</Code>");
  });

  it("refuses a header-signed request more than 15 minutes old", async () => {
    const ec2 = srv.ec2();
    ec2.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as HttpRequest;
        const signer = new SignatureV4({
          service: "ec2",
          region: "us-east-1",
          credentials: srv.credentials,
          sha256: Sha256,
        });
        delete req.headers.authorization;
        delete req.headers["x-amz-date"];
        args.request = await signer.sign(req, { signingDate: new Date(Date.now() - 16 * 60_000) });
        return next(args);
      },
      { step: "finalizeRequest", priority: "low", name: "resignOld" },
    );
    await expect(ec2.send(new DescribeVpcsCommand({}))).rejects.toMatchObject({ name: "RequestExpired" });
  });
});

describe("admin API and listening address", () => {
  it("--auth open leaves the admin API open and says so at start-up", async () => {
    const home = mkdtempSync(join(tmpdir(), "privlink-open-"));
    const p = await spawnPrivlink(home, ["--auth", "open"]);
    try {
      expect(p.output()).toContain("/_privlink/* is OPEN");
      expect((await fetch(`${p.url}/_privlink/stats`)).status).toBe(200);
    } finally {
      p.child.kill("SIGKILL");
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("refuses a non-loopback address unless --listen-any, and warns with it", async () => {
    const home = mkdtempSync(join(tmpdir(), "privlink-listen-"));
    try {
      await expect(startPrivlink({ port: 0, home, listen: "0.0.0.0" })).rejects.toThrow(/--listen-any/);
      const cli = await runCli(["up", "--port", "0", "--home", home, "--listen", "10.1.2.3"], process.env);
      expect(cli.code).toBe(1);
      expect(cli.stderr).toContain("not a loopback address");
      const warnings: string[] = [];
      const onWarning = (w: Error) => warnings.push(w.message);
      process.on("warning", onWarning);
      const srv = await startTestServer({ home, listen: "0.0.0.0", listenAny: true });
      await new Promise((r) => setImmediate(r));
      process.off("warning", onWarning);
      expect(warnings.join("\n")).toContain("listens on 0.0.0.0");
      expect((await srv.ec2().send(new DescribeVpcsCommand({}))).Vpcs).toBeDefined();
      await srv.stop();
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
