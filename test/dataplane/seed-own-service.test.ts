import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminFetch } from "../helpers/admin.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runAws, runCli } from "../helpers/spawn.js";
import { echo, type Listening, listen } from "../net/sockets.js";
import { type Creds, newAccount, until } from "./world.js";

/**
 * SCENARIOS.md §5, "your own service to other accounts", driven only by the AWS CLI and
 * privlink's own commands: provider P exposes a TCP process on 127.0.0.1 through an NLB and an
 * endpoint service; consumers Q and R ask for endpoints; P accepts Q and rejects R; only Q's
 * workload connects, and the bytes are metered per consumer endpoint.
 */
describe("seed scenario: expose your own service privately to another account", () => {
  let server: TestServer;
  let service: Listening;
  const accounts = { P: "210000000001", Q: "210000000002", R: "210000000003" };
  const creds: Record<string, Creds> = {};
  const PORT = 9000;

  async function aws(who: keyof typeof accounts, ...args: string[]): Promise<any> {
    const r = await runAws(
      [...args, "--endpoint-url", server.url, "--output", "json"],
      server.cliEnv(creds[who]),
    );
    if (r.code !== 0) throw new Error(`aws ${args.join(" ")} (${who}): ${r.stderr}`);
    return r.stdout.trim() ? JSON.parse(r.stdout) : {};
  }

  beforeAll(async () => {
    server = await startTestServer();
    service = await listen(echo);
    for (const [k, id] of Object.entries(accounts)) creds[k] = await newAccount(server, id);
  });

  afterAll(async () => {
    await server?.stop();
    await service?.close();
  });

  interface ConsumerSide {
    instanceId: string;
    endpointId: string;
    dnsName?: string;
  }
  const consumers: Partial<Record<"Q" | "R", ConsumerSide>> = {};
  let serviceId = "";
  let serviceName = "";

  it("P puts its process behind an NLB and an endpoint service that requires acceptance", async () => {
    const vpc = (await aws("P", "ec2", "create-vpc", "--cidr-block", "10.0.0.0/16")).Vpc.VpcId;
    const subnet = (
      await aws(
        "P",
        "ec2",
        "create-subnet",
        "--vpc-id",
        vpc,
        "--cidr-block",
        "10.0.1.0/24",
        "--availability-zone",
        "us-east-1a",
      )
    ).Subnet.SubnetId;
    const lb = (
      await aws(
        "P",
        "elbv2",
        "create-load-balancer",
        "--name",
        "orders",
        "--type",
        "network",
        "--scheme",
        "internal",
        "--subnets",
        subnet,
      )
    ).LoadBalancers[0].LoadBalancerArn;
    const tg = (
      await aws(
        "P",
        "elbv2",
        "create-target-group",
        "--name",
        "orders",
        "--protocol",
        "TCP",
        "--port",
        String(service.port),
        "--vpc-id",
        vpc,
        "--target-type",
        "ip",
      )
    ).TargetGroups[0].TargetGroupArn;
    await aws(
      "P",
      "elbv2",
      "register-targets",
      "--target-group-arn",
      tg,
      "--targets",
      `Id=127.0.0.1,Port=${service.port},AvailabilityZone=all`,
    );
    await aws(
      "P",
      "elbv2",
      "create-listener",
      "--load-balancer-arn",
      lb,
      "--protocol",
      "TCP",
      "--port",
      String(PORT),
      "--default-actions",
      `Type=forward,TargetGroupArn=${tg}`,
    );
    const svc = (
      await aws(
        "P",
        "ec2",
        "create-vpc-endpoint-service-configuration",
        "--network-load-balancer-arns",
        lb,
        "--acceptance-required",
      )
    ).ServiceConfiguration;
    serviceId = svc.ServiceId;
    serviceName = svc.ServiceName;
    await aws(
      "P",
      "ec2",
      "modify-vpc-endpoint-service-permissions",
      "--service-id",
      serviceId,
      "--add-allowed-principals",
      `arn:aws:iam::${accounts.Q}:root`,
      `arn:aws:iam::${accounts.R}:root`,
    );
    expect(serviceName).toMatch(/^com\.amazonaws\.vpce\.us-east-1\.vpce-svc-/);
  }, 60_000);

  it.each(["Q", "R"] as const)(
    "%s builds a VPC in one of the service's zones, a workload and an endpoint",
    async (who) => {
      const zones: string[] = (
        await aws(who, "ec2", "describe-vpc-endpoint-services", "--service-names", serviceName)
      ).ServiceDetails[0].AvailabilityZones;
      const vpc = (await aws(who, "ec2", "create-vpc", "--cidr-block", "10.8.0.0/16")).Vpc.VpcId;
      const subnet = (
        await aws(
          who,
          "ec2",
          "create-subnet",
          "--vpc-id",
          vpc,
          "--cidr-block",
          "10.8.1.0/24",
          "--availability-zone",
          zones[0]!,
        )
      ).Subnet.SubnetId;
      const sg = (
        await aws(
          who,
          "ec2",
          "create-security-group",
          "--group-name",
          "orders-endpoint",
          "--description",
          "clients of orders",
          "--vpc-id",
          vpc,
        )
      ).GroupId;
      await aws(
        who,
        "ec2",
        "authorize-security-group-ingress",
        "--group-id",
        sg,
        "--protocol",
        "tcp",
        "--port",
        String(PORT),
        "--cidr",
        "10.8.0.0/16",
      );
      const instanceId = (
        await aws(
          who,
          "ec2",
          "run-instances",
          "--image-id",
          "ami-12345678",
          "--subnet-id",
          subnet,
          "--count",
          "1",
        )
      ).Instances[0].InstanceId;
      const ep = (
        await aws(
          who,
          "ec2",
          "create-vpc-endpoint",
          "--vpc-endpoint-type",
          "Interface",
          "--vpc-id",
          vpc,
          "--service-name",
          serviceName,
          "--subnet-ids",
          subnet,
          "--security-group-ids",
          sg,
        )
      ).VpcEndpoint;
      expect(ep.State).toBe("pendingAcceptance");
      consumers[who] = { instanceId, endpointId: ep.VpcEndpointId, dnsName: ep.DnsEntries?.[0]?.DnsName };
    },
    60_000,
  );

  it("P accepts Q and rejects R; only Q's workload connects", async () => {
    const q = consumers.Q!;
    const r = consumers.R!;
    await aws(
      "P",
      "ec2",
      "accept-vpc-endpoint-connections",
      "--service-id",
      serviceId,
      "--vpc-endpoint-ids",
      q.endpointId,
    );
    await aws(
      "P",
      "ec2",
      "reject-vpc-endpoint-connections",
      "--service-id",
      serviceId,
      "--vpc-endpoint-ids",
      r.endpointId,
    );
    await until(
      async () =>
        (await aws("Q", "ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", q.endpointId)).VpcEndpoints[0]
          .State === "available"
          ? true
          : undefined,
      "Q available",
    );
    const env = { ...process.env, PRIVLINK_URL: server.url, PRIVLINK_HOME: server.home };
    const ok = await runCli(["connect", "--from", q.instanceId, `${q.dnsName}:${PORT}`], env, "order #1\n");
    expect(ok).toMatchObject({ code: 0, stdout: "order #1\n" });
    const refused = await runCli(
      ["connect", "--from", r.instanceId, `${r.dnsName}:${PORT}`],
      env,
      "order #2\n",
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refused: endpoint vpce-\w+ was rejected by the owner of vpce-svc-\w+/);
    const stats = (await (await adminFetch(server, `/_privlink/stats`)).json()) as {
      endpoints: {
        vpcEndpointId: string;
        bytesIn: number;
        bytesOut: number;
        newConnections: number;
        dropped: number;
      }[];
    };
    const row = (id: string) => stats.endpoints.find((e) => e.vpcEndpointId === id);
    expect(row(q.endpointId)).toMatchObject({ bytesIn: 9, bytesOut: 9, newConnections: 1, dropped: 0 });
    expect(row(r.endpointId)).toMatchObject({ bytesIn: 0, newConnections: 0, dropped: 1 });
    const cli = await runCli(["stats"], env);
    expect(cli.stdout).toContain(q.endpointId);
  }, 60_000);
});
