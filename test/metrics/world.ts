import type { Socket } from "node:net";
import type { Runtime } from "../../src/cloud/runtime.js";
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
import type { Listening } from "../net/sockets.js";

/** Real time plus an offset the test moves forward: lifecycles run, minutes can be closed at will. */
export function shiftedRuntime(base: Runtime): Runtime & { advance(ms: number): void } {
  let offset = 0;
  return {
    ...base,
    now: () => new Date(Date.now() + offset),
    advance: (ms) => {
      offset += ms;
    },
  };
}

/** A target that reads everything and answers nothing: the bytes an endpoint carries are exactly the bytes sent. */
export const sink = (socket: Socket) => {
  socket.resume();
  socket.once("end", () => socket.end());
};

export interface MeteredWorld {
  server: TestServer;
  provider: Provider;
  consumer: Consumer;
  target: Listening;
  addr: { endpoint: string; workload: string };
  /** Sends `n` bytes from the workload through the endpoint and waits until the meter has them. */
  send(n: number): Promise<void>;
  close(): Promise<void>;
}

/** A provider (111111111111) with a sink target, a consumer (222222222222) with an available endpoint to it. */
export async function meteredWorld(opts: Parameters<typeof startTestServer>[0] = {}): Promise<MeteredWorld> {
  const server = await startTestServer(opts);
  const {
    echoServer: target,
    provider,
    hub: consumer,
  } = await echoHub(server, { provider: "111111111111", consumer: "222222222222" }, undefined, sink);
  await allowFromGroup(consumer, provider.listenerPort);
  const addr = addresses(server, consumer);
  await until(() => (server.dataplane.dataplane.listenerCount > 0 ? true : undefined), "listener");
  const counted = () =>
    server.dataplane.dataplane.meter
      .snapshot()
      .endpoints.find((e) => e.vpcEndpointId === consumer.endpointId);
  return {
    server,
    provider,
    consumer,
    target,
    addr,
    async send(n) {
      const before = counted()?.bytesIn ?? 0;
      const out = await exchange(
        { host: addr.endpoint, port: provider.listenerPort },
        addr.workload,
        Buffer.alloc(n, 7),
      );
      if (out.kind !== "data") throw new Error(`the flow was refused: ${out.code}`);
      await until(
        () =>
          (counted()?.bytesIn ?? 0) >= before + n && counted()?.activeConnections === 0 ? true : undefined,
        "metered bytes",
      );
    },
    async close() {
      await server.stop();
      await target.close();
    },
  };
}
