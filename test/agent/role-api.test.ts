/**
 * `privlink up --role api` (docs/agents.md): the API and the central work, no data plane or DNS
 * on its host. Loopback only: needs PostgreSQL (skipped with the reason otherwise), not root.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPrivlink } from "../../src/privlink.js";
import { waitEndpoint } from "../dataplane/world.js";
import { makeEndpoint, makeNetwork } from "../front/fixture.js";
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
    const { endpointId } = await makeEndpoint(server, await makeNetwork(server), "sts");
    // The lifecycle runs here; the agents bind the listener when the feed brings the endpoint.
    await waitEndpoint({ ec2: server.ec2(), endpointId }, "available");
    expect(server.dataplane.dataplane.listenerCount).toBe(0);
    const dns = server.dns.info();
    expect(dns.resolvers).toEqual([]);
    expect(dns.hybrid).toEqual([]);
    expect(dns.publicResolverError).toMatch(/--role api/);
    await expect(server.admin("GET", "/_privlink/listeners")).rejects.toThrow(/409 .*DataPlaneNotHere/);
    // A workload's proxy is asked of the agent serving its VPC (test/agent/agent-ops.test.ts).
    await expect(
      server.admin("POST", "/_privlink/workloads/proxy", { workload: "i-0123456789abcdef0" }),
    ).rejects.toThrow(/404 .*no instance i-0123456789abcdef0/);
  });
});
