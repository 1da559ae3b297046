import { describe, expect, it } from "vitest";
import {
  type CarriedFlow,
  decodeTunnelHeader,
  encodeTunnelHeader,
  splitAddress,
  TUNNEL_SKEW_MS,
} from "./tunnel.js";

const T = 1_800_000_000_000;
const flow: CarriedFlow = {
  from: "a",
  to: "b",
  host: "127.2.1.5",
  port: 443,
  source: "127.2.1.4",
  sourcePort: 40000,
  at: T,
};
const b = { name: "b", key: "key-of-b" };

describe("the agent-to-agent tunnel header", () => {
  const header = encodeTunnelHeader(flow, b.key);

  it("round-trips the flow and hands back the workload's bytes that followed it", () => {
    const read = decodeTunnelHeader(Buffer.concat([header, Buffer.from("GET /")]), b, T + 5);
    expect(read).toEqual({ kind: "flow", flow, rest: Buffer.from("GET /") });
  });

  it("waits for the rest of a header split across reads", () => {
    for (const n of [1, 5, 6, header.length - 1])
      expect(decodeTunnelHeader(header.subarray(0, n), b, T).kind).toBe("more");
  });

  const cases: [string, Buffer, { name: string; key: string }, number, string][] = [
    [
      "another key",
      encodeTunnelHeader(flow, "key-of-someone"),
      b,
      T,
      "bad MAC (not signed with this agent's key)",
    ],
    ["another agent", encodeTunnelHeader({ ...flow, to: "c" }, b.key), b, T, "meant for agent c"],
    ["a stale header", header, b, T + TUNNEL_SKEW_MS + 1, "header too old or too new"],
    ["not a tunnel", Buffer.from("GET / HTTP/1.1\r\n\r\n"), b, T, "not a privlink tunnel"],
    [
      "a tampered flow",
      Buffer.from(header.toString("latin1").replace("127.2.1.4", "127.2.1.9"), "latin1"),
      b,
      T,
      "bad MAC (not signed with this agent's key)",
    ],
  ];
  for (const [what, bytes, me, now, reason] of cases)
    it(`refuses ${what}`, () => {
      expect(decodeTunnelHeader(bytes, me, now)).toEqual({ kind: "bad", reason });
    });

  it("splits agent addresses", () => {
    expect(splitAddress("192.168.250.2:4600")).toEqual(["192.168.250.2", 4600]);
    expect(splitAddress("[fd00::2]:4600")).toEqual(["fd00::2", 4600]);
    expect(() => splitAddress("nowhere")).toThrow("host:port");
  });
});
