import {
  CreateTagsCommand,
  CreateVpcEndpointServiceConfigurationCommand,
  DeleteTagsCommand,
  DeleteVpcEndpointServiceConfigurationsCommand,
  DescribeTagsCommand,
  DescribeVpcEndpointServiceConfigurationsCommand,
  DescribeVpcEndpointServicePermissionsCommand,
  type EC2Client,
  ModifyVpcEndpointServiceConfigurationCommand,
  ModifyVpcEndpointServicePayerResponsibilityCommand,
  ModifyVpcEndpointServicePermissionsCommand,
  StartVpcEndpointServicePrivateDnsVerificationCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateLoadBalancerCommand,
  DeleteLoadBalancerCommand,
  type ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  Route53Client,
} from "@aws-sdk/client-route-53";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findServiceByName, serviceAzIds } from "../../src/cloud/endpoint-service.js";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import {
  elbv2,
  fakeEndpoint,
  makeNet,
  makeNlbStack,
  type ProviderNet,
  setEndpointState,
  settle,
} from "./provider-fixtures.js";

let srv: TestServer;
let ec2: EC2Client;
let elb: ElasticLoadBalancingV2Client;
let r53: Route53Client;
let net: ProviderNet;

beforeAll(async () => {
  srv = await startTestServer();
  ec2 = srv.ec2();
  elb = elbv2(srv);
  r53 = new Route53Client({
    endpoint: srv.url,
    region: "us-east-1",
    credentials: srv.credentials,
    maxAttempts: 1,
  });
  net = await makeNet(ec2, "10.30.0.0/16", ["us-east-1a", "us-east-1b"]);
});
afterAll(() => srv.stop());

let nlbs = 0;
/** A fresh internal NLB (a service takes a load balancer no other service uses). */
async function nlb(type: "network" | "gateway" = "network"): Promise<string> {
  const out = await elb.send(
    new CreateLoadBalancerCommand({
      Name: `lb-${++nlbs}`,
      Type: type,
      Scheme: type === "network" ? "internal" : undefined,
      Subnets: Object.values(net.subnets),
    }),
  );
  return out.LoadBalancers![0]!.LoadBalancerArn!;
}

async function service(input: Record<string, unknown> = {}) {
  const out = await ec2.send(
    new CreateVpcEndpointServiceConfigurationCommand({ NetworkLoadBalancerArns: [await nlb()], ...input }),
  );
  return out.ServiceConfiguration!;
}

async function describeOne(id: string) {
  return (await ec2.send(new DescribeVpcEndpointServiceConfigurationsCommand({ ServiceIds: [id] })))
    .ServiceConfigurations![0]!;
}

describe("endpoint service configurations", () => {
  it("creates an NLB-backed service: Available in the create response, in the load balancers' zones", async () => {
    const stack = await makeNlbStack(elb, net, "front");
    const out = await ec2.send(
      new CreateVpcEndpointServiceConfigurationCommand({
        NetworkLoadBalancerArns: [stack.lbArn],
        TagSpecifications: [
          { ResourceType: "vpc-endpoint-service", Tags: [{ Key: "Name", Value: "front" }] },
        ],
      }),
    );
    const c = out.ServiceConfiguration!;
    expect(c.ServiceId).toMatch(/^vpce-svc-[0-9a-f]{17}$/);
    expect(c).toEqual({
      ServiceType: [{ ServiceType: "Interface" }],
      ServiceId: c.ServiceId,
      ServiceName: `com.amazonaws.vpce.us-east-1.${c.ServiceId}`,
      ServiceState: "Available",
      AvailabilityZoneIds: ["use1-az1", "use1-az2"],
      AvailabilityZones: ["us-east-1a", "us-east-1b"],
      AcceptanceRequired: true,
      ManagesVpcEndpoints: false,
      NetworkLoadBalancerArns: [stack.lbArn],
      GatewayLoadBalancerArns: [],
      SupportedIpAddressTypes: ["ipv4"],
      BaseEndpointDnsNames: [`${c.ServiceId}.us-east-1.vpce.amazonaws.com`],
      PrivateDnsNameConfiguration: {},
      Tags: [{ Key: "Name", Value: "front" }],
      SupportedRegions: [{ Region: "us-east-1", ServiceState: "Available" }],
      RemoteAccessEnabled: false,
    });
    settle(srv);
    const d = await describeOne(c.ServiceId!);
    expect([d.ServiceState, d.SupportedRegions]).toEqual([
      "Available",
      [{ Region: "us-east-1", ServiceState: "Available" }],
    ]);
    // The consumer side finds it by name and offers it in the same zones, by ID.
    const svc = findServiceByName(srv.state, c.ServiceName!)!;
    expect(svc.id).toBe(c.ServiceId);
    expect(serviceAzIds(srv.state, svc)).toEqual(["use1-az1", "use1-az2"]);
    expect(findServiceByName(srv.state, `com.amazonaws.vpce.us-west-2.${c.ServiceId}`)).toBeUndefined();
  });

  it("creates a GWLB-backed service of type GatewayLoadBalancer", async () => {
    const c = (
      await ec2.send(
        new CreateVpcEndpointServiceConfigurationCommand({
          GatewayLoadBalancerArns: [await nlb("gateway")],
          AcceptanceRequired: false,
        }),
      )
    ).ServiceConfiguration!;
    expect(c).toMatchObject({
      ServiceType: [{ ServiceType: "GatewayLoadBalancer" }],
      ServiceState: "Available",
      AcceptanceRequired: false,
      NetworkLoadBalancerArns: [],
    });
    expect(c.GatewayLoadBalancerArns).toHaveLength(1);
  });

  it("refuses bad load balancers, address types, regions and names", async () => {
    const free = await nlb();
    const used = (await service()).NetworkLoadBalancerArns![0]!;
    const gwlb = await nlb("gateway");
    const arn = (id: string) =>
      `arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/ghost/${id}`;
    const cases: [Record<string, unknown>, string][] = [
      // AWS: neither list is InvalidParameter, not MissingParameter (issue 18).
      [{}, "InvalidParameter"],
      [{ NetworkLoadBalancerArns: [free], GatewayLoadBalancerArns: [gwlb] }, "InvalidParameterCombination"],
      [{ NetworkLoadBalancerArns: ["arn:aws:nope"] }, "InvalidNetworkLoadBalancerArn.Malformed"],
      [{ NetworkLoadBalancerArns: [arn("0123456789abcdef")] }, "InvalidNetworkLoadBalancerArn.NotFound"],
      [{ GatewayLoadBalancerArns: [free] }, "InvalidParameter"],
      [{ NetworkLoadBalancerArns: [used] }, "InvalidParameter"],
      [{ NetworkLoadBalancerArns: [free], SupportedIpAddressTypes: ["ipv5"] }, "InvalidParameterValue"],
      [{ NetworkLoadBalancerArns: [free], SupportedIpAddressTypes: ["ipv6"] }, "InvalidParameter"],
      [{ NetworkLoadBalancerArns: [free], SupportedRegions: ["mars-east-1"] }, "InvalidParameterValue"],
      [{ NetworkLoadBalancerArns: [free], PrivateDnsName: "not a name" }, "InvalidParameterValue"],
      [{ GatewayLoadBalancerArns: [gwlb], PrivateDnsName: "gw.example.com" }, "InvalidParameter"],
      [
        {
          NetworkLoadBalancerArns: [free],
          TagSpecifications: [{ ResourceType: "vpc-endpoint", Tags: [{ Key: "a", Value: "b" }] }],
        },
        "InvalidParameterValue",
      ],
    ];
    for (const [input, name] of cases)
      expect(
        (await fails(ec2.send(new CreateVpcEndpointServiceConfigurationCommand(input as never)))).name,
        JSON.stringify(input),
      ).toBe(name);
    const inUse = await fails(elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: used })));
    expect(inUse).toMatchObject({
      name: "ResourceInUseException",
      message: `Load balancer '${used}' cannot be deleted because it is currently associated with another service`,
    });
  });

  it("answers a ClientToken retry with the first result and refuses a changed one; DryRun creates nothing", async () => {
    const lb = await nlb();
    const create = (extra: Record<string, unknown>) =>
      ec2.send(
        new CreateVpcEndpointServiceConfigurationCommand({
          NetworkLoadBalancerArns: [lb],
          ClientToken: "tok-1",
          ...extra,
        }),
      );
    const first = await create({});
    const again = await create({});
    expect(again.ServiceConfiguration!.ServiceId).toBe(first.ServiceConfiguration!.ServiceId);
    expect([first.ClientToken, again.ClientToken]).toEqual(["tok-1", "tok-1"]);
    expect((await fails(create({ AcceptanceRequired: false }))).name).toBe("IdempotentParameterMismatch");
    expect((await fails(create({ ClientToken: "x".repeat(65) }))).name).toBe("InvalidParameterValue");
    const before = (await ec2.send(new DescribeVpcEndpointServiceConfigurationsCommand({})))
      .ServiceConfigurations!.length;
    const dry = await fails(
      ec2.send(
        new CreateVpcEndpointServiceConfigurationCommand({
          NetworkLoadBalancerArns: [await nlb()],
          DryRun: true,
        }),
      ),
    );
    expect(dry).toMatchObject({ name: "DryRunOperation", status: 412 });
    const after = (await ec2.send(new DescribeVpcEndpointServiceConfigurationsCommand({})))
      .ServiceConfigurations!.length;
    expect(after).toBe(before);
    const dryBad = await fails(
      ec2.send(
        new CreateVpcEndpointServiceConfigurationCommand({
          NetworkLoadBalancerArns: ["arn:aws:nope"],
          DryRun: true,
        }),
      ),
    );
    expect(dryBad.name).toBe("InvalidNetworkLoadBalancerArn.Malformed");
  });

  it("describes by ID, by every filter, and in pages", async () => {
    const tagged = await service({
      TagSpecifications: [{ ResourceType: "vpc-endpoint-service", Tags: [{ Key: "tier", Value: "gold" }] }],
    });
    for (let i = 0; i < 5; i++) await service();
    settle(srv);
    const id = tagged.ServiceId!;
    const cases: [string, string[], (ids: string[]) => void][] = [
      ["service-id", [id], (ids) => expect(ids).toEqual([id])],
      ["service-name", [tagged.ServiceName!], (ids) => expect(ids).toEqual([id])],
      ["service-name", ["com.amazonaws.vpce.us-east-1.*"], (ids) => expect(ids.length).toBeGreaterThan(7)],
      ["service-state", ["Available"], (ids) => expect(ids).toContain(id)],
      ["service-state", ["Deleting", "Failed"], (ids) => expect(ids).toEqual([])],
      ["supported-ip-address-types", ["ipv4"], (ids) => expect(ids).toContain(id)],
      ["supported-ip-address-types", ["ipv6"], (ids) => expect(ids).toEqual([])],
      ["tag:tier", ["gold"], (ids) => expect(ids).toEqual([id])],
      ["tag-key", ["tier"], (ids) => expect(ids).toEqual([id])],
    ];
    for (const [name, values, check] of cases) {
      const out = await ec2.send(
        new DescribeVpcEndpointServiceConfigurationsCommand({ Filters: [{ Name: name, Values: values }] }),
      );
      check(out.ServiceConfigurations!.map((s) => s.ServiceId!));
    }
    expect(
      (
        await fails(
          ec2.send(
            new DescribeVpcEndpointServiceConfigurationsCommand({
              Filters: [{ Name: "owner", Values: ["x"] }],
            }),
          ),
        )
      ).name,
    ).toBe("InvalidFilter");
    const ghost = "vpce-svc-0123456789abcdef0";
    expect(
      await fails(ec2.send(new DescribeVpcEndpointServiceConfigurationsCommand({ ServiceIds: [id, ghost] }))),
    ).toMatchObject({
      name: "InvalidVpcEndpointServiceId.NotFound",
      message: `The VpcEndpointService Id '${ghost}' does not exist`,
    });
    const all = (
      await ec2.send(new DescribeVpcEndpointServiceConfigurationsCommand({}))
    ).ServiceConfigurations!.map((s) => s.ServiceId);
    const paged: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 10; i++) {
      const p = await ec2.send(
        new DescribeVpcEndpointServiceConfigurationsCommand({ MaxResults: 5, NextToken: token }),
      );
      paged.push(...p.ServiceConfigurations!.map((s) => s.ServiceId!));
      token = p.NextToken;
      if (!token) break;
    }
    expect(paged).toEqual(all);
    expect(
      (await fails(ec2.send(new DescribeVpcEndpointServiceConfigurationsCommand({ MaxResults: 4 })))).name,
    ).toBe("InvalidParameterValue");
    expect(
      (await fails(ec2.send(new DescribeVpcEndpointServiceConfigurationsCommand({ NextToken: "bogus" }))))
        .name,
    ).toBe("InvalidNextToken");
  });

  it("modifies acceptance, load balancers, address types and supported regions", async () => {
    const s = await service();
    const id = s.ServiceId!;
    const modify = (input: Record<string, unknown>) =>
      ec2.send(new ModifyVpcEndpointServiceConfigurationCommand({ ServiceId: id, ...input }));
    const extra = await nlb();
    expect(
      (
        await modify({
          AcceptanceRequired: false,
          AddNetworkLoadBalancerArns: [extra],
          AddSupportedRegions: ["eu-west-1"],
        })
      ).Return,
    ).toBe(true);
    const d = await describeOne(id);
    expect(d).toMatchObject({
      AcceptanceRequired: false,
      NetworkLoadBalancerArns: [s.NetworkLoadBalancerArns![0], extra],
      RemoteAccessEnabled: true,
    });
    expect(d.SupportedRegions!.map((r) => r.Region)).toEqual(["us-east-1", "eu-west-1"]);
    await modify({ RemoveNetworkLoadBalancerArns: [extra], RemoveSupportedRegions: ["eu-west-1"] });
    expect(await describeOne(id)).toMatchObject({
      NetworkLoadBalancerArns: [s.NetworkLoadBalancerArns![0]],
      RemoteAccessEnabled: false,
    });
    const cases: [Record<string, unknown>, string][] = [
      [{ RemoveNetworkLoadBalancerArns: s.NetworkLoadBalancerArns }, "InvalidParameter"],
      [{ RemoveNetworkLoadBalancerArns: [extra] }, "InvalidParameter"],
      [{ AddGatewayLoadBalancerArns: [await nlb("gateway")] }, "InvalidParameter"],
      [{ RemoveSupportedRegions: ["us-east-1"] }, "InvalidParameter"],
      [{ RemoveSupportedIpAddressTypes: ["ipv4"] }, "InvalidParameter"],
      [{ PrivateDnsName: "a.example.com", RemovePrivateDnsName: true }, "InvalidParameterCombination"],
      [{ ServiceId: "vpce-svc-0123456789abcdef0" }, "InvalidVpcEndpointServiceId.NotFound"],
      [{ ServiceId: "svc-123" }, "InvalidVpcEndpointServiceIdId.Malformed"],
    ];
    for (const [input, name] of cases)
      expect((await fails(modify(input))).name, JSON.stringify(input)).toBe(name);
  });

  it("is taggable with CreateTags and DeleteTags as vpc-endpoint-service", async () => {
    const id = (await service()).ServiceId!;
    await ec2.send(
      new CreateTagsCommand({
        Resources: [id],
        Tags: [
          { Key: "env", Value: "prod" },
          { Key: "team", Value: "net" },
        ],
      }),
    );
    await ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: "team" }] }));
    expect((await describeOne(id)).Tags).toEqual([{ Key: "env", Value: "prod" }]);
    const tags = await ec2.send(
      new DescribeTagsCommand({ Filters: [{ Name: "resource-id", Values: [id] }] }),
    );
    expect(tags.Tags).toEqual([
      { Key: "env", ResourceId: id, ResourceType: "vpc-endpoint-service", Value: "prod" },
    ]);
  });

  it("sets the payer responsibility one way only", async () => {
    const id = (await service()).ServiceId!;
    const set = (p: string) =>
      ec2.send(
        new ModifyVpcEndpointServicePayerResponsibilityCommand({
          ServiceId: id,
          PayerResponsibility: p as never,
        }),
      );
    expect((await set("ServiceOwner")).ReturnValue).toBe(true);
    expect((await set("ServiceOwner")).ReturnValue).toBe(true);
    expect((await describeOne(id)).PayerResponsibility).toBe("ServiceOwner");
    expect((await fails(set("Consumer"))).name).toBe("InvalidParameterValue");
  });
});

describe("private DNS names", () => {
  async function publishTxt(zone: string, name: string, value: string): Promise<void> {
    const z = await r53.send(new CreateHostedZoneCommand({ Name: zone, CallerReference: `${zone}-${name}` }));
    await r53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: z.HostedZone!.Id,
        ChangeBatch: {
          Changes: [
            {
              Action: "CREATE",
              ResourceRecordSet: {
                Name: name,
                Type: "TXT",
                TTL: 1800,
                ResourceRecords: [{ Value: `"${value}"` }],
              },
            },
          ],
        },
      }),
    );
  }

  it("gives a TXT challenge; Start verifies it against public DNS (failed, then verified)", async () => {
    const s = await service({ PrivateDnsName: "API.Example.com" });
    const cfg = s.PrivateDnsNameConfiguration!;
    expect(s.PrivateDnsName).toBe("api.example.com");
    expect(cfg).toEqual({
      State: "pendingVerification",
      Type: "TXT",
      Name: expect.stringMatching(/^_[a-z0-9]{20}$/),
      Value: expect.stringMatching(/^vpce:[a-z0-9]{20}$/),
    });
    const start = () =>
      ec2.send(new StartVpcEndpointServicePrivateDnsVerificationCommand({ ServiceId: s.ServiceId }));
    expect((await start()).ReturnValue).toBe(true);
    expect((await describeOne(s.ServiceId!)).PrivateDnsNameConfiguration!.State).toBe("failed");
    await publishTxt("example.com", `${cfg.Name}.example.com`, cfg.Value!);
    await start();
    expect((await describeOne(s.ServiceId!)).PrivateDnsNameConfiguration).toEqual({
      ...cfg,
      State: "verified",
    });
  });

  it("verifies pending names in the background once the record appears, also at the domain apex", async () => {
    const s = await service({ PrivateDnsName: "*.svc.example.org" });
    const cfg = s.PrivateDnsNameConfiguration!;
    settle(srv);
    expect((await describeOne(s.ServiceId!)).PrivateDnsNameConfiguration!.State).toBe("pendingVerification");
    await publishTxt("example.org", "example.org", cfg.Value!);
    settle(srv);
    expect((await describeOne(s.ServiceId!)).PrivateDnsNameConfiguration!.State).toBe("verified");
  });

  it("replaces the challenge when the name changes and removes it with the name", async () => {
    const s = await service({ PrivateDnsName: "one.example.net" });
    const modify = (input: Record<string, unknown>) =>
      ec2.send(new ModifyVpcEndpointServiceConfigurationCommand({ ServiceId: s.ServiceId, ...input }));
    await modify({ PrivateDnsName: "one.example.net" });
    expect((await describeOne(s.ServiceId!)).PrivateDnsNameConfiguration).toEqual(
      s.PrivateDnsNameConfiguration,
    );
    await modify({ PrivateDnsName: "two.example.net" });
    const changed = await describeOne(s.ServiceId!);
    expect(changed.PrivateDnsName).toBe("two.example.net");
    expect(changed.PrivateDnsNameConfiguration!.Value).not.toBe(s.PrivateDnsNameConfiguration!.Value);
    await modify({ RemovePrivateDnsName: true });
    const removed = await describeOne(s.ServiceId!);
    expect([removed.PrivateDnsName, removed.PrivateDnsNameConfiguration]).toEqual([undefined, {}]);
    const nothing = await fails(
      ec2.send(new StartVpcEndpointServicePrivateDnsVerificationCommand({ ServiceId: s.ServiceId })),
    );
    expect(nothing.name).toBe("InvalidParameter");
  });
});

describe("allowed principals", () => {
  it("adds every principal type, filters, pages and removes", async () => {
    const id = (await service()).ServiceId!;
    const principals: [string, string][] = [
      ["arn:aws:iam::111122223333:root", "Account"],
      ["arn:aws:iam::111122223333:user/alice", "User"],
      ["arn:aws:iam::111122223333:role/deployer", "Role"],
      ["*", "All"],
      ["elasticloadbalancing.amazonaws.com", "Service"],
      ["arn:aws:organizations::111122223333:ou/o-exampleorgid/ou-ab12-cdefgh34", "OrganizationUnit"],
    ];
    const out = await ec2.send(
      new ModifyVpcEndpointServicePermissionsCommand({
        ServiceId: id,
        AddAllowedPrincipals: principals.map(([p]) => p),
      }),
    );
    expect(out.ReturnValue).toBe(true);
    expect(out.AddedPrincipals!.map((a) => [a.Principal, a.PrincipalType])).toEqual(principals);
    for (const a of out.AddedPrincipals!) {
      expect(a.ServicePermissionId).toMatch(/^vpce-svc-perm-[0-9a-f]{17}$/);
      expect(a.ServiceId).toBe(id);
    }
    const again = await ec2.send(
      new ModifyVpcEndpointServicePermissionsCommand({ ServiceId: id, AddAllowedPrincipals: ["*"] }),
    );
    expect(again.AddedPrincipals![0]!.ServicePermissionId).toBe(out.AddedPrincipals![3]!.ServicePermissionId);
    const filtered: [string, string, string[]][] = [
      ["principal-type", "Role", ["arn:aws:iam::111122223333:role/deployer"]],
      // Filter values are wildcards: "\\*" is the literal principal "*".
      ["principal", "\\*", ["*"]],
      ["principal", "arn:aws:iam::111122223333:*", principals.slice(0, 3).map(([p]) => p)],
    ];
    for (const [name, value, want] of filtered) {
      const d = await ec2.send(
        new DescribeVpcEndpointServicePermissionsCommand({
          ServiceId: id,
          Filters: [{ Name: name, Values: [value] }],
        }),
      );
      expect(
        d.AllowedPrincipals!.map((p) => p.Principal),
        `${name}=${value}`,
      ).toEqual(want);
    }
    const page1 = await ec2.send(
      new DescribeVpcEndpointServicePermissionsCommand({ ServiceId: id, MaxResults: 5 }),
    );
    const page2 = await ec2.send(
      new DescribeVpcEndpointServicePermissionsCommand({
        ServiceId: id,
        MaxResults: 5,
        NextToken: page1.NextToken,
      }),
    );
    expect([page1.AllowedPrincipals!.length, page2.AllowedPrincipals!.length, page2.NextToken]).toEqual([
      5,
      1,
      undefined,
    ]);
    expect(page1.AllowedPrincipals![0]).toEqual({
      PrincipalType: "Account",
      Principal: principals[0]![0],
      ServicePermissionId: out.AddedPrincipals![0]!.ServicePermissionId,
      Tags: [],
      ServiceId: id,
    });
    await ec2.send(
      new ModifyVpcEndpointServicePermissionsCommand({
        ServiceId: id,
        RemoveAllowedPrincipals: ["*", "arn:aws:iam::111122223333:root"],
      }),
    );
    const left = await ec2.send(new DescribeVpcEndpointServicePermissionsCommand({ ServiceId: id }));
    expect(left.AllowedPrincipals!.map((p) => p.PrincipalType)).toEqual([
      "User",
      "Role",
      "Service",
      "OrganizationUnit",
    ]);
  });

  it("refuses principals AWS does not support and unknown services", async () => {
    const id = (await service()).ServiceId!;
    const bad = [
      "arn:aws:iam::111122223333:role/path/deployer",
      "123456789012",
      "arn:aws:iam::1234:root",
      "arn:aws:s3:::bucket",
    ];
    for (const p of bad)
      expect(
        (
          await fails(
            ec2.send(
              new ModifyVpcEndpointServicePermissionsCommand({ ServiceId: id, AddAllowedPrincipals: [p] }),
            ),
          )
        ).name,
        p,
      ).toBe("UnknownPrincipalType.Unsupported");
    const path = await fails(
      ec2.send(
        new ModifyVpcEndpointServicePermissionsCommand({ ServiceId: id, AddAllowedPrincipals: [bad[0]!] }),
      ),
    );
    expect(path.message).toContain("paths are not supported");
    expect(
      (await fails(ec2.send(new ModifyVpcEndpointServicePermissionsCommand({ ServiceId: id })))).name,
    ).toBe("MissingParameter");
    expect(
      (
        await fails(
          ec2.send(
            new DescribeVpcEndpointServicePermissionsCommand({ ServiceId: "vpce-svc-0123456789abcdef0" }),
          ),
        )
      ).name,
    ).toBe("InvalidVpcEndpointServiceId.NotFound");
    const dry = await fails(
      ec2.send(
        new ModifyVpcEndpointServicePermissionsCommand({
          ServiceId: id,
          AddAllowedPrincipals: ["*"],
          DryRun: true,
        }),
      ),
    );
    expect(dry.name).toBe("DryRunOperation");
    expect(
      (await ec2.send(new DescribeVpcEndpointServicePermissionsCommand({ ServiceId: id }))).AllowedPrincipals,
    ).toEqual([]);
  });
});

describe("deleting services", () => {
  it("refuses while endpoints are connected, then deletes; unknown IDs are reported per item", async () => {
    const s = await service();
    const id = s.ServiceId!;
    const lb = s.NetworkLoadBalancerArns![0]!;
    const extra = await nlb();
    await ec2.send(
      new ModifyVpcEndpointServiceConfigurationCommand({
        ServiceId: id,
        AddNetworkLoadBalancerArns: [extra],
      }),
    );
    fakeEndpoint(srv, {
      id: "vpce-0aaaaaaaaaaaaaaa1",
      serviceId: id,
      serviceName: s.ServiceName!,
      state: "pendingAcceptance",
    });
    fakeEndpoint(srv, {
      id: "vpce-0aaaaaaaaaaaaaaa2",
      serviceId: id,
      serviceName: s.ServiceName!,
      state: "available",
    });
    const ghost = "vpce-svc-0123456789abcdef0";
    const refused = await ec2.send(
      new DeleteVpcEndpointServiceConfigurationsCommand({ ServiceIds: [id, ghost] }),
    );
    expect(refused.Unsuccessful).toEqual([
      {
        Error: {
          Code: "ExistingVpcEndpointConnections",
          Message: `Service ${id} has existing active VPC Endpoint connections!`,
        },
        ResourceId: id,
      },
      {
        Error: {
          Code: "InvalidVpcEndpointService.NotFound",
          Message: `The VpcEndpointService Id '${ghost}' does not exist`,
        },
        ResourceId: ghost,
      },
    ]);
    const removeLb = await fails(
      ec2.send(
        new ModifyVpcEndpointServiceConfigurationCommand({
          ServiceId: id,
          RemoveNetworkLoadBalancerArns: [extra],
        }),
      ),
    );
    expect(removeLb.name).toBe("ExistingVpcEndpointConnections");
    setEndpointState(srv, "vpce-0aaaaaaaaaaaaaaa1", "rejected");
    setEndpointState(srv, "vpce-0aaaaaaaaaaaaaaa2", "rejected");
    const done = await ec2.send(new DeleteVpcEndpointServiceConfigurationsCommand({ ServiceIds: [id] }));
    expect(done.Unsuccessful).toEqual([]);
    expect((await fails(describeOne(id))).name).toBe("InvalidVpcEndpointServiceId.NotFound");
    // The load balancers are free again.
    await elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb }));
    expect((await fails(ec2.send(new DeleteVpcEndpointServiceConfigurationsCommand({} as never)))).name).toBe(
      "MissingParameter",
    );
  });
});
