import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from "@aws-sdk/client-cloudwatch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemRuntime } from "../../src/cloud/runtime.js";
import { runAws } from "../helpers/spawn.js";
import { type MeteredWorld, meteredWorld, shiftedRuntime } from "./world.js";

/**
 * Real bytes through an endpoint, then AWS's own clients read them back from
 * AWS/PrivateLinkEndpoints and AWS/PrivateLinkServices with AWS's dimension names.
 */
describe("PrivateLink metrics from real traffic", () => {
  const rt = shiftedRuntime(systemRuntime);
  let w: MeteredWorld;
  let minute: Date;
  const SENT = 123_457;

  const cli = async (who: "consumer" | "provider", ...args: string[]) => {
    const creds = who === "consumer" ? w.consumer.creds : w.provider.creds;
    const r = await runAws(["cloudwatch", ...args, "--output", "json"], w.server.cliEnv(creds));
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout);
  };
  const endpointDims = () => [
    { Name: "Endpoint Type", Value: "Interface" },
    { Name: "Service Name", Value: w.provider.serviceName },
    { Name: "VPC Endpoint Id", Value: w.consumer.endpointId },
    { Name: "VPC Id", Value: w.consumer.vpcId },
  ];
  const window = () => [
    "--start-time",
    new Date(minute.getTime() - 5 * 60_000).toISOString(),
    "--end-time",
    new Date(minute.getTime() + 5 * 60_000).toISOString(),
  ];

  beforeAll(async () => {
    w = await meteredWorld({ runtime: rt });
    await w.send(SENT);
    const now = rt.now().getTime();
    minute = new Date(now - (now % 60_000));
    await w.server.cloudwatch.tick();
    // The minute is written once the injected clock has left it.
    rt.advance(60_000);
    await w.server.cloudwatch.tick();
  }, 60_000);

  afterAll(async () => {
    await w?.close();
  });

  it("get-metric-statistics returns exactly the bytes sent, at the minute they flowed", async () => {
    const out = await cli(
      "consumer",
      "get-metric-statistics",
      "--namespace",
      "AWS/PrivateLinkEndpoints",
      "--metric-name",
      "BytesProcessed",
      "--dimensions",
      JSON.stringify(endpointDims()),
      ...window(),
      "--period",
      "60",
      "--statistics",
      "Sum",
      "SampleCount",
    );
    expect(out.Label).toBe("BytesProcessed");
    expect(out.Datapoints).toHaveLength(1);
    expect(out.Datapoints[0].Sum).toBe(SENT);
    expect(out.Datapoints[0].Unit).toBe("Bytes");
    // CLI v1 prints the wire's epoch seconds when no timestamp format is configured.
    expect(Number(out.Datapoints[0].Timestamp) * 1000).toBe(minute.getTime());
  });

  it("get-metric-data with the per-subnet dimension set and a math expression", async () => {
    const queries = [
      {
        Id: "bytes",
        MetricStat: {
          Metric: {
            Namespace: "AWS/PrivateLinkEndpoints",
            MetricName: "BytesProcessed",
            Dimensions: [...endpointDims(), { Name: "Subnet Id", Value: w.consumer.subnetId }],
          },
          Period: 300,
          Stat: "Sum",
        },
      },
      { Id: "kib", Expression: "bytes / 1024", Label: "KiB" },
    ];
    const out = await cli(
      "consumer",
      "get-metric-data",
      "--metric-data-queries",
      JSON.stringify(queries),
      ...window(),
    );
    const byId = Object.fromEntries(out.MetricDataResults.map((r: { Id: string }) => [r.Id, r]));
    expect(byId.bytes.Values).toEqual([SENT]);
    expect(byId.bytes.StatusCode).toBe("Complete");
    expect(byId.kib.Values).toEqual([SENT / 1024]);
    expect(byId.kib.Label).toBe("KiB");
  });

  it("the provider sees its service's bytes and endpoint count in AWS/PrivateLinkServices", async () => {
    const out = await cli(
      "provider",
      "get-metric-statistics",
      "--namespace",
      "AWS/PrivateLinkServices",
      "--metric-name",
      "BytesProcessed",
      "--dimensions",
      JSON.stringify([
        { Name: "Service Id", Value: w.provider.serviceId },
        { Name: "VPC Endpoint Id", Value: w.consumer.endpointId },
      ]),
      ...window(),
      "--period",
      "600",
      "--statistics",
      "Sum",
    );
    expect(out.Datapoints.map((d: { Sum: number }) => d.Sum)).toEqual([SENT]);
    const list = await cli("provider", "list-metrics", "--namespace", "AWS/PrivateLinkServices");
    const names = new Set(list.Metrics.map((m: { MetricName: string }) => m.MetricName));
    expect([...names].sort()).toEqual([
      "ActiveConnections",
      "BytesProcessed",
      "EndpointsCount",
      "NewConnections",
      "RstPacketsSent",
    ]);
    const dimSets = new Set(
      list.Metrics.map((m: { Dimensions: { Name: string }[] }) => m.Dimensions.map((d) => d.Name).join("+")),
    );
    expect(dimSets).toEqual(
      new Set([
        "Service Id",
        "Service Id+VPC Endpoint Id",
        "Load Balancer Arn+Service Id",
        "Az+Load Balancer Arn+Service Id",
      ]),
    );
  });

  it("lists the endpoint metrics with their two dimension sets (SDK v3, JSON 1.0)", async () => {
    const cw = new CloudWatchClient({
      endpoint: w.server.url,
      region: "us-east-1",
      credentials: w.consumer.creds,
    });
    const out = await cw.send(
      new ListMetricsCommand({ Namespace: "AWS/PrivateLinkEndpoints", MetricName: "BytesProcessed" }),
    );
    expect(out.Metrics?.map((m) => m.Dimensions?.map((d) => d.Name).join("+")).sort()).toEqual([
      "Endpoint Type+Service Name+Subnet Id+VPC Endpoint Id+VPC Id",
      "Endpoint Type+Service Name+VPC Endpoint Id+VPC Id",
    ]);
    const data = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(minute.getTime() - 60_000),
        EndTime: new Date(minute.getTime() + 120_000),
        MetricDataQueries: [
          {
            Id: "n",
            MetricStat: {
              Metric: {
                Namespace: "AWS/PrivateLinkEndpoints",
                MetricName: "NewConnections",
                Dimensions: endpointDims(),
              },
              Period: 60,
              Stat: "Sum",
            },
          },
        ],
      }),
    );
    expect(data.MetricDataResults?.[0]?.Values).toEqual([1]);
    expect(data.MetricDataResults?.[0]?.Timestamps?.[0]?.getTime()).toBe(minute.getTime());
  });

  it("another account sees none of it", async () => {
    const out = await runAws(
      ["cloudwatch", "list-metrics", "--namespace", "AWS/PrivateLinkEndpoints", "--output", "json"],
      w.server.cliEnv(),
    );
    expect(JSON.parse(out.stdout).Metrics).toEqual([]);
  });
});
