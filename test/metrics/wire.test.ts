import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
} from "@aws-sdk/client-cloudwatch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cborCall } from "../helpers/cbor.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { signedResponse } from "../helpers/sign.js";

/** Sends a signed CloudWatch request in the query wire; the body comes back as bytes. */
async function send(server: TestServer, path: string, headers: Record<string, string>, body: string) {
  const res = await signedResponse(server.url, {
    service: "monitoring",
    creds: server.credentials,
    path,
    headers,
    body,
  });
  return { status: res.status, headers: res.headers, body: new Uint8Array(await res.arrayBuffer()) };
}

const cbor = (server: TestServer, op: string, input: unknown) =>
  cborCall(server.url, op, input, server.credentials);

describe("CloudWatch's three wires", () => {
  let server: TestServer;
  let cw: CloudWatchClient;
  const minuteAgo = () => {
    const t = Date.now() - 60_000;
    return new Date(t - (t % 60_000));
  };

  beforeAll(async () => {
    server = await startTestServer();
    cw = new CloudWatchClient({
      endpoint: server.url,
      region: "us-east-1",
      credentials: server.credentials,
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("RPC v2 CBOR: PutMetricData and GetMetricStatistics encoded with cborg, timestamps as tag 1", async () => {
    const at = minuteAgo();
    const put = await cbor(server, "PutMetricData", {
      Namespace: "Shop",
      MetricData: [
        {
          MetricName: "Orders",
          Dimensions: [{ Name: "Store", Value: "north" }],
          Timestamp: at,
          Value: 3,
          Unit: "Count",
        },
        {
          MetricName: "Orders",
          Dimensions: [{ Name: "Store", Value: "north" }],
          Timestamp: at,
          Value: 5,
          Unit: "Count",
        },
      ],
    });
    expect(put.status).toBe(200);
    expect(put.headers.get("smithy-protocol")).toBe("rpc-v2-cbor");
    const got = await cbor(server, "GetMetricStatistics", {
      Namespace: "Shop",
      MetricName: "Orders",
      Dimensions: [{ Name: "Store", Value: "north" }],
      StartTime: new Date(at.getTime() - 600_000),
      EndTime: new Date(at.getTime() + 600_000),
      Period: 60,
      Statistics: ["Sum", "Maximum", "SampleCount", "Average"],
    });
    expect(got.status).toBe(200);
    expect(got.headers.get("content-type")).toBe("application/cbor");
    const out = got.body;
    expect(out.Datapoints).toHaveLength(1);
    expect(out.Datapoints[0]).toMatchObject({
      Sum: 8,
      Maximum: 5,
      SampleCount: 2,
      Average: 4,
      Unit: "Count",
    });
    expect(out.Datapoints[0].Timestamp).toEqual(at);
  });

  it("RPC v2 CBOR errors carry the modeled type and the query-compatible code header", async () => {
    const r = await cbor(server, "GetMetricStatistics", {
      Namespace: "Shop",
      MetricName: "Orders",
      StartTime: new Date(Date.now() - 3_600_000),
      EndTime: new Date(),
      Period: 61,
      Statistics: ["Sum"],
    });
    expect(r.status).toBe(400);
    expect(r.headers.get("x-amzn-query-error")).toBe("InvalidParameterValue;Sender");
    expect(r.headers.get("smithy-protocol")).toBe("rpc-v2-cbor");
    const body = r.body;
    expect(body.__type).toBe("com.amazonaws.cloudwatch#InvalidParameterValueException");
    expect(body.message).toBe("The parameter Period must be a multiple of 60.");
  });

  it("awsQuery: a form-encoded GetMetricStatistics answers XML in the monitoring namespace", async () => {
    const at = minuteAgo();
    const form = new URLSearchParams({
      Action: "GetMetricStatistics",
      Version: "2010-08-01",
      Namespace: "Shop",
      MetricName: "Orders",
      "Dimensions.member.1.Name": "Store",
      "Dimensions.member.1.Value": "north",
      StartTime: new Date(at.getTime() - 600_000).toISOString(),
      EndTime: new Date(at.getTime() + 600_000).toISOString(),
      Period: "300",
      "Statistics.member.1": "Sum",
    });
    const r = await send(
      server,
      "/",
      { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
      form.toString(),
    );
    const xml = Buffer.from(r.body).toString("utf8");
    expect(r.status).toBe(200);
    expect(xml).toContain('xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"');
    expect(xml).toMatch(/<Sum>8(\.0)?<\/Sum>/);
    const bad = await send(
      server,
      "/",
      { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
      new URLSearchParams({
        Action: "GetMetricStatistics",
        Version: "2010-08-01",
        Namespace: "Shop",
      }).toString(),
    );
    expect(bad.status).toBe(400);
    expect(Buffer.from(bad.body).toString()).toContain("<Code>MissingParameter</Code>");
  });

  describe("bad input gets AWS's error codes (SDK v3, JSON 1.0)", () => {
    const stat = (id: string) => ({
      Id: id,
      MetricStat: { Metric: { Namespace: "Shop", MetricName: "Orders" }, Period: 60, Stat: "Sum" },
    });
    const window = { StartTime: new Date(Date.now() - 3_600_000), EndTime: new Date() };
    const cases: [string, () => Promise<unknown>, string, RegExp][] = [
      [
        "more than 500 queries",
        () =>
          cw.send(
            new GetMetricDataCommand({
              ...window,
              MetricDataQueries: Array.from({ length: 501 }, (_, i) => stat(`m${i}`)),
            }),
          ),
        "InvalidParameterValue",
        /must not have a size greater than 500/,
      ],
      [
        "an inverted window",
        () =>
          cw.send(
            new GetMetricDataCommand({
              StartTime: window.EndTime,
              EndTime: window.StartTime,
              MetricDataQueries: [stat("m1")],
            }),
          ),
        "InvalidParameterValue",
        /StartTime must be less than the parameter EndTime/,
      ],
      [
        "a query id that breaks the pattern",
        () => cw.send(new GetMetricDataCommand({ ...window, MetricDataQueries: [stat("M-1")] })),
        "InvalidParameterValue",
        /not matching the expected pattern/,
      ],
      [
        "a malformed expression",
        () =>
          cw.send(
            new GetMetricDataCommand({
              ...window,
              MetricDataQueries: [stat("m1"), { Id: "e1", Expression: "m1 +* 2" }],
            }),
          ),
        "ValidationError",
        /Error in expression 'e1'/,
      ],
      [
        "a period that is not a multiple of 60",
        () =>
          cw.send(
            new GetMetricStatisticsCommand({
              ...window,
              Namespace: "Shop",
              MetricName: "Orders",
              Period: 90,
              Statistics: ["Sum"],
            }),
          ),
        "InvalidParameterValue",
        /must be a multiple of 60/,
      ],
      [
        "no statistic",
        () =>
          cw.send(
            new GetMetricStatisticsCommand({
              ...window,
              Namespace: "Shop",
              MetricName: "Orders",
              Period: 60,
            }),
          ),
        "InvalidParameterCombination",
        /Statistics or ExtendedStatistics/,
      ],
      [
        "too many datapoints",
        () =>
          cw.send(
            new GetMetricStatisticsCommand({
              StartTime: new Date(Date.now() - 2 * 86_400_000),
              EndTime: new Date(),
              Namespace: "Shop",
              MetricName: "Orders",
              Period: 60,
              Statistics: ["Sum"],
            }),
          ),
        "InvalidParameterCombination",
        /exceeds the limit of 1,440/,
      ],
      [
        "the reserved AWS/ namespace",
        () =>
          cw.send(
            new PutMetricDataCommand({
              Namespace: "AWS/PrivateLinkEndpoints",
              MetricData: [{ MetricName: "X", Value: 1 }],
            }),
          ),
        "InvalidParameterValue",
        /reserved/,
      ],
    ];
    it.each(cases)("%s", async (_, call, code, message) => {
      const err = (await call().catch((e) => e)) as {
        Code: string;
        message: string;
        $metadata: { httpStatusCode: number };
      };
      // Query-compatible: the SDK names the modeled exception and keeps AWS's query code in Code.
      expect(err.Code).toBe(code);
      expect(err.message).toMatch(message);
      expect(err.$metadata.httpStatusCode).toBe(400);
    });

    it("an unknown namespace or dimension is no error: just no data", async () => {
      const out = await cw.send(
        new GetMetricStatisticsCommand({
          ...window,
          Namespace: "Nobody/Here",
          MetricName: "Orders",
          Dimensions: [{ Name: "Nope", Value: "x" }],
          Period: 60,
          Statistics: ["Sum"],
        }),
      );
      expect(out.Datapoints).toEqual([]);
    });
  });

  it("an alarm goes from INSUFFICIENT_DATA to ALARM when its metric crosses the threshold", async () => {
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: "too-many-errors",
        Namespace: "Shop",
        MetricName: "Errors",
        Statistic: "Sum",
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 10,
        ComparisonOperator: "GreaterThanThreshold",
      }),
    );
    const first = await cw.send(new DescribeAlarmsCommand({ AlarmNames: ["too-many-errors"] }));
    expect(first.MetricAlarms?.[0]?.StateValue).toBe("INSUFFICIENT_DATA");
    await cw.send(
      new PutMetricDataCommand({
        Namespace: "Shop",
        MetricData: [{ MetricName: "Errors", Value: 42, Timestamp: minuteAgo() }],
      }),
    );
    await server.cloudwatch.tick();
    const next = await cw.send(new DescribeAlarmsCommand({ StateValue: "ALARM" }));
    expect(next.MetricAlarms?.map((a) => a.AlarmName)).toEqual(["too-many-errors"]);
    expect(next.MetricAlarms?.[0]?.StateReason).toMatch(
      /Threshold Crossed: 1 datapoint \[42 .*was greater than the threshold \(10\)/,
    );
    expect(next.MetricAlarms?.[0]?.AlarmArn).toBe(
      "arn:aws:cloudwatch:us-east-1:000000000000:alarm:too-many-errors",
    );
  });
});
