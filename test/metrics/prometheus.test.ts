import { execFile } from "node:child_process";
import { promisify } from "node:util";
import parsePrometheus from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PrometheusMetrics } from "../../src/api/prometheus.js";
import type { State } from "../../src/cloud/state.js";
import type { Stats } from "../../src/net/meter.js";
import { digAt, resolverOf } from "../dns-private/helpers.js";
import { type MeteredWorld, meteredWorld } from "./world.js";

const run = promisify(execFile);

describe("GET /metrics", () => {
  let w: MeteredWorld;
  const SENT = 7777;

  beforeAll(async () => {
    w = await meteredWorld();
    await w.send(SENT);
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  it("curl gets the exposition format, which a Prometheus parser reads back with the real counters", async () => {
    const { stdout } = await run("curl", ["-sf", `${w.server.url}/metrics`]);
    const families = parsePrometheus(stdout) as {
      name: string;
      type: string;
      metrics: { value?: string; labels?: Record<string, string>; buckets?: Record<string, string> }[];
    }[];
    const family = (name: string) => families.find((f) => f.name === name)!;
    const bytes = family("privlink_endpoint_bytes_total");
    expect(bytes.type).toBe("COUNTER");
    const inbound = bytes.metrics.find(
      (m) => m.labels?.vpc_endpoint_id === w.consumer.endpointId && m.labels?.direction === "in",
    );
    expect(inbound?.value).toBe(String(SENT));
    expect(inbound?.labels?.service_name).toBe(w.provider.serviceName);
    expect(family("privlink_endpoint_connections_total").metrics[0]?.value).toBe("1");
    expect(
      family("privlink_service_bytes_total").metrics.find(
        (m) => m.labels?.service_id === w.provider.serviceId,
      )?.value,
    ).toBe(String(SENT));
    expect(family("privlink_eni_bytes_total").metrics.length).toBeGreaterThan(0);
    expect(family("privlink_open_connections").metrics[0]?.value).toBe("0");
    const api = family("privlink_api_requests_total");
    expect(
      api.metrics.some(
        (m) =>
          m.labels?.action === "CreateVpcEndpoint" && m.labels?.code === "OK" && m.labels?.service === "ec2",
      ),
    ).toBe(true);
    expect(family("privlink_api_request_duration_seconds").type).toBe("HISTOGRAM");
  });

  it("counts errors by their AWS code", async () => {
    const { DescribeVpcsCommand } = await import("@aws-sdk/client-ec2");
    await w.consumer.ec2
      .send(new DescribeVpcsCommand({ VpcIds: ["vpc-0123456789abcdef0"] }))
      .catch(() => undefined);
    const text = await (await fetch(`${w.server.url}/metrics`)).text();
    expect(text).toMatch(
      /privlink_api_requests_total\{service="ec2",action="DescribeVpcs",code="InvalidVpcID.NotFound"\} 1/,
    );
  });

  it("counts DNS queries per resolver by response code", async () => {
    const resolver = await resolverOf(w.server, w.consumer.vpcId);
    const port = w.server.dns.port;
    const ok = await digAt(resolver, port, [`${w.consumer.endpointId}.${w.provider.serviceName}`, "A"]);
    const missing = await digAt(resolver, port, ["no-such-name.vpce.amazonaws.com", "A"]);
    const missing2 = await digAt(resolver, port, ["still-no-such.vpce.amazonaws.com", "A"]);
    expect(missing.status).toBe("NXDOMAIN");
    expect(missing2.status).toBe("NXDOMAIN");
    const text = await (await fetch(`${w.server.url}/metrics`)).text();
    const count = (rcode: string) =>
      Number(
        new RegExp(
          `privlink_dns_queries_total\\{resolver="${w.consumer.vpcId}",rcode="${rcode}"\\} (\\d+)`,
        ).exec(text)?.[1] ?? 0,
      );
    expect(count("NXDOMAIN")).toBeGreaterThanOrEqual(2);
    expect(count(ok.status)).toBeGreaterThanOrEqual(1);
  });
});

describe("PrometheusMetrics scrape", () => {
  const row = (id: string, n: number) => ({
    vpcEndpointId: id,
    bytesIn: n,
    bytesOut: n,
    newConnections: n,
    activeConnections: 0,
    resets: n,
    idleTimeouts: n,
    dropped: n,
  });
  const noState = { get: () => undefined } as unknown as State;

  it("reads the meter once per scrape, and every per-endpoint counter from that one snapshot", async () => {
    let calls = 0;
    const m = new PrometheusMetrics(noState, (): Stats => {
      calls++;
      return { endpoints: [row("vpce-a", calls)], enis: [], natGateways: [] };
    });
    const first = parsePrometheus(await (await m.registry()).metrics()) as {
      name: string;
      metrics: { value?: string; labels?: Record<string, string> }[];
    }[];
    expect(calls).toBe(1);
    for (const name of [
      "privlink_endpoint_bytes_total",
      "privlink_endpoint_connections_total",
      "privlink_endpoint_resets_total",
      "privlink_endpoint_idle_timeouts_total",
      "privlink_endpoint_dropped_total",
    ])
      expect(first.find((f) => f.name === name)?.metrics[0]?.value).toBe("1");
    await new Promise((r) => setImmediate(r));
    await (await m.registry()).metrics();
    expect(calls).toBe(2);
  });

  it("a lone metric read outside a scrape gets a fresh snapshot, not the last scrape's", async () => {
    let n = 5;
    const m = new PrometheusMetrics(noState, () => ({
      endpoints: [row("vpce-a", n)],
      enis: [],
      natGateways: [],
    }));
    await (await m.registry()).metrics();
    await new Promise((r) => setImmediate(r));
    n = 9;
    const text = await (await m.registry()).getSingleMetricAsString("privlink_endpoint_resets_total");
    expect(text).toMatch(/privlink_endpoint_resets_total\{vpc_endpoint_id="vpce-a",[^}]*\} 9/);
  });
});
