import type { Socket } from "node:net";
import { connect } from "node:net";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateVpcEndpointCommand,
  DescribeVpcEndpointsCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type WhyResult, why } from "../../src/analyze/why.js";
import { eniHostAddress } from "../../src/cloud/eni.js";
import { systemRuntime } from "../../src/cloud/runtime.js";
import { DataPlane, PRIVILEGED_PORT_BASE } from "../../src/net/dataplane.js";
import type { FlowEvent } from "../../src/net/flow-events.js";
import { stateResolver } from "../../src/net/resolver.js";
import {
  addresses,
  allowFromGroup,
  type Consumer,
  exchange,
  type Provider,
  until,
} from "../dataplane/world.js";
import { echoHub } from "../helpers/net-world-echo.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runCli } from "../helpers/spawn.js";
import type { Listening } from "../net/sockets.js";

/**
 * Refusals the endpoint listener makes itself (its connection limit, no service front) are a
 * hop of the flow decision, `endpoint-listener`, that the data plane enforces and `why` prints:
 * a real connection is refused with the reason `why` names, and once the cause is gone both
 * agree again.
 */
const LIMIT = 2;

let srv: TestServer;
let env: NodeJS.ProcessEnv;
let echoServer: Listening;
let hub: Consumer;
let provider: Provider;
let to: { host: string; port: number };
let from: string;

beforeAll(async () => {
  srv = await startTestServer({ maxConnectionsPerEndpoint: LIMIT });
  env = { ...srv.cliEnv(), PRIVLINK_URL: srv.url };
  let endpointHost: string;
  ({ echoServer, hub, provider, endpointHost } = await echoHub(
    srv,
    { provider: "440000000001", consumer: "440000000002" },
    "10.4.0.0/16",
  ));
  await allowFromGroup(hub, provider.listenerPort);
  to = { host: endpointHost, port: provider.listenerPort };
  from = addresses(srv, hub).workload;
}, 120_000);

afterAll(async () => {
  await srv?.stop();
  await echoServer?.close();
});

async function whyCli(destination: string): Promise<{ code: number | null; r: WhyResult }> {
  const run = await runCli(["why", hub.instanceId, destination, "--json"], env);
  expect(run.stderr).toBe("");
  return { code: run.code, r: JSON.parse(run.stdout) as WhyResult };
}

/** A connection through the endpoint that stays open (it has echoed once). */
async function hold(): Promise<Socket> {
  const socket = connect({ ...to, localAddress: from, allowHalfOpen: true });
  await new Promise((r) => socket.once("connect", r));
  socket.write("?");
  await new Promise((r) => socket.once("data", r));
  return socket;
}

async function lastRefusal(): Promise<FlowEvent | undefined> {
  const { flows } = await srv.admin<{ flows: FlowEvent[] }>("GET", "/_privlink/flows");
  return flows.at(-1);
}

describe("the endpoint listener's own refusals", { timeout: 120_000 }, () => {
  it("the connection limit: a real connection and why refuse at endpoint-listener with one reason", async () => {
    const target = `${to.host}:${to.port}`;
    expect((await whyCli(target)).code).toBe(0);
    const held = [await hold(), await hold()];
    const { code, r } = await whyCli(target);
    expect(code).toBe(1);
    const hop = r.hops[r.refusedAt!]!;
    expect(hop).toMatchObject({ kind: "endpoint-listener", resource: hub.endpointId, code: "BAD_STATE" });
    expect(r.reason).toBe(`endpoint ${hub.endpointId} has ${LIMIT} open connections (the limit)`);

    const refused = await exchange(to, from, Buffer.from("?"));
    expect(refused.kind).toBe("refused");
    expect(await lastRefusal()).toMatchObject({
      at: "endpoint",
      vpcEndpointId: hub.endpointId,
      reason: r.reason,
    });

    held[0]!.destroy();
    await until(async () => ((await whyCli(target)).code === 0 ? true : undefined), "a connection closed");
    expect(await exchange(to, from, Buffer.from("?"))).toMatchObject({ kind: "data" });
    held[1]!.destroy();
  });
});

describe("an endpoint to an AWS service without a front", { timeout: 120_000 }, () => {
  let bare: DataPlane | undefined;
  afterAll(async () => {
    await bare?.close();
  });

  it("the listener refuses with `no service front`, and why (on that data plane) names it", async () => {
    const ep = await hub.ec2.send(
      new CreateVpcEndpointCommand({
        VpcEndpointType: "Interface",
        VpcId: hub.vpcId,
        ServiceName: "com.amazonaws.us-east-1.secretsmanager",
        SubnetIds: [hub.subnetId],
        SecurityGroupIds: [hub.endpointSg],
        PrivateDnsEnabled: false,
      }),
    );
    const endpointId = ep.VpcEndpoint!.VpcEndpointId!;
    await hub.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: hub.endpointSg,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 443, ToPort: 443, UserIdGroupPairs: [{ GroupId: hub.workloadSg }] },
        ],
      }),
    );
    await until(async () => {
      const out = await hub.ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [endpointId] }));
      return String(out.VpcEndpoints?.[0]?.State) === "available" ? true : undefined;
    }, "secretsmanager endpoint available");
    const s = srv.state;
    const host = eniHostAddress(s, s.get("eni", s.get("vpcEndpoint", endpointId)!.enis[0]!.eniId)!)!;

    // The server's data plane (with its front) steps aside for one without any.
    await srv.dataplane.dataplane.close();
    bare = new DataPlane({ state: s, mapPrivilegedPorts: true });
    await bare.start();

    const r = await why(
      { state: s, resolver: stateResolver(s), rt: systemRuntime, listeners: bare.listenerView },
      { source: hub.instanceId, destination: `${host}:443` },
    );
    expect(r.allowed).toBe(false);
    expect(r.hops[r.refusedAt!]).toMatchObject({ kind: "endpoint-listener", resource: endpointId });
    expect(r.reason).toBe("no service front for com.amazonaws.us-east-1.secretsmanager");

    const refused = await exchange({ host, port: PRIVILEGED_PORT_BASE + 443 }, from, Buffer.from("?"));
    expect(refused.kind).toBe("refused");
    const events = bare.events.list();
    expect(events.at(-1)).toMatchObject({ at: "endpoint", vpcEndpointId: endpointId, reason: r.reason });
  });
});
