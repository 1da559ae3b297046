/**
 * Operating several hosts (docs/agents.md) on the two-namespace world of bench/agents-world.ts:
 * `privlink exec`/`connect` for an instance whose VPC an agent serves, the agents' counters in
 * `privlink stats` and Prometheus on an API node, and the workload's own source port in the
 * flow-log record of a flow carried through the tunnel. The API node driving the test runs in
 * this process (API only); host b gets an API-only node of its own for the CLI run there.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostsMissing, makeTwoHosts, type TwoHosts } from "../../bench/agents-world.js";
import type { Stats } from "../../src/net/meter.js";
import { Leases } from "../../src/store/leases.js";
import { addresses, allowFromGroup, type Creds } from "../dataplane/world.js";
import { type EchoHub, echoHub } from "../helpers/net-world-echo.js";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { BIN, runCli } from "../helpers/spawn.js";
import { awsJson, closeAgentsWorld, targetsOnHosts, until, vpcFlowLog } from "./fixture.js";

const reason = hostsMissing();
if (reason) console.log(`agent operations tests skipped: ${reason}`);

const LEASE_S = 1.5;
/** The workload's source port on host a: the flow-log record must name it, not the tunnel's. */
const CLIENT_PORT = 41234;

type AgentStats = Stats & { agents?: (Stats & { name: string; alive: boolean })[] };

describe.skipIf(reason)("operating agents on two hosts", () => {
  let pgs: TestPostgres;
  let server: TestServer;
  let url: string;
  let leases: Leases;
  let hosts: TwoHosts;
  let world: EchoHub;
  let port: number;
  /** The endpoint's private IP: what a workload's proxy is asked for. */
  let endpointIp: string;

  beforeAll(async () => {
    hosts = makeTwoHosts(`plo${process.pid % 100_000}`);
    pgs = await startPostgres();
    url = await pgs.createDatabase();
    server = await startTestServer({ store: url, role: "api" });
    leases = await Leases.open(url);
    world = await echoHub(server, { provider: "111111111111", consumer: "222222222222" }, "10.1.0.0/16");
    port = world.provider.listenerPort;
    await allowFromGroup(world.hub, port);
    const vpce = server.state.get("vpcEndpoint", world.hub.endpointId)!;
    endpointIp = server.state.get("eni", vpce.enis[0]!.eniId)!.privateIp;
  });

  afterAll(() => closeAgentsWorld({ hosts, leases, server, pgs }));

  const placedOn = async (vpcId: string) => (await leases.view()).placements.get(vpcId)?.agent;
  const aws = (creds: Creds, ...args: string[]) => awsJson(server, creds, ...args);

  it("refuses exec and connect with the reason while no live agent serves the instance's VPC", async () => {
    for (const args of [
      ["exec", "--from", world.hub.instanceId, "--", "true"],
      ["connect", "--from", world.hub.instanceId, `${endpointIp}:${port}`],
    ]) {
      const r = await runCli(args, server.cliEnv());
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        `NoLiveAgent: no live agent serves ${world.hub.vpcId} (where ${world.hub.instanceId} is): it is placed on no agent yet`,
      );
    }
  });

  it("records a carried flow with the workload's source port, and shows the agents' counters in privlink stats and /metrics", async () => {
    const consumer = world.hub.creds;
    await vpcFlowLog(server, consumer, world.hub.vpcId, "/agents/ops");
    targetsOnHosts(hosts, world.echoServer.port);
    // b first, so the hub VPC is b's; a's workload reaches it through the tunnel.
    await hosts.startAgent("b", pgs.socketUrl(url), LEASE_S);
    await until("the hub VPC placed on b", async () =>
      (await placedOn(world.hub.vpcId)) === "b" ? true : undefined,
    );
    await hosts.startAgent("a", pgs.socketUrl(url), LEASE_S);
    const { endpoint, workload } = addresses(server, world.hub);
    expect(
      await until("a flow from a's workload port through b", async () => {
        const got = await hosts.run(
          "a",
          ["socat", "-t", "5", "-", `TCP:${endpoint}:${port},bind=${workload}:${CLIENT_PORT},reuseaddr`],
          "hello",
        );
        if (got !== "b-hello") throw new Error(`got '${got}'`);
        return got;
      }),
    ).toBe("b-hello");

    // b admitted and metered the flow: the API node's stats sum it, and name b as the agent.
    const stats = await until("b's counters in the API node's stats", async () => {
      const s = await server.admin<AgentStats>("GET", "/_privlink/stats");
      const ep = s.endpoints.find((e) => e.vpcEndpointId === world.hub.endpointId);
      return ep && ep.bytesIn >= "hello".length ? s : undefined;
    });
    const byB = stats.agents?.find((x) => x.name === "b");
    expect(byB?.alive).toBe(true);
    expect(byB?.endpoints.find((e) => e.vpcEndpointId === world.hub.endpointId)?.newConnections).toBe(1);
    const table = await runCli(["stats"], server.cliEnv());
    expect(table.stdout).toMatch(
      new RegExp(`endpoints by agent\\n[\\s\\S]*\\nb ${world.hub.endpointId} +5 +7 +1 `),
    );
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(
        `privlink_endpoint_connections_total\\{vpc_endpoint_id="${world.hub.endpointId}"[^}]*\\} 1\\n`,
      ),
    );
    expect(metrics).toContain(
      `privlink_agent_endpoint_bytes_total{agent="b",vpc_endpoint_id="${world.hub.endpointId}",direction="in"} 5\n`,
    );
    expect(metrics).toContain('privlink_agent_alive{agent="a"} 1\n');
    expect(metrics).toContain('privlink_agent_alive{agent="b"} 1\n');

    // The record b made where the bytes passed: the workload's address and its own port.
    const record = await until(
      "b's flow-log record in CloudWatch Logs",
      async () => {
        const out = await aws(consumer, "logs", "filter-log-events", "--log-group-name", "/agents/ops");
        const lines = (out.events as { message: string }[]).map((e) => e.message.split(" "));
        const vpce = server.state.get("vpcEndpoint", world.hub.endpointId)!;
        const hit = lines.find(
          (f) => f[2] === vpce.enis[0]!.eniId && f[4] === endpointIp && f[12] === "ACCEPT",
        );
        if (!hit) throw new Error(`${lines.length} records, none on the endpoint`);
        return hit;
      },
      150_000,
    );
    expect(record[3]).toBe(
      server.state.get("eni", server.state.get("instance", world.hub.instanceId)!.eniId)!.privateIp,
    );
    expect(record[5]).toBe(String(CLIENT_PORT));
    expect(record[6]).toBe(String(port));
  }, 300_000);

  it("runs exec and connect for the instance on the host of the agent serving its VPC", async () => {
    // An API-only node beside agent b: the CLI run on host b reaches it at 127.0.0.1:4599.
    const { home } = await hosts.startApi("b", pgs.socketUrl(url));
    const cli = (...args: string[]) => [
      "env",
      `PRIVLINK_HOME=${home}`,
      "PRIVLINK_URL=http://127.0.0.1:4599",
      process.execPath,
      BIN,
      ...args,
    ];
    expect(await placedOn(world.hub.vpcId)).toBe("b");
    // connect: the proxy on b dials the endpoint from the instance's address; b's target answers.
    expect(
      await hosts.run(
        "b",
        cli("connect", "--from", world.hub.instanceId, `${endpointIp}:${port}`),
        "hi",
        30_000,
      ),
    ).toBe("b-hi");
    // exec: the command gets the proxy in its environment (socat speaks CONNECT to it).
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell script's parameter expansions
    const viaProxy = 'p=${HTTPS_PROXY#http://}; exec socat -t 5 - "PROXY:${p%:*}:$0:$1,proxyport=${p##*:}"';
    expect(
      await hosts.run(
        "b",
        cli("exec", "--from", world.hub.instanceId, "--", "sh", "-c", viaProxy, endpointIp, String(port)),
        "there",
        30_000,
      ),
    ).toBe("b-there");
    // Both went through b's endpoint listener, admitted and metered there.
    expect(
      await until("b's count of the proxied connections", async () => {
        const s = await server.admin<AgentStats>("GET", "/_privlink/stats");
        const ep = s.agents
          ?.find((x) => x.name === "b")
          ?.endpoints.find((e) => e.vpcEndpointId === world.hub.endpointId);
        return ep && ep.newConnections >= 3 ? ep.newConnections : undefined;
      }),
    ).toBe(3);
  }, 120_000);
});
