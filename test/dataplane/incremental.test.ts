import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSubnetCommand,
  CreateVpcEndpointCommand,
  DeleteVpcEndpointsCommand,
  ModifyVpcEndpointCommand,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { CreateListenerCommand, DeleteListenerCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eniHostAddress } from "../../src/cloud/eni.js";
import type { ReconcilePass } from "../../src/net/dataplane.js";
import { adminFetch } from "../helpers/admin.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { echo, type Listening, listen } from "../net/sockets.js";
import {
  addresses,
  allowFromGroup,
  type Consumer,
  clients,
  exchange,
  makeConsumer,
  makeProvider,
  type Provider,
  until,
  waitEndpoint,
} from "./world.js";

/**
 * The data plane recomputes, per commit, only the endpoints whose listeners read a changed
 * object. Two consumers of one service: every change below touches one of them (or the service,
 * which touches both), and a full pass afterwards finds nothing the incremental path missed.
 */
describe("incremental reconciliation", () => {
  let server: TestServer;
  let target: Listening;
  let provider: Provider;
  let a: Consumer;
  let b: Consumer;
  let passes: ReconcilePass[] = [];
  let unobserve: () => void = () => undefined;

  const dp = () => server.dataplane.dataplane;
  const hostOfEni = (eniId: string) => eniHostAddress(server.state, server.state.get("eni", eniId)!)!;
  const reached = async (c: Consumer, host: string, port: number) =>
    (await exchange({ host, port }, addresses(server, c).workload, Buffer.from("x"))).kind === "data";
  /** Endpoints recomputed by incremental passes since the test began. */
  const recomputed = () =>
    new Set(passes.filter((p) => p.kind === "incremental").flatMap((p) => p.endpointIds));
  const fullPasses = () => passes.filter((p) => p.kind === "full").length;

  async function expectNoDrift(): Promise<void> {
    await dp().reconcile({ full: true });
    expect(dp().reconcileStats.drift).toBe(0);
  }

  beforeAll(async () => {
    server = await startTestServer();
    target = await listen(echo);
    provider = await makeProvider(server, {
      accountId: "131300000001",
      targets: [{ host: "127.0.0.1", port: target.port }],
      allow: ["131300000002", "131300000003"],
      acceptanceRequired: false,
    });
    a = await makeConsumer(server, "131300000002", provider.serviceName, "10.1.0.0/16");
    b = await makeConsumer(server, "131300000003", provider.serviceName, "10.2.0.0/16");
    for (const c of [a, b]) {
      await allowFromGroup(c, provider.listenerPort);
      await waitEndpoint(c, "available");
    }
  });

  afterAll(async () => {
    await server?.stop();
    await target?.close();
  });

  beforeEach(() => {
    passes = [];
    unobserve = dp().observe((p) => passes.push(p));
  });
  afterEach(() => unobserve());

  it("adds a subnet's listener to one endpoint without recomputing the other", async () => {
    const subnet = await a.ec2.send(
      new CreateSubnetCommand({ VpcId: a.vpcId, CidrBlock: "10.1.2.0/24", AvailabilityZone: "us-east-1b" }),
    );
    await a.ec2.send(
      new ModifyVpcEndpointCommand({ VpcEndpointId: a.endpointId, AddSubnetIds: [subnet.Subnet!.SubnetId!] }),
    );
    const enis = server.state.get("vpcEndpoint", a.endpointId)!.enis;
    expect(enis).toHaveLength(2);
    const added = hostOfEni(enis[1]!.eniId);
    await until(async () => ((await reached(a, added, provider.listenerPort)) ? true : undefined), added);
    expect(fullPasses()).toBe(0);
    expect([...recomputed()]).toEqual([a.endpointId]);
    expect(passes.find((p) => p.endpointIds.includes(a.endpointId))?.changed).toBe(1);
    await expectNoDrift();
  });

  it("enforces a security group change on one endpoint at once, with no listener work", async () => {
    const rule = {
      IpProtocol: "tcp",
      FromPort: provider.listenerPort,
      ToPort: provider.listenerPort,
      UserIdGroupPairs: [{ GroupId: a.workloadSg }],
    };
    const ep = (c: Consumer) => addresses(server, c).endpoint;
    await a.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: a.endpointSg, IpPermissions: [rule] }));
    // The decision cache is keyed by the state version: the very next connection is decided anew.
    expect(await reached(a, ep(a), provider.listenerPort)).toBe(false);
    const flows = (await (await adminFetch(server, `/_privlink/flows`)).json()) as {
      flows: { reason: string; vpcEndpointId: string }[];
    };
    expect(flows.flows.at(-1)).toMatchObject({
      vpcEndpointId: a.endpointId,
      reason: expect.stringMatching(/^security group .* has no inbound rule allowing tcp\/7070/),
    });
    expect(await reached(b, ep(b), provider.listenerPort)).toBe(true);
    await a.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: a.endpointSg, IpPermissions: [rule] }),
    );
    expect(await reached(a, ep(a), provider.listenerPort)).toBe(true);
    expect(fullPasses()).toBe(0);
    expect(recomputed().has(b.endpointId)).toBe(false);
    await expectNoDrift();
  });

  it("opens a new NLB listener's port on every endpoint of the service, and closes it with the listener", async () => {
    const port = 7171;
    for (const c of [a, b]) await allowFromGroup(c, port);
    const { elb } = clients(server, provider.creds);
    const created = await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: provider.nlbArn,
        Protocol: "TCP",
        Port: port,
        DefaultActions: [{ Type: "forward", TargetGroupArn: provider.tgArn }],
      }),
    );
    for (const c of [a, b]) {
      const host = addresses(server, c).endpoint;
      await until(async () => ((await reached(c, host, port)) ? true : undefined), `${host}:${port}`);
    }
    expect(recomputed()).toEqual(new Set([a.endpointId, b.endpointId]));
    const before = dp().listenerCount;
    await elb.send(new DeleteListenerCommand({ ListenerArn: created.Listeners![0]!.ListenerArn! }));
    // Three endpoint ENIs (a has two subnets by now) each lose their 7171 listener.
    await until(() => (dp().listenerCount === before - 3 ? true : undefined), "listeners closed");
    const refused = await exchange(
      { host: addresses(server, b).endpoint, port },
      addresses(server, b).workload,
      Buffer.from("x"),
    );
    expect(refused).toEqual({ kind: "refused", code: "ECONNREFUSED" });
    expect(fullPasses()).toBe(0);
    await expectNoDrift();
  });

  it("moves an address freed by a deleted endpoint to the endpoint created after it", async () => {
    const old = server.state.get("vpcEndpoint", b.endpointId)!;
    const oldEni = server.state.get("eni", old.enis[0]!.eniId)!;
    const oldHost = hostOfEni(oldEni.id);
    await b.ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [b.endpointId] }));
    const created = await b.ec2.send(
      new CreateVpcEndpointCommand({
        VpcEndpointType: "Interface",
        VpcId: b.vpcId,
        ServiceName: provider.serviceName,
        SubnetIds: [b.subnetId],
        SecurityGroupIds: [b.endpointSg],
      }),
    );
    const next = { ...b, endpointId: created.VpcEndpoint!.VpcEndpointId! };
    await waitEndpoint(next, "available");
    const nextEni = server.state.get(
      "eni",
      server.state.get("vpcEndpoint", next.endpointId)!.enis[0]!.eniId,
    )!;
    // Addresses are handed out lowest-free: the new interface takes the deleted one's.
    expect(nextEni.privateIp).toBe(oldEni.privateIp);
    expect(await reached(next, oldHost, provider.listenerPort)).toBe(true);
    expect(recomputed()).toEqual(new Set([b.endpointId, next.endpointId]));
    expect(fullPasses()).toBe(0);
    await expectNoDrift();
    b = next;
  });
});
