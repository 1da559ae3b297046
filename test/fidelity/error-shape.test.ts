import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isWireService, protocolOf } from "../../src/api/protocols/index.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runAws } from "../helpers/spawn.js";
import { ERROR_FIXTURES, UNIMPLEMENTED } from "./error-fixtures.js";
import { BUCKET, OBJECT, S3_CLI, S3_ERROR_FIXTURES } from "./error-fixtures-s3.js";
import { sdkCaller } from "./sdk-call.js";

/**
 * A refused call per registered service, decoded by the real SDK v3 (name, message, HTTP status
 * and $metadata) and printed by the AWS CLI (botocore) as AWS's own services make it print;
 * and the same for services privlink does not implement, one per protocol family.
 */

let srv: TestServer;
const UNKNOWN = { accessKeyId: "AKIDUNKNOWNUNKNOWN00", secretAccessKey: "nope" };

beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv?.stop());

const cliLine = (code: string, op: string, message: string) =>
  `An error occurred (${code}) when calling the ${op} operation: ${message}`;

describe("errors in each protocol privlink serves", () => {
  it("has a refused call for every registered service, covering every protocol", () => {
    const services = Object.keys(srv.services);
    expect(services.filter((s) => !ERROR_FIXTURES[s])).toEqual([]);
    const protocols = new Set(services.filter(isWireService).map(protocolOf));
    expect([...protocols].sort()).toEqual(
      [...new Set(Object.keys(ERROR_FIXTURES).filter(isWireService).map(protocolOf))].sort(),
    );
  });

  it.each(Object.entries(ERROR_FIXTURES))(
    "%s: the SDK reads code, message and status",
    async (service, f) => {
      if (!srv.services[service]) return;
      const sdk = sdkCaller(srv.url, f.unknownKey ? UNKNOWN : undefined);
      try {
        const err = await sdk.send(service, f.action, f.input).then(
          () => undefined,
          (e) => e,
        );
        expect(err, `${service}:${f.action} should fail`).toBeInstanceOf(Error);
        expect({
          name: err.name,
          message: err.message,
          status: err.$metadata?.httpStatusCode,
          wire: err.httpStatus,
        }).toEqual({
          name: f.sdkName ?? f.code,
          message: f.message,
          status: f.status,
          wire: f.status,
        });
        expect(err.$fault).toBe(f.status >= 500 ? "server" : "client");
      } finally {
        sdk.destroy();
      }
    },
  );

  it("the AWS CLI prints AWS's line for each of them", async () => {
    const runs = Object.entries(ERROR_FIXTURES)
      .filter(([s]) => srv.services[s])
      .map(async ([, f]) => {
        const out = await runAws(f.cli, srv.cliEnv(f.unknownKey ? UNKNOWN : undefined));
        return { code: out.code, line: out.stderr.trim(), want: cliLine(f.code, f.action, f.message) };
      });
    for (const r of await Promise.all(runs)) {
      expect(r.line).toBe(r.want);
      expect(r.code).not.toBe(0);
    }
  }, 60_000);
});

describe("S3 (REST-XML, served on the streaming path): every action", () => {
  beforeAll(async () => {
    const sdk = sdkCaller(srv.url);
    await sdk.send("s3", "CreateBucket", { Bucket: BUCKET });
    await sdk.send("s3", "PutObject", { Bucket: BUCKET, Key: OBJECT, Body: "here" });
    sdk.destroy();
  });

  it("has a refused call for every S3 action the server serves", () => {
    const actions = srv.streamingActions.s3 ?? [];
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((a) => !(a in S3_ERROR_FIXTURES))).toEqual([]);
    expect(Object.keys(S3_ERROR_FIXTURES).filter((a) => !actions.includes(a))).toEqual([]);
  });

  it.each(Object.entries(S3_ERROR_FIXTURES))(
    "s3:%s: the SDK reads code, message and status",
    async (action, f) => {
      const sdk = sdkCaller(srv.url, f.unknownKey ? UNKNOWN : undefined);
      try {
        const err = await sdk.send("s3", action, f.input).then(
          () => undefined,
          (e) => e,
        );
        expect(err, `s3:${action} should fail`).toBeInstanceOf(Error);
        expect({ name: err.name, message: err.message, status: err.$metadata?.httpStatusCode }).toEqual({
          name: f.code,
          message: f.message,
          status: f.status,
        });
        expect(err.$fault).toBe("client");
      } finally {
        sdk.destroy();
      }
    },
  );

  it("the AWS CLI prints AWS's line", async () => {
    const f = S3_ERROR_FIXTURES[S3_CLI.action];
    const out = await runAws([...S3_CLI.cli], srv.cliEnv());
    expect(out.stderr.trim()).toBe(cliLine(f.code, S3_CLI.action, f.message));
    expect(out.code).not.toBe(0);
  }, 30_000);
});

describe("services privlink does not implement", () => {
  it.each(UNIMPLEMENTED)(
    "$service ($protocol): the CLI prints NotImplemented naming the upstream command",
    async (u) => {
      const out = await runAws(u.cli, srv.cliEnv());
      const message = `privlink does not implement the AWS service '${u.service}'. Calls through an interface endpoint to it are forwarded to another implementation once you run: privlink upstream set ${u.service} <URL> (for example http://127.0.0.1:4566)`;
      expect(out.stderr.trim()).toBe(cliLine("NotImplemented", u.op, message));
      expect(out.code).not.toBe(0);
    },
  );

  it("answers in each family's envelope with HTTP 501", async () => {
    const { signedFetch } = await import("../helpers/sign.js");
    const noType = { "content-type": "" };
    const cases: {
      service: string;
      method?: string;
      path?: string;
      headers: Record<string, string>;
      body?: string;
      type: string;
    }[] = [
      {
        service: "dynamodb",
        headers: {
          "content-type": "application/x-amz-json-1.0",
          "x-amz-target": "DynamoDB_20120810.ListTables",
        },
        body: "{}",
        type: "application/x-amz-json-1.0",
      },
      {
        service: "kms",
        headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "TrentService.ListKeys" },
        body: "{}",
        type: "application/x-amz-json-1.1",
      },
      {
        service: "iam",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "Action=ListUsers&Version=2010-05-08",
        type: "text/xml",
      },
      {
        service: "cloudfront",
        method: "GET",
        path: "/2020-05-31/distribution",
        headers: noType,
        type: "application/xml",
      },
      {
        service: "lambda",
        method: "GET",
        path: "/2015-03-31/functions/",
        headers: noType,
        type: "application/json",
      },
    ];
    for (const c of cases) {
      const r = await signedFetch(srv.url, {
        service: c.service,
        method: c.method ?? "POST",
        path: c.path ?? "/",
        headers: c.headers,
        body: c.body,
      });
      expect([c.service, r.status, r.headers.get("content-type")]).toEqual([c.service, 501, c.type]);
      const text = r.body;
      if (c.type.startsWith("application/x-amz-json")) expect(JSON.parse(text).__type).toBe("NotImplemented");
      else if (c.type === "application/json")
        expect(r.headers.get("x-amzn-errortype")).toBe("NotImplemented");
      else expect(text).toContain("<Code>NotImplemented</Code>");
    }
  });
});
