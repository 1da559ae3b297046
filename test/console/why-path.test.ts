import { describe, expect, it } from "vitest";
import { goesBackward, routeAround } from "../../console/src/edge-route.js";
import { buildGraph } from "../../console/src/graph.js";
import { nextNode } from "../../console/src/keyboard.js";
import { type WhyHop, type WhyResult, whyPath } from "../../console/src/why-path.js";
import { world } from "./snapshot-fixture.js";

const hop = (kind: string, allowed = true, resource?: string): WhyHop => ({
  kind,
  allowed,
  resource,
  detail: kind,
});

function answer(hops: WhyHop[]): WhyResult {
  const refusedAt = hops.findIndex((h) => !h.allowed);
  return {
    allowed: refusedAt < 0,
    source: { label: "i-w", eniId: "eni-i", vpcId: "vpc-c", privateIp: "10.1.1.10" },
    destination: { label: "vpce-1", address: "10.1.1.20", vpcId: "vpc-c", privateIp: "10.1.1.20", port: 443 },
    hops,
    refusedAt: refusedAt < 0 ? undefined : refusedAt,
    reason: "",
  };
}

describe("a why answer drawn on the graph", () => {
  const s = world();
  const g = buildGraph(s);

  it("follows workload → endpoint → service → NLB → target, each hop where it is decided", () => {
    const p = whyPath(
      s,
      g,
      answer([
        hop("source"),
        hop("source-sg-egress"),
        hop("route"),
        hop("destination-sg-ingress"),
        hop("acceptance"),
        hop("nlb-listener", true, "arn:listener/p"),
        hop("target-health", true, "arn:tg/p"),
      ]),
    );
    expect(p.nodes).toEqual(["i-w", "vpce-1", "vpce-svc-1", "arn:lb/p", "target:arn:tg/p:127.0.0.1:9000"]);
    expect(p.edges.map((e) => e.id)).toEqual([
      "why:i-w->vpce-1",
      "endpoint:vpce-1->vpce-svc-1",
      "service:vpce-svc-1->arn:lb/p",
      "target:arn:lb/p->target:arn:tg/p:127.0.0.1:9000",
    ]);
    expect(p.hops.map((h) => [h.kind, h.at])).toEqual([
      ["source", "i-w"],
      ["source-sg-egress", "i-w"],
      ["route", "why:i-w->vpce-1"],
      ["destination-sg-ingress", "vpce-1"],
      ["acceptance", "endpoint:vpce-1->vpce-svc-1"],
      ["nlb-listener", "service:vpce-svc-1->arn:lb/p"],
      ["target-health", "target:arn:lb/p->target:arn:tg/p:127.0.0.1:9000"],
    ]);
    expect(p.refused).toBeUndefined();
  });

  it("marks the refusing hop: the endpoint's security group on the endpoint, acceptance on its edge", () => {
    const sg = whyPath(s, g, answer([hop("source"), hop("route"), hop("destination-sg-ingress", false)]));
    expect(sg.refused).toMatchObject({ kind: "destination-sg-ingress", at: "vpce-1", onEdge: false });
    const acc = whyPath(
      s,
      g,
      answer([hop("source"), hop("destination-sg-ingress"), hop("acceptance", false)]),
    );
    expect(acc.refused).toMatchObject({
      kind: "acceptance",
      at: "endpoint:vpce-1->vpce-svc-1",
      onEdge: true,
    });
    // A refused listener names the load balancer: the hop sits on the service → NLB edge.
    const lis = whyPath(s, g, answer([hop("acceptance"), hop("nlb-listener", false, "arn:lb/p")]));
    expect(lis.refused).toMatchObject({ at: "service:vpce-svc-1->arn:lb/p", onEdge: true });
  });
});

describe("edges that go backward", () => {
  const boxes = [
    { x: 0, y: 0, width: 200, height: 50 },
    { x: 0, y: 70, width: 200, height: 50 },
    { x: 0, y: 140, width: 200, height: 50 },
    { x: 280, y: 70, width: 200, height: 50 },
  ];
  /** True when a horizontal or vertical segment passes through a box's inside. */
  const crosses = (a: { x: number; y: number }, b: { x: number; y: number }, box: (typeof boxes)[number]) =>
    Math.max(a.x, b.x) > box.x &&
    Math.min(a.x, b.x) < box.x + box.width &&
    Math.max(a.y, b.y) > box.y &&
    Math.min(a.y, b.y) < box.y + box.height;

  it("are routed around the nodes between their ends, through the gaps between ranks", () => {
    // From the bottom node's right handle back to the top node's left handle, past the middle one.
    const from = { x: 200, y: 165 };
    const to = { x: 0, y: 25 };
    expect(goesBackward(from, to)).toBe(true);
    const pts = routeAround(from, to, boxes);
    expect(pts[0]).toEqual(from);
    expect(pts.at(-1)).toEqual(to);
    for (let i = 1; i < pts.length - 2; i++)
      for (const b of boxes)
        expect(crosses(pts[i]!, pts[i + 1]!, b), JSON.stringify([pts[i], pts[i + 1], b])).toBe(false);
    // Every segment is horizontal or vertical.
    for (let i = 1; i < pts.length; i++)
      expect(pts[i]!.x === pts[i - 1]!.x || pts[i]!.y === pts[i - 1]!.y).toBe(true);
  });

  it("leave forward edges to the curve", () => {
    expect(goesBackward({ x: 200, y: 25 }, { x: 280, y: 95 })).toBe(false);
  });
});

describe("keyboard moves between nodes", () => {
  const pos = new Map([
    ["a", { x: 0, y: 0 }],
    ["b", { x: 0, y: 70 }],
    ["c", { x: 280, y: 10 }],
    ["d", { x: 280, y: 300 }],
  ]);
  it("goes to the nearest node that way, and nowhere when nothing lies there", () => {
    expect(nextNode(pos, "a", "ArrowRight")).toBe("c");
    expect(nextNode(pos, "a", "ArrowDown")).toBe("b");
    expect(nextNode(pos, "b", "ArrowUp")).toBe("a");
    expect(nextNode(pos, "c", "ArrowLeft")).toBe("a");
    expect(nextNode(pos, "a", "ArrowLeft")).toBeUndefined();
    expect(nextNode(pos, "a", "Tab")).toBeUndefined();
  });
});
