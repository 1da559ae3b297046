/**
 * `privlink up --role api` (docs/agents.md): the API and the central work, no data plane or DNS
 * on its host. Loopback only: needs PostgreSQL (skipped with the reason otherwise), not root.
 */
import { CreateSubnetCommand, CreateVpcCommand, CreateVpcEndpointCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPrivlink } from "../../src/privlink.js";
import { waitEndpoint } from "../dataplane/world.js";
import { postgresMissing, startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const missing = postgresMissing();
if (missing) console.log(`role api tests skipped: ${missing}`);

describe("privlink up --role api", () => {
  it("is refused without the shared store: nobody would serve the data plane", async () => {
    await expect(startPrivlink({ role: "api", port: 0 })).rejects.toThrow(
      "--role api serves no data plane: it needs the shared store (--store postgres://…) and 'privlink agent's on it",
    );
  });
});

describe.skipIf(missing)("privlink up --role api on PostgreSQL", () => {
  let pgs: TestPostgres;
  let server: TestServer;

  beforeAll(async () => {
    pgs = await startPostgres();
    server = await startTestServer({ store: await pgs.createDatabase(), role: "api" });
  });
  afterAll(async () => {
    await server?.stop();
    await pgs?.stop();
  });

  it("answers the API and makes endpoints available, binding no listener, proxy or resolver", async () => {
    const ec2 = server.ec2();
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.9.0.0/16" }))).Vpc!.VpcId!;
    const subnetId = (
      await ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.9.1.0/24", AvailabilityZone: "us-east-1a" }),
      )
    ).Subnet!.SubnetId!;
    const ep = await ec2.send(
      new CreateVpcEndpointCommand({
        VpcEndpointType: "Interface",
        VpcId: vpcId,
        ServiceName: "com.amazonaws.us-east-1.sts",
        SubnetIds: [subnetId],
        PrivateDnsEnabled: false,
      }),
    );
    // The lifecycle runs here; the agents bind the listener when the feed brings the endpoint.
    await waitEndpoint({ ec2, endpointId: ep.VpcEndpoint!.VpcEndpointId! }, "available");
    expect(server.dataplane.dataplane.listenerCount).toBe(0);
    const dns = server.dns.info();
    expect(dns.resolvers).toEqual([]);
    expect(dns.hybrid).toEqual([]);
    expect(dns.publicResolverError).toMatch(/--role api/);
    for (const [method, path, body] of [
      ["GET", "/_privlink/listeners", undefined],
      ["POST", "/_privlink/workloads/proxy", { workload: "i-0123456789abcdef0" }],
    ] as const)
      await expect(server.admin(method, path, body)).rejects.toThrow(/409 .*DataPlaneNotHere/);
  });
});
