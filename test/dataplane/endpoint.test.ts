import { createHash, randomBytes } from "node:crypto";
import { connect, createServer, type Socket } from "node:net";
import { DeleteVpcEndpointsCommand, RevokeSecurityGroupIngressCommand } from "@aws-sdk/client-ec2";
import { V2ProxyProtocol } from "proxy-protocol-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { relayStats } from "../../src/net/relay.js";
import { adminFetch } from "../helpers/admin.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { closedPort, collect, echo, eventually, type Listening, listen } from "../net/sockets.js";
import {
  accept,
  addresses,
  allowFromGroup,
  type Consumer,
  exchange,
  makeConsumer,
  makeProvider,
  type Provider,
  until,
  waitEndpoint,
} from "./world.js";

interface Stats {
  endpoints: {
    vpcEndpointId: string;
    bytesIn: number;
    bytesOut: number;
    newConnections: number;
    activeConnections: number;
    resets: number;
    dropped: number;
  }[];
}

async function stats(server: TestServer): Promise<Stats> {
  return (await (await adminFetch(server, `/_privlink/stats`)).json()) as Stats;
}

describe("an endpoint to a service in another account carries real bytes", () => {
  let server: TestServer;
  let echoServer: Listening;
  let provider: Provider;
  let consumer: Consumer;
  let addr: { endpoint: string; workload: string };

  beforeAll(async () => {
    server = await startTestServer();
    echoServer = await listen(echo);
    provider = await makeProvider(server, {
      accountId: "111111111111",
      targets: [{ host: "127.0.0.1", port: echoServer.port }],
      allow: ["222222222222"],
    });
    consumer = await makeConsumer(server, "222222222222", provider.serviceName);
    addr = addresses(server, consumer);
  });

  afterAll(async () => {
    await server?.stop();
    await echoServer?.close();
  });

  const to = () => ({ host: addr.endpoint, port: provider.listenerPort });

  it("refuses while pendingAcceptance, with the reason recorded", async () => {
    await waitEndpoint(consumer, "pendingAcceptance");
    await allowFromGroup(consumer, provider.listenerPort);
    await until(() => (server.dataplane.dataplane.listenerCount > 0 ? true : undefined), "listener");
    const out = await exchange(to(), addr.workload, Buffer.from("hello"));
    expect(out.kind).toBe("refused");
    const flows = (await (await adminFetch(server, `/_privlink/flows`)).json()) as {
      flows: { reason: string }[];
    };
    expect(flows.flows.at(-1)?.reason).toMatch(/pendingAcceptance/);
  });

  it("admits after Accept, through a rule that references the workload's security group", async () => {
    await accept(server, provider, consumer.endpointId);
    await waitEndpoint(consumer, "available");
    const out = await exchange(to(), addr.workload, Buffer.from("hello"));
    expect(out).toEqual({ kind: "data", data: Buffer.from("hello") });
  });

  it("carries 256 MiB intact in both directions", async () => {
    const splicedBefore = relayStats.splicedFlows;
    const chunk = randomBytes(1 << 20);
    const sent = createHash("sha256");
    const got = createHash("sha256");
    const socket = connect({ ...to(), localAddress: addr.workload, allowHalfOpen: true });
    let received = 0;
    socket.on("data", (c: Buffer) => {
      got.update(c);
      received += c.length;
    });
    const done = new Promise<void>((resolve, reject) => {
      socket.on("end", () => resolve());
      socket.on("error", reject);
    });
    await new Promise((r) => socket.once("connect", r));
    for (let i = 0; i < 256; i++) {
      sent.update(chunk);
      if (!socket.write(chunk)) await new Promise((r) => socket.once("drain", r));
    }
    socket.end();
    await done;
    expect(received).toBe(256 << 20);
    expect(got.digest("hex")).toBe(sent.digest("hex"));
    const s = await stats(server);
    const row = s.endpoints.find((e) => e.vpcEndpointId === consumer.endpointId)!;
    expect(row.bytesIn).toBeGreaterThanOrEqual(256 << 20);
    expect(row.bytesOut).toBeGreaterThanOrEqual(256 << 20);
    expect(row.dropped).toBeGreaterThanOrEqual(1);
    // On Linux the flow went through the splice addon (src/net/splice.ts), metered all the same.
    if (process.platform === "linux") expect(relayStats.splicedFlows).toBe(splicedBefore + 1);
  }, 60_000);

  it("refuses when the security group has no inbound rule for the workload", async () => {
    await consumer.ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: consumer.endpointSg,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: provider.listenerPort,
            ToPort: provider.listenerPort,
            UserIdGroupPairs: [{ GroupId: consumer.workloadSg }],
          },
        ],
      }),
    );
    expect((await exchange(to(), addr.workload, Buffer.from("x"))).kind).toBe("refused");
    const flows = (await (await adminFetch(server, `/_privlink/flows`)).json()) as {
      flows: { reason: string }[];
    };
    expect(flows.flows.at(-1)?.reason).toMatch(
      /no inbound rule allowing tcp\/7070 from 10\.1\.1\.\d+ \(eni-/,
    );
    await allowFromGroup(consumer, provider.listenerPort);
  });

  it("resets a live connection when the endpoint is deleted, and stops listening", async () => {
    const socket: Socket = connect({ ...to(), localAddress: addr.workload, allowHalfOpen: true });
    await new Promise((r) => socket.once("connect", r));
    socket.write("ping");
    await new Promise((r) => socket.once("data", r));
    const result = collect(socket);
    await consumer.ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [consumer.endpointId] }));
    const r = await result;
    expect(r.ended).toBe(false);
    expect(r.error?.code).toBe("ECONNRESET");
    await eventually(async () => (await exchange(to(), addr.workload, Buffer.from("x"))).kind === "refused");
    const row = (await stats(server)).endpoints.find((e) => e.vpcEndpointId === consumer.endpointId)!;
    expect(row.activeConnections).toBe(0);
    expect(row.resets).toBeGreaterThanOrEqual(1);
  });
});

describe("PROXY protocol v2", () => {
  let server: TestServer;
  let target: Listening;
  const headers: Buffer[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    target = await listen((s) => {
      const chunks: Buffer[] = [];
      s.on("data", (c: Buffer) => chunks.push(c));
      s.on("end", () => {
        headers.push(Buffer.concat(chunks));
        s.end("ok");
      });
    });
  });
  afterAll(async () => {
    await server?.stop();
    await target?.close();
  });

  it("gives the target the client's private address and the endpoint ID", async () => {
    const provider = await makeProvider(server, {
      accountId: "333333333333",
      targets: [{ host: "127.0.0.1", port: target.port }],
      allow: ["444444444444"],
      acceptanceRequired: false,
      proxyProtocol: true,
    });
    const consumer = await makeConsumer(server, "444444444444", provider.serviceName);
    await allowFromGroup(consumer, provider.listenerPort);
    await waitEndpoint(consumer, "available");
    const addr = addresses(server, consumer);
    const out = await exchange(
      { host: addr.endpoint, port: provider.listenerPort },
      addr.workload,
      Buffer.from("payload"),
    );
    expect(out).toEqual({ kind: "data", data: Buffer.from("ok") });
    const raw = headers.at(-1)!;
    const parsed = V2ProxyProtocol.parse(new Uint8Array(raw));
    const instanceEni = server.state.get("eni", server.state.get("instance", consumer.instanceId)!.eniId)!;
    const endpointEni = server.state.get(
      "eni",
      server.state.get("vpcEndpoint", consumer.endpointId)!.enis[0]!.eniId,
    )!;
    const proxy = parsed.proxyAddress as unknown as {
      sourceAddress: { address: number[] };
      destinationAddress: { address: number[] };
      destinationPort: number;
    };
    expect(proxy.sourceAddress.address.join(".")).toBe(instanceEni.privateIp);
    expect(proxy.destinationAddress.address.join(".")).toBe(endpointEni.privateIp);
    expect(proxy.destinationPort).toBe(provider.listenerPort);
    const tlv = Buffer.from(parsed.data ?? []);
    expect(tlv[0]).toBe(0xea);
    expect(tlv[3]).toBe(0x01);
    // proxy-protocol-js leaves the TLVs and the payload after them in `data`.
    expect(tlv.subarray(4, 3 + tlv.readUInt16BE(1)).toString("ascii")).toBe(consumer.endpointId);
    expect(raw.subarray(raw.length - "payload".length).toString()).toBe("payload");
  });
});

describe("target health", () => {
  let server: TestServer;
  const servers: Listening[] = [];
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
    for (const s of servers) await s.close();
  });

  it("sends nothing to an unhealthy target and round-robins over the healthy ones", async () => {
    const hits = [0, 0, 0];
    // Health checks connect too: a hit is a connection that carries bytes.
    const counting = (i: number) => (s: Socket) => {
      s.once("data", () => hits[i]!++);
      echo(s);
    };
    servers.push(await listen(counting(0)), await listen(counting(1)));
    // Target 2 is down when it is registered, so its first check fails; it comes back later
    // (a live process) but stays out of rotation until its checks pass.
    const downPort = await closedPort();
    const provider = await makeProvider(server, {
      accountId: "555555555555",
      targets: [
        ...servers.map((s) => ({ host: "127.0.0.1", port: s.port })),
        { host: "127.0.0.1", port: downPort },
      ],
      allow: ["666666666666"],
      acceptanceRequired: false,
    });
    const consumer = await makeConsumer(server, "666666666666", provider.serviceName);
    await allowFromGroup(consumer, provider.listenerPort);
    await waitEndpoint(consumer, "available");
    const dp = server.dataplane.dataplane;
    const health = (port: number) => dp.healthOf(provider.tgArn, { id: "127.0.0.1", port });
    await until(
      () =>
        health(servers[0]!.port) === "healthy" && health(servers[1]!.port) === "healthy" ? true : undefined,
      "healthy targets",
    );
    expect(health(downPort)).not.toBe("healthy");
    servers.push(await listenOn(downPort, counting(2)));
    const addr = addresses(server, consumer);
    for (let i = 0; i < 10; i++) {
      const out = await exchange(
        { host: addr.endpoint, port: provider.listenerPort },
        addr.workload,
        Buffer.from(`m${i}`),
      );
      expect(out).toEqual({ kind: "data", data: Buffer.from(`m${i}`) });
    }
    expect(hits).toEqual([5, 5, 0]);
  });
});

function listenOn(port: number, onConnection: (s: Socket) => void): Promise<Listening> {
  const server = createServer({ allowHalfOpen: true }, (s) => {
    s.on("error", () => undefined);
    onConnection(s);
  });
  return new Promise((resolve) =>
    server.listen(port, "127.0.0.1", () =>
      resolve({
        server,
        port,
        host: "127.0.0.1",
        accepted: [],
        close: () => new Promise<void>((r) => server.close(() => r())),
      }),
    ),
  );
}
