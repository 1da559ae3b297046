import { randomBytes } from "node:crypto";
import { DescribeVpcsCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminFetch } from "../helpers/admin.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { signedFetch } from "../helpers/sign.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv.stop());

const code = (xml: string) => /<Code>([^<]+)<\/Code>/.exec(xml)?.[1];

describe("bad input on the EC2 wire", () => {
  const cases: {
    name: string;
    body: string | Buffer;
    headers?: Record<string, string>;
    status: number;
    code: string;
  }[] = [
    {
      name: "unknown action",
      body: "Action=StealEverything&Version=2016-11-15",
      status: 400,
      code: "InvalidAction",
    },
    { name: "no action", body: "Version=2016-11-15", status: 400, code: "MissingAction" },
    {
      name: "malformed VPC ID",
      body: "Action=DeleteVpc&Version=2016-11-15&VpcId=not-a-vpc",
      status: 400,
      code: "InvalidVpcID.Malformed",
    },
    {
      name: "missing required parameter",
      body: "Action=DeleteVpc&Version=2016-11-15",
      status: 400,
      code: "MissingParameter",
    },
    {
      name: "non-numeric MaxResults",
      body: "Action=DescribeVpcs&Version=2016-11-15&MaxResults=lots",
      status: 400,
      code: "InvalidParameterValue",
    },
    {
      name: "unknown parameter",
      body: "Action=DescribeVpcs&Version=2016-11-15&Colour=blue",
      status: 400,
      code: "UnknownParameter",
    },
    {
      name: "filter without a name",
      body: "Action=DescribeVpcs&Version=2016-11-15&Filter.1.Value.1=x",
      status: 400,
      code: "InvalidParameterValue",
    },
    { name: "random bytes", body: randomBytes(2048), status: 400, code: "MissingAction" },
    {
      name: "JSON body with the wrong content type",
      body: '{"Action":"DescribeVpcs"}',
      headers: { "content-type": "application/json" },
      status: 400,
      code: "MissingAction",
    },
  ];
  for (const c of cases)
    it(`answers ${c.name} with ${c.code}`, async () => {
      const before = srv.state.version;
      const r = await signedFetch(srv.url, { body: c.body, headers: c.headers });
      expect(r.status).toBe(c.status);
      expect(code(r.body)).toBe(c.code);
      expect(r.body).toContain("<RequestID>");
      expect(srv.state.version).toBe(before);
    });

  it("refuses an oversized body and keeps serving", async () => {
    const r = await signedFetch(srv.url, { body: Buffer.alloc(11 * 1024 * 1024, 97) });
    expect(r.status).toBe(413);
    expect((await srv.ec2().send(new DescribeVpcsCommand({}))).Vpcs!.length).toBeGreaterThan(0);
  });

  it("answers unsigned requests with an AWS error, not a crash", async () => {
    const r = await fetch(srv.url, {
      method: "POST",
      body: "Action=DescribeVpcs&Version=2016-11-15",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(code(await r.text())).toBeTruthy();
  });

  it("answers the admin health route", async () => {
    const r = await adminFetch(srv, `/_privlink/health`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: "ok" });
  });
});
