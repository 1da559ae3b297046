import {
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  DeleteVpcEndpointsCommand,
  DescribeVpcEndpointsCommand,
} from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { DELETED_RETENTION_MS, reconcileEndpoints } from "../../src/cloud/endpoint.js";
import { deleteVpcEndpoints } from "../../src/cloud/endpoint-connections.js";
import { createVpcEndpoint } from "../../src/cloud/endpoint-create.js";
import { fixedRuntime } from "../../src/cloud/runtime.js";
import { State } from "../../src/cloud/state.js";
import { createSubnet } from "../../src/cloud/subnet.js";
import { createVpc, ensureRegion } from "../../src/cloud/vpc.js";
import { rootOnFixedClock } from "../helpers/ctx.js";
import { fails } from "../helpers/errors.js";
import { startTestServer } from "../helpers/server.js";
import { until, waitForState } from "./consumer-fixtures.js";

function world() {
  const { rt, ctx } = rootOnFixedClock(7);
  const state = new State();
  const { vpcId, subnetId } = state.transact((tx) => {
    ensureRegion(tx, ctx);
    const vpc = createVpc(tx, ctx, { cidr: "10.0.0.0/16" });
    return {
      vpcId: vpc.id,
      subnetId: createSubnet(tx, ctx, { vpcId: vpc.id, cidr: "10.0.1.0/24", az: "us-east-1a" }).id,
    };
  });
  return { rt, ctx, state, vpcId, subnetId };
}

describe("the endpoint lifecycle (reconcile steps)", () => {
  it("holds pending until the data plane serves the endpoint", () => {
    const { ctx, state, rt, vpcId, subnetId } = world();
    const { endpoint } = state.transact((tx) =>
      createVpcEndpoint(tx, ctx, {
        vpcId,
        type: "Interface",
        serviceName: "com.amazonaws.us-east-1.ec2",
        subnetIds: [subnetId],
        privateDnsEnabled: false,
      }),
    );
    const serving = new Set<string>();
    const step = () =>
      state.transact((tx) => reconcileEndpoints(tx, rt, { endpointServing: (id) => serving.has(id) }));
    step();
    expect(state.get("vpcEndpoint", endpoint.id)!.state).toBe("pending");
    serving.add(endpoint.id);
    rt.advance(1000);
    step();
    const now = state.get("vpcEndpoint", endpoint.id)!;
    expect(now.state).toBe("available");
    expect(now.stateChangedAt).toBe(rt.now().toISOString());
    // Idempotent when nothing is left to do.
    const version = state.version;
    step();
    expect(state.version).toBe(version);
  });

  it("fails an endpoint whose customer service disappeared, with lastError", () => {
    const { ctx, state, rt, vpcId } = world();
    state.transact((tx) => {
      const base = createVpcEndpoint(tx, ctx, {
        vpcId,
        type: "Interface",
        serviceName: "com.amazonaws.us-east-1.ec2",
        privateDnsEnabled: false,
      }).endpoint;
      // As if the endpoint had been made to a customer service that is gone since.
      tx.put("vpcEndpoint", {
        ...base,
        id: "vpce-0aaaaaaaaaaaaaaaa",
        serviceName: "com.amazonaws.vpce.us-east-1.vpce-svc-0bbbbbbbbbbbbbbbb",
        serviceId: "vpce-svc-0bbbbbbbbbbbbbbbb",
      });
    });
    state.transact((tx) => reconcileEndpoints(tx, rt, { endpointServing: () => true }));
    const e = state.get("vpcEndpoint", "vpce-0aaaaaaaaaaaaaaaa")!;
    expect(e.state).toBe("failed");
    expect(e.lastError).toEqual({
      code: "InvalidServiceName",
      message:
        "The Vpc Endpoint Service 'com.amazonaws.vpce.us-east-1.vpce-svc-0bbbbbbbbbbbbbbbb' does not exist",
    });
  });

  it("moves deleting to deleted and purges deleted endpoints after the retention time", () => {
    const { ctx, state, rt, vpcId } = world();
    const { endpoint } = state.transact((tx) =>
      createVpcEndpoint(tx, ctx, { vpcId, serviceName: "com.amazonaws.us-east-1.s3" }),
    );
    expect(endpoint.state).toBe("available");
    state.transact((tx) => deleteVpcEndpoints(tx, ctx, [endpoint.id]));
    expect(state.get("vpcEndpoint", endpoint.id)!.state).toBe("deleting");
    const step = () => state.transact((tx) => reconcileEndpoints(tx, rt, { endpointServing: () => true }));
    step();
    expect(state.get("vpcEndpoint", endpoint.id)!.state).toBe("deleted");
    rt.advance(DELETED_RETENTION_MS - 1);
    step();
    expect(state.get("vpcEndpoint", endpoint.id)).toBeDefined();
    rt.advance(1);
    step();
    expect(state.get("vpcEndpoint", endpoint.id)).toBeUndefined();
  });
});

describe("deleted endpoints through the API", () => {
  it("stay visible for ten minutes of the injected clock, then vanish", async () => {
    const rt = fixedRuntime(new Date(), 3);
    // Open auth: the signed requests carry the real time while the server's clock jumps.
    const srv = await startTestServer({ runtime: rt, auth: "open" });
    try {
      const ec2 = srv.ec2();
      const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }))).Vpc!.VpcId!;
      const id = (
        await ec2.send(
          new CreateVpcEndpointCommand({ VpcId: vpcId, ServiceName: "com.amazonaws.us-east-1.dynamodb" }),
        )
      ).VpcEndpoint!.VpcEndpointId!;
      await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [id] }));
      await waitForState(ec2, id, "deleted");
      rt.advance(DELETED_RETENTION_MS - 60_000);
      expect(
        (await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [id] }))).VpcEndpoints,
      ).toHaveLength(1);
      rt.advance(60_000);
      expect((await fails(ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [id] })))).name).toBe(
        "InvalidVpcEndpointId.NotFound",
      );
      await until(async () => (srv.state.get("vpcEndpoint", id) ? undefined : true), 5000, "the purge");
    } finally {
      await srv.stop();
    }
  });
});
