import {
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { afterAll, describe, expect, it } from "vitest";
import { tempHomes } from "../helpers/homes.js";
import { startTestServer } from "../helpers/server.js";
import { spawnPrivlink } from "../helpers/spawn.js";

const homes = tempHomes("privlink-persist-");
const newHome = homes.make;
afterAll(() => {
  homes.removeAll();
});

const client = (url: string) =>
  new EC2Client({
    endpoint: url,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });

describe("persistence", () => {
  it("restores everything after a clean restart", async () => {
    const home = newHome();
    let srv = await startTestServer({ home });
    const vpc = (await srv.ec2().send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }))).Vpc!.VpcId!;
    const subnet = (await srv.ec2().send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: "10.0.1.0/24" })))
      .Subnet!.SubnetId!;
    const before = await srv.ec2().send(new DescribeVpcsCommand({}));
    await srv.stop();
    srv = await startTestServer({ home });
    const after = await srv.ec2().send(new DescribeVpcsCommand({}));
    expect(after.Vpcs).toEqual(before.Vpcs);
    expect(
      (await srv.ec2().send(new DescribeSubnetsCommand({ SubnetIds: [subnet] }))).Subnets![0]!.VpcId,
    ).toBe(vpc);
    await srv.stop();
  });

  it("loses nothing acknowledged and leaves nothing half-made when killed with SIGKILL mid-burst", async () => {
    const home = newHome();
    const first = await spawnPrivlink(home);
    const ec2 = client(first.url);
    const acknowledged: string[] = [];
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop && i < 500; i++) {
        try {
          const r = await ec2.send(new CreateVpcCommand({ CidrBlock: `10.${(w * 50 + i) % 250}.0.0/16` }));
          acknowledged.push(r.Vpc!.VpcId!);
        } catch {
          return; // the server is gone
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    while (acknowledged.length < 60) await new Promise((r) => setTimeout(r, 5));
    first.child.kill("SIGKILL");
    stop = true;
    await Promise.all(writers);
    await new Promise((r) => first.child.once("exit", r));
    const second = await spawnPrivlink(home);
    try {
      const c = client(second.url);
      const vpcs = (await c.send(new DescribeVpcsCommand({}))).Vpcs!.filter((v) => !v.IsDefault);
      const ids = new Set(vpcs.map((v) => v.VpcId));
      for (const id of acknowledged) expect(ids.has(id), id).toBe(true);
      // Every VPC that exists came with its main route table and default group, in one transaction.
      const rts = (await c.send(new DescribeRouteTablesCommand({}))).RouteTables!;
      const sgs = (await c.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!;
      for (const v of vpcs) {
        expect(rts.some((r) => r.VpcId === v.VpcId && r.Associations?.some((a) => a.Main))).toBe(true);
        expect(sgs.some((g) => g.VpcId === v.VpcId && g.GroupName === "default")).toBe(true);
      }
    } finally {
      second.child.kill("SIGTERM");
      await new Promise((r) => second.child.once("exit", r));
    }
  });
});
