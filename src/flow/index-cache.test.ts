/**
 * The per-version indexes answer exactly what a scan of the same state answers, after every
 * kind of change that moves a subnet's route table or network ACL or a host address's VPC:
 * no stale answer survives a commit.
 */
import { describe, expect, it } from "vitest";
import { ensureDefaultAccount } from "../cloud/account.js";
import { privateIpOfHost } from "../cloud/addressing.js";
import type { Ctx } from "../cloud/context.js";
import { createEni } from "../cloud/eni.js";
import { createNetworkAcl, networkAclOf, replaceNetworkAclAssociation } from "../cloud/network-acl.js";
import { associateRouteTable, createRouteTable, disassociateRouteTable } from "../cloud/route-table.js";
import { systemRuntime } from "../cloud/runtime.js";
import { State } from "../cloud/state.js";
import { createSubnet, deleteSubnet } from "../cloud/subnet.js";
import type { RouteTable, Subnet } from "../cloud/types.js";
import { createVpc, deleteVpc, ensureRegion } from "../cloud/vpc.js";
import { stateIndex } from "./index-cache.js";

const ctx: Ctx = {
  accountId: "000000000000",
  region: "us-east-1",
  principalArn: "arn:aws:iam::000000000000:root",
  rt: systemRuntime,
  host: { slots: { min: 1, max: 254 } },
};

/** The scan the index replaced (route.ts before it was indexed). */
function scanRouteTable(state: State, subnet: Subnet): RouteTable | undefined {
  let main: RouteTable | undefined;
  for (const t of state.all("routeTable")) {
    if (t.vpcId !== subnet.vpcId) continue;
    for (const a of t.associations) {
      if (a.subnetId === subnet.id) return t;
      if (a.main) main = t;
    }
  }
  return main;
}

function agree(state: State): void {
  const index = stateIndex(state);
  for (const s of state.all("subnet")) {
    expect(index.routeTableOf(s)?.id).toBe(scanRouteTable(state, s)?.id);
    expect(index.networkAclOf(s)).toEqual(networkAclOf(state, s));
  }
  for (const slot of [1, 2, 3, 4])
    for (const host of [`127.${slot}.0.10`, `127.${slot}.1.4`, `127.${slot}.255.255`])
      expect(index.privateIpOfHost(host)).toEqual(privateIpOfHost(state, host));
}

describe("stateIndex", () => {
  it("answers as the scans do after every change", () => {
    const state = new State();
    state.transact((tx) => {
      ensureDefaultAccount(tx, systemRuntime);
      ensureRegion(tx, ctx);
    });
    const v = state.transact((tx) => createVpc(tx, ctx, { cidr: "10.0.0.0/16" }));
    const [a, b] = state.transact((tx) => [
      createSubnet(tx, ctx, { vpcId: v.id, cidr: "10.0.1.0/24", az: "us-east-1a" }),
      createSubnet(tx, ctx, { vpcId: v.id, cidr: "10.0.2.0/24", az: "us-east-1b" }),
    ]);
    agree(state);
    // A host address appears when the block first gets a slot (its first interface).
    state.transact((tx) => createEni(tx, ctx, { subnet: a }));
    agree(state);
    const rtb = state.transact((tx) => createRouteTable(tx, ctx, { vpcId: v.id }));
    const assoc = state.transact((tx) => associateRouteTable(tx, ctx, rtb.id, a.id));
    agree(state);
    expect(stateIndex(state).routeTableOf(a)?.id).toBe(rtb.id);
    state.transact((tx) => disassociateRouteTable(tx, ctx, assoc));
    agree(state);
    expect(stateIndex(state).routeTableOf(a)?.id).not.toBe(rtb.id);
    const acl = state.transact((tx) => createNetworkAcl(tx, ctx, { vpcId: v.id }));
    const implicit = networkAclOf(state, b)!.associationId;
    state.transact((tx) => replaceNetworkAclAssociation(tx, ctx, implicit, acl.id));
    agree(state);
    expect(stateIndex(state).networkAclOf(b)?.acl.id).toBe(acl.id);
    // A second VPC takes the next slot; deleting the first frees its slot for a third.
    const w = state.transact((tx) => createVpc(tx, ctx, { cidr: "10.1.0.0/16" }));
    const c = state.transact((tx) =>
      createSubnet(tx, ctx, { vpcId: w.id, cidr: "10.1.1.0/24", az: "us-east-1a" }),
    );
    state.transact((tx) => createEni(tx, ctx, { subnet: c }));
    agree(state);
    const before = stateIndex(state).privateIpOfHost("127.1.0.10");
    expect(before?.vpc.id).toBe(v.id);
    state.transact((tx) => {
      for (const e of [...tx.all("eni")]) if (e.vpcId === v.id) tx.delete("eni", e.id);
      for (const s of [a, b]) deleteSubnet(tx, ctx, s.id);
      for (const t of [...tx.all("routeTable")])
        if (t.vpcId === v.id && !t.associations.some((x) => x.main)) tx.delete("routeTable", t.id);
      for (const n of [...tx.all("networkAcl")])
        if (n.vpcId === v.id && !n.isDefault) tx.delete("networkAcl", n.id);
      deleteVpc(tx, ctx, v.id);
    });
    agree(state);
    expect(stateIndex(state).privateIpOfHost("127.1.0.10")).toBeUndefined();
    const x = state.transact((tx) => createVpc(tx, ctx, { cidr: "10.2.0.0/16" }));
    const d = state.transact((tx) =>
      createSubnet(tx, ctx, { vpcId: x.id, cidr: "10.2.1.0/24", az: "us-east-1a" }),
    );
    state.transact((tx) => createEni(tx, ctx, { subnet: d }));
    agree(state);
  });
});
