import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eniHostAddress } from "../../src/cloud/eni.js";
import {
  accept,
  addresses,
  allowFromGroup,
  type Consumer,
  type Creds,
  clients,
  exchange,
  makeConsumer,
  makeProvider,
  newAccount,
  type Provider,
  until,
  waitEndpoint,
} from "../dataplane/world.js";
import { adminFetch } from "../helpers/admin.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { echo, type Listening, listen } from "../net/sockets.js";

/**
 * The isolation matrix's data-plane rows: a flow from another account's workload to an
 * endpoint is refused unless a path and a permission exist, with the reason the flow events
 * record. Provider A allows B only; C is a third account with a VPC of its own.
 */
const A = "111111111111";
const B = "222222222222";
const C = "333333333333";

let srv: TestServer;
let target: Listening;
let provider: Provider;
let b: Consumer;
let cWorkload: string;
let cCreds: Creds;

beforeAll(async () => {
  srv = await startTestServer();
  target = await listen(echo);
  provider = await makeProvider(srv, {
    accountId: A,
    targets: [{ host: "127.0.0.1", port: target.port }],
    acceptanceRequired: true,
    allow: [B],
  });
  b = await makeConsumer(srv, B, provider.serviceName);
  await allowFromGroup(b, provider.listenerPort);
  cWorkload = await thirdAccountWorkload();
  await waitEndpoint(b, "pendingAcceptance");
  await until(() => (srv.dataplane.dataplane.listenerCount > 0 ? true : undefined), "listener");
}, 120_000);

afterAll(async () => {
  await target?.close();
  await srv?.stop();
});

/** C: a VPC, a subnet and an instance whose group lets everything out and everything in. */
async function thirdAccountWorkload(): Promise<string> {
  cCreds = await newAccount(srv, C);
  const { ec2 } = clients(srv, cCreds);
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.2.0.0/16" }))).Vpc!.VpcId!;
  const subnetId = (
    await ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.2.1.0/24", AvailabilityZone: "us-east-1a" }),
    )
  ).Subnet!.SubnetId!;
  const groupId = (
    await ec2.send(new CreateSecurityGroupCommand({ GroupName: "open", Description: "open", VpcId: vpcId }))
  ).GroupId!;
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: groupId,
      IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
    }),
  );
  const run = await ec2.send(
    new RunInstancesCommand({
      ImageId: "ami-12345678",
      MinCount: 1,
      MaxCount: 1,
      SubnetId: subnetId,
      SecurityGroupIds: [groupId],
    }),
  );
  const s = srv.state;
  return eniHostAddress(s, s.get("eni", s.get("instance", run.Instances![0]!.InstanceId!)!.eniId)!)!;
}

/** The reason the data plane recorded for the latest refused flow. */
async function lastReason(): Promise<string | undefined> {
  const { flows } = (await (await adminFetch(srv, "/_privlink/flows")).json()) as {
    flows: { reason: string }[];
  };
  return flows.at(-1)?.reason;
}

const to = () => ({ host: addresses(srv, b).endpoint, port: provider.listenerPort });
const hello = Buffer.from("hello");

describe("isolation matrix: flows between accounts", () => {
  it("C, not an allowed principal, cannot make an endpoint to A's service", async () => {
    const { ec2 } = clients(srv, cCreds);
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.3.0.0/16" }))).Vpc!.VpcId!;
    await expect(
      ec2.send(
        new CreateVpcEndpointCommand({
          VpcEndpointType: "Interface",
          VpcId: vpcId,
          ServiceName: provider.serviceName,
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidServiceName" });
  });

  it("B's own workload is refused until A accepts, then admitted", async () => {
    expect(await exchange(to(), addresses(srv, b).workload, hello)).toMatchObject({ kind: "refused" });
    expect(await lastReason()).toMatch(/pendingAcceptance/);
    await accept(srv, provider, b.endpointId);
    await waitEndpoint(b, "available");
    expect(await exchange(to(), addresses(srv, b).workload, hello)).toEqual({ kind: "data", data: hello });
  });

  it("C's workload has no path to B's endpoint, even once it is available", async () => {
    expect(await exchange(to(), cWorkload, hello)).toMatchObject({ kind: "refused" });
    expect(await lastReason()).toMatch(
      new RegExp(`no route to .* in ${b.vpcId} from vpc-.*has no route for it`),
    );
  });

  it("B's workload outside the endpoint's group rule is refused by the group", async () => {
    // A second instance in B's subnet, in a group the endpoint's rule does not name.
    const groupId = (
      await b.ec2.send(
        new CreateSecurityGroupCommand({ GroupName: "other", Description: "other", VpcId: b.vpcId }),
      )
    ).GroupId!;
    const run = await b.ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12345678",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: b.subnetId,
        SecurityGroupIds: [groupId],
      }),
    );
    const s = srv.state;
    const other = eniHostAddress(s, s.get("eni", s.get("instance", run.Instances![0]!.InstanceId!)!.eniId)!)!;
    expect(await exchange(to(), other, hello)).toMatchObject({ kind: "refused" });
    expect(await lastReason()).toMatch(/security group/i);
  });
});
