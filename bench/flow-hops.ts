/**
 * Issue 10: one flow decision across three routing hops — the spoke's VPC route table, the
 * transit gateway route table and the hub's route table on the return path — each holding
 * 1,000 routes, decided without the cache (µs per decision). The same-VPC decision is the
 * same-run baseline.
 */
import { performance } from "node:perf_hooks";
import { DEFAULT_HOST } from "../src/cloud/context.js";
import { createEni, eniHostAddress } from "../src/cloud/eni.js";
import { fixedRuntime } from "../src/cloud/runtime.js";
import { State, type Tx } from "../src/cloud/state.js";
import { createSubnet } from "../src/cloud/subnet.js";
import { createTransitGateway } from "../src/cloud/transit-gateway.js";
import { createVpcAttachment } from "../src/cloud/transit-gateway-attachment.js";
import type { Route } from "../src/cloud/types.js";
import { createVpc, ensureRegion } from "../src/cloud/vpc.js";
import { decide, type Flow } from "../src/flow/index.js";

const ctx = {
  accountId: "000000000000",
  region: "us-east-1",
  principalArn: "arn:aws:iam::000000000000:root",
  rt: fixedRuntime(),
  host: DEFAULT_HOST,
};

/** `n` /24 routes outside both VPCs, so the match is found by scanning past all of them. */
function filler(n: number, target: Route["target"]): Route[] {
  return Array.from({ length: n }, (_, i) => ({
    destinationCidr: `172.${16 + (i >> 8)}.${i & 255}.0/24`,
    target,
    origin: "CreateRoute" as const,
    state: "active" as const,
  }));
}

export function build(routes: number) {
  const state = new State();
  return state.transact((tx: Tx) => {
    ensureRegion(tx, ctx);
    const net = (cidr: string) => {
      const vpc = createVpc(tx, ctx, { cidr });
      const subnet = createSubnet(tx, ctx, {
        vpcId: vpc.id,
        cidr: cidr.replace(".0.0/16", ".1.0/24"),
        az: "us-east-1a",
      });
      return { vpc, subnet, eni: createEni(tx, ctx, { subnet }), peer: createEni(tx, ctx, { subnet }) };
    };
    const spoke = net("10.30.0.0/16");
    const hub = net("10.1.0.0/16");
    const tgw = tx.put("transitGateway", { ...createTransitGateway(tx, ctx, {}), state: "available" });
    const rtbId = tgw.options.associationDefaultRouteTableId!;
    for (const side of [spoke, hub]) {
      const a = createVpcAttachment(tx, ctx, {
        transitGatewayId: tgw.id,
        vpcId: side.vpc.id,
        subnetIds: [side.subnet.id],
      });
      tx.put("transitGatewayAttachment", { ...a, state: "available", associatedRouteTableId: rtbId });
      const rtb = tx.get("transitGatewayRouteTable", rtbId)!;
      tx.put("transitGatewayRouteTable", { ...rtb, propagations: [...rtb.propagations, a.id] });
    }
    const rtb = tx.get("transitGatewayRouteTable", rtbId)!;
    tx.put("transitGatewayRouteTable", {
      ...rtb,
      staticRoutes: Array.from({ length: routes }, (_, i) => ({
        destinationCidr: `172.${16 + (i >> 8)}.${i & 255}.0/24`,
        blackhole: true,
      })),
    });
    const via = { kind: "transit" as const, id: tgw.id };
    for (const [side, other] of [
      [spoke, "10.1.0.0/16"],
      [hub, "10.30.0.0/16"],
    ] as const) {
      const table = [...tx.all("routeTable")].find((t) => t.vpcId === side.vpc.id)!;
      const back: Route = { destinationCidr: other, target: via, origin: "CreateRoute", state: "active" };
      tx.put("routeTable", { ...table, routes: [...table.routes, ...filler(routes - 2, via), back] });
    }
    // The hub's default group admits the spoke's range (group references do not cross a TGW).
    const sg = [...tx.all("securityGroup")].find((g) => g.vpcId === hub.vpc.id)!;
    tx.put("securityGroup", {
      ...sg,
      ingress: [
        ...sg.ingress,
        { ruleId: "sgr-bench", protocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "10.30.0.0/16" },
      ],
    });
    return { state, spoke, hub };
  });
}

function perDecision(state: State, flow: Flow, seconds: number): { us: number; allowed: boolean } {
  let n = 0;
  let allowed = false;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  while (performance.now() < end) for (let i = 0; i < 100; i++, n++) allowed = decide(state, flow).allowed;
  return { us: ((performance.now() - t0) * 1000) / n, allowed };
}

export async function benchFlowHops(opts: { seconds?: number; routes?: number } = {}) {
  const seconds = opts.seconds ?? 2;
  const routes = opts.routes ?? 1000;
  const { state, spoke, hub } = build(routes);
  const sameVpc = perDecision(
    state,
    {
      source: { kind: "eni", eniId: spoke.eni.id },
      destination: eniHostAddress(state, spoke.peer)!,
      port: 443,
    },
    seconds,
  );
  const viaTgw = perDecision(
    state,
    { source: { kind: "eni", eniId: spoke.eni.id }, destination: eniHostAddress(state, hub.eni)!, port: 443 },
    seconds,
  );
  return [
    {
      case: "same VPC (local route)",
      routesPerTable: routes,
      usPerDecision: sameVpc.us,
      allowed: sameVpc.allowed,
    },
    {
      case: "spoke -> TGW -> hub (3 route tables)",
      routesPerTable: routes,
      usPerDecision: viaTgw.us,
      allowed: viaTgw.allowed,
      vsSameVpc: viaTgw.us / sameVpc.us,
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) console.table(await benchFlowHops());
