import { CloudWatchClient, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemRuntime } from "../../src/cloud/runtime.js";
import { runCli } from "../helpers/spawn.js";
import { type MeteredWorld, meteredWorld, shiftedRuntime } from "./world.js";

/**
 * POST /_privlink/cloudwatch/flush: traffic, a flush, and GetMetricData shows the bytes at once,
 * inside the minute they flowed; more traffic in the same minute, flushed or written when the
 * minute is over, adds to the same datapoint (one sample, the minute's total).
 */
describe("flushing the current minute's metrics", () => {
  const rt = shiftedRuntime(systemRuntime);
  let w: MeteredWorld;
  let cw: CloudWatchClient;

  const bytesNow = async (stat: "Sum" | "SampleCount", period = 60) => {
    const now = rt.now().getTime();
    const out = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(now - 10 * 60_000),
        EndTime: new Date(now + 10 * 60_000),
        MetricDataQueries: [
          {
            Id: "bytes",
            MetricStat: {
              Metric: {
                Namespace: "AWS/PrivateLinkEndpoints",
                MetricName: "BytesProcessed",
                Dimensions: [
                  { Name: "Endpoint Type", Value: "Interface" },
                  { Name: "Service Name", Value: w.provider.serviceName },
                  { Name: "VPC Endpoint Id", Value: w.consumer.endpointId },
                  { Name: "VPC Id", Value: w.consumer.vpcId },
                ],
              },
              Period: period,
              Stat: stat,
            },
          },
        ],
      }),
    );
    const r = out.MetricDataResults![0]!;
    return { values: r.Values ?? [], times: (r.Timestamps ?? []).map((t) => t.getTime()) };
  };

  beforeAll(async () => {
    // Early in a minute of the injected clock, so the whole test stays inside it until it moves on.
    const now = Date.now();
    rt.advance(60_000 - (now % 60_000) + 1_000);
    w = await meteredWorld({ runtime: rt });
    cw = new CloudWatchClient({ endpoint: w.server.url, region: "us-east-1", credentials: w.consumer.creds });
  }, 60_000);

  afterAll(async () => {
    await w?.close();
  });

  it("shows the bytes right after the flush, and later bytes of the minute add to them", async () => {
    const minute = rt.now().getTime() - (rt.now().getTime() % 60_000);
    expect((await bytesNow("Sum")).values).toEqual([]);
    await w.send(40_000);
    const flushed = await w.server.admin<{ minute: string; datapoints: number }>(
      "POST",
      "/_privlink/cloudwatch/flush",
    );
    expect(flushed.minute).toBe(new Date(minute).toISOString());
    expect(flushed.datapoints).toBeGreaterThan(0);
    expect(await bytesNow("Sum")).toEqual({ values: [40_000], times: [minute] });

    // The same through the CLI.
    await w.send(2_000);
    const cli = await runCli(["stats", "--flush"], w.server.cliEnv());
    expect(cli.stderr).toBe("");
    expect(cli.stdout).toMatch(
      new RegExp(`^flushed [1-9]\\d* datapoints of the minute ${new Date(minute).toISOString()}\n$`),
    );
    expect((await bytesNow("Sum")).values).toEqual([42_000]);

    // The rest of the minute: sampled within it (the 10-second tick), written once the clock has left it.
    await w.send(500);
    await w.server.cloudwatch.tick();
    rt.advance(60_000);
    await w.server.cloudwatch.tick();
    expect(await bytesNow("Sum")).toEqual({ values: [42_500], times: [minute] });
    // Still one sample for the minute, and the 5-minute rollup agrees with it.
    expect((await bytesNow("SampleCount")).values).toEqual([1]);
    expect((await bytesNow("Sum", 300)).values).toEqual([42_500]);
  }, 120_000);

  it("needs the admin token like every other /_privlink route", async () => {
    const res = await fetch(`${w.server.url}/_privlink/cloudwatch/flush`, { method: "POST" });
    expect(res.status).toBe(401);
  });
});
