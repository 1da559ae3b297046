import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ec2Handlers } from "../../src/api/ec2/index.js";
import { createApiServer } from "../../src/api/server.js";
import { ensureDefaultAccount } from "../../src/cloud/account.js";
import { DEFAULT_HOST } from "../../src/cloud/context.js";
import { DELETED_RETENTION_MS, reconcileEndpoints } from "../../src/cloud/endpoint.js";
import { deleteVpcEndpoints } from "../../src/cloud/endpoint-connections.js";
import { createVpcEndpoint } from "../../src/cloud/endpoint-create.js";
import { State } from "../../src/cloud/state.js";
import { createVpc, ensureRegion } from "../../src/cloud/vpc.js";
import { rootOnFixedClock } from "../helpers/ctx.js";
import { signedFetch } from "../helpers/sign.js";

/**
 * A repeated Describe is answered from the bytes the first one prepared (src/api/prepared.ts).
 * These cases hold the edge to what a fresh read would answer: its own request ID, a change
 * (any commit) in the very next answer, and the clock alone taking a deleted endpoint out of
 * the answer when its retention runs out, with no commit in between. The server runs here
 * without the lifecycle, so nothing commits behind the test's back.
 */
const { rt, ctx } = rootOnFixedClock(11);
const state = new State();
const server = createApiServer({
  state,
  rt,
  host: DEFAULT_HOST,
  auth: "open",
  services: { ec2: ec2Handlers },
  admin: {},
});
let url = "";
let vpcId = "";

beforeAll(async () => {
  state.transact((tx) => ensureDefaultAccount(tx, rt));
  vpcId = state.transact((tx) => {
    ensureRegion(tx, ctx);
    return createVpc(tx, ctx, { cidr: "10.0.0.0/16" }).id;
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const byVpc = () =>
  `Action=DescribeVpcEndpoints&Version=2016-11-15&Filter.1.Name=vpc-id&Filter.1.Value.1=${vpcId}`;

async function endpointIds(): Promise<{ ids: string[]; requestId: string; body: string; raw: string }> {
  const res = await signedFetch(url, { body: byVpc() });
  expect(res.status).toBe(200);
  // A prepared answer is written in pieces: its length must still be the whole body's.
  expect(res.headers.get("content-length")).toBe(String(Buffer.byteLength(res.body)));
  const requestId = /<requestId>([^<]+)<\/requestId>/.exec(res.body)![1]!;
  expect(res.headers.get("x-amzn-requestid")).toBe(requestId);
  const ids = [...res.body.matchAll(/<vpcEndpointId>([^<]+)<\/vpcEndpointId>/g)].map((m) => m[1]!);
  return { ids, requestId, body: res.body.replace(requestId, ""), raw: res.body };
}

describe("prepared answers", () => {
  it("answers a repeat with its own request ID and shows a commit in the next answer", async () => {
    const first = await endpointIds();
    const again = await endpointIds();
    expect(again.requestId).not.toBe(first.requestId);
    expect(again.body).toBe(first.body);
    // Byte for byte the first answer, its own request ID where the first one's was.
    expect(again.raw).toBe(first.raw.replace(first.requestId, again.requestId));
    const { endpoint } = state.transact((tx) =>
      createVpcEndpoint(tx, ctx, { vpcId, serviceName: "com.amazonaws.us-east-1.s3" }),
    );
    expect((await endpointIds()).ids).toEqual([...first.ids, endpoint.id]);
  });

  it("drops a deleted endpoint when its retention runs out, with no commit", async () => {
    const { endpoint } = state.transact((tx) =>
      createVpcEndpoint(tx, ctx, { vpcId, serviceName: "com.amazonaws.us-east-1.dynamodb" }),
    );
    state.transact((tx) => deleteVpcEndpoints(tx, ctx, [endpoint.id]));
    state.transact((tx) => reconcileEndpoints(tx, rt, { endpointServing: () => true }));
    expect(state.get("vpcEndpoint", endpoint.id)!.state).toBe("deleted");
    expect((await endpointIds()).ids).toContain(endpoint.id);
    rt.advance(DELETED_RETENTION_MS - 1);
    expect((await endpointIds()).ids).toContain(endpoint.id);
    const version = state.version;
    rt.advance(1);
    expect((await endpointIds()).ids).not.toContain(endpoint.id);
    expect(state.version).toBe(version);
  });
});
