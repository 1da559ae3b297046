import { setTimeout as sleep } from "node:timers/promises";
import {
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcEndpointsCommand,
  type EC2Client,
  ModifyVpcAttributeCommand,
  type VpcEndpoint,
} from "@aws-sdk/client-ec2";
import type { State } from "../../src/cloud/state.js";

/** A VPC with one subnet per AZ letter, for endpoint tests. */
export interface TestVpc {
  vpcId: string;
  /** Subnet IDs by AZ name (us-east-1a → subnet-…). */
  subnets: Record<string, string>;
  defaultSg: string;
  mainRouteTable: string;
}

export async function makeVpc(
  ec2: EC2Client,
  opts: { cidr?: string; dns?: boolean; azs?: string[]; region?: string } = {},
): Promise<TestVpc> {
  const cidr = opts.cidr ?? "10.0.0.0/16";
  const region = opts.region ?? "us-east-1";
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc!.VpcId!;
  if (opts.dns ?? true)
    await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } }));
  const prefix = cidr.split(".").slice(0, 2).join(".");
  const subnets: Record<string, string> = {};
  const azs = opts.azs ?? [`${region}a`, `${region}b`, `${region}c`];
  for (const [i, az] of azs.entries()) {
    const s = await ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `${prefix}.${i + 1}.0/24`, AvailabilityZone: az }),
    );
    subnets[az] = s.Subnet!.SubnetId!;
  }
  const sg = await ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: "vpc-id", Values: [vpcId] },
        { Name: "group-name", Values: ["default"] },
      ],
    }),
  );
  const rt = await ec2.send(
    new DescribeRouteTablesCommand({
      Filters: [
        { Name: "vpc-id", Values: [vpcId] },
        { Name: "association.main", Values: ["true"] },
      ],
    }),
  );
  return {
    vpcId,
    subnets,
    defaultSg: sg.SecurityGroups![0]!.GroupId!,
    mainRouteTable: rt.RouteTables![0]!.RouteTableId!,
  };
}

/** Polls `probe` until it returns a value (not undefined); bounded by `timeoutMs`. */
export async function until<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export async function describeEndpoint(ec2: EC2Client, id: string): Promise<VpcEndpoint> {
  const out = await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [id] }));
  return out.VpcEndpoints![0]!;
}

/** Waits until the endpoint reaches `state` (the lifecycle runs right after each commit). */
export function waitForState(
  ec2: EC2Client,
  id: string,
  state: string,
  timeoutMs = 10_000,
): Promise<VpcEndpoint> {
  return until(
    async () => {
      const e = await describeEndpoint(ec2, id);
      return e.State === state ? e : undefined;
    },
    timeoutMs,
    `${id} to be ${state}`,
  );
}

/**
 * Everything an endpoint may touch, as JSON: comparing two snapshots shows whether a failed
 * request left anything behind (endpoints, ENIs and their addresses, routes, slots, tokens).
 */
export function snapshot(state: State): string {
  const kinds = [
    "vpcEndpoint",
    "eni",
    "routeTable",
    "vpc",
    "idempotency",
    "connectionEvent",
    "securityGroup",
    "subnet",
  ] as const;
  const out: Record<string, unknown[]> = {};
  for (const k of kinds) out[k] = [...state.all(k)].sort((a, b) => (a.id < b.id ? -1 : 1));
  return JSON.stringify(out);
}
