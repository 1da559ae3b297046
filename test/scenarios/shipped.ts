import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScenario, startTestServer, type TestServer, why } from "./run-scenario.js";

type Run = Awaited<ReturnType<typeof runScenario>>;

/**
 * The shipped scenarios, run as users run them (`privlink scenario run NAME`): what each must
 * show beyond passing and tearing down. Each shipped-N.test.ts runs one row, so the rows run in
 * parallel workers, each against its own server.
 */
const SHIPPED = {
  "secrets-private-app": {
    title: "every check passes, the report prices it, and it tears down",
    check: (r) => {
      expect(r.report.checks).toEqual({ passed: 6, failed: 0 });
      expect(r.report.cost.lines.map((l: { usageType: string }) => l.usageType)).toContain(
        "VpcEndpoint-Hours",
      );
      expect(r.report.cost.nat.total).toBeGreaterThan(r.report.cost.nat.replaces);
    },
  },
  "shared-services": {
    title: "spokes over peering and TGW reach the hub endpoint; a removed TGW route breaks spoke 2 only",
    check: (r) => expect(r.report.checks).toEqual({ passed: 7, failed: 0 }),
  },
  "saas-vendor": {
    title:
      "verified name, acceptance, notifications to V's handler, PROXY v2 seen by V's process, a held connection reset at rejection",
    check: (r) => {
      expect(r.report.checks).toEqual({ passed: 14, failed: 0 });
      const held = r.report.steps.find((s: { title: string }) => s.title.includes("held open is reset"));
      expect(held).toMatchObject({ ok: true, detail: expect.stringContaining("reset by peer") });
      expect(r.report.cost.nat.lines.length).toBeGreaterThan(0);
    },
  },
  "hybrid-onprem": {
    title:
      "the site resolves through the inbound endpoint and calls it over VPN, then over DX with the VPN down",
    check: (r) => {
      expect(r.report.checks).toEqual({ passed: 5, failed: 0 });
      expect(r.report.cost.lines.map((l: { usageType: string }) => l.usageType)).toContain("VPN-Usage-Hours");
    },
  },
  "own-service": {
    title: "Q accepted and metered, R rejected and refused",
    check: (r) => {
      expect(r.report.checks.failed).toBe(0);
      expect(r.report.checks.passed).toBeGreaterThanOrEqual(6);
      expect(r.report.cost.settled).toBe(true);
      expect(r.report.cost.bytes).toBeGreaterThan(0);
    },
  },
  "central-logging": {
    title: "both applications write into L's group, DeleteLogGroup is denied",
    check: (r) => expect(r.report.checks).toEqual({ passed: 5, failed: 0 }),
  },
  "onprem-s3-sync": {
    title: "100 MB synced from the site over DX through the S3 interface endpoint, metered and priced",
    // 100 MB through the endpoint, then CloudWatch's minute before the bytes are billed.
    timeout: 300_000,
    check: (r) => {
      expect(r.report.checks).toEqual({ passed: 8, failed: 0 });
      expect(r.report.cost.settled).toBe(true);
      expect(r.report.cost.bytes).toBeGreaterThanOrEqual(100_000_000);
      // The DX port costs the same either way: the NAT gateways replace the endpoint's lines.
      expect(r.report.cost.nat.total).toBeGreaterThan(r.report.cost.nat.replaces);
      expect(r.report.cost.lines.map((l: { usageType: string }) => l.usageType)).toContain(
        "DirectConnect-Port-Hours",
      );
    },
  },
} satisfies Record<string, Row>;

interface Row {
  title: string;
  check: (r: Run) => void;
  /** The test's limit when the scenario needs more than the default 150 s under load. */
  timeout?: number;
}

/** Declares the test of one shipped scenario: it exits 0, shows its row's checks, and leaves nothing. */
export function shippedScenario(name: keyof typeof SHIPPED): void {
  const row: Row = SHIPPED[name];
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(() => srv?.stop());

  describe("privlink scenario run (shipped scenarios)", { timeout: row.timeout ?? 150_000 }, () => {
    it(`${name}: ${row.title}`, async () => {
      const r = await runScenario(srv, name);
      expect(r.code, why(r)).toBe(0);
      row.check(r);
      expect(r.report.teardown.left).toEqual([]);
    });
  });
}
