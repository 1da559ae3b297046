/**
 * The lifecycle steps look at the objects that can move (pending, deleting and deleted
 * endpoints; Pending services and names pending verification), not at every object: the work of
 * a run is counted, never timed, and must not grow with the store.
 */

import { describe, expect, it } from "vitest";
import type { Ctx } from "../../src/cloud/context.js";
import { DELETED_RETENTION_MS, movingEndpoints } from "../../src/cloud/endpoint.js";
import { deleteVpcEndpoints } from "../../src/cloud/endpoint-connections.js";
import { createVpcEndpoint } from "../../src/cloud/endpoint-create.js";
import { createService } from "../../src/cloud/endpoint-service.js";
import { ALWAYS_READY, lifecycleExamined, runLifecycle } from "../../src/cloud/lifecycle.js";
import { createLoadBalancer } from "../../src/cloud/load-balancer.js";
import { State } from "../../src/cloud/state.js";
import { createSubnet } from "../../src/cloud/subnet.js";
import type { Kind } from "../../src/cloud/types.js";
import { createVpc, ensureRegion } from "../../src/cloud/vpc.js";
import { rootOnFixedClock } from "../helpers/ctx.js";

const PER_VPC = 20;

function world(endpoints: number) {
  const { rt, ctx } = rootOnFixedClock(11);
  const state = new State();
  const nets: { vpcId: string; subnetId: string }[] = [];
  for (let made = 0, n = 1; made < endpoints; n++) {
    const net = state.transact((tx) => {
      ensureRegion(tx, ctx);
      const vpc = createVpc(tx, ctx, { cidr: `10.${n}.0.0/16` });
      const subnet = createSubnet(tx, ctx, { vpcId: vpc.id, cidr: `10.${n}.1.0/24`, az: "us-east-1a" });
      return { vpcId: vpc.id, subnetId: subnet.id };
    });
    nets.push(net);
    const batch = Math.min(PER_VPC, endpoints - made);
    state.transact((tx) => {
      for (let i = 0; i < batch; i++) create(tx, ctx, net);
    });
    made += batch;
  }
  const run = () => state.transact((tx) => runLifecycle(tx, rt, ALWAYS_READY));
  run();
  return { rt, ctx, state, nets, run };
}

function create(
  tx: Parameters<typeof createVpcEndpoint>[0],
  ctx: Ctx,
  net: { vpcId: string; subnetId: string },
) {
  return createVpcEndpoint(tx, ctx, {
    vpcId: net.vpcId,
    type: "Interface",
    serviceName: "com.amazonaws.us-east-1.ec2",
    subnetIds: [net.subnetId],
    privateDnsEnabled: false,
  }).endpoint;
}

/** Objects of `kind` the steps looked at during `fn`. */
function examined(kind: Kind, fn: () => void): number {
  const before = lifecycleExamined(kind);
  fn();
  return lifecycleExamined(kind) - before;
}

describe("lifecycle work", () => {
  it.each([10, 400])("examines the moving endpoints only, with %i endpoints in the store", (size) => {
    const w = world(size);
    expect(w.state.count("vpcEndpoint")).toBe(size);
    expect([...w.state.all("vpcEndpoint")].every((e) => e.state === "available")).toBe(true);
    expect(movingEndpoints.size(w.state)).toBe(0);
    expect(examined("vpcEndpoint", w.run)).toBe(0);

    const e = w.state.transact((tx) => create(tx, w.ctx, w.nets[0]!));
    const steps: [string, number, string | undefined][] = [];
    const step = (what: string) => {
      const n = examined("vpcEndpoint", w.run);
      steps.push([what, n, w.state.get("vpcEndpoint", e.id)?.state]);
    };
    step("created");
    step("nothing to do");
    w.state.transact((tx) => deleteVpcEndpoints(tx, w.ctx, [e.id]));
    step("deleted");
    step("retained");
    w.rt.advance(DELETED_RETENTION_MS);
    step("retention over");
    step("gone");
    expect(steps).toEqual([
      ["created", 1, "available"],
      ["nothing to do", 0, "available"],
      ["deleted", 1, "deleted"],
      ["retained", 1, "deleted"],
      ["retention over", 1, undefined],
      ["gone", 0, undefined],
    ]);
  });

  it("moves a Pending service once its load balancer is active, then stops looking at it", () => {
    const w = world(10);
    w.state.transact((tx) => {
      const net = w.nets[0]!;
      const lb = createLoadBalancer(tx, w.ctx, {
        name: "nlb",
        type: "network",
        scheme: "internal",
        subnets: [net.subnetId],
      });
      createService(tx, w.ctx, { networkLoadBalancerArns: [lb.id], acceptanceRequired: false });
    });
    let runs = 0;
    let looked = 0;
    while ([...w.state.all("endpointService")][0]!.state === "Pending" && runs++ < 3)
      looked += examined("endpointService", w.run);
    expect([...w.state.all("endpointService")][0]!.state).toBe("Available");
    expect(looked).toBe(runs);
    expect(examined("endpointService", w.run)).toBe(0);
  });

  it("picks up moving endpoints loaded at start-up, which no commit announced", () => {
    const source = world(3);
    const e = source.state.transact((tx) => create(tx, source.ctx, source.nets[0]!));
    const loaded = new State();
    for (const kind of ["vpc", "subnet", "eni", "vpcEndpoint", "securityGroup", "routeTable"] as const)
      for (const v of source.state.all(kind)) loaded.load(kind, (v as { id: string }).id, v, 5);
    expect(loaded.get("vpcEndpoint", e.id)!.state).toBe("pending");
    loaded.transact((tx) => runLifecycle(tx, source.rt, ALWAYS_READY));
    expect(loaded.get("vpcEndpoint", e.id)!.state).toBe("available");
  });
});
