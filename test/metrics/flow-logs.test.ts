import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RevokeSecurityGroupIngressCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemRuntime } from "../../src/cloud/runtime.js";
import { exchange, until } from "../dataplane/world.js";
import { runAws } from "../helpers/spawn.js";
import { type MeteredWorld, meteredWorld, shiftedRuntime } from "./world.js";

/**
 * A real connection and a real refusal through an endpoint, logged by VPC Flow Logs created
 * with the AWS CLI, read back from the file destination in AWS's v2 format.
 */
describe("VPC Flow Logs from real flows", () => {
  const rt = shiftedRuntime(systemRuntime);
  let w: MeteredWorld;
  let lines: string[];
  let custom: string[];
  const SENT = 4321;

  const ec2 = async (...args: string[]) => {
    const r = await runAws(["ec2", ...args, "--output", "json"], w.server.cliEnv(w.consumer.creds));
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout || "{}");
  };
  const ips = () => {
    const s = w.server.state;
    const ep = s.get("vpcEndpoint", w.consumer.endpointId)!;
    const epEni = s.get("eni", ep.enis[0]!.eniId)!;
    const wlEni = s.get("eni", s.get("instance", w.consumer.instanceId)!.eniId)!;
    return { epEni, wlEni };
  };

  beforeAll(async () => {
    w = await meteredWorld({ runtime: rt });
    const created = await ec2(
      "create-flow-logs",
      "--resource-type",
      "VPC",
      "--resource-ids",
      w.consumer.vpcId,
      "--traffic-type",
      "ALL",
      "--log-destination-type",
      "file",
      "--log-destination",
      "consumer/vpc.log",
      "--max-aggregation-interval",
      "60",
    );
    expect(created.FlowLogIds).toHaveLength(1);
    await ec2(
      "create-flow-logs",
      "--resource-type",
      "NetworkInterface",
      "--resource-ids",
      ips().epEni.id,
      "--traffic-type",
      "ACCEPT",
      "--log-destination-type",
      "file",
      "--log-destination",
      "consumer/v5.log",
      "--max-aggregation-interval",
      "60",
      "--log-format",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: AWS's own LogFormat syntax, not a template
      "${version} ${interface-id} ${vpc-id} ${subnet-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${az-id} ${region} ${flow-direction} ${traffic-path} ${action}",
    );
    const logs = await runAws(
      ["logs", "create-log-group", "--log-group-name", "vpc-flows"],
      w.server.cliEnv(w.consumer.creds),
    );
    expect(logs.code, logs.stderr).toBe(0);
    await ec2(
      "create-flow-logs",
      "--resource-type",
      "VPC",
      "--resource-ids",
      w.consumer.vpcId,
      "--traffic-type",
      "ALL",
      "--log-group-name",
      "vpc-flows",
      "--deliver-logs-permission-arn",
      "arn:aws:iam::222222222222:role/flow-logs",
      "--max-aggregation-interval",
      "60",
    );
    await w.send(SENT);
    await w.consumer.ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: w.consumer.endpointSg,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: w.provider.listenerPort,
            ToPort: w.provider.listenerPort,
            UserIdGroupPairs: [{ GroupId: w.consumer.workloadSg }],
          },
        ],
      }),
    );
    await until(async () => {
      const out = await exchange(
        { host: w.addr.endpoint, port: w.provider.listenerPort },
        w.addr.workload,
        Buffer.from("x"),
      );
      return out.kind === "refused" ? true : undefined;
    }, "the refusal");
    await w.server.flowLogs.tick();
    rt.advance(61_000);
    await w.server.flowLogs.tick();
    const dir = join(w.server.home, "flow-logs", "consumer");
    lines = readFileSync(join(dir, "vpc.log"), "utf8").trim().split("\n");
    custom = readFileSync(join(dir, "v5.log"), "utf8").trim().split("\n");
  }, 60_000);

  afterAll(async () => {
    await w?.close();
  });

  it("an ACCEPT record on the endpoint's interface carries the bytes sent, in private addresses", () => {
    const { epEni, wlEni } = ips();
    const rec = lines
      .map((l) => l.split(" "))
      .find((f) => f[2] === epEni.id && f[3] === wlEni.privateIp && f[12] === "ACCEPT");
    expect(rec, lines.join("\n")).toBeDefined();
    const [version, account, , src, dst, , dstport, proto, packets, bytes, start, end, , status] = rec!;
    expect([version, account, src, dst, dstport, proto, bytes, status]).toEqual([
      "2",
      "222222222222",
      wlEni.privateIp,
      epEni.privateIp,
      String(w.provider.listenerPort),
      "6",
      String(SENT),
      "OK",
    ]);
    expect(Number(packets)).toBeGreaterThanOrEqual(3);
    expect(Number(end)).toBeGreaterThanOrEqual(Number(start));
    expect(lines.every((l) => !l.includes("127."))).toBe(true);
  });

  it("the response direction and the workload's own interface are logged too", () => {
    const { epEni, wlEni } = ips();
    const f = lines.map((l) => l.split(" "));
    expect(f.some((r) => r[2] === epEni.id && r[3] === epEni.privateIp && r[4] === wlEni.privateIp)).toBe(
      true,
    );
    expect(f.some((r) => r[2] === wlEni.id && r[3] === wlEni.privateIp && r[9] === String(SENT))).toBe(true);
  });

  it("the refused connection is a REJECT record on the endpoint's interface", () => {
    const { epEni, wlEni } = ips();
    const rej = lines.map((l) => l.split(" ")).filter((r) => r[12] === "REJECT");
    expect(rej.length).toBeGreaterThanOrEqual(1);
    expect(rej[0]!.slice(2, 5)).toEqual([epEni.id, wlEni.privateIp, epEni.privateIp]);
    expect(rej[0]![6]).toBe(String(w.provider.listenerPort));
    expect(rej[0]![8]).toBe("1");
  });

  it("CloudWatch Logs has the ACCEPT and the REJECT, one stream per interface, readable with filter-log-events", async () => {
    const { epEni, wlEni } = ips();
    const r = await runAws(
      ["logs", "filter-log-events", "--log-group-name", "vpc-flows", "--output", "json"],
      w.server.cliEnv(w.consumer.creds),
    );
    expect(r.code, r.stderr).toBe(0);
    const events = JSON.parse(r.stdout).events as { logStreamName: string; message: string }[];
    const onEndpoint = events.filter((e) => e.logStreamName === epEni.id).map((e) => e.message.split(" "));
    expect(
      onEndpoint.some((f) => f[3] === wlEni.privateIp && f[9] === String(SENT) && f[12] === "ACCEPT"),
    ).toBe(true);
    expect(onEndpoint.some((f) => f[3] === wlEni.privateIp && f[12] === "REJECT")).toBe(true);
    expect(events.some((e) => e.logStreamName === wlEni.id)).toBe(true);
    const rejects = await runAws(
      [
        "logs",
        "filter-log-events",
        "--log-group-name",
        "vpc-flows",
        "--filter-pattern",
        "REJECT",
        "--output",
        "json",
      ],
      w.server.cliEnv(w.consumer.creds),
    );
    expect(
      JSON.parse(rejects.stdout).events.every((e: { message: string }) => e.message.includes("REJECT")),
    ).toBe(true);
  });

  it("a custom LogFormat writes the v3-v5 fields, and keeps ACCEPT only", () => {
    const { epEni, wlEni } = ips();
    const subnet = w.server.state.get("subnet", epEni.subnetId)!;
    const ingress = custom.map((l) => l.split(" ")).find((r) => r[9] === "ingress");
    expect(ingress).toEqual([
      "5",
      epEni.id,
      w.consumer.vpcId,
      epEni.subnetId,
      expect.stringMatching(/^\d+$/),
      "IPv4",
      wlEni.privateIp,
      subnet.azId,
      "us-east-1",
      "ingress",
      "-",
      "ACCEPT",
    ]);
    expect(Number(ingress![4]) & 2).toBe(2);
    expect(custom.every((l) => l.endsWith("ACCEPT"))).toBe(true);
  });

  it("DescribeFlowLogs shows the file logs delivering and AWS-only destinations FAILED with the reason", async () => {
    await ec2(
      "create-flow-logs",
      "--resource-type",
      "Subnet",
      "--resource-ids",
      w.consumer.subnetId,
      "--traffic-type",
      "REJECT",
      "--log-group-name",
      "missing-group",
      "--deliver-logs-permission-arn",
      "arn:aws:iam::222222222222:role/flow-logs",
    );
    const failed = await until(async () => {
      const out = await ec2("describe-flow-logs", "--filter", "Name=deliver-log-status,Values=FAILED");
      return out.FlowLogs.length ? out.FlowLogs : undefined;
    }, "FAILED status");
    expect(failed[0]).toMatchObject({
      LogDestinationType: "cloud-watch-logs",
      LogGroupName: "missing-group",
      TrafficType: "REJECT",
      FlowLogStatus: "ACTIVE",
      DeliverLogsStatus: "FAILED",
    });
    expect(failed[0].DeliverLogsErrorMessage).toBe(
      "Access error: the log group missing-group does not exist",
    );
    const all = await ec2("describe-flow-logs");
    expect(
      all.FlowLogs.filter((f: { DeliverLogsStatus: string }) => f.DeliverLogsStatus === "SUCCESS"),
    ).toHaveLength(3);
  });

  it("bad input: a duplicate, a missing resource, a bad interval, an unknown field", async () => {
    const dup = await ec2(
      "create-flow-logs",
      "--resource-type",
      "VPC",
      "--resource-ids",
      w.consumer.vpcId,
      "vpc-0123456789abcdef0",
      "--traffic-type",
      "ALL",
      "--log-destination-type",
      "file",
      "--log-destination",
      "consumer/vpc.log",
    );
    expect(dup.FlowLogIds).toEqual([]);
    expect(dup.Unsuccessful.map((u: { Error: { Code: string } }) => u.Error.Code)).toEqual([
      "FlowLogAlreadyExists",
      "InvalidVpcID.NotFound",
    ]);
    const bad = (...extra: string[]) =>
      runAws(
        [
          "ec2",
          "create-flow-logs",
          "--resource-type",
          "VPC",
          "--resource-ids",
          w.consumer.vpcId,
          "--traffic-type",
          "ALL",
          "--log-destination-type",
          "file",
          ...extra,
        ],
        w.server.cliEnv(w.consumer.creds),
      );
    expect((await bad("--max-aggregation-interval", "120")).stderr).toMatch(/InvalidParameterValue/);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: AWS's own LogFormat syntax, not a template
    expect((await bad("--log-format", "${version} ${nope}")).stderr).toMatch(/InvalidParameter.*nope/);
    const del = await ec2("delete-flow-logs", "--flow-log-ids", "fl-0123456789abcdef0");
    expect(del.Unsuccessful[0].Error.Code).toBe("InvalidFlowLogId.NotFound");
  });
});
