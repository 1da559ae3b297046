import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isWireService, protocolOf } from "../../src/api/protocols/index.js";
import { implementedActions, implements_ } from "../helpers/implemented.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { botocoreModel } from "./botocore.js";
import { type SdkCaller, sdkCaller } from "./sdk-call.js";
import { allowedAbsent, ENUM_QUIRKS, TYPE_QUIRKS } from "./shape-allow.js";
import { badXmlTimestamps, checkOutput } from "./shape-check.js";
import { FIXTURES } from "./shape-fixtures.js";
import { World } from "./world.js";

/**
 * Every action privlink implements (handler tables and streaming S3), called by the real SDK with its fixture and
 * checked against AWS's model of its output (botocore's, shipped with the AWS CLI). New actions
 * join by construction: an action without a fixture fails the coverage check, by name.
 */

let srv: TestServer;
let sdk: SdkCaller & { destroy(): void };
let world: World;

beforeAll(async () => {
  srv = await startTestServer();
  sdk = sdkCaller(srv.url);
  world = await new World(sdk, { url: srv.url, admin: (m, p, b) => srv.admin(m, p, b) }).build();
}, 60_000);
afterAll(async () => {
  world?.destroy();
  sdk?.destroy();
  await srv?.stop();
});

/** The implemented actions, as the server serves them (handler tables and streaming S3). */
function registered(): [string, string][] {
  return implementedActions(srv);
}

/** A streamed member (S3 GetObject's Body) read into bytes, as the model types it. */
async function readStreams(output: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out = { ...output };
  for (const [k, v] of Object.entries(out)) {
    const stream = v as { transformToByteArray?: () => Promise<Uint8Array> } | null;
    if (stream && typeof stream.transformToByteArray === "function")
      out[k] = await stream.transformToByteArray();
  }
  return out;
}

describe("response shapes against AWS's models", () => {
  it("has a fixture for every implemented action", () => {
    const missing = registered()
      .filter(([s, a]) => !FIXTURES[s]?.[a])
      .map(([s, a]) => `${s}:${a}`);
    expect(missing, `add these to test/fidelity/shape-fixtures.ts`).toEqual([]);
    const stale = Object.entries(FIXTURES).flatMap(([s, actions]) =>
      Object.keys(actions)
        .filter((a) => !implements_(srv, s, a))
        .map((a) => `${s}:${a}`),
    );
    expect(stale, "fixtures for actions no handler table serves").toEqual([]);
  });

  it("answers every action with every member AWS returns, typed as AWS types it", async () => {
    const problems: string[] = [];
    let checked = 0;
    // Fixture order (the data table's), so destructive fixtures run where they are written.
    for (const [service, actions] of Object.entries(FIXTURES)) {
      // Plain-JSON services (no SDK v3 schema) are driven from botocore's model (sdk-call.ts).
      if (!implements_(srv, service)) continue;
      const model = botocoreModel(service);
      for (const [action, fixture] of Object.entries(actions)) {
        if (!implements_(srv, service, action)) continue;
        let result: Awaited<ReturnType<SdkCaller["send"]>>;
        try {
          result = await sdk.send(service, action, await fixture(world));
        } catch (err) {
          problems.push(`${service}:${action} failed: ${(err as Error).name}: ${(err as Error).message}`);
          continue;
        }
        checked++;
        const outShape = model.operations[action]?.output?.shape;
        if (!outShape) continue;
        const { $metadata: _, ...output } = await readStreams(result.output);
        for (const p of checkOutput(model, outShape, output, allowedAbsent(service, action), {
          enums: ENUM_QUIRKS,
          types: TYPE_QUIRKS,
        }))
          problems.push(`${service}:${action} ${p}`);
        if (service === "s3" || (isWireService(service) && protocolOf(service) !== "awsJson1_1"))
          for (const t of badXmlTimestamps(result.raw))
            problems.push(`${service}:${action} timestamp '${t}' is not in AWS's format`);
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBe(registered().length);
  }, 120_000);
});
