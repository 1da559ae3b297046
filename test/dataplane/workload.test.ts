import { createServer, type Server } from "node:http";
import {
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  DeleteNatGatewayCommand,
  DescribeNatGatewaysCommand,
  DescribeVpcEndpointsCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminFetch } from "../helpers/admin.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runCli } from "../helpers/spawn.js";
import { echo, type Listening, listen } from "../net/sockets.js";
import {
  accept,
  allowFromGroup,
  type Consumer,
  makeConsumer,
  makeProvider,
  type Provider,
  until,
  waitEndpoint,
} from "./world.js";

/** An HTTP server on 127.0.0.1 that says who it is. */
function httpServer(body: string): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => res.end(body));
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, port: (server.address() as { port: number }).port }),
    ),
  );
}

describe("workloads: privlink exec and privlink connect", () => {
  let server: TestServer;
  let web: { server: Server; port: number };
  let internet: { server: Server; port: number };
  let echoServer: Listening;
  let provider: Provider;
  let consumer: Consumer;
  let env: NodeJS.ProcessEnv;
  let regionalName: string;

  beforeAll(async () => {
    server = await startTestServer();
    web = await httpServer("hello from the provider\n");
    internet = await httpServer("hello from the internet\n");
    echoServer = await listen(echo);
    provider = await makeProvider(server, {
      accountId: "777777777777",
      targets: [{ host: "127.0.0.1", port: web.port }],
      allow: ["888888888888"],
      listenerPort: 80,
    });
    consumer = await makeConsumer(server, "888888888888", provider.serviceName);
    await allowFromGroup(consumer, 80);
    await accept(server, provider, consumer.endpointId);
    await waitEndpoint(consumer, "available");
    const ep = (
      await consumer.ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [consumer.endpointId] }))
    ).VpcEndpoints![0]!;
    regionalName = ep.DnsEntries![0]!.DnsName!;
    env = {
      ...process.env,
      PRIVLINK_URL: server.url,
      PRIVLINK_HOME: server.home,
      AWS_ACCESS_KEY_ID: "",
      AWS_PROFILE: "",
    };
  });

  afterAll(async () => {
    await server?.stop();
    await new Promise((r) => web?.server.close(r));
    await new Promise((r) => internet?.server.close(r));
    await echoServer?.close();
  });

  it("runs curl through the workload's proxy to the endpoint's DNS name (listener on port 80)", async () => {
    const r = await runCli(
      ["exec", "--from", consumer.instanceId, "--", "curl", "-sS", `http://${regionalName}/`],
      env,
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("hello from the provider\n");
    expect(r.code).toBe(0);
  });

  it("tunnels HTTPS-style CONNECT too (curl -p), and keeps the caller's exit code", async () => {
    const r = await runCli(
      ["exec", "--from", consumer.instanceId, "--", "curl", "-sS", "-p", `http://${regionalName}/`],
      env,
    );
    expect(r.stdout).toBe("hello from the provider\n");
    const exit = await runCli(["exec", "--from", consumer.instanceId, "--", "sh", "-c", "exit 7"], env);
    expect(exit.code).toBe(7);
  });

  it("gives the workload the proxy variables, an empty NO_PROXY and default credentials", async () => {
    const r = await runCli(
      [
        "exec",
        "--from",
        consumer.instanceId,
        "--",
        "sh",
        "-c",
        'echo "$HTTPS_PROXY|$http_proxy|$NO_PROXY|$AWS_ACCESS_KEY_ID"',
      ],
      { ...env, NO_PROXY: "localhost" },
    );
    const [https, http, noProxy, key] = r.stdout.trim().split("|");
    expect(https).toMatch(/^http:\/\/127\.\d+\.\d+\.\d+:\d+$/);
    expect(http).toBe(https);
    expect(noProxy).toBe("");
    expect(key).toBe("test");
    const kept = await runCli(
      ["exec", "--from", consumer.instanceId, "--", "sh", "-c", 'echo "$AWS_ACCESS_KEY_ID"'],
      { ...env, AWS_ACCESS_KEY_ID: "AKIDCALLER" },
    );
    expect(kept.stdout.trim()).toBe("AKIDCALLER");
  });

  it("answers 403 with the reason when the VPC has no internet path", async () => {
    const r = await runCli(
      [
        "exec",
        "--from",
        consumer.instanceId,
        "--",
        "curl",
        "-sS",
        "-i",
        `http://127.0.0.1:${internet.port}/`,
      ],
      env,
    );
    expect(r.stdout).toMatch(
      /^HTTP\/1\.1 403 no route to 127\.0\.0\.1: subnet has no internet or NAT route\r\n/,
    );
    const flows = (await (await adminFetch(server, `/_privlink/flows`)).json()) as {
      flows: { at: string; reason: string }[];
    };
    expect(flows.flows.at(-1)).toMatchObject({
      at: "workload-proxy",
      reason: "no route to 127.0.0.1: subnet has no internet or NAT route",
    });
  });

  it("connect: echoes stdin and exits 0 when the peer closes; explains a refusal", async () => {
    // The provider's echo behind the same endpoint is not needed: any admitted address works.
    const ok = await runCli(
      ["connect", "--from", consumer.instanceId, `${regionalName}:80`],
      env,
      "GET / HTTP/1.0\r\n\r\n",
    );
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/hello from the provider/);
    const refused = await runCli(["connect", "--from", consumer.instanceId, `${regionalName}:81`], env, "x");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /refused: security group sg-\w+ of eni-\w+ has no inbound rule allowing tcp\/81/,
    );
  });

  it("reaches the outside world once an internet gateway route exists, and through a NAT gateway", async () => {
    const ec2 = consumer.ec2;
    const igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: consumer.vpcId }));
    // The consumer's subnet uses the main table: route it to the gateway (a "public" subnet).
    const { RouteTables } = await import("@aws-sdk/client-ec2").then(async (m) =>
      ec2.send(new m.DescribeRouteTablesCommand({ Filters: [{ Name: "vpc-id", Values: [consumer.vpcId] }] })),
    );
    const main = RouteTables![0]!.RouteTableId!;
    await ec2.send(
      new CreateRouteCommand({ RouteTableId: main, DestinationCidrBlock: "0.0.0.0/0", GatewayId: igw }),
    );
    const direct = await runCli(
      ["exec", "--from", consumer.instanceId, "--", "curl", "-sS", `http://127.0.0.1:${internet.port}/`],
      env,
    );
    expect(direct.stdout).toBe("hello from the internet\n");

    // A private subnet whose default route goes to a NAT gateway in the public subnet.
    const priv = (
      await ec2.send(
        new CreateSubnetCommand({
          VpcId: consumer.vpcId,
          CidrBlock: "10.1.9.0/24",
          AvailabilityZone: "us-east-1a",
        }),
      )
    ).Subnet!.SubnetId!;
    const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: consumer.vpcId }))).RouteTable!
      .RouteTableId!;
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: priv }));
    const app = (
      await ec2.send(
        new RunInstancesCommand({ ImageId: "ami-12345678", MinCount: 1, MaxCount: 1, SubnetId: priv }),
      )
    ).Instances![0]!.InstanceId!;
    const refused = await runCli(
      [
        "exec",
        "--from",
        app,
        "--",
        "curl",
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        `http://127.0.0.1:${internet.port}/`,
      ],
      env,
    );
    expect(refused.stdout).toBe("403");
    const natId = (await ec2.send(new CreateNatGatewayCommand({ SubnetId: consumer.subnetId }))).NatGateway!
      .NatGatewayId!;
    await until(async () => {
      const n = await ec2.send(new DescribeNatGatewaysCommand({ NatGatewayIds: [natId] }));
      return n.NatGateways?.[0]?.State === "available" ? true : undefined;
    }, "NAT available");
    await ec2.send(
      new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: "0.0.0.0/0", NatGatewayId: natId }),
    );
    const viaNat = await runCli(
      ["exec", "--from", app, "--", "curl", "-sS", `http://127.0.0.1:${internet.port}/`],
      env,
    );
    expect(viaNat.stdout).toBe("hello from the internet\n");
    await ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: natId }));
    const gone = await runCli(
      ["exec", "--from", app, "--", "curl", "-sS", "-i", `http://127.0.0.1:${internet.port}/`],
      env,
    );
    expect(gone.stdout).toMatch(
      /^HTTP\/1\.1 403 no route to 127\.0\.0\.1: the route 0\.0\.0\.0\/0 via nat-\w+ is a blackhole/,
    );
  }, 30_000);
});
