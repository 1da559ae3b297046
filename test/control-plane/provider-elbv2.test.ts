import { type AddressInfo, createServer } from "node:net";
import {
  DescribeNetworkInterfacesCommand,
  type EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  ModifyLoadBalancerAttributesCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  RegisterTargetsCommand,
  RemoveTagsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixedRuntime } from "../../src/cloud/runtime.js";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { until } from "./consumer-fixtures.js";
import { elbv2, makeNet, makeNlbStack, type ProviderNet, settle } from "./provider-fixtures.js";

// A clock the test moves (deregistration delays). It starts at the real time so that SigV4
// timestamps stay valid.
const rt = fixedRuntime(new Date(), 7);
let srv: TestServer;
let ec2: EC2Client;
let elb: ElasticLoadBalancingV2Client;
let net: ProviderNet;
let other: ProviderNet;

beforeAll(async () => {
  srv = await startTestServer({ runtime: rt });
  ec2 = srv.ec2();
  elb = elbv2(srv);
  net = await makeNet(ec2, "10.10.0.0/16", ["us-east-1a", "us-east-1b"], true);
  other = await makeNet(ec2, "10.20.0.0/16", ["us-east-1a"]);
});
afterAll(() => srv.stop());

const subnetsOf = (n: ProviderNet) => Object.values(n.subnets);

describe("load balancers", () => {
  it("creates a network load balancer with one requester-managed node ENI per AZ", async () => {
    const out = await elb.send(
      new CreateLoadBalancerCommand({
        Name: "web-nlb",
        Type: "network",
        Subnets: subnetsOf(net),
        Tags: [{ Key: "team", Value: "a" }],
      }),
    );
    const lb = out.LoadBalancers![0]!;
    const hex =
      /^arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer\/net\/web-nlb\/([0-9a-f]{16})$/.exec(
        lb.LoadBalancerArn!,
      )?.[1];
    expect(hex).toBeDefined();
    expect(lb).toMatchObject({
      DNSName: `web-nlb-${hex}.elb.us-east-1.amazonaws.com`,
      CanonicalHostedZoneId: "Z26RNL4JYFTOTI",
      LoadBalancerName: "web-nlb",
      Scheme: "internet-facing",
      VpcId: net.vpcId,
      State: { Code: "provisioning" },
      Type: "network",
      IpAddressType: "ipv4",
    });
    expect(lb.AvailabilityZones!.map((z) => [z.ZoneName, z.SubnetId])).toEqual([
      ["us-east-1a", net.subnets["us-east-1a"]],
      ["us-east-1b", net.subnets["us-east-1b"]],
    ]);
    const enis = await ec2.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [{ Name: "description", Values: [`ELB net/web-nlb/${hex}`] }],
      }),
    );
    expect(
      enis
        .NetworkInterfaces!.map((e) => [
          e.InterfaceType,
          e.RequesterManaged,
          e.RequesterId,
          e.SubnetId,
          e.Groups,
        ])
        .sort(),
    ).toEqual(
      subnetsOf(net)
        .map((s) => ["network_load_balancer", true, "amazon-elb", s, []])
        .sort(),
    );
    settle(srv, rt);
    const d = await elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lb.LoadBalancerArn!] }));
    expect(d.LoadBalancers![0]!.State).toEqual({ Code: "active" });
    // Same name, same settings: AWS answers the existing load balancer.
    const again = await elb.send(
      new CreateLoadBalancerCommand({ Name: "web-nlb", Type: "network", Subnets: subnetsOf(net) }),
    );
    expect(again.LoadBalancers![0]!.LoadBalancerArn).toBe(lb.LoadBalancerArn);
    const attrs = await elb.send(
      new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: lb.LoadBalancerArn }),
    );
    expect(Object.fromEntries(attrs.Attributes!.map((a) => [a.Key, a.Value]))).toMatchObject({
      "deletion_protection.enabled": "false",
      "load_balancing.cross_zone.enabled": "false",
      "dns_record.client_routing_policy": "any_availability_zone",
    });
  });

  it("refuses bad names, types, subnets and settings with ELB's codes", async () => {
    const cases: { input: Record<string, unknown>; name: string; message?: string }[] = [
      {
        input: { Name: "a".repeat(33) },
        name: "ValidationError",
        message: `The load balancer name '${"a".repeat(33)}' cannot be longer than '32' characters`,
      },
      {
        input: { Name: "bad_name" },
        name: "ValidationError",
        message:
          "The load balancer name 'bad_name' can only contain characters that are alphanumeric characters and hyphens(-)",
      },
      { input: { Name: "-lead" }, name: "ValidationError" },
      { input: { Name: "trail-" }, name: "ValidationError" },
      {
        input: { Name: "internal-x" },
        name: "ValidationError",
        message: "The load balancer name 'internal-x' cannot begin with 'internal-'",
      },
      { input: { Name: undefined }, name: "ValidationError" },
      { input: { Name: "alb", Type: undefined }, name: "InvalidConfigurationRequestException" },
      { input: { Name: "x", Type: "classic" }, name: "ValidationError" },
      {
        input: { Name: "x", Subnets: ["subnet-0123456789abcdef0"] },
        name: "SubnetNotFoundException",
        message: "The subnet ID 'subnet-0123456789abcdef0' is not valid",
      },
      { input: { Name: "x", Subnets: [] }, name: "ValidationError" },
      {
        input: { Name: "x", Subnets: [net.subnets["us-east-1a"], other.subnets["us-east-1a"]] },
        name: "InvalidConfigurationRequestException",
      },
      {
        input: { Name: "x", Scheme: "internet-facing", Subnets: subnetsOf(other) },
        name: "InvalidSubnetException",
        message: `VPC ${other.vpcId} has no internet gateway`,
      },
      {
        input: { Name: "x", SecurityGroups: ["sg-0123456789abcdef0"] },
        name: "InvalidSecurityGroupException",
      },
      { input: { Name: "web-nlb", Scheme: "internal" }, name: "DuplicateLoadBalancerNameException" },
      {
        input: {
          Name: "x",
          Subnets: undefined,
          SubnetMappings: [{ SubnetId: net.subnets["us-east-1a"], PrivateIPv4Address: "10.10.1.50" }],
        },
        name: "InvalidConfigurationRequestException",
      },
      {
        input: { Name: "x", SubnetMappings: [{ SubnetId: net.subnets["us-east-1a"] }] },
        name: "ValidationError",
        message: "You can specify subnets or subnet mappings, not both",
      },
    ];
    for (const c of cases) {
      const input = { Type: "network", Subnets: subnetsOf(net), ...c.input };
      const e = await fails(elb.send(new CreateLoadBalancerCommand(input as never)));
      expect(e.name, JSON.stringify(c.input)).toBe(c.name);
      if (c.message) expect(e.message).toBe(c.message);
    }
    const alb = await fails(
      elb.send(new CreateLoadBalancerCommand({ Name: "alb", Subnets: subnetsOf(net) })),
    );
    expect(alb.message).toContain("Type=network");
  });

  it("pins node addresses with SubnetMappings on internal load balancers and maps pool exhaustion to InvalidSubnet", async () => {
    const out = await elb.send(
      new CreateLoadBalancerCommand({
        Name: "pinned",
        Type: "network",
        Scheme: "internal",
        SubnetMappings: [{ SubnetId: other.subnets["us-east-1a"], PrivateIPv4Address: "10.20.1.50" }],
      }),
    );
    expect(out.LoadBalancers![0]!.AvailabilityZones![0]!.LoadBalancerAddresses).toEqual([
      { PrivateIPv4Address: "10.20.1.50" },
    ]);
    const enis = await ec2.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [{ Name: "private-ip-address", Values: ["10.20.1.50"] }],
      }),
    );
    expect(enis.NetworkInterfaces![0]!.InterfaceType).toBe("network_load_balancer");
    const taken = await fails(
      elb.send(
        new CreateLoadBalancerCommand({
          Name: "pinned2",
          Type: "network",
          Scheme: "internal",
          SubnetMappings: [{ SubnetId: other.subnets["us-east-1a"], PrivateIPv4Address: "10.20.1.50" }],
        }),
      ),
    );
    expect(taken.name).toBe("InvalidConfigurationRequestException");
    await elb.send(
      new DeleteLoadBalancerCommand({ LoadBalancerArn: out.LoadBalancers![0]!.LoadBalancerArn }),
    );
    const gone = await ec2.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [{ Name: "private-ip-address", Values: ["10.20.1.50"] }],
      }),
    );
    expect(gone.NetworkInterfaces).toEqual([]);
  });

  it("describes by names and ARNs with Marker paging", async () => {
    for (const n of ["page-a", "page-b", "page-c"])
      await elb.send(
        new CreateLoadBalancerCommand({
          Name: n,
          Type: "network",
          Scheme: "internal",
          Subnets: subnetsOf(other),
        }),
      );
    const byName = await elb.send(new DescribeLoadBalancersCommand({ Names: ["page-b", "page-a"] }));
    expect(byName.LoadBalancers!.map((l) => l.LoadBalancerName).sort()).toEqual(["page-a", "page-b"]);
    const seen: string[] = [];
    let marker: string | undefined;
    for (let i = 0; i < 20; i++) {
      const p = await elb.send(new DescribeLoadBalancersCommand({ PageSize: 2, Marker: marker }));
      expect(p.LoadBalancers!.length).toBeLessThanOrEqual(2);
      seen.push(...p.LoadBalancers!.map((l) => l.LoadBalancerName!));
      marker = p.NextMarker;
      if (!marker) break;
    }
    expect(seen).toEqual(expect.arrayContaining(["web-nlb", "page-a", "page-b", "page-c"]));
    expect(new Set(seen).size).toBe(seen.length);
    const missing = await fails(elb.send(new DescribeLoadBalancersCommand({ Names: ["page-a", "nope"] })));
    expect(missing).toMatchObject({
      name: "LoadBalancerNotFoundException",
      message: "Load balancers '[nope]' not found",
      status: 400,
    });
    const both = await fails(
      elb.send(new DescribeLoadBalancersCommand({ Names: ["page-a"], LoadBalancerArns: ["arn:aws:x"] })),
    );
    expect(both.name).toBe("ValidationError");
    expect((await fails(elb.send(new DescribeLoadBalancersCommand({ PageSize: 401 })))).name).toBe(
      "ValidationError",
    );
    expect((await fails(elb.send(new DescribeLoadBalancersCommand({ Marker: "garbage" })))).name).toBe(
      "ValidationError",
    );
    expect(
      (await fails(elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: ["not-an-arn"] })))).message,
    ).toBe("'not-an-arn' is not a valid load balancer ARN");
  });

  it("modifies attributes, honours deletion protection and deletes idempotently", async () => {
    const lb = (
      await elb.send(
        new CreateLoadBalancerCommand({
          Name: "guarded",
          Type: "network",
          Scheme: "internal",
          Subnets: subnetsOf(other),
        }),
      )
    ).LoadBalancers![0]!.LoadBalancerArn!;
    const mod = await elb.send(
      new ModifyLoadBalancerAttributesCommand({
        LoadBalancerArn: lb,
        Attributes: [
          { Key: "deletion_protection.enabled", Value: "true" },
          { Key: "load_balancing.cross_zone.enabled", Value: "true" },
        ],
      }),
    );
    expect(mod.Attributes).toEqual(
      expect.arrayContaining([
        { Key: "deletion_protection.enabled", Value: "true" },
        { Key: "load_balancing.cross_zone.enabled", Value: "true" },
      ]),
    );
    const bad = [
      [{ Key: "no.such.key", Value: "1" }, "Load balancer attribute key 'no.such.key' is not recognized"],
      [
        { Key: "deletion_protection.enabled", Value: "yes" },
        "Load balancer attribute value 'yes' is not valid for key 'deletion_protection.enabled'",
      ],
    ] as const;
    for (const [attr, message] of bad)
      expect(
        await fails(
          elb.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: lb, Attributes: [attr] })),
        ),
      ).toMatchObject({ name: "ValidationError", message });
    expect((await fails(elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb })))).name).toBe(
      "OperationNotPermittedException",
    );
    await elb.send(
      new ModifyLoadBalancerAttributesCommand({
        LoadBalancerArn: lb,
        Attributes: [{ Key: "deletion_protection.enabled", Value: "false" }],
      }),
    );
    await elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb }));
    await elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb }));
    expect(
      (await fails(elb.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: lb })))).name,
    ).toBe("LoadBalancerNotFoundException");
  });

  it("models gateway load balancers with GENEVE target groups and port-less listeners", async () => {
    const lb = (
      await elb.send(
        new CreateLoadBalancerCommand({ Name: "gwlb", Type: "gateway", Subnets: subnetsOf(other) }),
      )
    ).LoadBalancers![0]!;
    expect(lb.LoadBalancerArn).toMatch(/:loadbalancer\/gwy\/gwlb\/[0-9a-f]{16}$/);
    expect(lb.Scheme).toBeUndefined();
    const enis = await ec2.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [{ Name: "interface-type", Values: ["gateway_load_balancer"] }],
      }),
    );
    expect(enis.NetworkInterfaces).toHaveLength(1);
    const badPort = await fails(
      elb.send(
        new CreateTargetGroupCommand({
          Name: "geneve-bad",
          Protocol: "GENEVE",
          Port: 80,
          VpcId: other.vpcId,
          TargetType: "ip",
        }),
      ),
    );
    expect(badPort.name).toBe("ValidationError");
    const tg = (
      await elb.send(
        new CreateTargetGroupCommand({
          Name: "geneve",
          Protocol: "GENEVE",
          Port: 6081,
          VpcId: other.vpcId,
          TargetType: "ip",
        }),
      )
    ).TargetGroups![0]!;
    expect(tg).toMatchObject({
      HealthCheckProtocol: "TCP",
      HealthCheckPort: "80",
      HealthCheckIntervalSeconds: 10,
      HealthCheckTimeoutSeconds: 5,
    });
    const l = await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb.LoadBalancerArn,
        DefaultActions: [{ Type: "forward", TargetGroupArn: tg.TargetGroupArn }],
      }),
    );
    expect(l.Listeners![0]!.Port).toBeUndefined();
    expect(l.Listeners![0]!.ListenerArn).toMatch(/:listener\/gwy\/gwlb\/[0-9a-f]{16}\/[0-9a-f]{16}$/);
    const sg = await fails(
      elb.send(
        new CreateLoadBalancerCommand({
          Name: "gwlb2",
          Type: "gateway",
          Subnets: subnetsOf(other),
          SecurityGroups: ["sg-0123456789abcdef0"],
        }),
      ),
    );
    expect(sg.name).toBe("ValidationError");
  });
});

describe("target groups", () => {
  it("uses AWS's TCP health-check defaults and attributes", async () => {
    const tg = (
      await elb.send(
        new CreateTargetGroupCommand({
          Name: "defaults",
          Protocol: "TCP",
          Port: 8080,
          VpcId: net.vpcId,
          TargetType: "ip",
        }),
      )
    ).TargetGroups![0]!;
    expect(tg.TargetGroupArn).toMatch(
      /^arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup\/defaults\/[0-9a-f]{16}$/,
    );
    expect(tg).toMatchObject({
      Protocol: "TCP",
      Port: 8080,
      VpcId: net.vpcId,
      HealthCheckProtocol: "TCP",
      HealthCheckPort: "traffic-port",
      HealthCheckEnabled: true,
      HealthCheckIntervalSeconds: 30,
      HealthCheckTimeoutSeconds: 10,
      HealthyThresholdCount: 5,
      UnhealthyThresholdCount: 2,
      LoadBalancerArns: [],
      TargetType: "ip",
      IpAddressType: "ipv4",
    });
    expect(tg.HealthCheckPath).toBeUndefined();
    const attrs = await elb.send(
      new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn }),
    );
    expect(Object.fromEntries(attrs.Attributes!.map((a) => [a.Key, a.Value]))).toMatchObject({
      "proxy_protocol_v2.enabled": "false",
      "deregistration_delay.timeout_seconds": "300",
      "preserve_client_ip.enabled": "false",
      "stickiness.type": "source_ip",
    });
    const mod = await elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: tg.TargetGroupArn,
        Attributes: [
          { Key: "proxy_protocol_v2.enabled", Value: "true" },
          { Key: "deregistration_delay.timeout_seconds", Value: "10" },
        ],
      }),
    );
    expect(mod.Attributes).toEqual(
      expect.arrayContaining([
        { Key: "proxy_protocol_v2.enabled", Value: "true" },
        { Key: "deregistration_delay.timeout_seconds", Value: "10" },
      ]),
    );
    const badAttrs = [
      { Key: "proxy_protocol_v2.enabled", Value: "on" },
      { Key: "deregistration_delay.timeout_seconds", Value: "3601" },
      { Key: "stickiness.type", Value: "lb_cookie" },
      { Key: "nope", Value: "x" },
    ];
    for (const a of badAttrs)
      expect(
        (
          await fails(
            elb.send(
              new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn, Attributes: [a] }),
            ),
          )
        ).name,
        a.Key,
      ).toBe("ValidationError");
    const inst = (
      await elb.send(
        new CreateTargetGroupCommand({ Name: "inst", Protocol: "TCP", Port: 80, VpcId: net.vpcId }),
      )
    ).TargetGroups![0]!;
    expect(inst.TargetType).toBe("instance");
    const instAttrs = await elb.send(
      new DescribeTargetGroupAttributesCommand({ TargetGroupArn: inst.TargetGroupArn }),
    );
    expect(instAttrs.Attributes).toContainEqual({ Key: "preserve_client_ip.enabled", Value: "true" });
  });

  it("modifies health checks within AWS's ranges", async () => {
    const arn = (await elb.send(new DescribeTargetGroupsCommand({ Names: ["defaults"] }))).TargetGroups![0]!
      .TargetGroupArn!;
    const m = await elb.send(
      new ModifyTargetGroupCommand({
        TargetGroupArn: arn,
        HealthCheckIntervalSeconds: 10,
        HealthCheckTimeoutSeconds: 5,
        HealthyThresholdCount: 3,
        HealthCheckProtocol: "HTTP",
        HealthCheckPath: "/health",
      }),
    );
    expect(m.TargetGroups![0]).toMatchObject({
      HealthCheckIntervalSeconds: 10,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 3,
      HealthCheckProtocol: "HTTP",
      HealthCheckPath: "/health",
      Matcher: { HttpCode: "200-399" },
    });
    const bad: [Record<string, unknown>, string][] = [
      [
        { HealthCheckIntervalSeconds: 4 },
        "1 validation error detected: Value '4' at 'healthCheckIntervalSeconds' failed to satisfy constraint: Member must have value greater than or equal to 5",
      ],
      [
        { HealthCheckTimeoutSeconds: 121 },
        "1 validation error detected: Value '121' at 'healthCheckTimeoutSeconds' failed to satisfy constraint: Member must have value less than or equal to 120",
      ],
      [
        { HealthyThresholdCount: 11 },
        "1 validation error detected: Value '11' at 'healthyThresholdCount' failed to satisfy constraint: Member must have value less than or equal to 10",
      ],
      [
        { UnhealthyThresholdCount: 1 },
        "1 validation error detected: Value '1' at 'unhealthyThresholdCount' failed to satisfy constraint: Member must have value greater than or equal to 2",
      ],
      [{ HealthCheckTimeoutSeconds: 10 }, "Health check timeout '10' must be smaller than the interval '10'"],
      [
        { HealthCheckEnabled: false },
        "Health check enabled must be true for target groups with target type 'ip'",
      ],
      [
        { HealthCheckPort: "70000" },
        "Health check port '70000' must be 'traffic-port' or a port number between 1 and 65535",
      ],
    ];
    for (const [input, message] of bad)
      expect(
        await fails(elb.send(new ModifyTargetGroupCommand({ TargetGroupArn: arn, ...input }))),
      ).toMatchObject({ name: "ValidationError", message });
    await elb.send(
      new ModifyTargetGroupCommand({
        TargetGroupArn: arn,
        HealthCheckProtocol: "TCP",
        HealthCheckIntervalSeconds: 30,
        HealthCheckTimeoutSeconds: 10,
      }),
    );
  });

  it("refuses bad target groups and duplicate names", async () => {
    const cases: [Record<string, unknown>, string, string?][] = [
      [
        { Name: "x".repeat(33) },
        "ValidationError",
        `Target group name '${"x".repeat(33)}' cannot be longer than '32' characters`,
      ],
      [
        { Name: "a.b" },
        "ValidationError",
        "Target group name 'a.b' can only contain characters that are alphanumeric characters or hyphens(-)",
      ],
      [{ Name: "-a" }, "ValidationError", "Target group name '-a' cannot begin or end with '-'"],
      [{ Protocol: "SCTP" }, "ValidationError"],
      [{ Port: 0 }, "ValidationError"],
      [
        { VpcId: "vpc-0123456789abcdef0" },
        "ValidationError",
        "The VPC ID 'vpc-0123456789abcdef0' is not found",
      ],
      [{ VpcId: undefined }, "ValidationError"],
      [{ TargetType: "lambda" }, "ValidationError"],
      [
        { Name: "defaults", Port: 9999 },
        "DuplicateTargetGroupNameException",
        "A target group with the same name 'defaults' exists, but with different settings",
      ],
    ];
    for (const [input, name, message] of cases) {
      const e = await fails(
        elb.send(
          new CreateTargetGroupCommand({
            Name: "tg-x",
            Protocol: "TCP",
            Port: 80,
            VpcId: net.vpcId,
            TargetType: "ip",
            ...input,
          } as never),
        ),
      );
      expect(e.name, JSON.stringify(input)).toBe(name);
      if (message) expect(e.message).toBe(message);
    }
    const missing = await fails(elb.send(new DescribeTargetGroupsCommand({ Names: ["defaults", "ghost"] })));
    expect(missing).toMatchObject({
      name: "TargetGroupNotFoundException",
      message: "One or more target groups not found",
    });
    expect(
      (await fails(elb.send(new DescribeTargetGroupsCommand({ Names: ["a"], TargetGroupArns: ["b"] })))).name,
    ).toBe("ValidationError");
  });
});

describe("targets, listeners and health", () => {
  let stack: { lbArn: string; tgArn: string; listenerArn: string };
  beforeAll(async () => {
    stack = await makeNlbStack(elb, net, "svc", 80);
    settle(srv, rt);
  });

  it("registers in-VPC and local ip targets under AWS's Availability Zone rules; the data plane checks them", async () => {
    // A real local process as the target: the data plane's health check reaches it.
    // Health checks reset their connections: the server side sees ECONNRESET.
    const backend = createServer((s) => s.on("error", () => {}).end());
    await new Promise<void>((r) => backend.listen(0, "127.0.0.1", r));
    const port = (backend.address() as AddressInfo).port;
    try {
      await elb.send(
        new RegisterTargetsCommand({
          TargetGroupArn: stack.tgArn,
          Targets: [
            { Id: "10.10.1.20", Port: 8080 },
            { Id: "127.0.0.1", Port: port, AvailabilityZone: "all" },
          ],
        }),
      );
      const cases: [Record<string, unknown>, string, string][] = [
        [
          { Id: "127.0.0.1", Port: 9001 },
          "ValidationError",
          "The Availability Zone is required for IP address '127.0.0.1' because it is not in the VPC",
        ],
        [
          { Id: "192.168.0.5", AvailabilityZone: "mars-1a" },
          "ValidationError",
          "You must specify a valid Availability Zone or select 'all' for all enabled Availability zones, since the IP address '192.168.0.5' is outside the VPC",
        ],
        [
          { Id: "10.10.2.9", AvailabilityZone: "all" },
          "ValidationError",
          "The IP address '10.10.2.9' is within the VPC, and cannot have its Availability Zone overridden to 'all' from 'us-east-1b'",
        ],
        [{ Id: "8.8.8.8", AvailabilityZone: "all" }, "InvalidTargetException", ""],
        [
          { Id: "not-an-ip" },
          "InvalidTargetException",
          "The IP address 'not-an-ip' is not a valid IPv4 address",
        ],
        [{ Id: "10.10.1.21", Port: 70000 }, "ValidationError", ""],
      ];
      for (const [t, name, message] of cases) {
        const e = await fails(
          elb.send(new RegisterTargetsCommand({ TargetGroupArn: stack.tgArn, Targets: [t as never] })),
        );
        expect(e.name, JSON.stringify(t)).toBe(name);
        if (message) expect(e.message).toBe(message);
      }
      const h = await until(async () => {
        const d = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: stack.tgArn }));
        return d.TargetHealthDescriptions![1]!.TargetHealth!.State === "healthy" ? d : undefined;
      });
      expect(
        h.TargetHealthDescriptions!.map((d) => [
          d.Target!.Id,
          d.Target!.Port,
          d.Target!.AvailabilityZone,
          d.HealthCheckPort,
        ]),
      ).toEqual([
        ["10.10.1.20", 8080, "us-east-1a", "8080"],
        ["127.0.0.1", port, "all", String(port)],
      ]);
      // Nothing listens behind 10.10.1.20: it never passes a check.
      expect(h.TargetHealthDescriptions![0]!.TargetHealth!.State).not.toBe("healthy");
      const unknown = await elb.send(
        new DescribeTargetHealthCommand({
          TargetGroupArn: stack.tgArn,
          Targets: [{ Id: "10.10.1.99", Port: 80 }],
        }),
      );
      expect(unknown.TargetHealthDescriptions![0]!.TargetHealth).toEqual({
        State: "unused",
        Reason: "Target.NotRegistered",
        Description: "Target is not registered to the target group",
      });
    } finally {
      backend.close();
    }
  });

  it("drains deregistered targets for the deregistration delay", async () => {
    await elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: stack.tgArn,
        Attributes: [{ Key: "deregistration_delay.timeout_seconds", Value: "5" }],
      }),
    );
    await elb.send(
      new DeregisterTargetsCommand({
        TargetGroupArn: stack.tgArn,
        Targets: [{ Id: "10.10.1.20", Port: 8080 }, { Id: "10.10.9.9" }],
      }),
    );
    const draining = await elb.send(
      new DescribeTargetHealthCommand({
        TargetGroupArn: stack.tgArn,
        Targets: [{ Id: "10.10.1.20", Port: 8080 }],
      }),
    );
    expect(draining.TargetHealthDescriptions![0]!.TargetHealth).toEqual({
      State: "draining",
      Reason: "Target.DeregistrationInProgress",
      Description: "Target deregistration is in progress",
    });
    rt.advance(6_000);
    settle(srv, rt);
    const after = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: stack.tgArn }));
    expect(after.TargetHealthDescriptions!.map((d) => d.Target!.Id)).toEqual(["127.0.0.1"]);
  });

  it("registers only running instances of the target group's VPC", async () => {
    const tg = (
      await elb.send(
        new CreateTargetGroupCommand({ Name: "instances", Protocol: "TCP", Port: 80, VpcId: net.vpcId }),
      )
    ).TargetGroups![0]!.TargetGroupArn!;
    const run = (subnet: string) =>
      ec2.send(
        new RunInstancesCommand({ ImageId: "ami-12345678", MinCount: 1, MaxCount: 1, SubnetId: subnet }),
      );
    const inVpc = (await run(net.subnets["us-east-1a"]!)).Instances![0]!.InstanceId!;
    const elsewhere = (await run(other.subnets["us-east-1a"]!)).Instances![0]!.InstanceId!;
    const gone = (await run(net.subnets["us-east-1b"]!)).Instances![0]!.InstanceId!;
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [gone] }));
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: inVpc }] }));
    const cases: [Record<string, unknown>, string][] = [
      [
        { Id: elsewhere },
        `The following targets are not in the target group VPC '${net.vpcId}': '${elsewhere}'`,
      ],
      [{ Id: gone }, `The following targets are not in a running state and cannot be registered: '${gone}'`],
      [{ Id: "i-0123456789abcdef0" }, "The following targets are not valid instances: 'i-0123456789abcdef0'"],
    ];
    for (const [t, message] of cases)
      expect(
        await fails(elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [t as never] }))),
      ).toMatchObject({ name: "InvalidTargetException", message });
    const h = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
    expect(h.TargetHealthDescriptions![0]).toMatchObject({
      Target: { Id: inVpc, Port: 80 },
      TargetHealth: { State: "unused", Reason: "Target.NotInUse" },
    });
  });

  it("creates, describes and deletes listeners with ELB's conflicts", async () => {
    const l = await elb.send(new DescribeListenersCommand({ LoadBalancerArn: stack.lbArn }));
    expect(l.Listeners).toEqual([
      {
        ListenerArn: stack.listenerArn,
        LoadBalancerArn: stack.lbArn,
        Port: 80,
        Protocol: "TCP",
        DefaultActions: [
          {
            Type: "forward",
            TargetGroupArn: stack.tgArn,
            ForwardConfig: {
              TargetGroups: [{ TargetGroupArn: stack.tgArn, Weight: 1 }],
              TargetGroupStickinessConfig: { Enabled: false },
            },
          },
        ],
      },
    ]);
    expect(stack.listenerArn).toMatch(/:listener\/net\/svc\/[0-9a-f]{16}\/[0-9a-f]{16}$/);
    const tgs = await elb.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: stack.lbArn }));
    expect(tgs.TargetGroups!.map((t) => [t.TargetGroupArn, t.LoadBalancerArns])).toEqual([
      [stack.tgArn, [stack.lbArn]],
    ]);
    const same = await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: stack.lbArn,
        Protocol: "TCP",
        Port: 80,
        DefaultActions: [{ Type: "forward", TargetGroupArn: stack.tgArn }],
      }),
    );
    expect(same.Listeners![0]!.ListenerArn).toBe(stack.listenerArn);
    const otherTg = (
      await elb.send(
        new CreateTargetGroupCommand({
          Name: "other-vpc",
          Protocol: "TCP",
          Port: 80,
          VpcId: other.vpcId,
          TargetType: "ip",
        }),
      )
    ).TargetGroups![0]!.TargetGroupArn!;
    const udpTg = (
      await elb.send(
        new CreateTargetGroupCommand({
          Name: "udp",
          Protocol: "UDP",
          Port: 53,
          VpcId: net.vpcId,
          TargetType: "ip",
        }),
      )
    ).TargetGroups![0]!.TargetGroupArn!;
    const defaults = (await elb.send(new DescribeTargetGroupsCommand({ Names: ["defaults"] })))
      .TargetGroups![0]!.TargetGroupArn!;
    const listen = (p: Record<string, unknown>) =>
      elb.send(
        new CreateListenerCommand({
          LoadBalancerArn: stack.lbArn,
          Protocol: "TCP",
          Port: 81,
          DefaultActions: [{ Type: "forward", TargetGroupArn: defaults }],
          ...p,
        } as never),
      );
    const cases: [Record<string, unknown>, string][] = [
      [{ Port: 80 }, "DuplicateListenerException"],
      [{ Protocol: "UDP" }, "UnsupportedProtocolException"],
      [{ Protocol: "HTTP" }, "UnsupportedProtocolException"],
      [{ Port: 0 }, "ValidationError"],
      [
        { DefaultActions: [{ Type: "forward", TargetGroupArn: otherTg }] },
        "InvalidConfigurationRequestException",
      ],
      [{ DefaultActions: [{ Type: "forward", TargetGroupArn: udpTg }] }, "IncompatibleProtocolsException"],
      [
        { DefaultActions: [{ Type: "redirect", RedirectConfig: { StatusCode: "HTTP_301" } }] },
        "InvalidLoadBalancerActionException",
      ],
      [
        { DefaultActions: [{ Type: "forward", TargetGroupArn: `${defaults.slice(0, -4)}0000` }] },
        "TargetGroupNotFoundException",
      ],
      [{ LoadBalancerArn: `${stack.lbArn.slice(0, -4)}0000` }, "LoadBalancerNotFoundException"],
    ];
    for (const [p, name] of cases) expect((await fails(listen(p))).name, JSON.stringify(p)).toBe(name);
    const second = await listen({});
    // A target group serves one load balancer only.
    const lb2 = (
      await elb.send(
        new CreateLoadBalancerCommand({
          Name: "svc2",
          Type: "network",
          Scheme: "internal",
          Subnets: subnetsOf(net),
        }),
      )
    ).LoadBalancers![0]!.LoadBalancerArn!;
    const shared = await fails(
      elb.send(
        new CreateListenerCommand({
          LoadBalancerArn: lb2,
          Protocol: "TCP",
          Port: 80,
          DefaultActions: [{ Type: "forward", TargetGroupArn: defaults }],
        }),
      ),
    );
    expect(shared.name).toBe("TargetGroupAssociationLimitException");
    const inUse = await fails(elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: defaults })));
    expect(inUse).toMatchObject({
      name: "ResourceInUseException",
      message: `Target group '${defaults}' is currently in use by a listener or a rule`,
    });
    expect((await fails(elb.send(new DescribeListenersCommand({})))).name).toBe("ValidationError");
    await elb.send(new DeleteListenerCommand({ ListenerArn: second.Listeners![0]!.ListenerArn }));
    expect(
      (await fails(elb.send(new DeleteListenerCommand({ ListenerArn: second.Listeners![0]!.ListenerArn }))))
        .name,
    ).toBe("ListenerNotFoundException");
    await elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: defaults }));
    await elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: defaults }));
    expect(
      (await fails(elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [defaults] })))).name,
    ).toBe("TargetGroupNotFoundException");
  });

  it("tags load balancers, target groups and listeners", async () => {
    const arns = [stack.lbArn, stack.tgArn, stack.listenerArn];
    await elb.send(
      new AddTagsCommand({
        ResourceArns: arns,
        Tags: [
          { Key: "env", Value: "dev" },
          { Key: "owner", Value: "me" },
        ],
      }),
    );
    await elb.send(new RemoveTagsCommand({ ResourceArns: [stack.tgArn], TagKeys: ["owner"] }));
    const d = await elb.send(new DescribeTagsCommand({ ResourceArns: arns }));
    expect(d.TagDescriptions!.map((t) => [t.ResourceArn, t.Tags!.map((x) => x.Key).sort()])).toEqual([
      [stack.lbArn, ["env", "owner"]],
      [stack.tgArn, ["env"]],
      [stack.listenerArn, ["env", "owner"]],
    ]);
    const dup = await fails(
      elb.send(
        new AddTagsCommand({
          ResourceArns: [stack.lbArn],
          Tags: [
            { Key: "a", Value: "1" },
            { Key: "a", Value: "2" },
          ],
        }),
      ),
    );
    expect(dup.name).toBe("DuplicateTagKeysException");
    const ghost = await fails(
      elb.send(new DescribeTagsCommand({ ResourceArns: [`${stack.lbArn.slice(0, -4)}0000`] })),
    );
    expect(ghost.name).toBe("LoadBalancerNotFoundException");
  });

  it("deletes a load balancer with its listeners and node ENIs", async () => {
    const lb = (await elb.send(new DescribeLoadBalancersCommand({ Names: ["svc2"] }))).LoadBalancers![0]!
      .LoadBalancerArn!;
    const tg = (
      await elb.send(
        new CreateTargetGroupCommand({
          Name: "svc2-tg",
          Protocol: "TCP",
          Port: 80,
          VpcId: net.vpcId,
          TargetType: "ip",
        }),
      )
    ).TargetGroups![0]!.TargetGroupArn!;
    await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb,
        Protocol: "TCP",
        Port: 80,
        DefaultActions: [{ Type: "forward", TargetGroupArn: tg }],
      }),
    );
    await elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb }));
    const enis = await ec2.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [{ Name: "description", Values: [`ELB net/svc2/*`] }],
      }),
    );
    expect(enis.NetworkInterfaces).toEqual([]);
    await elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg }));
  });
});
