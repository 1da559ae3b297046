/**
 * Several hosts (docs/agents.md): a node serves the DNS servers of the units placed on it only
 * (a site's by `site:ID`, as a VPC's resolver by its VPC ID) and follows a move on `relisten()`. Loopback; the resolvers under test use port 0, beside the test server's own.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startResolvers } from "../../src/dns/resolvers.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

describe("DNS servers by placement", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it("serves a site's DNS server only while its unit is placed here", async () => {
    await srv.admin("POST", "/_privlink/sites", { name: "onprem", cidr: "192.168.0.0/16" });
    let placed = new Set<string>();
    const dns = await startResolvers({
      state: srv.state,
      port: 0,
      listenPublic: false,
      serves: (unit) => placed.has(unit),
    });
    try {
      await dns.settled();
      expect(dns.info().hybrid).toEqual([]);
      placed = new Set(["site:onprem"]);
      await dns.relisten();
      expect(dns.info().hybrid.map((h) => [h.serves, h.error])).toEqual([["site:onprem", undefined]]);
      placed = new Set();
      await dns.relisten();
      expect(dns.info().hybrid).toEqual([]);
    } finally {
      await dns.close();
    }
  });
});
