import {
  CreateVpcEndpointConnectionNotificationCommand,
  CreateVpcEndpointServiceConfigurationCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointServiceConfigurationsCommand,
  DescribeVpcEndpointServicePermissionsCommand,
  ModifyVpcEndpointServicePermissionsCommand,
} from "@aws-sdk/client-ec2";
import { DescribeLoadBalancersCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findServiceByName, serviceVisibleTo } from "../../src/cloud/endpoint-service.js";
import type { EndpointService, ServicePermission } from "../../src/cloud/types.js";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { type Creds, elbv2, makeAccount, makeNet, makeNlbStack } from "./provider-fixtures.js";

const PROVIDER = "111122223333";
const CONSUMER = "000000000000";

describe("serviceVisibleTo", () => {
  const service = (permissions: [string, ServicePermission["principalType"]][]): EndpointService => ({
    id: "vpce-svc-0123456789abcdef0",
    accountId: PROVIDER,
    region: "us-east-1",
    tags: {},
    serviceName: "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0",
    serviceType: "Interface",
    state: "Available",
    acceptanceRequired: true,
    networkLoadBalancerArns: [],
    gatewayLoadBalancerArns: [],
    supportedIpAddressTypes: ["ipv4"],
    supportedRegions: ["us-east-1"],
    permissions: permissions.map(([principal, principalType], i) => ({
      id: `vpce-svc-perm-${i}`,
      principal,
      principalType,
      tags: {},
    })),
    createdAt: "2026-01-01T00:00:00.000Z",
  });
  const root = (a: string) => `arn:aws:iam::${a}:root`;
  const cases: {
    allow: [string, ServicePermission["principalType"]][];
    caller: { accountId: string; principalArn: string; orgId?: string };
    visible: boolean;
  }[] = [
    { allow: [], caller: { accountId: PROVIDER, principalArn: root(PROVIDER) }, visible: true },
    { allow: [], caller: { accountId: CONSUMER, principalArn: root(CONSUMER) }, visible: false },
    { allow: [["*", "All"]], caller: { accountId: CONSUMER, principalArn: root(CONSUMER) }, visible: true },
    {
      allow: [[root(CONSUMER), "Account"]],
      caller: { accountId: CONSUMER, principalArn: `arn:aws:iam::${CONSUMER}:user/bob` },
      visible: true,
    },
    {
      allow: [[root(CONSUMER), "Account"]],
      caller: { accountId: "999988887777", principalArn: root("999988887777") },
      visible: false,
    },
    {
      allow: [[`arn:aws:iam::${CONSUMER}:user/bob`, "User"]],
      caller: { accountId: CONSUMER, principalArn: `arn:aws:iam::${CONSUMER}:user/bob` },
      visible: true,
    },
    {
      allow: [[`arn:aws:iam::${CONSUMER}:user/bob`, "User"]],
      caller: { accountId: CONSUMER, principalArn: `arn:aws:iam::${CONSUMER}:user/alice` },
      visible: false,
    },
    {
      allow: [[`arn:aws:iam::${CONSUMER}:user/bob`, "User"]],
      caller: { accountId: CONSUMER, principalArn: root(CONSUMER) },
      visible: false,
    },
    {
      allow: [[`arn:aws:iam::${CONSUMER}:role/app`, "Role"]],
      caller: { accountId: CONSUMER, principalArn: `arn:aws:sts::${CONSUMER}:assumed-role/app/s1` },
      visible: true,
    },
    {
      allow: [[`arn:aws:iam::${CONSUMER}:role/app`, "Role"]],
      caller: { accountId: CONSUMER, principalArn: `arn:aws:sts::${CONSUMER}:assumed-role/other/s1` },
      visible: false,
    },
    {
      allow: [[`arn:aws:organizations::${PROVIDER}:ou/o-exampleorgid/ou-ab12-cdefgh34`, "OrganizationUnit"]],
      caller: { accountId: CONSUMER, principalArn: root(CONSUMER), orgId: "o-exampleorgid" },
      visible: true,
    },
    {
      allow: [[`arn:aws:organizations::${PROVIDER}:ou/o-exampleorgid/ou-ab12-cdefgh34`, "OrganizationUnit"]],
      caller: { accountId: CONSUMER, principalArn: root(CONSUMER), orgId: "o-otherorgid00" },
      visible: false,
    },
    {
      allow: [[`arn:aws:organizations::${PROVIDER}:ou/o-exampleorgid/ou-ab12-cdefgh34`, "OrganizationUnit"]],
      caller: { accountId: CONSUMER, principalArn: root(CONSUMER) },
      visible: false,
    },
    {
      allow: [["elasticloadbalancing.amazonaws.com", "Service"]],
      caller: { accountId: CONSUMER, principalArn: root(CONSUMER) },
      visible: false,
    },
  ];
  it.each(cases.map((c, i) => [i, c] as const))("case %i", (_i, c) => {
    expect(serviceVisibleTo(service(c.allow), c.caller)).toBe(c.visible);
  });
});

describe("a provider account and a consumer account", () => {
  let srv: TestServer;
  let provider: Creds;
  let serviceId: string;
  let serviceName: string;
  let lbArn: string;

  beforeAll(async () => {
    srv = await startTestServer();
    provider = await makeAccount(srv, PROVIDER);
    const pec2 = srv.ec2("us-east-1", provider);
    const net = await makeNet(pec2, "10.50.0.0/16", ["us-east-1a", "us-east-1b"]);
    lbArn = (await makeNlbStack(elbv2(srv, provider), net, "shared")).lbArn;
    const svc = await pec2.send(
      new CreateVpcEndpointServiceConfigurationCommand({ NetworkLoadBalancerArns: [lbArn] }),
    );
    serviceId = svc.ServiceConfiguration!.ServiceId!;
    serviceName = svc.ServiceConfiguration!.ServiceName!;
  });
  afterAll(() => srv.stop());

  it("names the service's zones by the provider's AZ names and by AZ IDs, which consumers match on", async () => {
    const pec2 = srv.ec2("us-east-1", provider);
    expect(lbArn).toContain(`:${PROVIDER}:loadbalancer/net/shared/`);
    const cfg = (
      await pec2.send(new DescribeVpcEndpointServiceConfigurationsCommand({ ServiceIds: [serviceId] }))
    ).ServiceConfigurations![0]!;
    const subnets = (
      await pec2.send(
        new DescribeSubnetsCommand({
          Filters: [{ Name: "cidr-block", Values: ["10.50.1.0/24", "10.50.2.0/24"] }],
        }),
      )
    ).Subnets!;
    expect(cfg.AvailabilityZones).toEqual(["us-east-1a", "us-east-1b"]);
    expect(cfg.AvailabilityZoneIds).toEqual(subnets.map((s) => s.AvailabilityZoneId).sort());
    // us-east-1 maps names per account: the provider's us-east-1a is not the consumer's.
    expect(cfg.AvailabilityZoneIds).not.toEqual(["use1-az1", "use1-az2"]);
  });

  it("keeps the provider's objects out of the consumer's reach", async () => {
    const cec2 = srv.ec2();
    const mine = await cec2.send(new DescribeVpcEndpointServiceConfigurationsCommand({}));
    expect(mine.ServiceConfigurations!.map((s) => s.ServiceId)).not.toContain(serviceId);
    const refused = [
      cec2.send(new DescribeVpcEndpointServiceConfigurationsCommand({ ServiceIds: [serviceId] })),
      cec2.send(new DescribeVpcEndpointServicePermissionsCommand({ ServiceId: serviceId })),
      cec2.send(
        new ModifyVpcEndpointServicePermissionsCommand({ ServiceId: serviceId, AddAllowedPrincipals: ["*"] }),
      ),
      cec2.send(
        new CreateVpcEndpointConnectionNotificationCommand({
          ServiceId: serviceId,
          ConnectionEvents: ["Connect"],
          ConnectionNotificationArn: "arn:aws:sns:us-east-1:000000000000:t",
        }),
      ),
    ];
    for (const p of refused) expect((await fails(p)).name).toBe("InvalidVpcEndpointServiceId.NotFound");
    const own = await fails(
      cec2.send(new CreateVpcEndpointServiceConfigurationCommand({ NetworkLoadBalancerArns: [lbArn] })),
    );
    expect(own.name).toBe("InvalidNetworkLoadBalancerArn.NotFound");
    const lbs = await fails(elbv2(srv).send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lbArn] })));
    expect(lbs.name).toBe("LoadBalancerNotFoundException");
  });

  it("shows the service to the consumer once the provider allows its account", async () => {
    const consumer = { accountId: CONSUMER, principalArn: `arn:aws:iam::${CONSUMER}:root` };
    const svc = () => findServiceByName(srv.state, serviceName)!;
    expect(serviceVisibleTo(svc(), consumer)).toBe(false);
    expect(
      serviceVisibleTo(svc(), { accountId: PROVIDER, principalArn: `arn:aws:iam::${PROVIDER}:root` }),
    ).toBe(true);
    const pec2 = srv.ec2("us-east-1", provider);
    await pec2.send(
      new ModifyVpcEndpointServicePermissionsCommand({
        ServiceId: serviceId,
        AddAllowedPrincipals: [consumer.principalArn],
      }),
    );
    expect(serviceVisibleTo(svc(), consumer)).toBe(true);
    expect(
      serviceVisibleTo(svc(), { accountId: "999988887777", principalArn: "arn:aws:iam::999988887777:root" }),
    ).toBe(false);
    await pec2.send(
      new ModifyVpcEndpointServicePermissionsCommand({
        ServiceId: serviceId,
        RemoveAllowedPrincipals: [consumer.principalArn],
      }),
    );
    expect(serviceVisibleTo(svc(), consumer)).toBe(false);
  });
});
