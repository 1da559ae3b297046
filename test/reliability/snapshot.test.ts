import { copyFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeVpcEndpointsCommand, DescribeVpcsCommand } from "@aws-sdk/client-ec2";
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { afterAll, describe, expect, it } from "vitest";
import { SCHEMA_VERSION } from "../../src/store/schema.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import { eventually, makeEndpoint, makeVpc, nodeResolver, resolverOf } from "../dns-private/helpers.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runCli } from "../helpers/spawn.js";

const FIXTURE_V0 = join(import.meta.dirname, "fixtures/state-v0.db");
const SM = "secretsmanager.us-east-1.amazonaws.com";

function sm(srv: TestServer): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint: srv.url,
    region: "us-east-1",
    credentials: srv.credentials,
    maxAttempts: 1,
  });
}

/** What a user sees of one endpoint: its state, its listeners and what the VPC resolver answers. */
async function observe(srv: TestServer, vpcId: string, endpointId: string) {
  const ep = (await srv.ec2().send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [endpointId] })))
    .VpcEndpoints![0]!;
  const listeners = (await srv.admin<{ listeners: string[] }>("GET", "/_privlink/listeners")).listeners;
  const resolver = await resolverOf(srv, vpcId);
  const port = srv.dns.info().port;
  const dns = nodeResolver(resolver, port);
  const answer = await eventually(
    () =>
      dns.resolve4(SM).then(
        (a) => a.sort(),
        () => [] as string[],
      ),
    (a) => a.length > 0,
  );
  return { state: ep.State, dns: answer, listeners };
}

describe("state snapshots", () => {
  const homes: string[] = [];
  const tmp = (p: string) => {
    const d = mkdtempSync(join(tmpdir(), p));
    homes.push(d);
    return d;
  };
  afterAll(() => {
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });

  it("saves while running and loads into a fresh server and a fresh home, listeners and DNS rebuilt", async () => {
    const a = await startTestServer();
    const file = join(tmp("privlink-snap-"), "state.db");
    let seen: Awaited<ReturnType<typeof observe>>;
    let net: { vpcId: string };
    let endpointId: string;
    try {
      net = await makeVpc(a.ec2(), "10.42.0.0/16", ["us-east-1a"]);
      endpointId = (await makeEndpoint(a.ec2(), net as never, `com.amazonaws.us-east-1.secretsmanager`, true))
        .id;
      await sm(a).send(new CreateSecretCommand({ Name: "snap/db", SecretString: "s3cret" }));
      await eventually(
        async () =>
          (await a.ec2().send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [endpointId] })))
            .VpcEndpoints![0]!.State,
        (s) => String(s) === "available",
      );
      seen = await observe(a, net.vpcId, endpointId);
      expect(seen.listeners.length).toBeGreaterThan(0);
      const saved = await runCli(["state", "save", file], a.cliEnv());
      expect(saved.code, saved.stderr).toBe(0);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      await a.stop();
    }
    // Into a running fresh server, through the admin API.
    const b = await startTestServer();
    try {
      const loaded = await runCli(["state", "load", file], b.cliEnv());
      expect(loaded.code, loaded.stderr).toBe(0);
      expect(await observe(b, net.vpcId, endpointId)).toEqual(seen);
      expect((await sm(b).send(new GetSecretValueCommand({ SecretId: "snap/db" }))).SecretString).toBe(
        "s3cret",
      );
    } finally {
      await b.stop();
    }
    // Into a fresh home with no server, then started on it.
    const home = tmp("privlink-snap-home-");
    const offline = await runCli(["state", "load", file], {
      ...process.env,
      PRIVLINK_HOME: home,
      PRIVLINK_URL: "",
    });
    expect(offline.code, offline.stderr).toBe(0);
    const c = await startTestServer({ home });
    try {
      expect(await observe(c, net.vpcId, endpointId)).toEqual(seen);
    } finally {
      await c.stop();
    }
  });

  it("opens a state file written by the previous schema (v0), migrating a copy and never the file", async () => {
    const snap = await SqliteStore.readFile(FIXTURE_V0);
    expect(snap.schema).toBe(0);
    expect(snap.objects.some((o) => o.kind === "vpcEndpoint")).toBe(true);
    expect((await SqliteStore.readFile(FIXTURE_V0)).schema).toBe(0);
    const home = tmp("privlink-v0-");
    copyFileSync(FIXTURE_V0, join(home, "state.db"));
    const srv = await startTestServer({ home });
    try {
      const vpcs = await srv.ec2().send(new DescribeVpcsCommand({ VpcIds: ["vpc-74460feb51e2a3338"] }));
      expect(vpcs.Vpcs![0]!.CidrBlock).toBe("10.7.0.0/16");
      const eps = await srv
        .ec2()
        .send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: ["vpce-671a24af09cfbe4cd"] }));
      expect(eps.VpcEndpoints![0]!.State).toBe("available");
      expect((await sm(srv).send(new GetSecretValueCommand({ SecretId: "fixture/db" }))).SecretString).toBe(
        "v0-secret",
      );
      const listeners = (await srv.admin<{ listeners: string[] }>("GET", "/_privlink/listeners")).listeners;
      expect(listeners.length).toBeGreaterThan(0);
    } finally {
      await srv.stop();
    }
    expect((await SqliteStore.readFile(join(home, "state.db"))).schema).toBe(SCHEMA_VERSION);
  });

  it("refuses a file that is not a state file, and one from a newer privlink", async () => {
    const srv = await startTestServer();
    try {
      const junk = join(tmp("privlink-junk-"), "x.db");
      await import("node:fs").then((fs) => fs.writeFileSync(junk, "not sqlite"));
      await expect(srv.admin("POST", "/_privlink/state/load", { file: junk })).rejects.toThrow(
        /not a privlink state file/,
      );
      const newer = join(tmp("privlink-newer-"), "n.db");
      await srv.admin("POST", "/_privlink/state/save", { file: newer });
      const Database = (await import("better-sqlite3")).default;
      const db = new Database(newer);
      db.prepare("UPDATE meta SET value = '999' WHERE key = 'schema'").run();
      db.close();
      await expect(srv.admin("POST", "/_privlink/state/load", { file: newer })).rejects.toThrow(
        /newer privlink/,
      );
      await expect(srv.admin("POST", "/_privlink/state/load", { file: "relative.db" })).rejects.toThrow(
        /absolute/,
      );
    } finally {
      await srv.stop();
    }
  });
});
