import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RunInstancesCommand } from "@aws-sdk/client-ec2";
import { RegisterTargetsCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allowFromGroup,
  clients,
  makeConsumer,
  makeProvider,
  type Provider,
  until,
  waitEndpoint,
} from "../dataplane/world.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { namespaceSkipReason } from "./namespace-skip.js";

/**
 * Issue 19: in namespace mode an NLB target that is an instance's private IP is dialled inside
 * that instance's VPC namespace, so the service runs in the instance (`privlink exec`), not on a
 * 127.x host address. A consumer instance reaches it through its interface endpoint's 10.x.
 */
const reason = namespaceSkipReason(["nft", "nc", "socat", "python3"]);
if (reason) console.log(`namespace NLB tests skipped: ${reason}`);

const nsOf = async (srv: TestServer, instanceId: string) =>
  (await srv.admin<{ namespace: string }>("POST", "/_privlink/workloads/namespace", { workload: instanceId }))
    .namespace;

describe.skipIf(reason !== undefined)("namespace mode: NLB targets inside their namespaces", () => {
  const home = mkdtempSync(join(tmpdir(), "privlink-netns-nlb-"));
  let srv: TestServer;
  let provider: Provider;
  let backend: ChildProcess;
  let clientNs: string;
  let endpointIp: string;
  let targetIp: string;

  beforeAll(async () => {
    srv = await startTestServer({ home, network: "netns" });
    provider = await makeProvider(srv, {
      accountId: "555500000001",
      targets: [],
      allow: ["555500000002"],
      acceptanceRequired: false,
      cidr: "10.70.0.0/16",
    });
    const { ec2, elb } = clients(srv, provider.creds);
    const subnet = [...srv.state.all("subnet")].find((s) => s.cidr === "10.70.1.0/24")!;
    const target = (
      await ec2.send(
        new RunInstancesCommand({ ImageId: "ami-12345678", MinCount: 1, MaxCount: 1, SubnetId: subnet.id }),
      )
    ).Instances![0]!;
    targetIp = target.PrivateIpAddress!;
    await elb.send(
      new RegisterTargetsCommand({
        TargetGroupArn: provider.tgArn,
        Targets: [{ Id: target.PrivateIpAddress!, Port: 8080 }],
      }),
    );
    // The service, inside the target instance's namespace only.
    backend = spawn(
      "ip",
      [
        "netns",
        "exec",
        await nsOf(srv, target.InstanceId!),
        "socat",
        "TCP-LISTEN:8080,fork,reuseaddr",
        "SYSTEM:echo pong",
      ],
      { stdio: "ignore" },
    );
    const consumer = await makeConsumer(srv, "555500000002", provider.serviceName, "10.71.0.0/16");
    await allowFromGroup(consumer, provider.listenerPort);
    await waitEndpoint(consumer, "available");
    const ep = srv.state.get("vpcEndpoint", consumer.endpointId)!;
    endpointIp = srv.state.get("eni", ep.enis[0]!.eniId)!.privateIp;
    clientNs = await nsOf(srv, consumer.instanceId);
  });

  afterAll(async () => {
    backend?.kill();
    await srv?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it("reaches a service that listens only in the target instance's namespace", async () => {
    const ask = () =>
      new Promise<string>((resolve) =>
        execFile(
          "sh",
          ["-c", `echo hi | ip netns exec ${clientNs} nc -N -w 5 ${endpointIp} ${provider.listenerPort}`],
          { encoding: "utf8", timeout: 20_000 },
          (_err, out) => resolve(out),
        ),
      );
    // The endpoint's listener in the namespace and socat start a moment after the API answered.
    expect(await until(async () => ((await ask()) === "pong\n" ? "pong\n" : undefined), "pong")).toBe(
      "pong\n",
    );
  });

  it("health-checks the target where it lives: healthy, though nothing listens on its host address", async () => {
    const health = () => srv.dataplane.dataplane.healthOf(provider.tgArn, { id: targetIp, port: 8080 });
    // Two checks 10 s apart (the group's interval and healthy threshold).
    expect(await until(() => (health() === "healthy" ? "healthy" : undefined), "healthy", 45)).toBe(
      "healthy",
    );
  });
});
