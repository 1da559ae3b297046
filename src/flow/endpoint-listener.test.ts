import { describe, expect, it } from "vitest";
import { IDLE_LISTENERS, type ListenerView, throughEndpointListener } from "./endpoint-listener.js";
import type { Decision, FlowTarget } from "./types.js";

/**
 * The endpoint listener's hop over decisions of each target kind. The connection limit and the
 * missing front are also driven through real connections (test/analyze/why-endpoint-listener);
 * "no forwarding" happens only while the data plane has not yet closed the listener of an
 * endpoint whose interface the state gave to something else, so it is held here.
 */
const admitted = (target: FlowTarget): Decision => ({
  allowed: true,
  hops: [{ kind: "source", allowed: true, detail: "eni-src (10.0.1.4)" }],
  reason: "allowed",
  source: {},
  destination: { host: "127.1.1.5" },
  target,
});

const nlb: FlowTarget = {
  kind: "nlb",
  endpointId: "vpce-1",
  eniId: "eni-1",
  loadBalancerArn: "lb",
  listenerArn: "l",
  targetGroupArn: "tg",
  targets: [],
  proxyProtocolV2: false,
};
const front: FlowTarget = {
  kind: "aws-service",
  endpointId: "vpce-2",
  eniId: "eni-2",
  serviceName: "com.amazonaws.us-east-1.sqs",
};
const eni: FlowTarget = { kind: "eni", eniId: "eni-3", host: "127.1.1.5" };
const view = (open: number, serviceFront = true): ListenerView => ({
  openConnections: () => open,
  maxConnectionsPerEndpoint: 3,
  serviceFront,
});

const cases: { name: string; d: Decision; view: ListenerView; listenerOf?: string; reason?: string }[] = [
  { name: "below the limit", d: admitted(nlb), view: view(2) },
  {
    name: "at the limit",
    d: admitted(nlb),
    view: view(3),
    reason: "endpoint vpce-1 has 3 open connections (the limit)",
  },
  { name: "front present", d: admitted(front), view: view(0) },
  {
    name: "no front",
    d: admitted(front),
    view: view(0, false),
    reason: "no service front for com.amazonaws.us-east-1.sqs",
  },
  { name: "an interface, asked by why", d: admitted(eni), view: IDLE_LISTENERS },
  {
    name: "an interface at an endpoint's listener",
    d: admitted(eni),
    view: IDLE_LISTENERS,
    listenerOf: "vpce-9",
    reason: "no forwarding for eni on an endpoint listener",
  },
];

describe("throughEndpointListener", () => {
  for (const c of cases)
    it(c.name, () => {
      const out = throughEndpointListener(c.d, c.view, c.listenerOf);
      if (!c.reason) {
        expect(out).toBe(c.d);
        return;
      }
      expect(out.allowed).toBe(false);
      expect(out.reason).toBe(c.reason);
      expect(out.target).toBeUndefined();
      expect(out.hops.at(-1)).toMatchObject({ kind: "endpoint-listener", allowed: false, detail: c.reason });
    });

  it("leaves a refused decision to its own refusing hop", () => {
    const refused: Decision = { ...admitted(nlb), allowed: false, reason: "no", target: undefined };
    expect(throughEndpointListener(refused, view(99), "vpce-1")).toBe(refused);
  });
});
