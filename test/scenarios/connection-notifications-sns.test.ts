import {
  AcceptVpcEndpointConnectionsCommand,
  CreateVpcEndpointCommand,
  CreateVpcEndpointConnectionNotificationCommand,
  CreateVpcEndpointServiceConfigurationCommand,
  DeleteVpcEndpointsCommand,
  DescribeVpcEndpointServicesCommand,
  DescribeVpcEndpointsCommand,
  type EC2Client,
  ModifyVpcEndpointServicePermissionsCommand,
  RejectVpcEndpointConnectionsCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateTopicCommand,
  SetTopicAttributesCommand,
  SNSClient,
  SubscribeCommand,
} from "@aws-sdk/client-sns";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { elbv2, makeAccount, makeNet, makeNlbStack } from "../control-plane/provider-fixtures.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { type Subscriber, startSubscriber } from "../helpers/sns-subscriber.js";

/**
 * The seed's SaaS vendor learns of its consumers from connection notifications: endpoint
 * events go to the vendor's SNS topic, whose HTTP subscriber (the vendor's own handler)
 * receives Connect, Accept, Reject and Delete as SNS Notifications.
 */
let srv: TestServer;
let ec2: EC2Client;
let sns: SNSClient;
let hook: Subscriber;
let serviceId: string;
let serviceName: string;
let topicArn: string;
/** The consumer account's EC2 and the subnet it puts its endpoints in. */
let consumer: EC2Client;
let consumerNet: { vpcId: string; subnetIds: string[] };
const CONSUMER = "555566667777";

beforeAll(async () => {
  srv = await startTestServer();
  ec2 = srv.ec2();
  sns = new SNSClient({
    endpoint: srv.url,
    region: "us-east-1",
    credentials: srv.credentials,
    maxAttempts: 1,
  });
  hook = await startSubscriber({ confirm: true });
  const net = await makeNet(ec2, "10.60.0.0/16", ["us-east-1a"]);
  const { lbArn } = await makeNlbStack(elbv2(srv), net, "vendor");
  const svc = await ec2.send(
    new CreateVpcEndpointServiceConfigurationCommand({
      AcceptanceRequired: true,
      NetworkLoadBalancerArns: [lbArn],
    }),
  );
  serviceId = svc.ServiceConfiguration!.ServiceId!;
  serviceName = svc.ServiceConfiguration!.ServiceName!;
  await ec2.send(
    new ModifyVpcEndpointServicePermissionsCommand({
      ServiceId: serviceId,
      AddAllowedPrincipals: [`arn:aws:iam::${CONSUMER}:root`],
    }),
  );
  // Another account: the provider's own endpoints are accepted without asking.
  consumer = srv.ec2("us-east-1", await makeAccount(srv, CONSUMER));
  const azs = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"];
  const cnet = await makeNet(consumer, "10.61.0.0/16", azs);
  const offered = (
    await consumer.send(new DescribeVpcEndpointServicesCommand({ ServiceNames: [serviceName] }))
  ).ServiceDetails![0]!.AvailabilityZones!;
  consumerNet = { vpcId: cnet.vpcId, subnetIds: offered.map((az) => cnet.subnets[az]!) };
  topicArn = (await sns.send(new CreateTopicCommand({ Name: "endpoint-events" }))).TopicArn!;
}, 60_000);

afterAll(async () => {
  await hook?.close();
  await srv?.stop();
});

const notifications = () =>
  hook.received.filter((m) => m.body.Type === "Notification").map((m) => JSON.parse(m.body.Message!));

async function waitForEvents(n: number): Promise<Record<string, string>[]> {
  for (let i = 0; i < 200 && notifications().length < n; i++) await new Promise((r) => setTimeout(r, 50));
  return notifications();
}

async function createEndpoint(): Promise<string> {
  const ep = await consumer.send(
    new CreateVpcEndpointCommand({
      VpcId: consumerNet.vpcId,
      VpcEndpointType: "Interface",
      ServiceName: serviceName,
      SubnetIds: consumerNet.subnetIds,
    }),
  );
  const id = ep.VpcEndpoint!.VpcEndpointId!;
  // The provider can accept once the request reached it (pending → pendingAcceptance).
  for (let i = 0; i < 200; i++) {
    const d = await consumer.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [id] }));
    if (d.VpcEndpoints?.[0]?.State?.toString() === "pendingAcceptance") return id;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${id} never reached pendingAcceptance`);
}

describe("connection notifications through SNS", () => {
  it("delivers Connect, Accept, Reject and Delete to the vendor's HTTP handler", async () => {
    await sns.send(
      new SetTopicAttributesCommand({
        TopicArn: topicArn,
        AttributeName: "Policy",
        AttributeValue: JSON.stringify({
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "vpce.amazonaws.com" },
              Action: "SNS:Publish",
              Resource: topicArn,
            },
          ],
        }),
      }),
    );
    await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: "http", Endpoint: hook.url }));
    await hook.waitFor((m) => m.Type === "SubscriptionConfirmation");
    await ec2.send(
      new CreateVpcEndpointConnectionNotificationCommand({
        ServiceId: serviceId,
        ConnectionNotificationArn: topicArn,
        ConnectionEvents: ["Connect", "Accept", "Reject", "Delete"],
      }),
    );
    const accepted = await createEndpoint();
    await ec2.send(
      new AcceptVpcEndpointConnectionsCommand({ ServiceId: serviceId, VpcEndpointIds: [accepted] }),
    );
    const rejected = await createEndpoint();
    await ec2.send(
      new RejectVpcEndpointConnectionsCommand({ ServiceId: serviceId, VpcEndpointIds: [rejected] }),
    );
    await consumer.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [accepted] }));
    const events = await waitForEvents(5);
    const seen = events.map((e) => `${e.ConnectionEvent} ${e.VpcEndpointId}`);
    expect(seen).toEqual(
      expect.arrayContaining([
        `Connect ${accepted}`,
        `Accept ${accepted}`,
        `Connect ${rejected}`,
        `Reject ${rejected}`,
        `Delete ${accepted}`,
      ]),
    );
    expect(events[0]).toMatchObject({ ServiceId: serviceId, VpcEndpointOwner: CONSUMER });
    const delivered = hook.received.find((m) => m.body.Type === "Notification")!;
    expect(delivered.headers["x-amz-sns-message-type"]).toBe("Notification");
    expect(delivered.body).toMatchObject({ TopicArn: topicArn, SignatureVersion: "2" });
  });
});
