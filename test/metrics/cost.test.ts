import { CreateSubnetCommand, CreateVpcCommand, CreateVpcEndpointCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemRuntime } from "../../src/cloud/runtime.js";
import { endpointDimensions } from "../../src/services/cloudwatch/publisher.js";
import { single } from "../../src/services/cloudwatch/statistics.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runCli } from "../helpers/spawn.js";
import { shiftedRuntime } from "./world.js";

const GB = 1024 ** 3;

/**
 * The fixture of the issue: two interface endpoints, each in two AZs, for 2.5 hours (billed 3),
 * 10 GB processed between them; `privlink cost` must equal the bill computed by hand.
 */
describe("privlink cost", () => {
  const rt = shiftedRuntime(systemRuntime);
  let server: TestServer;
  let ids: string[];

  beforeAll(async () => {
    server = await startTestServer({ runtime: rt });
    const ec2 = server.ec2();
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.9.0.0/16" }))).Vpc!.VpcId!;
    const subnets: string[] = [];
    for (const [i, az] of ["us-east-1a", "us-east-1b"].entries())
      subnets.push(
        (
          await ec2.send(
            new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.9.${i}.0/24`, AvailabilityZone: az }),
          )
        ).Subnet!.SubnetId!,
      );
    ids = [];
    for (const svc of ["secretsmanager", "logs"])
      ids.push(
        (
          await ec2.send(
            new CreateVpcEndpointCommand({
              VpcEndpointType: "Interface",
              VpcId: vpcId,
              ServiceName: `com.amazonaws.us-east-1.${svc}`,
              SubnetIds: subnets,
              PrivateDnsEnabled: false,
            }),
          )
        ).VpcEndpoint!.VpcEndpointId!,
      );
    // 6 GB and 4 GB processed, as the data plane's publisher would have recorded them.
    const now = Math.floor(rt.now().getTime() / 1000);
    await server.cloudwatch.metrics.store.put(
      ids.map((id, i) => {
        const ep = server.state.get("vpcEndpoint", id)!;
        return {
          key: {
            accountId: ep.accountId,
            region: ep.region,
            namespace: "AWS/PrivateLinkEndpoints",
            metricName: "BytesProcessed",
            dimensions: endpointDimensions(ep),
          },
          ts: now - (now % 60),
          agg: single((i === 0 ? 6 : 4) * GB),
          unit: "Bytes",
        };
      }),
    );
    rt.advance(2.5 * 3_600_000);
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
  });

  const cost = (...args: string[]) =>
    runCli(["cost", ...args], { ...process.env, PRIVLINK_URL: server.url, PRIVLINK_HOME: server.home });

  it("equals the bill computed by hand, with the NAT gateway alternative", async () => {
    const r = await cost("--json", "--what-if", "nat");
    expect(r.code, r.stderr).toBe(0);
    const b = JSON.parse(r.stdout);
    // By hand: 2 endpoints x 2 AZ x 3 h x $0.01 = $0.12; 10 GB x $0.01 = $0.10.
    expect(b.total).toBeCloseTo(0.22, 6);
    const hours = b.lines.filter((l: { usageType: string }) => l.usageType === "VpcEndpoint-Hours");
    expect(
      hours.map((l: { resource: string; quantity: number; cost: number }) => [
        l.resource,
        l.quantity,
        l.cost,
      ]),
    ).toEqual([
      [ids[0], 6, 0.06],
      [ids[1], 6, 0.06],
    ]);
    const data = b.lines.filter((l: { usageType: string }) => l.usageType === "VpcEndpoint-Bytes");
    expect(data.map((l: { quantity: number; cost: number }) => [l.quantity, l.cost])).toEqual([
      [6, 0.06],
      [4, 0.04],
    ]);
    expect(b.byPayer).toEqual({ "000000000000": 0.22 });
    // NAT instead: one gateway in each of the 2 AZs for 3 h x $0.045 = $0.27, 10 GB x $0.045 = $0.45.
    expect(b.whatIfNat.total).toBeCloseTo(0.72, 6);
    expect(b.whatIfNat.difference).toBeCloseTo(0.5, 6);
  });

  it("prints a table, CSV, and takes a prices file", async () => {
    const t = await cost("--what-if", "nat");
    expect(t.stdout).toMatch(/total \$0\.2200/);
    expect(t.stdout).toMatch(/NAT total \$0\.7200 \(endpoints save \$0\.5000\)/);
    const csv = await cost("--csv");
    expect(csv.stdout.split("\n")[0]).toBe(
      "resource,account,payer,usageType,quantity,unit,rate,cost,description",
    );
    const { writeFileSync } = await import("node:fs");
    const file = `${server.home}/prices.json`;
    writeFileSync(file, JSON.stringify({ interfaceEndpointAzHour: 0.02 }));
    const custom = JSON.parse((await cost("--json", "--prices", file)).stdout);
    expect(custom.total).toBeCloseTo(0.34, 6);
    const bad = await cost("--since", "tomorrow");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/not a time/);
  });
});
