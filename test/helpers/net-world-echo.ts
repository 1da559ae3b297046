/**
 * The world the connectivity, hybrid and analyzer tests start from: an echo target behind a
 * provider's endpoint service, a consumer (hub) VPC whose interface endpoint to it is available,
 * and workload instances in further VPCs (spokes) that reach it by peering, TGW or not at all.
 */
import type { Socket } from "node:net";
import { type EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { eniHostAddress } from "../../src/cloud/eni.js";
import { makeVpc, type TestVpc } from "../control-plane/consumer-fixtures.js";
import {
  accept,
  addresses,
  type Consumer,
  makeConsumer,
  makeProvider,
  type Provider,
  waitEndpoint,
} from "../dataplane/world.js";
import { echo, type Listening, listen } from "../net/sockets.js";
import type { TestServer } from "./server.js";

export interface EchoHub {
  echoServer: Listening;
  provider: Provider;
  /** The consumer whose VPC holds the interface endpoint (the hub). */
  hub: Consumer;
  ec2: EC2Client;
  /** The endpoint interface's host address: what workloads dial. */
  endpointHost: string;
}

/**
 * Provider `accounts.provider` serves an echo target (or `serve`) and allows `accounts.consumer`,
 * whose VPC (`cidr`) gets an interface endpoint to it, accepted and available.
 */
export async function echoHub(
  server: TestServer,
  accounts: { provider: string; consumer: string },
  cidr?: string,
  serve: (socket: Socket) => void = echo,
): Promise<EchoHub> {
  const echoServer = await listen(serve);
  const provider = await makeProvider(server, {
    accountId: accounts.provider,
    targets: [{ host: "127.0.0.1", port: echoServer.port }],
    allow: [accounts.consumer],
  });
  const hub = await makeConsumer(server, accounts.consumer, provider.serviceName, cidr);
  await accept(server, provider, hub.endpointId);
  await waitEndpoint(hub, "available");
  return { echoServer, provider, hub, ec2: hub.ec2, endpointHost: addresses(server, hub).endpoint };
}

export interface SpokeWorkload {
  vpc: TestVpc;
  subnetId: string;
  instanceId: string;
  eniId: string;
  /** The instance interface's host address: the source address of its connections. */
  host: string;
}

/** A VPC (`cidr`, one subnet in us-east-1a) with one running instance: a spoke's workload. */
export async function spokeWorkload(
  server: TestServer,
  ec2: EC2Client,
  cidr: string,
): Promise<SpokeWorkload> {
  const vpc = await makeVpc(ec2, { cidr, azs: ["us-east-1a"] });
  const subnetId = vpc.subnets["us-east-1a"]!;
  const run = await ec2.send(
    new RunInstancesCommand({ ImageId: "ami-12345678", MinCount: 1, MaxCount: 1, SubnetId: subnetId }),
  );
  const instance = run.Instances![0]!;
  const eniId = instance.NetworkInterfaces![0]!.NetworkInterfaceId!;
  const host = eniHostAddress(server.state, server.state.get("eni", eniId)!)!;
  return { vpc, subnetId, instanceId: instance.InstanceId!, eniId, host };
}
