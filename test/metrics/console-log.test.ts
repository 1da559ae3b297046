import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { consoleLog } from "../../src/cli/console-log.js";
import { runAws, spawnPrivlink } from "../helpers/spawn.js";
import { meteredWorld } from "./world.js";

describe("privlink up --log", () => {
  const home = mkdtempSync(join(tmpdir(), "privlink-log-"));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it("--log requests --log-format json prints one pino line per API call", async () => {
    const p = await spawnPrivlink(home, ["--log", "requests", "--log-format", "json"]);
    try {
      const env = {
        ...process.env,
        AWS_ENDPOINT_URL: p.url,
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
        AWS_DEFAULT_REGION: "us-east-1",
        AWS_CONFIG_FILE: "/dev/null",
        AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      };
      await runAws(["ec2", "describe-vpcs"], env);
      await runAws(["ec2", "describe-vpcs", "--vpc-ids", "vpc-0123456789abcdef0"], env);
      const lines = p
        .output()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l));
      expect(lines[0]).toMatchObject({
        kind: "request",
        service: "ec2",
        action: "DescribeVpcs",
        status: 200,
        accountId: "000000000000",
        region: "us-east-1",
      });
      expect(typeof lines[0].ms).toBe("number");
      expect(lines[1]).toMatchObject({ action: "DescribeVpcs", status: 400, code: "InvalidVpcID.NotFound" });
    } finally {
      p.child.kill("SIGTERM");
    }
  }, 60_000);

  it("--log flows prints admitted flows in private addresses", async () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (d) => (text += d));
    const w = await meteredWorld({ flowTap: (await consoleLog(new Set(["flows"]), "text", out)).flowTap });
    try {
      await w.send(10);
      const wl = w.server.state.get("eni", w.server.state.get("instance", w.consumer.instanceId)!.eniId)!;
      expect(text).toMatch(
        new RegExp(
          `ACCEPT ${wl.privateIp.replace(/\./g, "\\.")}:\\d+ -> 10\\.1\\.1\\.\\d+:${w.provider.listenerPort} \\(eni-`,
        ),
      );
    } finally {
      await w.close();
    }
  }, 60_000);
});
