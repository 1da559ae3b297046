/** Shared pieces of the private DNS tests: a network to put endpoints in, and DNS clients. */
import { execFile } from "node:child_process";
import { Resolver } from "node:dns/promises";
import {
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  type EC2Client,
  ModifyVpcAttributeCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { Route53Client } from "@aws-sdk/client-route-53";
import { DIG, type DigResult, parseDig } from "../dns/client.js";
import type { TestServer } from "../helpers/server.js";

export function route53(srv: TestServer, creds = srv.credentials): Route53Client {
  return new Route53Client({ endpoint: srv.url, region: "us-east-1", credentials: creds, maxAttempts: 1 });
}

export interface Net {
  vpcId: string;
  subnetIds: string[];
}

/** A VPC with DNS hostnames on (private DNS needs it) and one subnet per listed AZ. */
export async function makeVpc(
  ec2: EC2Client,
  cidr: string,
  azs = ["us-east-1a", "us-east-1b"],
): Promise<Net> {
  const { Vpc } = await ec2.send(new CreateVpcCommand({ CidrBlock: cidr }));
  const vpcId = Vpc!.VpcId!;
  await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } }));
  const base = cidr.split(".").slice(0, 2).join(".");
  const subnetIds: string[] = [];
  for (const [i, az] of azs.entries()) {
    const { Subnet } = await ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `${base}.${i}.0/24`, AvailabilityZone: az }),
    );
    subnetIds.push(Subnet!.SubnetId!);
  }
  return { vpcId, subnetIds };
}

/** A workload in the VPC: its ENI gives the VPC a host-address slot, hence a resolver. */
export async function runInstance(ec2: EC2Client, subnetId: string): Promise<string> {
  const r = await ec2.send(
    new RunInstancesCommand({ ImageId: "ami-12345678", MinCount: 1, MaxCount: 1, SubnetId: subnetId }),
  );
  return r.Instances![0]!.InstanceId!;
}

export async function makeEndpoint(
  ec2: EC2Client,
  net: Net,
  serviceName: string,
  privateDns: boolean,
): Promise<{ id: string; regional: string; zonal: string[]; zoneId: string }> {
  const { VpcEndpoint } = await ec2.send(
    new CreateVpcEndpointCommand({
      VpcId: net.vpcId,
      ServiceName: serviceName,
      VpcEndpointType: "Interface",
      SubnetIds: net.subnetIds,
      PrivateDnsEnabled: privateDns,
    }),
  );
  const entries = VpcEndpoint!.DnsEntries!;
  return {
    id: VpcEndpoint!.VpcEndpointId!,
    regional: entries[0]!.DnsName!,
    zonal: entries.slice(1, 1 + net.subnetIds.length).map((e) => e.DnsName!),
    zoneId: entries[0]!.HostedZoneId!,
  };
}

/** The host address of the resolver of `vpcId` (127.S.0.2), from the health document. */
export async function resolverOf(srv: TestServer, vpcId: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    await srv.dns.settled();
    const r = srv.dns.info().resolvers.find((x) => x.vpcId === vpcId && !x.error);
    if (r) return r.address;
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error(`no resolver for ${vpcId}`);
}

export function digAt(host: string, port: number, args: string[]): Promise<DigResult> {
  return new Promise((resolve, reject) => {
    execFile(
      DIG,
      [`@${host}`, "-p", String(port), "+tries=1", "+time=3", ...args],
      { timeout: 15_000 },
      (err, stdout) => {
        if (err && !stdout) return reject(err);
        resolve(parseDig(stdout));
      },
    );
  });
}

/** The A addresses dig gets for a name (empty on NXDOMAIN/NODATA), sorted. */
export async function digA(
  host: string,
  port: number,
  name: string,
): Promise<{ status: string; addresses: string[] }> {
  const r = await digAt(host, port, [name, "A"]);
  return {
    status: r.status,
    addresses: r.answer
      .filter((f) => f[3] === "A")
      .map((f) => f[4]!)
      .sort(),
  };
}

export function nodeResolver(host: string, port: number): Resolver {
  const r = new Resolver({ timeout: 3000, tries: 1 });
  r.setServers([`${host}:${port}`]);
  return r;
}

/** Polls `probe` until `ok` holds (bounded: about 5 s), returning the last value. */
export async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let v = await probe();
  for (let i = 0; i < 100 && !ok(v); i++) {
    await new Promise((res) => setTimeout(res, 50));
    v = await probe();
  }
  return v;
}
