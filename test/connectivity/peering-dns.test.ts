import {
  AcceptVpcPeeringConnectionCommand,
  CreateVpcPeeringConnectionCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DescribeVpcPeeringConnectionsCommand,
  type EC2Client,
  type Instance,
  ModifySubnetAttributeCommand,
  ModifyVpcPeeringConnectionOptionsCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../dataplane/world.js";
import { digA, eventually, makeVpc, type Net, resolverOf } from "../dns-private/helpers.js";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/**
 * Instances' public IPv4 addresses and DNS names, and what a peering's
 * AllowDnsResolutionFromRemoteVpc does to them, asked with dig from each VPC's resolver.
 */

let srv: TestServer;
let ec2: EC2Client;
let a: Net;
let b: Net;

beforeAll(async () => {
  srv = await startTestServer();
  ec2 = srv.ec2();
  a = await makeVpc(ec2, "10.61.0.0/16", ["us-east-1a"]);
  b = await makeVpc(ec2, "10.62.0.0/16", ["us-east-1a"]);
}, 60_000);
afterAll(() => srv.stop());

async function launch(input: Record<string, unknown>): Promise<Instance> {
  const r = await ec2.send(
    new RunInstancesCommand({ ImageId: "ami-12345678", MinCount: 1, MaxCount: 1, ...input }),
  );
  const d = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [r.Instances![0]!.InstanceId!] }));
  return d.Reservations![0]!.Instances![0]!;
}

/** The host address a private IP of `vpcId` listens on (127.S.x.y). */
function hostOf(vpcId: string, ip: string): string {
  const slot = srv.state.get("vpc", vpcId)!.cidrBlocks[0]!.slot!;
  const [, , c, d] = ip.split(".");
  return `127.${slot}.${c}.${d}`;
}

const ask = async (vpcId: string, name: string) => digA(await resolverOf(srv, vpcId), srv.dns.port, name);

describe("public addresses of instances", () => {
  it("MapPublicIpOnLaunch gives an instance a public IPv4 from 198.18.0.0/15 and AWS's DNS names", async () => {
    const none = await launch({ SubnetId: b.subnetIds[0] });
    expect(none.PublicIpAddress).toBeUndefined();
    expect(none.PublicDnsName).toBe("");
    await ec2.send(
      new ModifySubnetAttributeCommand({ SubnetId: b.subnetIds[0], MapPublicIpOnLaunch: { Value: true } }),
    );
    const subnets = await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [b.subnetIds[0]!] }));
    expect(subnets.Subnets![0]!.MapPublicIpOnLaunch).toBe(true);
    const i = await launch({ SubnetId: b.subnetIds[0] });
    expect(i.PublicIpAddress).toMatch(/^198\.1[89]\.\d+\.\d+$/);
    expect(i.PublicDnsName).toBe(`ec2-${i.PublicIpAddress!.replaceAll(".", "-")}.compute-1.amazonaws.com`);
    expect(i.PrivateDnsName).toBe(`ip-${i.PrivateIpAddress!.replaceAll(".", "-")}.ec2.internal`);
    const enis = await ec2.send(
      new DescribeNetworkInterfacesCommand({
        NetworkInterfaceIds: [i.NetworkInterfaces![0]!.NetworkInterfaceId!],
      }),
    );
    expect(enis.NetworkInterfaces![0]!.Association).toMatchObject({
      PublicIp: i.PublicIpAddress,
      IpOwnerId: "amazon",
    });
    const found = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: "ip-address", Values: [i.PublicIpAddress!] }] }),
    );
    expect(found.Reservations!.flatMap((r) => r.Instances!.map((x) => x.InstanceId))).toEqual([i.InstanceId]);
  });

  it("AssociatePublicIpAddress at launch overrides the subnet, both ways", async () => {
    const off = await launch({
      NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: b.subnetIds[0], AssociatePublicIpAddress: false }],
    });
    expect(off.PublicIpAddress).toBeUndefined();
    const on = await launch({
      NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: a.subnetIds[0], AssociatePublicIpAddress: true }],
    });
    expect(on.PublicIpAddress).toMatch(/^198\.1[89]\./);
  });

  it("elsewhere than us-east-1 the names carry the region", async () => {
    const west = srv.ec2("us-west-2");
    const r = await west.send(new RunInstancesCommand({ ImageId: "ami-12345678", MinCount: 1, MaxCount: 1 }));
    const i = r.Instances![0]!;
    // The default VPC maps public IPs and has DNS hostnames on.
    expect(i.PublicDnsName).toBe(
      `ec2-${i.PublicIpAddress!.replaceAll(".", "-")}.us-west-2.compute.amazonaws.com`,
    );
    expect(i.PrivateDnsName).toBe(
      `ip-${i.PrivateIpAddress!.replaceAll(".", "-")}.us-west-2.compute.internal`,
    );
  });

  it("refuses what AWS refuses", async () => {
    expect(
      await fails(
        ec2.send(
          new ModifySubnetAttributeCommand({
            SubnetId: a.subnetIds[0],
            MapPublicIpOnLaunch: { Value: true },
            AssignIpv6AddressOnCreation: { Value: true },
          }),
        ),
      ),
    ).toMatchObject({
      name: "InvalidRequest",
      message: expect.stringContaining("Only one subnet attribute"),
    });
    expect(
      await fails(
        ec2.send(
          new ModifySubnetAttributeCommand({
            SubnetId: "subnet-0123456789abcdef0",
            MapPublicIpOnLaunch: { Value: true },
          }),
        ),
      ),
    ).toMatchObject({ name: "InvalidSubnetID.NotFound" });
    expect(
      await fails(
        ec2.send(
          new RunInstancesCommand({
            ImageId: "ami-12345678",
            MinCount: 1,
            MaxCount: 1,
            SubnetId: a.subnetIds[0],
            NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: a.subnetIds[0], AssociatePublicIpAddress: true }],
          }),
        ),
      ),
    ).toMatchObject({ name: "InvalidParameterCombination" });
  });
});

describe("AllowDnsResolutionFromRemoteVpc", () => {
  it("resolves the peer's public names to private addresses only when the peer's owner allows it", async () => {
    const target = await launch({ SubnetId: b.subnetIds[0] }); // b's subnet maps public IPs now
    const name = target.PublicDnsName!;
    const publicIp = target.PublicIpAddress!;
    const privateHost = hostOf(b.vpcId, target.PrivateIpAddress!);
    await launch({ SubnetId: a.subnetIds[0] }); // a's resolver needs a slot

    // The public resolver and an unrelated VPC get the public address; its own VPC the private one.
    expect((await digA(srv.dns.publicAddress, srv.dns.port, name)).addresses).toEqual([publicIp]);
    expect((await ask(a.vpcId, name)).addresses).toEqual([publicIp]);
    expect((await ask(b.vpcId, name)).addresses).toEqual([privateHost]);
    expect((await ask(b.vpcId, target.PrivateDnsName!)).addresses).toEqual([privateHost]);

    const pcx = (
      await ec2.send(new CreateVpcPeeringConnectionCommand({ VpcId: a.vpcId, PeerVpcId: b.vpcId }))
    ).VpcPeeringConnection!.VpcPeeringConnectionId!;
    await ec2.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
    await until(async () => {
      const d = await ec2.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [pcx] }));
      return d.VpcPeeringConnections![0]!.Status!.Code === "active" ? true : undefined;
    }, `${pcx} active`);
    // Peered, but no option: still the public address.
    expect((await ask(a.vpcId, name)).addresses).toEqual([publicIp]);

    // The requester's option (a's names seen from b) changes nothing for b's names seen from a.
    await ec2.send(
      new ModifyVpcPeeringConnectionOptionsCommand({
        VpcPeeringConnectionId: pcx,
        RequesterPeeringConnectionOptions: { AllowDnsResolutionFromRemoteVpc: true },
      }),
    );
    expect((await ask(a.vpcId, name)).addresses).toEqual([publicIp]);

    // b is the accepter: its owner's option lets a resolve b's names privately.
    await ec2.send(
      new ModifyVpcPeeringConnectionOptionsCommand({
        VpcPeeringConnectionId: pcx,
        AccepterPeeringConnectionOptions: { AllowDnsResolutionFromRemoteVpc: true },
      }),
    );
    const on = await eventually(
      () => ask(a.vpcId, name),
      (r) => r.addresses[0] === privateHost,
    );
    expect(on.addresses).toEqual([privateHost]);
    // The private name stays the VPC's own: not answered across the peering.
    expect((await ask(a.vpcId, target.PrivateDnsName!)).addresses).toEqual([]);
    // Still public for everyone else.
    expect((await digA(srv.dns.publicAddress, srv.dns.port, name)).addresses).toEqual([publicIp]);

    await ec2.send(
      new ModifyVpcPeeringConnectionOptionsCommand({
        VpcPeeringConnectionId: pcx,
        AccepterPeeringConnectionOptions: { AllowDnsResolutionFromRemoteVpc: false },
      }),
    );
    expect((await ask(a.vpcId, name)).addresses).toEqual([publicIp]);
  });
});
