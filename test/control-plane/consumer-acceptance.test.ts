import {
  AcceptVpcEndpointConnectionsCommand,
  CreateRouteCommand,
  CreateSubnetCommand,
  CreateVpcEndpointCommand,
  CreateVpcEndpointConnectionNotificationCommand,
  CreateVpcEndpointServiceConfigurationCommand,
  DeleteVpcEndpointsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeVpcEndpointConnectionsCommand,
  DescribeVpcEndpointServiceConfigurationsCommand,
  DescribeVpcEndpointServicesCommand,
  type EC2Client,
  ModifyVpcEndpointCommand,
  ModifyVpcEndpointPayerResponsibilityCommand,
  ModifyVpcEndpointServiceConfigurationCommand,
  ModifyVpcEndpointServicePermissionsCommand,
  RejectVpcEndpointConnectionsCommand,
} from "@aws-sdk/client-ec2";
import { CreateLoadBalancerCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { azById } from "../../src/cloud/regions.js";
import { adminFetch } from "../helpers/admin.js";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { describeEndpoint, makeVpc, type TestVpc, until, waitForState } from "./consumer-fixtures.js";
import { type Creds, elbv2, makeAccount, makeNet, makeNlbStack } from "./provider-fixtures.js";

const PROVIDER = "111111111111";
const CONSUMER = "222222222222";

let srv: TestServer;
let provider: EC2Client;
let consumer: EC2Client;
let providerCreds: Creds;
let serviceId: string;
let serviceName: string;
let consumerNet: TestVpc;
/** The consumer's AZ names for the service's zones (us-east-1 names differ per account). */
let consumerAzs: string[];

interface EventRow {
  id: string;
  event: string;
  serviceId: string;
  vpcEndpointId: string;
  vpcEndpointOwner: string;
  vpcEndpointState: string;
  notificationId: string;
}

async function events(since?: string): Promise<EventRow[]> {
  const res = await adminFetch(srv, `/_privlink/events${since ? `?since=${since}` : ""}`);
  return ((await res.json()) as { events: EventRow[] }).events;
}

async function connections(filters: { Name: string; Values: string[] }[] = [], client = provider) {
  return (await client.send(new DescribeVpcEndpointConnectionsCommand({ Filters: filters })))
    .VpcEndpointConnections!;
}

beforeAll(async () => {
  srv = await startTestServer();
  providerCreds = await makeAccount(srv, PROVIDER);
  provider = srv.ec2("us-east-1", providerCreds);
  consumer = srv.ec2("us-east-1", await makeAccount(srv, CONSUMER));
  const pnet = await makeNet(provider, "10.100.0.0/16", ["us-east-1a", "us-east-1b"]);
  const { lbArn } = await makeNlbStack(elbv2(srv, providerCreds), pnet, "svc");
  const svc = (
    await provider.send(
      new CreateVpcEndpointServiceConfigurationCommand({
        AcceptanceRequired: true,
        NetworkLoadBalancerArns: [lbArn],
      }),
    )
  ).ServiceConfiguration!;
  serviceId = svc.ServiceId!;
  serviceName = svc.ServiceName!;
  await until(
    async () => {
      const s = (
        await provider.send(new DescribeVpcEndpointServiceConfigurationsCommand({ ServiceIds: [serviceId] }))
      ).ServiceConfigurations![0]!;
      return s.ServiceState === "Available" ? s : undefined;
    },
    10_000,
    "the service to be Available",
  );
});
afterAll(() => srv.stop());

describe("a provider and a consumer in two accounts", () => {
  it("hides the service from accounts the provider has not allowed", async () => {
    const hidden = `The Vpc Endpoint Service '${serviceName}' does not exist`;
    expect(
      await fails(consumer.send(new DescribeVpcEndpointServicesCommand({ ServiceNames: [serviceName] }))),
    ).toMatchObject({ name: "InvalidServiceName", message: hidden });
    consumerNet = await makeVpc(consumer, {
      cidr: "10.200.0.0/16",
      azs: ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"],
    });
    const create = fails(
      consumer.send(
        new CreateVpcEndpointCommand({
          VpcId: consumerNet.vpcId,
          VpcEndpointType: "Interface",
          ServiceName: serviceName,
        }),
      ),
    );
    expect(await create).toMatchObject({ name: "InvalidServiceName", message: hidden });
    const all = (
      await consumer.send(
        new DescribeVpcEndpointServicesCommand({ Filters: [{ Name: "owner", Values: [PROVIDER] }] }),
      )
    ).ServiceDetails!;
    expect(all).toEqual([]);
  });

  it("shows an allowed consumer the service with its own AZ names", async () => {
    await provider.send(
      new ModifyVpcEndpointServicePermissionsCommand({
        ServiceId: serviceId,
        AddAllowedPrincipals: [`arn:aws:iam::${CONSUMER}:root`],
      }),
    );
    await provider.send(
      new CreateVpcEndpointConnectionNotificationCommand({
        ServiceId: serviceId,
        ConnectionNotificationArn: `arn:aws:sns:us-east-1:${PROVIDER}:endpoint-events`,
        ConnectionEvents: ["Connect", "Accept", "Reject", "Delete"],
      }),
    );
    const out = await consumer.send(new DescribeVpcEndpointServicesCommand({ ServiceNames: [serviceName] }));
    const d = out.ServiceDetails![0]!;
    const providerView = (
      await provider.send(new DescribeVpcEndpointServiceConfigurationsCommand({ ServiceIds: [serviceId] }))
    ).ServiceConfigurations![0]!;
    expect(d).toMatchObject({
      ServiceName: serviceName,
      ServiceId: serviceId,
      ServiceType: [{ ServiceType: "Interface" }],
      Owner: PROVIDER,
      BaseEndpointDnsNames: [`${serviceId}.us-east-1.vpce.amazonaws.com`],
      VpcEndpointPolicySupported: false,
      AcceptanceRequired: true,
      ManagesVpcEndpoints: false,
      SupportedIpAddressTypes: ["ipv4"],
      AvailabilityZoneIds: providerView.AvailabilityZoneIds,
    });
    expect(d.AvailabilityZoneIds).toHaveLength(2);
    // Same zones by ID, named as each account names them.
    const names = (account: string) =>
      d.AvailabilityZoneIds!.map((id) => azById(account, "us-east-1", id)!.name).sort();
    expect(d.AvailabilityZones).toEqual(names(CONSUMER));
    expect(providerView.AvailabilityZones).toEqual(names(PROVIDER));
    consumerAzs = d.AvailabilityZones!;
    const byOwner = await consumer.send(
      new DescribeVpcEndpointServicesCommand({ Filters: [{ Name: "owner", Values: [PROVIDER] }] }),
    );
    expect(byOwner.ServiceNames).toEqual([serviceName]);
    const third = srv.ec2("us-east-1", await makeAccount(srv, "333333333333"));
    expect(
      (await fails(third.send(new DescribeVpcEndpointServicesCommand({ ServiceNames: [serviceName] })))).name,
    ).toBe("InvalidServiceName");
  });

  it("goes through request, accept, reject and delete, each side seeing its own view", async () => {
    const first = await events();
    const offered = consumerAzs.map((az) => consumerNet.subnets[az]!);
    const notOffered = Object.entries(consumerNet.subnets).find(([az]) => !consumerAzs.includes(az))![1];
    const azError = await fails(
      consumer.send(
        new CreateVpcEndpointCommand({
          VpcId: consumerNet.vpcId,
          VpcEndpointType: "Interface",
          ServiceName: serviceName,
          SubnetIds: [notOffered],
        }),
      ),
    );
    expect(azError).toMatchObject({
      name: "InvalidParameter",
      message: `The VPC endpoint service ${serviceName} does not support the availability zone of the subnet: ${notOffered}.`,
    });

    const created = (
      await consumer.send(
        new CreateVpcEndpointCommand({
          VpcId: consumerNet.vpcId,
          VpcEndpointType: "Interface",
          ServiceName: serviceName,
          SubnetIds: offered,
        }),
      )
    ).VpcEndpoint!;
    const id = created.VpcEndpointId!;
    expect(created).toMatchObject({
      State: "pendingAcceptance",
      PrivateDnsEnabled: false,
      OwnerId: CONSUMER,
      ServiceName: serviceName,
    });
    expect(created.DnsEntries!.map((x) => x.DnsName)).toEqual([
      expect.stringMatching(
        new RegExp(`^${id}-[a-z0-9]{8}\\.${serviceId}\\.us-east-1\\.vpce\\.amazonaws\\.com$`),
      ),
      ...[...consumerAzs]
        .sort()
        .map((az) =>
          expect.stringMatching(
            new RegExp(`^${id}-[a-z0-9]{8}-${az}\\.${serviceId}\\.us-east-1\\.vpce\\.amazonaws\\.com$`),
          ),
        ),
    ]);
    const eniOwners = (
      await consumer.send(
        new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: created.NetworkInterfaceIds }),
      )
    ).NetworkInterfaces!;
    expect(eniOwners.map((n) => n.OwnerId)).toEqual([CONSUMER, CONSUMER]);
    // Waiting for acceptance is a state of its own: the lifecycle leaves it alone.
    expect((await describeEndpoint(consumer, id)).State).toBe("pendingAcceptance");

    // The provider's view.
    const [conn] = await connections([{ Name: "vpc-endpoint-state", Values: ["pendingAcceptance"] }]);
    expect(conn).toMatchObject({
      ServiceId: serviceId,
      VpcEndpointId: id,
      VpcEndpointOwner: CONSUMER,
      VpcEndpointState: "pendingAcceptance",
      IpAddressType: "ipv4",
      VpcEndpointRegion: "us-east-1",
      NetworkLoadBalancerArns: [expect.stringContaining(":loadbalancer/net/svc/")],
    });
    expect(conn!.VpcEndpointConnectionId).toMatch(/^vpce-con-[0-9a-f]{17}$/);
    expect(conn!.DnsEntries).toEqual(created.DnsEntries);
    for (const [Name, Values, n] of [
      ["service-id", [serviceId], 1],
      ["vpc-endpoint-owner", [CONSUMER], 1],
      ["vpc-endpoint-owner", [PROVIDER], 0],
      ["vpc-endpoint-id", [id], 1],
      ["vpc-endpoint-region", ["us-east-1"], 1],
      ["ip-address-type", ["ipv4"], 1],
      ["vpc-endpoint-state", ["available"], 0],
    ] as const)
      expect(await connections([{ Name, Values: [...Values] }]), `${Name}=${Values}`).toHaveLength(n);
    // The consumer sees its endpoint, not the connection; the provider sees no endpoint.
    expect(await connections([], consumer)).toEqual([]);
    expect(
      (await fails(provider.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, ResetPolicy: true }))))
        .name,
    ).toBe("InvalidVpcEndpointId.NotFound");
    expect(
      (
        await fails(
          consumer.send(
            new AcceptVpcEndpointConnectionsCommand({ ServiceId: serviceId, VpcEndpointIds: [id] }),
          ),
        )
      ).name,
    ).toBe("InvalidVpcEndpointServiceId.NotFound");

    // Accept.
    const accepted = await provider.send(
      new AcceptVpcEndpointConnectionsCommand({
        ServiceId: serviceId,
        VpcEndpointIds: [id, "vpce-0123456789abcdef0"],
      }),
    );
    expect(accepted.Unsuccessful).toEqual([
      {
        Error: {
          Code: "InvalidVpcEndpoint.NotFound",
          Message: expect.stringContaining("vpce-0123456789abcdef0"),
        },
        ResourceId: "vpce-0123456789abcdef0",
      },
    ]);
    await waitForState(consumer, id, "available");
    expect((await connections())[0]!.VpcEndpointState).toBe("available");
    const twice = await provider.send(
      new AcceptVpcEndpointConnectionsCommand({ ServiceId: serviceId, VpcEndpointIds: [id] }),
    );
    expect(twice.Unsuccessful![0]!.Error!.Code).toBe("IncorrectState");

    // Reject at available; then the consumer deletes.
    expect(
      (
        await provider.send(
          new RejectVpcEndpointConnectionsCommand({ ServiceId: serviceId, VpcEndpointIds: [id] }),
        )
      ).Unsuccessful,
    ).toEqual([]);
    expect((await describeEndpoint(consumer, id)).State).toBe("rejected");
    // Only the consumer can delete: to the provider the endpoint does not exist.
    const byProvider = await provider.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [id] }));
    expect(byProvider.Unsuccessful![0]!.Error!.Code).toBe("InvalidVpcEndpointId.NotFound");
    await consumer.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [id] }));
    await waitForState(consumer, id, "deleted");
    expect((await connections([{ Name: "vpc-endpoint-id", Values: [id] }]))[0]!.VpcEndpointState).toBe(
      "deleted",
    );

    const seen = await events(first.at(-1)?.id);
    expect(seen.map((e) => [e.event, e.vpcEndpointState])).toEqual([
      ["Connect", "pendingAcceptance"],
      ["Accept", "pending"],
      ["Reject", "rejected"],
      ["Delete", "deleting"],
    ]);
    for (const e of seen)
      expect(e).toMatchObject({
        serviceId,
        vpcEndpointId: id,
        vpcEndpointOwner: CONSUMER,
        notificationId: expect.stringMatching(/^vpce-nfn-/),
      });
    expect(await events(seen.at(-1)!.id)).toEqual([]);
  });

  it("rejects a waiting request, connects the owner and no-acceptance services directly", async () => {
    const subnet = consumerNet.subnets[consumerAzs[0]!]!;
    const req = {
      VpcId: consumerNet.vpcId,
      VpcEndpointType: "Interface" as const,
      ServiceName: serviceName,
      SubnetIds: [subnet],
    };
    const waiting = (await consumer.send(new CreateVpcEndpointCommand(req))).VpcEndpoint!.VpcEndpointId!;
    await provider.send(
      new RejectVpcEndpointConnectionsCommand({ ServiceId: serviceId, VpcEndpointIds: [waiting] }),
    );
    expect((await describeEndpoint(consumer, waiting)).State).toBe("rejected");
    const again = await provider.send(
      new RejectVpcEndpointConnectionsCommand({ ServiceId: serviceId, VpcEndpointIds: [waiting] }),
    );
    expect(again.Unsuccessful![0]!.Error!.Code).toBe("IncorrectState");
    await consumer.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [waiting] }));

    // The owner's own endpoints need no acceptance.
    const ownVpc = await makeVpc(provider, { cidr: "10.150.0.0/16", azs: ["us-east-1a"] });
    const own = (
      await provider.send(
        new CreateVpcEndpointCommand({
          VpcId: ownVpc.vpcId,
          VpcEndpointType: "Interface",
          ServiceName: serviceName,
          SubnetIds: [ownVpc.subnets["us-east-1a"]!],
        }),
      )
    ).VpcEndpoint!;
    expect(own.State).toBe("pending");
    await waitForState(provider, own.VpcEndpointId!, "available");

    await provider.send(
      new ModifyVpcEndpointServiceConfigurationCommand({ ServiceId: serviceId, AcceptanceRequired: false }),
    );
    const direct = (await consumer.send(new CreateVpcEndpointCommand(req))).VpcEndpoint!;
    expect(direct.State).toBe("pending");
    await waitForState(consumer, direct.VpcEndpointId!, "available");
    // Payer responsibility can move to the service's account for a customer service.
    const payer = await consumer.send(
      new ModifyVpcEndpointPayerResponsibilityCommand({
        VpcEndpointId: direct.VpcEndpointId!,
        PayerResponsibility: "vpc-endpoint-service-account",
        Scope: "vpc-endpoint-charges",
        ServiceId: serviceId,
      }),
    );
    expect(payer.PayerResponsibilities).toEqual([
      { Scope: "vpc-endpoint-charges", PayerResponsibilityType: "vpc-endpoint-service-account" },
    ]);
    expect(
      (await connections([{ Name: "vpc-endpoint-id", Values: [direct.VpcEndpointId!] }]))[0]!
        .PayerResponsibilities,
    ).toEqual(payer.PayerResponsibilities);
    await consumer.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [direct.VpcEndpointId!] }));
    await provider.send(
      new ModifyVpcEndpointServiceConfigurationCommand({ ServiceId: serviceId, AcceptanceRequired: true }),
    );
  });

  it("serves the private DNS name of a customer service only once it is verified", async () => {
    await provider.send(
      new ModifyVpcEndpointServiceConfigurationCommand({
        ServiceId: serviceId,
        PrivateDnsName: "api.example.com",
      }),
    );
    const v = await makeVpc(consumer, { cidr: "10.210.0.0/16", azs: [consumerAzs[0]!] });
    const req = {
      VpcId: v.vpcId,
      VpcEndpointType: "Interface" as const,
      ServiceName: serviceName,
      SubnetIds: [v.subnets[consumerAzs[0]!]!],
      PrivateDnsEnabled: true,
    };
    const unverified = await fails(consumer.send(new CreateVpcEndpointCommand(req)));
    expect(unverified.name).toBe("InvalidParameter");
    expect(unverified.message).toContain("not verified");
    const detail = (
      await consumer.send(new DescribeVpcEndpointServicesCommand({ ServiceNames: [serviceName] }))
    ).ServiceDetails![0]!;
    expect(detail).toMatchObject({
      PrivateDnsName: "api.example.com",
      PrivateDnsNameVerificationState: "pendingVerification",
    });
    // Verification itself reads public DNS (another module); mark the name verified directly.
    srv.state.transact((tx) => {
      const s = tx.get("endpointService", serviceId)!;
      tx.put("endpointService", {
        ...s,
        privateDnsVerification: { ...s.privateDnsVerification!, state: "verified" },
      });
    });
    const e = (await consumer.send(new CreateVpcEndpointCommand(req))).VpcEndpoint!;
    expect(e.PrivateDnsEnabled).toBe(true);
    expect(e.DnsEntries!.at(-1)!.DnsName).toBe("api.example.com");
    const conn = (await connections([{ Name: "vpc-endpoint-id", Values: [e.VpcEndpointId!] }]))[0]!;
    expect(conn.DnsEntries!.map((x) => x.DnsName)).not.toContain("api.example.com");
    const second = await fails(consumer.send(new CreateVpcEndpointCommand({ ...req, SubnetIds: [] })));
    expect(second.message).toBe(
      `private-dns-enabled cannot be set because there is already a conflicting DNS domain for api.example.com in the VPC ${v.vpcId}`,
    );
    await consumer.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [e.VpcEndpointId!] }));
  });
});

describe("cross-region connections to a customer service", () => {
  it("needs the consumer's region among the service's supported regions", async () => {
    const west = srv.ec2("us-west-2", await makeAccount(srv, CONSUMER));
    const v = await makeVpc(west, { cidr: "10.220.0.0/16", azs: ["us-west-2a"], region: "us-west-2" });
    const req = {
      VpcId: v.vpcId,
      VpcEndpointType: "Interface" as const,
      ServiceName: serviceName,
      ServiceRegion: "us-east-1",
      SubnetIds: [v.subnets["us-west-2a"]!],
    };
    expect((await fails(west.send(new CreateVpcEndpointCommand(req)))).name).toBe("InvalidServiceName");
    expect(
      (await west.send(new DescribeVpcEndpointServicesCommand({ ServiceRegions: ["us-east-1"] })))
        .ServiceNames,
    ).not.toContain(serviceName);

    await provider.send(
      new ModifyVpcEndpointServiceConfigurationCommand({
        ServiceId: serviceId,
        AddSupportedRegions: ["us-west-2"],
      }),
    );
    const listed = await west.send(
      new DescribeVpcEndpointServicesCommand({
        ServiceRegions: ["us-east-1"],
        Filters: [{ Name: "owner", Values: [PROVIDER] }],
      }),
    );
    expect(listed.ServiceDetails!.map((d) => [d.ServiceName, d.ServiceRegion])).toEqual([
      [serviceName, "us-east-1"],
    ]);
    const e = (await west.send(new CreateVpcEndpointCommand(req))).VpcEndpoint!;
    expect(e).toMatchObject({ State: "pendingAcceptance", ServiceRegion: "us-east-1" });
    const conn = (await connections([{ Name: "vpc-endpoint-region", Values: ["us-west-2"] }]))[0]!;
    expect(conn).toMatchObject({
      VpcEndpointId: e.VpcEndpointId,
      VpcEndpointRegion: "us-west-2",
      VpcEndpointOwner: CONSUMER,
    });
    await provider.send(
      new AcceptVpcEndpointConnectionsCommand({ ServiceId: serviceId, VpcEndpointIds: [e.VpcEndpointId!] }),
    );
    await waitForState(west, e.VpcEndpointId!, "available");
    await west.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [e.VpcEndpointId!] }));
  });
});

describe("Gateway Load Balancer endpoints", () => {
  it("take one subnet, make a GWLB endpoint ENI and can be route targets", async () => {
    const elb = elbv2(srv, providerCreds);
    const gnet = await makeNet(provider, "10.160.0.0/16", ["us-east-1a"]);
    const gwlb = (
      await elb.send(
        new CreateLoadBalancerCommand({
          Name: "inspect",
          Type: "gateway",
          Subnets: [gnet.subnets["us-east-1a"]!],
        }),
      )
    ).LoadBalancers![0]!.LoadBalancerArn!;
    const svc = (
      await provider.send(
        new CreateVpcEndpointServiceConfigurationCommand({
          AcceptanceRequired: false,
          GatewayLoadBalancerArns: [gwlb],
        }),
      )
    ).ServiceConfiguration!;
    await until(
      async () => {
        const s = (
          await provider.send(
            new DescribeVpcEndpointServiceConfigurationsCommand({ ServiceIds: [svc.ServiceId!] }),
          )
        ).ServiceConfigurations![0]!;
        return s.ServiceState === "Available" ? s : undefined;
      },
      10_000,
      "the GWLB service",
    );
    const v = await makeVpc(provider, { cidr: "10.170.0.0/16", azs: ["us-east-1a", "us-east-1b"] });
    const base = {
      VpcId: v.vpcId,
      VpcEndpointType: "GatewayLoadBalancer" as const,
      ServiceName: svc.ServiceName!,
    };
    expect(
      (
        await fails(
          provider.send(
            new CreateVpcEndpointCommand({
              ...base,
              SubnetIds: [v.subnets["us-east-1a"]!, v.subnets["us-east-1b"]!],
            }),
          ),
        )
      ).name,
    ).toBe("InvalidParameter");
    expect(
      (
        await fails(
          provider.send(
            new CreateVpcEndpointCommand({
              ...base,
              VpcEndpointType: "Interface",
              SubnetIds: [v.subnets["us-east-1a"]!],
            }),
          ),
        )
      ).message,
    ).toBe("Endpoint type (Interface) does not match available service types ([GatewayLoadBalancer]).");
    const e = (
      await provider.send(new CreateVpcEndpointCommand({ ...base, SubnetIds: [v.subnets["us-east-1a"]!] }))
    ).VpcEndpoint!;
    expect(e).toMatchObject({ VpcEndpointType: "GatewayLoadBalancer", State: "pending", DnsEntries: [] });
    expect(e.PolicyDocument).toBeUndefined();
    const eni = (
      await provider.send(
        new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: e.NetworkInterfaceIds }),
      )
    ).NetworkInterfaces![0]!;
    expect(eni.InterfaceType).toBe("gateway_load_balancer_endpoint");
    await waitForState(provider, e.VpcEndpointId!, "available");
    await provider.send(
      new CreateRouteCommand({
        RouteTableId: v.mainRouteTable,
        DestinationCidrBlock: "0.0.0.0/0",
        VpcEndpointId: e.VpcEndpointId,
      }),
    );
    const routes = (
      await provider.send(new DescribeRouteTablesCommand({ RouteTableIds: [v.mainRouteTable] }))
    ).RouteTables![0]!.Routes!;
    expect(routes).toContainEqual(
      expect.objectContaining({ DestinationCidrBlock: "0.0.0.0/0", GatewayId: e.VpcEndpointId }),
    );
    const otherSubnet = (
      await provider.send(
        new CreateSubnetCommand({
          VpcId: v.vpcId,
          CidrBlock: "10.170.9.0/24",
          AvailabilityZone: "us-east-1a",
        }),
      )
    ).Subnet!.SubnetId!;
    expect(
      (
        await fails(
          provider.send(
            new ModifyVpcEndpointCommand({ VpcEndpointId: e.VpcEndpointId!, AddSubnetIds: [otherSubnet] }),
          ),
        )
      ).name,
    ).toBe("InvalidParameter");
  });
});
