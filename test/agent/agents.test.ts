/**
 * Several hosts on one machine (bench/agents-world.ts): two network namespaces, each with its
 * own `privlink agent` process; host a also runs an API-only node (`privlink up --role api`)
 * beside its agent. The API node driving the tests runs in this process (API only too), in the
 * test's own namespace.
 */
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  GetLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import {
  CreateTagsCommand,
  ModifyVpcEndpointCommand,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostsMissing, makeTwoHosts, type TwoHosts } from "../../bench/agents-world.js";
import { State } from "../../src/cloud/state.js";
import type { Stats } from "../../src/net/meter.js";
import { Leases } from "../../src/store/leases.js";
import { PostgresStore } from "../../src/store/postgres.js";

import { addresses, allowFromGroup, type Creds, makeConsumer } from "../dataplane/world.js";
import { type EchoHub, echoHub } from "../helpers/net-world-echo.js";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { awsJson, closeAgentsWorld, targetsOnHosts, until, vpcFlowLog } from "./fixture.js";

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

  afterAll(() => closeAgentsWorld({ hosts, leases, server, pgs }));

  /** The agent the store places `vpcId` on. */
  const placedOn = async (vpcId: string) => (await leases.view()).placements.get(vpcId)?.agent;
  const aws = (creds: Creds, ...args: string[]) => awsJson(server, creds, ...args);
  let world: EchoHub;
  let port: number;
  /** Sends "hello" from the workload on host a through the endpoint; what came back. */
  const helloFromA = async () => {
    const { endpoint, workload } = addresses(server, world.hub);
    return hosts.run("a", ["socat", "-t", "5", "-", `TCP:${endpoint}:${port},bind=${workload}`], "hello");
  };

  it("carries a workload's flow from host a to the endpoint served by host b, meters and logs it on the API node, and fails over to a when b is killed", async () => {
    const b = await hosts.startAgent("b", pgs.socketUrl(url), LEASE_S);
    world = await echoHub(server, { provider: "111111111111", consumer: "222222222222" }, "10.1.0.0/16");
    port = world.provider.listenerPort;
    await allowFromGroup(world.hub, port);
    const consumer = world.hub.creds;
    // The hub VPC's flow log, delivered to CloudWatch Logs by the API node.
    const flowLogId = await vpcFlowLog(server, consumer, world.hub.vpcId, "/agents/flows");
    // The provider's target on each host, at the address the target group names: it says which host answered.
    targetsOnHosts(hosts, world.echoServer.port);
    // Every VPC lands on b, the only live agent; a, started after, gets nothing moved to it.
    await until("the hub VPC placed on b", async () =>
      (await placedOn(world.hub.vpcId)) === "b" ? true : undefined,
    );
    const a = await hosts.startAgent("a", pgs.socketUrl(url), LEASE_S);
    expect(await placedOn(world.hub.vpcId)).toBe("b");

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

    // b metered the flow: the API node publishes it as CloudWatch metrics, read with the aws CLI.
    const vpce = server.state.get("vpcEndpoint", world.hub.endpointId)!;
    const epIp = server.state.get("eni", vpce.enis[0]!.eniId)!.privateIp;
    const window = [
      "--start-time",
      new Date(Date.now() - 600_000).toISOString(),
      "--end-time",
      new Date(Date.now() + 600_000).toISOString(),
      "--period",
      "60",
      "--statistics",
      "Sum",
    ];
    const metricSum = async (creds: Creds, namespace: string, metric: string, dims: [string, string][]) => {
      await server.admin("POST", "/_privlink/cloudwatch/flush");
      const out = await aws(
        creds,
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        namespace,
        "--metric-name",
        metric,
        "--dimensions",
        JSON.stringify(dims.map(([Name, Value]) => ({ Name, Value }))),
        ...window,
      );
      return (out.Datapoints as { Sum: number }[]).reduce((n, d) => n + d.Sum, 0);
    };
    const endpointDims: [string, string][] = [
      ["Endpoint Type", "Interface"],
      ["Service Name", vpce.serviceName],
      ["VPC Endpoint Id", vpce.id],
      ["VPC Id", vpce.vpcId],
    ];
    const counted = async (
      creds: Creds,
      namespace: string,
      metric: string,
      dims: [string, string][],
      least: number,
    ) => {
      const sum = await metricSum(creds, namespace, metric, dims);
      if (sum < least) throw new Error(`${namespace} ${metric} is ${sum}`);
      return sum;
    };
    expect(
      await until("NewConnections on the API node", () =>
        counted(consumer, "AWS/PrivateLinkEndpoints", "NewConnections", endpointDims, 1),
      ),
    ).toBeGreaterThanOrEqual(1);
    // "hello" went in, "b-hello" came back.
    expect(
      await until("BytesProcessed on the API node", () =>
        counted(
          consumer,
          "AWS/PrivateLinkEndpoints",
          "BytesProcessed",
          endpointDims,
          "hello".length + "b-hello".length,
        ),
      ),
    ).toBeGreaterThanOrEqual(12);
    expect(
      await metricSum(world.provider.creds, "AWS/PrivateLinkServices", "NewConnections", [
        ["Service Id", world.provider.serviceId],
      ]),
    ).toBeGreaterThanOrEqual(1);

    // b recorded the flow-log window (60 s) where the bytes passed; the API node delivered it.
    const record = await until(
      "b's flow-log record in CloudWatch Logs",
      async () => {
        const out = await aws(consumer, "logs", "filter-log-events", "--log-group-name", "/agents/flows");
        const lines = (out.events as { message: string }[]).map((e) => e.message.split(" "));
        // The request's record on the endpoint's interface (the workload's interface has its own).
        const hit = lines.find(
          (f) => f[2] === vpce.enis[0]!.eniId && f[4] === epIp && f[6] === String(port) && f[12] === "ACCEPT",
        );
        if (!hit) throw new Error(`${lines.length} records, none on the endpoint to ${epIp}:${port}`);
        return hit;
      },
      150_000,
    );
    expect(record[3]).toBe(
      server.state.get("eni", server.state.get("instance", world.hub.instanceId)!.eniId)!.privateIp,
    );
    expect(Number(record[9])).toBeGreaterThanOrEqual("hello".length);
    const fl = await aws(consumer, "ec2", "describe-flow-logs", "--flow-log-ids", flowLogId);
    expect(fl.FlowLogs[0].DeliverLogsStatus).toBe("SUCCESS");

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
  }, 300_000);

  it("keeps serving through a PostgreSQL outage longer than the lease, moves nothing for it, and follows the store once it is back", async () => {
    // A longer lease than above: the outage must outlast it, and the agents' renewals after it
    // must not race a lease on a loaded machine.
    const lease = 3;
    // a stopped cleanly above with no live agent to hand its VPC to: b, started alone, takes it
    // over once it has held its own lease for one lease length (src/cloud/placement.ts).
    const started: ChildProcess[] = [await hosts.startAgent("b", pgs.socketUrl(url), lease)];
    await until("the hub VPC taken over by b", async () =>
      (await placedOn(world.hub.vpcId)) === "b" ? true : undefined,
    );
    started.push(await hosts.startAgent("a", pgs.socketUrl(url), lease));
    const owner = "b";
    // From host a through the tunnel to b, before, during and after the outage.
    const answer = `${owner}-hello`;
    expect(
      await until("a flow before the outage", async () =>
        (await helloFromA()) === answer ? true : undefined,
      ),
    ).toBe(true);

    await leases.close();
    await pgs.kill();
    // Past every lease: an agent that fenced itself would refuse now.
    await new Promise((r) => setTimeout(r, 2 * lease * 1000));
    expect(await helloFromA()).toBe(answer);
    for (const c of started) expect(c.exitCode).toBeNull();

    await pgs.restart();
    leases = await Leases.open(url);
    // Both agents renew again; neither took the other's VPCs for the outage.
    await until("both agents alive again", async () => {
      const { agents } = await server.admin<AgentsReply>("GET", "/_privlink/agents");
      return agents.every((x) => x.alive) && agents.length === 2 ? true : undefined;
    });
    expect(await placedOn(world.hub.vpcId)).toBe(owner);
    // A change made once the store is back reaches the serving agent (its feed catches up from
    // the last commit it had): the group no longer lets the workload in, so the next connection
    // is refused there.
    await until("the API node writing again", async () => {
      await world.hub.ec2.send(
        new RevokeSecurityGroupIngressCommand({
          GroupId: world.hub.endpointSg,
          IpPermissions: [
            {
              IpProtocol: "tcp",
              FromPort: port,
              ToPort: port,
              UserIdGroupPairs: [{ GroupId: world.hub.workloadSg }],
            },
          ],
        }),
      );
      return true;
    });
    expect(
      await until("the connection refused after the revoke", async () => {
        const got = await helloFromA().catch(() => "");
        if (got !== "") throw new Error(`still answered '${got}'`);
        return true;
      }),
    ).toBe(true);
    expect(await placedOn(world.hub.vpcId)).toBe(owner);
  }, 180_000);

  it("serves an AWS-service endpoint on the agent its VPC is placed on: the real SDK on either host gets the secret, under the endpoint policy", async () => {
    // Agents a and b of the test above still run. Host a gets an API-only node beside its agent,
    // in one namespace: it starts, answers there, and takes none of the agent's sockets. (Not
    // earlier: an API node drains the flow-log outbox into its own home's CloudWatch Logs.)
    await hosts.startApi("a", pgs.socketUrl(url));
    expect(
      (await hosts.run("a", sdk(server.credentials, "whoami", "http://127.0.0.1:4599"), "", 30_000)).trim(),
    ).toBe("000000000000");
    expect(hosts.outputs().join("\n")).not.toContain("EADDRINUSE");
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

  it("serves a CloudWatch Logs endpoint on an agent from the store's tables: what a workload puts there, the API node reads", async () => {
    const c = await makeConsumer(server, "444444444444", "com.amazonaws.us-east-1.logs", "10.3.0.0/16", {
      PrivateDnsEnabled: false,
    });
    await allowFromGroup(c, 443);
    const logs = new CloudWatchLogsClient({
      endpoint: server.url,
      region: "us-east-1",
      credentials: c.creds,
      maxAttempts: 1,
    });
    await logs.send(new CreateLogGroupCommand({ logGroupName: "/agents" }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: "/agents", logStreamName: "s" }));
    const { endpoint, workload } = addresses(server, c);
    const caFile = join(tmpdir(), `privlink-agents-logs-ca-${process.pid}.pem`);
    writeFileSync(caFile, server.ca.certPem);
    const owner = (await until("the VPC placed", () => placedOn(c.vpcId))) as "a" | "b";
    const put = (h: "a" | "b", message: string) =>
      hosts.run(h, sdk(c.creds, "logs", `https://${endpoint}`, workload, caFile, message), "", 30_000);
    // Answered by the owner's front (not refused at the listener): the event is in the store.
    expect(
      await until(`a log event through the endpoint on host ${owner}`, async () => {
        const got = (await put(owner, `from ${owner}`)).trim();
        if (got !== `from ${owner}`) throw new Error(got);
        return got;
      }),
    ).toBe(`from ${owner}`);
    const read = await logs.send(new GetLogEventsCommand({ logGroupName: "/agents", logStreamName: "s" }));
    expect(read.events?.map((e) => e.message)).toContain(`from ${owner}`);
  });

  it("serves an S3 interface endpoint on an agent: bodies written through the API node are read byte-exact through the agent, and back", async () => {
    // S3 bodies live in the store (PgBlobs), so the agent's front serves them as the API node does.
    const c = await makeConsumer(server, "555555555555", "com.amazonaws.us-east-1.s3", "10.4.0.0/16", {
      PrivateDnsEnabled: false,
    });
    await allowFromGroup(c, 443);
    const s3 = new S3Client({
      endpoint: server.url,
      region: "us-east-1",
      credentials: c.creds,
      forcePathStyle: true,
      maxAttempts: 1,
    });
    await s3.send(new CreateBucketCommand({ Bucket: "agent-bucket" }));
    // Two chunks and a bit: the agent reads them from PostgreSQL one by one.
    const body = Buffer.alloc((5 << 20) / 2 + 11);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7 + (i >> 11)) & 0xff;
    await s3.send(new PutObjectCommand({ Bucket: "agent-bucket", Key: "from-api", Body: body }));
    const { endpoint, workload } = addresses(server, c);
    const caFile = join(tmpdir(), `privlink-agents-s3-ca-${process.pid}.pem`);
    writeFileSync(caFile, server.ca.certPem);
    const owner = await until("the VPC placed", () => placedOn(c.vpcId));
    const call = (h: "a" | "b", ...args: string[]) =>
      hosts.run(
        h,
        sdk(c.creds, args[0]!, `https://${endpoint}`, workload, caFile, ...args.slice(1)),
        "",
        30_000,
      );
    const digest = createHash("sha256").update(body).digest("hex");
    for (const h of owner === "a" ? (["b", "a"] as const) : (["a", "b"] as const))
      expect(
        await until(`the object through the endpoint from host ${h}`, async () => {
          const got = (await call(h, "s3-get", "agent-bucket/from-api")).trim();
          if (got !== digest) throw new Error(got);
          return got;
        }),
      ).toBe(digest);
    expect(
      (await call(owner as "a" | "b", "s3-put", "agent-bucket/from-agent", "written on an agent")).trim(),
    ).toMatch(/^"[0-9a-f]{32}"$/);
    const back = await until("the agent's object on the API node", async () =>
      (
        await s3.send(new GetObjectCommand({ Bucket: "agent-bucket", Key: "from-agent" }))
      ).Body?.transformToString(),
    );
    expect(back).toBe("written on an agent");
  });
});
