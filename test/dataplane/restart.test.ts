import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type AdminTarget, adminFetch } from "../helpers/admin.js";
import { startTestServer } from "../helpers/server.js";
import { closedPort, echo, type Listening, listen } from "../net/sockets.js";
import {
  addresses,
  allowFromGroup,
  exchange,
  makeConsumer,
  makeProvider,
  until,
  waitEndpoint,
} from "./world.js";

interface Row {
  vpcEndpointId: string;
  bytesIn: number;
  bytesOut: number;
  newConnections: number;
  activeConnections: number;
  resets: number;
  dropped: number;
}

async function endpointRow(server: AdminTarget, id: string): Promise<Row | undefined> {
  const s = (await (await adminFetch(server, "/_privlink/stats")).json()) as { endpoints: Row[] };
  return s.endpoints.find((e) => e.vpcEndpointId === id);
}

describe("restart and faults", () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it("rebuilds listeners from the store and keeps the counters across a restart", async () => {
    const home = mkdtempSync(join(tmpdir(), "privlink-restart-"));
    cleanup.push(() => rmSync(home, { recursive: true, force: true }));
    const target: Listening = await listen(echo);
    cleanup.push(() => target.close());
    let server = await startTestServer({ home });
    const provider = await makeProvider(server, {
      accountId: "123500000001",
      targets: [{ host: "127.0.0.1", port: target.port }],
      allow: ["123500000002"],
      acceptanceRequired: false,
    });
    const consumer = await makeConsumer(server, "123500000002", provider.serviceName);
    await allowFromGroup(consumer, provider.listenerPort);
    await waitEndpoint(consumer, "available");
    const addr = addresses(server, consumer);
    const to = { host: addr.endpoint, port: provider.listenerPort };
    expect(await exchange(to, addr.workload, Buffer.from("before"))).toEqual({
      kind: "data",
      data: Buffer.from("before"),
    });
    await server.stop();
    expect((await exchange(to, addr.workload, Buffer.from("down"))).kind).toBe("refused");

    server = await startTestServer({ home });
    cleanup.push(() => server.stop());
    expect(await exchange(to, addr.workload, Buffer.from("after!"))).toEqual({
      kind: "data",
      data: Buffer.from("after!"),
    });
    const row = await until(async () => {
      const r = await endpointRow(server, consumer.endpointId);
      return r && r.newConnections === 2 ? r : undefined;
    }, "counters");
    expect(row).toMatchObject({ bytesIn: 12, bytesOut: 12, newConnections: 2, activeConnections: 0 });
  });

  it("resets the client when the only target is down, counts it, and keeps serving other endpoints", async () => {
    const server = await startTestServer();
    cleanup.push(() => server.stop());
    const good: Listening = await listen(echo);
    cleanup.push(() => good.close());
    const down = await closedPort();
    const broken = await makeProvider(server, {
      accountId: "123600000001",
      targets: [{ host: "127.0.0.1", port: down }],
      allow: ["123600000002"],
      acceptanceRequired: false,
    });
    const fine = await makeProvider(server, {
      accountId: "123600000003",
      targets: [{ host: "127.0.0.1", port: good.port }],
      allow: ["123600000002"],
      acceptanceRequired: false,
      cidr: "10.5.0.0/16",
    });
    const a = await makeConsumer(server, "123600000002", broken.serviceName);
    await allowFromGroup(a, broken.listenerPort);
    await waitEndpoint(a, "available");
    const addrA = addresses(server, a);
    // The NLB fails open (no healthy target), so the flow reaches the dead target and is reset.
    const out = await exchange(
      { host: addrA.endpoint, port: broken.listenerPort },
      addrA.workload,
      Buffer.from("x"),
    );
    expect(out.kind).toBe("refused");
    const row = await until(async () => {
      const r = await endpointRow(server, a.endpointId);
      return r && r.activeConnections === 0 && r.resets === 1 ? r : undefined;
    }, "reset counted");
    expect(row).toMatchObject({ newConnections: 1, resets: 1 });

    const { CreateVpcEndpointCommand } = await import("@aws-sdk/client-ec2");
    const ep = await a.ec2.send(
      new CreateVpcEndpointCommand({
        VpcEndpointType: "Interface",
        VpcId: a.vpcId,
        ServiceName: fine.serviceName,
        SubnetIds: [a.subnetId],
        SecurityGroupIds: [a.endpointSg],
      }),
    );
    const b = { ...a, endpointId: ep.VpcEndpoint!.VpcEndpointId! };
    await waitEndpoint(b, "available");
    const addrB = addresses(server, b);
    expect(
      await exchange({ host: addrB.endpoint, port: fine.listenerPort }, addrB.workload, Buffer.from("ok")),
    ).toEqual({ kind: "data", data: Buffer.from("ok") });
  });
});
