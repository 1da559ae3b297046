import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  DeleteLogStreamCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  DescribeResourcePoliciesCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  ListTagsForResourceCommand,
  PutLogEventsCommand,
  PutResourcePolicyCommand,
  PutRetentionPolicyCommand,
  TagResourceCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
let logs: CloudWatchLogsClient;
const HOUR = 3600_000;
const DAY = 24 * HOUR;

function client(creds = srv.credentials): CloudWatchLogsClient {
  return new CloudWatchLogsClient({
    endpoint: srv.url,
    region: "us-east-1",
    credentials: creds,
    maxAttempts: 1,
  });
}

async function newAccount(id: string): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  return srv.admin("POST", "/_privlink/accounts", { id });
}

async function stream(
  group: string,
  name: string,
  opts: { retentionInDays?: number; kmsKeyId?: string } = {},
) {
  await logs.send(
    new CreateLogGroupCommand({ logGroupName: group, kmsKeyId: opts.kmsKeyId, tags: { team: "a" } }),
  );
  await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: name }));
  if (opts.retentionInDays)
    await logs.send(
      new PutRetentionPolicyCommand({ logGroupName: group, retentionInDays: opts.retentionInDays }),
    );
}

beforeAll(async () => {
  srv = await startTestServer();
  logs = client();
});
afterAll(() => srv.stop());

describe("CloudWatch Logs groups and streams", () => {
  it("stores retention, tags and the KMS key, and describes groups by prefix, page by page", async () => {
    const key = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    await stream("/app/one", "s", { retentionInDays: 30, kmsKeyId: key });
    for (const g of ["/app/two", "/app/three", "/other"])
      await logs.send(new CreateLogGroupCommand({ logGroupName: g }));
    const first = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: "/app/", limit: 2 }));
    expect(first.logGroups?.map((g) => g.logGroupName)).toEqual(["/app/one", "/app/three"]);
    expect(first.logGroups?.[0]).toMatchObject({
      retentionInDays: 30,
      kmsKeyId: key,
      arn: "arn:aws:logs:us-east-1:000000000000:log-group:/app/one:*",
      logGroupArn: "arn:aws:logs:us-east-1:000000000000:log-group:/app/one",
      logGroupClass: "STANDARD",
    });
    const second = await logs.send(
      new DescribeLogGroupsCommand({ logGroupNamePrefix: "/app/", limit: 2, nextToken: first.nextToken }),
    );
    expect(second.logGroups?.map((g) => g.logGroupName)).toEqual(["/app/two"]);
    expect(second.nextToken).toBeUndefined();
    await logs.send(
      new TagResourceCommand({
        resourceArn: "arn:aws:logs:us-east-1:000000000000:log-group:/app/one",
        tags: { env: "prod" },
      }),
    );
    const tags = await logs.send(
      new ListTagsForResourceCommand({
        resourceArn: "arn:aws:logs:us-east-1:000000000000:log-group:/app/one",
      }),
    );
    expect(tags.tags).toEqual({ team: "a", env: "prod" });
  });

  it("answers AWS's codes for duplicates, missing resources and bad input", async () => {
    expect(await fails(logs.send(new CreateLogGroupCommand({ logGroupName: "/app/one" })))).toMatchObject({
      name: "ResourceAlreadyExistsException",
      message: "The specified log group already exists",
    });
    expect(
      await fails(logs.send(new CreateLogStreamCommand({ logGroupName: "/app/one", logStreamName: "s" }))),
    ).toMatchObject({
      name: "ResourceAlreadyExistsException",
      message: "The specified log stream already exists",
    });
    expect(await fails(logs.send(new DeleteLogGroupCommand({ logGroupName: "/nope" })))).toMatchObject({
      name: "ResourceNotFoundException",
      message: "The specified log group does not exist.",
    });
    expect(
      await fails(
        logs.send(
          new PutLogEventsCommand({
            logGroupName: "/app/one",
            logStreamName: "nope",
            logEvents: [{ timestamp: Date.now(), message: "x" }],
          }),
        ),
      ),
    ).toMatchObject({
      name: "ResourceNotFoundException",
      message: "The specified log stream does not exist.",
    });
    expect(await fails(logs.send(new CreateLogGroupCommand({ logGroupName: "bad name!" })))).toMatchObject({
      name: "InvalidParameterException",
    });
    expect(
      await fails(logs.send(new PutRetentionPolicyCommand({ logGroupName: "/app/one", retentionInDays: 4 }))),
    ).toMatchObject({ name: "InvalidParameterException" });
  });

  it("describes streams by prefix and by last event time", async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: "/streams" }));
    const now = Date.now();
    for (const [i, name] of ["b", "a", "c"].entries()) {
      await logs.send(new CreateLogStreamCommand({ logGroupName: "/streams", logStreamName: name }));
      await logs.send(
        new PutLogEventsCommand({
          logGroupName: "/streams",
          logStreamName: name,
          logEvents: [{ timestamp: now - (3 - i) * 1000, message: `m${name}` }],
        }),
      );
    }
    const byName = await logs.send(new DescribeLogStreamsCommand({ logGroupName: "/streams", limit: 2 }));
    expect(byName.logStreams?.map((s) => s.logStreamName)).toEqual(["a", "b"]);
    const rest = await logs.send(
      new DescribeLogStreamsCommand({ logGroupName: "/streams", limit: 2, nextToken: byName.nextToken }),
    );
    expect(rest.logStreams?.map((s) => s.logStreamName)).toEqual(["c"]);
    const byTime = await logs.send(
      new DescribeLogStreamsCommand({ logGroupName: "/streams", orderBy: "LastEventTime", descending: true }),
    );
    expect(byTime.logStreams?.map((s) => s.logStreamName)).toEqual(["c", "a", "b"]);
    expect(byTime.logStreams?.[0]).toMatchObject({ lastEventTimestamp: now - 1000, storedBytes: 2 });
    expect(
      await fails(
        logs.send(
          new DescribeLogStreamsCommand({
            logGroupName: "/streams",
            orderBy: "LastEventTime",
            logStreamNamePrefix: "a",
          }),
        ),
      ),
    ).toMatchObject({
      name: "InvalidParameterException",
      message: "Cannot order by LastEventTime with a logStreamNamePrefix.",
    });
  });
});

describe("PutLogEvents", () => {
  it("rejects too old, expired and too new events one by one and keeps the rest", async () => {
    await stream("/put/rules", "s", { retentionInDays: 1 });
    const now = Date.now();
    const out = await logs.send(
      new PutLogEventsCommand({
        logGroupName: "/put/rules",
        logStreamName: "s",
        logEvents: [
          { timestamp: now - 15 * DAY, message: "too old" },
          { timestamp: now - 2 * DAY, message: "expired" },
          { timestamp: now - 1000, message: "kept 1" },
          { timestamp: now, message: "kept 2" },
          { timestamp: now + 3 * HOUR, message: "too new" },
        ],
      }),
    );
    expect(out.rejectedLogEventsInfo).toEqual({
      tooOldLogEventEndIndex: 0,
      expiredLogEventEndIndex: 1,
      tooNewLogEventStartIndex: 4,
    });
    const got = await logs.send(new GetLogEventsCommand({ logGroupName: "/put/rules", logStreamName: "s" }));
    expect(got.events?.map((e) => e.message)).toEqual(["kept 1", "kept 2"]);
  });

  it("refuses an out-of-order batch, a batch over 24 hours and one over 1,048,576 bytes", async () => {
    await stream("/put/refused", "s");
    const now = Date.now();
    const put = (logEvents: { timestamp: number; message: string }[]) =>
      fails(
        logs.send(new PutLogEventsCommand({ logGroupName: "/put/refused", logStreamName: "s", logEvents })),
      );
    expect(
      await put([
        { timestamp: now, message: "b" },
        { timestamp: now - 1, message: "a" },
      ]),
    ).toMatchObject({
      name: "InvalidParameterException",
      message: "Log events in a single PutLogEvents request must be in chronological order.",
    });
    expect(
      await put([
        { timestamp: now - 25 * HOUR, message: "a" },
        { timestamp: now, message: "b" },
      ]),
    ).toMatchObject({
      name: "InvalidParameterException",
      message: "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
    });
    const big = "x".repeat(100_000);
    expect(await put(Array.from({ length: 11 }, () => ({ timestamp: now, message: big })))).toMatchObject({
      name: "InvalidParameterException",
      message: `Upload too large: ${11 * 100_026} bytes exceeds limit of 1048576`,
    });
    const got = await logs.send(
      new GetLogEventsCommand({ logGroupName: "/put/refused", logStreamName: "s" }),
    );
    expect(got.events).toEqual([]);
  });
});

describe("reading events", () => {
  const base = Date.now() - HOUR;
  beforeAll(async () => {
    await stream("/read", "web");
    await logs.send(new CreateLogStreamCommand({ logGroupName: "/read", logStreamName: "worker" }));
    const lines = [
      "INFO started",
      "ERROR disk full",
      '{"level":"ERROR","ms":250,"user":{"id":7}}',
      '{"level":"INFO","ms":12,"user":{"id":8}}',
      "WARN slow request took 3s",
    ];
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: "/read",
        logStreamName: "web",
        logEvents: lines.map((message, i) => ({ timestamp: base + i * 1000, message })),
      }),
    );
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: "/read",
        logStreamName: "worker",
        logEvents: [{ timestamp: base + 2500, message: "ERROR worker crashed" }],
      }),
    );
  });

  it("pages GetLogEvents forward and backward with tokens, repeating the token at the end", async () => {
    const req = { logGroupName: "/read", logStreamName: "web", limit: 2 };
    const head = await logs.send(new GetLogEventsCommand({ ...req, startFromHead: true }));
    expect(head.events?.map((e) => e.message)).toEqual(["INFO started", "ERROR disk full"]);
    expect(head.nextForwardToken).toMatch(/^f\/\d{56}$/);
    const next = await logs.send(new GetLogEventsCommand({ ...req, nextToken: head.nextForwardToken }));
    expect(next.events?.length).toBe(2);
    const last = await logs.send(new GetLogEventsCommand({ ...req, nextToken: next.nextForwardToken }));
    expect(last.events?.map((e) => e.message)).toEqual(["WARN slow request took 3s"]);
    const end = await logs.send(new GetLogEventsCommand({ ...req, nextToken: last.nextForwardToken }));
    expect(end.events).toEqual([]);
    expect(end.nextForwardToken).toBe(last.nextForwardToken);
    const tail = await logs.send(new GetLogEventsCommand(req));
    expect(tail.events?.map((e) => e.message)).toEqual([
      '{"level":"INFO","ms":12,"user":{"id":8}}',
      "WARN slow request took 3s",
    ]);
    const back = await logs.send(new GetLogEventsCommand({ ...req, nextToken: tail.nextBackwardToken }));
    expect(back.events?.map((e) => e.message)).toEqual([
      "ERROR disk full",
      '{"level":"ERROR","ms":250,"user":{"id":7}}',
    ]);
    expect(await fails(logs.send(new GetLogEventsCommand({ ...req, nextToken: "garbage" })))).toMatchObject({
      name: "InvalidParameterException",
    });
  });

  it("filters with terms, phrases, alternatives, exclusions and JSON patterns", async () => {
    const filter = async (filterPattern: string, extra: Record<string, unknown> = {}) =>
      (
        await logs.send(new FilterLogEventsCommand({ logGroupName: "/read", filterPattern, ...extra }))
      ).events?.map((e) => `${e.logStreamName}:${e.message}`);
    expect(await filter("ERROR")).toEqual([
      "web:ERROR disk full",
      'web:{"level":"ERROR","ms":250,"user":{"id":7}}',
      "worker:ERROR worker crashed",
    ]);
    expect(await filter('"disk full"')).toEqual(["web:ERROR disk full"]);
    expect(await filter("ERROR -worker")).toEqual([
      "web:ERROR disk full",
      'web:{"level":"ERROR","ms":250,"user":{"id":7}}',
    ]);
    expect(await filter("?WARN ?started")).toEqual(["web:INFO started", "web:WARN slow request took 3s"]);
    expect(await filter('{ $.level = "ERROR" && $.ms > 100 }')).toEqual([
      'web:{"level":"ERROR","ms":250,"user":{"id":7}}',
    ]);
    expect(await filter("{ $.user.id = 8 || $.ms >= 1000 }")).toEqual([
      'web:{"level":"INFO","ms":12,"user":{"id":8}}',
    ]);
    expect(await filter("{ $.level = ERR* }")).toEqual(['web:{"level":"ERROR","ms":250,"user":{"id":7}}']);
    expect(await filter("ERROR", { logStreamNames: ["worker"] })).toEqual(["worker:ERROR worker crashed"]);
    expect(await filter("", { startTime: base + 2000, endTime: base + 3000 })).toEqual([
      'web:{"level":"ERROR","ms":250,"user":{"id":7}}',
      "worker:ERROR worker crashed",
    ]);
    const paged = await logs.send(new FilterLogEventsCommand({ logGroupName: "/read", limit: 4 }));
    expect(paged.events?.length).toBe(4);
    const rest = await logs.send(
      new FilterLogEventsCommand({ logGroupName: "/read", nextToken: paged.nextToken }),
    );
    expect(rest.events?.map((e) => e.message)).toEqual([
      '{"level":"INFO","ms":12,"user":{"id":8}}',
      "WARN slow request took 3s",
    ]);
    expect(rest.nextToken).toBeUndefined();
    expect(
      await fails(
        logs.send(new FilterLogEventsCommand({ logGroupName: "/read", filterPattern: "{ $.a = }" })),
      ),
    ).toMatchObject({
      name: "InvalidParameterException",
    });
  });

  it("keeps events across a restart, and a re-created stream starts empty", async () => {
    await stream("/durable", "s");
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: "/durable",
        logStreamName: "s",
        logEvents: [{ timestamp: Date.now(), message: "survives" }],
      }),
    );
    const home = srv.home;
    await srv.close();
    srv = Object.assign(srv, await startTestServer({ home }));
    logs = client();
    const got = await logs.send(new GetLogEventsCommand({ logGroupName: "/durable", logStreamName: "s" }));
    expect(got.events?.map((e) => e.message)).toEqual(["survives"]);
    await logs.send(new DeleteLogStreamCommand({ logGroupName: "/durable", logStreamName: "s" }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: "/durable", logStreamName: "s" }));
    const fresh = await logs.send(new GetLogEventsCommand({ logGroupName: "/durable", logStreamName: "s" }));
    expect(fresh.events).toEqual([]);
  });
});

describe("cross-account delivery", () => {
  it("lets another account write into a group only when the owner's resource policy allows it", async () => {
    const owner = await newAccount("444455556666");
    const writer = await newAccount("777788889999");
    const central = client(owner);
    await central.send(new CreateLogGroupCommand({ logGroupName: "central" }));
    await central.send(new CreateLogStreamCommand({ logGroupName: "central", logStreamName: "app1" }));
    const arn = "arn:aws:logs:us-east-1:444455556666:log-group:central";
    const put = () =>
      client(writer).send(
        new PutLogEventsCommand({
          logGroupName: arn,
          logStreamName: "app1",
          logEvents: [{ timestamp: Date.now(), message: "from app" }],
        }),
      );
    expect(await fails(put())).toMatchObject({
      name: "AccessDeniedException",
      message: `User: arn:aws:iam::777788889999:root is not authorized to perform: logs:PutLogEvents on resource: ${arn}:log-stream:app1 because no resource-based policy allows the logs:PutLogEvents action`,
    });
    await central.send(
      new PutResourcePolicyCommand({
        policyName: "apps-write",
        policyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: ["777788889999"] },
              Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
              Resource: `${arn}:*`,
            },
          ],
        }),
      }),
    );
    expect(
      (await central.send(new DescribeResourcePoliciesCommand({}))).resourcePolicies?.[0]?.policyName,
    ).toBe("apps-write");
    await put();
    const got = await central.send(
      new GetLogEventsCommand({ logGroupName: "central", logStreamName: "app1" }),
    );
    expect(got.events?.map((e) => e.message)).toEqual(["from app"]);
    expect(await fails(client(writer).send(new DeleteLogGroupCommand({ logGroupName: arn })))).toMatchObject({
      name: "AccessDeniedException",
    });
  });
});

describe("the in-process delivery API", () => {
  it("writes records as PutLogEvents would, creating the group and stream when asked", async () => {
    const now = Date.now();
    const result = await srv.logs.putEvents(
      {
        accountId: "000000000000",
        region: "us-east-1",
        logGroupName: "/flow-logs",
        logStreamName: "eni-0123",
        events: [
          { timestamp: now - 20 * DAY, message: "too old" },
          { timestamp: now, message: "2 000000000000 eni-0123 ACCEPT" },
        ],
      },
      { createMissing: true },
    );
    expect(result).toEqual({ accepted: 1, rejected: { tooOldLogEventEndIndex: 0 } });
    const got = await logs.send(
      new GetLogEventsCommand({ logGroupName: "/flow-logs", logStreamName: "eni-0123" }),
    );
    expect(got.events?.map((e) => e.message)).toEqual(["2 000000000000 eni-0123 ACCEPT"]);
    await expect(
      srv.logs.putEvents({
        accountId: "000000000000",
        region: "us-east-1",
        logGroupName: "/none",
        logStreamName: "s",
        events: [],
      }),
    ).rejects.toThrow("The specified log group does not exist.");
  });

  it("drops the events of groups a reset removed", async () => {
    await srv.logs.putEvents(
      {
        accountId: "000000000000",
        region: "us-east-1",
        logGroupName: "/reset-me",
        logStreamName: "s",
        events: [{ timestamp: Date.now(), message: "gone after reset" }],
      },
      { createMissing: true },
    );
    await srv.admin("POST", "/_privlink/reset");
    expect(await srv.logs.expire()).toBeGreaterThan(0);
    expect(await srv.logs.expire()).toBe(0);
  });
});
