import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminFetch } from "../helpers/admin.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runAws } from "../helpers/spawn.js";
import { waitForState } from "./consumer-fixtures.js";
import { type Creds, makeAccount } from "./provider-fixtures.js";

/**
 * The "done when": a provider in one account and a consumer in another go through
 * create, request, accept, describe (both sides), reject and delete with the real AWS CLI.
 */
const PROVIDER = "123412341234";
const CONSUMER = "567856785678";

let srv: TestServer;
let providerCreds: Creds;
let consumerCreds: Creds;

beforeAll(async () => {
  srv = await startTestServer();
  providerCreds = await makeAccount(srv, PROVIDER);
  consumerCreds = await makeAccount(srv, CONSUMER);
});
afterAll(() => srv.stop());

type Json = Record<string, any>;

/** `aws <args> --output json` as `who`; fails the test with the CLI's stderr on a non-zero exit. */
async function aws(who: Creds, ...args: string[]): Promise<Json> {
  const r = await runAws(["--endpoint-url", srv.url, "--output", "json", ...args], srv.cliEnv(who));
  if (r.code !== 0) throw new Error(`aws ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim() === "" ? {} : JSON.parse(r.stdout);
}

async function awsError(who: Creds, ...args: string[]): Promise<string> {
  const r = await runAws(["--endpoint-url", srv.url, ...args], srv.cliEnv(who));
  expect(r.code).not.toBe(0);
  return r.stderr.trim();
}

describe("the AWS CLI walkthrough across two accounts", () => {
  it("creates, requests, accepts, describes, rejects and deletes", { timeout: 180_000 }, async () => {
    const P = providerCreds;
    const C = consumerCreds;
    // Provider: a VPC, an internal NLB and an endpoint service that requires acceptance.
    const pvpc = (await aws(P, "ec2", "create-vpc", "--cidr-block", "10.1.0.0/16")).Vpc.VpcId;
    const psub = (
      await aws(
        P,
        "ec2",
        "create-subnet",
        "--vpc-id",
        pvpc,
        "--cidr-block",
        "10.1.1.0/24",
        "--availability-zone",
        "us-east-1a",
      )
    ).Subnet.SubnetId;
    const lb = (
      await aws(
        P,
        "elbv2",
        "create-load-balancer",
        "--name",
        "orders",
        "--type",
        "network",
        "--scheme",
        "internal",
        "--subnets",
        psub,
      )
    ).LoadBalancers[0].LoadBalancerArn;
    const svc = (
      await aws(
        P,
        "ec2",
        "create-vpc-endpoint-service-configuration",
        "--network-load-balancer-arns",
        lb,
        "--acceptance-required",
      )
    ).ServiceConfiguration;
    expect(svc).toMatchObject({ ServiceType: [{ ServiceType: "Interface" }], AcceptanceRequired: true });
    const serviceId: string = svc.ServiceId;
    const serviceName: string = svc.ServiceName;

    // The consumer cannot see it yet.
    expect(
      await awsError(C, "ec2", "describe-vpc-endpoint-services", "--service-names", serviceName),
    ).toContain(
      `An error occurred (InvalidServiceName) when calling the DescribeVpcEndpointServices operation: The Vpc Endpoint Service '${serviceName}' does not exist`,
    );
    await aws(
      P,
      "ec2",
      "modify-vpc-endpoint-service-permissions",
      "--service-id",
      serviceId,
      "--add-allowed-principals",
      `arn:aws:iam::${CONSUMER}:root`,
    );
    await aws(
      P,
      "ec2",
      "create-vpc-endpoint-connection-notification",
      "--service-id",
      serviceId,
      "--connection-notification-arn",
      `arn:aws:sns:us-east-1:${PROVIDER}:orders-endpoints`,
      "--connection-events",
      "Connect",
      "Accept",
      "Reject",
      "Delete",
    );

    // Consumer: find the service, make a subnet in a zone it offers, request an endpoint.
    const detail = (await aws(C, "ec2", "describe-vpc-endpoint-services", "--service-names", serviceName))
      .ServiceDetails[0];
    expect(detail).toMatchObject({
      ServiceName: serviceName,
      Owner: PROVIDER,
      AcceptanceRequired: true,
      BaseEndpointDnsNames: [`${serviceId}.us-east-1.vpce.amazonaws.com`],
    });
    const cvpc = (await aws(C, "ec2", "create-vpc", "--cidr-block", "10.2.0.0/16")).Vpc.VpcId;
    const csub = (
      await aws(
        C,
        "ec2",
        "create-subnet",
        "--vpc-id",
        cvpc,
        "--cidr-block",
        "10.2.1.0/24",
        "--availability-zone",
        detail.AvailabilityZones[0],
      )
    ).Subnet.SubnetId;
    const created = (
      await aws(
        C,
        "ec2",
        "create-vpc-endpoint",
        "--vpc-endpoint-type",
        "Interface",
        "--vpc-id",
        cvpc,
        "--service-name",
        serviceName,
        "--subnet-ids",
        csub,
      )
    ).VpcEndpoint;
    expect(created).toMatchObject({
      VpcEndpointType: "Interface",
      State: "pendingAcceptance",
      ServiceName: serviceName,
      SubnetIds: [csub],
      PrivateDnsEnabled: false,
      RequesterManaged: false,
      OwnerId: CONSUMER,
    });
    const id: string = created.VpcEndpointId;
    expect(created.DnsEntries[0].DnsName).toMatch(
      new RegExp(`^${id}-[a-z0-9]{8}\\.${serviceId}\\.us-east-1\\.vpce\\.amazonaws\\.com$`),
    );
    expect(created.DnsEntries[0].HostedZoneId).toBe("Z7HUB22UULQXV");

    // Provider: sees the request and accepts it.
    const pending = (
      await aws(
        P,
        "ec2",
        "describe-vpc-endpoint-connections",
        "--filters",
        "Name=vpc-endpoint-state,Values=pendingAcceptance",
      )
    ).VpcEndpointConnections;
    expect(pending).toEqual([
      expect.objectContaining({
        ServiceId: serviceId,
        VpcEndpointId: id,
        VpcEndpointOwner: CONSUMER,
        VpcEndpointState: "pendingAcceptance",
      }),
    ]);
    expect(
      (
        await aws(
          P,
          "ec2",
          "accept-vpc-endpoint-connections",
          "--service-id",
          serviceId,
          "--vpc-endpoint-ids",
          id,
        )
      ).Unsuccessful,
    ).toEqual([]);
    await waitForState(srv.ec2("us-east-1", C), id, "available");

    // Both sides describe.
    const mine = (await aws(C, "ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", id)).VpcEndpoints[0];
    expect(mine).toMatchObject({
      VpcEndpointId: id,
      State: "available",
      NetworkInterfaceIds: [expect.stringMatching(/^eni-/)],
    });
    const eni = (
      await aws(
        C,
        "ec2",
        "describe-network-interfaces",
        "--network-interface-ids",
        mine.NetworkInterfaceIds[0],
      )
    ).NetworkInterfaces[0];
    expect(eni).toMatchObject({
      InterfaceType: "vpc_endpoint",
      RequesterManaged: true,
      PrivateIpAddress: "10.2.1.4",
      Description: `VPC Endpoint Interface ${id}`,
    });
    const theirs = (
      await aws(
        P,
        "ec2",
        "describe-vpc-endpoint-connections",
        "--filters",
        `Name=vpc-endpoint-id,Values=${id}`,
      )
    ).VpcEndpointConnections[0];
    expect(theirs).toMatchObject({ VpcEndpointState: "available", NetworkLoadBalancerArns: [lb] });
    expect((await aws(P, "ec2", "describe-vpc-endpoints")).VpcEndpoints).toEqual([]);

    // Provider rejects; consumer sees it, then deletes.
    expect(
      (
        await aws(
          P,
          "ec2",
          "reject-vpc-endpoint-connections",
          "--service-id",
          serviceId,
          "--vpc-endpoint-ids",
          id,
        )
      ).Unsuccessful,
    ).toEqual([]);
    expect(
      (await aws(
        C,
        "ec2",
        "describe-vpc-endpoints",
        "--filters",
        `Name=vpc-endpoint-id,Values=${id}`,
        "--query",
        "VpcEndpoints[0].State",
      )) as unknown,
    ).toBe("rejected");
    expect((await aws(C, "ec2", "delete-vpc-endpoints", "--vpc-endpoint-ids", id)).Unsuccessful).toEqual([]);
    const gone = (await aws(C, "ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", id)).VpcEndpoints[0]
      .State;
    expect(["deleting", "deleted"]).toContain(gone);

    const rows = ((await (await adminFetch(srv, `/_privlink/events`)).json()) as { events: Json[] }).events;
    expect(rows.map((r) => [r.event, r.vpcEndpointId, r.vpcEndpointOwner])).toEqual([
      ["Connect", id, CONSUMER],
      ["Accept", id, CONSUMER],
      ["Reject", id, CONSUMER],
      ["Delete", id, CONSUMER],
    ]);
  });
});

describe("the AWS CLI examples of create-vpc-endpoint", () => {
  it("creates a gateway and an interface endpoint as the examples show", { timeout: 120_000 }, async () => {
    const C = consumerCreds;
    const vpc = (await aws(C, "ec2", "create-vpc", "--cidr-block", "10.3.0.0/16")).Vpc.VpcId;
    const rtb = (await aws(C, "ec2", "describe-route-tables", "--filters", `Name=vpc-id,Values=${vpc}`))
      .RouteTables[0].RouteTableId;
    const gw = (
      await aws(
        C,
        "ec2",
        "create-vpc-endpoint",
        "--vpc-id",
        vpc,
        "--service-name",
        "com.amazonaws.us-east-1.s3",
        "--route-table-ids",
        rtb,
      )
    ).VpcEndpoint;
    expect(gw).toMatchObject({
      PolicyDocument:
        '{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}',
      VpcId: vpc,
      State: "available",
      ServiceName: "com.amazonaws.us-east-1.s3",
      RouteTableIds: [rtb],
    });
    const route = (
      await aws(C, "ec2", "describe-route-tables", "--route-table-ids", rtb)
    ).RouteTables[0].Routes.find((r: Json) => r.GatewayId === gw.VpcEndpointId);
    expect(route).toMatchObject({
      DestinationPrefixListId: "pl-63a5400a",
      Origin: "CreateRoute",
      State: "active",
    });

    const subnet = (
      await aws(
        C,
        "ec2",
        "create-subnet",
        "--vpc-id",
        vpc,
        "--cidr-block",
        "10.3.1.0/24",
        "--availability-zone",
        "us-east-1c",
      )
    ).Subnet.SubnetId;
    const sg = (await aws(C, "ec2", "describe-security-groups", "--filters", `Name=vpc-id,Values=${vpc}`))
      .SecurityGroups[0].GroupId;
    const iface = (
      await aws(
        C,
        "ec2",
        "create-vpc-endpoint",
        "--vpc-id",
        vpc,
        "--vpc-endpoint-type",
        "Interface",
        "--service-name",
        "com.amazonaws.us-east-1.s3",
        "--subnet-ids",
        subnet,
        "--security-group-id",
        sg,
        "--tag-specifications",
        "ResourceType=vpc-endpoint,Tags=[{Key=service,Value=S3}]",
      )
    ).VpcEndpoint;
    expect(iface).toMatchObject({
      VpcEndpointType: "Interface",
      State: "pending",
      RouteTableIds: [],
      SubnetIds: [subnet],
      Groups: [{ GroupId: sg, GroupName: "default" }],
      PrivateDnsEnabled: false,
      RequesterManaged: false,
      Tags: [{ Key: "service", Value: "S3" }],
      OwnerId: CONSUMER,
    });
    const id = iface.VpcEndpointId;
    expect(iface.DnsEntries.map((d: Json) => d.DnsName)).toEqual([
      expect.stringMatching(
        new RegExp(`^\\*\\.${id}-[a-z0-9]{8}\\.s3\\.us-east-1\\.vpce\\.amazonaws\\.com$`),
      ),
      expect.stringMatching(
        new RegExp(`^\\*\\.${id}-[a-z0-9]{8}-us-east-1c\\.s3\\.us-east-1\\.vpce\\.amazonaws\\.com$`),
      ),
    ]);
    expect(new Date(iface.CreationTimestamp).getTime()).not.toBeNaN();
  });
});
