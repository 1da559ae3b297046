import { describe, expect, it } from "vitest";
import {
  decodeRestXml,
  encodeRestXml,
  findOperation,
  matchRestXmlOperation,
} from "../../src/api/protocols/index.js";
import { AwsError } from "../../src/cloud/errors.js";
import { sdkHarness } from "./sdk.js";

const ROUTES: {
  method: string;
  path: string;
  query?: string;
  op: string | undefined;
  labels?: Record<string, string>;
}[] = [
  { method: "POST", path: "/2013-04-01/hostedzone", op: "CreateHostedZone", labels: {} },
  { method: "GET", path: "/2013-04-01/hostedzone", op: "ListHostedZones", labels: {} },
  { method: "GET", path: "/2013-04-01/hostedzone/Z0123", op: "GetHostedZone", labels: { Id: "Z0123" } },
  {
    method: "DELETE",
    path: "/2013-04-01/hostedzone/Z0123/",
    op: "DeleteHostedZone",
    labels: { Id: "Z0123" },
  },
  {
    method: "POST",
    path: "/2013-04-01/hostedzone/Z0123/rrset",
    op: "ChangeResourceRecordSets",
    labels: { HostedZoneId: "Z0123" },
  },
  {
    method: "GET",
    path: "/2013-04-01/hostedzone/Z0123/rrset",
    op: "ListResourceRecordSets",
    labels: { HostedZoneId: "Z0123" },
  },
  { method: "GET", path: "/2013-04-01/change/C%2F1", op: "GetChange", labels: { Id: "C/1" } },
  {
    method: "DELETE",
    path: "/2013-04-01/keysigningkey/Z1/my%20key",
    op: "DeleteKeySigningKey",
    labels: { HostedZoneId: "Z1", Name: "my key" },
  },
  {
    method: "GET",
    path: "/2013-04-01/trafficpolicyinstances/hostedzone",
    op: "ListTrafficPolicyInstancesByHostedZone",
    labels: {},
  },
  { method: "PUT", path: "/2013-04-01/hostedzone", op: undefined },
  { method: "GET", path: "/2013-04-01/nosuchthing", op: undefined },
  { method: "GET", path: "/2013-04-01/hostedzone/%E0%A4%A", op: undefined },
];

describe("Route 53 routing", () => {
  it.each(ROUTES)("$method $path → $op", ({ method, path, op, labels }) => {
    const match = matchRestXmlOperation("route53", method, path);
    expect(match?.op.name).toBe(op);
    if (labels) expect(match?.labels).toEqual(labels);
  });
});

describe("Route 53 requests", () => {
  it("reads labels, the body and nested lists as the docs write them", () => {
    const body = `<?xml version="1.0" encoding="UTF-8"?>
<ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/">
  <ChangeBatch>
    <Comment>add &amp; go</Comment>
    <Changes>
      <Change>
        <Action>UPSERT</Action>
        <ResourceRecordSet>
          <Name>api.example.com</Name>
          <Type>A</Type>
          <TTL>300</TTL>
          <ResourceRecords><ResourceRecord><Value>10.0.0.1</Value></ResourceRecord><ResourceRecord><Value>10.0.0.2</Value></ResourceRecord></ResourceRecords>
        </ResourceRecordSet>
      </Change>
    </Changes>
  </ChangeBatch>
</ChangeResourceRecordSetsRequest>`;
    const m = matchRestXmlOperation("route53", "POST", "/2013-04-01/hostedzone/Z9/rrset")!;
    expect(
      decodeRestXml(m.op, { labels: m.labels, query: new URLSearchParams(), headers: {}, body }),
    ).toEqual({
      HostedZoneId: "Z9",
      ChangeBatch: {
        Comment: "add & go",
        Changes: [
          {
            Action: "UPSERT",
            ResourceRecordSet: {
              Name: "api.example.com",
              Type: "A",
              TTL: 300,
              ResourceRecords: [{ Value: "10.0.0.1" }, { Value: "10.0.0.2" }],
            },
          },
        ],
      },
    });
  });

  it("reads query members with their wire names and types", () => {
    const m = matchRestXmlOperation("route53", "GET", "/2013-04-01/hostedzone/Z9/rrset")!;
    const query = new URLSearchParams("name=www.example.com.&type=AAAA&maxitems=10");
    expect(decodeRestXml(m.op, { labels: m.labels, query, headers: {}, body: "" })).toEqual({
      HostedZoneId: "Z9",
      StartRecordName: "www.example.com.",
      StartRecordType: "AAAA",
      MaxItems: 10,
    });
  });

  it.each([
    [
      "malformed XML",
      "<CreateHostedZoneRequest><Name>x</CreateHostedZoneRequest>",
      "Could not parse the request body as XML",
    ],
    [
      "a structure where text belongs",
      "<CreateHostedZoneRequest><Name><a>x</a></Name></CreateHostedZoneRequest>",
      "Name must be a simple value",
    ],
  ])("answers InvalidInput for %s", (_, body, message) => {
    const op = findOperation("route53", "CreateHostedZone")!;
    let caught: unknown;
    try {
      decodeRestXml(op, { labels: {}, query: new URLSearchParams(), headers: {}, body });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AwsError);
    expect((caught as AwsError).code).toBe("InvalidInput");
    expect((caught as AwsError).message).toBe(message);
  });

  it("answers InvalidInput for a non-numeric query number", () => {
    const m = matchRestXmlOperation("route53", "GET", "/2013-04-01/hostedzone/Z9/rrset")!;
    const query = new URLSearchParams("maxitems=ten");
    expect(() => decodeRestXml(m.op, { labels: m.labels, query, headers: {}, body: "" })).toThrow(
      expect.objectContaining({ code: "InvalidInput" }),
    );
  });
});

describe("Route 53 responses", () => {
  const created = {
    HostedZone: {
      Id: "/hostedzone/Z9",
      Name: "example.com.",
      CallerReference: "r1",
      Config: { PrivateZone: true },
      ResourceRecordSetCount: 2,
    },
    ChangeInfo: { Id: "/change/C1", Status: "PENDING", SubmittedAt: new Date("2026-01-01T00:00:00.000Z") },
    DelegationSet: { NameServers: ["ns-1.awsdns-01.org"] },
    Location: "https://route53.amazonaws.com/2013-04-01/hostedzone/Z9",
  };

  it("use the http trait's status, headers for httpHeader members and the service namespace", () => {
    const r = encodeRestXml(findOperation("route53", "CreateHostedZone")!, created, "rid");
    expect(r.status).toBe(201);
    expect(r.headers).toMatchObject({
      location: created.Location,
      "content-type": "text/xml",
      "x-amzn-requestid": "rid",
    });
    expect(r.body).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<CreateHostedZoneResponse xmlns="https:\/\/route53.amazonaws.com\/doc\/2013-04-01\/"><HostedZone><Id>\/hostedzone\/Z9<\/Id>/,
    );
    expect(r.body).not.toContain("Location");
  });

  it("are what the SDK reads back, Location included", async () => {
    const harness = sdkHarness("route53");
    const r = encodeRestXml(findOperation("route53", "CreateHostedZone")!, created, "rid");
    const { output } = await harness.send(
      "CreateHostedZone",
      { Name: "example.com", CallerReference: "r1" },
      () => r,
    );
    const { $metadata, ...rest } = output;
    expect(rest).toEqual(created);
    expect(($metadata as { httpStatusCode: number }).httpStatusCode).toBe(201);
  });
});
