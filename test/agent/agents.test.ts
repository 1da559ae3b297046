/**
 * Several hosts on one machine (bench/agents-world.ts): two network namespaces, each with its
 * own `privlink agent` process; host a also runs an API-only node (`privlink up --role api`)
 * beside its agent. The API node driving the tests runs in this process (API only too), in the
 * test's own namespace.
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTagsCommand, ModifyVpcEndpointCommand } from "@aws-sdk/client-ec2";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostsMissing, makeTwoHosts, type TwoHosts } from "../../bench/agents-world.js";
import { State } from "../../src/cloud/state.js";
import type { Stats } from "../../src/net/meter.js";
import { Leases } from "../../src/store/leases.js";
import { PostgresStore } from "../../src/store/postgres.js";
import { addresses, allowFromGroup, makeConsumer } from "../dataplane/world.js";
import { echoHub } from "../helpers/net-world-echo.js";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const reason = hostsMissing();
if (reason) console.log(`agent tests skipped: ${reason}`);

const LEASE_S = 1.5;
const SDK_CALL = join(import.meta.dirname, "sdk-call.mjs");
/** A workload's SDK program on a host: credentials and region from its environment. */
const sdk = (creds: { accessKeyId: string; secretAccessKey: string }, ...args: string[]) => [
  "env",
  `AWS_ACCESS_KEY_ID=${creds.accessKeyId}`,
  `AWS_SECRET_ACCESS_KEY=${creds.secretAccessKey}`,
  "AWS_REGION=us-east-1",
  process.execPath,
  SDK_CALL,
  ...args,
];

interface AgentsReply {
  agents: { name: string; alive: boolean }[];
  placements: { unit: string; agent: string }[];
  stats: Stats;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let last = "";
  for (;;) {
    const v = await probe().catch((err: Error) => {
      last = err.message;
      return undefined;
    });
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(reason)("agents on two hosts", () => {
  let pgs: TestPostgres;
  let server: TestServer;
  let url: string;
  let leases: Leases;
  let hosts: TwoHosts;

  beforeAll(async () => {
    // Unique per test process: namespaces and links are global to the machine.
    hosts = makeTwoHosts(`pla${process.pid % 100_000}`);
    pgs = await startPostgres();
    url = await pgs.createDatabase();
    // API only: this process's namespace holds no endpoint listener; the agents serve them all.
    server = await startTestServer({ store: url, role: "api" });
    leases = await Leases.open(url);
  });

  afterAll(async () => {
    if (process.env.AGENT_TEST_DEBUG) for (const o of hosts?.outputs() ?? []) console.log(o);
    hosts?.close();
    await leases?.close();
    await server?.close();
    await pgs?.stop();
  });

  /** The agent the store places `vpcId` on. */
  const placedOn = async (vpcId: string) => (await leases.view()).placements.get(vpcId)?.agent;

  it("carries a workload's flow from host a to the endpoint served by host b, and fails over to a when b is killed", async () => {
    const b = await hosts.startAgent("b", pgs.socketUrl(url), LEASE_S);
    const world = await echoHub(
      server,
      { provider: "111111111111", consumer: "222222222222" },
      "10.1.0.0/16",
    );
    const port = world.provider.listenerPort;
    await allowFromGroup(world.hub, port);
    // The provider's target on each host, at the address the target group names: it says which host answered.
    for (const h of ["a", "b"] as const)
      hosts.spawn(h, [
        "socat",
        `TCP-LISTEN:${world.echoServer.port},bind=127.0.0.1,fork,reuseaddr`,
        `SYSTEM:printf ${h}-; cat`,
      ]);
    // Every VPC lands on b, the only live agent; a, started after, gets nothing moved to it.
    await until("the hub VPC placed on b", async () =>
      (await placedOn(world.hub.vpcId)) === "b" ? true : undefined,
    );
    // Host a runs an API-only node and its agent in one namespace: neither takes the other's sockets.
    await hosts.startApi("a", pgs.socketUrl(url));
    const a = await hosts.startAgent("a", pgs.socketUrl(url), LEASE_S);
    expect(await placedOn(world.hub.vpcId)).toBe("b");
    expect(
      (await hosts.run("a", sdk(server.credentials, "whoami", "http://127.0.0.1:4599"), "", 30_000)).trim(),
    ).toBe("000000000000");

    const { endpoint, workload } = addresses(server, world.hub);
    const fromA = (want: string) => async () => {
      const got = await hosts.run(
        "a",
        ["socat", "-t", "5", "-", `TCP:${endpoint}:${port},bind=${workload}`],
        "hello",
      );
      if (got !== want) throw new Error(`got '${got}'`);
      return "ok";
    };
    // Through a's listener, the tunnel, b's decision and b's relay to b's target.
    expect(await until("a flow through b", fromA("b-hello"))).toBe("ok");

    b.kill("SIGKILL");
    // A write acknowledged while b is gone is in the store.
    await world.ec2.send(
      new CreateTagsCommand({ Resources: [world.hub.vpcId], Tags: [{ Key: "during", Value: "failover" }] }),
    );
    // Within the lease (plus one renewal), b's VPCs are a's and the next connection succeeds there.
    expect(await until("the flow served on a", fromA("a-hello"))).toBe("ok");
    expect(await placedOn(world.hub.vpcId)).toBe("a");
    const seen = await server.admin<AgentsReply>("GET", "/_privlink/agents");
    expect(seen.placements).toContainEqual(expect.objectContaining({ unit: world.hub.vpcId, agent: "a" }));
    expect(seen.agents.map((x) => [x.name, x.alive])).toEqual([
      ["a", true],
      ["b", false],
    ]);

    const fresh = await PostgresStore.open(url);
    const state = new State(fresh);
    fresh.loadInto(state);
    expect(state.get("vpc", world.hub.vpcId)?.tags.during).toBe("failover");
    await fresh.close();

    // A clean stop flushes a's counters; the store sums every agent's rows.
    a.kill("SIGTERM");
    await until("agent a stopped", async () => (a.exitCode !== null ? true : undefined));
    const { stats } = await server.admin<AgentsReply>("GET", "/_privlink/agents");
    const ep = stats.endpoints.find((e) => e.vpcEndpointId === world.hub.endpointId);
    expect(ep?.newConnections).toBeGreaterThanOrEqual(1);
    expect(ep?.bytesIn).toBeGreaterThanOrEqual("hello".length);
  });

  it("serves an AWS-service endpoint on the agent its VPC is placed on: the real SDK on either host gets the secret, under the endpoint policy", async () => {
    // The first test stopped both agents; they take their rows back.
    await hosts.startAgent("b", pgs.socketUrl(url), LEASE_S);
    await hosts.startAgent("a", pgs.socketUrl(url), LEASE_S);
    const c = await makeConsumer(
      server,
      "333333333333",
      "com.amazonaws.us-east-1.secretsmanager",
      "10.2.0.0/16",
      // The SDK dials the endpoint address itself: no name to resolve.
      { PrivateDnsEnabled: false },
    );
    await allowFromGroup(c, 443);
    const sm = new SecretsManagerClient({
      endpoint: server.url,
      region: "us-east-1",
      credentials: c.creds,
      maxAttempts: 1,
    });
    const allowed = await sm.send(new CreateSecretCommand({ Name: "app-db", SecretString: "hunter2" }));
    await sm.send(new CreateSecretCommand({ Name: "other", SecretString: "not through here" }));
    await c.ec2.send(
      new ModifyVpcEndpointCommand({
        VpcEndpointId: c.endpointId,
        PolicyDocument: JSON.stringify({
          Statement: [
            {
              Effect: "Allow",
              Principal: "*",
              Action: "secretsmanager:GetSecretValue",
              Resource: allowed.ARN,
            },
          ],
        }),
      }),
    );
    const { endpoint, workload } = addresses(server, c);
    // The agents' fronts sign with the store's CA, which is this API node's too.
    const caFile = join(tmpdir(), `privlink-agents-ca-${process.pid}.pem`);
    writeFileSync(caFile, server.ca.certPem);
    const owner = await until("the VPC placed", () => placedOn(c.vpcId));
    const get = (h: "a" | "b", secret: string) =>
      hosts.run(h, sdk(c.creds, "get-secret", `https://${endpoint}`, workload, caFile, secret), "", 30_000);
    // On the owner the front answers locally; from the other host the flow crosses the tunnel.
    const order: ("a" | "b")[] = owner === "a" ? ["b", "a"] : ["a", "b"];
    for (const h of order) {
      expect(
        await until(`the secret through the endpoint from host ${h}`, async () => {
          const got = (await get(h, "app-db")).trim();
          if (got !== "hunter2") throw new Error(got);
          return got;
        }),
      ).toBe("hunter2");
      // The endpoint policy allows one secret only.
      expect((await get(h, "other")).trim()).toMatch(
        /^ERROR AccessDeniedException: .*not authorized to perform: secretsmanager:GetSecretValue .*VPC endpoint policy/,
      );
    }
  });
});
