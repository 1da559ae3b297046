import { CloudWatchClient, GetMetricStatisticsCommand } from "@aws-sdk/client-cloudwatch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemRuntime } from "../../src/cloud/runtime.js";
import type { EndpointHistory } from "../../src/console/shapes.js";
import { type MeteredWorld, meteredWorld, shiftedRuntime } from "../metrics/world.js";

/**
 * GET /_privlink/console/metrics: the endpoint page's last hour is what CloudWatch holds for the
 * endpoint in AWS/PrivateLinkEndpoints, minute by minute, read back here through the AWS SDK.
 */
describe("the console's endpoint history", () => {
  const rt = shiftedRuntime(systemRuntime);
  let w: MeteredWorld;
  const SENT = 54_321;

  beforeAll(async () => {
    w = await meteredWorld({ runtime: rt });
    await w.send(SENT);
    await w.server.cloudwatch.tick();
    rt.advance(60_000);
    await w.send(1_000);
    await w.server.cloudwatch.tick();
    rt.advance(60_000);
    await w.server.cloudwatch.tick();
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  it("answers the endpoint's minutes with the same sums CloudWatch gives the consumer", async () => {
    const h = await w.server.admin<EndpointHistory>(
      "GET",
      `/_privlink/console/metrics?endpoint=${w.consumer.endpointId}`,
    );
    expect(h.endpointId).toBe(w.consumer.endpointId);
    expect(h.period).toBe(60);
    expect(Date.parse(h.until) - Date.parse(h.since)).toBeGreaterThanOrEqual(60 * 60_000);
    expect(h.points.map((p) => p.bytes)).toEqual([SENT, 1_000]);
    expect(h.points.map((p) => p.newConnections)).toEqual([1, 1]);
    const cw = new CloudWatchClient({
      endpoint: w.server.url,
      region: "us-east-1",
      credentials: w.consumer.creds,
      maxAttempts: 1,
    });
    const out = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: "AWS/PrivateLinkEndpoints",
        MetricName: "BytesProcessed",
        Dimensions: [
          { Name: "Endpoint Type", Value: "Interface" },
          { Name: "Service Name", Value: w.provider.serviceName },
          { Name: "VPC Endpoint Id", Value: w.consumer.endpointId },
          { Name: "VPC Id", Value: w.consumer.vpcId },
        ],
        StartTime: new Date(h.since),
        EndTime: new Date(h.until),
        Period: 60,
        Statistics: ["Sum"],
      }),
    );
    const aws = (out.Datapoints ?? [])
      .map((d) => [d.Timestamp!.toISOString(), d.Sum] as const)
      .sort(([a], [b]) => a.localeCompare(b));
    expect(h.points.map((p) => [p.time, p.bytes])).toEqual(aws);
  });

  it("answers an unknown endpoint with EC2's not-found error", async () => {
    await expect(
      w.server.admin("GET", "/_privlink/console/metrics?endpoint=vpce-0123456789abcdef0"),
    ).rejects.toThrow(/InvalidVpcEndpointId.NotFound|does not exist/);
  });
});
