import {
  CreateVpcEndpointServiceConfigurationCommand,
  DescribeNetworkInterfacesCommand,
  DescribeVpcEndpointServiceConfigurationsCommand,
  type EC2Client,
  StartVpcEndpointServicePrivateDnsVerificationCommand,
} from "@aws-sdk/client-ec2";
import {
  AssociateVPCWithHostedZoneCommand,
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  CreateVPCAssociationAuthorizationCommand,
  type Route53Client,
} from "@aws-sdk/client-route-53";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AWS_PUBLIC_ADDRESS } from "../../src/dns/records.js";
import { elbv2, makeAccount, makeNet, makeNlbStack } from "../control-plane/provider-fixtures.js";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runAws } from "../helpers/spawn.js";
import {
  digA,
  eventually,
  makeEndpoint,
  makeVpc,
  type Net,
  resolverOf,
  route53,
  runInstance,
} from "./helpers.js";

const SM = "secretsmanager.us-east-1.amazonaws.com";

let srv: TestServer;
let ec2: EC2Client;
let r53: Route53Client;
let seq = 0;
const ref = () => `designs-${++seq}-${Date.now()}`;

beforeAll(async () => {
  srv = await startTestServer();
  ec2 = srv.ec2();
  r53 = route53(srv);
});
afterAll(() => srv.stop());

async function hostsOf(vpcId: string, endpointId: string): Promise<string[]> {
  const enis = await ec2.send(
    new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }),
  );
  const vpc = srv.state.get("vpc", vpcId)!;
  const slot = vpc.cidrBlocks[0]!.slot!;
  return enis
    .NetworkInterfaces!.filter((e) => e.Description?.includes(endpointId))
    .map((e) => {
      const [, , c, d] = e.PrivateIpAddress!.split(".");
      return `127.${slot}.${c}.${d}`;
    })
    .sort();
}

async function phz(client: Route53Client, name: string, vpc: Net): Promise<string> {
  const r = await client.send(
    new CreateHostedZoneCommand({
      Name: name,
      CallerReference: ref(),
      VPC: { VPCId: vpc.vpcId, VPCRegion: "us-east-1" },
    }),
  );
  return r.HostedZone!.Id!.replace("/hostedzone/", "");
}

describe("the shared-services design (centralised endpoints)", () => {
  it("resolves the service name to the hub endpoint in associated spokes only, across accounts", async () => {
    const hub = await makeVpc(ec2, "10.60.0.0/16");
    const spoke = await makeVpc(ec2, "10.61.0.0/16", ["us-east-1a"]);
    const lonely = await makeVpc(ec2, "10.62.0.0/16", ["us-east-1a"]);
    await runInstance(ec2, spoke.subnetIds[0]!);
    await runInstance(ec2, lonely.subnetIds[0]!);
    const ep = await makeEndpoint(ec2, hub, "com.amazonaws.us-east-1.secretsmanager", false);
    const hubHosts = await hostsOf(hub.vpcId, ep.id);
    expect(hubHosts).toHaveLength(2);
    // Private DNS is off: the hub itself still gets the public answer.
    expect((await digA(await resolverOf(srv, hub.vpcId), srv.dns.port, SM)).addresses).toEqual([
      AWS_PUBLIC_ADDRESS,
    ]);

    const zoneId = await phz(r53, SM, spoke);
    await r53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: "CREATE",
              ResourceRecordSet: {
                Name: SM,
                Type: "A",
                AliasTarget: { HostedZoneId: ep.zoneId, DNSName: ep.regional, EvaluateTargetHealth: false },
              },
            },
          ],
        },
      }),
    );
    expect(ep.zoneId).toBe("Z7HUB22UULQXV");
    const spokeDns = await resolverOf(srv, spoke.vpcId);
    const inSpoke = await eventually(
      () => digA(spokeDns, srv.dns.port, SM),
      (v) => v.addresses.length === 2,
    );
    expect(inSpoke).toEqual({ status: "NOERROR", addresses: hubHosts });
    expect((await digA(await resolverOf(srv, lonely.vpcId), srv.dns.port, SM)).addresses).toEqual([
      AWS_PUBLIC_ADDRESS,
    ]);
    expect((await digA(srv.dns.publicAddress, srv.dns.port, SM)).addresses).toEqual([AWS_PUBLIC_ADDRESS]);
    // The PHZ holds the whole domain in the spoke: a name it lacks is NXDOMAIN there.
    expect((await digA(spokeDns, srv.dns.port, `other.${SM}`)).status).toBe("NXDOMAIN");

    const creds = await makeAccount(srv, "333344445555");
    const remote = await makeVpc(srv.ec2("us-east-1", creds), "10.63.0.0/16", ["us-east-1a"]);
    await runInstance(srv.ec2("us-east-1", creds), remote.subnetIds[0]!);
    const vpc = { VPCId: remote.vpcId, VPCRegion: "us-east-1" as const };
    await r53.send(new CreateVPCAssociationAuthorizationCommand({ HostedZoneId: zoneId, VPC: vpc }));
    await route53(srv, creds).send(new AssociateVPCWithHostedZoneCommand({ HostedZoneId: zoneId, VPC: vpc }));
    const remoteDns = await resolverOf(srv, remote.vpcId);
    expect(
      await eventually(
        () => digA(remoteDns, srv.dns.port, SM),
        (v) => v.addresses.length === 2,
      ),
    ).toEqual({
      status: "NOERROR",
      addresses: hubHosts,
    });
  });
});

describe("one private domain per VPC", () => {
  it("refuses a private hosted zone named like an endpoint's private DNS name in that VPC", async () => {
    const vpc = await makeVpc(ec2, "10.70.0.0/16", ["us-east-1a"]);
    const elsewhere = await makeVpc(ec2, "10.71.0.0/16", ["us-east-1a"]);
    await makeEndpoint(ec2, vpc, "com.amazonaws.us-east-1.secretsmanager", true);
    const e = await fails(phz(r53, SM, vpc));
    expect(e.name).toBe("ConflictingDomainExists");
    expect(e.message).toContain(vpc.vpcId);
    const zoneId = await phz(r53, SM, elsewhere);
    const assoc = await fails(
      r53.send(
        new AssociateVPCWithHostedZoneCommand({
          HostedZoneId: zoneId,
          VPC: { VPCId: vpc.vpcId, VPCRegion: "us-east-1" },
        }),
      ),
    );
    expect(assoc.name).toBe("ConflictingDomainExists");
  });

  it("refuses private DNS on an endpoint when a private hosted zone already holds the name", async () => {
    const vpc = await makeVpc(ec2, "10.72.0.0/16", ["us-east-1a"]);
    await phz(r53, SM, vpc);
    const e = await fails(makeEndpoint(ec2, vpc, "com.amazonaws.us-east-1.secretsmanager", true));
    expect(e.name).toBe("InvalidParameter");
    expect(e.message).toBe(
      `private-dns-enabled cannot be set because there is already a conflicting DNS domain for ${SM} in the VPC ${vpc.vpcId}`,
    );
  });
});

describe("a provider's private DNS name, verified through a public TXT record", () => {
  it("gives consumers private DNS only once the name is verified", async () => {
    const provider = await makeNet(ec2, "10.80.0.0/16");
    const stack = await makeNlbStack(elbv2(srv), provider, "dns-verify");
    const created = await ec2.send(
      new CreateVpcEndpointServiceConfigurationCommand({
        NetworkLoadBalancerArns: [stack.lbArn],
        AcceptanceRequired: false,
        PrivateDnsName: "api.provider-example.test",
      }),
    );
    const svc = created.ServiceConfiguration!;
    const cfg = svc.PrivateDnsNameConfiguration!;
    expect(cfg.State).toBe("pendingVerification");
    const consumer = await makeVpc(ec2, "10.81.0.0/16", ["us-east-1a"]);
    await eventually(
      async () =>
        (
          await ec2.send(
            new DescribeVpcEndpointServiceConfigurationsCommand({ ServiceIds: [svc.ServiceId!] }),
          )
        ).ServiceConfigurations![0]!.ServiceState,
      (s) => s === "Available",
    );
    const early = await fails(makeEndpoint(ec2, consumer, svc.ServiceName!, true));
    expect(early.name).toBe("InvalidParameter");

    const zone = await r53.send(
      new CreateHostedZoneCommand({ Name: "provider-example.test", CallerReference: ref() }),
    );
    await r53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zone.HostedZone!.Id!,
        ChangeBatch: {
          Changes: [
            {
              Action: "CREATE",
              ResourceRecordSet: {
                Name: `${cfg.Name}.provider-example.test`,
                Type: "TXT",
                TTL: 1800,
                ResourceRecords: [{ Value: `"${cfg.Value}"` }],
              },
            },
          ],
        },
      }),
    );
    // The TXT record is public: the public resolver serves it.
    const txt = await eventually(
      () => srv.dns.resolve(undefined, `${cfg.Name}.provider-example.test`, "TXT"),
      (a) => a.answers.length === 1,
    );
    expect(txt.answers[0]!.data.map(String)).toEqual([cfg.Value]);
    await ec2.send(new StartVpcEndpointServicePrivateDnsVerificationCommand({ ServiceId: svc.ServiceId! }));
    const state = await eventually(
      async () =>
        (
          await ec2.send(
            new DescribeVpcEndpointServiceConfigurationsCommand({ ServiceIds: [svc.ServiceId!] }),
          )
        ).ServiceConfigurations![0]!.PrivateDnsNameConfiguration!.State,
      (s) => s === "verified",
    );
    expect(state).toBe("verified");
    const ep = await makeEndpoint(ec2, consumer, svc.ServiceName!, true);
    const hosts = await hostsOf(consumer.vpcId, ep.id);
    const dns = await resolverOf(srv, consumer.vpcId);
    const r = await eventually(
      () => digA(dns, srv.dns.port, "api.provider-example.test"),
      (v) => v.addresses.length > 0,
    );
    expect(r).toEqual({ status: "NOERROR", addresses: hosts });
    // Outside the consumer VPC the name is only what the public zone says: nothing.
    expect((await digA(srv.dns.publicAddress, srv.dns.port, "api.provider-example.test")).status).toBe(
      "NXDOMAIN",
    );
  });
});

describe("the AWS CLI", () => {
  it("creates a private zone, changes and lists its records", async () => {
    const vpc = await makeVpc(ec2, "10.90.0.0/16", ["us-east-1a"]);
    await runInstance(ec2, vpc.subnetIds[0]!);
    const env = srv.cliEnv();
    const aws = async (args: string[]) => {
      const r = await runAws([...args, "--endpoint-url", srv.url, "--output", "json"], env);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout || "{}");
    };
    const created = await aws([
      "route53",
      "create-hosted-zone",
      "--name",
      "cli.internal",
      "--caller-reference",
      ref(),
      "--vpc",
      `VPCRegion=us-east-1,VPCId=${vpc.vpcId}`,
    ]);
    const id: string = created.HostedZone.Id;
    expect(created.HostedZone.Config.PrivateZone).toBe(true);
    const batch = JSON.stringify({
      Changes: [
        {
          Action: "CREATE",
          ResourceRecordSet: {
            Name: "db.cli.internal",
            Type: "A",
            TTL: 60,
            ResourceRecords: [{ Value: "10.90.0.20" }],
          },
        },
      ],
    });
    const changed = await aws([
      "route53",
      "change-resource-record-sets",
      "--hosted-zone-id",
      id,
      "--change-batch",
      batch,
    ]);
    expect(changed.ChangeInfo.Status).toBe("PENDING");
    const listed = await aws(["route53", "list-resource-record-sets", "--hosted-zone-id", id]);
    expect(
      listed.ResourceRecordSets.map((r: { Name: string; Type: string }) => `${r.Name} ${r.Type}`),
    ).toEqual(["cli.internal. NS", "cli.internal. SOA", "db.cli.internal. A"]);
    const dns = await resolverOf(srv, vpc.vpcId);
    const slot = srv.state.get("vpc", vpc.vpcId)!.cidrBlocks[0]!.slot!;
    expect((await digA(dns, srv.dns.port, "db.cli.internal")).addresses).toEqual([`127.${slot}.0.20`]);
  });
});
