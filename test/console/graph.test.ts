import { describe, expect, it } from "vitest";
import { formatBytes, formatRate, formatUsd } from "../../console/src/format.js";
import { buildGraph, edgeTraffic, endpointRates, findNode, withFlowEdges } from "../../console/src/graph.js";
import { highlightJson, prettyJson } from "../../console/src/highlight.js";
import { layoutGraph } from "../../console/src/layout.js";
import type { FlowRow, StatsSample } from "../../console/src/model.js";
import { consumersOf, resolvesTo } from "../../console/src/resources.js";
import { world } from "./snapshot-fixture.js";

const edgeIds = (g: { edges: { id: string }[] }) => g.edges.map((e) => e.id).sort();

describe("console graph from state", () => {
  it("draws accounts → VPCs → subnets → workloads and endpoints, and endpoint → service → NLB → target", () => {
    const g = buildGraph(world());
    expect(g.nodes.map((n) => `${n.kind}:${n.id}`).sort()).toEqual(
      [
        "account:111111111111",
        "account:222222222222",
        "vpc:vpc-p",
        "vpc:vpc-c",
        "subnet:subnet-p",
        "subnet:subnet-c",
        "instance:i-w",
        "endpoint:vpce-1",
        "service:vpce-svc-1",
        "nlb:arn:lb/p",
        "target:target:arn:tg/p:127.0.0.1:9000",
        "tgw:tgw-1",
        "site:site:dc1",
      ].sort(),
    );
    expect(edgeIds(g)).toEqual(
      [
        "contains:111111111111->vpc-p",
        "contains:222222222222->vpc-c",
        "contains:vpc-p->subnet-p",
        "contains:vpc-c->subnet-c",
        "contains:subnet-c->i-w",
        "contains:subnet-c->vpce-1",
        "contains:vpc-p->arn:lb/p",
        "endpoint:vpce-1->vpce-svc-1",
        "service:vpce-svc-1->arn:lb/p",
        "target:arn:lb/p->target:arn:tg/p:127.0.0.1:9000",
        // Only the live peering: a deleted one is history, not topology.
        "peering:vpc-c->vpc-p",
        "tgw:vpc-p->tgw-1",
        "vpn:site:dc1->tgw-1",
      ].sort(),
    );
    const vpc = g.nodes.find((n) => n.id === "vpc-p")!;
    expect(vpc.label).toBe("provider");
    expect(vpc.detail).toContain("10.0.0.0/16");
    expect(g.edges.find((e) => e.kind === "endpoint")!.label).toBe("pendingAcceptance");
  });

  it("filters by account but keeps what the account's endpoints reach", () => {
    const g = buildGraph(world(), { accounts: ["222222222222"] });
    const ids = g.nodes.map((n) => n.id);
    expect(ids).toContain("vpce-1");
    expect(ids).toContain("vpce-svc-1");
    expect(ids).toContain("arn:lb/p");
    // The peered VPC is reachable; the provider's subnets and its account are not the consumer's.
    expect(ids).not.toContain("subnet-p");
    expect(ids).not.toContain("111111111111");
  });

  it("leaves default VPCs and what is in them out when asked", () => {
    const s = world();
    s.vpcs = [
      ...s.vpcs,
      {
        id: "vpc-d",
        accountId: "222222222222",
        region: "us-east-1",
        tags: {},
        isDefault: true,
        cidrBlocks: [{ cidr: "172.31.0.0/16", state: "associated" }],
      },
    ];
    s.subnets = [
      ...s.subnets,
      {
        id: "subnet-d",
        accountId: "222222222222",
        region: "us-east-1",
        tags: {},
        vpcId: "vpc-d",
        cidr: "172.31.0.0/20",
        az: "us-east-1a",
        azId: "use1-az2",
      },
    ];
    expect(buildGraph(s).nodes.map((n) => n.id)).toContain("subnet-d");
    const ids = buildGraph(s, { hideDefaultVpcs: true }).nodes.map((n) => n.id);
    expect(ids).not.toContain("vpc-d");
    expect(ids).not.toContain("subnet-d");
    expect(ids).toContain("vpc-c");
  });

  it("filters by VPC", () => {
    const g = buildGraph(world(), { vpcId: "vpc-p" });
    const ids = g.nodes.map((n) => n.id);
    expect(ids).toEqual(expect.arrayContaining(["vpc-p", "subnet-p", "arn:lb/p", "tgw-1", "111111111111"]));
    expect(ids).not.toContain("vpce-1");
    expect(ids).not.toContain("i-w");
  });

  it("finds nodes by ID, Name tag, private IP, DNS name and partial text", () => {
    const s = world();
    const g = buildGraph(s);
    expect(findNode(s, g, "vpce-1")).toBe("vpce-1");
    expect(findNode(s, g, "workload")).toBe("i-w");
    expect(findNode(s, g, "10.1.1.20")).toBe("vpce-1");
    expect(findNode(s, g, "10.1.1.10")).toBe("i-w");
    expect(findNode(s, g, "10.0.1.5")).toBe("arn:lb/p");
    expect(findNode(s, g, "vpce-1-abc.vpce-svc-1.us-east-1.vpce.amazonaws.com")).toBe("vpce-1");
    expect(findNode(s, g, "com.amazonaws.vpce.us-east-1.vpce-svc-1")).toBe("vpce-svc-1");
    expect(findNode(s, g, "10.0.0.0/16")).toBe("vpc-p");
    expect(findNode(s, g, "nothing-like-this")).toBeUndefined();
    expect(findNode(s, g, "  ")).toBeUndefined();
  });

  it("turns counter samples into rates and puts them on the endpoint's edge", () => {
    const s = world();
    const c = { newConnections: 1, activeConnections: 1, resets: 0, dropped: 0 };
    const a: StatsSample = {
      time: "2026-01-01T00:00:00.000Z",
      endpoints: [{ vpcEndpointId: "vpce-1", bytesIn: 100, bytesOut: 100, ...c }],
      enis: [],
    };
    const b: StatsSample = {
      time: "2026-01-01T00:00:02.000Z",
      endpoints: [{ vpcEndpointId: "vpce-1", bytesIn: 2100, bytesOut: 2100, ...c }],
      enis: [],
    };
    const rates = endpointRates(a, b);
    expect(rates.get("vpce-1")).toEqual({ rate: 2000, active: 1 });
    // The first sample has nothing to compare with: no rate yet.
    expect(endpointRates(undefined, a).get("vpce-1")).toEqual({ rate: 0, active: 1 });
    const flows: FlowRow[] = [
      {
        id: 1,
        time: b.time,
        srcEniId: "eni-i",
        dstEniId: "eni-e",
        srcIp: "10.1.1.10",
        dstIp: "10.1.1.20",
        dstPort: 7070,
        verdict: "ACCEPT",
        phase: "closed",
        bytesIn: 4000,
        bytesOut: 0,
      },
    ];
    const g = withFlowEdges(s, buildGraph(s), flows);
    expect(g.edges.find((e) => e.id === "flow:i-w->vpce-1")).toMatchObject({ kind: "flow", label: ":7070" });
    const t = edgeTraffic(s, g, rates, flows);
    expect(t.get("endpoint:vpce-1->vpce-svc-1")).toEqual({ rate: 2000, active: 1 });
    expect(t.get("flow:i-w->vpce-1")).toEqual({ rate: 2000, active: 1 });
  });

  it("marks the hop a refused flow stopped at, with the reason", () => {
    const s = world();
    const flows: FlowRow[] = [
      {
        id: 2,
        time: "2026-01-01T00:00:03.000Z",
        srcEniId: "eni-i",
        dstEniId: "eni-e",
        srcIp: "10.1.1.10",
        dstIp: "10.1.1.20",
        dstPort: 7070,
        verdict: "REJECT",
        phase: "refused",
        bytesIn: 0,
        bytesOut: 0,
        reason: "endpoint vpce-1 is pendingAcceptance",
        hop: "endpoint-state",
      },
    ];
    const g = withFlowEdges(s, buildGraph(s), flows);
    const t = edgeTraffic(s, g, new Map(), flows);
    // Fifteen seconds on, the mark is gone: the edge shows the present.
    const later = Date.parse("2026-01-01T00:00:19.000Z");
    expect(edgeTraffic(s, g, new Map(), flows, later).get("flow:i-w->vpce-1")?.refused).toBeUndefined();
    expect(edgeTraffic(s, g, new Map(), flows, later - 5000).get("flow:i-w->vpce-1")?.refused?.hop).toBe(
      "endpoint-state",
    );
    expect(t.get("flow:i-w->vpce-1")?.refused).toEqual({
      reason: "endpoint vpce-1 is pendingAcceptance",
      hop: "endpoint-state",
      time: "2026-01-01T00:00:03.000Z",
    });
  });

  it("lays every node out, without overlaps between ranks", () => {
    const g = buildGraph(world());
    const pos = layoutGraph(g);
    expect(pos.size).toBe(g.nodes.length);
    // Left to right: an account sits left of its VPC, the endpoint left of its service.
    expect(pos.get("222222222222")!.x).toBeLessThan(pos.get("vpc-c")!.x);
    expect(pos.get("vpce-1")!.x).toBeLessThan(pos.get("vpce-svc-1")!.x);
    const spots = new Set([...pos.values()].map((p) => `${Math.round(p.x)},${Math.round(p.y)}`));
    expect(spots.size).toBe(g.nodes.length);
  });
});

describe("console resource helpers", () => {
  it("says what each endpoint DNS name resolves to in its VPC", () => {
    const s = world();
    const e = s.endpoints[0]!;
    expect(resolvesTo(s, e, e.dnsNames[0]!)).toEqual(["10.1.1.20"]);
    expect(resolvesTo(s, e, e.dnsNames[1]!)).toEqual(["10.1.1.20"]);
    // No interface in us-east-1b: its zonal name answers nothing.
    expect(resolvesTo(s, e, e.dnsNames[2]!)).toEqual([]);
  });

  it("lists a service's consumers, pending ones first", () => {
    const s = world();
    s.endpoints = [...s.endpoints, { ...s.endpoints[0]!, id: "vpce-0", state: "available" }];
    expect(consumersOf(s, "vpce-svc-1").map((e) => `${e.id}:${e.state}`)).toEqual([
      "vpce-1:pendingAcceptance",
      "vpce-0:available",
    ]);
  });
});

describe("console formatting", () => {
  it("formats bytes, rates and dollars", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(50 * 1024 * 1024)).toBe("50 MiB");
    expect(formatBytes(-1)).toBe("–");
    expect(formatRate(2048)).toBe("2.0 KiB/s");
    expect(formatUsd(0.01)).toBe("$0.0100");
    expect(formatUsd(7.3)).toBe("$7.30");
    expect(formatUsd(-2.5)).toBe("-$2.50");
  });

  it("tokenizes a policy for colouring and keeps every character", () => {
    const text = prettyJson(
      '{"Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:*"],"Condition":{"NumericLessThan":{"x":-1.5e3}},"Bool":true}]}',
    );
    const tokens = highlightJson(text);
    expect(tokens.map((t) => t.text).join("")).toBe(text);
    expect(tokens.filter((t) => t.kind === "key").map((t) => t.text)).toEqual([
      '"Statement"',
      '"Effect"',
      '"Principal"',
      '"Action"',
      '"Condition"',
      '"NumericLessThan"',
      '"x"',
      '"Bool"',
    ]);
    expect(tokens.find((t) => t.kind === "number")?.text).toBe("-1500");
    expect(tokens.find((t) => t.kind === "literal")?.text).toBe("true");
    // Not JSON: nothing lost, nothing thrown.
    expect(prettyJson("not json {")).toBe("not json {");
    expect(
      highlightJson("not json {")
        .map((t) => t.text)
        .join(""),
    ).toBe("not json {");
  });
});
