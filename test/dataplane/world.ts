import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import {
  AcceptVpcEndpointConnectionsCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  CreateVpcEndpointServiceConfigurationCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
  ModifyVpcEndpointServicePermissionsCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { eniHostAddress } from "../../src/cloud/eni.js";
import { adminFetch } from "../helpers/admin.js";
import type { TestServer } from "../helpers/server.js";

export interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
}

export async function newAccount(server: TestServer, id: string): Promise<Creds> {
  const res = await adminFetch(server, `/_privlink/accounts`, {
    method: "POST",
    body: JSON.stringify({ id }),
  });
  const body = (await res.json()) as { accessKeyId: string; secretAccessKey: string };
  return { accessKeyId: body.accessKeyId, secretAccessKey: body.secretAccessKey };
}

export function clients(server: TestServer, creds: Creds) {
  const config = { endpoint: server.url, region: "us-east-1", credentials: creds, maxAttempts: 1 };
  return { ec2: new EC2Client(config), elb: new ElasticLoadBalancingV2Client(config) };
}

/**
 * Polls every 25 ms until `probe` answers. The bound is wall time, generous on purpose: on a
 * loaded 2-core runner an endpoint can take many seconds to become available, and a test that
 * waits longer costs nothing when the machine is quiet.
 */
export async function until<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  seconds = 40,
): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export interface Provider {
  creds: Creds;
  vpcId: string;
  nlbArn: string;
  tgArn: string;
  serviceId: string;
  serviceName: string;
  listenerPort: number;
}

export interface ProviderOptions {
  accountId: string;
  /** The provider's process, an IP target in 127.0.0.0/8. */
  targets: { host: string; port: number }[];
  listenerPort?: number;
  acceptanceRequired?: boolean;
  proxyProtocol?: boolean;
  /** Allowed principals (account IDs) besides the owner. */
  allow: string[];
  healthCheckPort?: number;
  cidr?: string;
}

/** Provider account: VPC, NLB, target group with IP targets on 127.0.0.1, listener, endpoint service. */
export async function makeProvider(server: TestServer, o: ProviderOptions): Promise<Provider> {
  const creds = await newAccount(server, o.accountId);
  const { ec2, elb } = clients(server, creds);
  const cidr = o.cidr ?? "10.0.0.0/16";
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc!.VpcId!;
  const prefix = cidr.split(".").slice(0, 2).join(".");
  // AZ names map to different AZ IDs per account: an NLB in every zone serves any consumer subnet.
  const subnets: string[] = [];
  for (const [i, az] of ["a", "b", "c", "d", "e", "f"].entries())
    subnets.push(
      (
        await ec2.send(
          new CreateSubnetCommand({
            VpcId: vpcId,
            CidrBlock: `${prefix}.${i + 1}.0/24`,
            AvailabilityZone: `us-east-1${az}`,
          }),
        )
      ).Subnet!.SubnetId!,
    );
  const nlb = await elb.send(
    new CreateLoadBalancerCommand({
      Name: `nlb-${o.accountId.slice(-4)}`,
      Type: "network",
      Scheme: "internal",
      Subnets: subnets,
    }),
  );
  const nlbArn = nlb.LoadBalancers![0]!.LoadBalancerArn!;
  const tg = await elb.send(
    new CreateTargetGroupCommand({
      Name: `tg-${o.accountId.slice(-4)}`,
      Protocol: "TCP",
      Port: o.targets[0]?.port ?? 80,
      VpcId: vpcId,
      TargetType: "ip",
      HealthCheckProtocol: "TCP",
      HealthCheckPort: o.healthCheckPort ? String(o.healthCheckPort) : undefined,
      HealthCheckIntervalSeconds: 10,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 2,
    }),
  );
  const tgArn = tg.TargetGroups![0]!.TargetGroupArn!;
  if (o.proxyProtocol)
    await elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: tgArn,
        Attributes: [{ Key: "proxy_protocol_v2.enabled", Value: "true" }],
      }),
    );
  if (o.targets.length)
    await elb.send(
      new RegisterTargetsCommand({
        TargetGroupArn: tgArn,
        Targets: o.targets.map((t) => ({ Id: t.host, Port: t.port, AvailabilityZone: "all" })),
      }),
    );
  const listenerPort = o.listenerPort ?? 7070;
  await elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: nlbArn,
      Protocol: "TCP",
      Port: listenerPort,
      DefaultActions: [{ Type: "forward", TargetGroupArn: tgArn }],
    }),
  );
  const svc = await ec2.send(
    new CreateVpcEndpointServiceConfigurationCommand({
      NetworkLoadBalancerArns: [nlbArn],
      AcceptanceRequired: o.acceptanceRequired ?? true,
    }),
  );
  const serviceId = svc.ServiceConfiguration!.ServiceId!;
  const serviceName = svc.ServiceConfiguration!.ServiceName!;
  if (o.allow.length)
    await ec2.send(
      new ModifyVpcEndpointServicePermissionsCommand({
        ServiceId: serviceId,
        AddAllowedPrincipals: o.allow.map((a) => `arn:aws:iam::${a}:root`),
      }),
    );
  return { creds, vpcId, nlbArn, tgArn, serviceId, serviceName, listenerPort };
}

export interface Consumer {
  creds: Creds;
  ec2: EC2Client;
  vpcId: string;
  subnetId: string;
  /** The group the workload instance is in. */
  workloadSg: string;
  /** The group on the endpoint's interfaces (no inbound rule until a test adds one). */
  endpointSg: string;
  instanceId: string;
  endpointId: string;
}

/** Consumer account: VPC, subnet, a workload instance, and an interface endpoint to `serviceName`. */
export async function makeConsumer(
  server: TestServer,
  accountId: string,
  serviceName: string,
  cidr = "10.1.0.0/16",
  /** Endpoint options beyond the defaults (an AWS service's endpoint without private DNS, say). */
  endpoint: { PrivateDnsEnabled?: boolean } = {},
): Promise<Consumer> {
  const creds = await newAccount(server, accountId);
  const { ec2 } = clients(server, creds);
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc!.VpcId!;
  const prefix = cidr.split(".").slice(0, 2).join(".");
  const subnetId = (
    await ec2.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: `${prefix}.1.0/24`,
        AvailabilityZone: "us-east-1a",
      }),
    )
  ).Subnet!.SubnetId!;
  const sg = async (name: string) =>
    (await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name, VpcId: vpcId })))
      .GroupId!;
  const workloadSg = await sg("workload");
  const endpointSg = await sg("endpoint");
  const run = await ec2.send(
    new RunInstancesCommand({
      ImageId: "ami-12345678",
      MinCount: 1,
      MaxCount: 1,
      SubnetId: subnetId,
      SecurityGroupIds: [workloadSg],
    }),
  );
  const instanceId = run.Instances![0]!.InstanceId!;
  const ep = await ec2.send(
    new CreateVpcEndpointCommand({
      VpcEndpointType: "Interface",
      VpcId: vpcId,
      ServiceName: serviceName,
      SubnetIds: [subnetId],
      SecurityGroupIds: [endpointSg],
      ...endpoint,
    }),
  );
  return {
    creds,
    ec2,
    vpcId,
    subnetId,
    workloadSg,
    endpointSg,
    instanceId,
    endpointId: ep.VpcEndpoint!.VpcEndpointId!,
  };
}

export async function allowFromGroup(c: Consumer, port: number, groupId = c.workloadSg): Promise<void> {
  await c.ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: c.endpointSg,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: port, ToPort: port, UserIdGroupPairs: [{ GroupId: groupId }] },
      ],
    }),
  );
}

export async function accept(server: TestServer, p: Provider, endpointId: string): Promise<void> {
  const { ec2 } = clients(server, p.creds);
  await ec2.send(
    new AcceptVpcEndpointConnectionsCommand({ ServiceId: p.serviceId, VpcEndpointIds: [endpointId] }),
  );
}

export async function waitEndpoint(c: Pick<Consumer, "ec2" | "endpointId">, state: string): Promise<void> {
  await until(async () => {
    const out = await c.ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [c.endpointId] }));
    return out.VpcEndpoints?.[0]?.State === state ? true : undefined;
  }, `${c.endpointId} ${state}`);
}

/** Host addresses: the endpoint's (first) interface and the workload instance's. */
export function addresses(server: TestServer, c: Consumer): { endpoint: string; workload: string } {
  const s = server.state;
  const ep = s.get("vpcEndpoint", c.endpointId)!;
  const instance = s.get("instance", c.instanceId)!;
  return {
    endpoint: eniHostAddress(s, s.get("eni", ep.enis[0]!.eniId)!)!,
    workload: eniHostAddress(s, s.get("eni", instance.eniId)!)!,
  };
}

export type Outcome = { kind: "data"; data: Buffer } | { kind: "refused"; code: string };

/**
 * Connects as the workload (from its host address), sends `payload`, half-closes, and collects
 * the reply: what a client experiences, as data or as the error that refused it.
 */
export function exchange(
  to: { host: string; port: number },
  from: string,
  payload: Buffer,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: to.host, port: to.port, localAddress: from, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.on("connect", () => socket.end(payload));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", (e: NodeJS.ErrnoException) => resolve({ kind: "refused", code: e.code ?? e.message }));
    socket.on("close", (hadError) => {
      if (!hadError) resolve({ kind: "data", data: Buffer.concat(chunks) });
    });
  });
}
