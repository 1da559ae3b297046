import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointServiceConfigurationCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { rootArn } from "../../src/cloud/account.js";
import { DEFAULT_HOST } from "../../src/cloud/context.js";
import { ALWAYS_READY, runLifecycle } from "../../src/cloud/lifecycle.js";
import { emitConnectionEvent } from "../../src/cloud/notifications.js";
import { type Runtime, systemRuntime } from "../../src/cloud/runtime.js";
import type { ConnectionEventType, VpcEndpoint } from "../../src/cloud/types.js";
import { adminFetch } from "../helpers/admin.js";
import type { TestServer } from "../helpers/server.js";

export type Creds = { accessKeyId: string; secretAccessKey: string };

export function elbv2(
  srv: TestServer,
  creds: Creds = srv.credentials,
  region = "us-east-1",
): ElasticLoadBalancingV2Client {
  return new ElasticLoadBalancingV2Client({ endpoint: srv.url, region, credentials: creds, maxAttempts: 1 });
}

/** Runs the lifecycle steps now, as the server does after each commit (no waiting on timers). */
export function settle(srv: TestServer, rt: Runtime = systemRuntime): void {
  srv.state.transact((tx) => runLifecycle(tx, rt, ALWAYS_READY));
}

/** Registers an account through the admin API and returns its keys. */
export async function makeAccount(srv: TestServer, id: string, org?: string): Promise<Creds> {
  const res = await adminFetch(srv, `/_privlink/accounts`, {
    method: "POST",
    body: JSON.stringify({ id, ...(org ? { org } : {}) }),
  });
  const body = (await res.json()) as { accessKeyId: string; secretAccessKey: string };
  return { accessKeyId: body.accessKeyId, secretAccessKey: body.secretAccessKey };
}

export interface ProviderNet {
  vpcId: string;
  /** Subnet IDs by AZ name. */
  subnets: Record<string, string>;
}

/** A provider VPC with one /24 per AZ and, when asked, an attached internet gateway. */
export async function makeNet(
  ec2: EC2Client,
  cidr: string,
  azs: string[] = ["us-east-1a", "us-east-1b"],
  igw = false,
): Promise<ProviderNet> {
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc!.VpcId!;
  const prefix = cidr.split(".").slice(0, 2).join(".");
  const subnets: Record<string, string> = {};
  for (const [i, az] of azs.entries()) {
    const s = await ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `${prefix}.${i + 1}.0/24`, AvailabilityZone: az }),
    );
    subnets[az] = s.Subnet!.SubnetId!;
  }
  if (igw) {
    const g = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: g, VpcId: vpcId }));
  }
  return { vpcId, subnets };
}

/** An internal NLB over the net's subnets, a TCP target group and a listener: a service backend. */
export async function makeNlbStack(
  elb: ElasticLoadBalancingV2Client,
  net: ProviderNet,
  name: string,
  port = 80,
): Promise<{ lbArn: string; tgArn: string; listenerArn: string }> {
  const lb = await elb.send(
    new CreateLoadBalancerCommand({
      Name: name,
      Type: "network",
      Scheme: "internal",
      Subnets: Object.values(net.subnets),
    }),
  );
  const lbArn = lb.LoadBalancers![0]!.LoadBalancerArn!;
  const tg = await elb.send(
    new CreateTargetGroupCommand({
      Name: `${name}-tg`,
      Protocol: "TCP",
      Port: port,
      VpcId: net.vpcId,
      TargetType: "ip",
    }),
  );
  const tgArn = tg.TargetGroups![0]!.TargetGroupArn!;
  const l = await elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: lbArn,
      Protocol: "TCP",
      Port: port,
      DefaultActions: [{ Type: "forward", TargetGroupArn: tgArn }],
    }),
  );
  return { lbArn, tgArn, listenerArn: l.Listeners![0]!.ListenerArn! };
}

/**
 * Puts a consumer endpoint straight into the state: provider tests need connections in given
 * states without depending on the consumer side's API.
 */
export function fakeEndpoint(
  srv: TestServer,
  p: {
    id: string;
    serviceId: string;
    serviceName: string;
    accountId?: string;
    state?: VpcEndpoint["state"];
    type?: VpcEndpoint["type"];
  },
): VpcEndpoint {
  const now = new Date().toISOString();
  const e: VpcEndpoint = {
    id: p.id,
    accountId: p.accountId ?? "000000000000",
    region: "us-east-1",
    tags: {},
    type: p.type ?? "Interface",
    vpcId: "vpc-00000000000000000",
    serviceName: p.serviceName,
    serviceId: p.serviceId,
    serviceRegion: "us-east-1",
    state: p.state ?? "available",
    routeTableIds: [],
    subnetIds: [],
    enis: [],
    securityGroupIds: [],
    ipAddressType: "ipv4",
    dnsRecordIpType: "ipv4",
    privateDnsEnabled: false,
    dnsSuffix: "abcd1234",
    connectionId: `vpce-con-${p.id.slice(5)}`,
    createdAt: now,
    stateChangedAt: now,
  };
  srv.state.transact((tx) => tx.put("vpcEndpoint", e));
  return e;
}

export function setEndpointState(srv: TestServer, id: string, state: VpcEndpoint["state"]): void {
  srv.state.transact((tx) => tx.put("vpcEndpoint", { ...tx.get("vpcEndpoint", id)!, state }));
}

/** An endpoint service of account 000000000000 fronted by a new internal NLB in a new one-AZ VPC. */
export async function makeEndpointService(
  srv: TestServer,
  cidr: string,
  name: string,
): Promise<{ serviceId: string; serviceName: string }> {
  const ec2 = srv.ec2();
  const net = await makeNet(ec2, cidr, ["us-east-1a"]);
  const lb = await elbv2(srv).send(
    new CreateLoadBalancerCommand({
      Name: name,
      Type: "network",
      Scheme: "internal",
      Subnets: Object.values(net.subnets),
    }),
  );
  const svc = await ec2.send(
    new CreateVpcEndpointServiceConfigurationCommand({
      NetworkLoadBalancerArns: [lb.LoadBalancers![0]!.LoadBalancerArn!],
    }),
  );
  return {
    serviceId: svc.ServiceConfiguration!.ServiceId!,
    serviceName: svc.ServiceConfiguration!.ServiceName!,
  };
}

/** What the consumer side does on Connect/Accept/Reject/Delete: records the event for the endpoint as it is now. */
export function emitEvent(srv: TestServer, endpointId: string, event: ConnectionEventType): void {
  const ctx = {
    accountId: "000000000000",
    region: "us-east-1",
    principalArn: rootArn("000000000000"),
    rt: systemRuntime,
    host: DEFAULT_HOST,
  };
  srv.state.transact((tx) => emitConnectionEvent(tx, ctx, tx.get("vpcEndpoint", endpointId)!, event));
}
