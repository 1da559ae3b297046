import { describe, expect, it } from "vitest";
import { rootArn } from "../../src/cloud/account.js";
import { type Ctx, DEFAULT_HOST } from "../../src/cloud/context.js";
import { createListener } from "../../src/cloud/elb-listener.js";
import { createLoadBalancer } from "../../src/cloud/load-balancer.js";
import { fixedRuntime } from "../../src/cloud/runtime.js";
import { State } from "../../src/cloud/state.js";
import { createSubnet } from "../../src/cloud/subnet.js";
import {
  createTargetGroup,
  registerTargetHealthSource,
  registerTargets,
  targetHealth,
  targetHostAddress,
} from "../../src/cloud/target-group.js";
import { createVpc } from "../../src/cloud/vpc.js";

/**
 * Target health without a data plane (no source registered for these target groups): the
 * default sequence, the placement states that override any source, and the source registry.
 */
function world() {
  const rt = fixedRuntime(new Date("2026-03-01T00:00:00Z"), 3);
  const ctx: Ctx = {
    accountId: "000000000000",
    region: "us-east-1",
    principalArn: rootArn("000000000000"),
    rt,
    host: DEFAULT_HOST,
  };
  const state = new State();
  const ids = state.transact((tx) => {
    const vpc = createVpc(tx, ctx, { cidr: "10.5.0.0/16" });
    const a = createSubnet(tx, ctx, { vpcId: vpc.id, cidr: "10.5.1.0/24", az: "us-east-1a" });
    const b = createSubnet(tx, ctx, { vpcId: vpc.id, cidr: "10.5.2.0/24", az: "us-east-1b" });
    const lb = createLoadBalancer(tx, ctx, {
      name: "unit",
      type: "network",
      scheme: "internal",
      subnets: [a.id],
    });
    const tg = createTargetGroup(tx, ctx, {
      name: "unit-tg",
      protocol: "TCP",
      port: 80,
      vpcId: vpc.id,
      targetType: "ip",
      healthCheck: {},
    });
    return { vpc: vpc.id, lb: lb.id, tg: tg.id, b: b.id };
  });
  const health = (id: string) =>
    state.transact((tx) => {
      const tg = tx.get("targetGroup", ids.tg)!;
      return targetHealth(tx, tg, tg.targets.find((t) => t.id === id)!, rt.now());
    });
  return { rt, ctx, state, ids, health };
}

describe("target health without a data plane", () => {
  it("is unused until a listener forwards, initial for one check interval, then healthy", () => {
    const { rt, ctx, state, ids, health } = world();
    state.transact((tx) =>
      registerTargets(tx, ctx, ids.tg, [
        { id: "10.5.1.10" },
        { id: "10.5.2.10" },
        { id: "127.0.0.1", port: 9000, availabilityZone: "all" },
      ]),
    );
    expect(health("10.5.1.10")).toEqual({
      state: "unused",
      reason: "Target.NotInUse",
      description: "Target group is not configured to receive traffic from the load balancer",
    });
    state.transact((tx) =>
      createListener(tx, ctx, {
        loadBalancerArn: ids.lb,
        protocol: "TCP",
        port: 80,
        actions: [{ type: "forward", targetGroupArn: ids.tg }],
      }),
    );
    const table: [string, string, string?][] = [
      ["10.5.1.10", "initial", "Elb.RegistrationInProgress"],
      // The load balancer has no node in us-east-1b.
      ["10.5.2.10", "unused", "Target.NotInUse"],
      ["127.0.0.1", "initial", "Elb.RegistrationInProgress"],
    ];
    for (const [id, s, reason] of table) expect(health(id), id).toMatchObject({ state: s, reason });
    rt.advance(29_999);
    expect(health("10.5.1.10").state).toBe("initial");
    rt.advance(1);
    expect(health("10.5.1.10")).toEqual({ state: "healthy" });
    expect(health("127.0.0.1")).toEqual({ state: "healthy" });
  });

  it("asks registered sources first and stops asking when they unregister", () => {
    const { ctx, state, ids, health } = world();
    state.transact((tx) => {
      registerTargets(tx, ctx, ids.tg, [{ id: "10.5.1.10" }]);
      createListener(tx, ctx, {
        loadBalancerArn: ids.lb,
        protocol: "TCP",
        port: 80,
        actions: [{ type: "forward", targetGroupArn: ids.tg }],
      });
    });
    const stop = registerTargetHealthSource((tg) =>
      tg.id === ids.tg
        ? { state: "unhealthy", reason: "Target.Timeout", description: "Request timed out" }
        : undefined,
    );
    const other = registerTargetHealthSource(() => ({ state: "healthy" }));
    try {
      expect(health("10.5.1.10")).toEqual({
        state: "unhealthy",
        reason: "Target.Timeout",
        description: "Request timed out",
      });
      stop();
      expect(health("10.5.1.10")).toEqual({ state: "healthy" });
    } finally {
      stop();
      other();
    }
    expect(health("10.5.1.10").state).toBe("initial");
  });

  it("maps targets to the host addresses the data plane dials", () => {
    const { ctx, state, ids } = world();
    state.transact((tx) =>
      registerTargets(tx, ctx, ids.tg, [
        { id: "10.5.1.10" },
        { id: "127.0.0.7", port: 9000, availabilityZone: "all" },
        { id: "192.168.1.1", availabilityZone: "all" },
      ]),
    );
    const hosts = state.transact((tx) => {
      const tg = tx.get("targetGroup", ids.tg)!;
      return tg.targets.map((t) => [t.id, targetHostAddress(tx, tg, t)]);
    });
    // The VPC got its slot when the load balancer's node ENI took an address.
    const slot = state.get("vpc", ids.vpc)!.cidrBlocks[0]!.slot!;
    expect(hosts).toEqual([
      ["10.5.1.10", `127.${slot}.1.10`],
      ["127.0.0.7", "127.0.0.7"],
      ["192.168.1.1", undefined],
    ]);
  });
});
