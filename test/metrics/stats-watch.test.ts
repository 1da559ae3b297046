import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rateTable } from "../../src/cli/stats-watch.js";
import { until } from "../dataplane/world.js";
import { BIN } from "../helpers/spawn.js";
import { type MeteredWorld, meteredWorld } from "./world.js";

const row = (id: string, bytesIn: number, bytesOut: number) => ({
  vpcEndpointId: id,
  bytesIn,
  bytesOut,
  newConnections: 1,
  activeConnections: 0,
  resets: 0,
  idleTimeouts: 0,
  dropped: 0,
});

describe("privlink stats --watch", () => {
  it("computes bytes/s per endpoint from two samples, busiest first, bounded to the rows given", () => {
    const prev = { endpoints: [row("vpce-a", 100, 0), row("vpce-b", 0, 0)], enis: [], natGateways: [] };
    const next = {
      endpoints: [row("vpce-a", 300, 50), row("vpce-b", 1000, 2000), row("vpce-c", 10, 0)],
      enis: [],
      natGateways: [],
    };
    const text = rateTable(prev, next, 2, 2, new Date(0)).split("\n");
    expect(text[1]).toMatch(/^endpoint\s+in B\/s\s+out B\/s\s+active\s+bytes in\s+bytes out$/);
    expect(text[2]!.split(/\s+/)).toEqual(["vpce-b", "500", "1000", "0", "1000", "2000"]);
    expect(text[3]!.split(/\s+/)).toEqual(["vpce-a", "100", "25", "0", "300", "50"]);
    expect(text[4]).toBe("… and 1 more endpoints");
  });

  describe("against a running server", () => {
    let w: MeteredWorld;
    beforeAll(async () => {
      w = await meteredWorld();
    }, 60_000);
    afterAll(async () => {
      await w?.close();
    });

    const watch = (args: string[]) => {
      const child = spawn(process.execPath, [BIN, "stats", "--watch", ...args], {
        env: w.server.cliEnv(),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
      return { child, out: () => out, exited };
    };

    it("redraws a table per sample, shows the endpoint's bytes, stops after --count", async () => {
      await w.send(5000);
      const run = watch(["--interval", "0.2", "--count", "3"]);
      expect(await run.exited).toBe(0);
      const tables = run.out().split("privlink stats --watch").slice(1);
      expect(tables).toHaveLength(3);
      expect(tables[2]).toMatch(new RegExp(`${w.consumer.endpointId}\\s+\\d+\\s+\\d+\\s+0\\s+5000\\s+0`));
    });

    it("exits cleanly on Ctrl-C", async () => {
      const run = watch(["--interval", "0.2"]);
      await until(() => (run.out().includes("privlink stats --watch") ? true : undefined), "first table");
      run.child.kill("SIGINT");
      expect(await run.exited).toBe(0);
    });
  });
});
