import { CreateListenerCommand, DescribeListenersCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SgRule } from "../../src/cloud/types.js";
import { decide } from "../../src/flow/index.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { echo, type Listening, listen } from "../net/sockets.js";
import {
  accept,
  addresses,
  type Consumer,
  clients,
  exchange,
  makeConsumer,
  makeProvider,
  type Provider,
  waitEndpoint,
} from "./world.js";

/**
 * One decision, two readers: for random security-group rule sets on both sides, flow/'s verdict
 * is exactly what a real connect() from the workload's address experiences.
 */
describe("flow/ agrees with real sockets", () => {
  let server: TestServer;
  let echoServer: Listening;
  let provider: Provider;
  let consumer: Consumer;
  let addr: { endpoint: string; workload: string };
  let workloadIp: string;
  let otherSg: string;
  const ports = [7070, 7071];

  beforeAll(async () => {
    server = await startTestServer();
    echoServer = await listen(echo);
    provider = await makeProvider(server, {
      accountId: "123400000001",
      targets: [{ host: "127.0.0.1", port: echoServer.port }],
      allow: ["123400000002"],
      listenerPort: 7070,
    });
    const { elb } = clients(server, provider.creds);
    const [l] = (await elb.send(new DescribeListenersCommand({ LoadBalancerArn: provider.nlbArn })))
      .Listeners!;
    await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: provider.nlbArn,
        Protocol: "TCP",
        Port: 7071,
        DefaultActions: l!.DefaultActions,
      }),
    );
    consumer = await makeConsumer(server, "123400000002", provider.serviceName);
    await accept(server, provider, consumer.endpointId);
    await waitEndpoint(consumer, "available");
    addr = addresses(server, consumer);
    workloadIp = server.state.get("eni", server.state.get("instance", consumer.instanceId)!.eniId)!.privateIp;
    otherSg = [...server.state.all("securityGroup")].find(
      (g) => g.vpcId === consumer.vpcId && g.name === "default",
    )!.id;
  });

  afterAll(async () => {
    await server?.stop();
    await echoServer?.close();
  });

  const rule = () =>
    fc.record({
      protocol: fc.constantFrom("-1", "tcp", "udp", "icmp"),
      from: fc.constantFrom(0, 7000, 7070, 7071, 8000),
      span: fc.constantFrom(0, 1, 100, 65535),
      peer: fc.constantFrom(
        "vpc",
        "subnet",
        "other-vpc",
        "any",
        "host",
        "other-host",
        "workload-sg",
        "endpoint-sg",
        "other-sg",
        "prefix-list",
      ),
    });

  function toRule(r: { protocol: string; from: number; span: number; peer: string }, i: number): SgRule {
    const ports =
      r.protocol === "tcp" || r.protocol === "udp"
        ? { fromPort: r.from, toPort: Math.min(65535, r.from + r.span) }
        : { fromPort: -1, toPort: -1 };
    const peers: Record<string, Partial<SgRule>> = {
      vpc: { cidrIpv4: "10.1.0.0/16" },
      subnet: { cidrIpv4: "10.1.1.0/24" },
      "other-vpc": { cidrIpv4: "10.2.0.0/16" },
      any: { cidrIpv4: "0.0.0.0/0" },
      host: { cidrIpv4: `${workloadIp}/32` },
      "other-host": { cidrIpv4: "10.1.1.250/32" },
      "workload-sg": { groupId: consumer.workloadSg },
      "endpoint-sg": { groupId: consumer.endpointSg },
      "other-sg": { groupId: otherSg },
      "prefix-list": { prefixListId: "pl-63a5400a" },
    };
    return { ruleId: `sgr-prop${i}`, protocol: r.protocol, ...ports, ...peers[r.peer] };
  }

  it("admits exactly the flows decide() admits", async () => {
    let admitted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(rule(), { maxLength: 4 }),
        fc.array(rule(), { maxLength: 3 }),
        fc.boolean(),
        fc.constantFrom(...ports),
        async (ingress, egress, defaultEgress, port) => {
          server.state.transact((tx) => {
            const epSg = tx.get("securityGroup", consumer.endpointSg)!;
            tx.put("securityGroup", { ...epSg, ingress: ingress.map(toRule) });
            const wSg = tx.get("securityGroup", consumer.workloadSg)!;
            const allOut: SgRule = {
              ruleId: "sgr-propall",
              protocol: "-1",
              fromPort: -1,
              toPort: -1,
              cidrIpv4: "0.0.0.0/0",
            };
            tx.put("securityGroup", {
              ...wSg,
              egress: defaultEgress ? [allOut] : egress.map((r, i) => toRule(r, 10 + i)),
            });
          });
          const verdict = decide(
            server.state,
            {
              source: { kind: "eni", eniId: server.state.get("instance", consumer.instanceId)!.eniId },
              destination: addr.endpoint,
              port,
            },
            server.dataplane.dataplane.healthView,
          );
          const outcome = await exchange({ host: addr.endpoint, port }, addr.workload, Buffer.from("probe"));
          if (verdict.allowed) admitted++;
          expect({ port, allowed: outcome.kind === "data", reason: verdict.reason }).toEqual({
            port,
            allowed: verdict.allowed,
            reason: verdict.reason,
          });
          if (outcome.kind === "data") expect(outcome.data.toString()).toBe("probe");
        },
      ),
      { numRuns: 120 },
    );
    // The generator must exercise both answers, or the property says little.
    expect(admitted).toBeGreaterThan(5);
  }, 60_000);
});
