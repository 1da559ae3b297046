/**
 * The SDK serde modules behind the rarer protocols (RPC v2 CBOR, the restXml body parser, big
 * decimals) load on their first use, not at start (api/protocols/sdk-serde.ts). Each wire must
 * still answer right when its very first request reaches a fresh server — an error first, since
 * an error is rendered before any codec has run — through the real bin, as `privlink up` runs
 * (from dist/bundle after `npm run build`, where `require` resolves from another folder).
 */
import { GetHostedZoneCommand, Route53Client } from "@aws-sdk/client-route-53";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cborCall } from "../helpers/cbor.js";
import { tempHomes } from "../helpers/homes.js";
import { signedFetch } from "../helpers/sign.js";
import { spawnPrivlink } from "../helpers/spawn.js";

const homes = tempHomes("privlink-lazy-codecs-");
let server: Awaited<ReturnType<typeof spawnPrivlink>>;

beforeAll(async () => {
  server = await spawnPrivlink(homes.make());
}, 60_000);

afterAll(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill("SIGTERM");
    await new Promise((r) => server.child.once("exit", r));
  }
  homes.removeAll();
});

const cbor = (op: string, input: unknown) => cborCall(server.url, op, input);

describe("codecs loaded on first use answer their first request", () => {
  it("RPC v2 CBOR: an error first, then a put and a read with tagged timestamps", async () => {
    const bad = await cbor("GetMetricStatistics", {
      Namespace: "Shop",
      MetricName: "Orders",
      StartTime: new Date(Date.now() - 3_600_000),
      EndTime: new Date(),
      Period: 61,
      Statistics: ["Sum"],
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("smithy-protocol")).toBe("rpc-v2-cbor");
    expect(bad.body).toEqual({
      __type: "com.amazonaws.cloudwatch#InvalidParameterValueException",
      message: "The parameter Period must be a multiple of 60.",
    });

    const t = Date.now() - 60_000;
    const at = new Date(t - (t % 60_000));
    const put = await cbor("PutMetricData", {
      Namespace: "Shop",
      MetricData: [{ MetricName: "Orders", Timestamp: at, Value: 7, Unit: "Count" }],
    });
    expect(put.status).toBe(200);
    const got = await cbor("GetMetricStatistics", {
      Namespace: "Shop",
      MetricName: "Orders",
      StartTime: new Date(at.getTime() - 600_000),
      EndTime: new Date(at.getTime() + 600_000),
      Period: 60,
      Statistics: ["Sum"],
    });
    expect(got.status).toBe(200);
    expect(got.headers.get("content-type")).toBe("application/cbor");
    expect(got.body.Datapoints).toEqual([{ Timestamp: at, Sum: 7, Unit: "Count" }]);
  });

  it("restXml: a malformed body first, then a hosted zone created from an XML body and read back", async () => {
    const bad = await signedFetch(server.url, {
      service: "route53",
      path: "/2013-04-01/hostedzone",
      headers: { "content-type": "application/xml" },
      body: "<CreateHostedZoneRequest><Name>example.org",
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain(
      "<Code>InvalidInput</Code><Message>Could not parse the request body as XML</Message>",
    );

    const created = await signedFetch(server.url, {
      service: "route53",
      path: "/2013-04-01/hostedzone",
      headers: { "content-type": "application/xml" },
      body:
        '<CreateHostedZoneRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/">' +
        "<Name>lazy.example.org</Name><CallerReference>lazy-1</CallerReference></CreateHostedZoneRequest>",
    });
    expect(created.status).toBe(201);
    const id = /<Id>\/hostedzone\/([^<]+)<\/Id>/.exec(created.body)?.[1];
    expect(id).toBeDefined();
    const r53 = new Route53Client({
      endpoint: server.url,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts: 1,
    });
    const zone = await r53.send(new GetHostedZoneCommand({ Id: id }));
    expect(zone.HostedZone?.Name).toBe("lazy.example.org.");
  });
});
