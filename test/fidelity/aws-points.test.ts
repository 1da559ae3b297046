import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runAws } from "../helpers/spawn.js";
import { sdkCaller } from "./sdk-call.js";
import { World } from "./world.js";

/** The points where privlink disagreed with AWS (issue 18), through the SDK and the AWS CLI. */

let srv: TestServer;
let sdk: ReturnType<typeof sdkCaller>;
let w: World;

beforeAll(async () => {
  srv = await startTestServer();
  sdk = sdkCaller(srv.url);
  w = await new World(sdk).build();
}, 60_000);
afterAll(async () => {
  sdk?.destroy();
  await srv?.stop();
});

const failure = (p: Promise<unknown>) =>
  p.then(
    () => ({ name: "none", message: "" }),
    (e: Error) => ({ name: e.name, message: e.message }),
  );

describe("AWS's answers where privlink used to differ", () => {
  it("a gateway endpoint's default policy is exactly AWS's", async () => {
    const out = await sdk.send("ec2", "DescribeVpcEndpoints", { VpcEndpointIds: [w.gatewayEndpoint] });
    expect(out.output.VpcEndpoints[0].PolicyDocument).toBe(
      '{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}',
    );
  });

  it("CreateVpcEndpointServiceConfiguration answers Available for network and gateway load balancers", async () => {
    for (const type of ["network", "gateway"] as const) {
      const lb = await w.fresh.loadBalancer(type);
      const key = type === "network" ? "NetworkLoadBalancerArns" : "GatewayLoadBalancerArns";
      const out = await sdk.send("ec2", "CreateVpcEndpointServiceConfiguration", { [key]: [lb] });
      expect([type, out.output.ServiceConfiguration.ServiceState]).toEqual([type, "Available"]);
    }
  });

  it("neither load balancer list is InvalidParameter, in the CLI too", async () => {
    const err = await failure(sdk.send("ec2", "CreateVpcEndpointServiceConfiguration", {}));
    expect(err.name).toBe("InvalidParameter");
    const cli = await runAws(["ec2", "create-vpc-endpoint-service-configuration"], srv.cliEnv());
    expect(cli.stderr).toContain(
      "An error occurred (InvalidParameter) when calling the CreateVpcEndpointServiceConfiguration operation:",
    );
  });

  it("unknown filter names: InvalidFilter in the VPC endpoint family, InvalidParameterValue elsewhere", async () => {
    const bad = [{ Name: "no-such-filter", Values: ["x"] }];
    const family: [string, Record<string, unknown>][] = [
      ["DescribeVpcEndpoints", {}],
      ["DescribeVpcEndpointServices", {}],
      ["DescribeVpcEndpointConnections", {}],
      ["DescribeVpcEndpointServiceConfigurations", {}],
      ["DescribeVpcEndpointConnectionNotifications", {}],
      ["DescribeVpcEndpointServicePermissions", { ServiceId: w.svcId }],
      ["DescribeVpcEndpointAssociations", {}],
    ];
    for (const [action, input] of family)
      expect([action, await failure(sdk.send("ec2", action, { ...input, Filters: bad }))]).toEqual([
        action,
        { name: "InvalidFilter", message: "The filter 'no-such-filter' is invalid" },
      ]);
    for (const action of ["DescribeVpcs", "DescribeSubnets", "DescribeInstances", "DescribeSecurityGroups"])
      expect([action, (await failure(sdk.send("ec2", action, { Filters: bad }))).name]).toEqual([
        action,
        "InvalidParameterValue",
      ]);
    const cli = await runAws(
      ["ec2", "describe-vpc-endpoints", "--filters", "Name=vpc-endpoint-status,Values=x"],
      srv.cliEnv(),
    );
    expect(cli.stderr.trim()).toBe(
      "An error occurred (InvalidFilter) when calling the DescribeVpcEndpoints operation: The filter 'vpc-endpoint-status' is invalid",
    );
  });

  it("another resource's ID where an endpoint ID belongs is Malformed, in AWS's words", async () => {
    const err = await failure(sdk.send("ec2", "DescribeVpcEndpoints", { VpcEndpointIds: [w.rtb] }));
    expect(err).toEqual({
      name: "InvalidVpcEndpointId.Malformed",
      message: `Invalid Id: '${w.rtb}' (expecting 'vpce-...; the Id may only contain lowercase alphanumeric characters and a single dash')`,
    });
  });

  it("a single-label private DNS name is refused (no public parent domain can prove it)", async () => {
    const err = await failure(
      sdk.send("ec2", "ModifyVpcEndpointServiceConfiguration", {
        ServiceId: w.svcId,
        PrivateDnsName: "intranet",
      }),
    );
    expect(err.name).toBe("InvalidParameterValue");
  });
});
