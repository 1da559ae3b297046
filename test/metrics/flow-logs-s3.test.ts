import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemRuntime } from "../../src/cloud/runtime.js";
import { until } from "../dataplane/world.js";
import { runAws } from "../helpers/spawn.js";
import { type MeteredWorld, meteredWorld, shiftedRuntime } from "./world.js";

/**
 * Flow logs delivered to the built-in S3: objects under AWS's key layout, gzip with a header
 * line, read back with `aws s3 ls` and `aws s3 cp`; a missing bucket is refused at creation and
 * a bucket gone later is DeliverLogsStatus FAILED with the reason.
 */
describe("VPC Flow Logs to S3", () => {
  const rt = shiftedRuntime(systemRuntime);
  let w: MeteredWorld;
  const SENT = 2345;
  const aws = async (...args: string[]) => {
    const r = await runAws([...args, "--output", "json"], w.server.cliEnv(w.consumer.creds));
    if (r.code !== 0) throw new Error(`${args.join(" ")}: ${r.stderr}`);
    return r.stdout ? JSON.parse(r.stdout) : {};
  };
  const toS3 = (destination: string) =>
    aws(
      "ec2",
      "create-flow-logs",
      "--resource-type",
      "VPC",
      "--resource-ids",
      w.consumer.vpcId,
      "--traffic-type",
      "ALL",
      "--log-destination-type",
      "s3",
      "--log-destination",
      destination,
      "--max-aggregation-interval",
      "60",
    );

  beforeAll(async () => {
    w = await meteredWorld({ runtime: rt });
    await aws("s3api", "create-bucket", "--bucket", "flow-bucket");
    await aws("s3api", "create-bucket", "--bucket", "doomed-bucket");
    expect((await toS3("arn:aws:s3:::flow-bucket/team-a")).FlowLogIds).toHaveLength(1);
    expect((await toS3("arn:aws:s3:::doomed-bucket")).FlowLogIds).toHaveLength(1);
    await aws("s3api", "delete-bucket", "--bucket", "doomed-bucket");
    await w.send(SENT);
    await w.server.flowLogs.tick();
    rt.advance(61_000);
    await w.server.flowLogs.tick();
  }, 60_000);

  afterAll(async () => {
    await w?.close();
  });

  it("writes gzip objects under AWS's key layout, readable with aws s3 cp, header first", async () => {
    const listed = await aws("s3api", "list-objects-v2", "--bucket", "flow-bucket");
    const keys = (listed.Contents as { Key: string }[]).map((c) => c.Key);
    const flId = (await aws("ec2", "describe-flow-logs")).FlowLogs.find(
      (f: { LogDestination: string }) => f.LogDestination === "arn:aws:s3:::flow-bucket/team-a",
    ).FlowLogId;
    const day = rt.now().toISOString().slice(0, 10).replace(/-/g, "/");
    const layout = new RegExp(
      `^team-a/AWSLogs/222222222222/vpcflowlogs/us-east-1/${day}/222222222222_vpcflowlogs_us-east-1_${flId}_\\d{8}T\\d{4}Z_[0-9a-f]{8}\\.log\\.gz$`,
    );
    expect(keys.length).toBeGreaterThanOrEqual(1);
    for (const k of keys) expect(k).toMatch(layout);
    const dir = mkdtempSync(join(tmpdir(), "flow-s3-"));
    const lines: string[] = [];
    for (const k of keys) {
      const file = join(dir, k.split("/").pop()!);
      const r = await runAws(["s3", "cp", `s3://flow-bucket/${k}`, file], w.server.cliEnv(w.consumer.creds));
      expect(r.code, r.stderr).toBe(0);
      const text = gunzipSync(readFileSync(file)).toString("utf8").trim().split("\n");
      expect(text[0]).toBe(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status",
      );
      lines.push(...text.slice(1));
    }
    const ep = w.server.state.get("vpcEndpoint", w.consumer.endpointId)!;
    const accepted = lines
      .map((l) => l.split(" "))
      .find((f) => f[2] === ep.enis[0]!.eniId && f[9] === String(SENT) && f[12] === "ACCEPT");
    expect(accepted, lines.join("\n")).toBeDefined();
  });

  it("a bucket deleted after creation is DeliverLogsStatus FAILED with the reason", async () => {
    const failed = await until(async () => {
      const out = await aws("ec2", "describe-flow-logs", "--filter", "Name=deliver-log-status,Values=FAILED");
      return out.FlowLogs.length ? out.FlowLogs : undefined;
    }, "FAILED status");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      LogDestinationType: "s3",
      LogDestination: "arn:aws:s3:::doomed-bucket",
      DeliverLogsStatus: "FAILED",
      DeliverLogsErrorMessage: "Access error: LogDestination: doomed-bucket does not exist.",
    });
  });

  it("a missing bucket is refused per resource at creation, as AWS does", async () => {
    const out = await toS3("arn:aws:s3:::no-such-bucket-here");
    expect(out.FlowLogIds).toEqual([]);
    expect(out.Unsuccessful[0]).toEqual({
      ResourceId: w.consumer.vpcId,
      Error: { Code: "400", Message: "LogDestination: no-such-bucket-here does not exist." },
    });
  });

  it("another account's bucket without a policy for delivery.logs.amazonaws.com fails delivery with Access Denied", async () => {
    await runAws(
      ["s3api", "create-bucket", "--bucket", "provider-owned"],
      w.server.cliEnv(w.provider.creds),
    ).then((r) => expect(r.code, r.stderr).toBe(0));
    await toS3("arn:aws:s3:::provider-owned");
    const failed = await until(async () => {
      const out = await aws("ec2", "describe-flow-logs");
      return out.FlowLogs.find(
        (f: { LogDestination: string; DeliverLogsStatus: string }) =>
          f.LogDestination === "arn:aws:s3:::provider-owned" && f.DeliverLogsStatus === "FAILED",
      );
    }, "FAILED for the foreign bucket");
    expect(failed.DeliverLogsErrorMessage).toBe(
      "Access error: Access Denied for LogDestination: provider-owned. Please check LogDestination permission.",
    );
  });
});
