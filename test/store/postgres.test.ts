import { join } from "node:path";
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPrivlink } from "../../src/privlink.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import { tempHomes } from "../helpers/homes.js";
import { freePort, postgresMissing, startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runCli, spawnPrivlink } from "../helpers/spawn.js";

const missing = postgresMissing();
if (missing) console.log(`skipping the PostgreSQL store tests: ${missing}`);

let pgs: TestPostgres;
const homes = tempHomes("privlink-pg-home-");
const newHome = homes.make;
beforeAll(async () => {
  if (!missing) pgs = await startPostgres();
});
afterAll(async () => {
  await pgs?.stop();
  homes.removeAll();
});

const client = (url: string) =>
  new EC2Client({
    endpoint: url,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });

/** A VPC, a subnet and an interface endpoint to Secrets Manager in it. */
async function endpointWorld(ec2: EC2Client): Promise<{ vpc: string; endpoint: string }> {
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }))).Vpc!.VpcId!;
  const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: "10.0.1.0/24" }))).Subnet!
    .SubnetId!;
  const sg = (
    await ec2.send(new CreateSecurityGroupCommand({ GroupName: "ep", Description: "ep", VpcId: vpc }))
  ).GroupId!;
  const endpoint = (
    await ec2.send(
      new CreateVpcEndpointCommand({
        VpcId: vpc,
        VpcEndpointType: "Interface",
        ServiceName: "com.amazonaws.us-east-1.secretsmanager",
        SubnetIds: [subnet],
        SecurityGroupIds: [sg],
        PrivateDnsEnabled: false,
      }),
    )
  ).VpcEndpoint!.VpcEndpointId!;
  return { vpc, endpoint };
}

/** Polls `probe` until it returns true (bounded: 20 s). */
async function eventually(probe: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + 20_000;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > until) throw new Error("condition not met within 20 s");
    await new Promise((r) => setTimeout(r, 100));
  }
}

const vpcIds = async (ec2: EC2Client) =>
  ((await ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? []).map((v) => v.VpcId);

describe.skipIf(missing)("the PostgreSQL store", () => {
  it("keeps VPCs and endpoints across a restart, on another home", async () => {
    const store = await pgs.createDatabase();
    let srv: TestServer = await startTestServer({ store });
    const { vpc, endpoint } = await endpointWorld(srv.ec2());
    const before = await srv.ec2().send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [endpoint] }));
    // `privlink state save` on this store writes a SQLite state file that either store loads.
    const file = join(newHome(), "snapshot.db");
    await srv.admin("POST", "/_privlink/state/save", { file });
    const saved = await SqliteStore.readFile(file);
    expect(saved.objects.map((o) => o.id)).toEqual(expect.arrayContaining([vpc, endpoint]));
    await srv.stop();
    srv = await startTestServer({ store });
    try {
      expect(await vpcIds(srv.ec2())).toContain(vpc);
      const after = await srv.ec2().send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [endpoint] }));
      expect(after.VpcEndpoints![0]).toMatchObject({
        VpcEndpointId: endpoint,
        VpcId: vpc,
        SubnetIds: before.VpcEndpoints![0]!.SubnetIds,
        NetworkInterfaceIds: before.VpcEndpoints![0]!.NetworkInterfaceIds,
      });
    } finally {
      await srv.stop();
    }
  });

  it("lets two servers on one database see each other's writes through LISTEN/NOTIFY", async () => {
    const store = await pgs.createDatabase();
    const a = await startTestServer({ store });
    const b = await startTestServer({ store });
    try {
      const fromA = (await a.ec2().send(new CreateVpcCommand({ CidrBlock: "10.1.0.0/16" }))).Vpc!.VpcId!;
      await eventually(async () => (await vpcIds(b.ec2())).includes(fromA));
      const { endpoint } = await endpointWorld(b.ec2());
      await eventually(
        async () =>
          (await a.ec2().send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [endpoint] }))).VpcEndpoints
            ?.length === 1,
      );
      // Absorbed through the change feed, so A's own listeners (data plane, DNS) heard of it too.
      const heard: string[] = [];
      a.state.onCommit((changes) => heard.push(...changes.map((c) => `${c.kind}/${c.id}`)));
      await b.ec2().send(new CreateVpcCommand({ CidrBlock: "10.2.0.0/16" }));
      await eventually(async () => heard.some((h) => h.startsWith("vpc/")));
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it("converges when two servers change one object at the same moment (the later commit wins on both)", async () => {
    const store = await pgs.createDatabase();
    const a = await startTestServer({ store });
    const b = await startTestServer({ store });
    try {
      const vpc = (await a.ec2().send(new CreateVpcCommand({ CidrBlock: "10.3.0.0/16" }))).Vpc!.VpcId!;
      await eventually(async () => (await vpcIds(b.ec2())).includes(vpc));
      const tagger = (srv: TestServer, who: string) => async () => {
        for (let i = 0; i < 15; i++)
          await srv
            .ec2()
            .send(new CreateTagsCommand({ Resources: [vpc], Tags: [{ Key: "owner", Value: `${who}${i}` }] }));
      };
      await Promise.all([tagger(a, "a")(), tagger(b, "b")()]);
      const tagOf = async (srv: TestServer) =>
        (await srv.ec2().send(new DescribeVpcsCommand({ VpcIds: [vpc] }))).Vpcs![0]!.Tags?.find(
          (t) => t.Key === "owner",
        )?.Value;
      await eventually(async () => {
        const [ta, tb] = [await tagOf(a), await tagOf(b)];
        return ta !== undefined && ta === tb && /^[ab]14$/.test(ta);
      });
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it("answers writes with ServiceUnavailable while PostgreSQL is down, keeps serving, then catches up", async () => {
    const store = await pgs.createDatabase();
    const srv = await startTestServer({ store });
    const other = await startTestServer({ store });
    try {
      const ec2 = srv.ec2();
      const { vpc } = await endpointWorld(ec2);
      const listeners = (await srv.admin<{ listeners: string[] }>("GET", "/_privlink/listeners")).listeners;
      expect(listeners.length).toBeGreaterThan(0);
      await pgs.kill();
      let refused: { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
      await eventually(async () => {
        refused = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.9.0.0/16" })).then(
          () => undefined,
          (e) => e,
        );
        return refused !== undefined;
      });
      expect(refused!.name).toBe("ServiceUnavailable");
      expect(refused!.$metadata!.httpStatusCode).toBe(503);
      // Reads answer from the last state; the data plane keeps its listeners.
      expect(await vpcIds(ec2)).toContain(vpc);
      expect((await srv.admin<{ listeners: string[] }>("GET", "/_privlink/listeners")).listeners).toEqual(
        listeners,
      );
      await pgs.restart();
      let created: string | undefined;
      await eventually(async () => {
        created = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.8.0.0/16" }))).Vpc!.VpcId!;
        return true;
      });
      // The other server reconnected too and caught up on what it missed.
      await eventually(async () => (await vpcIds(other.ec2())).includes(created));
    } finally {
      await srv.stop();
      await other.stop();
    }
  });

  it("loses no acknowledged write when the server is killed with SIGKILL mid-burst", async () => {
    const store = await pgs.createDatabase();
    const first = await spawnPrivlink(newHome(), ["--store", store]);
    const ec2 = client(first.url);
    const acknowledged: string[] = [];
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop && i < 300; i++) {
        try {
          const r = await ec2.send(new CreateVpcCommand({ CidrBlock: `10.${(w * 50 + i) % 250}.0.0/16` }));
          acknowledged.push(r.Vpc!.VpcId!);
        } catch {
          return; // the server is gone
        }
      }
    };
    const writers = [0, 1, 2].map(writer);
    while (acknowledged.length < 30) await new Promise((r) => setTimeout(r, 5));
    first.child.kill("SIGKILL");
    stop = true;
    await Promise.all(writers);
    await new Promise((r) => first.child.once("exit", r));
    const second = await spawnPrivlink(newHome(), ["--store", store]);
    try {
      const ids = new Set(await vpcIds(client(second.url)));
      for (const id of acknowledged) expect(ids.has(id)).toBe(true);
    } finally {
      second.child.kill("SIGTERM");
      await new Promise((r) => second.child.once("exit", r));
    }
  });

  it("refuses to start with a clear error when PostgreSQL is out of reach", async () => {
    const home = newHome();
    const closed = `postgres://privlink@127.0.0.1:${await freePort()}/nothing`;
    await expect(startPrivlink({ port: 0, home, store: closed })).rejects.toThrow(
      /cannot use the PostgreSQL store at postgres:\/\/privlink@127\.0\.0\.1:\d+\/nothing: .*ECONNREFUSED/,
    );
    const cli = await runCli(["up", "--port", "0", "--home", home, "--store", closed], {
      ...process.env,
      PRIVLINK_HOME: home,
    });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/cannot use the PostgreSQL store at .*ECONNREFUSED/);
  });
});
