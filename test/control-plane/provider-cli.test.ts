import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runAws } from "../helpers/spawn.js";
import { makeNet, type ProviderNet, settle } from "./provider-fixtures.js";

/**
 * The provider's half of the PrivateLink walkthrough with the real AWS CLI, as the AWS CLI
 * examples run it: an NLB with a TCP target group and listener, an endpoint service, its
 * allowed principals, and the describe calls. The network comes from the SDK (not the point).
 */
let srv: TestServer;
let env: NodeJS.ProcessEnv;
let net: ProviderNet;

beforeAll(async () => {
  srv = await startTestServer();
  env = srv.cliEnv();
  net = await makeNet(srv.ec2(), "10.60.0.0/16", ["us-east-1a", "us-east-1b"]);
});
afterAll(() => srv.stop());

async function aws(...args: string[]): Promise<any> {
  const r = await runAws(["--endpoint-url", srv.url, "--output", "json", ...args], env);
  if (r.code !== 0) throw new Error(`aws ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim() === "" ? {} : JSON.parse(r.stdout);
}

describe("AWS CLI: provider walkthrough", () => {
  it("creates an NLB-backed endpoint service and shares it", async () => {
    const subnets = Object.values(net.subnets);
    // Independent calls run side by side: each CLI start costs about a second.
    const [lbOut, tgOut] = await Promise.all([
      aws(
        "elbv2",
        "create-load-balancer",
        "--name",
        "my-nlb",
        "--type",
        "network",
        "--scheme",
        "internal",
        "--subnets",
        ...subnets,
      ),
      aws(
        "elbv2",
        "create-target-group",
        "--name",
        "my-targets",
        "--protocol",
        "TCP",
        "--port",
        "80",
        "--target-type",
        "ip",
        "--vpc-id",
        net.vpcId,
      ),
    ]);
    const lb = lbOut.LoadBalancers[0];
    const tg = tgOut.TargetGroups[0];
    expect(lb).toMatchObject({
      LoadBalancerName: "my-nlb",
      Type: "network",
      Scheme: "internal",
      State: { Code: "provisioning" },
      VpcId: net.vpcId,
    });
    expect(tg).toMatchObject({
      HealthCheckProtocol: "TCP",
      HealthCheckIntervalSeconds: 30,
      HealthCheckTimeoutSeconds: 10,
      HealthyThresholdCount: 5,
      UnhealthyThresholdCount: 2,
    });
    const [, listenerOut] = await Promise.all([
      aws(
        "elbv2",
        "register-targets",
        "--target-group-arn",
        tg.TargetGroupArn,
        "--targets",
        "Id=10.60.1.10",
        "Id=127.0.0.1,Port=8080,AvailabilityZone=all",
      ),
      aws(
        "elbv2",
        "create-listener",
        "--load-balancer-arn",
        lb.LoadBalancerArn,
        "--protocol",
        "TCP",
        "--port",
        "80",
        "--default-actions",
        `Type=forward,TargetGroupArn=${tg.TargetGroupArn}`,
      ),
    ]);
    expect(listenerOut.Listeners[0]).toMatchObject({
      Port: 80,
      Protocol: "TCP",
      DefaultActions: [{ Type: "forward", TargetGroupArn: tg.TargetGroupArn }],
    });
    settle(srv);

    const created = await aws(
      "ec2",
      "create-vpc-endpoint-service-configuration",
      "--network-load-balancer-arns",
      lb.LoadBalancerArn,
      "--acceptance-required",
      "--private-dns-name",
      "api.example.com",
      "--tag-specifications",
      "ResourceType=vpc-endpoint-service,Tags=[{Key=Name,Value=my-service}]",
    );
    const svc = created.ServiceConfiguration;
    expect(svc).toMatchObject({
      ServiceType: [{ ServiceType: "Interface" }],
      ServiceState: "Available",
      AcceptanceRequired: true,
      ManagesVpcEndpoints: false,
      NetworkLoadBalancerArns: [lb.LoadBalancerArn],
      BaseEndpointDnsNames: [`${svc.ServiceId}.us-east-1.vpce.amazonaws.com`],
      PrivateDnsName: "api.example.com",
      PrivateDnsNameConfiguration: { State: "pendingVerification", Type: "TXT" },
      Tags: [{ Key: "Name", Value: "my-service" }],
    });
    const perms = await aws(
      "ec2",
      "modify-vpc-endpoint-service-permissions",
      "--service-id",
      svc.ServiceId,
      "--add-allowed-principals",
      '["arn:aws:iam::123456789012:root"]',
    );
    expect(perms).toMatchObject({
      ReturnValue: true,
      AddedPrincipals: [
        { PrincipalType: "Account", Principal: "arn:aws:iam::123456789012:root", ServiceId: svc.ServiceId },
      ],
    });
    settle(srv);

    const [configs, allowed, health, failed] = await Promise.all([
      aws(
        "ec2",
        "describe-vpc-endpoint-service-configurations",
        "--filters",
        `Name=service-id,Values=${svc.ServiceId}`,
      ),
      aws("ec2", "describe-vpc-endpoint-service-permissions", "--service-id", svc.ServiceId),
      aws("elbv2", "describe-target-health", "--target-group-arn", tg.TargetGroupArn),
      runAws(
        [
          "--endpoint-url",
          srv.url,
          "elbv2",
          "create-load-balancer",
          "--name",
          "my-nlb",
          "--type",
          "network",
          "--subnets",
          subnets[0]!,
        ],
        env,
      ),
    ]);
    expect(configs.ServiceConfigurations).toHaveLength(1);
    expect(configs.ServiceConfigurations[0]).toMatchObject({
      ServiceId: svc.ServiceId,
      ServiceName: svc.ServiceName,
      ServiceState: "Available",
      AvailabilityZones: ["us-east-1a", "us-east-1b"],
    });
    expect(allowed.AllowedPrincipals).toEqual([
      {
        PrincipalType: "Account",
        Principal: "arn:aws:iam::123456789012:root",
        ServicePermissionId: perms.AddedPrincipals[0].ServicePermissionId,
        Tags: [],
        ServiceId: svc.ServiceId,
      },
    ]);
    expect(health.TargetHealthDescriptions.map((d: any) => [d.Target.Id, d.HealthCheckPort])).toEqual([
      ["10.60.1.10", "80"],
      ["127.0.0.1", "8080"],
    ]);

    expect(failed.stderr).toContain(
      "An error occurred (DuplicateLoadBalancerName) when calling the CreateLoadBalancer operation: A load balancer with the same name 'my-nlb' exists, but with different settings",
    );
  });
});
