/**
 * A small running world for the network fuzz targets and the load benchmarks: a privlink of its
 * own (auth open, a temporary home), one VPC 10.9.0.0/16 with a subnet, a workload instance, an
 * interface endpoint to Secrets Manager (served by the service front, private DNS on), an
 * interface endpoint to an endpoint service of the same account (NLB → an echo server on
 * loopback), and a private hosted zone `app.internal`. Everything a workload touches from
 * outside: the VPC resolver, the endpoint listeners, the workload's proxy.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ec2sdk from "@aws-sdk/client-ec2";
import * as elbsdk from "@aws-sdk/client-elastic-load-balancing-v2";
import * as r53sdk from "@aws-sdk/client-route-53";
import { eniHostAddress } from "../src/cloud/eni.js";
import { type NetworkMode, type Privlink, startPrivlink } from "../src/privlink.js";

export const SM_NAME = "secretsmanager.us-east-1.amazonaws.com";
export const ECHO_PORT = 7070;

export interface NetWorld {
  readonly p: Privlink;
  readonly vpcId: string;
  /** The workload instance (its proxy is the workload's). */
  readonly instanceId: string;
  /** The workload instance's host address: connections from it are the workload's. */
  readonly workloadHost: string;
  /** The VPC resolver (127.S.0.2) and the port every resolver listens on. */
  readonly resolver: { host: string; port: number };
  /** The Secrets Manager endpoint's listener (443, as bound). */
  readonly front: { host: string; port: number; endpointId: string };
  /** The echo service's endpoint listener (ECHO_PORT, as bound). */
  readonly echo: { host: string; port: number; endpointId: string };
  /** The workload's HTTP proxy (CONNECT). */
  readonly proxy: { host: string; port: number };
  /** The echo service's target (the NLB's IP target on loopback). */
  readonly echoTarget: { host: string; port: number };
  /** Sockets the echo target holds open now. */
  echoOpen(): number;
  close(): Promise<void>;
}

export interface NetWorldOptions {
  slots?: { min: number; max: number };
  publicDns?: string;
  /** Idle timeout of flows through endpoints (ms); default AWS's 350 s. */
  idleTimeoutMs?: number;
  /** How the echo service's target serves a connection (default: echoes every byte). */
  serve?: (s: Socket) => void;
  /** "netns" builds the world as namespaces too (root only); default loopback. */
  network?: NetworkMode;
  /** A shared PostgreSQL store (postgres://…) instead of a SQLite file in a temporary home. */
  store?: string;
}

export async function startNetWorld(opts: NetWorldOptions = {}): Promise<NetWorld> {
  const home = mkdtempSync(join(tmpdir(), "privlink-networld-"));
  const echoSockets = new Set<Socket>();
  const echo: Server = createServer({ allowHalfOpen: true }, (s) => {
    echoSockets.add(s);
    s.on("close", () => echoSockets.delete(s));
    s.on("error", () => s.destroy());
    (opts.serve ?? ((t: Socket) => t.pipe(t)))(s);
  });
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
  const p = await startPrivlink({
    port: 0,
    home,
    auth: "open",
    slots: opts.slots ?? { min: 200, max: 254 },
    publicDns: opts.publicDns ?? "127.0.253.16",
    idleTimeoutMs: opts.idleTimeoutMs,
    network: opts.network,
    store: opts.store,
  });
  const close = async () => {
    await p.close();
    for (const s of echoSockets) s.destroy();
    await new Promise<void>((r) => echo.close(() => r()));
    rmSync(home, { recursive: true, force: true });
  };
  try {
    const cfg = {
      endpoint: p.url,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts: 1,
    };
    const ec2 = new ec2sdk.EC2Client(cfg);
    const elb = new elbsdk.ElasticLoadBalancingV2Client(cfg);
    const r53 = new r53sdk.Route53Client(cfg);
    const vpcId = (await ec2.send(new ec2sdk.CreateVpcCommand({ CidrBlock: "10.9.0.0/16" }))).Vpc!.VpcId!;
    await ec2.send(
      new ec2sdk.ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } }),
    );
    const subnetId = (
      await ec2.send(
        new ec2sdk.CreateSubnetCommand({
          VpcId: vpcId,
          CidrBlock: "10.9.1.0/24",
          AvailabilityZone: "us-east-1a",
        }),
      )
    ).Subnet!.SubnetId!;
    const sgId = (
      await ec2.send(
        new ec2sdk.CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: "endpoints", Description: "e" }),
      )
    ).GroupId!;
    await ec2.send(
      new ec2sdk.AuthorizeSecurityGroupIngressCommand({
        GroupId: sgId,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 0, ToPort: 65535, IpRanges: [{ CidrIp: "10.9.0.0/16" }] },
        ],
      }),
    );
    const run = await ec2.send(
      new ec2sdk.RunInstancesCommand({
        ImageId: "ami-12345678",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnetId,
      }),
    );
    const instanceId = run.Instances![0]!.InstanceId!;
    const sm = await ec2.send(
      new ec2sdk.CreateVpcEndpointCommand({
        VpcId: vpcId,
        VpcEndpointType: "Interface",
        ServiceName: `com.amazonaws.us-east-1.secretsmanager`,
        SubnetIds: [subnetId],
        SecurityGroupIds: [sgId],
        PrivateDnsEnabled: true,
      }),
    );
    const echoServiceName = await makeEchoService(
      ec2,
      elb,
      vpcId,
      subnetId,
      (echo.address() as AddressInfo).port,
    );
    const ep = await ec2.send(
      new ec2sdk.CreateVpcEndpointCommand({
        VpcId: vpcId,
        VpcEndpointType: "Interface",
        ServiceName: echoServiceName,
        SubnetIds: [subnetId],
        SecurityGroupIds: [sgId],
      }),
    );
    const zone = await r53.send(
      new r53sdk.CreateHostedZoneCommand({
        Name: "app.internal",
        CallerReference: "networld",
        VPC: { VPCRegion: "us-east-1", VPCId: vpcId },
      }),
    );
    await r53.send(
      new r53sdk.ChangeResourceRecordSetsCommand({
        HostedZoneId: zone.HostedZone!.Id!,
        ChangeBatch: {
          Changes: [
            rr("db.app.internal", "A", "10.9.1.200"),
            rr("api.app.internal", "CNAME", "db.app.internal"),
            rr("txt.app.internal", "TXT", '"v=1 fuzz"'),
          ],
        },
      }),
    );
    ec2.destroy();
    elb.destroy();
    r53.destroy();
    const smId = sm.VpcEndpoint!.VpcEndpointId!;
    const echoId = ep.VpcEndpoint!.VpcEndpointId!;
    await waitAvailable(p, [smId, echoId]);
    const dp = p.dataplane.dataplane;
    await dp.reconcile();
    await p.dns.settled();
    const hostOfEndpoint = (id: string) => {
      const eni = p.state.get("eni", p.state.get("vpcEndpoint", id)!.enis[0]!.eniId)!;
      return eniHostAddress(p.state, eni)!;
    };
    const instance = p.state.get("instance", instanceId)!;
    const workloadHost = eniHostAddress(p.state, p.state.get("eni", instance.eniId)!)!;
    const resolver = p.dns.info().resolvers.find((r) => r.vpcId === vpcId)!;
    const proxy = await p.dataplane.proxies.ensure(instanceId);
    const smHost = hostOfEndpoint(smId);
    const echoHost = hostOfEndpoint(echoId);
    return {
      p,
      vpcId,
      instanceId,
      workloadHost,
      resolver: { host: resolver.address, port: p.dns.info().port },
      front: { host: smHost, port: dp.boundPort(smHost, 443), endpointId: smId },
      echo: { host: echoHost, port: dp.boundPort(echoHost, ECHO_PORT), endpointId: echoId },
      proxy: { host: proxy.host, port: proxy.port },
      echoTarget: { host: "127.0.0.1", port: (echo.address() as AddressInfo).port },
      echoOpen: () => echoSockets.size,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

function rr(name: string, type: r53sdk.RRType, value: string): r53sdk.Change {
  return {
    Action: "CREATE",
    ResourceRecordSet: { Name: name, Type: type, TTL: 60, ResourceRecords: [{ Value: value }] },
  };
}

/** An internal NLB in the VPC forwarding ECHO_PORT to the echo server, offered as an endpoint service. */
async function makeEchoService(
  ec2: ec2sdk.EC2Client,
  elb: elbsdk.ElasticLoadBalancingV2Client,
  vpcId: string,
  subnetId: string,
  echoPort: number,
): Promise<string> {
  const lb = await elb.send(
    new elbsdk.CreateLoadBalancerCommand({
      Name: "echo",
      Type: "network",
      Scheme: "internal",
      Subnets: [subnetId],
    }),
  );
  const lbArn = lb.LoadBalancers![0]!.LoadBalancerArn!;
  const tg = await elb.send(
    new elbsdk.CreateTargetGroupCommand({
      Name: "echo",
      Protocol: "TCP",
      Port: echoPort,
      VpcId: vpcId,
      TargetType: "ip",
    }),
  );
  const tgArn = tg.TargetGroups![0]!.TargetGroupArn!;
  await elb.send(
    new elbsdk.RegisterTargetsCommand({
      TargetGroupArn: tgArn,
      Targets: [{ Id: "127.0.0.1", Port: echoPort, AvailabilityZone: "all" }],
    }),
  );
  await elb.send(
    new elbsdk.CreateListenerCommand({
      LoadBalancerArn: lbArn,
      Protocol: "TCP",
      Port: ECHO_PORT,
      DefaultActions: [{ Type: "forward", TargetGroupArn: tgArn }],
    }),
  );
  const svc = await ec2.send(
    new ec2sdk.CreateVpcEndpointServiceConfigurationCommand({
      NetworkLoadBalancerArns: [lbArn],
      AcceptanceRequired: false,
    }),
  );
  return svc.ServiceConfiguration!.ServiceName!;
}

async function waitAvailable(p: Privlink, ids: string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (ids.every((id) => p.state.get("vpcEndpoint", id)?.state === "available")) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`endpoints ${ids.join(", ")} never became available`);
}
