import * as cwsdk from "@aws-sdk/client-cloudwatch";
import * as logssdk from "@aws-sdk/client-cloudwatch-logs";
import * as ec2sdk from "@aws-sdk/client-ec2";
import * as elbsdk from "@aws-sdk/client-elastic-load-balancing-v2";
import * as r53sdk from "@aws-sdk/client-route-53";
import * as smsdk from "@aws-sdk/client-secrets-manager";
import * as snssdk from "@aws-sdk/client-sns";
import * as ssmsdk from "@aws-sdk/client-ssm";
import * as stssdk from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { elbv2, makeAccount, makeNet, makeNlbStack } from "../control-plane/provider-fixtures.js";
import { until } from "../dataplane/world.js";
import { implementedActions, implementedServices } from "../helpers/implemented.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { dxWire, makeMoreA, resolverWire } from "./isolation-account-a.js";
import { type AResources, FIXTURES } from "./isolation-fixtures.js";
import { S3_CLIENT } from "./isolation-s3.js";

type Creds = { accessKeyId: string; secretAccessKey: string };
type Sdk = Record<string, any>;

/** The SDK package and client of each SigV4 service the server routes (add one per new service). */
const SERVICE_CLIENTS: Record<
  string,
  { sdk: Sdk; client: (url: string, creds: Creds) => { send(c: unknown): Promise<any> } }
> = {
  ec2: { sdk: ec2sdk, client: (endpoint, credentials) => new ec2sdk.EC2Client(cfg(endpoint, credentials)) },
  elasticloadbalancing: {
    sdk: elbsdk,
    client: (endpoint, credentials) => new elbsdk.ElasticLoadBalancingV2Client(cfg(endpoint, credentials)),
  },
  route53: {
    sdk: r53sdk,
    client: (endpoint, credentials) => new r53sdk.Route53Client(cfg(endpoint, credentials)),
  },
  sts: { sdk: stssdk, client: (endpoint, credentials) => new stssdk.STSClient(cfg(endpoint, credentials)) },
  secretsmanager: {
    sdk: smsdk,
    client: (endpoint, credentials) => new smsdk.SecretsManagerClient(cfg(endpoint, credentials)),
  },
  logs: {
    sdk: logssdk,
    client: (endpoint, credentials) => new logssdk.CloudWatchLogsClient(cfg(endpoint, credentials)),
  },
  ssm: { sdk: ssmsdk, client: (endpoint, credentials) => new ssmsdk.SSMClient(cfg(endpoint, credentials)) },
  sns: { sdk: snssdk, client: (endpoint, credentials) => new snssdk.SNSClient(cfg(endpoint, credentials)) },
  monitoring: {
    sdk: cwsdk,
    client: (endpoint, credentials) => new cwsdk.CloudWatchClient(cfg(endpoint, credentials)),
  },
  // No SDK v3 package is installed for these two JSON services: a signed JSON caller stands in.
  route53resolver: resolverWire,
  directconnect: dxWire,
  // Served on the streaming path (the server's `streamingActions`), not by a handler table.
  s3: S3_CLIENT,
};

function cfg(endpoint: string, credentials: Creds) {
  return { endpoint, region: "us-east-1", credentials, maxAttempts: 1 };
}

/** Every action the server answers (handler tables and streaming S3): new actions join by construction. */
function actions(srv: TestServer): string[] {
  return implementedActions(srv).map(([service, a]) => `${service}:${a}`);
}

async function makeA(srv: TestServer): Promise<AResources> {
  const ec2 = srv.ec2();
  const net = await makeNet(ec2, "10.0.0.0/16", ["us-east-1a"], true);
  const subnetId = net.subnets["us-east-1a"]!;
  const rt = await ec2.send(new ec2sdk.CreateRouteTableCommand({ VpcId: net.vpcId }));
  const routeTableId = rt.RouteTable!.RouteTableId!;
  const assoc = await ec2.send(
    new ec2sdk.AssociateRouteTableCommand({ RouteTableId: routeTableId, SubnetId: subnetId }),
  );
  const igws = await ec2.send(
    new ec2sdk.DescribeInternetGatewaysCommand({
      Filters: [{ Name: "attachment.vpc-id", Values: [net.vpcId] }],
    }),
  );
  const sgId = (
    await ec2.send(
      new ec2sdk.CreateSecurityGroupCommand({ VpcId: net.vpcId, GroupName: "a", Description: "a" }),
    )
  ).GroupId!;
  await ec2.send(
    new ec2sdk.AuthorizeSecurityGroupIngressCommand({
      GroupId: sgId,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "10.0.0.0/8" }] },
      ],
    }),
  );
  const inst = await ec2.send(
    new ec2sdk.RunInstancesCommand({ ImageId: "ami-12345678", MinCount: 1, MaxCount: 1, SubnetId: subnetId }),
  );
  const nat = await ec2.send(
    new ec2sdk.CreateNatGatewayCommand({ SubnetId: subnetId, ConnectivityType: "private" }),
  );
  const stack = await makeNlbStack(elbv2(srv), net, "a-nlb");
  const svc = await ec2.send(
    new ec2sdk.CreateVpcEndpointServiceConfigurationCommand({
      NetworkLoadBalancerArns: [stack.lbArn],
      AcceptanceRequired: true,
    }),
  );
  const serviceId = svc.ServiceConfiguration!.ServiceId!;
  const serviceName = svc.ServiceConfiguration!.ServiceName!;
  const ep = await ec2.send(
    new ec2sdk.CreateVpcEndpointCommand({
      VpcId: net.vpcId,
      ServiceName: serviceName,
      VpcEndpointType: "Interface",
      SubnetIds: [subnetId],
      SecurityGroupIds: [sgId],
    }),
  );
  const note = await ec2.send(
    new ec2sdk.CreateVpcEndpointConnectionNotificationCommand({
      ServiceId: serviceId,
      ConnectionNotificationArn: "arn:aws:sns:us-east-1:000000000000:a",
      ConnectionEvents: ["Connect"],
    }),
  );
  const r53 = SERVICE_CLIENTS.route53!.client(srv.url, srv.credentials);
  const zone = await r53.send(
    new r53sdk.CreateHostedZoneCommand({
      Name: "a.internal",
      CallerReference: "a-1",
      VPC: { VPCRegion: "us-east-1", VPCId: net.vpcId },
    }),
  );
  const sm = SERVICE_CLIENTS.secretsmanager!.client(srv.url, srv.credentials);
  const secret = await sm.send(new smsdk.CreateSecretCommand({ Name: "a/db", SecretString: "a" }));
  const endpointId = ep.VpcEndpoint!.VpcEndpointId!;
  const instanceId = inst.Instances![0]!.InstanceId!;
  const more = await makeMoreA(srv, {
    vpcId: net.vpcId,
    subnetId,
    sgId,
    routeTableId,
    instanceId,
    endpointId,
  });
  await settled(srv);
  return {
    ...more,
    accountId: "000000000000",
    vpcId: net.vpcId,
    subnetId,
    routeTableId,
    associationId: assoc.AssociationId!,
    igwId: igws.InternetGateways![0]!.InternetGatewayId!,
    sgId,
    instanceId,
    eniId: inst.Instances![0]!.NetworkInterfaces![0]!.NetworkInterfaceId!,
    natId: nat.NatGateway!.NatGatewayId!,
    lbArn: stack.lbArn,
    tgArn: stack.tgArn,
    listenerArn: stack.listenerArn,
    serviceId,
    serviceName,
    endpointId,
    notificationId: note.ConnectionNotification!.ConnectionNotificationId!,
    zoneId: zone.HostedZone!.Id!.replace("/hostedzone/", ""),
    secretArn: secret.ARN!,
  };
}

/** Everything account A's objects are, as the store holds them: must not move while B calls. */
function aState(srv: TestServer): string {
  const out: string[] = [];
  for (const kind of [
    "vpc",
    "subnet",
    "routeTable",
    "internetGateway",
    "securityGroup",
    "instance",
    "eni",
    "natGateway",
    "loadBalancer",
    "targetGroup",
    "listener",
    "endpointService",
    "vpcEndpoint",
    "connectionNotification",
    "hostedZone",
    "recordSet",
    "secret",
    "customerGateway",
    "vpnGateway",
    "vpnConnection",
    "vpcPeeringConnection",
    "transitGateway",
    "transitGatewayAttachment",
    "transitGatewayRouteTable",
    "networkAcl",
    "flowLog",
    "networkInsightsPath",
    "networkInsightsAnalysis",
    "resolverEndpoint",
    "resolverRule",
    "resolverRuleAssociation",
    "dxConnection",
    "dxVirtualInterface",
    "dxGateway",
    "dxGatewayAssociation",
    "dxGatewayAssociationProposal",
    "logGroup",
    "logStream",
    "logsResourcePolicy",
    "ssmParameter",
    "snsTopic",
    "snsSubscription",
    "s3Bucket",
    "s3Object",
    "s3Upload",
  ] as const)
    for (const o of srv.state.all(kind) as Iterable<{ id: string; accountId?: string; state?: string }>)
      if (o.accountId === undefined || o.accountId === "000000000000") out.push(JSON.stringify(o));
  return out.sort().join("\n");
}

/** Waits out A's asynchronous transitions (pending → available…) so only B's calls could move A. */
async function settled(srv: TestServer): Promise<void> {
  let last = aState(srv);
  await until(async () => {
    await new Promise((r) => setTimeout(r, 200));
    const now = aState(srv);
    const same = now === last;
    last = now;
    return same || undefined;
  }, "account A's objects to settle");
}

describe("isolation matrix: account B on account A's resources", () => {
  let srv: TestServer;
  let a: AResources;
  let b: Creds;
  beforeAll(async () => {
    srv = await startTestServer();
    a = await makeA(srv);
    b = await makeAccount(srv, "222233334444");
  });
  afterAll(() => srv?.stop());

  it("has a fixture for every action the server answers", () => {
    const missing = actions(srv).filter((k) => !FIXTURES[k]);
    const stale = Object.keys(FIXTURES).filter((k) => !actions(srv).includes(k));
    expect(missing, `add rows to test/reliability/isolation-fixtures.ts for: ${missing.join(", ")}`).toEqual(
      [],
    );
    expect(stale, "fixtures for actions the server no longer answers").toEqual([]);
    const noClient = implementedServices(srv).filter((s) => !SERVICE_CLIENTS[s]);
    expect(noClient, "add an SDK client to SERVICE_CLIENTS in isolation.test.ts").toEqual([]);
  });

  it("refuses B on every A resource with AWS's error, lists none of A's, and leaves A unchanged", async () => {
    const before = aState(srv);
    const aIds = Object.entries(a)
      .filter(([k]) => k !== "accountId")
      .map(([, v]) => v)
      .concat(a.secretArn.split(":").pop()!);
    const wrong: string[] = [];
    let cells = 0;
    for (const key of actions(srv)) {
      const f = FIXTURES[key];
      if (!f) continue;
      const [service, action] = key.split(":") as [string, string];
      const { sdk, client } = SERVICE_CLIENTS[service]!;
      const Command = sdk[`${action}Command`];
      if (!Command) {
        wrong.push(`${key}: the SDK has no ${action}Command`);
        continue;
      }
      cells++;
      try {
        const out = await client(srv.url, b).send(new Command(f.input(a)));
        const text = JSON.stringify(out);
        if (f.error) wrong.push(`${key}: succeeded, expected ${f.error}`);
        else if (f.unsuccessful) {
          const code = out.Unsuccessful?.[0]?.Error?.Code;
          if (code !== f.unsuccessful)
            wrong.push(`${key}: Unsuccessful ${code ?? "(none)"}, expected ${f.unsuccessful}`);
        } else {
          const seen = aIds.filter((id) => text.includes(id));
          if (seen.length) wrong.push(`${key}: B's answer shows A's ${seen.join(", ")}`);
        }
      } catch (err) {
        const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
        if (f.error !== e.name || (f.status !== undefined && f.status !== e.$metadata?.httpStatusCode))
          wrong.push(
            `${key}: ${e.name} (${e.$metadata?.httpStatusCode}) "${e.message}", expected ${f.error ?? "success"}`,
          );
        if (aIds.some((id) => e.message.includes(id) && !JSON.stringify(f.input(a)).includes(id)))
          wrong.push(`${key}: the error names an A resource B did not name`);
      }
    }
    console.log(
      `isolation matrix: ${cells} actions × account B against account A (${Object.keys(a).length - 1} resource types)`,
    );
    expect(wrong).toEqual([]);
    expect(aState(srv)).toBe(before);
  });
});
