import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DescribeAccountAttributesCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInternetGatewaysCommand,
  DescribeRegionsCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runCli, spawnPrivlink } from "../helpers/spawn.js";

let srv: TestServer;
let ec2: EC2Client;
beforeAll(async () => {
  srv = await startTestServer();
  ec2 = srv.ec2();
});
afterAll(() => srv.stop());

describe("regions and zones", () => {
  it("lists every commercial region with its endpoint", async () => {
    const r = await ec2.send(new DescribeRegionsCommand({}));
    const names = r.Regions!.map((x) => x.RegionName);
    for (const n of ["us-east-1", "us-west-2", "eu-central-1", "ap-southeast-2", "sa-east-1"])
      expect(names).toContain(n);
    expect(r.Regions!.find((x) => x.RegionName === "eu-west-1")).toMatchObject({
      Endpoint: "ec2.eu-west-1.amazonaws.com",
    });
    const f = await ec2.send(
      new DescribeRegionsCommand({ Filters: [{ Name: "region-name", Values: ["us-*"] }] }),
    );
    expect(f.Regions!.every((x) => x.RegionName!.startsWith("us-"))).toBe(true);
    expect((await fails(ec2.send(new DescribeRegionsCommand({ RegionNames: ["mars-north-1"] })))).name).toBe(
      "InvalidParameterValue",
    );
  });

  it("names real AZs and AZ IDs, per region", async () => {
    const z = await ec2.send(new DescribeAvailabilityZonesCommand({}));
    expect(z.AvailabilityZones!.slice(0, 2).map((a) => [a.ZoneName, a.ZoneId, a.State])).toEqual([
      ["us-east-1a", "use1-az1", "available"],
      ["us-east-1b", "use1-az2", "available"],
    ]);
    const west = await srv.ec2("us-west-1").send(new DescribeAvailabilityZonesCommand({}));
    expect(west.AvailabilityZones!.map((a) => a.ZoneId)).toEqual(["usw1-az1", "usw1-az3"]);
    const byId = await ec2.send(new DescribeAvailabilityZonesCommand({ ZoneIds: ["use1-az2"] }));
    expect(byId.AvailabilityZones!.map((a) => a.ZoneName)).toEqual(["us-east-1b"]);
    expect(
      (await fails(ec2.send(new DescribeAvailabilityZonesCommand({ ZoneNames: ["us-east-1q"] })))).name,
    ).toBe("InvalidParameterValue");
  });

  it("answers account attributes and shows the default VPC's internet gateway", async () => {
    const a = await ec2.send(new DescribeAccountAttributesCommand({}));
    expect(a.AccountAttributes!.map((x) => x.AttributeName)).toContain("supported-platforms");
    const g = await ec2.send(new DescribeInternetGatewaysCommand({}));
    expect(g.InternetGateways).toHaveLength(1);
    expect(g.InternetGateways![0]!.Attachments![0]!.State).toBe("available");
  });
});

describe("the privlink process", () => {
  it("shuts down cleanly on SIGTERM and status says so", async () => {
    const home = mkdtempSync(join(tmpdir(), "privlink-proc-"));
    try {
      const p = await spawnPrivlink(home);
      expect(p.output()).toContain("AWS_ACCESS_KEY_ID=test");
      const env = { ...process.env, PRIVLINK_HOME: home, PRIVLINK_URL: "" };
      const up = await runCli(["status", "--json"], env);
      expect(JSON.parse(up.stdout)).toMatchObject({ running: true, url: p.url });
      const code = await new Promise<number | null>((resolve) => {
        p.child.once("exit", (c) => resolve(c));
        p.child.kill("SIGTERM");
      });
      expect(code).toBe(0);
      expect(existsSync(join(home, "server.json"))).toBe(false);
      const down = await runCli(["status"], { ...env, PRIVLINK_PORT: "1" });
      expect(down.code).toBe(3);
      expect(down.stdout).toContain("not running");
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
