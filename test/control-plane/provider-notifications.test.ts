import {
  CreateVpcEndpointConnectionNotificationCommand,
  DeleteVpcEndpointConnectionNotificationsCommand,
  DeleteVpcEndpointServiceConfigurationsCommand,
  DescribeVpcEndpointConnectionNotificationsCommand,
  type EC2Client,
  ModifyVpcEndpointConnectionNotificationCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectionEventType } from "../../src/cloud/types.js";
import { adminFetch } from "../helpers/admin.js";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runCli } from "../helpers/spawn.js";
import { emitEvent, fakeEndpoint, makeEndpointService } from "./provider-fixtures.js";

let srv: TestServer;
let ec2: EC2Client;
let serviceId: string;
let serviceName: string;
const endpointId = "vpce-0bbbbbbbbbbbbbbb1";
const gatewayId = "vpce-0bbbbbbbbbbbbbbb2";
const topic = "arn:aws:sns:us-east-1:000000000000:vpce-events";

beforeAll(async () => {
  srv = await startTestServer();
  ec2 = srv.ec2();
  ({ serviceId, serviceName } = await makeEndpointService(srv, "10.40.0.0/16", "nfn"));
  fakeEndpoint(srv, { id: endpointId, serviceId, serviceName, state: "pendingAcceptance" });
  fakeEndpoint(srv, { id: gatewayId, serviceId, serviceName, type: "Gateway", state: "rejected" });
});
afterAll(() => srv.stop());

const create = (input: Record<string, unknown>) =>
  ec2.send(
    new CreateVpcEndpointConnectionNotificationCommand({
      ConnectionNotificationArn: topic,
      ConnectionEvents: ["Connect"],
      ...input,
    } as never),
  );

const emit = (event: ConnectionEventType) => emitEvent(srv, endpointId, event);

let forService: string;
let forEndpoint: string;

describe("connection notifications", () => {
  it("creates notifications scoped to a service or to an endpoint", async () => {
    const s = await create({
      ServiceId: serviceId,
      ConnectionEvents: ["Connect", "Accept"],
      ClientToken: "n-1",
    });
    forService = s.ConnectionNotification!.ConnectionNotificationId!;
    expect(s).toMatchObject({
      ClientToken: "n-1",
      ConnectionNotification: {
        ConnectionNotificationId: expect.stringMatching(/^vpce-nfn-[0-9a-f]{17}$/),
        ServiceId: serviceId,
        ConnectionNotificationType: "Topic",
        ConnectionNotificationArn: topic,
        ConnectionEvents: ["Accept", "Connect"],
        ConnectionNotificationState: "Enabled",
        ServiceRegion: "us-east-1",
      },
    });
    expect(s.ConnectionNotification!.VpcEndpointId).toBeUndefined();
    const again = await create({
      ServiceId: serviceId,
      ConnectionEvents: ["Connect", "Accept"],
      ClientToken: "n-1",
    });
    expect(again.ConnectionNotification!.ConnectionNotificationId).toBe(forService);
    expect((await fails(create({ ServiceId: serviceId, ClientToken: "n-1" }))).name).toBe(
      "IdempotentParameterMismatch",
    );
    const e = await create({
      VpcEndpointId: endpointId,
      ConnectionEvents: ["Accept", "Connect", "Delete", "Reject"],
    });
    forEndpoint = e.ConnectionNotification!.ConnectionNotificationId!;
    expect(e.ConnectionNotification).toMatchObject({
      VpcEndpointId: endpointId,
      ConnectionEvents: ["Accept", "Connect", "Delete", "Reject"],
    });
    expect((await fails(create({ ServiceId: serviceId, DryRun: true }))).name).toBe("DryRunOperation");
  });

  it("refuses bad targets, events and scopes", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ServiceId: serviceId, ConnectionNotificationArn: undefined }, "MissingParameter"],
      [
        { ServiceId: serviceId, ConnectionNotificationArn: "arn:aws:sqs:us-east-1:000000000000:q" },
        "InvalidParameter",
      ],
      [{ ServiceId: serviceId, ConnectionEvents: [] }, "MissingParameter"],
      [{ ServiceId: serviceId, ConnectionEvents: ["Explode"] }, "InvalidParameterValue"],
      [{}, "MissingParameter"],
      [{ ServiceId: serviceId, VpcEndpointId: endpointId }, "InvalidParameterCombination"],
      [{ ServiceId: "vpce-svc-0123456789abcdef0" }, "InvalidVpcEndpointServiceId.NotFound"],
      [{ VpcEndpointId: "vpce-0123456789abcdef0" }, "InvalidVpcEndpointId.NotFound"],
      [{ VpcEndpointId: "endpoint-1" }, "InvalidVpcEndpointId.Malformed"],
      [{ VpcEndpointId: gatewayId }, "InvalidParameter"],
    ];
    for (const [input, name] of cases)
      expect((await fails(create(input))).name, JSON.stringify(input)).toBe(name);
  });

  it("describes one notification by ID, by each filter, and in pages", async () => {
    const one = await ec2.send(
      new DescribeVpcEndpointConnectionNotificationsCommand({ ConnectionNotificationId: forService }),
    );
    expect(one.ConnectionNotificationSet!.map((n) => n.ConnectionNotificationId)).toEqual([forService]);
    const ghost = "vpce-nfn-0123456789abcdef0";
    expect(
      await fails(
        ec2.send(new DescribeVpcEndpointConnectionNotificationsCommand({ ConnectionNotificationId: ghost })),
      ),
    ).toMatchObject({
      name: "InvalidConnectionNotification",
      message: `The connection notification '${ghost}' does not exist`,
    });
    const filters: [string, string, string[]][] = [
      ["connection-notification-arn", topic, [forService, forEndpoint]],
      ["connection-notification-id", forEndpoint, [forEndpoint]],
      ["connection-notification-state", "Enabled", [forService, forEndpoint]],
      ["connection-notification-type", "Topic", [forService, forEndpoint]],
      ["service-id", serviceId, [forService]],
      ["vpc-endpoint-id", endpointId, [forEndpoint]],
    ];
    for (const [name, value, want] of filters) {
      const d = await ec2.send(
        new DescribeVpcEndpointConnectionNotificationsCommand({ Filters: [{ Name: name, Values: [value] }] }),
      );
      expect(d.ConnectionNotificationSet!.map((n) => n.ConnectionNotificationId).sort(), name).toEqual(
        [...want].sort(),
      );
    }
    const extra: string[] = [];
    for (let i = 0; i < 4; i++)
      extra.push(
        (await create({ ServiceId: serviceId, ConnectionNotificationArn: `${topic}-${i}` }))
          .ConnectionNotification!.ConnectionNotificationId!,
      );
    const p1 = await ec2.send(new DescribeVpcEndpointConnectionNotificationsCommand({ MaxResults: 5 }));
    const p2 = await ec2.send(
      new DescribeVpcEndpointConnectionNotificationsCommand({ MaxResults: 5, NextToken: p1.NextToken }),
    );
    expect([
      p1.ConnectionNotificationSet!.length,
      p2.ConnectionNotificationSet!.length,
      p2.NextToken,
    ]).toEqual([5, 1, undefined]);
    await ec2.send(new DeleteVpcEndpointConnectionNotificationsCommand({ ConnectionNotificationIds: extra }));
  });

  it("modifies the topic and events", async () => {
    const other = `${topic}-2`;
    const r = await ec2.send(
      new ModifyVpcEndpointConnectionNotificationCommand({
        ConnectionNotificationId: forService,
        ConnectionNotificationArn: other,
        ConnectionEvents: ["Connect", "Delete"],
      }),
    );
    expect(r.ReturnValue).toBe(true);
    const d = (
      await ec2.send(
        new DescribeVpcEndpointConnectionNotificationsCommand({ ConnectionNotificationId: forService }),
      )
    ).ConnectionNotificationSet![0]!;
    expect([d.ConnectionNotificationArn, d.ConnectionEvents]).toEqual([other, ["Connect", "Delete"]]);
    const bad: [Record<string, unknown>, string][] = [
      [{ ConnectionNotificationId: "vpce-nfn-0123456789abcdef0" }, "InvalidConnectionNotification"],
      [{ ConnectionNotificationId: forService, ConnectionEvents: ["Nope"] }, "InvalidParameterValue"],
      [{ ConnectionNotificationId: forService, ConnectionNotificationArn: "topic" }, "InvalidParameter"],
    ];
    for (const [input, name] of bad)
      expect(
        (await fails(ec2.send(new ModifyVpcEndpointConnectionNotificationCommand(input as never)))).name,
      ).toBe(name);
  });
});

describe("connection events", () => {
  it("records one event per matching notification, readable at /_privlink/events and with `privlink events`", async () => {
    emit("Connect");
    emit("Accept");
    const all = (await (await adminFetch(srv, `/_privlink/events`)).json()) as {
      events: Record<string, string>[];
    };
    // Connect matches both notifications; Accept only the endpoint's (the service's now wants Connect and Delete).
    expect(all.events.map((e) => [e.event, e.notificationId])).toEqual([
      ["Connect", forService],
      ["Connect", forEndpoint],
      ["Accept", forEndpoint],
    ]);
    expect(Object.keys(all.events[0]!).sort()).toEqual(
      [
        "event",
        "id",
        "notificationId",
        "serviceId",
        "time",
        "vpcEndpointId",
        "vpcEndpointOwner",
        "vpcEndpointState",
      ].sort(),
    );
    expect(all.events[0]).toMatchObject({
      serviceId,
      vpcEndpointId: endpointId,
      vpcEndpointOwner: "000000000000",
      vpcEndpointState: "pendingAcceptance",
    });
    const first = all.events[0]!.id!;
    const since = (await (await adminFetch(srv, `/_privlink/events?since=${first}`)).json()) as {
      events: { id: string }[];
    };
    expect(since.events.map((e) => e.id)).toEqual(all.events.slice(1).map((e) => e.id));

    const env = { ...process.env, PRIVLINK_URL: srv.url, PRIVLINK_HOME: srv.home };
    const cli = await runCli(["events", "--json", "--since", first], env);
    expect(cli.code).toBe(0);
    expect(
      cli.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).event),
    ).toEqual(["Connect", "Accept"]);
    const text = await runCli(["events", "--follow", "--timeout", "0.2", "--interval", "0.1"], env);
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(
      new RegExp(
        `^\\d{12} \\S+ Accept  ${endpointId} pendingAcceptance owner=000000000000 service=${serviceId} notification=${forEndpoint}$`,
      ),
    );
  });

  it("deletes notifications, reporting unknown IDs, and drops a service's notifications with it", async () => {
    const ghost = "vpce-nfn-0123456789abcdef0";
    const d = await ec2.send(
      new DeleteVpcEndpointConnectionNotificationsCommand({
        ConnectionNotificationIds: [forEndpoint, ghost],
      }),
    );
    expect(d.Unsuccessful).toEqual([
      {
        Error: {
          Code: "InvalidConnectionNotification",
          Message: `The connection notification '${ghost}' does not exist`,
        },
        ResourceId: ghost,
      },
    ]);
    expect(
      (
        await fails(
          ec2.send(
            new DescribeVpcEndpointConnectionNotificationsCommand({ ConnectionNotificationId: forEndpoint }),
          ),
        )
      ).name,
    ).toBe("InvalidConnectionNotification");
    srv.state.transact((tx) =>
      tx.put("vpcEndpoint", { ...tx.get("vpcEndpoint", endpointId)!, state: "rejected" }),
    );
    const del = await ec2.send(
      new DeleteVpcEndpointServiceConfigurationsCommand({ ServiceIds: [serviceId] }),
    );
    expect(del.Unsuccessful).toEqual([]);
    const left = await ec2.send(
      new DescribeVpcEndpointConnectionNotificationsCommand({
        Filters: [{ Name: "service-id", Values: [serviceId] }],
      }),
    );
    expect(left.ConnectionNotificationSet).toEqual([]);
  });
});
