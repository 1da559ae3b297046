import { Agent } from "node:https";
import { type AddressInfo, createServer, type Server } from "node:net";
import {
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  ModifyVpcAttributeCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { DEFAULT_HOST } from "../../src/cloud/context.js";
import { systemRuntime } from "../../src/cloud/runtime.js";
import { type FrontLimits, ServiceFront } from "../../src/front/index.js";
import { secretsManagerHandlers } from "../../src/services/secretsmanager.js";
import type { TestServer } from "../helpers/server.js";

export const SM_HOST = "secretsmanager.us-east-1.amazonaws.com";
export const CLIENT_IP = "10.0.1.50";

/** A VPC with a private subnet, an instance "app", and interface endpoints to AWS services. */
export async function makeNetwork(
  srv: TestServer,
): Promise<{ vpcId: string; subnetId: string; instanceId: string }> {
  const ec2 = srv.ec2();
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }))).Vpc!.VpcId!;
  await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } }));
  const subnetId = (
    await ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.0.1.0/24", AvailabilityZone: "us-east-1a" }),
    )
  ).Subnet!.SubnetId!;
  const run = await ec2.send(
    new RunInstancesCommand({
      ImageId: "ami-12345678",
      MinCount: 1,
      MaxCount: 1,
      SubnetId: subnetId,
      TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "Name", Value: "app" }] }],
    }),
  );
  return { vpcId, subnetId, instanceId: run.Instances![0]!.InstanceId! };
}

export async function makeEndpoint(
  srv: TestServer,
  net: { vpcId: string; subnetId: string },
  service: string,
  policy?: string,
): Promise<{ endpointId: string; eniId: string }> {
  const ep = await srv.ec2().send(
    new CreateVpcEndpointCommand({
      VpcId: net.vpcId,
      VpcEndpointType: "Interface",
      ServiceName: `com.amazonaws.us-east-1.${service}`,
      SubnetIds: [net.subnetId],
      PrivateDnsEnabled: true,
      PolicyDocument: policy,
    }),
  );
  const endpointId = ep.VpcEndpoint!.VpcEndpointId!;
  const eniId = srv.state.get("vpcEndpoint", endpointId)!.enis[0]!.eniId;
  return { endpointId, eniId };
}

export interface RunningFront {
  front: ServiceFront;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** A front of our own on 127.0.0.1:<free port>, handing every connection to `endpointId`. */
export async function runFront(
  srv: TestServer,
  conn: { endpointId: string; eniId: string },
  limits: Partial<FrontLimits> = {},
  /** The data plane's endpoint listeners accept half-open sockets (a client's FIN alone ends nothing). */
  listen: { allowHalfOpen?: boolean } = {},
): Promise<RunningFront> {
  const front = new ServiceFront({
    state: srv.state,
    rt: systemRuntime,
    host: DEFAULT_HOST,
    auth: "verify",
    services: { secretsmanager: secretsManagerHandlers },
    ca: srv.ca,
    limits,
  });
  const server = createServer({ allowHalfOpen: listen.allowHalfOpen ?? false }, (socket) =>
    front.handle(socket, { ...conn, clientIp: CLIENT_IP }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    front,
    server,
    port: (server.address() as AddressInfo).port,
    async close() {
      await front.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An agent that trusts only privlink's CA and dials the front whatever the host name. */
export function frontAgent(srv: TestServer): Agent {
  return new Agent({
    ca: srv.ca.certPem,
    keepAlive: true,
    lookup: ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) =>
      opts?.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4)) as never,
  });
}

export function frontClient(
  srv: TestServer,
  port: number,
  creds = srv.credentials,
  host = SM_HOST,
): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint: `https://${host}:${port}`,
    region: "us-east-1",
    credentials: creds,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpsAgent: frontAgent(srv) }),
  });
}

/** Polls `cond` for up to five seconds. */
export async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 50));
}
